//! `watch`: K sessions each leave a data watch on one node (getData with watch), then one setData
//! from another session fires them all; a round's figure is the time from sending the set until
//! the last of the K notifications has been read by its session. Arming the watches is not timed.
//! The first round is a warm-up when `--warmup` is above zero. Per-notification delays go into
//! the latency histogram.
//!
//! The watching sessions are lean [`Pipe`]s, one task each, which reads its socket and nothing
//! else: with `rzk_client::Client`s the bench spent more CPU taking 10,000 notifications (driver
//! task, broadcast channel, a listener task each) than the server spent sending them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_proto::codes::event_type;
use rzk_proto::{GetDataRequest, Request};
use tokio::task::JoinSet;

use super::{round1, round3, run_base, spec};
use crate::args::Bench;
use crate::connect::{close_all, close_pipes, connect_all, connect_pipes, ensure_path};
use crate::error::BenchError;
use crate::pipe::{InFlight, Pipe, PipeError, READ_BUF_BYTES_IDLE};
use crate::procstat::{CpuMeter, rss_kb};
use crate::progress::Progress;
use crate::report::Report;
use crate::requests::Gen;
use crate::stats::{Latency, Recorder, Rounds, rate};

/// How long a round may wait for its notifications.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long arming every watch may take.
const ARM_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(b: &Bench, watchers: u32, rounds: u32) -> Result<Report, BenchError> {
    let spec = spec(b);
    let setter = connect_all(&spec, 1).await?;
    let res = match setter.first() {
        Some(s) => with_setter(b, s, watchers, rounds).await,
        None => Err(BenchError::Failed("no session".into())),
    };
    close_all(setter).await;
    res
}

async fn with_setter(b: &Bench, setter: &Client, watchers: u32, rounds: u32) -> Result<Report, BenchError> {
    let base = run_base(b);
    ensure_path(setter, &base).await?;
    let node = format!("{base}/watched");
    let value = Gen::value(b.value_bytes);
    let created = setter.create(&node, &value, &open_acl_unsafe(), CreateMode::Persistent).await;
    created.map_err(|e| BenchError::client(format!("creating {node}"), e))?;
    let mut pipes = connect_pipes(&spec(b), watchers as usize, READ_BUF_BYTES_IDLE).await?;
    let recorder = Recorder::new()?;
    let warm = u32::from(!b.warmup.is_zero());
    let bar = Progress::new("watch", u64::from(rounds), "rounds");
    let mut fanouts = Vec::with_capacity(rounds as usize);
    let mut meter = CpuMeter::start(b.server_pid);
    for round in 0..rounds + warm {
        if round == warm {
            meter = CpuMeter::start(b.server_pid);
        }
        let fired = fire(setter, &node, &value, pipes).await;
        pipes = fired.pipes;
        if let Some(e) = fired.failed {
            close_pipes(pipes).await;
            return Err(e);
        }
        if round >= warm {
            for d in &fired.delays {
                recorder.record(*d);
            }
            for _ in fired.delays.len()..watchers as usize {
                recorder.error(fired.first_error.as_deref().unwrap_or("notification not received"));
            }
            fanouts.push(fired.delays.iter().max().copied().unwrap_or(NOTIFY_TIMEOUT));
            bar.set(u64::from(round + 1 - warm), String::new);
        }
    }
    let cpu = meter.stop();
    close_pipes(pipes).await;
    let mut r = Report::new(b);
    let total: Duration = fanouts.iter().sum();
    r.ops = recorder.ops();
    r.errors = recorder.errors();
    r.first_error = recorder.first_error();
    r.duration_s = round3(total.as_secs_f64());
    r.ops_per_s = round1(rate(r.ops, total));
    r.latency_us = Latency::of(&recorder.histogram()?);
    r.fanout_ms = Rounds::of(&fanouts);
    (r.wall_s, r.client_cpu_s, r.server_cpu_s) = (cpu.wall_s, cpu.client_s, cpu.server_s);
    r.server_rss_kb = b.server_pid.and_then(rss_kb);
    Ok(r)
}

/// One round's outcome.
struct Fired {
    /// The sessions still usable.
    pipes: Vec<Pipe>,
    /// Time from sending the set to each notification that arrived.
    delays: Vec<Duration>,
    first_error: Option<String>,
    /// Why the round could not run at all.
    failed: Option<BenchError>,
}

/// Arms a watch from every session, sends the set once all are armed, and collects the arrivals.
async fn fire(setter: &Client, node: &str, value: &[u8], pipes: Vec<Pipe>) -> Fired {
    let expected = pipes.len();
    let ready = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for pipe in pipes {
        set.spawn(watch_once(pipe, node.to_owned(), ready.clone()));
    }
    let mut fired = Fired { pipes: Vec::new(), delays: Vec::new(), first_error: None, failed: None };
    // Every session's arming is answered (or failed) within ARM_TIMEOUT; this is a backstop.
    let armed_by = Instant::now() + ARM_TIMEOUT + Duration::from_secs(1);
    while ready.load(Ordering::Acquire) < expected && Instant::now() < armed_by {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let t0 = Instant::now();
    if let Err(e) = setter.set_data(node, value, -1).await {
        fired.failed = Some(BenchError::client(format!("setting {node}"), e));
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok((pipe, Ok(at))) => {
                fired.pipes.extend(pipe);
                fired.delays.push(at.saturating_duration_since(t0));
            }
            Ok((pipe, Err(e))) => {
                fired.pipes.extend(pipe);
                fired.first_error.get_or_insert_with(|| e.to_string());
            }
            Err(e) => {
                fired.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    fired
}

/// getData with a watch, then the notification's arrival time. Counts itself in `ready` once the
/// watch is armed (or could not be). Returns the session unless its connection failed.
async fn watch_once(
    mut pipe: Pipe,
    node: String,
    ready: Arc<AtomicUsize>,
) -> (Option<Pipe>, Result<Instant, PipeError>) {
    let armed = arm(&mut pipe, node).await;
    ready.fetch_add(1, Ordering::Release);
    let wait = match armed {
        Ok(()) => pipe.wait_event(event_type::NODE_DATA_CHANGED, NOTIFY_TIMEOUT).await,
        Err(e) => Err(e),
    };
    match wait {
        Ok(at) => (Some(pipe), Ok(at)),
        Err(e @ (PipeError::Timeout | PipeError::ErrorReply(_))) => (Some(pipe), Err(e)),
        Err(e) => (None, Err(e)),
    }
}

/// Sends getData with a watch and waits for its reply.
async fn arm(pipe: &mut Pipe, node: String) -> Result<(), PipeError> {
    let x = pipe.queue(&Request::GetData(GetDataRequest { path: node, watch: true }));
    let mut one = VecDeque::from([InFlight { xid: x, sent: Instant::now(), tag: () }]);
    let mut err = 0;
    while !one.is_empty() {
        pipe.exchange(&mut one, ARM_TIMEOUT, |reply, _| err = reply.err).await?;
    }
    if err != 0 { Err(PipeError::ErrorReply(err)) } else { Ok(()) }
}
