//! The workloads, one file each, dispatched from [`run`]. Each does its setup (sessions, parent
//! nodes, key nodes) before measuring and its tear-down (closing sessions) after, so neither is
//! in the figures, and fills in a [`Report`].

mod disk;
mod load;
mod sessions;
mod throughput;
mod watch;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::args::{Bench, Workload};
use crate::connect::{SessionSpec, close_all, connect_all, ensure_path};
use crate::error::BenchError;
use crate::report::Report;
use crate::runner::Outcome;
use crate::stats::{Latency, rate};

/// Runs the bench's workload.
pub async fn run(b: &Bench) -> Result<Report, BenchError> {
    match &b.workload {
        Workload::Create | Workload::Set | Workload::Get | Workload::Mixed { .. } => throughput::run(b).await,
        Workload::Load { nodes, parent } => load::run(b, *nodes, parent).await,
        Workload::Disk { dir, read_percent } => disk::run(b, dir, *read_percent).await,
        Workload::Watch { watchers, rounds } => watch::run(b, *watchers, *rounds).await,
        Workload::Sessions { count, parallel, hold, detach } => {
            sessions::run(b, *count, *parallel, *hold, *detach).await
        }
    }
}

/// How this bench's sessions are opened.
fn spec(b: &Bench) -> SessionSpec {
    SessionSpec { server: b.server.clone(), session_timeout: b.session_timeout, source_ips: b.source_ips }
}

/// A parent path of this run's own: `<prefix>/<workload>-<unix ms>-<pid>`.
fn run_base(b: &Bench) -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{}/{}-{ms}-{}", b.prefix, b.workload.name(), std::process::id())
}

/// Creates the run's parent node from a client session of its own.
async fn setup_path(b: &Bench, path: &str) -> Result<(), BenchError> {
    let setup = connect_all(&spec(b), 1).await?;
    let res = match setup.first() {
        Some(c) => ensure_path(c, path).await,
        None => Err(BenchError::Failed("no session".into())),
    };
    close_all(setup).await;
    res
}

/// Copies what the request loop measured into the report.
fn fill(r: &mut Report, o: &Outcome) {
    r.duration_s = round3(o.elapsed.as_secs_f64());
    r.ops = o.ops;
    r.errors = o.errors;
    r.ops_per_s = round1(rate(o.ops, o.elapsed));
    r.latency_us = Latency::of(&o.hist);
    r.send_lag_us = o.send_lag.as_ref().and_then(Latency::of);
    r.wall_s = o.cpu.wall_s;
    r.client_cpu_s = o.cpu.client_s;
    r.server_cpu_s = o.cpu.server_s;
    r.first_error = o.first_error.clone();
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
