//! 3.9's `restore` command (`RestoreCommand`, `ZooKeeperServer.restoreFromSnapshot`): replace
//! the database with a snapshot sent as the request body (a stream as `snapshot` serves it:
//! plain, or gzip/snappy as ZooKeeper compresses snapshot files).
//!
//! ZooKeeper swaps the tree in memory and carries on logging after it; its next restart then
//! loads the newest snapshot on disk and replays the old log, which can bring the old data back.
//! rzk makes the swap durable first, so a crash at any point leaves either the old or the new
//! database:
//!
//! 1. the stream is read and checked (seals, parents) off the core ([`parse`]);
//! 2. the core proceeds only when nothing is in flight (no txn waiting for the log, no request
//!    queued, no snapshot being taken); the request retries for a while, then answers 503 with
//!    nothing changed;
//! 3. the new tree's zxid is raised to the current one if it is lower, so that it sorts after
//!    every snapshot and txn already on disk, and it is written as a snapshot under that zxid
//!    (synced) before anything else happens;
//! 4. the log is rolled, every client connection is closed (their sessions and watches belong to
//!    the old tree), and a fresh node is built over the new tree; its sessions are the
//!    snapshot's, which clients may resume.

use std::path::Path;

use bytes::Bytes;
use rzk_node::Node;
use rzk_proto::{FileHeader, Jute, Reader};
use rzk_tree::DataTree;
use rzk_tree::snapshot::{SNAP_MAGIC, read_tree_body};

use crate::admin::response::Response;
use crate::core::{Shell, wall_ms};
use crate::log_thread::LogCmd;
use crate::snapshotter::{Snapshotter, snapshot_now};

/// The largest request body `restore` reads (ZooKeeper's default `snapSizeLimitInKb`).
pub const RESTORE_BODY_BYTES_MAX: usize = 4 * 1024 * 1024 * 1024;

/// Bytes of a seal: `long adler32`, `ustring "/"`.
const SEAL_BYTES: usize = 8 + 4 + 1;
/// The digest section: `long zxid, int version, long digest` and its seal.
const DIGEST_SECTION_BYTES: usize = 8 + 4 + 8 + SEAL_BYTES;
/// 3.9's last-processed-zxid section: `long zxid` and its seal.
const LAST_ZXID_SECTION_BYTES: usize = 8 + SEAL_BYTES;

/// A snapshot read from a request.
#[derive(Debug)]
pub struct Stream {
    pub tree: DataTree,
    /// The zxid the stream says it was taken at (its last-zxid section, else its digest's).
    pub zxid: Option<i64>,
}

/// Reads a snapshot stream (decompressing a gzip or snappy one through a scratch file in
/// `scratch_dir`) and checks its seals.
pub fn parse(body: Bytes, extended_types: bool, scratch_dir: &Path) -> Result<Stream, String> {
    let plain = decompress(body, scratch_dir)?;
    let total = plain.len();
    let mut r = Reader::new(plain.clone(), usize::MAX);
    let header = FileHeader::decode(&mut r).map_err(|e| format!("bad snapshot header: {e}"))?;
    if header.magic != SNAP_MAGIC {
        return Err(format!("not a snapshot (magic {:#x})", header.magic));
    }
    let mut tree = read_tree_body(&mut r, extended_types).map_err(|e| e.to_string())?;
    seal(&plain, total - r.remaining(), &mut r)?;
    let mut zxid = None;
    let rest = r.remaining();
    if rest == DIGEST_SECTION_BYTES || rest == DIGEST_SECTION_BYTES + LAST_ZXID_SECTION_BYTES {
        let digest_zxid = r.read_i64().map_err(|e| e.to_string())?;
        let _version = r.read_i32().map_err(|e| e.to_string())?;
        let digest = r.read_i64().map_err(|e| e.to_string())?;
        seal(&plain, total - r.remaining(), &mut r)?;
        if digest != tree.digest() {
            // Snapshots are fuzzy: ZooKeeper only logs a mismatch (compareSnapshotDigests).
            tracing::warn!(zxid = %format!("0x{digest_zxid:x}"), "restored snapshot's digest does not match its nodes");
        }
        zxid = Some(digest_zxid);
    }
    if r.remaining() == LAST_ZXID_SECTION_BYTES {
        zxid = Some(r.read_i64().map_err(|e| e.to_string())?);
        seal(&plain, total - r.remaining(), &mut r)?;
    }
    if r.remaining() != 0 {
        return Err(format!("{} unexpected bytes after the snapshot", r.remaining()));
    }
    tree.last_processed_zxid = zxid.unwrap_or(0);
    Ok(Stream { tree, zxid })
}

/// The stream as written by `SnapStream`: gzip and xerial snappy by their magic bytes.
fn decompress(body: Bytes, scratch_dir: &Path) -> Result<Bytes, String> {
    let ext = if body.starts_with(&[0x1f, 0x8b]) {
        "gz"
    } else if body.starts_with(&[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0]) {
        "snappy"
    } else {
        return Ok(body);
    };
    let scratch = scratch_dir.join(format!("restore-upload.{ext}"));
    let read = std::fs::write(&scratch, &body).and_then(|()| rzk_storage::snapfile::read_snapshot(&scratch));
    let _ = std::fs::remove_file(&scratch);
    read.map(Bytes::from).map_err(|e| format!("cannot decompress the snapshot: {e}"))
}

/// Checks a seal: the Adler-32 of every byte before it, then "/".
fn seal(all: &Bytes, upto: usize, r: &mut Reader) -> Result<(), String> {
    let mut a = adler2::Adler32::new();
    a.write_slice(&all[..upto]);
    let stored = r.read_i64().map_err(|e| e.to_string())?;
    let _slash = r.read_ustring().map_err(|e| e.to_string())?;
    if stored != i64::from(a.checksum()) {
        return Err(format!("snapshot checksum mismatch (stored {stored}, computed {})", a.checksum()));
    }
    Ok(())
}

/// What the core lends the restore.
pub struct Swap<'a> {
    pub node: &'a mut Node,
    pub shell: &'a mut Shell,
    pub snapshotter: &'a Snapshotter,
    pub log_tx: &'a std::sync::mpsc::Sender<LogCmd>,
    pub elapsed_ms: i64,
}

/// Whether something is in flight that a restore must not overtake (step 2).
pub fn busy(node: &Node, snapshotter: &Snapshotter) -> bool {
    node.in_flight() > 0 || node.outstanding() > 0 || snapshotter.busy()
}

/// Steps 3 and 4 of the module docs, in the core, once it is not [`busy`].
pub fn apply(s: Swap<'_>, stream: Stream) -> Response {
    const CMD: &str = "restore";
    let current = s.node.tree().last_processed_zxid;
    let mut tree = stream.tree;
    tree.last_processed_zxid = tree.last_processed_zxid.max(current);
    let zxid = tree.last_processed_zxid;
    let settings = &s.shell.settings;
    if let Err(e) = durable_snapshot(&settings.data_dir, &tree, settings.storage.compression) {
        tracing::error!(error = %e, "restore: cannot write the restored snapshot; the database is unchanged");
        return Response::error(CMD, format!("cannot write the restored snapshot: {e}"), 500);
    }
    if s.log_tx.send(LogCmd::Roll).is_err() {
        tracing::error!("the log thread is gone");
    }
    for (_, h) in s.shell.conns.drain() {
        h.outbox.close();
    }
    tracing::info!(
        from = %format!("0x{current:x}"),
        to = %format!("0x{zxid:x}"),
        nodes = tree.node_count(),
        sessions = tree.sessions.len(),
        "database restored from a snapshot"
    );
    let cfg = s.node.config().clone();
    *s.node = Node::new(cfg, tree, s.elapsed_ms, wall_ms());
    s.shell.last_snapshot = Some((zxid, wall_ms()));
    // The digests logged (`hash`) were the old tree's.
    s.shell.digest_log.clear();
    let mut r = Response::ok(CMD);
    r.put("last_zxid", stream.zxid.unwrap_or(zxid));
    r
}

/// Writes the snapshot, letting the runtime move other tasks off this thread meanwhile.
fn durable_snapshot(
    data_dir: &Path,
    tree: &DataTree,
    compression: rzk_storage::snapfile::Compression,
) -> std::io::Result<std::path::PathBuf> {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| snapshot_now(data_dir, tree, compression))
    } else {
        snapshot_now(data_dir, tree, compression)
    }
}

#[cfg(test)]
mod tests {
    use rzk_tree::snapshot::SnapshotJob;

    use super::*;

    fn stream_of(tree: &DataTree) -> Vec<u8> {
        SnapshotJob::whole(tree).to_vec()
    }

    #[test]
    fn a_snapshot_stream_reads_back_with_its_zxid() {
        let mut tree = DataTree::new(false);
        tree.last_processed_zxid = 0x42;
        let bytes = stream_of(&tree);
        let dir = tempfile::tempdir().unwrap();
        let s = parse(Bytes::from(bytes.clone()), false, dir.path()).unwrap();
        assert_eq!(s.zxid, Some(0x42));
        assert_eq!(s.tree.node_count(), tree.node_count());
        // 3.9's last-zxid section after the digest.
        let mut with_last = bytes.clone();
        let mut a = adler2::Adler32::new();
        a.write_slice(&with_last);
        with_last.extend_from_slice(&0x43i64.to_be_bytes());
        a.write_slice(&0x43i64.to_be_bytes());
        with_last.extend_from_slice(&i64::from(a.checksum()).to_be_bytes());
        with_last.extend_from_slice(&[0, 0, 0, 1, b'/']);
        assert_eq!(parse(Bytes::from(with_last), false, dir.path()).unwrap().zxid, Some(0x43));
        // A gzip stream, as a gzip snapshot file is.
        let p = rzk_storage::snapfile::write_snapshot(
            dir.path(),
            0x42,
            &bytes,
            rzk_storage::snapfile::Compression::Gzip,
        )
        .unwrap();
        let gz = std::fs::read(p).unwrap();
        assert_eq!(parse(Bytes::from(gz), false, dir.path()).unwrap().zxid, Some(0x42));
    }

    #[test]
    fn damaged_streams_are_refused() {
        let tree = DataTree::new(false);
        let bytes = stream_of(&tree);
        let dir = tempfile::tempdir().unwrap();
        let mut bad = bytes.clone();
        bad[20] ^= 0xff;
        assert!(parse(Bytes::from(bad), false, dir.path()).is_err());
        assert!(parse(Bytes::from(bytes[..bytes.len() - 3].to_vec()), false, dir.path()).is_err());
        assert!(parse(Bytes::from_static(b"hello"), false, dir.path()).is_err());
    }
}
