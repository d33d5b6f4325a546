//! The audit log (`audit.enable=true`) compared with ZooKeeper 3.8's: the same client session makes
//! the same writes (creates of every kind, setData, setAcl, deletes that work and that fail, a
//! multi that works and one that fails, reads that are not audited) on both servers, then closes
//! with ephemerals left; the audit lines of both (ZooKeeper's through its logger, rzk's from
//! zookeeper_audit.log) must be equal once session ids are replaced by their order of appearance.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rzk_client::{Acl, Client, CreateMode, Id, Op, open_acl_unsafe};
use rzk_testkit::{RefZk, RzkServer};

const AUDIT_LOGGER: &str = "org.apache.zookeeper.audit.Slf4jAuditLogger";

async fn workload(addr: &str) {
    let c = Client::connect(addr, Duration::from_secs(20)).await.expect("connect");
    let acl = open_acl_unsafe();
    c.create("/a", b"1", &acl, CreateMode::Persistent).await.expect("create /a");
    c.create("/a/e", b"", &acl, CreateMode::Ephemeral).await.expect("ephemeral");
    c.create("/a/s-", b"", &acl, CreateMode::PersistentSequential).await.expect("sequential");
    c.create("/a/es-", b"", &acl, CreateMode::EphemeralSequential).await.expect("ephemeral sequential");
    c.create("/a/c", b"", &acl, CreateMode::Container).await.expect("container");
    assert!(c.create("/a", b"", &acl, CreateMode::Persistent).await.is_err(), "NodeExists");
    c.set_data("/a", b"2", -1).await.expect("setData");
    assert!(c.set_data("/missing", b"", -1).await.is_err(), "setData on a missing node");
    let _ = c.get_data("/a", false).await.expect("a read: not audited");
    let acl2 = vec![
        Acl::new(31, "world", "anyone"),
        Acl { perms: 1, id: Id::new("digest", "u:lbMjeMi8uHjVkTz0ow3hp0uPdX4=") },
    ];
    c.set_acl("/a", &acl2, -1).await.expect("setAcl");
    c.delete("/a/s-0000000001", -1).await.expect("delete");
    assert!(c.delete("/a/missing", -1).await.is_err(), "delete of a missing node");
    c.multi(&[Op::create("/m1", b"", &acl, CreateMode::Persistent), Op::set_data("/m1", b"x", -1)])
        .await
        .expect("multi");
    // Fails on its second op (how the failure is reported is the client's business).
    let _ =
        c.multi(&[Op::create("/m2", b"", &acl, CreateMode::Persistent), Op::delete("/nothing", -1)]).await;
    // Closing removes the ephemerals: one line each.
    c.close().await.expect("close");
    // A digest-authenticated session: the user field lists the address and the digest user.
    let d = Client::connect(addr, Duration::from_secs(20)).await.expect("connect");
    d.add_auth("digest", b"u:p").await.expect("addAuth");
    d.create("/d", b"", &acl, CreateMode::Persistent).await.expect("create as u");
    d.delete("/d", -1).await.expect("delete as u");
    d.close().await.expect("close");
}

/// The audit messages in `log`, after `marker` (the logger's name or prefix), sessions renamed.
fn audit_lines(log: &str, marker: &str) -> Vec<String> {
    let mut sessions: HashMap<String, String> = HashMap::new();
    log.lines()
        .filter_map(|l| {
            l.split_once(marker).map(|(_, m)| m.trim_start_matches([' ', '-', ':']).trim_end().to_owned())
        })
        .filter(|m| !m.contains("operation=serverStart") && !m.contains("operation=serverStop"))
        .map(|m| {
            m.split('\t')
                .map(|kv| match kv.strip_prefix("session=") {
                    Some(s) => {
                        let n = sessions.len();
                        format!("session=S{}", sessions.entry(s.to_owned()).or_insert_with(|| n.to_string()))
                    }
                    None => kv.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect()
}

fn wait_for_lines(what: &str, expected: usize, mut read: impl FnMut() -> Vec<String>) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = read();
        if lines.len() >= expected || Instant::now() > deadline {
            return lines;
        }
        assert!(Instant::now() < deadline, "{what}: only {} audit lines", lines.len());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn audit_lines_match_zookeeper() {
    let Some(reference) = RefZk::start_or_skip("audit_lines_match_zookeeper", &["audit.enable=true"], &[])
    else {
        return;
    };
    let logs = tempfile::tempdir().expect("log dir");
    let define = format!("-Dzookeeper.log.dir={}", logs.path().display());
    let rzk = RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &["audit.enable=true"], &[&define])
        .expect("rzk starts");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(workload(&reference.addr()));
    rt.block_on(workload(&rzk.addr()));

    let java = wait_for_lines("ZooKeeper", 1, || audit_lines(&reference.log(), AUDIT_LOGGER));
    let audit_file = logs.path().join("zookeeper_audit.log");
    let ours = wait_for_lines("rzk", java.len(), || {
        audit_lines(&std::fs::read_to_string(&audit_file).unwrap_or_default(), "audit.Slf4jAuditLogger")
    });
    assert!(java.len() > 10, "ZooKeeper wrote few audit lines: {java:#?}");
    assert_eq!(ours, java, "audit lines differ (left rzk, right ZooKeeper)");

    // The start line is there, with the user running the server; audit lines stay out of the
    // main log.
    let text = std::fs::read_to_string(&audit_file).expect("audit log");
    assert!(
        text.lines().next().is_some_and(|l| l.contains("operation=serverStart\tresult=success")),
        "{text}"
    );
    assert!(!rzk.log().contains("operation=create"), "audit lines leaked into the server log");
}
