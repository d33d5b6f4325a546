//! Continuous write load for the ensemble tests: each writer is a session (connect string over
//! every member, each writer starting at a different one) creating unique znodes
//! `<root>/w<writer>-<seq>` whose data is a function of the path ([`expected_data`]), one at a time,
//! and recording each acknowledged create with its zxid (the created node's czxid) and when the
//! answer came. Errors (connection loss while a member dies, no quorum, an expired session) are
//! counted and the writer carries on with the next sequence number, on a new session if the
//! old one is gone. Unacknowledged creates may or may not have happened; acknowledged ones must
//! survive everything. Each writer session also holds an ephemeral under `<root>-eph`, which must
//! be gone everywhere once the load stops (every session closed).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, ErrorCode, open_acl_unsafe};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// One acknowledged create.
#[derive(Debug, Clone)]
pub struct Ack {
    pub path: String,
    pub zxid: i64,
    pub at: Instant,
    pub writer: usize,
}

/// Where the writers' ephemerals go: `<root>-eph` (created with the root).
pub const EPHEMERALS_SUFFIX: &str = "-eph";

/// The data every create under a load root carries: checkable for acknowledged and
/// unacknowledged nodes alike.
pub fn expected_data(path: &str) -> Vec<u8> {
    format!("data of {path}").into_bytes()
}

/// Writer numbers are unique in the test process, so that two loads never write the same path.
static NEXT_WRITER: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct Shared {
    acks: Mutex<Vec<Ack>>,
    errors: AtomicU64,
    expired: AtomicU64,
    stop: AtomicBool,
}

pub struct Load {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    pub started: Instant,
}

/// Session settings of the writers.
#[derive(Debug, Clone, Copy)]
pub struct WriterOpts {
    pub session_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for WriterOpts {
    fn default() -> Self {
        WriterOpts { session_timeout: Duration::from_secs(20), request_timeout: Duration::from_secs(8) }
    }
}

impl Load {
    /// Starts one writer per connect string (under `root`, which must exist).
    pub fn start(rt: &Runtime, connect_strings: Vec<String>, root: &str, opts: WriterOpts) -> Load {
        let shared = Arc::new(Shared::default());
        let tasks = connect_strings
            .into_iter()
            .map(|cs| {
                let w = NEXT_WRITER.fetch_add(1, Ordering::Relaxed);
                rt.spawn(writer(shared.clone(), w, cs, root.to_owned(), opts))
            })
            .collect();
        Load { shared, tasks, started: Instant::now() }
    }

    pub fn errors(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Writer sessions that expired.
    pub fn expired(&self) -> u64 {
        self.shared.expired.load(Ordering::Relaxed)
    }

    /// A copy of the acknowledgements so far.
    pub fn acks(&self) -> Vec<Ack> {
        self.shared.acks.lock().expect("acks").clone()
    }

    /// Acknowledgements that came after `t`.
    pub fn acked_since(&self, t: Instant) -> usize {
        self.shared.acks.lock().expect("acks").iter().filter(|a| a.at > t).count()
    }

    /// Polls until `n` creates were acknowledged after `since`; panics after `timeout`.
    pub fn wait_acked_since(&self, since: Instant, n: usize, timeout: Duration, what: &str) {
        let deadline = Instant::now() + timeout;
        loop {
            let have = self.acked_since(since);
            if have >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: only {have} of {n} writes acknowledged after {timeout:?} ({} errors)",
                self.errors()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the writers (each finishes or abandons its current request, then closes its
    /// session) and returns every acknowledgement.
    pub fn stop(self, rt: &Runtime) -> Vec<Ack> {
        self.shared.stop.store(true, Ordering::Relaxed);
        println!(
            "load: {} writes acknowledged, {} errors, {} sessions expired",
            self.shared.acks.lock().expect("acks").len(),
            self.errors(),
            self.expired()
        );
        rt.block_on(async {
            for t in self.tasks {
                let abort = t.abort_handle();
                if tokio::time::timeout(Duration::from_secs(15), t).await.is_err() {
                    abort.abort();
                }
            }
        });
        std::mem::take(&mut *self.shared.acks.lock().expect("acks"))
    }
}

async fn writer(shared: Arc<Shared>, w: usize, cs: String, root: String, opts: WriterOpts) {
    let mut seq = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let connected = Client::builder(&cs, opts.session_timeout)
            .request_timeout(opts.request_timeout)
            .connect_timeout(Duration::from_secs(5))
            .reconnect_delay_max(Duration::from_millis(200))
            .connect()
            .await;
        let client = match connected {
            Ok(c) => c,
            Err(_) => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        // Each session owns an ephemeral: it must outlive leader changes with its session and
        // go with it.
        let eph = format!("{root}{EPHEMERALS_SUFFIX}/w{w}-0x{:x}", client.session_id());
        let _ = client.create(&eph, &expected_data(&eph), &open_acl_unsafe(), CreateMode::Ephemeral).await;
        while !shared.stop.load(Ordering::Relaxed) {
            seq += 1;
            let path = format!("{root}/w{w}-{seq:08}");
            let data = expected_data(&path);
            match client.create2(&path, &data, &open_acl_unsafe(), CreateMode::Persistent).await {
                Ok((_, stat)) => {
                    let ack = Ack { path, zxid: stat.czxid, at: Instant::now(), writer: w };
                    shared.acks.lock().expect("acks").push(ack);
                }
                Err(e) => {
                    shared.errors.fetch_add(1, Ordering::Relaxed);
                    if e.code() == Some(ErrorCode::SessionExpired) {
                        shared.expired.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    if !client.state().is_alive() {
                        break;
                    }
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(3), client.close()).await;
    }
}

/// The longest time without any acknowledgement between `from` and `to` (both ends count as
/// gap edges), and where it started.
pub fn longest_gap(acks: &[Ack], from: Instant, to: Instant) -> (Duration, Instant) {
    let mut times: Vec<Instant> = acks.iter().map(|a| a.at).filter(|t| *t > from && *t < to).collect();
    times.sort();
    let mut prev = from;
    let mut best = (Duration::ZERO, from);
    for t in times.into_iter().chain(std::iter::once(to)) {
        if t - prev > best.0 {
            best = (t - prev, prev);
        }
        prev = t;
    }
    best
}

/// Each writer's acknowledged zxids must grow (one session's writes are applied in order).
pub fn assert_writer_order(acks: &[Ack]) {
    let mut last: std::collections::BTreeMap<usize, (i64, &str)> = Default::default();
    let mut sorted: Vec<&Ack> = acks.iter().collect();
    sorted.sort_by_key(|a| a.at);
    for a in sorted {
        if let Some((z, p)) = last.get(&a.writer) {
            assert!(
                a.zxid > *z,
                "writer {}: {} acknowledged at zxid 0x{:x} after {p} at 0x{z:x}",
                a.writer,
                a.path,
                a.zxid
            );
        }
        last.insert(a.writer, (a.zxid, &a.path));
    }
}
