//! The session tracker with many sessions: what a ping costs (every request and ping moves its
//! session to a later expiry bucket) and what one tick costs when a whole bucket expires. These
//! are the per-session costs in the core that grow with the number of sessions a server holds
//! (the target is 100,000 connected sessions; this machine's open-file limit stops a
//! real test at about 19,000 connections, see docs/performance.md).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rzk_node::sessions::SessionTracker;

const TICK_MS: i64 = 2_000;
const TIMEOUT_MS: i32 = 30_000;

/// A tracker holding `n` sessions opened over the first second.
fn tracker_with(n: i64) -> (SessionTracker, Vec<i64>) {
    let mut t = SessionTracker::new(TICK_MS, 1, 1_700_000_000_000);
    let ids: Vec<i64> = (0..n)
        .map(|i| {
            let id = t.next_session_id();
            t.add(id, TIMEOUT_MS, i * 1_000 / n);
            id
        })
        .collect();
    (t, ids)
}

fn sessions(c: &mut Criterion) {
    for n in [100_000i64, 1_000_000] {
        let mut g = c.benchmark_group(format!("{n} sessions"));
        g.sample_size(10);
        // Each session pings once, a tick later than it was last touched: every ping moves it
        // to another bucket (the worst case; pings within one tick stay in their bucket).
        g.bench_function("ping every session once", |b| {
            b.iter_batched(
                || tracker_with(n),
                |(mut t, ids)| {
                    let now = TICK_MS * 3;
                    for id in &ids {
                        black_box(t.touch_current(*id, now));
                    }
                    t
                },
                BatchSize::LargeInput,
            )
        });
        g.bench_function("expire every session", |b| {
            b.iter_batched(
                || tracker_with(n),
                |(mut t, _)| black_box(t.poll_expired(TICK_MS * 100).len()),
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, sessions);
criterion_main!(benches);
