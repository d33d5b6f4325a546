//! Mixed ensembles: Apache ZooKeeper 3.8 members (Debian's package) and rzk members elect a
//! leader of either kind, replicate writes both ways, survive the leader's kill -9, bring the
//! restarted member back in sync, end with identical trees, and let a client session move between
//! a Java and an rzk member keeping its ephemerals. This is what an operator replacing a Java
//! ensemble one server at a time goes through.
//!
//! Skipped (with a message) when Java or the ZooKeeper jars are missing, unless
//! `RZK_REQUIRE_REFZK` is set.

#[path = "storage/walk.rs"]
#[allow(dead_code)]
mod walk;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_testkit::{QuorumPorts, RefQuorumPeer, RzkQuorumPeer, four_letter_word};
use tokio::sync::Mutex;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rzk"))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// How long an ensemble may take to form (a JVM start included).
const FORM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long writes may stall after the leader is killed (tickTime 500 ms).
const RECOVERY_BOUND: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Java,
    Rzk,
}

enum Peer {
    Java(RefQuorumPeer),
    Rzk(RzkQuorumPeer),
}

struct Member {
    id: i64,
    kind: Kind,
    ports: QuorumPorts,
    peer: Option<Peer>,
}

struct Ensemble {
    members: Vec<Member>,
    lines: Vec<String>,
}

impl Ensemble {
    fn new(kinds: &[Kind]) -> Ensemble {
        let members: Vec<Member> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                id: i as i64 + 1,
                kind: *k,
                ports: QuorumPorts::free().expect("ports"),
                peer: None,
            })
            .collect();
        let lines = members.iter().map(|m| m.ports.server_line(m.id)).collect();
        Ensemble { members, lines }
    }

    fn start(&mut self, id: i64) {
        let lines = self.lines.clone();
        let m = &mut self.members[id as usize - 1];
        m.peer = Some(match m.kind {
            Kind::Java => {
                Peer::Java(RefQuorumPeer::start(id, m.ports, &lines, &[], &[]).expect("java member"))
            }
            Kind::Rzk => {
                Peer::Rzk(RzkQuorumPeer::start(bin(), id, m.ports, &lines, &[]).expect("rzk member"))
            }
        });
    }

    /// kill -9 and start again on the same data directory.
    fn kill(&mut self, id: i64) {
        match &mut self.members[id as usize - 1].peer {
            Some(Peer::Java(p)) => p.kill(),
            Some(Peer::Rzk(p)) => p.kill(),
            None => {}
        }
    }

    fn restart(&mut self, id: i64) {
        let m = &mut self.members[id as usize - 1];
        match m.peer.take() {
            Some(Peer::Rzk(mut p)) => {
                p.start_again().expect("rzk member starts again");
                m.peer = Some(Peer::Rzk(p));
            }
            Some(Peer::Java(mut p)) => {
                p.start_again().expect("java member starts again");
                m.peer = Some(Peer::Java(p));
            }
            None => self.start(id),
        }
    }

    fn mode(&self, id: i64) -> Option<String> {
        let port = self.members[id as usize - 1].ports.client;
        let answer = four_letter_word(port, "srvr", Duration::from_secs(1)).ok()?;
        answer.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned())
    }

    fn zxid(&self, id: i64) -> Option<i64> {
        let port = self.members[id as usize - 1].ports.client;
        let answer = four_letter_word(port, "srvr", Duration::from_secs(1)).ok()?;
        let z = answer.lines().find_map(|l| l.strip_prefix("Zxid: "))?;
        i64::from_str_radix(z.trim().trim_start_matches("0x"), 16).ok()
    }

    /// Waits until every member in `ids` serves and exactly one leads; the leader's id.
    fn wait_formed(&self, ids: &[i64], timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        loop {
            let modes: Vec<Option<String>> = ids.iter().map(|id| self.mode(*id)).collect();
            if modes.iter().all(Option::is_some) {
                let leaders: Vec<i64> = ids
                    .iter()
                    .zip(&modes)
                    .filter(|(_, m)| m.as_deref() == Some("leader"))
                    .map(|(id, _)| *id)
                    .collect();
                if leaders.len() == 1 {
                    return leaders[0];
                }
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members {ids:?} did not form an ensemble: {modes:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn addr(&self, id: i64) -> String {
        format!("127.0.0.1:{}", self.members[id as usize - 1].ports.client)
    }

    fn connect_string(&self) -> String {
        self.members.iter().map(|m| format!("127.0.0.1:{}", m.ports.client)).collect::<Vec<_>>().join(",")
    }

    fn kind(&self, id: i64) -> Kind {
        self.members[id as usize - 1].kind
    }

    fn dump_logs(&self) {
        for m in &self.members {
            let log = match &m.peer {
                Some(Peer::Java(p)) => p.log(),
                Some(Peer::Rzk(p)) => p.log(),
                None => String::new(),
            };
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("---- member {} ({:?}) log tail ----", m.id, m.kind);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    /// Waits until every member reports the same zxid, then compares whole trees read from each.
    fn assert_identical(&self, ids: &[i64], rt: &tokio::runtime::Runtime) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let z: BTreeSet<Option<i64>> = ids.iter().map(|id| self.zxid(*id)).collect();
            if z.len() == 1 && !z.contains(&None) {
                break;
            }
            assert!(Instant::now() < deadline, "members never reached the same zxid: {z:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let first = ids[0];
        let reference = rt.block_on(walk::walk(&self.addr(first)));
        let reference = normalize(reference);
        for id in &ids[1..] {
            let other = normalize(rt.block_on(walk::walk(&self.addr(*id))));
            let d = walk::diff(&format!("member {first}"), &reference, &format!("member {id}"), &other);
            assert!(d.is_empty(), "trees differ:\n{}", d.join("\n"));
        }
    }
}

/// `mntr`'s metric names, without the per-learner and per-namespace summary sets (which depend on
/// who is connected and what was written).
fn mntr_keys(port: u16) -> Vec<String> {
    let text = four_letter_word(port, "mntr", Duration::from_secs(5)).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|k| !k.contains("learner_handler_qp") && !k.ends_with("_per_namespace"))
        .map(str::to_owned)
        .collect()
}

/// `conf` without the lines that differ between members by design (ports, directories, id).
fn conf_shape(port: u16) -> Vec<String> {
    let text = four_letter_word(port, "conf", Duration::from_secs(5)).unwrap_or_default();
    let own = ["clientPort=", "dataDir", "dataLog", "serverId=", "electionPort=", "quorumPort="];
    text.lines().filter(|l| !own.iter().any(|p| l.starts_with(p))).map(str::to_owned).collect()
}

/// Records each member's `mntr` names under (mode, kind).
fn record_mntr(
    e: &Ensemble,
    ids: &[i64],
    seen: &mut std::collections::BTreeMap<(String, String), Vec<String>>,
) {
    for id in ids {
        if let Some(mode) = e.mode(*id) {
            let keys = mntr_keys(e.members[*id as usize - 1].ports.client);
            seen.insert((mode, format!("{:?}", e.kind(*id))), keys);
        }
    }
}

/// `/zookeeper/config` is set by each member at start-up with its own clock (Java does the same):
/// its mtime differs between members.
fn normalize(mut nodes: Vec<walk::Seen>) -> Vec<walk::Seen> {
    for n in &mut nodes {
        if n.path == "/zookeeper/config" {
            n.stat.mtime = 0;
        }
    }
    nodes
}

fn skip(test: &str) -> bool {
    RefQuorumPeer::skip(test).is_some()
}

/// The (path, data) pairs whose create was acknowledged, shared by the writers.
type AckedWrites = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Writers that create unique nodes through the whole ensemble, remembering what was acknowledged.
struct Load {
    stop: Arc<AtomicBool>,
    acked: AckedWrites,
    last_ack: Arc<Mutex<Instant>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(rt: &tokio::runtime::Runtime, connect: &str, writers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let last_ack = Arc::new(Mutex::new(Instant::now()));
        let mut tasks = Vec::new();
        for w in 0..writers {
            let (stop, acked, last_ack, connect) =
                (stop.clone(), acked.clone(), last_ack.clone(), connect.to_owned());
            tasks.push(rt.spawn(async move {
                let c = Client::builder(&connect, Duration::from_secs(20))
                    .request_timeout(Duration::from_secs(5))
                    .connect()
                    .await
                    .expect("writer connects");
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let path = format!("/w{w}-{n}");
                    let data = format!("writer {w} #{n}").into_bytes();
                    if c.create(&path, &data, &open_acl_unsafe(), CreateMode::Persistent).await.is_ok() {
                        acked.lock().await.push((path, data));
                        *last_ack.lock().await = Instant::now();
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                let _ = c.close().await;
            }));
        }
        Load { stop, acked, last_ack, tasks }
    }

    fn acked_count(&self, rt: &tokio::runtime::Runtime) -> usize {
        rt.block_on(async { self.acked.lock().await.len() })
    }

    /// Waits until a write is acknowledged after `since`; how long that took.
    fn wait_progress_after(&self, rt: &tokio::runtime::Runtime, since: Instant, bound: Duration) -> Duration {
        let deadline = since + bound;
        loop {
            let last = rt.block_on(async { *self.last_ack.lock().await });
            if last > since {
                return last - since;
            }
            assert!(Instant::now() < deadline, "no write acknowledged within {bound:?} after the kill");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(self, rt: &tokio::runtime::Runtime) -> Vec<(String, Vec<u8>)> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = rt.block_on(t);
        }
        rt.block_on(async { self.acked.lock().await.clone() })
    }
}

/// Every acknowledged write is on member `id` with its data.
fn assert_all_acked_present(rt: &tokio::runtime::Runtime, addr: &str, acked: &[(String, Vec<u8>)]) {
    rt.block_on(async {
        let c = Client::connect(addr, Duration::from_secs(20)).await.expect("connect to check");
        c.sync("/").await.expect("sync");
        for (path, data) in acked {
            match c.get_data(path, false).await {
                Ok((d, _)) => assert_eq!(&d[..], &data[..], "{path} has other data"),
                Err(e) => panic!("acknowledged write {path} is missing on {addr}: {e}"),
            }
        }
        let _ = c.close().await;
    });
}

/// Writes on one member are read on every other (after `sync`), both ways.
fn assert_replicates(rt: &tokio::runtime::Runtime, e: &Ensemble, ids: &[i64], tag: &str) {
    rt.block_on(async {
        let mut clients = Vec::new();
        for id in ids {
            clients
                .push((*id, Client::connect(&e.addr(*id), Duration::from_secs(20)).await.expect("connect")));
        }
        for (id, c) in &clients {
            let path = format!("/{tag}-from-{id}");
            c.create(&path, format!("{id}").as_bytes(), &open_acl_unsafe(), CreateMode::Persistent)
                .await
                .unwrap_or_else(|err| panic!("create through member {id}: {err}"));
        }
        for (id, c) in &clients {
            c.sync("/").await.expect("sync");
            for from in ids {
                let path = format!("/{tag}-from-{from}");
                let (d, _) =
                    c.get_data(&path, false).await.unwrap_or_else(|err| panic!("{path} on {id}: {err}"));
                assert_eq!(&d[..], format!("{from}").as_bytes());
            }
        }
        for (_, c) in clients {
            let _ = c.close().await;
        }
    });
}

/// A session created on member `a` moves to `b` (same id and password) and keeps its ephemeral;
/// closing it there removes the ephemeral everywhere.
fn assert_session_moves(rt: &tokio::runtime::Runtime, e: &Ensemble, a: i64, b: i64) {
    rt.block_on(async {
        let first = Client::builder(&e.addr(a), Duration::from_secs(20))
            .reconnect_delay_max(Duration::from_secs(30))
            .connect()
            .await
            .expect("connect");
        let eph = format!("/eph-{a}-to-{b}");
        first.create(&eph, b"e", &open_acl_unsafe(), CreateMode::Ephemeral).await.expect("ephemeral");
        let (sid, pw) = (first.session_id(), first.session_password());
        let moved = Client::builder(&e.addr(b), Duration::from_secs(20))
            .session(sid, &pw)
            .connect()
            .await
            .unwrap_or_else(|err| panic!("session 0x{sid:x} does not move from {a} to {b}: {err}"));
        assert_eq!(moved.session_id(), sid);
        // The first connection is still open, but the session now belongs to the other member: a
        // write through the old one fails with SessionMoved at the leader, which ZooKeeper treats
        // as a connection-level error: the old member closes the connection without a reply.
        let stale =
            first.create(&format!("{eph}-stale"), b"s", &open_acl_unsafe(), CreateMode::Persistent).await;
        assert_eq!(
            stale.err().and_then(|e| e.code()),
            Some(rzk_client::ErrorCode::ConnectionLoss),
            "a write through the session's old member"
        );
        // Gone before its reconnect pause ends, so the session stays on `b`.
        drop(first);
        moved.sync("/").await.expect("sync");
        assert!(
            moved.exists(&format!("{eph}-stale"), false).await.expect("exists").is_none(),
            "the write through the old member was applied"
        );
        moved.sync("/").await.expect("sync");
        let owner = moved.exists(&eph, false).await.expect("exists").expect("ephemeral kept").ephemeral_owner;
        assert_eq!(owner, sid);
        moved.close().await.expect("close");
        let other = Client::connect(&e.addr(a), Duration::from_secs(20)).await.expect("connect");
        other.sync("/").await.expect("sync");
        assert!(other.exists(&eph, false).await.expect("exists").is_none(), "ephemeral outlived its session");
        let _ = other.close().await;
    });
}

fn java_member(e: &Ensemble, ids: &[i64]) -> i64 {
    ids.iter().copied().find(|i| e.kind(*i) == Kind::Java).expect("a java member")
}

fn rzk_member(e: &Ensemble, ids: &[i64]) -> i64 {
    ids.iter().copied().find(|i| e.kind(*i) == Kind::Rzk).expect("an rzk member")
}

/// Runs the scenario on an ensemble whose members `first` start first (so the election among them
/// picks the expected leader), then the others.
fn scenario(test: &str, kinds: &[Kind], first: &[i64], expect_leader: Kind) {
    if skip(test) {
        return;
    }
    let rt = rt();
    let mut e = Ensemble::new(kinds);
    let all: Vec<i64> = (1..=kinds.len() as i64).collect();
    for id in first {
        e.start(*id);
    }
    let leader = e.wait_formed(first, FORM_TIMEOUT);
    for id in all.iter().filter(|i| !first.contains(i)) {
        e.start(*id);
    }
    let leader2 = e.wait_formed(&all, FORM_TIMEOUT);
    assert_eq!(leader, leader2, "the leader changed when the last member joined");
    assert_eq!(e.kind(leader), expect_leader, "leader {leader} is not of the expected kind");
    println!("{test}: leader is member {leader} ({:?})", e.kind(leader));

    let mut mntr = std::collections::BTreeMap::new();
    record_mntr(&e, &all, &mut mntr);
    let java_conf = conf_shape(e.members[java_member(&e, &all) as usize - 1].ports.client);
    let rzk_conf = conf_shape(e.members[rzk_member(&e, &all) as usize - 1].ports.client);
    assert!(java_conf.iter().any(|l| l.starts_with("membership")), "no membership in conf: {java_conf:?}");
    assert_eq!(rzk_conf, java_conf, "conf of an rzk member differs from a Java member's");
    assert_replicates(&rt, &e, &all, "a");
    let java = all.iter().copied().find(|i| e.kind(*i) == Kind::Java).expect("a java member");
    let rzk = all.iter().copied().find(|i| e.kind(*i) == Kind::Rzk).expect("an rzk member");
    assert_session_moves(&rt, &e, rzk, java);
    assert_session_moves(&rt, &e, java, rzk);

    // kill -9 the leader under write load; writes resume through the others.
    let load = Load::start(&rt, &e.connect_string(), 3);
    let warm = Instant::now() + Duration::from_secs(10);
    while load.acked_count(&rt) < 200 {
        assert!(Instant::now() < warm, "the load did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed_at = Instant::now();
    e.kill(leader);
    let stall = load.wait_progress_after(&rt, killed_at, RECOVERY_BOUND);
    let rest: Vec<i64> = all.iter().copied().filter(|i| *i != leader).collect();
    let new_leader = e.wait_formed(&rest, FORM_TIMEOUT);
    println!(
        "{test}: killed leader {leader} ({:?}); first acknowledged write {:.0} ms later; new leader {new_leader} ({:?})",
        e.kind(leader),
        stall.as_secs_f64() * 1000.0,
        e.kind(new_leader)
    );
    e.restart(leader);
    e.wait_formed(&all, FORM_TIMEOUT);
    record_mntr(&e, &all, &mut mntr);
    let mut compared = 0;
    for mode in ["leader", "follower"] {
        let java = mntr.get(&(mode.to_owned(), "Java".to_owned()));
        let rzk = mntr.get(&(mode.to_owned(), "Rzk".to_owned()));
        if let (Some(j), Some(r)) = (java, rzk) {
            let only_rzk: Vec<&String> = r.iter().filter(|k| !j.contains(k)).collect();
            let only_java: Vec<&String> = j.iter().filter(|k| !r.contains(k)).collect();
            // The order is not compared: Java's depends on the history of its metrics map (gauges
            // are unregistered and registered again at every role change).
            assert!(
                only_rzk.is_empty() && only_java.is_empty() && r.len() == j.len(),
                "mntr names of an rzk {mode} differ from a Java {mode}'s: only rzk {only_rzk:?}, only Java \
                 {only_java:?}"
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 1,
        "no mode had both a Java and an rzk member: {:?}",
        mntr.keys().collect::<Vec<_>>()
    );
    std::thread::sleep(Duration::from_millis(500));
    let acked = load.stop(&rt);
    assert!(acked.len() > 200, "only {} writes acknowledged", acked.len());
    assert_replicates(&rt, &e, &all, "b");
    for id in &all {
        assert_all_acked_present(&rt, &e.addr(*id), &acked);
    }
    e.assert_identical(&all, &rt);
    println!("{test}: {} acknowledged writes on every member, trees identical", acked.len());
}

#[test]
fn two_java_one_rzk_with_an_rzk_leader() {
    // rzk member 3 and Java member 1 start first: 3 wins (same zxid, higher id).
    scenario("two_java_one_rzk_with_an_rzk_leader", &[Kind::Java, Kind::Java, Kind::Rzk], &[1, 3], Kind::Rzk);
}

#[test]
fn one_java_two_rzk_with_a_java_leader() {
    // Java member 3 and rzk member 1 start first: the Java member leads.
    scenario("one_java_two_rzk_with_a_java_leader", &[Kind::Rzk, Kind::Rzk, Kind::Java], &[1, 3], Kind::Java);
}

#[test]
fn two_java_one_rzk_with_a_java_leader() {
    scenario(
        "two_java_one_rzk_with_a_java_leader",
        &[Kind::Rzk, Kind::Java, Kind::Java],
        &[1, 3],
        Kind::Java,
    );
}

#[test]
fn one_java_two_rzk_with_an_rzk_leader() {
    scenario("one_java_two_rzk_with_an_rzk_leader", &[Kind::Java, Kind::Rzk, Kind::Rzk], &[1, 3], Kind::Rzk);
}
