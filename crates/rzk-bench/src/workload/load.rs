//! `load`: creates `--nodes` numbered nodes (`<parent>/n0000000000` ..) of `--value-bytes` each,
//! pipelined over all sessions, as fast as the server takes them; reports the rate and, with
//! `--server-pid`, the server's resident memory before and after (for the memory and restart
//! measurements, which run on the tree this leaves behind).

use std::time::Duration;

use super::{fill, setup_path, spec};
use crate::args::{Bench, Stop};
use crate::connect::{close_pipes, connect_pipes};
use crate::error::BenchError;
use crate::pipe::READ_BUF_BYTES_BULK;
use crate::procstat::rss_kb;
use crate::report::Report;
use crate::requests::Gen;
use crate::runner::{self, Plan};

pub async fn run(b: &Bench, nodes: u64, parent: &str) -> Result<Report, BenchError> {
    setup_path(b, parent).await?;
    let pipes = connect_pipes(&spec(b), b.sessions as usize, READ_BUF_BYTES_BULK).await?;
    let rss_before = b.server_pid.and_then(rss_kb);
    let plan = Plan {
        requests: Gen::numbered(parent, b.value_bytes),
        outstanding: b.outstanding,
        rate: None,
        warmup: Duration::ZERO,
        stop: Stop::Ops(nodes),
        progress: Some("load"),
        server_pid: b.server_pid,
    };
    let (outcome, pipes) = runner::run(pipes, plan).await?;
    close_pipes(pipes).await;
    let mut r = Report::new(b);
    fill(&mut r, &outcome);
    r.server_rss_before_kb = rss_before;
    r.server_rss_kb = b.server_pid.and_then(rss_kb);
    Ok(r)
}
