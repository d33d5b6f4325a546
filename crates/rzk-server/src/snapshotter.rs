//! Taking snapshots while serving (`SyncRequestProcessor.shouldSnapshot` + `takeSnapshot`). After
//! snapCount/2 + rand(snapCount/2) logged txns (or half the size limit plus a random part), the
//! log is rolled and a fuzzy snapshot starts: the core serializes a slice of the tree after each
//! batch of work ([`Snapshotter::step`]), so writes never wait behind a whole-tree copy, and a
//! writer thread compresses, writes and fsyncs the finished stream. Only one snapshot runs at a
//! time ("too busy to snap, skipping" otherwise, as in ZooKeeper).
//!
//! A quorum member that cuts its log (TRUNC, or before a SNAP) must not keep a snapshot that was
//! being taken across the cut: it may hold the txns just cut off, and at the next start it would
//! bring them back. [`SnapshotGate`] orders the two: the cut bumps the gate's generation while
//! holding it, a running walk is dropped, and the writer writes a snapshot only while holding the
//! gate at the generation the snapshot started in.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Instant;

use rzk_storage::snapfile::{Compression, snapshot_name, write_snapshot_parts};
use rzk_tree::DataTree;
use rzk_tree::snapshot::{SnapshotImage, SnapshotJob};
use tokio::sync::mpsc as tmpsc;

use crate::core::CoreMsg;
use crate::settings::StorageSettings;

/// Nodes serialized per step of a running snapshot (a few milliseconds of work).
pub const NODES_PER_STEP: usize = 4_096;

/// A finished snapshot for the writer thread (which seals, compresses, writes and syncs it).
pub struct SnapshotWrite {
    pub image: SnapshotImage,
    pub started: Instant,
    /// The gate's generation when the walk started.
    pub generation: u64,
}

/// The generation of the data on disk that snapshots are taken of; a log cut starts a new one.
#[derive(Clone, Default)]
pub struct SnapshotGate(Arc<Mutex<u64>>);

impl SnapshotGate {
    /// Holds the gate: no snapshot file is written meanwhile.
    pub fn hold(&self) -> MutexGuard<'_, u64> {
        // A writer that panicked while holding it left nothing half-done that the count guards.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct Snapshotter {
    settings: StorageSettings,
    job: Option<(SnapshotJob, Instant)>,
    gate: SnapshotGate,
    /// A finished snapshot is being written.
    writing: bool,
    txns_since: u64,
    bytes_since: u64,
    roll_txns: u64,
    roll_bytes: u64,
    rng: u64,
    writer: mpsc::Sender<SnapshotWrite>,
}

impl Snapshotter {
    pub fn new(
        settings: StorageSettings,
        writer: mpsc::Sender<SnapshotWrite>,
        gate: SnapshotGate,
        seed: u64,
    ) -> Snapshotter {
        let mut s = Snapshotter {
            settings,
            job: None,
            gate,
            writing: false,
            txns_since: 0,
            bytes_since: 0,
            roll_txns: 0,
            roll_bytes: 0,
            rng: seed | 1,
            writer,
        };
        s.reset_thresholds();
        s
    }

    fn rand_below(&mut self, n: u64) -> u64 {
        // xorshift64*: enough to spread snapshot times across servers.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        if n == 0 { 0 } else { self.rng.wrapping_mul(0x2545F4914F6CDD1D) % n }
    }

    /// `resetSnapshotStats`: new random thresholds.
    fn reset_thresholds(&mut self) {
        let half = self.settings.snap_count / 2;
        self.roll_txns = half + self.rand_below(half);
        self.roll_bytes = match self.settings.snap_size_limit_bytes {
            Some(limit) if limit > 0 => limit / 2 + self.rand_below(limit / 2),
            _ => u64::MAX,
        };
        self.txns_since = 0;
        self.bytes_since = 0;
    }

    /// Counts logged txns; true when a snapshot should start now (the caller rolls the log).
    pub fn on_logged(&mut self, txns: u64, bytes: u64) -> bool {
        self.txns_since += txns;
        self.bytes_since += bytes;
        if self.txns_since <= self.roll_txns && self.bytes_since <= self.roll_bytes {
            return false;
        }
        self.reset_thresholds();
        if self.job.is_some() || self.writing {
            tracing::warn!("too busy to snap, skipping");
            return false;
        }
        true
    }

    pub fn start(&mut self, tree: &DataTree) {
        tracing::info!(zxid = %format!("0x{:x}", tree.last_processed_zxid), "creating new snapshot");
        self.job = Some((SnapshotJob::start(tree), Instant::now()));
    }

    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// A snapshot is being taken or written.
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.writing
    }

    /// Serializes the next slice; hands the stream to the writer when the walk is done.
    pub fn step(&mut self, tree: &DataTree) {
        let Some((job, _)) = self.job.as_mut() else { return };
        if !job.step(tree, NODES_PER_STEP) {
            return;
        }
        let Some((job, started)) = self.job.take() else { return };
        let image = job.finish(tree);
        self.writing = true;
        let generation = *self.gate.hold();
        if self.writer.send(SnapshotWrite { image, started, generation }).is_err() {
            self.writing = false;
        }
    }

    /// The writer finished (or failed).
    pub fn written(&mut self) {
        self.writing = false;
    }

    /// The log is about to be cut: a running walk is dropped (its zxid is returned), and the
    /// returned guard, held until the cut and the removal of later snapshots are done, has
    /// started a new generation, so a snapshot already with the writer is not written.
    pub fn cut(&mut self) -> (Option<i64>, SnapshotGate) {
        let dropped = self.job.take().map(|(job, _)| {
            tracing::warn!(zxid = %format!("0x{:x}", job.zxid), "abandoning the snapshot being taken: the log is cut");
            job.zxid
        });
        (dropped, self.gate.clone())
    }
}

/// The thread that writes finished snapshots: compression, file, fsync of file and directory.
pub fn spawn_writer(
    data_dir: PathBuf,
    compression: Compression,
    gate: SnapshotGate,
    rx: mpsc::Receiver<SnapshotWrite>,
    core: tmpsc::Sender<CoreMsg>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rzk-snapshot".into()).spawn(move || {
        while let Ok(w) = rx.recv() {
            let zxid = w.image.zxid;
            let held = gate.hold();
            if *held != w.generation {
                drop(held);
                tracing::warn!(zxid = %format!("0x{zxid:x}"), "snapshot abandoned: the log was cut while it was taken");
                let ms = w.started.elapsed().as_millis() as u64;
                if core.blocking_send(CoreMsg::SnapshotWritten { zxid, ms, ok: false }).is_err() {
                    return;
                }
                continue;
            }
            let tail = w.image.tail();
            let parts: [&[u8]; 3] = [&w.image.head, &w.image.nodes, &tail];
            let written = write_snapshot_parts(&data_dir, zxid, &parts, compression);
            drop(held);
            let ok = match written {
                Ok(path) => {
                    tracing::info!(file = %path.display(), ms = w.started.elapsed().as_millis() as u64, "snapshot written");
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot write snapshot");
                    let path = data_dir.join(rzk_storage::VERSION_DIR).join(snapshot_name(zxid, compression));
                    let _ = std::fs::remove_file(path);
                    false
                }
            };
            let ms = w.started.elapsed().as_millis() as u64;
            if core.blocking_send(CoreMsg::SnapshotWritten { zxid, ms, ok }).is_err() {
                return;
            }
        }
    })
}

/// Takes a snapshot of `tree` at once (start-up, as `ZooKeeperServer.loadData` does).
pub fn snapshot_now(
    data_dir: &std::path::Path,
    tree: &DataTree,
    compression: Compression,
) -> std::io::Result<PathBuf> {
    let mut job = SnapshotJob::start(tree);
    job.step(tree, usize::MAX);
    let image = job.finish(tree);
    let tail = image.tail();
    write_snapshot_parts(data_dir, image.zxid, &[&image.head, &image.nodes, &tail], compression)
}
