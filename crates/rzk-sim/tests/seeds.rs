//! The fixed seed list CI runs: each seed is a whole-ensemble run with crashes (single and
//! power failures that lose unsynced data), partitions (both ways and one way), message loss,
//! duplication and reordering, slow fsyncs and clock drift, checked step by step and at the end.
//! Longer swarms: `cargo run --release -p rzk-sim -- --seeds 10000`.

/// Seeds that find known bugs, kept as regression tests. A seed names a run only for the
/// simulator it was found with, so when the simulated workload changes, each bug is planted
/// again and the swarm is searched for seeds that catch it.
const REGRESSIONS: &[u64] = &[
    // A follower wrote currentEpoch before the txns it was synced with were durable, lost them
    // in a power failure, then won an election with its newer epoch: an acknowledged write
    // vanished (ZOOKEEPER-4643's shape). Found with 461, 901, 1080 by the first simulator;
    // with the ephemeral/closeSession workload, planting the bug again (currentEpoch written at
    // NEWLEADER) fails these three of seeds 0..3000.
    200, 1452, 2546,
];

const CI_SEEDS: u64 = 256;

#[test]
fn fixed_seeds_hold_every_invariant() {
    let mut failures = Vec::new();
    let mut acked = 0;
    for seed in (0..CI_SEEDS).chain(REGRESSIONS.iter().copied()) {
        match rzk_sim::run_seed(seed) {
            Ok(s) => acked += s.acked_writes,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{} seeds failed:\n{}", failures.len(), failures.join("\n"));
    // The runs did real work: writes were acknowledged through the faults.
    assert!(acked > CI_SEEDS as usize * 20, "only {acked} acknowledged writes in all seeds");
}

#[test]
fn a_seed_replays_exactly() {
    let a = rzk_sim::run_seed(7).expect("seed 7");
    let b = rzk_sim::run_seed(7).expect("seed 7");
    assert_eq!((a.acked_writes, a.reads, a.final_zxid), (b.acked_writes, b.reads, b.final_zxid));
}
