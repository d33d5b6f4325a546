//! The Prometheus endpoint read by a real parser: Python's `prometheus_client` text parser
//! (`prometheus-client` in the venv scripts/test.sh makes; `RZK_KAZOO_PYTHON` names that Python).
//! Checked: every ZooKeeper metric `mntr` lists is a family of the right kind (summaries with
//! ZooKeeper's quantiles), the quota gauge sets carry the `key` label, values move as requests
//! are made, and two servers in one process keep their own registries.
//!
//! The reference ZooKeeper cannot be compared here: Debian's package has no
//! `zookeeper-prometheus-metrics` jar (nor the Prometheus Java client), so the format and names
//! follow `PrometheusMetricsProvider` 3.8 and the Java client 0.9's `TextFormat`.
//!
//! Without the parser the tests print SKIP (or fail with RZK_REQUIRE_CLIENTS=1).

#[path = "common/http.rs"]
mod http;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_server::mntr::{Kind, METRICS};
use rzk_server::prometheus::PrometheusSettings;
use rzk_server::{ServerHandle, Settings};

const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
const MOVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Prints the families the parser reads as JSON (values as text: NaN is not JSON).
const PARSE_SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type,
                "samples": [[s.name, s.labels, repr(float(s.value))] for s in f.samples]})
print(json.dumps(out))
"#;

fn python() -> PathBuf {
    match std::env::var_os("RZK_KAZOO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    }
}

fn parser_available(test: &str) -> bool {
    let ok = Command::new(python())
        .args(["-c", "import prometheus_client.parser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let why = format!("{} cannot import prometheus_client (run scripts/test.sh)", python().display());
    assert!(std::env::var("RZK_REQUIRE_CLIENTS").as_deref() != Ok("1"), "{test}: parser required but {why}");
    println!("SKIP {test}: {why}");
    false
}

#[derive(Debug)]
struct Family {
    kind: String,
    /// (sample name, labels, value)
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Family {
    fn value(&self, sample: &str) -> f64 {
        self.samples.iter().find(|(n, l, _)| n == sample && l.is_empty()).map(|s| s.2).unwrap_or(f64::NAN)
    }
}

/// Scrapes `/metrics` and parses it with prometheus_client.
fn scrape(addr: SocketAddr) -> BTreeMap<String, Family> {
    let a = http::get(addr, "/metrics");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let mut child = Command::new(python())
        .args(["-c", PARSE_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the parser");
    child.stdin.take().expect("stdin").write_all(&a.body).expect("feed the parser");
    let out = child.wait_with_output().expect("parser output");
    assert!(
        out.status.success(),
        "the parser refused the exposition: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("parser JSON");
    parsed
        .into_iter()
        .map(|f| {
            let samples = f["samples"]
                .as_array()
                .expect("samples")
                .iter()
                .map(|s| {
                    let labels = s[1]
                        .as_object()
                        .expect("labels")
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect();
                    let v: f64 = s[2].as_str().expect("value").parse().expect("a number");
                    (s[0].as_str().expect("name").to_owned(), labels, v)
                })
                .collect();
            (
                f["name"].as_str().expect("name").to_owned(),
                Family { kind: f["type"].as_str().unwrap_or("").to_owned(), samples },
            )
        })
        .collect()
}

async fn server(dir: &std::path::Path) -> ServerHandle {
    let mut s = Settings::for_test(dir.to_owned(), "127.0.0.1:0".parse().expect("addr"));
    s.prealloc_bytes = 1024 * 1024;
    s.prometheus = Some(PrometheusSettings::for_test());
    rzk_server::start(s).await.expect("start rzk")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

#[test]
fn every_zookeeper_metric_is_exported_with_its_kind() {
    if !parser_available("prometheus_families") {
        return;
    }
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = rt.block_on(server(dir.path()));
    let families = scrape(s.metrics_addr.expect("metrics address"));
    for (name, kind) in METRICS {
        let expected = match kind {
            Kind::Info => {
                assert!(!families.contains_key(name), "{name} is not a Prometheus metric in ZooKeeper");
                continue;
            }
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Summary | Kind::Percentiles => "summary",
        };
        let f = families.get(name).unwrap_or_else(|| panic!("no family {name}"));
        assert_eq!(f.kind, expected, "{name}");
        if expected == "summary" {
            let quantiles: Vec<&str> =
                f.samples.iter().filter_map(|(_, l, _)| l.get("quantile").map(String::as_str)).collect();
            let want: &[&str] = if kind == Kind::Summary { &["0.5"] } else { &["0.5", "0.9", "0.99"] };
            assert_eq!(quantiles, want, "{name}'s quantiles");
            assert!(
                f.value(&format!("{name}_count")).is_finite() && f.value(&format!("{name}_sum")).is_finite()
            );
        }
    }
    // Names dashboards use (zookeeper-protocol.md K15), standalone ones.
    for name in [
        "znode_count",
        "watch_count",
        "ephemerals_count",
        "approximate_data_size",
        "num_alive_connections",
        "outstanding_requests",
        "packets_received",
        "packets_sent",
        "avg_latency",
        "uptime",
        "global_sessions",
        "open_file_descriptor_count",
        "max_file_descriptor_count",
        "fsynctime",
        "snapshottime",
        "readlatency",
        "updatelatency",
        "propagation_latency",
        "election_time",
        "looking_count",
        "commit_count",
        "dbinittime",
        "startup_txns_loaded",
        "throttled_ops",
        "digest_mismatches_count",
        "jvm_pause_time_ms",
        "quorum_ack_latency",
        "quota_count_limit_per_namespace",
        "process_open_fds",
        "process_resident_memory_bytes",
    ] {
        assert!(families.contains_key(name), "no {name}");
    }
    // The database was loaded once: dbinittime has one observation.
    assert_eq!(families["dbinittime"].value("dbinittime_count"), 1.0);
    rt.block_on(s.shutdown()).expect("shutdown");
}

/// Reads `sample` of `family` (`_total` for counters, as the parser names them).
fn read(families: &BTreeMap<String, Family>, family: &str, sample: &str) -> f64 {
    families.get(family).map_or(f64::NAN, |f| f.value(sample))
}

#[test]
fn values_move_with_requests_and_servers_keep_their_own() {
    if !parser_available("prometheus_values") {
        return;
    }
    let rt = runtime();
    let (dir_a, dir_b) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let (a, b) = (rt.block_on(server(dir_a.path())), rt.block_on(server(dir_b.path())));
    let (ma, mb) = (a.metrics_addr.expect("metrics"), b.metrics_addr.expect("metrics"));
    let before = scrape(ma);
    let b_before = scrape(mb);
    let nodes = read(&before, "znode_count", "znode_count");

    let client_addr = a.local_addr.to_string();
    let _client = rt.block_on(async {
        let c = Client::connect(&client_addr, SESSION_TIMEOUT).await.expect("client");
        let acl = open_acl_unsafe();
        for i in 0..5 {
            c.create(&format!("/m{i}"), b"x", &acl, CreateMode::Persistent).await.expect("create");
        }
        for i in 0..3 {
            c.get_data(&format!("/m{i}"), false).await.expect("get");
        }
        // A quota on /m0's namespace, as zkCli's setquota writes it.
        for (p, d) in [
            ("/zookeeper/quota/m0", ""),
            ("/zookeeper/quota/m0/zookeeper_limits", "count=10,bytes=-1"),
            ("/zookeeper/quota/m0/zookeeper_stats", "count=1,bytes=1"),
        ] {
            c.create(p, d.as_bytes(), &acl, CreateMode::Persistent).await.expect("quota");
        }
        c
    });

    let after = http::poll("the metrics to move", MOVE_TIMEOUT, || {
        let f = scrape(ma);
        let moved = read(&f, "znode_count", "znode_count") == nodes + 8.0
            && read(&f, "readlatency", "readlatency_count")
                >= read(&before, "readlatency", "readlatency_count") + 3.0
            && read(&f, "connection_request_count", "connection_request_count_total")
                == read(&before, "connection_request_count", "connection_request_count_total") + 1.0;
        moved.then_some(f)
    });
    // 8 creates and the session's creation are updates.
    let updates = read(&after, "updatelatency", "updatelatency_count")
        - read(&before, "updatelatency", "updatelatency_count");
    assert!(updates >= 9.0, "updatelatency_count moved by {updates}");
    assert!(
        read(&after, "packets_received", "packets_received")
            >= read(&before, "packets_received", "packets_received") + 12.0
    );
    assert_eq!(read(&after, "num_alive_connections", "num_alive_connections"), 1.0);
    assert_eq!(read(&after, "global_sessions", "global_sessions"), 1.0);
    let median = after["updatelatency"]
        .samples
        .iter()
        .find(|(_, l, _)| l.get("quantile").map(String::as_str) == Some("0.5"));
    assert!(median.is_some_and(|m| m.2.is_finite()), "updatelatency's median is NaN after updates");
    let quota = after["quota_count_limit_per_namespace"]
        .samples
        .iter()
        .find(|(_, l, _)| l.get("key").map(String::as_str) == Some("m0"));
    assert_eq!(quota.map(|q| q.2), Some(10.0), "the quota limit of namespace m0");

    // The other server saw none of it.
    let b_after = scrape(mb);
    for (family, sample) in [
        ("znode_count", "znode_count"),
        ("updatelatency", "updatelatency_count"),
        ("packets_received", "packets_received"),
    ] {
        assert_eq!(read(&b_after, family, sample), read(&b_before, family, sample), "server B's {sample}");
    }
    rt.block_on(a.shutdown()).expect("shutdown");
    rt.block_on(b.shutdown()).expect("shutdown");
}
