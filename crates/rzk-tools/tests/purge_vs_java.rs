//! `rzk purge` against ZooKeeper's `PurgeTxnLog` on a data dir the reference server filled with
//! several snapshots and logs: the same files removed, the same lines printed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{java_tool, refzk, runtime, rzk_tool};
use rzk_client::{Client, CreateMode, open_acl_unsafe};

const PURGE: &str = "org.apache.zookeeper.server.PurgeTxnLog";

/// Copies `version-2` keeping modification times (PurgeTxnLog prints them).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("version-2")).unwrap();
    for e in std::fs::read_dir(from.join("version-2")).unwrap() {
        let e = e.unwrap();
        let dest = to.join("version-2").join(e.file_name());
        std::fs::copy(e.path(), &dest).unwrap();
        let mtime = e.metadata().unwrap().modified().unwrap();
        std::fs::File::options().write(true).open(&dest).unwrap().set_modified(mtime).unwrap();
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("version-2"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn sorted_lines(s: &str, dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = s.lines().map(|l| l.replace(dir.to_str().unwrap(), "DIR")).collect();
    lines.sort();
    lines
}

#[test]
fn purge_matches_purge_txn_log() {
    let Some(mut zk) = refzk("purge_matches_purge_txn_log", &[]) else { return };
    // Each restart writes a snapshot, and the txns after it go to a new log.
    for round in 0..5 {
        let rt = runtime();
        let addr = zk.addr();
        rt.block_on(async {
            let c = Client::connect(&addr, Duration::from_secs(30)).await.unwrap();
            for i in 0..3 {
                c.create(&format!("/r{round}-{i}"), b"x", &open_acl_unsafe(), CreateMode::Persistent)
                    .await
                    .unwrap();
            }
            c.close().await.unwrap();
        });
        drop(rt);
        zk.restart().unwrap();
    }
    zk.kill();
    let before = listing(&zk.data_dir);
    assert!(before.iter().filter(|n| n.starts_with("snapshot.")).count() >= 5, "{before:?}");

    for count in ["3", "4", "10"] {
        let (jd, rd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        copy_dir(&zk.data_dir, jd.path());
        copy_dir(&zk.data_dir, rd.path());
        let (js, rs) = (jd.path().to_str().unwrap(), rd.path().to_str().unwrap());
        let java = java_tool(PURGE, &[js, js, "-n", count], "");
        let (code, rzk) = rzk_tool(|a, o, _| rzk_tools::purge::run(a, o), &[rs, rs, "-n", count], "");
        assert_eq!(code, java.code, "java stderr:\n{}", java.stderr);
        assert_eq!(sorted_lines(&rzk, rd.path()), sorted_lines(&java.stdout, jd.path()), "-n {count}");
        assert_eq!(listing(rd.path()), listing(jd.path()), "-n {count}");
        if count == "3" {
            assert!(java.stdout.contains("Removing file: "), "{}", java.stdout);
        }
    }

    // Bad invocations: the same exit code.
    let d = zk.data_dir.to_str().unwrap().to_owned();
    for args in [
        &[d.as_str(), "-n", "2"][..],
        &[d.as_str(), "-n", "x"][..],
        &["/nonexistent", "-n", "3"][..],
        &[d.as_str()][..],
    ] {
        let java = java_tool(PURGE, args, "");
        let (code, _) = rzk_tool(|a, o, _| rzk_tools::purge::run(a, o), args, "");
        assert_eq!(code, java.code, "{args:?}");
    }
}
