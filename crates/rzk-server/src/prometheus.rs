//! The Prometheus endpoint of ZooKeeper's `PrometheusMetricsProvider` (3.8, Prometheus Java
//! client 0.9): with `metricsProvider.className` naming that provider (or rzk's short name
//! `prometheus`), `GET /metrics` on `metricsProvider.httpHost`:`metricsProvider.httpPort`
//! (0.0.0.0:7000) answers the text exposition format 0.0.4 with ZooKeeper's names, each
//! family's HELP being its name:
//!
//! - every `mntr` gauge as a gauge, the quota gauge sets as gauges labelled `key` (the
//!   namespace), every counter as a counter (no `_total` suffix in client 0.9);
//! - every basic summary (`mntr`'s avg/min/max/cnt/sum) as a summary with quantile 0.5, and every
//!   summary with percentiles as one with quantiles 0.5, 0.9 and 0.99, over the last 10 minutes
//!   (NaN when empty), plus `_count` and `_sum`;
//! - with `metricsProvider.exportJvmInfo` (true), the process collector's `process_*` metrics
//!   (the JVM's `jvm_*` have no rzk counterpart).
//!
//! The values come from the core's per-server registry ([`crate::metrics::Metrics`] through
//! [`crate::mntr::collect`]); nothing is global, so servers in one process keep their own.
//! Unlike ZooKeeper's provider, `srst` resets the counters and summaries here too (Prometheus
//! reads a decrease as a counter reset).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::routing::get;
use rzk_config::Config;
use rzk_node::Node;

use crate::admin::http::{CoreLink, HttpServer, serve};
use crate::admin::resolve;
use crate::core::Shell;
use crate::four_letter::java;
use crate::mntr::{self, Extras, Kind, METRICS, Value};

pub mod process;

use process::ProcessFacts;

/// ZooKeeper's class name for this provider.
pub const PROVIDER_CLASS: &str = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// rzk's short name for it.
pub const PROVIDER_SHORT_NAME: &str = "prometheus";
/// `MetricsServlet`'s content type for format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Quantiles of the summaries with percentiles (`DetailLevel.ADVANCED`) and of the basic ones.
const ADVANCED_QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];
const BASIC_QUANTILES: [f64; 1] = [0.5];
/// The quota gauge sets (`QuotaMetricsUtils`), whose `mntr` names are `<namespace>_<set>`.
const QUOTA_SETS: [&str; 4] = [
    "quota_count_limit_per_namespace",
    "quota_bytes_limit_per_namespace",
    "quota_count_usage_per_namespace",
    "quota_bytes_usage_per_namespace",
];
/// How long a scrape waits for the core.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle scrape connection is kept (Jetty's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// `metricsProvider.*` for the Prometheus provider.
#[derive(Debug, Clone)]
pub struct PrometheusSettings {
    /// `metricsProvider.httpHost`:`metricsProvider.httpPort`.
    pub addr: SocketAddr,
    /// `metricsProvider.exportJvmInfo`.
    pub export_process_info: bool,
}

impl PrometheusSettings {
    pub fn for_test() -> PrometheusSettings {
        PrometheusSettings { addr: SocketAddr::from(([127, 0, 0, 1], 0)), export_process_info: true }
    }

    /// `None` unless zoo.cfg names the Prometheus provider.
    pub fn from_config(c: &Config) -> Result<Option<PrometheusSettings>, String> {
        let m = &c.metrics_provider;
        if m.class_name != PROVIDER_CLASS && m.class_name != PROVIDER_SHORT_NAME {
            return Ok(None);
        }
        let get = |k: &str| m.settings.get(k).map(|v| v.trim().to_owned());
        let host = get("httpHost").unwrap_or_else(|| "0.0.0.0".to_owned());
        let port = match get("httpPort") {
            None => 7000,
            Some(p) => p.parse::<u16>().map_err(|_| format!("metricsProvider.httpPort {p} is not a port"))?,
        };
        let addr =
            resolve(&host, port).ok_or_else(|| format!("cannot resolve metricsProvider.httpHost {host}"))?;
        // Boolean.parseBoolean: only "true" is true; the default is true.
        let export_process_info = get("exportJvmInfo").is_none_or(|v| v.eq_ignore_ascii_case("true"));
        Ok(Some(PrometheusSettings { addr, export_process_info }))
    }
}

struct MetricsState {
    link: Arc<CoreLink>,
    export_process_info: bool,
}

/// Binds the endpoint (`PrometheusMetricsProvider.start`).
pub async fn start(settings: &PrometheusSettings, link: Arc<CoreLink>) -> std::io::Result<HttpServer> {
    let state = Arc::new(MetricsState { link, export_process_info: settings.export_process_info });
    let router = Router::new().route("/metrics", get(scrape)).with_state(state);
    let server = serve(settings.addr, router, Some(IDLE_TIMEOUT)).await?;
    tracing::info!(addr = %server.local_addr, "Started the Prometheus /metrics endpoint");
    Ok(server)
}

async fn scrape(State(s): State<Arc<MetricsState>>, RawQuery(query): RawQuery) -> axum::response::Response {
    let export = s.export_process_info;
    let process = tokio::task::spawn_blocking(move || ProcessFacts::gather(export)).await.unwrap_or_default();
    let text =
        s.link.ask(SCRAPE_TIMEOUT, |reply| crate::admin::AdminMsg::Prometheus { process, reply }).await;
    let Some(text) = text else {
        let mut resp = axum::response::Response::new(Body::from("the server is not running\n"));
        *resp.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        return resp;
    };
    let names = selected_names(query.as_deref());
    let body = if names.is_empty() { text } else { filter_families(&text, &names) };
    let mut resp = axum::response::Response::new(Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}

/// `MetricsServlet`'s `name[]` parameters: only these families are answered.
fn selected_names(query: Option<&str>) -> Vec<String> {
    let Some(q) = query else { return Vec::new() };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "name[]" || *k == "name%5B%5D")
        .map(|(_, v)| v.to_owned())
        .collect()
}

fn filter_families(text: &str, names: &[String]) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let family = rest.split(' ').next().unwrap_or("");
            keep = names.iter().any(|n| n == family);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The exposition, from the core's registry (runs in the core).
pub fn render(node: &Node, shell: &mut Shell, process: &ProcessFacts) -> String {
    let extras = Extras { extra_connections: 0, open_fds: process.open_fds, max_fds: process.max_fds };
    let flat = mntr::collect(node, shell, extras);
    let value = |name: &str| flat.iter().find(|(k, _)| k == name).map(|(_, v)| number(v)).unwrap_or(0.0);
    let mut out = String::with_capacity(32 * 1024);
    let mut sets_done = false;
    for (name, kind) in METRICS {
        if kind != Kind::Info && kind != Kind::Gauge && !sets_done {
            quota_sets(&flat, &mut out);
            sets_done = true;
        }
        match kind {
            Kind::Info => {}
            Kind::Gauge => family(&mut out, name, "gauge", &[(name.to_owned(), value(name))]),
            Kind::Counter => family(&mut out, name, "counter", &[(name.to_owned(), value(name))]),
            Kind::Summary | Kind::Percentiles => {
                let qs: &[f64] = if kind == Kind::Summary { &BASIC_QUANTILES } else { &ADVANCED_QUANTILES };
                let mut summary = shell.stats.metrics.summary_mut(name);
                let mut samples: Vec<(String, f64)> = Vec::new();
                for q in qs {
                    let v = summary.as_mut().map_or(f64::NAN, |s| s.recent_quantile(*q));
                    samples.push((format!("{name}{{quantile=\"{q}\",}}"), v));
                }
                samples.push((format!("{name}_count"), value(&format!("cnt_{name}"))));
                samples.push((format!("{name}_sum"), value(&format!("sum_{name}"))));
                family(&mut out, name, "summary", &samples);
            }
        }
    }
    process::render(process, &mut out);
    out
}

/// The gauge sets, one family each, a sample per namespace.
fn quota_sets(flat: &[(String, Value)], out: &mut String) {
    for set in QUOTA_SETS {
        let suffix = format!("_{set}");
        let samples: Vec<(String, f64)> = flat
            .iter()
            .filter_map(|(k, v)| {
                let ns = k.strip_suffix(&suffix)?;
                Some((format!("{set}{{key=\"{}\",}}", escape_label(ns)), number(v)))
            })
            .collect();
        family(out, set, "gauge", &samples);
    }
}

/// One family: HELP (the name, as ZooKeeper registers them), TYPE, then its samples.
pub fn family(out: &mut String, name: &str, kind: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {name}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (sample, v) in samples {
        let _ = writeln!(out, "{sample} {}", go_double(*v));
    }
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Long(v) => *v as f64,
        Value::Double(v) => *v,
        Value::Text(_) => 0.0,
    }
}

/// `Collector.doubleToGoString`: `+Inf`, `-Inf`, `NaN`, else `Double.toString`.
pub fn go_double(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        java::double(v)
    }
}

/// `TextFormat.writeEscapedLabelValue`.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_print_as_the_java_client_does() {
        let mut out = String::new();
        family(
            &mut out,
            "fsynctime",
            "summary",
            &[
                ("fsynctime{quantile=\"0.5\",}".into(), f64::NAN),
                ("fsynctime_count".into(), 3.0),
                ("fsynctime_sum".into(), 12.0),
            ],
        );
        assert_eq!(
            out,
            "# HELP fsynctime fsynctime\n# TYPE fsynctime summary\nfsynctime{quantile=\"0.5\",} NaN\n\
             fsynctime_count 3.0\nfsynctime_sum 12.0\n"
        );
        assert_eq!(go_double(f64::INFINITY), "+Inf");
        assert_eq!(go_double(1e-4), "1.0E-4");
        assert_eq!(escape_label("a\"b"), "a\\\"b");
    }

    #[test]
    fn name_parameters_select_families() {
        let text = "# HELP a a\n# TYPE a gauge\na 1.0\n# HELP b b\n# TYPE b gauge\nb 2.0\n";
        let names = selected_names(Some("name[]=b&x=1"));
        assert_eq!(filter_families(text, &names), "# HELP b b\n# TYPE b gauge\nb 2.0\n");
        assert!(selected_names(None).is_empty());
    }
}
