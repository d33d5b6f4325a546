//! `RateLimiter` as 3.9's `snapshot` and `restore` use it: one call per interval, the first one
//! allowed at once. (ZooKeeper builds the snapshot limiter with `TimeUnit.MICROSECONDS`, which
//! makes `zookeeper.admin.rateLimiterIntervalInMS` mean microseconds there; rzk reads it as
//! milliseconds for both commands, as the property's name and the documentation say.)

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// When the last allowed call happened.
    last: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn new(interval_ms: u64) -> RateLimiter {
        RateLimiter { interval: Duration::from_millis(interval_ms), last: Mutex::new(None) }
    }

    /// Whether a call may run now (and, if so, counts it).
    pub fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }

    pub fn allow_at(&self, now: Instant) -> bool {
        let Ok(mut last) = self.last.lock() else { return false };
        match *last {
            Some(t) if now.saturating_duration_since(t) <= self.interval => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_call_per_interval() {
        let r = RateLimiter::new(1000);
        let t = Instant::now();
        assert!(r.allow_at(t));
        assert!(!r.allow_at(t + Duration::from_millis(1000)));
        assert!(r.allow_at(t + Duration::from_millis(1001)));
        assert!(!r.allow_at(t + Duration::from_millis(1500)));
        let off = RateLimiter::new(0);
        assert!(off.allow_at(t) && off.allow_at(t + Duration::from_millis(1)));
    }
}
