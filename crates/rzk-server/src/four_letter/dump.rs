//! `dump` (`DumpCommand`): the session tracker's expiry queue (`SessionTrackerImpl.dumpSessions`
//! → `ExpiryQueue.dump`), the ephemeral nodes per session (`DataTree.dumpEphemerals`) and, as
//! the NIO connection factory adds, its idle-connection expiry queue (`dumpConnections`).
//!
//! Expiry times are monotonic; ZooKeeper prints them as dates (`Time.elapsedTimeToDate`), and
//! so does rzk, in UTC. Members of a set are listed by id (Java: identity-hash order); the
//! ephemeral listing's sessions and paths in Java's `ConcurrentHashMap`/`HashSet` order (the
//! tree keeps each session's paths in Java's order).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use rzk_node::Node;

use crate::core::{Shell, wall_ms};
use crate::four_letter::java::{self, JavaMap};
use crate::four_letter::stat;

/// `zookeeper.nio.sessionlessCnxnTimeout`: the idle limit of a connection without a session,
/// and the bucket width of the connection expiry queue.
pub const SESSIONLESS_CNXN_TIMEOUT_MS: i64 = 10_000;

pub fn dump(node: &Node, shell: &Shell, asking: &SocketAddr) -> String {
    let clock = Clock { now_elapsed_ms: shell.started.elapsed().as_millis() as i64, now_wall_ms: wall_ms() };
    let mut out = String::from("SessionTracker dump:\n");
    sessions(node, &clock, &mut out);
    out.push_str("ephemeral nodes dump:\n");
    ephemerals(node, &mut out);
    out.push_str("Connections dump:\n");
    connections(shell, asking, &clock, &mut out);
    out
}

/// Converts the core's monotonic ms to wall-clock ms (`Time.elapsedTimeToDate`).
struct Clock {
    now_elapsed_ms: i64,
    now_wall_ms: i64,
}

impl Clock {
    fn date(&self, elapsed_ms: i64) -> String {
        java::date_utc(self.now_wall_ms - self.now_elapsed_ms + elapsed_ms)
    }
}

/// `ExpiryQueue.dump` after its prefix: `Sets (buckets)/(members):`, then each bucket.
fn expiry_sets(buckets: &BTreeMap<i64, Vec<String>>, members: usize, clock: &Clock, out: &mut String) {
    out.push_str(&format!("Sets ({})/({members}):\n", buckets.len()));
    for (at, set) in buckets {
        out.push_str(&format!("{} expire at {}:\n", set.len(), clock.date(*at)));
        for m in set {
            out.push_str(&format!("\t{m}\n"));
        }
    }
}

fn sessions(node: &Node, clock: &Clock, out: &mut String) {
    let buckets: BTreeMap<i64, Vec<String>> = node
        .sessions()
        .buckets()
        .map(|(at, ids)| (at, ids.iter().map(|id| format!("0x{id:x}")).collect()))
        .collect();
    out.push_str("Session ");
    expiry_sets(&buckets, node.sessions().len(), clock, out);
}

fn ephemerals(node: &Node, out: &mut String) {
    let by_session = node.tree().ephemerals_by_session();
    out.push_str(&format!("Sessions with Ephemerals ({}):\n", by_session.len()));
    for session in java::long_order(by_session.keys().copied(), JavaMap::Concurrent) {
        out.push_str(&format!("0x{session:x}:\n"));
        for path in node.tree().ephemerals_java_order(session) {
            out.push_str(&format!("\t{path}\n"));
        }
    }
}

/// Each connection expires `timeout` after its last read or write: the session timeout once
/// it has a session, [`SESSIONLESS_CNXN_TIMEOUT_MS`] before (and for the asking connection).
fn connections(shell: &Shell, asking: &SocketAddr, clock: &Clock, out: &mut String) {
    let round_up = |t: i64| (t / SESSIONLESS_CNXN_TIMEOUT_MS + 1) * SESSIONLESS_CNXN_TIMEOUT_MS;
    let mut buckets: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let conns = stat::ordered(shell);
    for c in &conns {
        let s = &c.stats;
        let idle_ms = s.last_touch.elapsed().as_millis() as i64;
        let session = s.session_id.unwrap_or(0);
        let timeout =
            if session != 0 { i64::from(s.session_timeout_ms) } else { SESSIONLESS_CNXN_TIMEOUT_MS };
        let at = round_up(clock.now_elapsed_ms - idle_ms + timeout);
        buckets.entry(at).or_default().push(cnxn_name(&s.remote, session));
    }
    let at = round_up(clock.now_elapsed_ms + SESSIONLESS_CNXN_TIMEOUT_MS);
    buckets.entry(at).or_default().push(cnxn_name(asking, 0));
    out.push_str("Connections ");
    expiry_sets(&buckets, conns.len() + 1, clock, out);
}

/// `NIOServerCnxn.toString`.
fn cnxn_name(remote: &SocketAddr, session: i64) -> String {
    format!("ip: {} sessionId: 0x{session:x}", java::socket_addr(remote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_sets_print_as_expiry_queue_dump() {
        let clock = Clock { now_elapsed_ms: 1_000, now_wall_ms: 1_795_371_716_000 };
        let mut buckets = BTreeMap::new();
        buckets.insert(1_000, vec!["0x1".to_owned(), "0x2".to_owned()]);
        let mut out = String::new();
        expiry_sets(&buckets, 2, &clock, &mut out);
        assert_eq!(out, "Sets (1)/(2):\n2 expire at Sun Nov 22 18:21:56 UTC 2026:\n\t0x1\n\t0x2\n");
    }

    #[test]
    fn connection_names_match_nio_server_cnxn() {
        let remote: SocketAddr = "127.0.0.1:59250".parse().unwrap();
        assert_eq!(cnxn_name(&remote, 0), "ip: /127.0.0.1:59250 sessionId: 0x0");
    }
}
