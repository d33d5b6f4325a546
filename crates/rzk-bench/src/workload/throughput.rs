//! `create`, `set`, `get`, `mixed`: many sessions with requests in flight, for a duration or a
//! number of ops. `set`, `get` and `mixed` first build their key nodes (`--keys`, with
//! `--value-bytes` of data each) under the run's own parent; `create` makes new nodes there.

use std::time::Duration;

use super::{fill, run_base, setup_path, spec};
use crate::args::{Bench, Stop, Workload};
use crate::connect::{close_pipes, connect_pipes};
use crate::error::BenchError;
use crate::pipe::{Pipe, READ_BUF_BYTES_BULK};
use crate::procstat::rss_kb;
use crate::report::Report;
use crate::requests::{Gen, Keys};
use crate::runner::{self, Plan};

pub async fn run(b: &Bench) -> Result<Report, BenchError> {
    let base = run_base(b);
    setup_path(b, &base).await?;
    let pipes = connect_pipes(&spec(b), b.sessions as usize, READ_BUF_BYTES_BULK).await?;
    let (res, pipes) = measured(b, pipes, &base).await;
    close_pipes(pipes).await;
    res
}

async fn measured(b: &Bench, pipes: Vec<Pipe>, base: &str) -> (Result<Report, BenchError>, Vec<Pipe>) {
    let keys = || Keys { parent: base.to_owned(), count: b.keys };
    let value = Gen::value(b.value_bytes);
    let requests = match b.workload {
        Workload::Set => Gen::Set { keys: keys(), value },
        Workload::Get => Gen::Get { keys: keys() },
        Workload::Mixed { read_percent } => Gen::Mixed { keys: keys(), value, read_percent },
        _ => Gen::create(base, b.value_bytes),
    };
    let pipes = if matches!(requests, Gen::Create { .. }) {
        pipes
    } else {
        match make_keys(b, pipes, base).await {
            Ok(p) => p,
            Err(e) => return (Err(e), Vec::new()),
        }
    };
    let plan = Plan {
        requests,
        outstanding: b.outstanding,
        rate: b.rate,
        warmup: b.warmup,
        stop: b.stop,
        progress: Some(b.workload.name()),
        server_pid: b.server_pid,
    };
    let (outcome, pipes) = match runner::run(pipes, plan).await {
        Ok(done) => done,
        Err(e) => return (Err(e), Vec::new()),
    };
    let mut r = Report::new(b);
    fill(&mut r, &outcome);
    r.server_rss_kb = b.server_pid.and_then(rss_kb);
    (Ok(r), pipes)
}

/// Creates the key nodes `<base>/n0000000000` .. with the same pipelined loop (not measured).
async fn make_keys(b: &Bench, pipes: Vec<Pipe>, base: &str) -> Result<Vec<Pipe>, BenchError> {
    let plan = Plan {
        requests: Gen::numbered(base, b.value_bytes),
        outstanding: b.outstanding,
        rate: None,
        warmup: Duration::ZERO,
        stop: Stop::Ops(u64::from(b.keys)),
        progress: None,
        server_pid: None,
    };
    let (o, pipes) = runner::run(pipes, plan).await?;
    if o.errors > 0 || o.ops < u64::from(b.keys) {
        close_pipes(pipes).await;
        let why = o.first_error.unwrap_or_else(|| "sessions lost".into());
        return Err(BenchError::Failed(format!("creating {} key nodes under {base}: {why}", b.keys)));
    }
    Ok(pipes)
}
