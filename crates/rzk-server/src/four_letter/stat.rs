//! `srvr`, `stat` (`StatCommand` + `ServerStats.toString`) and `cons` (`ConsCommand`): server
//! counters and one line per connection as `ServerCnxn.dumpConnectionInfo` prints it.
//!
//! ZooKeeper answers a four-letter word on a connection of its own, which is in its connection
//! list while the command runs: it shows up in `stat`/`cons` as `[0](queued=0,recved=1,sent=0)`
//! and counts in `Connections:`. rzk lists the asking connection the same way, last.

use std::net::SocketAddr;

use rzk_node::Node;

use crate::core::{ConnHandle, Shell};
use crate::four_letter::java;
use crate::four_letter::{full_version, server_state};
use crate::stats::ConnStats;

/// `getInterestOps` of a connection waiting to read (`OP_READ`).
const INTEREST_READ: u8 = 1;

/// `srvr` (no client list) and `stat` (`asking` is the connection asking).
pub fn server_stats(node: &Node, shell: &Shell, asking: Option<&SocketAddr>) -> String {
    let mut out = format!("Zookeeper version: {}\n", full_version());
    if let Some(asking) = asking {
        out.push_str("Clients:\n");
        for c in ordered(shell) {
            out.push_str(&connection_info(&c.stats, true));
            out.push('\n');
        }
        out.push_str(&asking_info(asking));
        out.push_str("\n\n");
    }
    let s = &shell.stats;
    let avg = java::avg4(s.latency.total_ms as i64, s.latency.count);
    out.push_str(&format!(
        "Latency min/avg/max: {}/{}/{}\n",
        s.latency.min_ms,
        java::double(avg),
        s.latency.max_ms
    ));
    out.push_str(&format!("Received: {}\n", s.packets_received));
    out.push_str(&format!("Sent: {}\n", s.packets_sent));
    out.push_str(&format!("Connections: {}\n", shell.conns.len() + 1));
    out.push_str(&format!("Outstanding: {}\n", node.outstanding()));
    out.push_str(&format!("Zxid: 0x{:x}\n", node.tree().last_processed_zxid));
    out.push_str(&format!("Mode: {}\n", server_state(node)));
    // DataTree's node map holds the root twice ("" and "/").
    out.push_str(&format!("Node count: {}\n", node.tree().node_count() + 1));
    out
}

/// `cons`: every connection in full, then an empty line.
pub fn connections(shell: &Shell, asking: &SocketAddr) -> String {
    let mut out = String::new();
    for c in ordered(shell) {
        out.push_str(&connection_info(&c.stats, false));
        out.push('\n');
    }
    out.push_str(&asking_info(asking));
    out.push_str("\n\n");
    out
}

/// Connections in the order they were accepted.
pub fn ordered(shell: &Shell) -> Vec<&ConnHandle> {
    let mut conns: Vec<&ConnHandle> = shell.conns.values().collect();
    conns.sort_by_key(|c| c.stats.established);
    conns
}

/// `dumpConnectionInfo(brief)` of a client connection.
pub fn connection_info(c: &ConnStats, brief: bool) -> String {
    let mut out = format!(
        " {}[{INTEREST_READ}](queued={},recved={},sent={}",
        java::socket_addr(&c.remote),
        c.pending.len(),
        c.received,
        c.sent
    );
    if let Some(sid) = c.session_id.filter(|s| !brief && *s != 0) {
        out.push_str(&format!(
            ",sid=0x{sid:x},lop={},est={},to={}",
            c.last_op, c.established_wall_ms, c.session_timeout_ms
        ));
        if c.last_cxid >= 0 {
            out.push_str(&format!(",lcxid=0x{:x}", c.last_cxid));
        }
        let l = &c.latency;
        let avg = l.total_ms.checked_div(l.count).unwrap_or(0);
        out.push_str(&format!(
            ",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={avg},maxlat={}",
            c.last_zxid, c.last_response_ms, c.last_latency_ms, l.min_ms, l.max_ms
        ));
    }
    out.push(')');
    out
}

/// The asking four-letter-word connection: deselected (interest 0), one packet received.
pub fn asking_info(remote: &SocketAddr) -> String {
    format!(" {}[0](queued=0,recved=1,sent=0)", java::socket_addr(remote))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> ConnStats {
        let mut c = ConnStats::new("127.0.0.1:42074".parse().unwrap(), 1_795_371_799_250);
        c.received = 7;
        c.sent = 7;
        c
    }

    #[test]
    fn brief_lines_match_stat() {
        assert_eq!(connection_info(&conn(), true), " /127.0.0.1:42074[1](queued=0,recved=7,sent=7)");
        assert_eq!(
            asking_info(&"127.0.0.1:59846".parse().unwrap()),
            " /127.0.0.1:59846[0](queued=0,recved=1,sent=0)"
        );
    }

    #[test]
    fn full_lines_match_cons() {
        let mut c = conn();
        // Before the session exists the line is the brief one.
        assert_eq!(connection_info(&c, false), " /127.0.0.1:42074[1](queued=0,recved=7,sent=7)");
        c.session_id = Some(0x0100_0011_4f14_0002);
        c.session_timeout_ms = 30000;
        for ms in [2, 0, 0, 0, 0, 0] {
            c.replied("GETD", 5, 0x10, ms, 1);
        }
        c.replied("GETC", 6, 0x10, 0, 1_270_782);
        assert_eq!(
            connection_info(&c, false),
            " /127.0.0.1:42074[1](queued=0,recved=7,sent=7,sid=0x10000114f140002,lop=GETC,\
             est=1795371799250,to=30000,lcxid=0x6,lzxid=0x10,lresp=1270782,llat=0,minlat=0,avglat=0,maxlat=2)"
        );
        // Negative xids (pings) leave lcxid alone; a reset connection has none.
        c.reset();
        c.replied("PING", -2, 0x10, 0, 5);
        assert!(!connection_info(&c, false).contains("lcxid"));
    }
}
