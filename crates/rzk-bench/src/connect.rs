//! Opening and closing many sessions: a bounded number of connects (or closes) in flight, each a
//! task on the runtime, so thousands of sessions open in parallel without thousands of pending
//! futures at once. Two kinds of session: an `rzk_client::Client` (setup calls, the watch
//! workload) with a small event buffer (the default of 4,096 events per session would cost
//! ~300 KiB each at 10,000 sessions), and a [`Pipe`] (the throughput and sessions workloads).

use std::future::Future;
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, ErrorCode, open_acl_unsafe};
use tokio::task::JoinSet;

use crate::error::BenchError;
use crate::pipe::{Pipe, loopback_source};

/// Events a bench session buffers (the watch workload needs one per round, read at once).
pub const EVENTS_PER_SESSION_MAX: usize = 64;
/// How long one connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A request without a reply after this long fails (RequestTimeout), so no run waits forever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long closing every session may take before the rest are dropped (the server then expires
/// them).
pub const CLOSE_ALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests a client session (setup, the watch workload's setter) may have in flight.
pub const CLIENT_IN_FLIGHT_MAX: usize = 64;
/// Connects or closes in flight during setup and tear-down.
pub const SETUP_PARALLEL_MAX: usize = 256;

/// How bench sessions are made.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub server: String,
    pub session_timeout: Duration,
    /// Loopback source addresses the pipelined sessions are spread over (1: the default route).
    pub source_ips: u8,
}

impl SessionSpec {
    /// Opens one client session and waits until it is connected.
    pub async fn connect(&self) -> Result<Client, rzk_client::Error> {
        Client::builder(&self.server, self.session_timeout)
            .event_capacity(EVENTS_PER_SESSION_MAX)
            .connect_timeout(CONNECT_TIMEOUT)
            .requests_in_flight_max(CLIENT_IN_FLIGHT_MAX)
            .request_timeout(REQUEST_TIMEOUT)
            .connect()
            .await
    }
}

/// Runs `make(0..count)` with at most `parallel` in flight, calling `done` after each; results
/// come in completion order (a task that panicked leaves no result).
pub async fn bounded<T, F>(
    count: usize,
    parallel: usize,
    mut make: impl FnMut(usize) -> F,
    mut done: impl FnMut(&T),
) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let mut out = Vec::with_capacity(count);
    let mut set = JoinSet::new();
    let mut started = 0;
    loop {
        while started < count && set.len() < parallel.max(1) {
            set.spawn(make(started));
            started += 1;
        }
        match set.join_next().await {
            Some(Ok(r)) => {
                done(&r);
                out.push(r);
            }
            Some(Err(_)) => {}
            None => return out,
        }
    }
}

/// One client connect's outcome: the session and how long it took, or why it failed.
pub type Connected = Result<(Client, Duration), rzk_client::Error>;

/// Opens `count` client sessions, `parallel` at a time, calling `done` after each.
pub async fn connect_many(
    spec: &SessionSpec,
    count: usize,
    parallel: usize,
    done: impl FnMut(&Connected),
) -> Vec<Connected> {
    let make = |_| {
        let spec = spec.clone();
        async move {
            let t0 = Instant::now();
            spec.connect().await.map(|c| (c, t0.elapsed()))
        }
    };
    bounded(count, parallel, make, done).await
}

/// Opens `count` client sessions for setup: all of them, or the first error.
pub async fn connect_all(spec: &SessionSpec, count: usize) -> Result<Vec<Client>, BenchError> {
    let mut clients = Vec::with_capacity(count);
    let mut failed = None;
    for r in connect_many(spec, count, SETUP_PARALLEL_MAX, |_| {}).await {
        match r {
            Ok((c, _)) => clients.push(c),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    let failed = failed.or_else(|| {
        (clients.len() < count).then(|| rzk_client::Error::BadArgument("a connect task failed".into()))
    });
    match failed {
        Some(e) => {
            close_all(clients).await;
            Err(BenchError::client(format!("connecting {count} sessions to {}", spec.server), e))
        }
        None => Ok(clients),
    }
}

/// Opens `count` pipelined sessions with read buffers of `read_buf_bytes` to start with: all of
/// them, or the first error.
pub async fn connect_pipes(
    spec: &SessionSpec,
    count: usize,
    read_buf_bytes: usize,
) -> Result<Vec<Pipe>, BenchError> {
    let make = |i| {
        let (server, timeout) = (spec.server.clone(), spec.session_timeout);
        let source = loopback_source(i, spec.source_ips);
        async move { Pipe::connect(&server, source, timeout, CONNECT_TIMEOUT, read_buf_bytes).await }
    };
    let mut pipes = Vec::with_capacity(count);
    let mut failed = None;
    for r in bounded(count, SETUP_PARALLEL_MAX, make, |_| {}).await {
        match r {
            Ok(p) => pipes.push(p),
            Err(e) => failed = failed.or(Some(e.to_string())),
        }
    }
    let failed = failed.or_else(|| (pipes.len() < count).then(|| "a connect task failed".to_owned()));
    match failed {
        Some(e) => {
            close_pipes(pipes).await;
            Err(BenchError::Failed(format!("connecting {count} sessions to {}: {e}", spec.server)))
        }
        None => Ok(pipes),
    }
}

/// Closes every client session, a bounded number at a time, for at most [`CLOSE_ALL_TIMEOUT`].
pub async fn close_all(clients: Vec<Client>) {
    let mut rest = clients.into_iter();
    let n = rest.len();
    let all = bounded(n, SETUP_PARALLEL_MAX, |_| close_next(rest.next()), |_| {});
    let _ = tokio::time::timeout(CLOSE_ALL_TIMEOUT, all).await;
}

async fn close_next(c: Option<Client>) {
    if let Some(c) = c {
        let _ = c.close().await;
    }
}

/// Closes every pipelined session, for at most [`CLOSE_ALL_TIMEOUT`].
pub async fn close_pipes(pipes: Vec<Pipe>) {
    let mut rest = pipes.into_iter();
    let n = rest.len();
    let make = |_| {
        let p = rest.next();
        async move {
            if let Some(p) = p {
                p.close().await;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_ALL_TIMEOUT, bounded(n, SETUP_PARALLEL_MAX, make, |_| {})).await;
}

/// Creates `path` and any missing parent, with empty data (existing nodes are fine).
pub async fn ensure_path(client: &Client, path: &str) -> Result<(), BenchError> {
    let acl = open_acl_unsafe();
    for prefix in prefixes(path) {
        match client.create(prefix, b"", &acl, CreateMode::Persistent).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(ErrorCode::NodeExists) => {}
            Err(e) => return Err(BenchError::client(format!("creating {prefix}"), e)),
        }
    }
    Ok(())
}

/// `/a/b/c` → `/a`, `/a/b`, `/a/b/c`.
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    let ends = path.match_indices('/').skip(1).map(|(i, _)| i).chain(std::iter::once(path.len()));
    ends.map(move |i| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_a_path() {
        assert_eq!(prefixes("/a/bc/d").collect::<Vec<_>>(), ["/a", "/a/bc", "/a/bc/d"]);
        assert_eq!(prefixes("/a").collect::<Vec<_>>(), ["/a"]);
    }

    #[tokio::test]
    async fn bounded_runs_everything_within_its_limit() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut seen = 0;
        let make = |i: usize| {
            let (now, peak) = (now.clone(), peak.clone());
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
                now.fetch_sub(1, Ordering::SeqCst);
                i
            }
        };
        let mut out = bounded(50, 4, make, |_| seen += 1).await;
        out.sort();
        assert_eq!(out, (0..50).collect::<Vec<_>>());
        assert_eq!(seen, 50);
        assert!(peak.load(Ordering::SeqCst) <= 4);
    }
}
