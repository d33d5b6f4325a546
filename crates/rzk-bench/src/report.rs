//! The result of a run: one JSON object per run (`--json`, one line on stdout; every field is
//! always present, `null` when it does not apply, so scripts can rely on the shape), or a short
//! text summary. The fields are documented in the crate docs (`lib.rs`).

use serde::Serialize;

use crate::args::{Bench, Workload};
use crate::stats::{Latency, Rounds};

/// Version of the JSON line's shape; bumped when a field changes meaning or goes away.
pub const REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub schema: u32,
    pub workload: &'static str,
    pub label: Option<String>,
    pub server: String,
    pub sessions: u32,
    pub outstanding: u32,
    /// The offered load of an open-loop run (`--rate`), ops/s; `null` in a closed loop.
    pub rate_ops_per_s: Option<u64>,
    pub value_bytes: usize,
    pub read_percent: Option<u8>,
    pub keys: Option<u32>,
    pub watchers: Option<u32>,
    pub rounds: Option<u32>,
    pub count: Option<u32>,
    pub nodes: Option<u64>,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub ops: u64,
    pub errors: u64,
    pub ops_per_s: f64,
    pub latency_us: Option<Latency>,
    /// Open loop: how late requests left after their scheduled time (part of `latency_us`).
    pub send_lag_us: Option<Latency>,
    pub fanout_ms: Option<Rounds>,
    pub wall_s: f64,
    pub client_cpu_s: Option<f64>,
    pub server_pid: Option<u32>,
    pub server_cpu_s: Option<f64>,
    pub server_rss_before_kb: Option<u64>,
    pub server_rss_kb: Option<u64>,
    /// sessions --detach: the server's `zk_global_sessions` (mntr) once all were opened.
    pub server_sessions: Option<u64>,
    pub first_error: Option<String>,
}

impl Report {
    /// A report of `b` with the settings filled in and nothing measured yet.
    pub fn new(b: &Bench) -> Report {
        let mut r = Report {
            tool: "rzk-bench",
            schema: REPORT_SCHEMA,
            workload: b.workload.name(),
            label: b.label.clone(),
            server: b.server.clone(),
            sessions: b.sessions,
            outstanding: b.outstanding,
            rate_ops_per_s: b.rate,
            value_bytes: b.value_bytes,
            read_percent: None,
            keys: None,
            watchers: None,
            rounds: None,
            count: None,
            nodes: None,
            warmup_s: b.warmup.as_secs_f64(),
            duration_s: 0.0,
            ops: 0,
            errors: 0,
            ops_per_s: 0.0,
            latency_us: None,
            send_lag_us: None,
            fanout_ms: None,
            wall_s: 0.0,
            client_cpu_s: None,
            server_pid: b.server_pid,
            server_cpu_s: None,
            server_rss_before_kb: None,
            server_rss_kb: None,
            server_sessions: None,
            first_error: None,
        };
        match &b.workload {
            Workload::Set | Workload::Get => r.keys = Some(b.keys),
            Workload::Mixed { read_percent } => {
                r.read_percent = Some(*read_percent);
                r.keys = Some(b.keys);
            }
            Workload::Watch { watchers, rounds } => {
                (r.watchers, r.rounds, r.sessions, r.outstanding) =
                    (Some(*watchers), Some(*rounds), *watchers, 1);
            }
            Workload::Sessions { count, parallel, .. } => {
                (r.count, r.sessions, r.outstanding) = (Some(*count), *count, *parallel);
            }
            Workload::Load { nodes, .. } => {
                r.nodes = Some(*nodes);
                r.warmup_s = 0.0;
            }
            Workload::Disk { dir, read_percent } => {
                r.server = dir.display().to_string();
                (r.sessions, r.outstanding, r.read_percent) = (1, 1, Some(*read_percent));
            }
            Workload::Create => {}
        }
        r
    }

    /// The JSON line (without a newline).
    pub fn json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"tool\":\"rzk-bench\",\"error\":\"{e}\"}}"))
    }

    /// The text summary (several lines, ending with a newline).
    pub fn text(&self) -> String {
        let place = if self.workload == "disk" { "in" } else { "against" };
        let mut s = format!("{} {place} {}", self.workload, self.server);
        if let Some(l) = &self.label {
            s.push_str(&format!(" ({l})"));
        }
        s.push_str(&match (self.watchers, self.count) {
            _ if self.workload == "disk" => format!(
                ": no server; {} B values, {} % reads\n",
                self.value_bytes,
                self.read_percent.unwrap_or(0)
            ),
            (Some(w), _) => format!(": {w} watchers, {} rounds\n", self.rounds.unwrap_or(0)),
            (_, Some(c)) => format!(": {c} sessions, {} connects in flight\n", self.outstanding),
            _ => format!(
                ": {} sessions x {} outstanding, {} B values\n",
                self.sessions, self.outstanding, self.value_bytes
            ),
        });
        s.push_str(&format!(
            "  {:.3} s  {} ops  {:.1} ops/s  {} errors\n",
            self.duration_s, self.ops, self.ops_per_s, self.errors
        ));
        if let Some(l) = &self.latency_us {
            s.push_str(&format!(
                "  latency us: p50 {}  p90 {}  p99 {}  p999 {}  max {}  mean {:.1}\n",
                l.p50, l.p90, l.p99, l.p999, l.max, l.mean
            ));
        }
        if let Some(l) = &self.send_lag_us {
            s.push_str(&format!(
                "  sent after the scheduled time, us: p50 {}  p99 {}  max {}\n",
                l.p50, l.p99, l.max
            ));
        }
        if let Some(f) = &self.fanout_ms {
            s.push_str(&format!(
                "  fan-out ms (set sent -> last notification): p50 {:.3}  min {:.3}  max {:.3}\n",
                f.p50, f.min, f.max
            ));
        }
        s.push_str(&self.resources_text());
        if let Some(e) = &self.first_error {
            s.push_str(&format!("  first error: {e}\n"));
        }
        s
    }

    fn resources_text(&self) -> String {
        let pct = |cpu: Option<f64>| match cpu {
            Some(c) if self.wall_s > 0.0 => format!("{:.0}%", 100.0 * c / self.wall_s),
            _ => "-".to_owned(),
        };
        let mut s = format!("  cpu over {:.1} s: bench {}", self.wall_s, pct(self.client_cpu_s));
        if self.server_pid.is_some() {
            s.push_str(&format!("  server {}", pct(self.server_cpu_s)));
        }
        if let Some(kb) = self.server_rss_kb {
            s.push_str(&format!("  server rss {:.1} MiB", kb as f64 / 1024.0));
            if let Some(before) = self.server_rss_before_kb {
                s.push_str(&format!(" (before {:.1} MiB)", before as f64 / 1024.0));
            }
        }
        if let Some(n) = self.server_sessions {
            s.push_str(&format!("  server sessions {n}"));
        }
        s.push('\n');
        s
    }
}
