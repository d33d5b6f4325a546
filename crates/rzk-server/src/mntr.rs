//! ZooKeeper 3.8's monitoring metrics: every name `mntr` prints in standalone mode, in the order
//! the reference server prints them (`ZooKeeperServer.dumpMonitorValues`, then the
//! `DefaultMetricsProvider`'s gauges, gauge sets, counters and summaries, each group in its
//! `ConcurrentHashMap` order), with rzk's values. The Prometheus endpoint is meant to reuse
//! [`collect`] and [`METRICS`].
//!
//! Values rzk measures are real. Names rzk does not measure yet are still printed, with zero
//! values, so dashboards find them; they are listed in [`NOT_MEASURED`]. The per-namespace
//! summary sets (`<ns>_read_per_namespace`, `<ns>_write_per_namespace`) appear in ZooKeeper
//! only after traffic under a namespace; rzk does not measure them and does not print them.

use rzk_node::Node;
use rzk_tree::DataTree;
use rzk_tree::quota::{LIMIT_NODE, QUOTA_ROOT, STAT_NODE, StatsTrack, trim_quota_path};

use crate::core::Shell;
use crate::four_letter::java::{self, JavaMap};
use crate::four_letter::{full_version, server_state};
use crate::metrics::{Percentiles, Summary};

/// How a metric is kept (and so which lines it prints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A text value (`version`, `server_state`).
    Info,
    Gauge,
    Counter,
    /// `avg_`, `min_`, `max_`, `cnt_`, `sum_` + name.
    Summary,
    /// A summary plus `p50_`, `p95_`, `p99_`, `p999_` + name.
    Percentiles,
}

use Kind::{Counter, Gauge, Info, Percentiles as Pct, Summary as Sum};

/// Every metric of a standalone ZooKeeper 3.8, in `mntr` order.
pub const METRICS: [(&str, Kind); 137] = [
    ("version", Info),
    ("server_state", Info),
    ("ephemerals_count", Gauge),
    ("num_alive_connections", Gauge),
    ("avg_latency", Gauge),
    ("outstanding_requests", Gauge),
    ("znode_count", Gauge),
    ("global_sessions", Gauge),
    ("non_mtls_remote_conn_count", Gauge),
    ("last_client_response_size", Gauge),
    ("packets_sent", Gauge),
    ("packets_received", Gauge),
    ("max_client_response_size", Gauge),
    ("connection_drop_probability", Gauge),
    ("watch_count", Gauge),
    ("auth_failed_count", Gauge),
    ("min_latency", Gauge),
    ("max_file_descriptor_count", Gauge),
    ("approximate_data_size", Gauge),
    ("open_file_descriptor_count", Gauge),
    ("local_sessions", Gauge),
    ("uptime", Gauge),
    ("max_latency", Gauge),
    ("outstanding_tls_handshake", Gauge),
    ("min_client_response_size", Gauge),
    ("non_mtls_local_conn_count", Gauge),
    ("proposal_count", Counter),
    ("watch_bytes", Counter),
    ("outstanding_changes_removed", Counter),
    ("throttled_ops", Counter),
    ("stale_requests_dropped", Counter),
    ("large_requests_rejected", Counter),
    ("insecure_admin_count", Counter),
    ("connection_rejected", Counter),
    ("cnxn_closed_without_zk_server_running", Counter),
    ("sessionless_connections_expired", Counter),
    ("looking_count", Counter),
    ("dead_watchers_queued", Counter),
    ("stale_requests", Counter),
    ("connection_drop_count", Counter),
    ("learner_proposal_received_count", Counter),
    ("digest_mismatches_count", Counter),
    ("dead_watchers_cleared", Counter),
    ("response_packet_cache_hits", Counter),
    ("bytes_received_count", Counter),
    ("add_dead_watcher_stall_time", Counter),
    ("request_throttle_wait_count", Counter),
    ("requests_not_forwarded_to_commit_processor", Counter),
    ("response_packet_cache_misses", Counter),
    ("ensemble_auth_success", Counter),
    ("prep_processor_request_queued", Counter),
    ("learner_commit_received_count", Counter),
    ("stale_replies", Counter),
    ("connection_request_count", Counter),
    ("response_bytes", Counter),
    ("ensemble_auth_fail", Counter),
    ("diff_count", Counter),
    ("response_packet_get_children_cache_misses", Counter),
    ("connection_revalidate_count", Counter),
    ("quit_leading_due_to_disloyal_voter", Counter),
    ("snap_count", Counter),
    ("unrecoverable_error_count", Counter),
    ("unsuccessful_handshake", Counter),
    ("commit_count", Counter),
    ("stale_sessions_expired", Counter),
    ("response_packet_get_children_cache_hits", Counter),
    ("sync_processor_request_queued", Counter),
    ("outstanding_changes_queued", Counter),
    ("request_commit_queued", Counter),
    ("ensemble_auth_skip", Counter),
    ("skip_learner_request_to_next_processor_count", Counter),
    ("tls_handshake_exceeded", Counter),
    ("revalidate_count", Counter),
    ("socket_closing_time", Sum),
    ("proposal_process_time", Sum),
    ("leader_unavailable_time", Sum),
    ("node_created_watch_count", Sum),
    ("session_queues_drained", Sum),
    ("write_commit_proc_req_queued", Sum),
    ("connection_token_deficit", Sum),
    ("read_commit_proc_req_queued", Sum),
    ("node_deleted_watch_count", Sum),
    ("startup_txns_load_time", Sum),
    ("sync_processor_queue_size", Sum),
    ("follower_sync_time", Sum),
    ("prep_processor_queue_size", Sum),
    ("fsynctime", Sum),
    ("inflight_snap_count", Sum),
    ("reads_issued_from_session_queue", Sum),
    ("learner_request_processor_queue_size", Sum),
    ("snapshottime", Sum),
    ("unavailable_time", Sum),
    ("startup_txns_loaded", Sum),
    ("reads_after_write_in_session_queue", Sum),
    ("requests_in_session_queue", Sum),
    ("write_commit_proc_issued", Sum),
    ("prep_process_time", Sum),
    ("pending_session_queue_size", Sum),
    ("time_waiting_empty_pool_in_commit_processor_read_ms", Sum),
    ("commit_process_time", Sum),
    ("dbinittime", Sum),
    ("inflight_diff_count", Sum),
    ("netty_queued_buffer_capacity", Sum),
    ("election_time", Sum),
    ("commit_commit_proc_req_queued", Sum),
    ("sync_processor_batch_size", Sum),
    ("node_children_watch_count", Sum),
    ("write_batch_time_in_commit_processor", Sum),
    ("read_commit_proc_issued", Sum),
    ("concurrent_request_processing_in_commit_processor", Sum),
    ("observer_sync_time", Sum),
    ("node_changed_watch_count", Sum),
    ("sync_process_time", Sum),
    ("startup_snap_load_time", Sum),
    ("prep_processor_queue_time_ms", Pct),
    ("jvm_pause_time_ms", Pct),
    ("close_session_prep_time", Pct),
    ("read_commitproc_time_ms", Pct),
    ("updatelatency", Pct),
    ("local_write_committed_time_ms", Pct),
    ("request_throttle_queue_time_ms", Pct),
    ("readlatency", Pct),
    ("quorum_ack_latency", Pct),
    ("om_commit_process_time_ms", Pct),
    ("read_final_proc_time_ms", Pct),
    ("commit_propagation_latency", Pct),
    ("dead_watchers_cleaner_latency", Pct),
    ("write_final_proc_time_ms", Pct),
    ("proposal_ack_creation_latency", Pct),
    ("proposal_latency", Pct),
    ("om_proposal_process_time_ms", Pct),
    ("sync_processor_queue_and_flush_time_ms", Pct),
    ("propagation_latency", Pct),
    ("server_write_committed_time_ms", Pct),
    ("sync_processor_queue_time_ms", Pct),
    ("sync_processor_queue_flush_time_ms", Pct),
    ("write_commitproc_time_ms", Pct),
];

/// The names above whose values rzk does not measure (yet) and prints as zero. Most belong to
/// parts rzk does not have: a quorum (proposals, learners, elections, syncs), the commit
/// processor's queues and worker pool, request throttling, response caches, the watcher
/// cleaner, snapshots, the JVM, Netty and TLS.
pub const NOT_MEASURED: [&str; 99] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "unavailable_time",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

/// Gauges that are zero because rzk lacks the feature they count (TLS, local sessions,
/// connection throttling), not because they are unmeasured.
pub const ZERO_BY_DESIGN: [&str; 5] = [
    "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
    "outstanding_tls_handshake",
    "local_sessions",
    "connection_drop_probability",
];

/// The quota gauge sets (`QuotaMetricsUtils`), printed as `<namespace>_<name>` after the gauges,
/// in this order.
const QUOTA_SETS: [(&str, QuotaValue); 4] = [
    ("quota_bytes_limit_per_namespace", QuotaValue::BytesLimit),
    ("quota_count_usage_per_namespace", QuotaValue::CountUsage),
    ("quota_count_limit_per_namespace", QuotaValue::CountLimit),
    ("quota_bytes_usage_per_namespace", QuotaValue::BytesUsage),
];

#[derive(Debug, Clone, Copy)]
enum QuotaValue {
    CountLimit,
    BytesLimit,
    CountUsage,
    BytesUsage,
}

/// A metric value, printed as `MonitorCommand` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Long(i64),
    Double(f64),
}

impl Value {
    /// Longs and ints as decimals, other numbers as `Double.toString`.
    pub fn java(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Long(v) => v.to_string(),
            Value::Double(v) => java::double(*v),
        }
    }
}

/// What the metrics are read from besides the node and the shell: facts of the process that the
/// shell gathers off the core thread, and connections ZooKeeper would count that the core does
/// not hold (the four-letter-word connection asking).
#[derive(Debug, Clone, Copy)]
pub struct Extras {
    pub extra_connections: usize,
    /// −1 when unknown.
    pub open_fds: i64,
    pub max_fds: i64,
}

/// The gauges of a quorum leader in `mntr` order (the standalone ones with `LeaderZooKeeperServer`
/// and `QuorumZooKeeperServer`'s interleaved, as the metrics map orders them).
const LEADER_GAUGES: [&str; 34] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "min_proposal_size",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_proposal_size",
    "max_client_response_size",
    "synced_followers",
    "connection_drop_probability",
    "watch_count",
    "synced_non_voting_followers",
    "synced_observers",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "last_proposal_size",
    "pending_syncs",
    "leader_uptime",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "learners",
    "min_client_response_size",
    "non_mtls_local_conn_count",
    "quorum_size",
];

/// The standalone gauges, then `quorum_size`: a follower's or observer's gauges in `mntr` order.
const LEARNER_EXTRA_GAUGES: [&str; 1] = ["quorum_size"];

/// Every metric, in `mntr` order, named without the `zk_` prefix.
pub fn collect(node: &Node, shell: &Shell, extras: Extras) -> Vec<(String, Value)> {
    let mut out = Vec::with_capacity(METRICS.len() * 5);
    let mut sets_done = false;
    let quorum = node.quorum_gauges();
    if let Some(q) = &quorum {
        // version and server_state, then QuorumZooKeeperServer's peer_state, then the gauges.
        out.push(("version".to_owned(), gauge("version", node, shell, extras)));
        out.push(("server_state".to_owned(), gauge("server_state", node, shell, extras)));
        out.push(("peer_state".to_owned(), Value::Text(q.peer_state.clone())));
        let names: Vec<&str> = match &q.leader {
            Some(_) => LEADER_GAUGES.to_vec(),
            None => METRICS
                .iter()
                .filter(|(_, k)| *k == Gauge)
                .map(|(n, _)| *n)
                .chain(LEARNER_EXTRA_GAUGES)
                .collect(),
        };
        for name in names {
            let v = quorum_gauge(name, q).unwrap_or_else(|| gauge(name, node, shell, extras));
            out.push((name.to_owned(), v));
        }
    }
    for (name, kind) in METRICS {
        if quorum.is_some() && (kind == Info || kind == Gauge) {
            continue;
        }
        if kind != Info && kind != Gauge && !sets_done {
            quota_sets(node.tree(), &mut out);
            sets_done = true;
        }
        match kind {
            Info | Gauge => out.push((name.to_owned(), gauge(name, node, shell, extras))),
            Counter => out.push((name.to_owned(), Value::Long(counter(name, shell) as i64))),
            Sum => {
                let empty = Summary::default();
                summary(name, shell.stats.metrics.summary(name).unwrap_or(&empty), &mut out);
            }
            Pct => {
                let empty = Percentiles::default();
                percentiles(name, shell.stats.metrics.percentiles(name).unwrap_or(&empty), &mut out);
            }
        }
    }
    out
}

/// A quorum-only gauge's value.
fn quorum_gauge(name: &str, q: &rzk_node::QuorumGauges) -> Option<Value> {
    let n = |v: usize| Some(Value::Long(v as i64));
    if name == "quorum_size" {
        return n(q.quorum_size);
    }
    let l = q.leader.as_ref()?;
    match name {
        "learners" => n(l.learners),
        "synced_followers" => n(l.synced_followers),
        "synced_non_voting_followers" => n(0),
        "synced_observers" => n(l.synced_observers),
        "pending_syncs" => n(l.pending_syncs),
        "leader_uptime" => Some(Value::Long(l.uptime_ms)),
        "last_proposal_size" => Some(Value::Long(l.proposal_sizes.0)),
        "min_proposal_size" => Some(Value::Long(l.proposal_sizes.1)),
        "max_proposal_size" => Some(Value::Long(l.proposal_sizes.2)),
        _ => None,
    }
}

fn gauge(name: &str, node: &Node, shell: &Shell, extras: Extras) -> Value {
    let tree = node.tree();
    let stats = &shell.stats;
    let n = |v: usize| Value::Long(v as i64);
    match name {
        "version" => Value::Text(full_version()),
        "server_state" => Value::Text(server_state(node).to_owned()),
        "ephemerals_count" => n(tree.ephemeral_count()),
        "num_alive_connections" => n(shell.conns.len() + extras.extra_connections),
        "avg_latency" => Value::Double(java::avg4(stats.latency.total_ms as i64, stats.latency.count)),
        "min_latency" => Value::Long(stats.latency.min_ms as i64),
        "max_latency" => Value::Long(stats.latency.max_ms as i64),
        "outstanding_requests" => n(node.outstanding()),
        // DataTree's node map holds the root twice ("" and "/").
        "znode_count" => n(tree.node_count() + 1),
        "global_sessions" => n(tree.sessions.len()),
        "last_client_response_size" => Value::Long(stats.client_response.last),
        "min_client_response_size" => Value::Long(stats.client_response.min),
        "max_client_response_size" => Value::Long(stats.client_response.max),
        "packets_sent" => Value::Long(stats.packets_sent as i64),
        "packets_received" => Value::Long(stats.packets_received as i64),
        "connection_drop_probability" => Value::Double(0.0),
        "watch_count" => n(tree.watch_count()),
        "auth_failed_count" => Value::Long(stats.auth_failed as i64),
        "max_file_descriptor_count" => Value::Long(extras.max_fds),
        "open_file_descriptor_count" => Value::Long(extras.open_fds),
        "approximate_data_size" => Value::Long(tree.approximate_data_size()),
        "uptime" => Value::Long(shell.started.elapsed().as_millis() as i64),
        _ => Value::Long(0),
    }
}

fn counter(name: &str, shell: &Shell) -> u64 {
    if name == "bytes_received_count" {
        return shell.shared.bytes_received();
    }
    shell.stats.metrics.counter(name).unwrap_or(0)
}

fn summary(name: &str, s: &Summary, out: &mut Vec<(String, Value)>) {
    out.push((format!("avg_{name}"), Value::Double(s.avg())));
    out.push((format!("min_{name}"), Value::Long(s.min())));
    out.push((format!("max_{name}"), Value::Long(s.max())));
    out.push((format!("cnt_{name}"), Value::Long(s.count as i64)));
    out.push((format!("sum_{name}"), Value::Long(s.total)));
}

fn percentiles(name: &str, p: &Percentiles, out: &mut Vec<(String, Value)>) {
    summary(name, &p.summary, out);
    for (label, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)] {
        out.push((format!("{label}_{name}"), Value::Long(p.quantile(q))));
    }
}

/// `QuotaMetricsUtils`: per top-level namespace, the limits and usage of every quota under it.
fn quota_sets(tree: &DataTree, out: &mut Vec<(String, Value)>) {
    let mut leaves = Vec::new();
    quota_leaves(tree, QUOTA_ROOT, &mut leaves);
    for (set, which) in QUOTA_SETS {
        let mut sums: Vec<(String, i64)> = Vec::new();
        for (path, track) in &leaves {
            let is_limit = path.ends_with(&format!("/{LIMIT_NODE}"));
            let is_stat = path.ends_with(&format!("/{STAT_NODE}"));
            let v = match which {
                QuotaValue::CountLimit if is_limit => hard_or_soft(track.count_hard_limit(), track.count()),
                QuotaValue::BytesLimit if is_limit => hard_or_soft(track.byte_hard_limit(), track.bytes()),
                QuotaValue::CountUsage if is_stat => track.count(),
                QuotaValue::BytesUsage if is_stat => track.bytes(),
                _ => continue,
            };
            let Some(ns) = top_namespace(trim_quota_path(path)) else { continue };
            match sums.iter_mut().find(|(n, _)| n == ns) {
                Some(e) => e.1 += v,
                None => sums.push((ns.to_owned(), v)),
            }
        }
        let keyed = sums.into_iter().map(|(ns, v)| (java::string_hash(&ns), (ns, v))).collect();
        for (ns, v) in java::hash_order(keyed, JavaMap::Concurrent) {
            out.push((format!("{ns}_{set}"), Value::Long(v)));
        }
    }
}

/// The leaves of the quota subtree, with their data parsed as `StatsTrack`s.
fn quota_leaves(tree: &DataTree, path: &str, out: &mut Vec<(String, StatsTrack)>) {
    let Some(node) = tree.node(path) else { return };
    if node.children.is_empty() {
        if let Some(data) = node.data() {
            out.push((path.to_owned(), StatsTrack::parse(data)));
        }
        return;
    }
    for child in tree.child_names(node) {
        quota_leaves(tree, &format!("{path}/{child}"), out);
    }
}

/// A hard limit, when set, takes precedence.
fn hard_or_soft(hard: i64, soft: i64) -> i64 {
    if hard > -1 { hard } else { soft }
}

/// `PathUtils.getTopNamespace`: "a" for "/a/b".
fn top_namespace(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.split('/').next().filter(|ns| !ns.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_measured_or_listed() {
        let metrics = crate::metrics::Metrics::default();
        for (name, kind) in METRICS {
            let listed = NOT_MEASURED.contains(&name);
            let measured = match kind {
                Info | Gauge => true,
                Counter => metrics.counter(name).is_some() || name == "bytes_received_count",
                Sum => metrics.summary(name).is_some(),
                Pct => metrics.percentiles(name).is_some(),
            };
            assert!(measured != listed, "{name}: measured={measured}, listed as not measured={listed}");
        }
        for name in NOT_MEASURED.iter().chain(&ZERO_BY_DESIGN) {
            assert!(METRICS.iter().any(|(n, _)| n == name), "{name} is not a metric");
        }
    }

    #[test]
    fn top_namespaces() {
        assert_eq!(top_namespace("/a/zookeeper_limits"), Some("a"));
        assert_eq!(top_namespace("/a"), Some("a"));
        assert_eq!(top_namespace("a"), None);
        assert_eq!(top_namespace("/"), None);
    }
}
