//! What the ensemble tests assert once the load has stopped: every member holds every
//! acknowledged write with its data and zxid, the nodes nobody acknowledged carry the data their
//! writer would have written, and every member's tree is the same (paths, data and full stat,
//! read through a client after `sync`, and the `hash` digests at the zxids all members logged).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rzk_client::{Client, Stat};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::cluster::Ensemble;
use super::load::{Ack, EPHEMERALS_SUFFIX, expected_data};

/// A tree as one member's client sees it: path → (data, stat).
pub type Dump = BTreeMap<String, (Option<Vec<u8>>, Stat)>;

/// How long a writer session's ephemeral may outlive the load (a session whose close did not get
/// through expires after its 20 s timeout).
const EPHEMERALS_GONE_MAX: Duration = Duration::from_secs(40);

/// Requests in flight while dumping.
const DUMP_IN_FLIGHT_MAX: usize = 128;

/// Reads every node of the member at `addr` (after `sync`), the children of a node in parallel.
pub async fn dump(addr: &str) -> Dump {
    let c = Client::builder(addr, Duration::from_secs(30))
        .request_timeout(Duration::from_secs(20))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {addr} for a dump: {e}"));
    c.sync("/").await.unwrap_or_else(|e| panic!("sync on {addr}: {e}"));
    let mut out = Dump::new();
    let mut level = vec!["/".to_owned()];
    while !level.is_empty() {
        let mut next = Vec::new();
        for chunk in level.chunks(DUMP_IN_FLIGHT_MAX) {
            let mut set = JoinSet::new();
            for p in chunk {
                let (c, p) = (c.clone(), p.clone());
                set.spawn(async move {
                    let (data, stat) =
                        c.get_data_nullable(&p, false).await.unwrap_or_else(|e| panic!("get {p}: {e}"));
                    let children = if stat.num_children > 0 {
                        c.get_children(&p, false).await.unwrap_or_else(|e| panic!("ls {p}: {e}"))
                    } else {
                        Vec::new()
                    };
                    (p, data.map(|d| d.to_vec()), stat, children)
                });
            }
            while let Some(r) = set.join_next().await {
                let (p, data, mut stat, children) = r.expect("dump task");
                if p == rzk_client::CONFIG_NODE {
                    // Each member sets it from its own clock at start-up
                    // (`ZKDatabase.initConfigInZKDatabase`).
                    stat.mtime = 0;
                }
                for ch in children {
                    next.push(if p == "/" { format!("/{ch}") } else { format!("{p}/{ch}") });
                }
                out.insert(p, (data, stat));
            }
        }
        level = next;
    }
    let _ = c.close().await;
    out
}

/// The first differences between two dumps.
pub fn diff(a_name: &str, a: &Dump, b_name: &str, b: &Dump) -> Vec<String> {
    let mut out = Vec::new();
    for (p, x) in a {
        match b.get(p) {
            None => out.push(format!("{p} only on {a_name}")),
            Some(y) if x != y => out.push(format!("{p}: {a_name} {x:?}\n     {b_name} {y:?}")),
            _ => {}
        }
    }
    for p in b.keys().filter(|p| !a.contains_key(*p)) {
        out.push(format!("{p} only on {b_name}"));
    }
    out.truncate(20);
    out
}

/// `hash` lines (zxid → digest).
fn digests(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": ").map(|(z, d)| (z.trim().to_owned(), d.trim().to_owned())))
        .collect()
}

/// Every running member at the same zxid, with the same tree (and the same digests where they
/// logged one for the same zxid), holding every acknowledged write. Returns the number of
/// nodes under `roots` that were never acknowledged (writes whose answer was lost).
pub fn assert_converged(rt: &Runtime, ens: &Ensemble, acks: &[Ack], roots: &[&str]) -> usize {
    for r in roots {
        wait_no_ephemerals(rt, ens, &format!("{r}{EPHEMERALS_SUFFIX}"));
    }
    let zxid = ens.wait_same_zxid(Duration::from_secs(30));
    let members = ens.alive();
    assert_eq!(members.len(), ens.len(), "{}: check with every member running", ens.name);

    let dumps: Vec<Dump> = members.iter().map(|i| rt.block_on(dump(&ens.addr(*i)))).collect();
    for (k, d) in dumps.iter().enumerate() {
        let lost: Vec<String> = acks
            .iter()
            .filter_map(|a| match d.get(&a.path) {
                Some((Some(data), stat)) if *data == expected_data(&a.path) && stat.czxid == a.zxid => None,
                other => Some(format!("{} (acked at zxid 0x{:x}): {other:?}", a.path, a.zxid)),
            })
            .collect();
        assert!(
            lost.is_empty(),
            "{}: member {} lost {} of {} acknowledged writes, e.g.\n{}",
            ens.name,
            k + 1,
            lost.len(),
            acks.len(),
            lost[..lost.len().min(10)].join("\n")
        );
    }
    for (k, d) in dumps.iter().enumerate().skip(1) {
        let diffs = diff("member 1", &dumps[0], &format!("member {}", k + 1), d);
        assert!(diffs.is_empty(), "{}: trees differ at zxid 0x{zxid:x}:\n{}", ens.name, diffs.join("\n"));
    }
    // Digests at the zxids every member logged.
    let hashes: Vec<BTreeMap<String, String>> =
        members.iter().map(|i| digests(&ens.word(*i, "hash").unwrap_or_default())).collect();
    let mut compared = 0;
    for (z, d) in &hashes[0] {
        if hashes.iter().all(|h| h.contains_key(z)) {
            compared += 1;
            for (k, h) in hashes.iter().enumerate() {
                assert_eq!(
                    &h[z],
                    d,
                    "{}: member {} digest at zxid {z} differs from member 1",
                    ens.name,
                    k + 1
                );
            }
        }
    }

    let acked: std::collections::HashSet<&str> = acks.iter().map(|a| a.path.as_str()).collect();
    let mut unacked = 0;
    for (p, (data, _)) in &dumps[0] {
        let writer_node = |r: &&str| p.strip_prefix(&format!("{r}/")).is_some_and(|n| n.starts_with('w'));
        if roots.iter().any(writer_node) {
            assert_eq!(
                data.as_deref(),
                Some(&expected_data(p)[..]),
                "{}: {p} has data nobody wrote",
                ens.name
            );
            if !acked.contains(p.as_str()) {
                unacked += 1;
            }
        }
    }
    println!(
        "{}: {} members identical at zxid 0x{zxid:x} ({} nodes, {} digests compared); {} acknowledged writes on \
         every member, {unacked} unacknowledged ones applied",
        ens.name,
        members.len(),
        dumps[0].len(),
        compared,
        acks.len()
    );
    unacked
}

/// Polls (after `sync`, on the first member) until the writers' ephemerals are gone: at once
/// when every session was closed, after its timeout for one whose close did not get through.
fn wait_no_ephemerals(rt: &Runtime, ens: &Ensemble, dir: &str) {
    let t = Instant::now();
    rt.block_on(async {
        let c = Client::connect(&ens.addr(0), Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("connect to member 1: {e}"));
        loop {
            c.sync(dir).await.unwrap_or_else(|e| panic!("sync {dir}: {e}"));
            let left = c.get_children(dir, false).await.unwrap_or_else(|e| panic!("ls {dir}: {e}"));
            if left.is_empty() {
                break;
            }
            assert!(
                t.elapsed() < EPHEMERALS_GONE_MAX,
                "{}: ephemerals of closed sessions still there after {EPHEMERALS_GONE_MAX:?}: {left:?}",
                ens.name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = c.close().await;
    });
    if t.elapsed() > Duration::from_secs(1) {
        println!("{}: the writers' ephemerals were gone after {:?}", ens.name, t.elapsed());
    }
}
