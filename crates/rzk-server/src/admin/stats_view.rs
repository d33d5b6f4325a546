//! `server_stats`/`stats` (`SrvrCommand`, `StatCommand`: Jackson's view of `ServerStats` and
//! `BufferStats`) and `connections` (`ServerCnxn.getConnectionInfo`), from the same counters the
//! four-letter words print. An admin request is not a client connection: unlike `stat` and `cons`,
//! these list only the client connections.

use rzk_node::Node;

use crate::admin::json::Json;
use crate::admin::response::Response;
use crate::core::Shell;
use crate::four_letter::host::HostFacts;
use crate::four_letter::{SERVER_STATE, full_version, java, stat};
use crate::metrics::BufferStats;
use crate::stats::ConnStats;

/// `getInterestOps` of a connection waiting to read (`OP_READ`).
const INTEREST_READ: i64 = 1;

/// `server_stats` (and, with `connections`, `stats`).
pub fn server_stats(node: &Node, shell: &Shell, facts: &HostFacts, r: &mut Response) {
    let s = &shell.stats;
    let n = |v: u64| Json::Int(v as i64);
    let stats: Vec<(String, Json)> = vec![
        ("packets_sent".into(), n(s.packets_sent)),
        ("packets_received".into(), n(s.packets_received)),
        ("fsync_threshold_exceed_count".into(), n(s.fsync_threshold_exceeded)),
        ("client_response_stats".into(), buffer_stats(&s.client_response)),
        // ServerStats' data_dir_size is the txn-log dir and log_dir_size the snapshot dir (see
        // four_letter::conf).
        ("data_dir_size".into(), n(facts.log_dir_bytes)),
        ("log_dir_size".into(), n(facts.snap_dir_bytes)),
        ("provider_null".into(), Json::Bool(false)),
        ("server_state".into(), Json::str(SERVER_STATE)),
        ("last_processed_zxid".into(), Json::Int(node.tree().last_processed_zxid)),
        ("outstanding_requests".into(), n(node.outstanding() as u64)),
        ("avg_latency".into(), Json::Double(java::avg4(s.latency.total_ms as i64, s.latency.count))),
        ("max_latency".into(), n(s.latency.max_ms)),
        ("min_latency".into(), n(s.latency.min_ms)),
        ("num_alive_client_connections".into(), n(shell.conns.len() as u64)),
        ("uptime".into(), n(shell.started.elapsed().as_millis() as u64)),
        ("auth_failed_count".into(), n(s.auth_failed)),
        // rzk has no TLS port: every connection is a non-mTLS one, and none is counted.
        ("non_mtlsremote_conn_count".into(), Json::Int(0)),
        ("non_mtlslocal_conn_count".into(), Json::Int(0)),
    ];
    r.put("version", full_version());
    r.put("read_only", false);
    r.put("server_stats", stats);
    r.put("client_response", buffer_stats(&s.client_response));
    // DataTree's node map holds the root twice ("" and "/").
    r.put("node_count", (node.tree().node_count() + 1) as i64);
}

/// `stats`: `server_stats` plus the brief connection list.
pub fn stats(node: &Node, shell: &Shell, facts: &HostFacts, r: &mut Response) {
    server_stats(node, shell, facts, r);
    r.put("connections", connection_list(shell, true));
    r.put("secure_connections", Json::Arr(Vec::new()));
}

/// `connections`: every client connection in full.
pub fn connections(shell: &Shell, r: &mut Response) {
    r.put("connections", connection_list(shell, false));
    r.put("secure_connections", Json::Arr(Vec::new()));
}

fn connection_list(shell: &Shell, brief: bool) -> Json {
    Json::Arr(stat::ordered(shell).iter().map(|c| connection_info(&c.stats, brief)).collect())
}

/// `ServerCnxn.getConnectionInfo(brief)`.
pub fn connection_info(c: &ConnStats, brief: bool) -> Json {
    let n = |v: u64| Json::Int(v as i64);
    let mut f: Vec<(String, Json)> = vec![
        ("remote_socket_address".into(), Json::str(jackson_socket_addr(&c.remote))),
        ("interest_ops".into(), Json::Int(INTEREST_READ)),
        ("outstanding_requests".into(), n(c.pending.len() as u64)),
        ("packets_received".into(), n(c.received)),
        ("packets_sent".into(), n(c.sent)),
    ];
    if !brief {
        let l = &c.latency;
        f.extend([
            ("session_id".into(), Json::Int(c.session_id.unwrap_or(0))),
            ("last_operation".into(), Json::str(c.last_op)),
            // A java.util.Date: Jackson writes the epoch milliseconds.
            ("established".into(), Json::Int(c.established_wall_ms)),
            ("session_timeout".into(), Json::Int(i64::from(c.session_timeout_ms))),
            ("last_cxid".into(), Json::Int(i64::from(c.last_cxid))),
            ("last_zxid".into(), Json::Int(c.last_zxid)),
            ("last_response_time".into(), Json::Int(c.last_response_ms)),
            ("last_latency".into(), n(c.last_latency_ms)),
            ("min_latency".into(), n(l.min_ms)),
            ("avg_latency".into(), n(l.total_ms.checked_div(l.count).unwrap_or(0))),
            ("max_latency".into(), n(l.max_ms)),
        ]);
    }
    Json::Obj(f)
}

/// Jackson's `InetSocketAddressSerializer`: the address without `InetAddress.toString`'s slash,
/// IPv6 in brackets, then `:port`.
pub fn jackson_socket_addr(a: &std::net::SocketAddr) -> String {
    let s = java::socket_addr(a);
    s.strip_prefix('/').unwrap_or(&s).to_owned()
}

fn buffer_stats(b: &BufferStats) -> Json {
    Json::Obj(vec![
        ("last_buffer_size".into(), Json::Int(b.last)),
        ("min_buffer_size".into(), Json::Int(b.min)),
        ("max_buffer_size".into(), Json::Int(b.max)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_info_has_zookeepers_fields() {
        let mut c = ConnStats::new("127.0.0.1:39028".parse().unwrap(), 1_795_377_461_154);
        c.session_id = Some(72058047290343424);
        c.replied("GETC", 5, 5, 2, 6932721);
        let Json::Obj(full) = connection_info(&c, false) else { panic!("not an object") };
        let keys: Vec<&str> = full.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "remote_socket_address",
                "interest_ops",
                "outstanding_requests",
                "packets_received",
                "packets_sent",
                "session_id",
                "last_operation",
                "established",
                "session_timeout",
                "last_cxid",
                "last_zxid",
                "last_response_time",
                "last_latency",
                "min_latency",
                "avg_latency",
                "max_latency"
            ]
        );
        assert_eq!(full[0].1, Json::str("127.0.0.1:39028"));
        let Json::Obj(brief) = connection_info(&c, true) else { panic!("not an object") };
        assert_eq!(brief.len(), 5);
        assert_eq!(jackson_socket_addr(&"[::1]:5".parse().unwrap()), "[0:0:0:0:0:0:0:1]:5");
    }
}
