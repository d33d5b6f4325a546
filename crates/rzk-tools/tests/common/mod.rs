//! Helpers for comparing rzk's tools with ZooKeeper's own: the reference server, a workload
//! that writes every kind of txn, ZooKeeper's tool classes run as processes (bounded in time),
//! and rzk's tools run in-process on the same files.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rzk_client::{Acl, Client, CreateMode, Op, creator_all_acl, open_acl_unsafe};
use rzk_testkit::RefZk;
use rzk_testkit::refzk::{JAVA, JVM_DEFAULT_FLAGS, SLF4J_SIMPLE_JAR, ZOOKEEPER_JAR};

/// How long one run of a Java tool may take.
pub const JAVA_TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the workload may take.
pub const WORKLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The reference server, or `None` (printed) when it is not installed; panics instead with
/// `RZK_REQUIRE_REFZK=1`.
pub fn refzk(test: &str, jvm_flags: &[&str]) -> Option<RefZk> {
    RefZk::start_or_skip(test, &[], jvm_flags)
}

pub struct JavaRun {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs a ZooKeeper class's `main` (a tool), in the locale rzk's tools print in.
pub fn java_tool(class: &str, args: &[&str], stdin: &str) -> JavaRun {
    let mut cmd = Command::new(JAVA);
    cmd.args(JVM_DEFAULT_FLAGS)
        .args(["-Duser.language=en", "-Duser.country=US"])
        .arg("-cp")
        .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_SIMPLE_JAR}"))
        .arg(class)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting java");
    if let Some(mut input) = child.stdin.take() {
        use std::io::Write;
        input.write_all(stdin.as_bytes()).expect("java stdin");
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + JAVA_TOOL_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting for java") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{class} {args:?} did not finish within {JAVA_TOOL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    JavaRun { stdout, stderr, code: status.code().unwrap_or(-1) }
}

/// A tool's `run`: arguments, stdout, stdin.
pub type Tool =
    fn(&[String], &mut dyn std::io::Write, &mut dyn std::io::BufRead) -> Result<i32, rzk_tools::ToolError>;

/// Runs one of rzk's tools in-process: (exit code, stdout).
pub fn rzk_tool(tool: Tool, args: &[&str], stdin: &str) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let mut input = stdin.as_bytes();
    let code = match tool(&args, &mut out, &mut input) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rzk tool error: {e}");
            e.exit_code()
        }
    };
    (code, String::from_utf8_lossy(&out).into_owned())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

async fn connect(addr: &str) -> Client {
    Client::connect(addr, Duration::from_secs(30)).await.expect("connecting to the reference server")
}

/// Data that is not UTF-8, with the sequences Java and Rust decode differently.
pub const BINARY: &[u8] =
    &[0xff, 0xfe, b'x', 0xed, 0xa0, 0x80, 0x00, 0xc3, b'A', 0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82];

/// Every kind of txn: creates (plain, sequential, ephemeral, container, TTL, null data, digest
/// ACL), setData, setACL, delete, failed ops (error txns), multis that pass and fail, sessions
/// closed with ephemerals, and `extra_sessions` sessions left open with an ephemeral each.
/// Returns the clients still open (their sessions outlive a kill -9 of the server).
pub async fn workload(addr: &str, ttl: bool, extra_sessions: usize) -> Vec<Client> {
    let open = open_acl_unsafe();
    let zk = connect(addr).await;
    zk.create("/a", b"hello", &open, CreateMode::Persistent).await.unwrap();
    zk.create("/a/b", b"with,comma}and%pct\nnewline", &open, CreateMode::Persistent).await.unwrap();
    zk.set_data("/a", b"world", 0).await.unwrap();
    zk.set_acl("/a/b", &[Acl::new(1, "world", "anyone")], -1).await.unwrap();
    zk.create("/eph", b"ephem", &open, CreateMode::Ephemeral).await.unwrap();
    let seq = zk.create("/seq-", b"x", &open, CreateMode::PersistentSequential).await.unwrap();
    zk.create_container("/cont", b"c", &open).await.unwrap();
    zk.create("/cont/kid", b"", &open, CreateMode::Persistent).await.unwrap();
    if ttl {
        zk.create_ttl("/ttl", b"t", &open, CreateMode::PersistentWithTtl, 3_600_000).await.unwrap();
    }
    assert!(zk.create("/x/y", b"bad", &open, CreateMode::Persistent).await.is_err());
    zk.create("/utf-ünïcødé", "ünïcødé 😀".as_bytes(), &open, CreateMode::Persistent).await.unwrap();
    zk.create_nullable("/nulldata", None, &open, CreateMode::Persistent, None).await.unwrap();
    zk.create("/bin", BINARY, &open, CreateMode::Persistent).await.unwrap();
    zk.add_auth("digest", b"user:pw").await.unwrap();
    zk.create("/dig", b"secret", &creator_all_acl(), CreateMode::Persistent).await.unwrap();
    let ok = [
        Op::create("/m1", b"d1", &open, CreateMode::Persistent),
        Op::set_data("/m1", b"d2", 0),
        Op::check("/m1", 1),
        Op::create("/m2", BINARY, &open, CreateMode::Persistent),
    ];
    zk.multi_checked(&ok).await.unwrap();
    let failing = [Op::create("/m3", b"d3", &open, CreateMode::Persistent), Op::delete("/nonexistent", -1)];
    assert!(zk.multi_checked(&failing).await.is_err());
    zk.delete(&seq, -1).await.unwrap();
    zk.set_data("/bin", b"", -1).await.unwrap();

    let b = connect(addr).await;
    b.create("/eph-b1", b"", &open, CreateMode::Ephemeral).await.unwrap();
    b.create("/eph-b2", b"", &open, CreateMode::EphemeralSequential).await.unwrap();
    b.close().await.unwrap();

    let mut clients = vec![zk];
    for i in 0..extra_sessions {
        let c = connect(addr).await;
        c.create(&format!("/s{i}"), b"", &open, CreateMode::Ephemeral).await.unwrap();
        clients.push(c);
    }
    clients
}

/// Runs the workload against `zk` and kills the server with the sessions open, then starts it
/// again, which writes a snapshot of it all; returns the data dir's `version-2`.
pub fn populate(zk: &mut RefZk, ttl: bool, extra_sessions: usize) -> PathBuf {
    let rt = runtime();
    let addr = zk.addr();
    let clients = rt.block_on(async {
        tokio::time::timeout(WORKLOAD_TIMEOUT, workload(&addr, ttl, extra_sessions))
            .await
            .expect("workload timed out")
    });
    zk.kill();
    drop(clients);
    drop(rt);
    zk.start_again().expect("restarting the reference server");
    zk.data_dir.join("version-2")
}

/// The newest file of `dir` whose name starts with `prefix`.
pub fn newest(dir: &Path, prefix: &str) -> PathBuf {
    let mut files: Vec<(i64, PathBuf)> = std::fs::read_dir(dir)
        .expect("listing the data dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hex = name.strip_prefix(prefix)?.strip_prefix('.')?.split('.').next()?.to_owned();
            Some((i64::from_str_radix(&hex, 16).ok()?, e.path()))
        })
        .collect();
    files.sort();
    files.pop().expect("no such file").1
}

/// The oldest file of `dir` whose name starts with `prefix`.
pub fn oldest(dir: &Path, prefix: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("listing the data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{prefix}."))))
        .collect();
    files.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        i64::from_str_radix(name.split('.').nth(1).unwrap_or("0"), 16).unwrap_or(0)
    });
    files.first().expect("no such file").clone()
}

/// Asserts two tools' outputs are equal, showing the first differing line.
pub fn assert_same_output(what: &str, java: &str, rzk: &str) {
    if java == rzk {
        return;
    }
    let (j, r): (Vec<&str>, Vec<&str>) = (java.split('\n').collect(), rzk.split('\n').collect());
    let at = j.iter().zip(&r).position(|(a, b)| a != b).unwrap_or(j.len().min(r.len()));
    panic!(
        "{what}: outputs differ at line {}\n java: {:?}\n  rzk: {:?}\n(java {} lines, rzk {} lines)",
        at + 1,
        j.get(at),
        r.get(at),
        j.len(),
        r.len()
    );
}
