//! What the ensemble tests share: the settings, a runtime, the lock that runs them one at a
//! time, clients of one member, the load's roots, recovery and sync measurements, bulk writes,
//! and the scenario that leaves a dead leader with proposals nobody else logged.

use std::fs::File;
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use tokio::runtime::Runtime;

use super::cluster::{Ensemble, Srvr};
use super::load::{self, Ack, Load, WriterOpts};

/// Server settings every test uses (on top of tickTime 500, initLimit 10, syncLimit 5): the
/// writers' 20 s sessions must outlive a leader change.
pub const COMMON: [&str; 1] = ["maxSessionTimeout=30000"];
/// How long an ensemble may take to form, or a restarted member to serve again.
pub const SERVE_TIMEOUT: Duration = Duration::from_secs(30);
/// A leader killed with tickTime 500 and syncLimit 5: acknowledged writes resume within this.
pub const RECOVERY_MAX: Duration = Duration::from_secs(15);

pub fn rt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// One ensemble test at a time on this machine (across test processes too).
pub fn serial() -> File {
    let f = File::create(std::env::temp_dir().join("rzk-ensemble-tests.lock")).expect("lock file");
    f.lock().expect("lock");
    f
}

/// A client of one member only.
pub async fn client_of(ens: &Ensemble, i: usize, timeout: Duration) -> Client {
    Client::builder(&ens.addr(i), timeout)
        .request_timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to member {}: {e}", i + 1))
}

/// The load's root and the one for its sessions' ephemerals.
pub fn create_root(rt: &Runtime, ens: &Ensemble, i: usize, root: &str) {
    rt.block_on(async {
        let c = client_of(ens, i, Duration::from_secs(10)).await;
        for p in [root.to_owned(), format!("{root}{}", load::EPHEMERALS_SUFFIX)] {
            c.create(&p, b"", &open_acl_unsafe(), CreateMode::Persistent)
                .await
                .expect("create the load root");
        }
        let _ = c.close().await;
    });
}

/// `n` writers, writer w starting at member w % len.
pub fn start_load(rt: &Runtime, ens: &Ensemble, writers: usize, root: &str) -> Load {
    let cs = (0..writers).map(|w| ens.connect_string(w % ens.len())).collect();
    Load::start(rt, cs, root, WriterOpts::default())
}

pub fn zxid_epoch(z: i64) -> i64 {
    z >> 32
}

pub fn current_epoch(ens: &Ensemble, leader: usize) -> i64 {
    match ens.srvr(leader) {
        Srvr::Serving { zxid, .. } => zxid_epoch(zxid),
        other => panic!("{}: the leader does not serve: {other:?}", ens.name),
    }
}

/// From `t` to the first acknowledgement of a write the new leader proposed (an epoch after
/// `epoch`): how long the ensemble took to accept writes again.
pub fn recovery(acks: &[Ack], t: Instant, epoch: i64) -> Option<Duration> {
    acks.iter().filter(|a| a.at > t && zxid_epoch(a.zxid) > epoch).map(|a| a.at - t).min()
}

/// Members' logs since their last start: the learner's sync ("diff", "snapshot", "truncating").
pub fn sync_kinds(ens: &Ensemble, i: usize) -> String {
    let log = ens.members[i].log();
    let last = log.rsplit("---- restart ----").next().unwrap_or_default();
    let mut kinds = Vec::new();
    for (needle, kind) in [
        ("getting a diff from the leader", "DIFF"),
        ("getting a snapshot from the leader", "SNAP"),
        ("truncating the log to get in sync", "TRUNC"),
    ] {
        let n = last.matches(needle).count();
        if n > 0 {
            kinds.push(format!("{kind}x{n}"));
        }
    }
    kinds.join(",")
}

/// Writes `nodes` znodes of `bytes` bytes under `root` through member `i`, `batch` per multi,
/// from 4 sessions at once.
pub fn write_big(rt: &Runtime, ens: &Ensemble, i: usize, root: &str, nodes: usize, bytes: usize) {
    const BATCH: usize = 40;
    rt.block_on(async {
        let c = client_of(ens, i, Duration::from_secs(20)).await;
        match c.create(root, b"", &open_acl_unsafe(), CreateMode::Persistent).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(rzk_client::ErrorCode::NodeExists) => {}
            Err(e) => panic!("create {root}: {e}"),
        }
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..4 {
            let (c, root) = (client_of(ens, i, Duration::from_secs(20)).await, root.to_owned());
            tasks.spawn(async move {
                for b in (t..nodes.div_ceil(BATCH)).step_by(4) {
                    let ops: Vec<rzk_client::Op> = (b * BATCH..((b + 1) * BATCH).min(nodes))
                        .map(|n| {
                            let data = vec![b'a' + (n % 26) as u8; bytes];
                            rzk_client::Op::create(
                                &format!("{root}/n{n:06}"),
                                &data,
                                &open_acl_unsafe(),
                                CreateMode::Persistent,
                            )
                        })
                        .collect();
                    c.multi(&ops).await.expect("multi of big nodes");
                }
                let _ = c.close().await;
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.expect("big writer");
        }
        let _ = c.close().await;
    });
}

/// Freezes and kills both followers, then kills the leader (which has logged proposals the
/// followers never read), restarts the followers (a quorum without those proposals)
/// and then the old leader. With `writes_meanwhile`, the new epoch commits writes before the old
/// leader is back: its divergent tail is from an older epoch than the new leader's last txn
/// (ZooKeeper sends a SNAP then); without, the new leader's last txn is older than the tail
/// (TRUNC). Returns the acknowledgements and the sync the old leader got.
pub fn lose_the_leaders_tail(
    rt: &Runtime,
    ens: &mut Ensemble,
    root: &str,
    writes_meanwhile: bool,
) -> (Vec<Ack>, String) {
    let (leader, _) = ens.wait_all_serving(SERVE_TIMEOUT);
    // Every writer talks to the leader first: it has proposals in flight at any moment.
    let cs = (0..6).map(|_| ens.connect_string(leader)).collect();
    // Short sessions: those whose close cannot get through (every member down) expire soon.
    let opts = WriterOpts { session_timeout: Duration::from_secs(6), ..WriterOpts::default() };
    let load = Load::start(rt, cs, root, opts);
    load.wait_acked_since(load.started, 300, Duration::from_secs(30), "before the kills");
    // The followers freeze, so the proposals the leader makes from now on reach nobody's log;
    // after a second they die unfrozen, then the leader dies.
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for f in &followers {
        ens.signal(*f, "STOP");
    }
    let frozen = Instant::now();
    while frozen.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in &followers {
        ens.kill(*f);
    }
    ens.kill(leader);
    let mut acks = Vec::new();
    let load = if writes_meanwhile {
        Some(load)
    } else {
        acks.extend(load.stop(rt));
        None
    };
    for f in &followers {
        ens.restart(*f);
    }
    let (_, took) = ens.wait_serving(&followers, SERVE_TIMEOUT);
    if let Some(load) = &load {
        load.wait_acked_since(Instant::now(), 200, Duration::from_secs(30), "after the followers came back");
    }
    ens.restart(leader);
    let (_, back) = ens.wait_all_serving(SERVE_TIMEOUT);
    let kinds = sync_kinds(ens, leader);
    println!(
        "truncate (writes meanwhile: {writes_meanwhile}): all killed; the followers serve {took:?} after their \
         restart; old leader member {} serving {back:?} after its restart ({kinds})",
        leader + 1
    );
    let load = load.unwrap_or_else(|| start_load(rt, ens, 6, root));
    load.wait_acked_since(Instant::now(), 200, Duration::from_secs(30), "after the old leader came back");
    acks.extend(load.stop(rt));
    (acks, kinds)
}

/// A small deterministic generator for the chaos schedule (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}
