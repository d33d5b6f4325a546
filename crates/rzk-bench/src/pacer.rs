//! Sub-millisecond wake-ups for the open-loop schedule (`--rate`). tokio's timer works in whole
//! milliseconds: a sleep ends at the first millisecond tick at or after its deadline. At 10,000
//! ops/s over 8 sessions a session sends every 0.8 ms, so with tokio's timer most requests would
//! leave 0–1 ms after their scheduled time, and that lateness of the bench would be counted in
//! every latency (which runs from the scheduled time). The [`Pacer`] is one thread that sleeps
//! with the OS's high-resolution timer (a condvar wait with a timeout) until the earliest
//! deadline asked for and wakes the tasks waiting on it. How late sends still leave is measured
//! and reported (`send_lag_us`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Instant;

/// A deadline and the task to wake at it.
struct Entry {
    at: Instant,
    /// Order of registration, so entries with equal deadlines compare.
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct State {
    due: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
    stopped: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the heap whole: go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The timer thread; stopped when the `Pacer` is dropped. Clones of [`Pacer::until`]'s futures
/// may outlive it: they then end at once.
pub struct Pacer {
    shared: Arc<Shared>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Pacer {
    pub fn start() -> std::io::Result<Pacer> {
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new() });
        let s = shared.clone();
        let thread = thread::Builder::new().name("bench-pacer".into()).spawn(move || run(&s))?;
        Ok(Pacer { shared, thread: Some(thread) })
    }

    /// A future that ends at `at` (or at once if it has passed).
    pub fn until(&self, at: Instant) -> Until {
        Until { shared: self.shared.clone(), at, registered: None }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread: wake every task whose deadline has come, then sleep until the earliest left.
fn run(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if state.stopped {
            // Whoever still waits goes on at once rather than never.
            for Reverse(e) in state.due.drain() {
                e.waker.wake();
            }
            return;
        }
        let now = Instant::now();
        while state.due.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = state.due.pop() {
                e.waker.wake();
            }
        }
        state = match state.due.peek() {
            Some(Reverse(e)) => {
                let wait = e.at.saturating_duration_since(now);
                match shared.changed.wait_timeout(state, wait) {
                    Ok((s, _)) => s,
                    Err(e) => e.into_inner().0,
                }
            }
            None => shared.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// See [`Pacer::until`].
pub struct Until {
    shared: Arc<Shared>,
    at: Instant,
    /// The waker last handed to the thread (registered again only when it changes).
    registered: Option<Waker>,
}

impl Future for Until {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        if self.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let mut state = self.shared.lock();
        if state.stopped {
            return Poll::Ready(());
        }
        let earliest = state.due.peek().is_none_or(|Reverse(e)| self.at < e.at);
        let seq = state.next_seq;
        state.next_seq += 1;
        state.due.push(Reverse(Entry { at: self.at, seq, waker: cx.waker().clone() }));
        drop(state);
        if earliest {
            self.shared.changed.notify_one();
        }
        self.registered = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn never_wakes_before_the_deadline() {
        // How late it wakes is a measurement (`send_lag_us` of a `--rate` run), not a test.
        let pacer = Pacer::start().expect("thread");
        for i in 0..200u32 {
            // Deadlines between milliseconds, as an open-loop schedule makes them.
            let at = Instant::now() + Duration::from_micros(300 + u64::from(i % 7) * 90);
            pacer.until(at).await;
            assert!(Instant::now() >= at);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn deadlines_in_any_order_all_end_and_a_stopped_pacer_ends_its_futures() {
        let pacer = Pacer::start().expect("thread");
        let base = Instant::now();
        let waits: Vec<_> =
            [5u64, 1, 3, 1, 4].iter().map(|ms| pacer.until(base + Duration::from_millis(*ms))).collect();
        for w in waits {
            w.await;
        }
        assert!(base.elapsed() >= Duration::from_millis(5));
        let far = pacer.until(Instant::now() + Duration::from_secs(3600));
        drop(pacer);
        tokio::time::timeout(Duration::from_secs(5), far).await.expect("ends once the pacer stops");
    }
}
