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
    /// The deadline the timer is armed for and has not been seen to pass: a session waits for
    /// the same send time again after each reply, and that needs no new `timerfd_settime`.
    armed: Option<Instant>,
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
        Ok(Pacer { fd, armed: None })
    }

    /// Ends at `at` (at once if it has passed). A later call for another deadline re-arms the
    /// timer, replacing the old one, so a wait given up for a reply leaves nothing behind; a call
    /// for the same deadline keeps the timer as armed.
    pub async fn until(&mut self, at: Instant) -> io::Result<()> {
        let now = Instant::now();
        if at <= now {
            return Ok(());
        }
        if self.armed != Some(at) {
            self.arm(at - now)?;
            self.armed = Some(at);
        }
        loop {
            let mut ready = self.fd.readable().await?;
            if self.expired()? {
                self.armed = None;
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
        let mut pacer = Pacer::new().expect("timerfd");
        for i in 0..200u32 {
            // Deadlines between milliseconds, as an open-loop schedule makes them.
            let at = Instant::now() + Duration::from_micros(300 + u64::from(i % 7) * 90);
            pacer.until(at).await.expect("wait");
            assert!(Instant::now() >= at);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_wait_given_up_leaves_the_next_one_exact() {
        let mut pacer = Pacer::new().expect("timerfd");
        // Armed for 1 ms, given up after its first poll (as a session does when a reply comes
        // first), then waited for again: the same deadline, without arming again.
        let first = Instant::now() + Duration::from_millis(1);
        give_up_after_one_poll(&mut pacer, first).await;
        pacer.until(first).await.expect("wait");
        assert!(Instant::now() >= first);
        // Given up again and left to fire unread: the stale expiry does not end the next wait,
        // for another deadline, early.
        give_up_after_one_poll(&mut pacer, Instant::now() + Duration::from_millis(1)).await;
        std::thread::sleep(Duration::from_millis(3));
        let at = Instant::now() + Duration::from_millis(20);
        pacer.until(at).await.expect("wait");
        assert!(Instant::now() >= at, "ended {:?} early", at - Instant::now());
        // A deadline already past ends at once.
        tokio::time::timeout(Duration::from_secs(5), pacer.until(Instant::now() - Duration::from_millis(1)))
            .await
            .expect("at once")
            .expect("wait");
    }

    async fn give_up_after_one_poll(pacer: &mut Pacer, at: Instant) {
        let wait = pacer.until(at);
        tokio::pin!(wait);
        tokio::select! {
            biased;
            _ = &mut wait => panic!("ended before its deadline"),
            () = std::future::ready(()) => {}
        }
    }
}
