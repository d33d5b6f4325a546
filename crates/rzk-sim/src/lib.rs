//! rzk-sim: a whole ensemble in one thread, deterministically.
//!
//! Every server runs the same core as `rzk server` ([`rzk_node::Node`], with the election and
//! Zab inside); the simulator replaces the shell: an in-memory disk per server ([`store`]), a
//! seeded network ([`world`]) that delays, drops, duplicates and reorders election messages and
//! breaks learner connections, crashes that lose unsynced log appends, partitions (one-way and
//! both ways), clock drift, and clients ([`client`]) that write, read, create ephemerals and
//! close or abandon sessions. [`check`] holds the invariants checked after every tick, the
//! history checker (linearizable writes, sequentially consistent reads per session) and the
//! checks at the end. A seed replays a run exactly.

pub mod check;
pub mod client;
pub mod rng;
pub mod store;
pub mod world;

pub use world::{Params, World};

/// Runs one seed with its default parameters.
pub fn run_seed(seed: u64) -> Result<RunSummary, String> {
    let mut w = World::new(seed, Params::for_seed(seed));
    w.run().map_err(|e| format!("seed {seed}: {e}"))?;
    Ok(RunSummary {
        acked_writes: w.checker.acked_writes(),
        reads: w.checker.reads,
        final_zxid: w
            .servers
            .iter()
            .filter_map(|s| s.node.as_ref())
            .map(|n| n.tree().last_processed_zxid)
            .max()
            .unwrap_or(0),
    })
}

#[derive(Debug, Clone)]
pub struct RunSummary {
    pub acked_writes: usize,
    pub reads: u64,
    pub final_zxid: i64,
}
