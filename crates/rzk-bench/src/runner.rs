//! The pipelined request loop of the throughput workloads: one task per session ([`Pipe`]), each
//! keeping `outstanding` requests in flight. A run has three phases, read before each request is
//! queued: warm-up (nothing recorded), measure (ops counted; with `--ops` each measured op first
//! takes a ticket, so exactly that many are sent) and stop. In a timed run only replies that
//! arrive before the stop count, over exactly the measured interval; requests still in flight at
//! the stop are drained, uncounted, so the sessions can be used again.
//!
//! With a rate (`--rate`, open loop) each session sends on its own fixed schedule (the sessions'
//! schedules interleaved), up to `outstanding` in flight; a request's latency runs from its
//! scheduled time, so time spent waiting behind a slow server counts. The send times are kept by
//! each session's [`Pacer`] (tokio's millisecond timer would send most requests late), and how
//! late requests still leave is measured too (`send_lag`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rzk_client::ErrorCode;
use tokio::task::JoinSet;

use crate::args::Stop;
use crate::connect::REQUEST_TIMEOUT;
use crate::error::BenchError;
use crate::pacer::Pacer;
use crate::pipe::{InFlight, Pipe};
use crate::procstat::{CpuMeter, CpuUse};
use crate::progress::Progress;
use crate::requests::{Gen, WorkerState};
use crate::stats::{Recorder, rate};

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// How often the progress bar is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);
/// How long requests still in flight at the stop may take before their sessions are dropped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// One run of the request loop.
pub struct Plan<'a> {
    pub requests: Gen,
    pub outstanding: u32,
    /// Offered load over all sessions, ops/s (open loop); `None`: closed loop.
    pub rate: Option<u64>,
    pub warmup: Duration,
    pub stop: Stop,
    /// Title of the progress bar (`None`: no bar, as for setup).
    pub progress: Option<&'a str>,
    pub server_pid: Option<u32>,
}

/// What a run measured.
pub struct Outcome {
    pub hist: Histogram<u64>,
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// The measured interval.
    pub elapsed: Duration,
    pub cpu: CpuUse,
    /// Open loop: how late measured requests left after their scheduled time.
    pub send_lag: Option<Histogram<u64>>,
}

struct Shared {
    phase: AtomicU8,
    tickets: AtomicU64,
    limit: Option<u64>,
    recorder: Recorder,
    /// Open loop: send time minus scheduled time of measured requests.
    lag: Recorder,
}

impl Shared {
    fn phase(&self) -> u8 {
        self.phase.load(Ordering::Relaxed)
    }

    /// What the next request is.
    fn next(&self) -> Next {
        match self.phase() {
            WARMUP => Next::Warmup,
            MEASURE => {
                let t = self.tickets.fetch_add(1, Ordering::Relaxed);
                match self.limit {
                    Some(n) if t >= n => Next::Done,
                    _ => Next::Measured(t),
                }
            }
            _ => Next::Done,
        }
    }

    /// Whether a reply to a request with `ticket` counts (a timed run: only before the stop).
    fn counts(&self, ticket: Option<u64>) -> bool {
        ticket.is_some() && (self.limit.is_some() || self.phase() == MEASURE)
    }
}

/// What a session sends next.
enum Next {
    /// An unmeasured request.
    Warmup,
    /// A measured one, with its ticket (the op's number in the run).
    Measured(u64),
    /// Nothing: the run stopped, or every `--ops` ticket is taken.
    Done,
}

type Sessions = JoinSet<Option<Pipe>>;

/// Runs `plan` over `pipes` to its stop; returns what was measured and the sessions still usable.
pub async fn run(pipes: Vec<Pipe>, plan: Plan<'_>) -> Result<(Outcome, Vec<Pipe>), BenchError> {
    let limit = match plan.stop {
        Stop::Ops(n) => Some(n),
        Stop::After(_) => None,
    };
    let first = if plan.warmup.is_zero() { MEASURE } else { WARMUP };
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(first),
        tickets: AtomicU64::new(0),
        limit,
        recorder: Recorder::new()?,
        lag: Recorder::new()?,
    });
    let requests = Arc::new(plan.requests);
    let mut sessions = JoinSet::new();
    let n = pipes.len().max(1) as u32;
    let start = Instant::now();
    for (s, pipe) in pipes.into_iter().enumerate() {
        let st = WorkerState::new(s as u32, 0);
        // Each session sends every `n / rate` seconds, shifted by its share of one period.
        let paced = match plan.rate {
            Some(r) => {
                let period = Duration::from_secs_f64(f64::from(n) / r as f64);
                let next = start + period.mul_f64(s as f64 / f64::from(n));
                Some((Schedule { next, period }, Pacer::new()?))
            }
            None => None,
        };
        sessions.spawn(session(shared.clone(), requests.clone(), pipe, plan.outstanding as usize, st, paced));
    }
    if first == WARMUP {
        tokio::time::sleep(plan.warmup).await;
        shared.phase.store(MEASURE, Ordering::Relaxed);
    }
    let meter = CpuMeter::start(plan.server_pid);
    let mut back = Vec::new();
    let end = measure(&shared, &mut sessions, &mut back, plan.stop, plan.progress, meter.started()).await;
    shared.phase.store(STOP, Ordering::Relaxed);
    let cpu = meter.stop();
    drain(sessions, &mut back).await;
    let r = &shared.recorder;
    let outcome = Outcome {
        hist: r.histogram()?,
        ops: r.ops(),
        errors: r.errors(),
        first_error: r.first_error(),
        elapsed: end.saturating_duration_since(meter.started()),
        cpu,
        send_lag: match plan.rate {
            Some(_) => Some(shared.lag.histogram()?),
            None => None,
        },
    };
    Ok((outcome, back))
}

/// Waits for the end of the measured interval (the deadline, or every session done), drawing
/// progress; returns when it ended. Sessions that end meanwhile are put in `back`.
async fn measure(
    shared: &Shared,
    sessions: &mut Sessions,
    back: &mut Vec<Pipe>,
    stop: Stop,
    title: Option<&str>,
    started: Instant,
) -> Instant {
    let (deadline, bar) = match stop {
        Stop::After(d) => (Some(started + d), title.map(|t| Progress::timed(t, d.as_millis() as u64))),
        Stop::Ops(n) => (None, title.map(|t| Progress::new(t, n, "ops"))),
    };
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            _ = sleep_until(deadline) => return Instant::now(),
            joined = sessions.join_next() => match joined {
                Some(r) => back.extend(r.ok().flatten()),
                None => return Instant::now(),
            },
            _ = tick.tick() => {
                if let Some(bar) = &bar {
                    let (ops, t) = (shared.recorder.ops(), started.elapsed());
                    let ops_s = rate(ops, t);
                    match stop {
                        Stop::After(d) => bar.set(t.as_millis() as u64, || {
                            format!("{:.1}/{:.1} s {ops_s:.0} ops/s", t.as_secs_f64(), d.as_secs_f64())
                        }),
                        Stop::Ops(_) => bar.set(ops, || format!("{ops_s:.0} ops/s")),
                    }
                }
            }
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Lets requests in flight finish (not counted) and collects the sessions; aborts what is left
/// after [`DRAIN_TIMEOUT`].
async fn drain(mut sessions: Sessions, back: &mut Vec<Pipe>) {
    let all = async {
        while let Some(r) = sessions.join_next().await {
            back.extend(r.ok().flatten());
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, all).await.is_err() {
        sessions.abort_all();
    }
}

/// An open-loop session's send times.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    next: Instant,
    period: Duration,
}

/// One session: queue requests up to `outstanding` (with a schedule: those whose time has come),
/// write them, take the replies, repeat, until the stop (or the tickets run out) and nothing is
/// in flight. Returns the session, or `None` if its connection failed.
async fn session(
    shared: Arc<Shared>,
    requests: Arc<Gen>,
    mut pipe: Pipe,
    outstanding: usize,
    mut st: WorkerState,
    paced: Option<(Schedule, Pacer)>,
) -> Option<Pipe> {
    let (mut schedule, mut pacer) = paced.unzip();
    let mut local = shared.recorder.local();
    let mut lag = shared.lag.local();
    let mut in_flight: VecDeque<InFlight<Option<u64>>> = VecDeque::with_capacity(outstanding);
    let mut done = false;
    loop {
        let now = Instant::now();
        while !done && in_flight.len() < outstanding && !pipe.batch_full() {
            // Open loop: only requests whose time has come, stamped with that time.
            let sent = match &mut schedule {
                Some(sch) if sch.next > now => break,
                Some(sch) => {
                    let t = sch.next;
                    sch.next += sch.period;
                    t
                }
                None => now,
            };
            let ticket = match shared.next() {
                Next::Warmup => None,
                Next::Measured(t) => Some(t),
                Next::Done => {
                    done = true;
                    break;
                }
            };
            if schedule.is_some() && ticket.is_some() {
                lag.record(now.saturating_duration_since(sent));
            }
            let x = pipe.queue(&requests.request(&mut st, ticket));
            in_flight.push_back(InFlight { xid: x, sent, tag: ticket });
        }
        if shared.phase() == STOP {
            done = true;
        }
        if in_flight.is_empty() && (done || schedule.is_none()) {
            return Some(pipe);
        }
        // Wake for the next send time, unless only a reply can make room for it.
        let blocked = in_flight.len() >= outstanding || pipe.batch_full();
        let wake = if done || blocked { None } else { schedule.map(|s| s.next) };
        let wake = async {
            match (wake, &mut pacer) {
                (Some(t), Some(p)) => {
                    if p.until(t).await.is_err() {
                        // The timer failed (not seen in practice): only replies wake the session.
                        std::future::pending::<()>().await;
                    }
                }
                _ => std::future::pending().await,
            }
        };
        let res = pipe
            .exchange_until(&mut in_flight, REQUEST_TIMEOUT, wake, |reply, at| {
                if !shared.counts(reply.request.tag) {
                    return;
                }
                if reply.err == 0 {
                    local.record(at.saturating_duration_since(reply.request.sent));
                } else {
                    local.error(&code_name(reply.err));
                }
            })
            .await;
        if let Err(e) = res {
            local.error(&format!("session 0x{:x} lost: {e}", pipe.session_id));
            return None;
        }
    }
}

/// An error reply's code as ZooKeeper names it.
fn code_name(code: i32) -> String {
    match ErrorCode::from_code(code) {
        Some(c) => format!("KeeperErrorCode = {c}"),
        None => format!("KeeperErrorCode = unknown error code {code}"),
    }
}
