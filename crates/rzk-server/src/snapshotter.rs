//! Taking snapshots while serving (`SyncRequestProcessor.shouldSnapshot` + `takeSnapshot`). After
//! snapCount/2 + rand(snapCount/2) logged txns (or half the size limit plus a random part), the
//! log is rolled and a fuzzy snapshot starts: the core serializes a slice of the tree after each
//! batch of work ([`Snapshotter::step`]), so writes never wait behind a whole-tree copy, and a
//! writer thread compresses, writes and fsyncs the stream as it comes, a megabyte at a time:
//! the whole stream is never in memory (it is about twice the size of the tree's data), and the
//! walk pauses while the writer is more than a few megabytes behind. A streamed snapshot whose
//! head (written first) lacks an ACL list a visited node got during the walk is abandoned, and
//! the next one is then kept whole in memory and handed over at its end with every list in its
//! head, so such changes never starve snapshots. Only one snapshot runs at a time ("too busy to
//! snap, skipping" otherwise, as in ZooKeeper).
//!
//! A quorum member that cuts its log (TRUNC, or before a SNAP) must not keep a snapshot that was
//! being taken across the cut: it may hold the txns just cut off, and at the next start it would
//! bring them back. [`SnapshotGate`] orders the two: the cut bumps the gate's generation while
//! holding it, a running walk is dropped, and the writer writes a snapshot only while holding the
//! gate at the generation the snapshot started in.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Instant;

use rzk_storage::snapfile::{Compression, SnapshotFileWriter, write_snapshot_parts};
use rzk_tree::DataTree;
use rzk_tree::snapshot::{SnapshotJob, SnapshotSeal, ZxidDigest};
use tokio::sync::mpsc as tmpsc;

use crate::core::CoreMsg;
use crate::settings::StorageSettings;

/// Nodes serialized per step of a running snapshot (a few milliseconds of work).
pub const NODES_PER_STEP: usize = 4_096;

/// Serialized nodes handed to the writer at a time.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;
/// Bytes handed to the writer and not yet written, above which the walk waits.
pub const SNAPSHOT_QUEUED_BYTES_MAX: usize = 8 << 20;

/// The stream of one snapshot, in order, for the writer thread (which seals, compresses,
/// writes and syncs it).
pub enum SnapshotWrite {
    Begin {
        zxid: i64,
        /// Header, sessions, ACL cache.
        head: Vec<u8>,
        started: Instant,
        /// The gate's generation when the walk started.
        generation: u64,
    },
    Nodes(Vec<u8>),
    /// The walk is done: seal, sync and name the file.
    End {
        digest: ZxidDigest,
    },
    /// The walk was dropped: remove what was written.
    Abandon,
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
    job: Option<SnapshotJob>,
    gate: SnapshotGate,
    /// The writer has a snapshot open (from its start until the writer reports it written).
    writing: bool,
    /// Bytes handed to the writer and not yet written by it.
    queued: Arc<AtomicUsize>,
    /// The running walk is kept whole in memory (when it started, the gate's generation then)
    /// and handed to the writer at its end, with every ACL list its nodes use in its head.
    whole: Option<(Instant, u64)>,
    /// The last streamed snapshot was abandoned because a node got an ACL list its head did not
    /// have: the next one is kept whole, so snapshots are never starved by such changes.
    whole_next: bool,
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
        queued: Arc<AtomicUsize>,
        seed: u64,
    ) -> Snapshotter {
        let mut s = Snapshotter {
            settings,
            job: None,
            gate,
            writing: false,
            queued,
            whole: None,
            whole_next: false,
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
        let job = SnapshotJob::start(tree);
        let generation = *self.gate.hold();
        if std::mem::take(&mut self.whole_next) {
            // Kept whole in memory and handed over at the end (see `whole_next`).
            self.whole = Some((Instant::now(), generation));
            self.job = Some(job);
            return;
        }
        let begin = SnapshotWrite::Begin {
            zxid: job.zxid,
            head: job.head().to_vec(),
            started: Instant::now(),
            generation,
        };
        if self.writer.send(begin).is_ok() {
            self.writing = true;
            self.job = Some(job);
        }
    }

    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// A snapshot is being taken or written.
    pub fn busy(&self) -> bool {
        self.job.is_some() || self.writing
    }

    /// Serializes the next slice (unless the writer is behind) and hands full chunks to the
    /// writer; at the end of the walk, tells the writer to seal the file.
    pub fn step(&mut self, tree: &DataTree) {
        let Some(job) = self.job.as_mut() else { return };
        if self.queued.load(Ordering::Acquire) > SNAPSHOT_QUEUED_BYTES_MAX {
            return;
        }
        let done = job.step(tree, NODES_PER_STEP);
        let streamed = self.whole.is_none();
        if streamed && (job.buffered_bytes() >= SNAPSHOT_CHUNK_BYTES || (done && job.buffered_bytes() > 0)) {
            let chunk = job.take_nodes();
            self.queued.fetch_add(chunk.len(), Ordering::AcqRel);
            let _ = self.writer.send(SnapshotWrite::Nodes(chunk));
        }
        if !done {
            return;
        }
        let Some(job) = self.job.take() else { return };
        if let Some((started, generation)) = self.whole.take() {
            let image = job.finish(tree);
            let begin = SnapshotWrite::Begin { zxid: image.zxid, head: image.head, started, generation };
            if self.writer.send(begin).is_ok() {
                self.writing = true;
                self.queued.fetch_add(image.nodes.len(), Ordering::AcqRel);
                let _ = self.writer.send(SnapshotWrite::Nodes(image.nodes));
                let _ = self.writer.send(SnapshotWrite::End { digest: image.digest });
            }
            return;
        }
        let msg = if job.acls_complete() {
            SnapshotWrite::End { digest: job.finish(tree).digest }
        } else {
            tracing::warn!(
                zxid = %format!("0x{:x}", job.zxid),
                "snapshot abandoned: a node was given a new ACL list while it was taken; the next one is kept whole"
            );
            self.whole_next = true;
            SnapshotWrite::Abandon
        };
        let _ = self.writer.send(msg);
    }

    /// The writer finished (or failed).
    pub fn written(&mut self) {
        self.writing = false;
    }

    /// The log is about to be cut: a running walk is dropped (its zxid is returned), and the
    /// returned guard, held until the cut and the removal of later snapshots are done, has
    /// started a new generation, so a snapshot already with the writer is not written.
    pub fn cut(&mut self) -> (Option<i64>, SnapshotGate) {
        let dropped = self.job.take().map(|job| {
            tracing::warn!(zxid = %format!("0x{:x}", job.zxid), "abandoning the snapshot being taken: the log is cut");
            // A whole-in-memory walk has not reached the writer yet.
            if self.whole.take().is_none() {
                let _ = self.writer.send(SnapshotWrite::Abandon);
            }
            job.zxid
        });
        (dropped, self.gate.clone())
    }
}

/// The thread that writes snapshots as their streams arrive: compression, file, fsync of file
/// and directory, and the report to the core.
pub fn spawn_writer(
    data_dir: PathBuf,
    compression: Compression,
    gate: SnapshotGate,
    queued: Arc<AtomicUsize>,
    rx: mpsc::Receiver<SnapshotWrite>,
    core: tmpsc::Sender<CoreMsg>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rzk-snapshot".into()).spawn(move || {
        let mut open: Option<OpenSnapshot> = None;
        while let Ok(msg) = rx.recv() {
            let report = match msg {
                SnapshotWrite::Begin { zxid, head, started, generation } => {
                    // A Begin while one is open cannot happen (one snapshot at a time); if it
                    // did, the older one is dropped with its file.
                    let file = SnapshotFileWriter::create(&data_dir, zxid, compression)
                        .map_err(|e| tracing::error!(error = %e, "cannot create the snapshot file"))
                        .ok();
                    let mut o = OpenSnapshot { zxid, started, generation, file, seal: SnapshotSeal::new() };
                    o.write(&head);
                    open = Some(o);
                    None
                }
                SnapshotWrite::Nodes(chunk) => {
                    if let Some(o) = open.as_mut() {
                        o.write(&chunk);
                    }
                    queued.fetch_sub(chunk.len(), Ordering::AcqRel);
                    None
                }
                SnapshotWrite::End { digest } => open.take().map(|mut o| {
                    let ok = o.finish(&digest, &gate);
                    (o.zxid, o.started.elapsed().as_millis() as u64, ok)
                }),
                SnapshotWrite::Abandon => {
                    open.take().map(|o| (o.zxid, o.started.elapsed().as_millis() as u64, false))
                }
            };
            if let Some((zxid, ms, ok)) = report
                && core.blocking_send(CoreMsg::SnapshotWritten { zxid, ms, ok }).is_err()
            {
                return;
            }
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rzk_proto::codes::op;
    use rzk_proto::txn::TxnBody;
    use rzk_proto::{Acl, CreateTxn, TxnHeader};
    use std::time::Duration;

    fn create(t: &mut DataTree, zxid: i64, path: &str, acl: Acl) {
        let body = TxnBody::Create(CreateTxn {
            path: path.into(),
            data: Some(Bytes::from_static(b"v")),
            acl: vec![acl],
            ephemeral: false,
            parent_cversion: -1,
        });
        let hdr = TxnHeader { client_id: 1, cxid: 0, zxid, time: 0, txn_type: op::CREATE };
        t.process_txn(&hdr, &body, &mut Vec::new());
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

    /// A streamed snapshot during which a node gets an ACL list its head lacks is abandoned; the
    /// next one is kept whole and written, with that list in its head.
    #[test]
    fn a_new_acl_list_abandons_the_stream_and_the_next_snapshot_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let (core_tx, mut core_rx) = tmpsc::channel(16);
        let gate = SnapshotGate::default();
        let queued = Arc::new(AtomicUsize::new(0));
        spawn_writer(dir.path().to_owned(), Compression::None, gate.clone(), queued.clone(), rx, core_tx)
            .unwrap();
        let mut s = Snapshotter::new(StorageSettings::default(), tx, gate, queued, 7);
        let open = Acl::new(31, "world", "anyone");
        let secret = Acl::new(1, "digest", "u:secret");
        let mut t = DataTree::new(false);
        for i in 0..20 {
            create(&mut t, i + 1, &format!("/n{i}"), open.clone());
        }
        s.start(&t);
        s.step(&t);
        assert!(!s.running(), "one step walks these 21 nodes");
        assert_eq!(written(&mut core_rx), (20, true));
        s.written();

        s.start(&t);
        create(&mut t, 21, "/n19/kid", secret.clone());
        // The walk has not started yet, so it sees the new node; its ACL list is newer than the head.
        s.step(&t);
        assert_eq!(written(&mut core_rx), (20, false), "abandoned");
        s.written();

        // The same again: streamed, this snapshot would be abandoned too; whole, it is written.
        let other = Acl::new(1, "digest", "v:other");
        s.start(&t);
        create(&mut t, 22, "/n18/kid", other.clone());
        while s.running() {
            s.step(&t);
        }
        assert_eq!(written(&mut core_rx), (21, true));
        let path = dir.path().join("version-2").join("snapshot.15");
        let loaded = rzk_tree::snapshot::load_snapshot(
            Bytes::from(rzk_storage::snapfile::read_snapshot(&path).unwrap()),
            false,
        )
        .unwrap();
        for (kid, acl) in [("/n19/kid", &secret), ("/n18/kid", &other)] {
            let node = loaded.tree.node(kid).expect(kid);
            assert_eq!(&loaded.tree.acls.get(node.acl), &vec![acl.clone()], "{kid}");
        }
    }
}
