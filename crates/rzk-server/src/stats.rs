//! Counters the four-letter words and metrics report (`ServerStats`, per-connection stats): the
//! shell keeps them because it sees the time each request arrived and each reply left.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::metrics::{BufferStats, Metrics};

/// Latency bookkeeping shared by the server and each connection (min/avg/max in ms).
#[derive(Debug, Clone, Default)]
pub struct Latency {
    pub count: u64,
    pub total_ms: u64,
    pub min_ms: u64,
    pub max_ms: u64,
}

impl Latency {
    pub fn add(&mut self, ms: u64) {
        if self.count == 0 || ms < self.min_ms {
            self.min_ms = ms;
        }
        self.max_ms = self.max_ms.max(ms);
        self.count += 1;
        self.total_ms += ms;
    }

    /// ZooKeeper prints the average with one decimal as a double (e.g. 0.0).
    pub fn avg(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.total_ms as f64 / self.count as f64 }
    }

    pub fn reset(&mut self) {
        *self = Latency::default();
    }
}

#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub latency: Latency,
    pub fsync_threshold_exceeded: u64,
    pub auth_failed: u64,
    /// Sizes of replies and watch events (`last/min/max_client_response_size`).
    pub client_response: BufferStats,
    pub metrics: Metrics,
}

impl ServerStats {
    /// `srst` (`ServerStats.reset`): latency, packet counters, response sizes and every metric;
    /// the fsync-threshold and auth-failure counts survive, as in ZooKeeper.
    pub fn reset(&mut self, shared: &SharedCounters) {
        self.packets_received = 0;
        self.packets_sent = 0;
        self.latency.reset();
        self.client_response = BufferStats::default();
        self.metrics.reset();
        shared.bytes_received.store(0, Ordering::Relaxed);
    }
}

/// Counters the connection tasks bump without a message to the core.
#[derive(Debug, Default)]
pub struct SharedCounters {
    /// `bytes_received_count`: frame bytes read, length prefixes and four-letter words included.
    pub bytes_received: AtomicU64,
}

impl SharedCounters {
    pub fn add_bytes_received(&self, n: usize) {
        self.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }
}

/// A request received and not yet answered.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub xid: i32,
    pub at: Instant,
    /// Whether it is a write (its latency counts as `updatelatency`, else `readlatency`).
    pub write: bool,
}

#[derive(Debug, Clone)]
pub struct ConnStats {
    pub remote: SocketAddr,
    pub established: Instant,
    pub established_wall_ms: i64,
    pub received: u64,
    pub sent: u64,
    pub session_id: Option<i64>,
    pub session_timeout_ms: i32,
    pub last_op: &'static str,
    pub last_cxid: i32,
    pub last_zxid: i64,
    /// When the last reply left, in ms since the server started (ZooKeeper prints
    /// `Time.currentElapsedTime`, a monotonic clock, as `lresp`).
    pub last_response_ms: i64,
    pub last_latency_ms: u64,
    pub latency: Latency,
    /// Requests received and not yet answered.
    pub pending: VecDeque<Pending>,
    /// The last read or write on the connection (the NIO factory's idle-expiry queue).
    pub last_touch: Instant,
    /// When a handshake asking for a new session arrived, until its reply (the createSession
    /// request counts in the latency stats as `SESS`).
    pub new_session_since: Option<Instant>,
}

impl ConnStats {
    pub fn new(remote: SocketAddr, wall_ms: i64) -> ConnStats {
        ConnStats {
            remote,
            established: Instant::now(),
            established_wall_ms: wall_ms,
            received: 0,
            sent: 0,
            session_id: None,
            session_timeout_ms: 0,
            last_op: "NA",
            last_cxid: -1,
            last_zxid: -1,
            last_response_ms: 0,
            last_latency_ms: 0,
            latency: Latency::default(),
            pending: VecDeque::new(),
            last_touch: Instant::now(),
            new_session_since: None,
        }
    }

    /// A request arrived.
    pub fn request_received(&mut self, xid: i32, write: bool) {
        let now = Instant::now();
        self.received += 1;
        self.last_touch = now;
        self.pending.push_back(Pending { xid, at: now, write });
    }

    /// The pending request a reply with `xid` answers (a ping reply answers the oldest ping).
    pub fn take_pending(&mut self, xid: i32) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.xid == xid)?;
        self.pending.remove(i)
    }

    /// `ServerCnxn.updateStatsForResponse`: special (negative) xids do not replace `lcxid`.
    pub fn replied(&mut self, op: &'static str, cxid: i32, zxid: i64, latency_ms: u64, now_ms: i64) {
        if cxid >= 0 {
            self.last_cxid = cxid;
        }
        self.last_zxid = zxid;
        self.last_op = op;
        self.last_response_ms = now_ms;
        self.last_latency_ms = latency_ms;
        self.latency.add(latency_ms);
    }

    /// `crst`: resets the connection's counters.
    pub fn reset(&mut self) {
        self.received = 0;
        self.sent = 0;
        self.last_op = "NA";
        self.last_cxid = -1;
        self.last_zxid = -1;
        self.last_response_ms = 0;
        self.last_latency_ms = 0;
        self.latency.reset();
    }
}
