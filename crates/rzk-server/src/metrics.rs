//! The measured metrics behind `mntr`, the `monitor` admin command and the Prometheus endpoint: ZooKeeper's
//! `AvgMinMaxCounter` (basic summaries), `AvgMinMaxPercentileCounter` (summaries with p50–p999
//! over a uniform reservoir), `BufferStats` (response sizes) and the counters rzk can observe.
//! Which names these feed, and in what order `mntr` prints them, is `crate::mntr`. With the
//! Prometheus endpoint on, each summary also keeps its recent values ([`window`]) for the
//! quantiles that endpoint reports.

use std::time::Instant;

use crate::four_letter::java;

pub mod window;

use window::QuantileWindow;

/// `AvgMinMaxCounter`: count, sum, min and max of data points (ms, bytes or counts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub count: u64,
    pub total: i64,
    min: Option<i64>,
    max: Option<i64>,
    /// Recent values, for Prometheus quantiles (only when that endpoint is on).
    window: Option<Box<QuantileWindow>>,
}

impl Summary {
    pub fn add(&mut self, v: i64) {
        self.count += 1;
        self.total = self.total.wrapping_add(v);
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = Some(self.max.map_or(v, |m| m.max(v)));
        if let Some(w) = &mut self.window {
            w.add(v);
        }
    }

    /// Starts keeping recent values (see [`window`]).
    pub fn keep_window(&mut self) {
        self.window = Some(Box::new(QuantileWindow::new(Instant::now())));
    }

    /// The `q` quantile of the recent values; NaN when none are kept.
    pub fn recent_quantile(&mut self, q: f64) -> f64 {
        self.window.as_mut().map_or(f64::NAN, |w| w.quantile(q))
    }

    /// Rounded half-up to 4 decimals, as `getAvg` does.
    pub fn avg(&self) -> f64 {
        java::avg4(self.total, self.count)
    }

    /// 0 when empty, as `getMin` reports it.
    pub fn min(&self) -> i64 {
        self.min.unwrap_or(0)
    }

    pub fn max(&self) -> i64 {
        self.max.unwrap_or(0)
    }

    /// Empties the summary; a kept window stays on, emptied.
    pub fn reset(&mut self) {
        let window = self.window.take().map(|mut w| {
            w.clear(Instant::now());
            w
        });
        *self = Summary { window, ..Summary::default() };
    }
}

/// Values kept for percentiles (`ResettableUniformReservoir.DEFAULT_SIZE`).
pub const RESERVOIR_VALUES_MAX: usize = 4096;

/// `AvgMinMaxPercentileCounter`: a [`Summary`] plus a uniform sample for p50/p95/p99/p99.9.
/// Replacement uses a fixed-seed xorshift generator, not a global RNG, so runs are repeatable.
#[derive(Debug, Clone)]
pub struct Percentiles {
    pub summary: Summary,
    seen: u64,
    sample: Vec<i64>,
    rng: u64,
}

impl Default for Percentiles {
    fn default() -> Self {
        Percentiles { summary: Summary::default(), seen: 0, sample: Vec::new(), rng: 0x9e37_79b9_7f4a_7c15 }
    }
}

impl Percentiles {
    pub fn add(&mut self, v: i64) {
        self.summary.add(v);
        self.seen += 1;
        if self.sample.len() < RESERVOIR_VALUES_MAX {
            self.sample.push(v);
            return;
        }
        // Vitter's algorithm R: keep the new value with probability size/seen.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let slot = self.rng % self.seen;
        if let Some(s) = self.sample.get_mut(slot as usize) {
            *s = v;
        }
    }

    /// `Math.round(snapshot.getValue(q))` with Dropwizard's `UniformSnapshot` interpolation.
    pub fn quantile(&self, q: f64) -> i64 {
        let mut v = self.sample.clone();
        if v.is_empty() {
            return 0;
        }
        v.sort_unstable();
        let pos = q * (v.len() + 1) as f64;
        let index = pos as usize;
        let value = if index < 1 {
            v[0] as f64
        } else if index >= v.len() {
            v[v.len() - 1] as f64
        } else {
            let (lower, upper) = (v[index - 1] as f64, v[index] as f64);
            lower + (pos - pos.floor()) * (upper - lower)
        };
        // Math.round: floor(x + 0.5).
        (value + 0.5).floor() as i64
    }

    /// Empties the counter; a kept window stays on, emptied.
    pub fn reset(&mut self) {
        let mut summary = std::mem::take(&mut self.summary);
        summary.reset();
        *self = Percentiles { summary, ..Percentiles::default() };
    }
}

/// `BufferStats`: the last, smallest and largest response sizes; −1 before the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStats {
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

impl Default for BufferStats {
    fn default() -> Self {
        BufferStats { last: -1, min: -1, max: -1 }
    }
}

impl BufferStats {
    pub fn record(&mut self, size: i64) {
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        self.max = self.max.max(size);
    }
}

/// The `ServerMetrics` rzk measures. Everything here is reset by `srst`, as
/// `ServerMetrics.resetAll` resets ZooKeeper's.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// `connection_request_count`: session handshakes received.
    pub connection_requests: u64,
    /// `response_bytes`: bytes of replies (header + body, without the length prefix).
    pub response_bytes: u64,
    /// `fsynctime`: ms per txn-log fsync.
    pub fsync_time: Summary,
    /// `snapshottime`: ms to take and write a snapshot.
    pub snapshot_time: Summary,
    /// `sync_processor_batch_size`: txns per group commit.
    pub sync_batch_size: Summary,
    /// `dbinittime`: ms to load the database at start-up.
    pub db_init_time: Summary,
    /// `startup_txns_loaded` and `startup_txns_load_time`: the txn-log replay at start-up.
    pub startup_txns_loaded: Summary,
    pub startup_txns_load_time: Summary,
    /// `readlatency` / `updatelatency`: ms from a request's arrival to its reply.
    pub read_latency: Percentiles,
    pub update_latency: Percentiles,
    /// `propagation_latency`: ms from a txn's preparation to its application. rzk prepares a
    /// write when it arrives, so this is a write's latency up to the commit.
    pub propagation_latency: Percentiles,
}

impl Metrics {
    /// A counter by its ZooKeeper name, if rzk measures it.
    pub fn counter(&self, name: &str) -> Option<u64> {
        match name {
            "connection_request_count" => Some(self.connection_requests),
            "response_bytes" => Some(self.response_bytes),
            _ => None,
        }
    }

    /// A basic summary by its ZooKeeper name, if rzk measures it.
    pub fn summary(&self, name: &str) -> Option<&Summary> {
        match name {
            "fsynctime" => Some(&self.fsync_time),
            "snapshottime" => Some(&self.snapshot_time),
            "sync_processor_batch_size" => Some(&self.sync_batch_size),
            "dbinittime" => Some(&self.db_init_time),
            "startup_txns_loaded" => Some(&self.startup_txns_loaded),
            "startup_txns_load_time" => Some(&self.startup_txns_load_time),
            _ => None,
        }
    }

    /// A summary with percentiles by its ZooKeeper name, if rzk measures it.
    pub fn percentiles(&self, name: &str) -> Option<&Percentiles> {
        match name {
            "readlatency" => Some(&self.read_latency),
            "updatelatency" => Some(&self.update_latency),
            "propagation_latency" => Some(&self.propagation_latency),
            _ => None,
        }
    }

    /// `srst`. Windows kept for Prometheus stay on (emptied).
    pub fn reset(&mut self) {
        let windows = self.fsync_time.window.is_some();
        *self = Metrics::default();
        if windows {
            self.keep_windows();
        }
    }

    /// Every measured summary keeps its recent values (the Prometheus endpoint is on).
    pub fn keep_windows(&mut self) {
        for s in self.summaries_mut() {
            s.keep_window();
        }
    }

    fn summaries_mut(&mut self) -> [&mut Summary; 9] {
        [
            &mut self.fsync_time,
            &mut self.snapshot_time,
            &mut self.sync_batch_size,
            &mut self.db_init_time,
            &mut self.startup_txns_loaded,
            &mut self.startup_txns_load_time,
            &mut self.read_latency.summary,
            &mut self.update_latency.summary,
            &mut self.propagation_latency.summary,
        ]
    }

    /// A summary (basic or with percentiles) by its ZooKeeper name, to read its window.
    pub fn summary_mut(&mut self, name: &str) -> Option<&mut Summary> {
        match name {
            "fsynctime" => Some(&mut self.fsync_time),
            "snapshottime" => Some(&mut self.snapshot_time),
            "sync_processor_batch_size" => Some(&mut self.sync_batch_size),
            "dbinittime" => Some(&mut self.db_init_time),
            "startup_txns_loaded" => Some(&mut self.startup_txns_loaded),
            "startup_txns_load_time" => Some(&mut self.startup_txns_load_time),
            "readlatency" => Some(&mut self.read_latency.summary),
            "updatelatency" => Some(&mut self.update_latency.summary),
            "propagation_latency" => Some(&mut self.propagation_latency.summary),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_report_zero_when_empty() {
        let mut s = Summary::default();
        assert_eq!((s.min(), s.max(), s.avg()), (0, 0, 0.0));
        for v in [1, 12, 1, 1, 1, 1, 8] {
            s.add(v);
        }
        assert_eq!((s.count, s.total, s.min(), s.max()), (7, 25, 1, 12));
        assert_eq!(java::double(s.avg()), "3.5714");
    }

    #[test]
    fn percentiles_interpolate_as_dropwizard() {
        let mut p = Percentiles::default();
        assert_eq!(p.quantile(0.5), 0);
        // The reference's updatelatency: 7 points, p50 1, p95 12.
        for v in [1, 12, 1, 1, 1, 1, 8] {
            p.add(v);
        }
        assert_eq!(p.quantile(0.5), 1);
        assert_eq!(p.quantile(0.95), 12);
        let mut p = Percentiles::default();
        for v in 1..=10 {
            p.add(v);
        }
        // pos = 0.5 * 11 = 5.5 → 5 + 0.5 * (6 - 5) = 5.5 → 6.
        assert_eq!(p.quantile(0.5), 6);
    }

    #[test]
    fn the_reservoir_stays_bounded() {
        let mut p = Percentiles::default();
        for v in 0..(RESERVOIR_VALUES_MAX as i64 * 3) {
            p.add(v);
        }
        assert_eq!(p.sample.len(), RESERVOIR_VALUES_MAX);
        assert_eq!(p.summary.count, RESERVOIR_VALUES_MAX as u64 * 3);
    }

    #[test]
    fn buffer_stats_start_at_minus_one() {
        let mut b = BufferStats::default();
        assert_eq!((b.last, b.min, b.max), (-1, -1, -1));
        b.record(90);
        b.record(16);
        assert_eq!((b.last, b.min, b.max), (16, 16, 90));
    }
}
