//! Taking snapshots while serving (`SyncRequestProcessor.shouldSnapshot` + `takeSnapshot`). After
//! snapCount/2 + rand(snapCount/2) logged txns (or half the size limit plus a random part), the
//! log is rolled and a snapshot starts: the core freezes the tree (a view that its later writes
//! leave alone, see `rzk_tree::snapshot`; it costs the core a reference per 64 nodes, then a copy
//! of each 64-node chunk it changes while the view lives) and hands it to the writer thread, which
//! walks it, serializes, compresses, writes and fsyncs the stream a megabyte at a time (the whole
//! stream, about twice the tree's data, is never in memory). The core never walks the tree. Only
//! one snapshot runs at a time ("too busy to snap, skipping" otherwise, as in ZooKeeper).
//!
//! A quorum member that cuts its log (TRUNC, or before a SNAP) must not keep a snapshot that was
//! being taken across the cut: it may hold the txns just cut off, and at the next start it would
//! bring them back. [`SnapshotGate`] orders the two: the cut bumps the gate's generation while
//! holding it, and the writer writes a snapshot only while holding the gate at the generation the
//! snapshot started in.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Instant;

use rzk_storage::snapfile::{Compression, SnapshotFileWriter, write_snapshot_parts};
use rzk_tree::DataTree;
use rzk_tree::snapshot::{SnapshotJob, SnapshotSeal, ZxidDigest};
use tokio::sync::mpsc as tmpsc;

use crate::core::CoreMsg;
use crate::settings::StorageSettings;

/// Nodes the writer serializes between checks for a full part.
const NODES_PER_STEP: usize = 4_096;
/// Serialized nodes written to the file at a time.
const SNAPSHOT_PART_BYTES: usize = 1 << 20;

/// The most a background snapshot writes per second. Snapshot writes share the disk with the
/// log's group commits, which clients wait for: at the disk's full speed (300–480 MB/s on the
/// benchmark VM) a snapshot of a million nodes (~200 MB) fills the disk's queue and the log's
/// fsyncs wait behind it. Paced, a snapshot takes seconds longer (about 6 s per million nodes),
/// which nobody waits for (A/B, docs/bench-results/2026-11-23b/experiments.txt: set on a
/// 600,000-node tree 126–128k ops/s at 128 MiB/s, 127–154k at 32; create on a 1M-node tree
/// 61–66k at 128, 77–88k at 32, p99 6.2–6.8 → 3.4–3.6 ms; unpaced 115–126k sets). Under a heavy
/// write load snapshots are then taken less often ("too busy to snap", as in ZooKeeper; the log
/// still rolls), so a restart replays a longer log.
pub const SNAPSHOT_WRITE_BYTES_PER_SEC_MAX: u64 = 32 << 20;

/// A snapshot for the writer thread to walk, write and sync.
pub struct SnapshotTask {
    pub job: SnapshotJob,
    pub started: Instant,
    /// The gate's generation when the snapshot started.
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

/// What [`Snapshotter::on_logged`] asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapDue {
    Nothing,
    /// Roll the log (a snapshot is still being written).
    Roll,
    /// Roll the log, then [`Snapshotter::start`].
    RollAndSnapshot,
}

pub struct Snapshotter {
    settings: StorageSettings,
    gate: SnapshotGate,
    /// The writer has a snapshot (from its start until the writer reports it written).
    writing: bool,
    txns_since: u64,
    bytes_since: u64,
    roll_txns: u64,
    roll_bytes: u64,
    rng: u64,
    writer: mpsc::Sender<SnapshotTask>,
}

impl Snapshotter {
    pub fn new(
        settings: StorageSettings,
        writer: mpsc::Sender<SnapshotTask>,
        gate: SnapshotGate,
        seed: u64,
    ) -> Snapshotter {
        let mut s = Snapshotter {
            settings,
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

    /// Counts logged txns and says what is due (`SyncRequestProcessor`: past the thresholds the
    /// log is rolled, and a snapshot started unless one is still being written).
    pub fn on_logged(&mut self, txns: u64, bytes: u64) -> SnapDue {
        self.txns_since += txns;
        self.bytes_since += bytes;
        if self.txns_since <= self.roll_txns && self.bytes_since <= self.roll_bytes {
            return SnapDue::Nothing;
        }
        self.reset_thresholds();
        if self.writing {
            tracing::warn!("too busy to snap, skipping");
            return SnapDue::Roll;
        }
        SnapDue::RollAndSnapshot
    }

    /// Freezes the tree and hands the snapshot to the writer.
    pub fn start(&mut self, tree: &DataTree) {
        tracing::info!(zxid = %format!("0x{:x}", tree.last_processed_zxid), "creating new snapshot");
        let generation = *self.gate.hold();
        let task = SnapshotTask { job: SnapshotJob::start(tree), started: Instant::now(), generation };
        if self.writer.send(task).is_ok() {
            self.writing = true;
        }
    }

    /// A snapshot is being taken.
    pub fn busy(&self) -> bool {
        self.writing
    }

    /// The writer finished (or failed).
    pub fn written(&mut self) {
        self.writing = false;
    }

    /// The gate a log cut holds while it cuts (see [`SnapshotGate`]): a snapshot still with the
    /// writer is not written once the cut has started a new generation.
    pub fn gate(&self) -> SnapshotGate {
        self.gate.clone()
    }
}

/// The thread that walks and writes snapshots: serialization, compression, file, fsync of file
/// and directory, and the report to the core.
pub fn spawn_writer(
    data_dir: PathBuf,
    compression: Compression,
    gate: SnapshotGate,
    rx: mpsc::Receiver<SnapshotTask>,
    core: tmpsc::Sender<CoreMsg>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rzk-snapshot".into()).spawn(move || {
        while let Ok(task) = rx.recv() {
            let (zxid, started) = (task.job.zxid, task.started);
            let ok = write_task(&data_dir, compression, &gate, task);
            let ms = started.elapsed().as_millis() as u64;
            if core.blocking_send(CoreMsg::SnapshotWritten { zxid, ms, ok }).is_err() {
                return;
            }
        }
    })
}

/// Walks a snapshot into its file; true if it is now on disk.
fn write_task(data_dir: &Path, compression: Compression, gate: &SnapshotGate, task: SnapshotTask) -> bool {
    let SnapshotTask { mut job, started, generation } = task;
    let rate = Some(SNAPSHOT_WRITE_BYTES_PER_SEC_MAX);
    let file = match SnapshotFileWriter::create_paced(data_dir, job.zxid, compression, rate) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::error!(error = %e, "cannot create the snapshot file");
            return false;
        }
    };
    let mut open = OpenSnapshot { zxid: job.zxid, started, generation, file, seal: SnapshotSeal::new() };
    open.write(job.head());
    loop {
        let done = job.step(NODES_PER_STEP);
        if done || job.buffered_bytes() >= SNAPSHOT_PART_BYTES {
            open.write(&job.take_nodes());
        }
        if open.file.is_none() {
            return false;
        }
        if *gate.hold() != open.generation {
            tracing::warn!(zxid = %format!("0x{:x}", open.zxid), "snapshot abandoned: the log was cut while it was taken");
            return false;
        }
        if done {
            return open.finish(&job.digest(), gate);
        }
    }
}

/// A snapshot file being written by the writer thread.
struct OpenSnapshot {
    zxid: i64,
    started: Instant,
    generation: u64,
    /// `None` once writing failed (the rest of the stream is dropped).
    file: Option<SnapshotFileWriter>,
    seal: SnapshotSeal,
}

impl OpenSnapshot {
    fn write(&mut self, bytes: &[u8]) {
        self.seal.update(bytes);
        if let Some(f) = self.file.as_mut()
            && let Err(e) = f.write(bytes)
        {
            tracing::error!(error = %e, "cannot write snapshot");
            self.file = None;
        }
    }

    /// Seals and names the file, unless the log was cut since the walk started; true if the
    /// snapshot is now on disk.
    fn finish(&mut self, digest: &ZxidDigest, gate: &SnapshotGate) -> bool {
        let Some(mut file) = self.file.take() else { return false };
        let tail = std::mem::take(&mut self.seal).tail(digest);
        if let Err(e) = file.write(&tail) {
            tracing::error!(error = %e, "cannot write snapshot");
            return false;
        }
        let held = gate.hold();
        if *held != self.generation {
            drop(held);
            tracing::warn!(zxid = %format!("0x{:x}", self.zxid), "snapshot abandoned: the log was cut while it was taken");
            return false;
        }
        let written = file.finish();
        drop(held);
        match written {
            Ok(path) => {
                tracing::info!(file = %path.display(), ms = self.started.elapsed().as_millis() as u64, "snapshot written");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write snapshot");
                false
            }
        }
    }
}

/// Takes a snapshot of `tree` at once (start-up, as `ZooKeeperServer.loadData` does).
pub fn snapshot_now(data_dir: &Path, tree: &DataTree, compression: Compression) -> std::io::Result<PathBuf> {
    let image = SnapshotJob::whole(tree);
    let tail = image.tail();
    write_snapshot_parts(data_dir, image.zxid, &[&image.head, &image.nodes, &tail], compression)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rzk_proto::codes::op;
    use rzk_proto::txn::TxnBody;
    use rzk_proto::{Acl, CreateTxn, DeleteTxn, TxnHeader};
    use std::time::Duration;

    fn apply(t: &mut DataTree, zxid: i64, body: TxnBody) {
        let hdr = TxnHeader { client_id: 1, cxid: 0, zxid, time: 0, txn_type: op::CREATE };
        t.process_txn(&hdr, &body, &mut Vec::new());
    }

    fn create(path: String) -> TxnBody {
        TxnBody::Create(CreateTxn {
            path,
            data: Some(Bytes::from_static(&[7; 100])),
            acl: vec![Acl::new(31, "world", "anyone")],
            ephemeral: false,
            parent_cversion: -1,
        })
    }

    fn written(core_rx: &mut tmpsc::Receiver<CoreMsg>) -> (i64, bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "the writer did not report");
            match core_rx.try_recv() {
                Ok(CoreMsg::SnapshotWritten { zxid, ok, .. }) => return (zxid, ok),
                Ok(_) => panic!("unexpected message from the writer"),
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    struct Rig {
        dir: tempfile::TempDir,
        snapshotter: Snapshotter,
        gate: SnapshotGate,
        writer: mpsc::Sender<SnapshotTask>,
        core_rx: tmpsc::Receiver<CoreMsg>,
        tree: DataTree,
    }

    /// A writer thread, a snapshotter and a tree of `nodes` nodes (zxids 1..=nodes).
    fn rig(nodes: i64) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let (core_tx, core_rx) = tmpsc::channel(16);
        let gate = SnapshotGate::default();
        spawn_writer(dir.path().to_owned(), Compression::None, gate.clone(), rx, core_tx).unwrap();
        let snapshotter = Snapshotter::new(StorageSettings::default(), tx.clone(), gate.clone(), 7);
        let mut tree = DataTree::new(false);
        for i in 0..nodes {
            apply(&mut tree, i + 1, create(format!("/n{i}")));
        }
        Rig { dir, snapshotter, gate, writer: tx, core_rx, tree }
    }

    /// The core keeps changing the tree while the writer walks it; the file is the tree as it
    /// was when the snapshot started.
    #[test]
    fn the_file_is_the_tree_at_the_start_whatever_the_core_does_meanwhile() {
        let nodes = 30_000;
        let mut r = rig(nodes);
        let digest = r.tree.digest();
        r.snapshotter.start(&r.tree);
        assert!(r.snapshotter.busy());
        for i in 0..nodes {
            apply(&mut r.tree, nodes + 1 + i, TxnBody::Delete(DeleteTxn { path: format!("/n{i}") }));
            apply(&mut r.tree, 2 * nodes + 1 + i, create(format!("/m{i}")));
        }
        assert_eq!(written(&mut r.core_rx), (nodes, true));
        r.snapshotter.written();
        assert!(!r.snapshotter.busy());
        let path = r.dir.path().join("version-2").join(format!("snapshot.{nodes:x}"));
        let loaded = rzk_tree::snapshot::load_snapshot(
            Bytes::from(rzk_storage::snapfile::read_snapshot(&path).unwrap()),
            false,
        )
        .unwrap();
        assert_eq!(loaded.tree.digest(), digest);
        assert_eq!(loaded.digest.map(|d| (d.zxid, d.digest)), Some((nodes, digest)));
        assert!(loaded.tree.node(&format!("/n{}", nodes - 1)).is_some());
        assert!(loaded.tree.node("/m0").is_none());
    }

    /// Past the thresholds the log is rolled whether or not a snapshot can start, as ZooKeeper
    /// rolls it before "too busy to snap".
    #[test]
    fn the_log_rolls_at_the_threshold_even_while_a_snapshot_is_written() {
        let (tx, _rx) = mpsc::channel();
        let settings = StorageSettings { snap_count: 4, ..StorageSettings::default() };
        let mut s = Snapshotter::new(settings, tx, SnapshotGate::default(), 7);
        assert_eq!(s.on_logged(1, 10), SnapDue::Nothing);
        assert_eq!(s.on_logged(4, 40), SnapDue::RollAndSnapshot);
        s.start(&DataTree::new(false));
        assert!(s.busy());
        assert_eq!(s.on_logged(5, 50), SnapDue::Roll);
        s.written();
        assert_eq!(s.on_logged(5, 50), SnapDue::RollAndSnapshot);
    }

    /// A log cut (a new generation of the gate) while the writer has a snapshot leaves no file.
    #[test]
    fn a_cut_during_the_walk_leaves_no_snapshot() {
        let mut r = rig(5_000);
        // What `Snapshotter::start` sends, then the cut, before the writer looks at the gate.
        let generation = *r.gate.hold();
        let task = SnapshotTask { job: SnapshotJob::start(&r.tree), started: Instant::now(), generation };
        *r.gate.hold() += 1;
        r.writer.send(task).unwrap();
        assert_eq!(written(&mut r.core_rx), (5_000, false));
        assert!(rzk_storage::snapfile::snapshot_files(r.dir.path()).unwrap().is_empty());
    }
}
