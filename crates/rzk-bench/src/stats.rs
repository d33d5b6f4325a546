//! What a run measures: latencies in one hdrhistogram (microseconds, 1 µs to 60 s, three
//! significant digits), counts of successes and errors, and the first error seen. Workers record
//! into a small local buffer ([`LocalRecorder`]) that is merged into the shared histogram every
//! [`LOCAL_SAMPLES_MAX`] samples, so memory stays one histogram plus a few KiB per worker however
//! many sessions run, and the shared lock is taken once per batch.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::BenchError;

/// Largest latency kept exactly (longer ones count as this).
pub const LATENCY_US_MAX: u64 = 60_000_000;
/// Significant digits of the histogram.
pub const LATENCY_SIGFIGS: u8 = 3;
/// Samples a worker buffers before merging them into the shared histogram.
pub const LOCAL_SAMPLES_MAX: usize = 256;
/// Longest error message kept.
pub const ERROR_TEXT_BYTES_MAX: usize = 200;

/// An empty latency histogram with the bench's bounds.
pub fn new_histogram() -> Result<Histogram<u64>, BenchError> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, LATENCY_SIGFIGS)
        .map_err(|e| BenchError::Histogram(format!("{e:?}")))
}

/// A duration in whole microseconds, at least 1 (the histogram's lowest value).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// The shared side: one histogram and the counters.
#[derive(Debug)]
pub struct Recorder {
    hist: Mutex<Histogram<u64>>,
    ops: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Recorder {
    pub fn new() -> Result<Recorder, BenchError> {
        Ok(Recorder {
            hist: Mutex::new(new_histogram()?),
            ops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
        })
    }

    /// A worker's buffer over this recorder.
    pub fn local(&self) -> LocalRecorder<'_> {
        LocalRecorder { shared: self, buf: Vec::with_capacity(LOCAL_SAMPLES_MAX) }
    }

    /// Successful operations recorded so far (buffered ones included).
    pub fn ops(&self) -> u64 {
        self.ops.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn error(&self, what: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock()
            && first.is_none()
        {
            *first = Some(truncate(what));
        }
    }

    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|f| f.clone())
    }

    /// Records one latency directly (for workloads with few samples).
    pub fn record(&self, latency: Duration) {
        self.merge(&[micros(latency)]);
    }

    /// A copy of the histogram (every local buffer must have been flushed: drop them first).
    pub fn histogram(&self) -> Result<Histogram<u64>, BenchError> {
        match self.hist.lock() {
            Ok(h) => Ok(h.clone()),
            Err(_) => Err(BenchError::Failed("a worker panicked while recording".into())),
        }
    }

    fn merge(&self, samples: &[u64]) {
        self.ops.fetch_add(samples.len() as u64, Ordering::Relaxed);
        if let Ok(mut h) = self.hist.lock() {
            for &us in samples {
                h.saturating_record(us);
            }
        }
    }
}

fn truncate(s: &str) -> String {
    let mut end = s.len().min(ERROR_TEXT_BYTES_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// A worker's buffer of samples; flushed when full and when dropped.
pub struct LocalRecorder<'a> {
    shared: &'a Recorder,
    buf: Vec<u64>,
}

impl LocalRecorder<'_> {
    pub fn record(&mut self, latency: Duration) {
        self.buf.push(micros(latency));
        if self.buf.len() >= LOCAL_SAMPLES_MAX {
            self.flush();
        }
    }

    pub fn error(&mut self, what: &str) {
        self.shared.error(what);
    }

    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.shared.merge(&self.buf);
            self.buf.clear();
        }
    }
}

impl Drop for LocalRecorder<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Latency percentiles in microseconds, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Latency {
    /// The percentiles of `h`; `None` when it holds no sample.
    pub fn of(h: &Histogram<u64>) -> Option<Latency> {
        if h.is_empty() {
            return None;
        }
        Some(Latency {
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }
}

/// Operations per second over `elapsed` (0 for an empty interval).
pub fn rate(ops: u64, elapsed: Duration) -> f64 {
    let s = elapsed.as_secs_f64();
    if s > 0.0 { ops as f64 / s } else { 0.0 }
}

/// Summary of per-round times in milliseconds (the watch workload's fan-out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rounds {
    pub min: f64,
    pub p50: f64,
    pub mean: f64,
    pub max: f64,
    pub rounds: Vec<f64>,
}

impl Rounds {
    /// `None` for no rounds. The median of an even count is the mean of the middle two.
    pub fn of(times: &[Duration]) -> Option<Rounds> {
        if times.is_empty() {
            return None;
        }
        let ms = |d: &Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let rounds: Vec<f64> = times.iter().map(ms).collect();
        let mut sorted = rounds.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let p50 = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        let mean = sorted.iter().sum::<f64>() / n as f64;
        Some(Rounds { min: sorted[0], p50, mean: (mean * 1e3).round() / 1e3, max: sorted[n - 1], rounds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let r = Recorder::new().expect("histogram");
        {
            let mut local = r.local();
            // 1..=1000 µs, once each: p50 ≈ 500, p99 ≈ 990, p999 ≈ 999.
            for us in 1..=1000u64 {
                local.record(Duration::from_micros(us));
            }
        }
        let h = r.histogram().expect("histogram");
        assert_eq!(h.len(), 1000);
        assert_eq!(r.ops(), 1000);
        let l = Latency::of(&h).expect("samples");
        assert_eq!((l.min, l.max), (1, 1000));
        assert!((499..=501).contains(&l.p50), "{l:?}");
        assert!((899..=901).contains(&l.p90), "{l:?}");
        assert!((989..=991).contains(&l.p99), "{l:?}");
        assert!((998..=1000).contains(&l.p999), "{l:?}");
        assert!((l.mean - 500.5).abs() < 1.0, "{l:?}");
    }

    #[test]
    fn local_buffers_merge_on_flush_and_drop() {
        let r = Recorder::new().expect("histogram");
        let mut a = r.local();
        let mut b = r.local();
        for _ in 0..LOCAL_SAMPLES_MAX {
            a.record(Duration::from_micros(10));
        }
        b.record(Duration::from_millis(5));
        // a flushed when its buffer filled; b still holds its sample.
        assert_eq!(r.histogram().expect("h").len(), LOCAL_SAMPLES_MAX as u64);
        drop(b);
        drop(a);
        let h = r.histogram().expect("h");
        assert_eq!(h.len(), LOCAL_SAMPLES_MAX as u64 + 1);
        assert!(h.max() >= 5000 && h.max() <= 5010);
    }

    #[test]
    fn errors_count_and_keep_the_first_message() {
        let r = Recorder::new().expect("histogram");
        assert_eq!(r.first_error(), None);
        r.local().error("first");
        r.error(&"x".repeat(1000));
        assert_eq!((r.errors(), r.first_error().as_deref()), (2, Some("first")));
        assert_eq!(truncate(&"é".repeat(200)).len(), ERROR_TEXT_BYTES_MAX);
    }

    #[test]
    fn extremes_are_clamped_not_lost() {
        let r = Recorder::new().expect("histogram");
        r.record(Duration::ZERO);
        r.record(Duration::from_secs(3600));
        let l = Latency::of(&r.histogram().expect("h")).expect("samples");
        assert_eq!(l.min, 1);
        assert!(l.max >= LATENCY_US_MAX && l.max < LATENCY_US_MAX + LATENCY_US_MAX / 500);
        assert_eq!(Latency::of(&new_histogram().expect("h")), None);
    }

    #[test]
    fn rates_and_rounds() {
        assert_eq!(rate(500, Duration::from_millis(250)), 2000.0);
        assert_eq!(rate(5, Duration::ZERO), 0.0);
        assert_eq!(Rounds::of(&[]), None);
        let r =
            Rounds::of(&[Duration::from_millis(30), Duration::from_millis(10), Duration::from_millis(20)])
                .expect("rounds");
        assert_eq!((r.min, r.p50, r.mean, r.max), (10.0, 20.0, 20.0, 30.0));
        assert_eq!(r.rounds, vec![30.0, 10.0, 20.0]);
        let even = Rounds::of(&[Duration::from_micros(1500), Duration::from_micros(2500)]).expect("rounds");
        assert_eq!(even.p50, 2.0);
    }
}
