//! The election port against Apache ZooKeeper 3.8: a three-member ensemble whose members 1 and 2
//! are Java servers and whose member 3 is only an rzk `Qcm`. The Java members dial it (and, being
//! smaller, drop their connections), it dials them back, their FastLeaderElection notifications
//! reach it and decode with `rzk_zab::Notification`, and after they have elected a leader our
//! LOOKING notification makes each of them answer with the vote it is out of election with.
//!
//! Skipped (with a SKIP line) when Java or the ZooKeeper jars are missing, unless
//! `RZK_REQUIRE_REFZK` is set.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rzk_server::quorum::qcm::{Qcm, QcmConfig};
use rzk_testkit::{QuorumPorts, RefQuorumPeer};
use rzk_zab::{Notification, ServerState};
use tokio::sync::mpsc;

/// The whole test's budget for waiting on Java (JVM start-up dominates).
const JAVA_WAIT: Duration = Duration::from_secs(25);

fn election_addr(p: &QuorumPorts) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], p.election))
}

/// The next notification from the Java members, decoded; panics at `deadline`.
async fn next_notification(
    rx: &mut mpsc::Receiver<(i64, Vec<u8>)>,
    deadline: tokio::time::Instant,
    logs: &dyn Fn() -> String,
) -> (i64, Notification) {
    match tokio::time::timeout_at(deadline, rx.recv()).await {
        Ok(Some((sid, bytes))) => match Notification::decode(&bytes) {
            Ok(n) => (sid, n),
            Err(e) => panic!("notification from {sid} does not decode ({e}): {bytes:?}"),
        },
        Ok(None) => panic!("the Qcm receiver ended"),
        Err(_) => panic!("no notification from the Java members in time; logs:\n{}", logs()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_members_talk_to_an_rzk_election_port() {
    if RefQuorumPeer::skip("java_members_talk_to_an_rzk_election_port").is_some() {
        return;
    }
    let started = Instant::now();
    let ports = [
        QuorumPorts::free().expect("ports"),
        QuorumPorts::free().expect("ports"),
        QuorumPorts::free().expect("ports"),
    ];
    let lines: Vec<String> = ports.iter().zip(1..).map(|(p, id)| p.server_line(id)).collect();

    // Member 3: just the election port, up before the Java members dial it.
    let cfg = QcmConfig {
        my_id: 3,
        listen: election_addr(&ports[2]),
        my_addr_text: election_addr(&ports[2]).to_string(),
        peers: BTreeMap::from([(1, election_addr(&ports[0])), (2, election_addr(&ports[1]))]),
        cnx_timeout: Duration::from_secs(5),
        tls: None,
        sasl: None,
    };
    let (qcm, mut rx) = Qcm::start(cfg).await.expect("qcm starts");

    let start = |id: i64, p: QuorumPorts| {
        let lines = lines.clone();
        tokio::task::spawn_blocking(move || RefQuorumPeer::start(id, p, &lines, &[], &[]))
    };
    let (j1, j2) = (start(1, ports[0]), start(2, ports[1]));
    let j1 = j1.await.expect("join").expect("java member 1 starts");
    let j2 = j2.await.expect("join").expect("java member 2 starts");
    let logs = || format!("--- member 1 ---\n{}\n--- member 2 ---\n{}", j1.log(), j2.log());
    let deadline = tokio::time::Instant::now() + JAVA_WAIT.saturating_sub(started.elapsed());

    // Their LOOKING notifications reach us and decode.
    let mut looking = BTreeMap::new();
    while looking.len() < 2 {
        let (sid, n) = next_notification(&mut rx, deadline, &logs).await;
        assert!(sid == 1 || sid == 2, "notification from unexpected sid {sid}");
        if n.state == ServerState::Looking {
            looking.insert(sid, n);
        }
    }
    for (sid, n) in &looking {
        assert!(n.leader == 1 || n.leader == 2, "member {sid} votes for {}", n.leader);
        assert_eq!(n.version, 2, "member {sid}: notification version");
        assert_eq!((n.zxid, n.peer_epoch), (0, 0), "member {sid}: a fresh server");
        let config = String::from_utf8(n.config.clone()).expect("config is UTF-8");
        for (p, id) in ports.iter().zip(1..) {
            let line = format!("{}:participant", p.server_line(id));
            assert!(config.lines().any(|l| l == line), "member {sid}: {line:?} not in {config:?}");
        }
        assert!(config.lines().any(|l| l.starts_with("version=")), "member {sid}: {config:?}");
    }
    // We are the larger sid: the live connections are the ones we dialed back, which Java accepted.
    let connected = async {
        while qcm.connected() != [1, 2] {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert!(tokio::time::timeout_at(deadline, connected).await.is_ok(), "connected: {:?}", qcm.connected());
    // The logs say more when there is a logger binding (slf4j-simple is optional).
    let logging = std::path::Path::new(rzk_testkit::refzk::SLF4J_SIMPLE_JAR).exists();
    // Which side dials first is a race: a member that dialed us dropped its own connection as
    // the smaller sid; one that we reached first only accepted ours. Either way it says so.
    for (log, id) in [(j1.log(), 1), (j2.log(), 2)].into_iter().filter(|_| logging) {
        let dropped = log.contains(&format!(
            "Have smaller server identifier, so dropping the connection: (myId:{id} --> sid:3)"
        ));
        let accepted = log.contains("Received connection request from");
        assert!(dropped || accepted, "member {id} neither dropped its connection to us nor accepted ours");
        assert!(
            !log.contains(&format!("(myId:3 --> sid:{id})")),
            "member {id} took the larger sid's side of the rule"
        );
    }

    // The Java pair elects member 2 (equal zxids and epochs: the larger sid wins).
    let (j1, j2, modes) = tokio::task::spawn_blocking(move || {
        let wait = JAVA_WAIT.saturating_sub(started.elapsed());
        let modes = (j1.wait_for_mode(wait), j2.wait_for_mode(wait));
        (j1, j2, modes)
    })
    .await
    .expect("join");
    let logs = || format!("--- member 1 ---\n{}\n--- member 2 ---\n{}", j1.log(), j2.log());
    assert_eq!(modes, (Some("follower".into()), Some("leader".into())), "{}", logs());

    // Our LOOKING notification: each answers with the vote it follows or leads with.
    while rx.try_recv().is_ok() {}
    let mine = Notification {
        state: ServerState::Looking,
        leader: 3,
        zxid: 0,
        election_epoch: 1,
        peer_epoch: 0,
        version: 2,
        config: looking[&1].config.clone(),
    };
    qcm.send(1, mine.encode());
    qcm.send(2, mine.encode());
    let mut answers = BTreeMap::new();
    while answers.len() < 2 {
        let (sid, n) = next_notification(&mut rx, deadline, &logs).await;
        if n.state != ServerState::Looking {
            answers.insert(sid, (n.state, n.leader));
        }
    }
    assert_eq!(
        answers,
        BTreeMap::from([(1, (ServerState::Following, 2)), (2, (ServerState::Leading, 2))]),
        "the answers to our LOOKING notification"
    );
    for (log, id, state) in
        [(j1.log(), 1, "FOLLOWING"), (j2.log(), 2, "LEADING")].into_iter().filter(|_| logging)
    {
        let seen = format!("Notification: my state:{state}; n.sid:3, n.state:LOOKING, n.leader:3");
        assert!(log.contains(&seen), "member {id} logged our notification ({seen:?})");
    }
    qcm.shutdown();
    println!("java_members_talk_to_an_rzk_election_port: {:?}", started.elapsed());
}
