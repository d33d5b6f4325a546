//! Sub-millisecond wake-ups for the open-loop schedule (`--rate`). tokio's timer works in whole
//! milliseconds: a sleep ends at the first millisecond tick at or after its deadline. At 10,000
//! ops/s over 8 sessions a session sends every 0.8 ms, so with tokio's timer most requests would
//! leave 0–1 ms after their scheduled time, and that lateness of the bench would be counted in
//! every latency (which runs from the scheduled time), for whichever server is measured.
//!
//! Each paced session owns a [`Pacer`]: a Linux `timerfd` armed for its next send time and
//! registered with the runtime's I/O driver. The runtime thread waiting in `epoll_wait` wakes
//! when the timer fires and runs the session at once: no timer slack (a `timerfd` is exact, where
//! a sleeping thread's timeout may be 50 µs late) and no hand-off from a timer thread to a
//! runtime thread (on a virtual machine each cross-thread wake-up costs tens of microseconds).
//! How late sends still leave is measured and reported (`send_lag_us`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

/// One session's send timer.
pub struct Pacer {
    fd: AsyncFd<OwnedFd>,
}

impl Pacer {
    /// A timer on the current runtime's I/O driver (call from within the runtime).
    pub fn new() -> io::Result<Pacer> {
        // SAFETY: timerfd_create takes no pointers; a non-negative result is a new descriptor
        // that nothing else owns.
        let raw =
            unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else (above).
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: an OwnedFd keeps its descriptor open and the same until it is dropped, which
        // is when the AsyncFd holding it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }?;
        Ok(Pacer { fd })
    }

    /// Ends at `at` (at once if it has passed). Arming again (a later call) replaces the
    /// deadline, so a wait given up for a reply leaves nothing behind.
    pub async fn until(&self, at: Instant) -> io::Result<()> {
        let now = Instant::now();
        if at <= now {
            return Ok(());
        }
        self.arm(at - now)?;
        loop {
            let mut ready = self.fd.readable().await?;
            if self.expired()? {
                return Ok(());
            }
            // Readiness left over from an expiry consumed or disarmed before this wait.
            ready.clear_ready();
        }
    }

    /// One expiry, `wait` from now (a one-shot timer).
    fn arm(&self, wait: Duration) -> io::Result<()> {
        // A zero it_value disarms the timer: wait at least a nanosecond.
        let nanos = wait.subsec_nanos().max(u32::from(wait.as_secs() == 0));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: wait.as_secs().try_into().unwrap_or(libc::time_t::MAX),
                tv_nsec: nanos.into(),
            },
        };
        // SAFETY: `spec` is a valid itimerspec for the call; the old value is not asked for.
        let r = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Whether the timer has fired since it was last armed (reads its expiry count).
    fn expired(&self) -> io::Result<bool> {
        let mut count = 0u64;
        // SAFETY: reads at most 8 bytes into `count`, which is 8 bytes long.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), (&raw mut count).cast(), 8) };
        if n == 8 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        if n < 0 && e.kind() == io::ErrorKind::WouldBlock { Ok(false) } else { Err(e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn never_wakes_before_the_deadline() {
        // How late it wakes is a measurement (`send_lag_us` of a `--rate` run), not a test.
        let pacer = Pacer::new().expect("timerfd");
        for i in 0..200u32 {
            // Deadlines between milliseconds, as an open-loop schedule makes them.
            let at = Instant::now() + Duration::from_micros(300 + u64::from(i % 7) * 90);
            pacer.until(at).await.expect("wait");
            assert!(Instant::now() >= at);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_wait_given_up_leaves_the_next_one_exact() {
        let pacer = Pacer::new().expect("timerfd");
        // Armed for 1 ms, given up after its first poll, then left to fire unread.
        let abandoned = pacer.until(Instant::now() + Duration::from_millis(1));
        tokio::pin!(abandoned);
        tokio::select! {
            biased;
            _ = &mut abandoned => panic!("ended before its deadline"),
            () = std::future::ready(()) => {}
        }
        std::thread::sleep(Duration::from_millis(3));
        // The stale expiry does not end the next wait early.
        let at = Instant::now() + Duration::from_millis(20);
        pacer.until(at).await.expect("wait");
        assert!(Instant::now() >= at, "ended {:?} early", at - Instant::now());
        // A deadline already past ends at once.
        tokio::time::timeout(Duration::from_secs(5), pacer.until(Instant::now() - Duration::from_millis(1)))
            .await
            .expect("at once")
            .expect("wait");
    }
}
