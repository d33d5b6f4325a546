//! Counters the four-letter words and metrics report (`ServerStats`, per-connection stats): the
//! shell keeps them because it sees the time each request arrived and each reply left.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

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
    pub fsync_count: u64,
    pub fsync_total_ms: u64,
    pub fsync_threshold_exceeded: u64,
    pub auth_failed: u64,
    pub commits: u64,
}

impl ServerStats {
    /// `srst`: resets latency and packet counters.
    pub fn reset(&mut self) {
        self.packets_received = 0;
        self.packets_sent = 0;
        self.latency.reset();
        self.fsync_threshold_exceeded = 0;
        self.auth_failed = 0;
    }
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
    pub last_response_wall_ms: i64,
    pub last_latency_ms: u64,
    pub latency: Latency,
    /// Requests received and not yet answered: (xid, arrival).
    pub pending: VecDeque<(i32, Instant)>,
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
            last_response_wall_ms: 0,
            last_latency_ms: 0,
            latency: Latency::default(),
            pending: VecDeque::new(),
        }
    }

    /// `crst`: resets the connection's counters.
    pub fn reset(&mut self) {
        self.received = 0;
        self.sent = 0;
        self.last_op = "NA";
        self.last_cxid = -1;
        self.last_zxid = -1;
        self.last_response_wall_ms = 0;
        self.last_latency_ms = 0;
        self.latency.reset();
    }
}
