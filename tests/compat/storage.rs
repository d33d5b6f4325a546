//! Storage compatibility and crash safety across real processes:
//!
//! - the reference ZooKeeper writes a varied dataDir (logs, gz snapshots, a live session with
//!   ephemerals), is killed, and rzk starts on it with an identical tree and the same digests;
//!   rzk then writes more (snappy snapshots), is killed, and ZooKeeper starts on that dataDir with
//!   an identical tree;
//! - kill -9 of rzk under concurrent write load loses no acknowledged write;
//! - a torn log tail is cut; a flipped bit in the middle of a log stops start-up naming the file;
//!   a corrupt newest snapshot falls back to an older one; a log with no snapshot at all stops
//!   start-up unless snapshot.trust.empty.

#[path = "storage/walk.rs"]
mod walk;
#[path = "storage/workload.rs"]
mod workload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_testkit::{RefZk, RzkServer, four_letter_word};
use tokio::sync::Mutex;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rzk"))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

const DEFINES: [&str; 2] = [walk::SUPER_DIGEST_DEFINE, "-Dzookeeper.extendedTypesEnabled=true"];

/// `hash` lines (zxid → digest) that both servers logged.
fn digests(port: u16) -> BTreeMap<String, String> {
    let text = four_letter_word(port, "hash", Duration::from_secs(10)).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(": ").map(|(z, d)| (z.trim().to_owned(), d.trim().to_owned())))
        .collect()
}

fn assert_same_digests(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) {
    let common: Vec<&String> = a.keys().filter(|k| b.contains_key(*k)).collect();
    assert!(!common.is_empty(), "no common digest zxids: {a:?} vs {b:?}");
    for k in common {
        assert_eq!(a[k], b[k], "digest at zxid {k}");
    }
}

#[test]
fn zookeeper_and_rzk_read_each_others_data_dirs() {
    // Large snapCount: snapshots come from restarts, so the txns after the last snapshot (which
    // the next server replays, and so logs digests for) cover hundreds of zxids.
    let cfg_zk = [
        "snapCount=100000",
        "snapshot.compression.method=gz",
        "extendedTypesEnabled=true",
        "preAllocSize=512",
    ];
    let Some(mut zk) = RefZk::start_or_skip("storage both ways", &cfg_zk, &DEFINES) else { return };
    let rt = rt();
    // ZooKeeper writes: two logs and gz snapshots (one per start), and a live session holding
    // ephemerals.
    rt.block_on(async {
        let c = Client::connect(&zk.addr(), Duration::from_secs(40)).await.expect("connect");
        c.add_auth("digest", b"super:test").await.expect("auth");
        workload::populate(&c, "/zk1", 600).await;
        c.close().await.expect("close");
    });
    zk.restart().expect("restart ZooKeeper");
    let (zk_walk, zk_digests, live) = rt.block_on(async {
        let c = Client::connect(&zk.addr(), Duration::from_secs(40)).await.expect("connect");
        c.add_auth("digest", b"super:test").await.expect("auth");
        workload::populate(&c, "/zk2", 600).await;
        (walk::walk(&zk.addr()).await, digests(zk.port), c)
    });
    drop(live);
    zk.kill();
    let data_dir = zk.data_dir.clone();
    let files = list(&data_dir);
    assert!(files.iter().filter(|f| f.starts_with("log.")).count() >= 2, "want several logs: {files:?}");
    assert!(files.iter().filter(|f| f.ends_with(".gz")).count() >= 2, "want gz snapshots: {files:?}");

    // rzk starts on ZooKeeper's dataDir.
    let dd = format!("dataDir={}", data_dir.display());
    let cfg_rzk = [
        "snapCount=100000",
        "snapshot.compression.method=snappy",
        "extendedTypesEnabled=true",
        "preAllocSize=512",
        &dd,
    ];
    let mut rzk = RzkServer::start(bin(), &cfg_rzk, &DEFINES).expect("rzk starts on ZooKeeper's data");
    let rzk_walk = rt.block_on(walk::walk(&rzk.addr()));
    let d = walk::diff("zookeeper", &zk_walk, "rzk", &rzk_walk);
    assert!(d.is_empty(), "rzk's tree differs from ZooKeeper's:\n{}", d.join("\n"));
    assert_same_digests(&zk_digests, &digests(rzk.port));

    // rzk writes more (with a restart in between, for a snappy snapshot), then dies; ZooKeeper
    // starts on what rzk left.
    rt.block_on(async {
        let c = Client::connect(&rzk.addr(), Duration::from_secs(40)).await.expect("connect");
        c.add_auth("digest", b"super:test").await.expect("auth");
        workload::populate(&c, "/rzk1", 600).await;
        c.close().await.expect("close");
    });
    rzk.restart().expect("restart rzk");
    let rzk_walk = rt.block_on(async {
        let c = Client::connect(&rzk.addr(), Duration::from_secs(40)).await.expect("connect");
        c.add_auth("digest", b"super:test").await.expect("auth");
        workload::populate(&c, "/rzk2", 600).await;
        let w = walk::walk(&rzk.addr()).await;
        drop(c);
        w
    });
    let rzk_digests = digests(rzk.port);
    rzk.kill();
    assert!(list(&data_dir).iter().any(|f| f.ends_with(".snappy")), "want snappy snapshots");
    zk.start_again().expect("ZooKeeper starts on rzk's data");
    let zk_walk = rt.block_on(walk::walk(&zk.addr()));
    let d = walk::diff("rzk", &rzk_walk, "zookeeper", &zk_walk);
    assert!(d.is_empty(), "ZooKeeper's tree differs from rzk's:\n{}", d.join("\n"));
    assert_same_digests(&rzk_digests, &digests(zk.port));
    assert!(!zk.log().contains("Digest mismatch"), "ZooKeeper saw digest mismatches:\n{}", zk.log());
}

fn list(data_dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data_dir.join("version-2"))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Writes from several sessions until killed; returns what was acknowledged.
async fn write_until_cut(
    addr: String,
    round: usize,
    writers: usize,
    per_writer: usize,
) -> Vec<(String, Vec<u8>)> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (addr, acked) = (addr.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(c) = Client::builder(&addr, Duration::from_secs(10))
                .request_timeout(Duration::from_secs(5))
                .connect()
                .await
            else {
                return;
            };
            for i in 0..per_writer {
                let p = format!("/load/r{round}-w{w}-{i}");
                let data = format!("{w}:{i}").into_bytes();
                match c.create(&p, &data, &open_acl_unsafe(), CreateMode::Persistent).await {
                    Ok(_) => acked.lock().await.push((p, data)),
                    Err(_) => return,
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    acked.lock().await.clone()
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_write() {
    let rt = rt();
    let mut rzk = RzkServer::start(bin(), &["snapCount=500", "preAllocSize=256"], &[]).expect("rzk");
    let addr = rzk.addr();
    rt.block_on(async {
        let c = Client::connect(&addr, Duration::from_secs(10)).await.expect("connect");
        c.create("/load", b"", &open_acl_unsafe(), CreateMode::Persistent).await.expect("root");
        c.close().await.expect("close");
    });
    let mut all_acked = Vec::new();
    for round in 0..3 {
        let writer = rt.spawn(write_until_cut(rzk.addr(), round, 8, 100_000));
        // Let some writes land, then kill -9 mid-stream (poll the count, no fixed sleep).
        rt.block_on(async {
            let c = Client::connect(&rzk.addr(), Duration::from_secs(10)).await.expect("connect");
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                let n = c.get_all_children_number("/load").await.unwrap_or(0);
                if n as usize >= (round + 1) * 2000 || std::time::Instant::now() > deadline {
                    break;
                }
            }
        });
        rzk.kill();
        let acked = rt.block_on(writer).expect("writers");
        assert!(!acked.is_empty(), "round {round}: nothing was acknowledged");
        all_acked.extend(acked);
        rzk.start_again().expect("restart after kill -9");
        let missing = rt.block_on(async {
            let c = Client::connect(&rzk.addr(), Duration::from_secs(10)).await.expect("connect");
            let mut missing = Vec::new();
            for (p, data) in &all_acked {
                match c.get_data(p, false).await {
                    Ok((d, _)) if d[..] == data[..] => {}
                    other => missing.push(format!("{p}: {other:?}")),
                }
            }
            missing
        });
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged writes lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
}

fn newest(data_dir: &Path, prefix: &str) -> PathBuf {
    let mut v: Vec<(i64, PathBuf)> = std::fs::read_dir(data_dir.join("version-2"))
        .expect("version-2")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hex = name.strip_prefix(prefix)?.strip_prefix('.')?.split('.').next()?.to_owned();
            Some((i64::from_str_radix(&hex, 16).ok()?, e.path()))
        })
        .collect();
    v.sort();
    v.pop().expect("a file").1
}

fn fill(rt: &tokio::runtime::Runtime, addr: &str, prefix: &str, n: usize) {
    rt.block_on(async {
        let c = Client::connect(addr, Duration::from_secs(10)).await.expect("connect");
        let _ = c.create(prefix, b"", &open_acl_unsafe(), CreateMode::Persistent).await;
        for i in 0..n {
            c.create(&format!("{prefix}/n{i}"), b"data", &open_acl_unsafe(), CreateMode::Persistent)
                .await
                .expect("create");
        }
        c.close().await.expect("close");
    });
}

fn count(rt: &tokio::runtime::Runtime, addr: &str, path: &str) -> i32 {
    rt.block_on(async {
        let c = Client::connect(addr, Duration::from_secs(10)).await.expect("connect");
        c.get_all_children_number(path).await.expect("count")
    })
}

#[test]
fn a_torn_log_tail_is_cut_and_startup_goes_on() {
    let rt = rt();
    let mut rzk = RzkServer::start(bin(), &["preAllocSize=64"], &[]).expect("rzk");
    fill(&rt, &rzk.addr(), "/t", 50);
    rzk.kill();
    // Cut the newest log in the middle of its last entry.
    let log = newest(&rzk.data_dir, "log");
    let bytes = std::fs::read(&log).expect("log");
    let end = bytes.iter().rposition(|b| *b == 0x42).expect("an entry end");
    std::fs::write(&log, &bytes[..end - 3]).expect("cut");
    rzk.start_again().expect("starts after a torn tail");
    // The last txn (the writer's closeSession) was torn; every create survives.
    assert_eq!(count(&rt, &rzk.addr(), "/t"), 50);
    assert!(rzk.log().contains("partial txn"), "a warning names the cut");
    // New writes after the cut survive another restart.
    fill(&rt, &rzk.addr(), "/u", 5);
    rzk.kill();
    rzk.start_again().expect("restart");
    assert_eq!(count(&rt, &rzk.addr(), "/u"), 5);
}

#[test]
fn a_flipped_bit_in_a_log_stops_startup_with_the_file_and_offset() {
    let rt = rt();
    let mut rzk = RzkServer::start(bin(), &["preAllocSize=64"], &[]).expect("rzk");
    fill(&rt, &rzk.addr(), "/f", 30);
    rzk.kill();
    let log = newest(&rzk.data_dir, "log");
    let mut bytes = std::fs::read(&log).expect("log");
    // Inside the payload of the fifth entry: its Adler-32 no longer matches.
    let mut pos = 16;
    for _ in 0..4 {
        let len = i32::from_be_bytes(bytes[pos + 8..pos + 12].try_into().expect("len")) as usize;
        pos += 12 + len + 1;
    }
    bytes[pos + 12 + 5] ^= 0x10;
    std::fs::write(&log, &bytes).expect("flip");
    assert!(rzk.start_again().is_err(), "must not start on a corrupt log");
    let name = log.file_name().expect("name").to_string_lossy().into_owned();
    assert!(
        rzk.log().contains(&name) && rzk.log().contains("offset"),
        "error names file and offset:\n{}",
        rzk.log()
    );
}

#[test]
fn a_corrupt_newest_snapshot_falls_back_to_an_older_one() {
    let rt = rt();
    let mut rzk = RzkServer::start(bin(), &["snapCount=20", "preAllocSize=64"], &[]).expect("rzk");
    fill(&rt, &rzk.addr(), "/s", 100);
    rzk.kill();
    rzk.start_again().expect("restart writes a start-up snapshot");
    rzk.kill();
    let snap = newest(&rzk.data_dir, "snapshot");
    let mut bytes = std::fs::read(&snap).expect("snapshot");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&snap, &bytes).expect("flip");
    rzk.start_again().expect("starts from an older snapshot");
    assert_eq!(count(&rt, &rzk.addr(), "/s"), 100);
    assert!(rzk.log().contains("trying an older one"), "{}", rzk.log());
}

/// A small tmpfs mounted for the test and unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new().prefix("rzk-full-").tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the filesystem at `dir` with one file until the disk is full.
fn fill_disk(dir: &Path) -> PathBuf {
    use std::io::Write;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).expect("filler");
    let block = vec![7u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    p
}

#[test]
fn a_full_disk_fails_writes_and_recovers_when_space_returns() {
    let Some(disk) = SmallDisk::mount("24m") else {
        assert!(
            std::env::var_os("RZK_REQUIRE_FULL_DISK").is_none(),
            "cannot mount a tmpfs for the full-disk test"
        );
        println!("SKIP full-disk test: cannot mount a tmpfs here (needs root)");
        return;
    };
    let rt = rt();
    let dd = format!("dataDir={}", disk.path().join("data").display());
    let mut rzk = RzkServer::start(bin(), &[&dd, "preAllocSize=64", "snapCount=1000000"], &[]).expect("rzk");
    let addr = rzk.addr();
    let value = vec![5u8; 64 * 1024];
    let (acked, failed) = rt.block_on(async {
        let c = Client::builder(&addr, Duration::from_secs(10))
            .request_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("connect");
        c.create("/d", b"", &open_acl_unsafe(), CreateMode::Persistent).await.expect("root");
        let filler = fill_disk(disk.path());
        let mut acked = Vec::new();
        let mut failed = 0;
        for i in 0..20 {
            match c.create(&format!("/d/full{i}"), &value, &open_acl_unsafe(), CreateMode::Persistent).await {
                Ok(p) => acked.push(p),
                Err(e) => {
                    assert_eq!(
                        e.code(),
                        Some(rzk_client::ErrorCode::SystemError),
                        "a full disk fails the write: {e}"
                    );
                    failed += 1;
                }
            }
        }
        // The server stays up and reads work.
        assert!(c.exists("/d", false).await.expect("read while full").is_some());
        // Space comes back: writes succeed again.
        std::fs::remove_file(filler).expect("free space");
        for i in 0..5 {
            let p = c
                .create(&format!("/d/after{i}"), &value, &open_acl_unsafe(), CreateMode::Persistent)
                .await
                .expect("write after space returns");
            acked.push(p);
        }
        (acked, failed)
    });
    assert!(failed > 0, "the disk never filled up");
    rzk.kill();
    rzk.start_again().expect("restart");
    rt.block_on(async {
        let c = Client::connect(&rzk.addr(), Duration::from_secs(10)).await.expect("connect");
        let children = c.get_children("/d", false).await.expect("ls");
        for p in &acked {
            let name = p.rsplit('/').next().unwrap_or_default();
            assert!(children.iter().any(|c| c == name), "acknowledged {p} lost; have {children:?}");
        }
        assert_eq!(children.len(), acked.len(), "only acknowledged writes are there: {children:?}");
    });
}

#[test]
fn a_log_without_any_snapshot_stops_startup_unless_snapshot_trust_empty() {
    let rt = rt();
    let mut rzk = RzkServer::start(bin(), &["preAllocSize=64"], &[]).expect("rzk");
    fill(&rt, &rzk.addr(), "/e", 20);
    rzk.kill();
    let version2 = rzk.data_dir.join("version-2");
    let mut removed = 0;
    for e in std::fs::read_dir(&version2).expect("version-2").filter_map(|e| e.ok()) {
        if e.file_name().to_string_lossy().starts_with("snapshot.") {
            std::fs::remove_file(e.path()).expect("remove snapshot");
            removed += 1;
        }
    }
    assert!(removed > 0, "the first start wrote a snapshot");
    let err = rzk.start_again().expect_err("must not start on a log with no snapshot");
    assert!(err.to_string().contains("No snapshot found, but there are log entries"), "{err}");
    // ZooKeeper's way out: trust the empty snapshot set and replay the whole log.
    let mut cfg = std::fs::read_to_string(&rzk.cfg_path).expect("cfg");
    cfg.push_str("snapshot.trust.empty=true\n");
    std::fs::write(&rzk.cfg_path, cfg).expect("cfg");
    rzk.start_again().expect("starts with snapshot.trust.empty");
    assert_eq!(count(&rt, &rzk.addr(), "/e"), 20);
}
