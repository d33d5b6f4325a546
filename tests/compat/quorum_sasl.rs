//! Quorum SASL (`quorum.auth.enableSasl`, `quorum.auth.learnerRequireSasl`,
//! `quorum.auth.serverRequireSasl`): DIGEST-MD5 between ensemble members, with the `QuorumServer`
//! (`user_<name>`) and `QuorumLearner` (`username` / `password`) sections of the JAAS file named
//! by `-Djava.security.auth.login.config`.
//!
//! (a) three rzk members form an ensemble and replicate; a member whose learner password is wrong
//! cannot join (the others log why) while the others serve. (b) two Apache ZooKeeper 3.8 members
//! and one rzk member form an ensemble with SASL required and replicate both ways (skipped with a
//! message when the reference server is missing, unless `RZK_REQUIRE_REFZK` is set).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_testkit::{QuorumPorts, RefQuorumPeer, RefZk, RzkQuorumPeer, four_letter_word};
use tempfile::TempDir;

const FORM_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
const SASL_LINES: [&str; 3] = [
    "quorum.auth.enableSasl=true",
    "quorum.auth.learnerRequireSasl=true",
    "quorum.auth.serverRequireSasl=true",
];

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rzk"))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A JAAS file: the server knows `learner` / `s3cret`; this member logs in with `password`.
fn jaas(dir: &TempDir, name: &str, password: &str) -> PathBuf {
    let path = dir.path().join(name);
    let text = format!(
        "QuorumServer {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_learner=\"s3cret\";\n}};\n\
         QuorumLearner {{\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username=\"learner\"\n  password=\"{password}\";\n}};\n"
    );
    std::fs::write(&path, text).expect("jaas");
    path
}

enum Peer {
    Java(RefQuorumPeer),
    Rzk(RzkQuorumPeer),
}

impl Peer {
    fn log(&self) -> String {
        match self {
            Peer::Java(p) => p.log(),
            Peer::Rzk(p) => p.log(),
        }
    }
}

struct Ensemble {
    ports: Vec<QuorumPorts>,
    servers: Vec<String>,
    peers: Vec<Option<Peer>>,
}

impl Ensemble {
    fn new(n: usize) -> Ensemble {
        let ports: Vec<QuorumPorts> = (0..n).map(|_| QuorumPorts::free().expect("ports")).collect();
        let servers = ports.iter().enumerate().map(|(i, p)| p.server_line(i as i64 + 1)).collect();
        Ensemble { ports, servers, peers: (0..n).map(|_| None).collect() }
    }

    fn start(&mut self, id: i64, java: bool, jaas: &Path) {
        let define = format!("-Djava.security.auth.login.config={}", jaas.display());
        let p = self.ports[id as usize - 1];
        let peer = if java {
            Peer::Java(
                RefQuorumPeer::start(id, p, &self.servers, &SASL_LINES, &[&define]).expect("java member"),
            )
        } else {
            Peer::Rzk(
                RzkQuorumPeer::start_with_defines(bin(), id, p, &self.servers, &SASL_LINES, &[&define])
                    .expect("rzk member"),
            )
        };
        self.peers[id as usize - 1] = Some(peer);
    }

    fn srvr(&self, id: i64, field: &str) -> Option<String> {
        let answer =
            four_letter_word(self.ports[id as usize - 1].client, "srvr", Duration::from_secs(1)).ok()?;
        answer.lines().find_map(|l| l.strip_prefix(field)).map(|m| m.trim().to_owned())
    }

    fn log(&self, id: i64) -> String {
        self.peers[id as usize - 1].as_ref().map(Peer::log).unwrap_or_default()
    }

    fn dump_logs(&self) {
        for id in 1..=self.peers.len() as i64 {
            let log = self.log(id);
            eprintln!("---- member {id} log tail ----");
            let tail: Vec<&str> = log.lines().rev().filter(|l| !l.contains("srvr")).take(60).collect();
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    /// Waits until every member in `ids` serves and exactly one leads.
    fn wait_formed(&self, ids: &[i64]) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            let modes: Vec<Option<String>> = ids.iter().map(|id| self.srvr(*id, "Mode: ")).collect();
            let leaders = modes.iter().filter(|m| m.as_deref() == Some("leader")).count();
            if modes.iter().all(Option::is_some) && leaders == 1 {
                return;
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members {ids:?} did not form an ensemble with quorum SASL: {modes:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn wait_same_zxid(&self, ids: &[i64]) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            let z: BTreeSet<Option<String>> = ids.iter().map(|id| self.srvr(*id, "Zxid: ")).collect();
            if z.len() == 1 && !z.contains(&None) {
                return;
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members {ids:?} never reached the same zxid: {z:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn addr(&self, id: i64) -> String {
        format!("127.0.0.1:{}", self.ports[id as usize - 1].client)
    }
}

/// Writes through each member in `ids` and reads every write back through every member.
fn replicate_both_ways(rt: &tokio::runtime::Runtime, e: &Ensemble, ids: &[i64], tag: &str) {
    rt.block_on(async {
        for w in ids {
            let c = Client::connect(&e.addr(*w), Duration::from_secs(20)).await.expect("connect");
            let path = format!("/{tag}-from-{w}");
            c.create(&path, format!("via {w}").as_bytes(), &open_acl_unsafe(), CreateMode::Persistent)
                .await
                .unwrap_or_else(|err| panic!("create {path} through member {w}: {err}"));
            let _ = c.close().await;
        }
        for r in ids {
            let c = Client::connect(&e.addr(*r), Duration::from_secs(20)).await.expect("connect");
            for w in ids {
                let path = format!("/{tag}-from-{w}");
                c.sync(&path).await.expect("sync");
                let (d, _) =
                    c.get_data(&path, false).await.unwrap_or_else(|err| panic!("read {path} on {r}: {err}"));
                assert_eq!(
                    d.to_vec(),
                    format!("via {w}").into_bytes(),
                    "member {r} reading member {w}'s write"
                );
            }
            let _ = c.close().await;
        }
    });
}

/// Waits until `id`'s log contains `needle`.
fn wait_log(e: &Ensemble, id: i64, needle: &str) {
    let deadline = Instant::now() + FORM_TIMEOUT;
    while !e.log(id).contains(needle) {
        if Instant::now() > deadline {
            e.dump_logs();
            panic!("member {id} never logged {needle:?}");
        }
        std::thread::sleep(POLL);
    }
}

#[test]
fn rzk_ensemble_with_quorum_sasl_and_a_wrong_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = jaas(&dir, "good.conf", "s3cret");
    let bad = jaas(&dir, "bad.conf", "wrong");
    let rt = rt();
    let mut e = Ensemble::new(3);
    e.start(1, false, &good);
    e.start(2, false, &good);
    e.start(3, false, &good);
    e.wait_formed(&[1, 2, 3]);
    for id in 1..=3 {
        wait_log(&e, id, "quorum SASL");
    }
    replicate_both_ways(&rt, &e, &[1, 2, 3], "a");
    e.wait_same_zxid(&[1, 2, 3]);

    // A fresh ensemble whose member 3 has the wrong learner password: the others refuse it, and it
    // never serves.
    let mut e = Ensemble::new(3);
    e.start(1, false, &good);
    e.start(2, false, &good);
    e.start(3, false, &bad);
    e.wait_formed(&[1, 2]);
    wait_log(&e, 1, "Mismatched response");
    wait_log(&e, 3, "refused our credentials");
    assert_eq!(e.srvr(3, "Mode: "), None, "the member with the wrong password serves");
    replicate_both_ways(&rt, &e, &[1, 2], "b");
}

#[test]
fn mixed_ensemble_with_quorum_sasl() {
    if let Some(why) = RefZk::missing() {
        assert!(std::env::var_os("RZK_REQUIRE_REFZK").is_none(), "reference ZooKeeper missing: {why}");
        println!("SKIP mixed_ensemble_with_quorum_sasl: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let good = jaas(&dir, "good.conf", "s3cret");
    let rt = rt();
    let mut e = Ensemble::new(3);
    e.start(1, true, &good);
    e.start(2, true, &good);
    e.start(3, false, &good);
    e.wait_formed(&[1, 2, 3]);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "m");
    e.wait_same_zxid(&[1, 2, 3]);
    assert!(e.log(3).contains("quorum SASL"), "rzk member did not run quorum SASL");
    // The Java members authenticated (as servers and as learners).
    for id in [1, 2] {
        wait_log(&e, id, "Successfully completed the authentication using SASL");
    }
}
