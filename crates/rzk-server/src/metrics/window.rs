//! The recent values behind a Prometheus summary's quantiles. ZooKeeper's Prometheus provider
//! uses the Prometheus Java client's `Summary`, whose quantiles cover a sliding window
//! (`TimeWindowQuantiles`: 10 minutes in 5 age buckets, each bucket reset every 2 minutes, every
//! value added to all of them, the oldest one read). rzk keeps the same buckets, each a bounded
//! uniform sample, and reads exact quantiles of the sample. Kept only when the Prometheus
//! endpoint is on.

use std::time::{Duration, Instant};

/// The window the quantiles cover (`Summary.DEFAULT_MAX_AGE_SECONDS`).
pub const WINDOW: Duration = Duration::from_secs(600);
/// Buckets of the window (`DEFAULT_AGE_BUCKETS`).
pub const AGE_BUCKETS: usize = 5;
/// Values kept per bucket.
pub const BUCKET_VALUES_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantileWindow {
    buckets: Vec<Bucket>,
    /// The bucket read (the one collecting longest).
    head: usize,
    rotate_at: Instant,
    rng: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bucket {
    seen: u64,
    sample: Vec<i64>,
}

impl QuantileWindow {
    pub fn new(now: Instant) -> QuantileWindow {
        QuantileWindow {
            buckets: vec![Bucket::default(); AGE_BUCKETS],
            head: 0,
            rotate_at: now + WINDOW / AGE_BUCKETS as u32,
            rng: 0x2545_f491_4f6c_dd1d,
        }
    }

    pub fn add(&mut self, v: i64) {
        self.add_at(v, Instant::now());
    }

    pub fn add_at(&mut self, v: i64, now: Instant) {
        self.rotate(now);
        for i in 0..AGE_BUCKETS {
            let r = self.next_rand();
            let b = &mut self.buckets[i];
            b.seen += 1;
            if b.sample.len() < BUCKET_VALUES_MAX {
                b.sample.push(v);
            } else if let Some(slot) = b.sample.get_mut((r % b.seen) as usize) {
                // Algorithm R: keep the new value with probability size/seen.
                *slot = v;
            }
        }
    }

    /// The `q` quantile of the values of the last up to 10 minutes; NaN when there are none.
    pub fn quantile(&mut self, q: f64) -> f64 {
        self.quantile_at(q, Instant::now())
    }

    pub fn quantile_at(&mut self, q: f64, now: Instant) -> f64 {
        self.rotate(now);
        let mut v = self.buckets[self.head].sample.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_unstable();
        // The smallest value with at least q of the values at or below it.
        let rank = (q * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1] as f64
    }

    pub fn clear(&mut self, now: Instant) {
        *self = QuantileWindow::new(now);
    }

    /// Every 2 minutes the head bucket is emptied and becomes the newest; the next one is read.
    fn rotate(&mut self, now: Instant) {
        let step = WINDOW / AGE_BUCKETS as u32;
        let mut turns = 0;
        while now >= self.rotate_at && turns < AGE_BUCKETS {
            self.buckets[self.head] = Bucket::default();
            self.head = (self.head + 1) % AGE_BUCKETS;
            self.rotate_at += step;
            turns += 1;
        }
        if now >= self.rotate_at {
            // Idle for longer than the window: every bucket is empty now.
            self.rotate_at = now + step;
        }
    }

    fn next_rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_cover_the_recent_values() {
        let t = Instant::now();
        let mut w = QuantileWindow::new(t);
        assert!(w.quantile_at(0.5, t).is_nan());
        for v in 1..=100 {
            w.add_at(v, t);
        }
        assert_eq!(w.quantile_at(0.5, t), 50.0);
        assert_eq!(w.quantile_at(0.9, t), 90.0);
        assert_eq!(w.quantile_at(0.99, t), 99.0);
        // Values stay for the whole window, then age out bucket by bucket.
        let step = WINDOW / AGE_BUCKETS as u32;
        assert_eq!(w.quantile_at(0.5, t + step * 4 + step / 2), 50.0);
        w.add_at(1000, t + step * 4 + step / 2);
        assert_eq!(w.quantile_at(0.5, t + step * 5 + step / 2), 1000.0);
        assert!(w.quantile_at(0.5, t + WINDOW * 3).is_nan());
    }

    #[test]
    fn buckets_stay_bounded() {
        let t = Instant::now();
        let mut w = QuantileWindow::new(t);
        for v in 0..(BUCKET_VALUES_MAX as i64 * 4) {
            w.add_at(v, t);
        }
        assert!(w.buckets.iter().all(|b| b.sample.len() == BUCKET_VALUES_MAX));
        let median = w.quantile_at(0.5, t);
        let n = (BUCKET_VALUES_MAX * 4) as f64;
        assert!((median - n / 2.0).abs() < n / 8.0, "median {median} of a uniform sample");
    }
}
