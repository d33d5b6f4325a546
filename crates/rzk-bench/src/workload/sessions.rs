//! `sessions`: opens `--count` sessions with `--parallel` connects in flight, as fast as the
//! server accepts them; the figure is connects per second (TCP connect, then ConnectRequest to
//! ConnectResponse), with each connect's latency in the histogram. The sessions are lean
//! [`Pipe`]s (a socket and a small buffer each), so the bench can hold many of them. With
//! `--server-pid`, the server's resident memory is read before and once all sessions are open,
//! after `--hold` seconds during which each session pings as a client would. The sessions are
//! then closed, untimed.
//!
//! With `--detach` each connection is closed right after its handshake without closing its
//! session, which the server then holds until its timeout: the bench keeps no socket, so the run
//! can leave more sessions on the server than this process may open files. The server's own
//! count (`mntr` zk_global_sessions) and memory are read once all are open.

use std::time::{Duration, Instant};

use super::{round1, round3, spec};
use crate::args::Bench;
use crate::connect::{CONNECT_TIMEOUT, SETUP_PARALLEL_MAX, bounded, close_pipes};
use crate::error::BenchError;
use crate::mntr;
use crate::pipe::{Pipe, PipeError, READ_BUF_BYTES_IDLE, loopback_source};
use crate::procstat::{CpuMeter, rss_kb};
use crate::progress::Progress;
use crate::report::Report;
use crate::stats::{Latency, Recorder, rate};

pub async fn run(
    b: &Bench,
    count: u32,
    parallel: u32,
    hold: Duration,
    detach: bool,
) -> Result<Report, BenchError> {
    let spec = spec(b);
    let recorder = Recorder::new()?;
    let rss_before = b.server_pid.and_then(rss_kb);
    let bar = Progress::new("sessions", u64::from(count), "sessions");
    let meter = CpuMeter::start(b.server_pid);
    let make = |i| {
        let (server, timeout) = (spec.server.clone(), spec.session_timeout);
        let source = loopback_source(i, spec.source_ips);
        async move {
            let t0 = Instant::now();
            let p = Pipe::connect(&server, source, timeout, CONNECT_TIMEOUT, READ_BUF_BYTES_IDLE).await;
            // Detached: the socket closes here (no closeSession); the session stays on the server.
            p.map(|p| (if detach { None } else { Some(p) }, t0.elapsed()))
        }
    };
    let mut done = 0u64;
    let results = bounded(
        count as usize,
        parallel as usize,
        make,
        |r: &Result<(Option<Pipe>, Duration), PipeError>| {
            match r {
                Ok((_, took)) => recorder.record(*took),
                Err(e) => recorder.error(&format!("connect: {e}")),
            }
            done += 1;
            if done.is_multiple_of(64) {
                bar.set(done, String::new);
            }
        },
    )
    .await;
    let elapsed = meter.started().elapsed();
    let cpu = meter.stop();
    drop(bar);
    let mut pipes: Vec<Pipe> = results.into_iter().filter_map(|r| r.ok().and_then(|(p, _)| p)).collect();
    if !hold.is_zero() {
        pipes = keep_alive(pipes, hold, b.session_timeout).await;
    }
    let rss = b.server_pid.and_then(rss_kb);
    let server_sessions = if detach { mntr::global_sessions(&spec.server).await } else { None };
    close_pipes(pipes).await;
    let mut r = Report::new(b);
    r.ops = recorder.ops();
    r.errors = recorder.errors();
    r.first_error = recorder.first_error();
    r.duration_s = round3(elapsed.as_secs_f64());
    r.ops_per_s = round1(rate(r.ops, elapsed));
    r.latency_us = Latency::of(&recorder.histogram()?);
    (r.wall_s, r.client_cpu_s, r.server_cpu_s) = (cpu.wall_s, cpu.client_s, cpu.server_s);
    (r.server_rss_before_kb, r.server_rss_kb) = (rss_before, rss);
    r.server_sessions = server_sessions;
    Ok(r)
}

/// Holds the sessions for `hold`, pinging each every third of the session timeout (as Java's
/// client does when idle); returns those still alive.
async fn keep_alive(mut pipes: Vec<Pipe>, hold: Duration, session_timeout: Duration) -> Vec<Pipe> {
    let end = Instant::now() + hold;
    let every = (session_timeout / 3).max(Duration::from_millis(100));
    loop {
        let now = Instant::now();
        if now >= end {
            return pipes;
        }
        tokio::time::sleep((end - now).min(every)).await;
        let mut rest = pipes.into_iter();
        let n = rest.len();
        let make = |_| {
            let p = rest.next();
            async move {
                let mut p = p?;
                p.ping(CONNECT_TIMEOUT).await.ok().map(|()| p)
            }
        };
        pipes = bounded(n, SETUP_PARALLEL_MAX, make, |_| {}).await.into_iter().flatten().collect();
    }
}
