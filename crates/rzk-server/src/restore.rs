//! Loading the database at start-up, as the seed documents describe it (`ZKDatabase.loadDataBase`
//! → `FileTxnSnapLog.restore` → `ZooKeeperServer.loadData`): the newest valid snapshot (a bad one
//! falls back to an older one, up to 100 tried), then the transaction log replayed from the
//! snapshot's zxid (idempotent over ZooKeeper's fuzzy snapshots), then the ephemerals of sessions
//! that no longer exist removed. A partial txn at the end of the newest log (a torn write) is cut
//! off with a warning; damage in the middle of a log stops start-up with the file and offset.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use rzk_proto::txn::TxnEntry;
use rzk_storage::snapfile::{find_valid_snapshots, open_snapshot, snapshot_files, snapshot_stream_bytes};
use rzk_storage::{LogEntry, LogError, LogRead, VERSION_DIR, read_log_dir_and_tail};
use rzk_tree::DataTree;
use rzk_tree::snapshot::{load_snapshot_from, load_snapshot_sized};

use crate::settings::StorageSettings;

/// How many snapshots are tried before giving up (`FileSnap.deserialize`).
pub const SNAPSHOTS_TRIED_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{file} at offset {offset}: cannot decode txn: {reason}")]
    Txn { file: String, offset: u64, reason: String },
    #[error("Not able to find valid snapshots in {0}")]
    NoValidSnapshot(String),
    #[error(
        "No snapshot found, but there are log entries. Something is broken! (snapshot.trust.empty allows this)"
    )]
    EmptySnapshot,
    #[error(
        "Missing data directory {0}, automatic data directory creation is disabled \
         (zookeeper.datadir.autocreate is false). Please create this directory manually."
    )]
    NoDataDir(String),
    #[error(
        "the database is empty and zookeeper.db.autocreate is false: create {0} to start with an \
         empty database"
    )]
    NoDatabase(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What start-up loaded.
#[derive(Debug)]
pub struct Restored {
    pub tree: DataTree,
    /// The zxid of the snapshot loaded (0 when there was none).
    pub snapshot_zxid: i64,
    pub snapshot_load_ms: u64,
    /// Txns replayed from the log.
    pub txns: usize,
    pub replay_ms: u64,
    /// The digest log (`hash`) the replay rebuilt: (zxid, digest) every 128 zxids.
    pub digest_log: Vec<(i64, i64)>,
    /// The last txns replayed (zxid, bytes as logged), newest last, for a quorum member's
    /// committed log (`ZKDatabase.committedLog`).
    pub recent: Vec<(i64, Bytes)>,
}

/// How many replayed txns [`Restored::recent`] keeps.
pub const RECENT_TXNS_KEPT: usize = 500;

pub fn restore(
    data_dir: &Path,
    data_log_dir: &Path,
    st: &StorageSettings,
    extended_types: bool,
) -> Result<Restored, RestoreError> {
    for d in [data_dir, data_log_dir] {
        if !d.exists() {
            if !st.datadir_autocreate {
                return Err(RestoreError::NoDataDir(d.display().to_string()));
            }
            std::fs::create_dir_all(d.join(VERSION_DIR))?;
        }
    }
    let t = Instant::now();
    let candidates = find_valid_snapshots(data_dir, SNAPSHOTS_TRIED_MAX)?;
    // The log after the newest snapshot is read and its checksums checked on a thread while the
    // snapshot loads (reading took a quarter of the replay's time, and the replay two thirds of
    // a start-up's). If that snapshot does not load, the log is read again after the one that does.
    let expected_zxid = candidates.first().map_or(0, |(z, _)| *z);
    let (loaded, log) = std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("log-reader".into())
            .spawn_scoped(scope, || read_log_after(data_log_dir, expected_zxid));
        let loaded = load_newest_snapshot(data_dir, &candidates, extended_types);
        let log = match reader {
            Ok(handle) => handle.join().unwrap_or_else(|_| Err(io_error("the log reader thread panicked"))),
            Err(e) => Err(RestoreError::Io(e)),
        };
        (loaded, log)
    });
    let loaded = loaded?;
    let log = log?;
    let (mut tree, snapshot_zxid) = match loaded {
        Some(loaded) => loaded,
        None => {
            // The `initialize` marker (next to version-2 of the log dir) allows one empty start
            // even with zookeeper.db.autocreate=false; it is consumed.
            let marker = data_log_dir.join("initialize");
            let initialize = marker.exists();
            if initialize {
                tracing::info!("initialize file found, an empty database is allowed");
                std::fs::remove_file(&marker)?;
            }
            // No snapshot: the thread read the whole log (every txn's zxid is above 0).
            let logged = !log.1.entries.is_empty();
            if logged && !st.snapshot_trust_empty {
                return Err(RestoreError::EmptySnapshot);
            }
            if !logged && !initialize && !st.db_autocreate {
                return Err(RestoreError::NoDatabase(marker.display().to_string()));
            }
            (DataTree::new(extended_types), 0)
        }
    };
    let snapshot_load_ms = t.elapsed().as_millis() as u64;
    let t = Instant::now();
    let (after, log) = log;
    let log = if after == snapshot_zxid { log } else { read_log_after(data_log_dir, snapshot_zxid)?.1 };
    if let Some((newest, good)) = &log.torn_tail {
        cut_torn_tail(newest, *good)?;
    }
    let entries = log.entries;
    tree.reserve_nodes(nodes_created(&entries));
    let mut events = Vec::new();
    let mut digest_log = Vec::new();
    for e in &entries {
        let entry = TxnEntry::decode(e.txn.clone()).map_err(|err| RestoreError::Txn {
            file: e.file.display().to_string(),
            offset: e.offset,
            reason: err.to_string(),
        })?;
        tree.process_txn(&entry.header, &entry.body, &mut events);
        events.clear();
        // DataTree.processTxn logs the digest of every 128th zxid, during replay too.
        if entry.header.zxid % crate::four_letter::hash::DIGEST_LOG_INTERVAL == 0 {
            digest_log.push((entry.header.zxid, tree.digest()));
        }
    }
    remove_dead_ephemerals(&mut tree);
    let keep_from = entries.len().saturating_sub(RECENT_TXNS_KEPT);
    let recent = entries[keep_from..].iter().map(|e| (e.zxid, e.txn.clone())).collect();
    Ok(Restored {
        recent,
        tree,
        snapshot_zxid,
        snapshot_load_ms,
        txns: entries.len(),
        replay_ms: t.elapsed().as_millis() as u64,
        digest_log,
    })
}

/// How many more nodes the tree holds after the logged txns than before: creates less deletes (a
/// multi counts as one create), from each txn header's type. The room the replay needs in the
/// tree's index, made before it starts; a log of churn (create, delete, create ...) asks for
/// none.
fn nodes_created(entries: &[LogEntry]) -> usize {
    use rzk_proto::codes::op;
    use rzk_proto::{Jute, Reader, TxnHeader};
    let txn_type = |e: &LogEntry| {
        let header = TxnHeader::decode(&mut Reader::new(e.txn.clone(), usize::MAX));
        header.ok().map(|h| h.txn_type)
    };
    let net = entries.iter().fold(0i64, |n, e| match txn_type(e) {
        Some(op::CREATE | op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL | op::MULTI) => n + 1,
        Some(op::DELETE | op::DELETE_CONTAINER) => n - 1,
        _ => n,
    });
    usize::try_from(net).unwrap_or(0)
}

/// The txns logged after the zxid `after`, paired with it.
fn read_log_after(data_log_dir: &Path, after: i64) -> Result<(i64, LogRead), RestoreError> {
    Ok((after, read_log_dir_and_tail(data_log_dir, after)?))
}

fn io_error(what: &str) -> RestoreError {
    RestoreError::Io(std::io::Error::other(what.to_owned()))
}

/// The newest of the `candidates` (valid-looking snapshots, newest first, as
/// `find_valid_snapshots` lists them) that loads; `None` if there is none.
fn load_newest_snapshot(
    data_dir: &Path,
    candidates: &[(i64, PathBuf)],
    extended_types: bool,
) -> Result<Option<(DataTree, i64)>, RestoreError> {
    if candidates.is_empty() {
        if !snapshot_files(data_dir)?.is_empty() {
            return Err(RestoreError::NoValidSnapshot(data_dir.join(VERSION_DIR).display().to_string()));
        }
        return Ok(None);
    }
    for (zxid, path) in candidates {
        tracing::info!(file = %path.display(), "reading snapshot");
        // Read a part at a time, so the file is never whole in memory beside the tree.
        let loaded = open_snapshot(path).map_err(|e| e.to_string()).and_then(|src| {
            // With the stream's length known, the tree sizes its index from it.
            let loaded = match snapshot_stream_bytes(path) {
                Some(len) => load_snapshot_sized(src, extended_types, len),
                None => load_snapshot_from(src, extended_types),
            };
            loaded.map_err(|e| e.to_string())
        });
        match loaded {
            Ok(mut l) => {
                l.tree.last_processed_zxid = *zxid;
                return Ok(Some((l.tree, *zxid)));
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "problem reading snapshot; trying an older one")
            }
        }
    }
    Err(RestoreError::NoValidSnapshot(data_dir.join(VERSION_DIR).display().to_string()))
}

/// Cuts a partial txn off the end of the newest log file (to its `good` length), so that new
/// files written after it do not leave it in the middle of the log.
fn cut_torn_tail(newest: &Path, good: u64) -> Result<(), RestoreError> {
    tracing::warn!(file = %newest.display(), bytes = good, "cutting a partial txn off the end of the log");
    let f = std::fs::OpenOptions::new().write(true).open(newest)?;
    f.set_len(good)?;
    f.sync_all()?;
    Ok(())
}

/// `ZooKeeperServer.loadData`: ephemerals whose session is not in the session table are deleted
/// (their closeSession happened, or the session is unknown).
fn remove_dead_ephemerals(tree: &mut DataTree) {
    let dead: Vec<i64> =
        tree.ephemerals_by_session().keys().copied().filter(|s| !tree.sessions.contains_key(s)).collect();
    let zxid = tree.last_processed_zxid;
    let mut events = Vec::new();
    for s in dead {
        tracing::info!(session = %format!("0x{s:x}"), "removing ephemerals of a dead session");
        tree.kill_session(s, zxid, None, &mut events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::TxnHeader;
    use rzk_proto::codes::op;

    /// A logged txn of `txn_type` (header only: the count reads no further).
    fn entry(zxid: i64, txn_type: i32) -> LogEntry {
        let mut b = Vec::new();
        rzk_proto::Jute::encode(&TxnHeader { client_id: 7, cxid: 1, zxid, time: 0, txn_type }, &mut b);
        let file: std::sync::Arc<Path> = Path::new("log.1").into();
        LogEntry { zxid, txn: Bytes::from(b), file, offset: 0 }
    }

    #[test]
    fn the_replay_reserves_for_creates_less_deletes() {
        let log = |types: &[i32]| -> Vec<LogEntry> {
            types.iter().enumerate().map(|(i, t)| entry(i as i64 + 1, *t)).collect()
        };
        let creates = [op::CREATE, op::CREATE2, op::CREATE_CONTAINER, op::CREATE_TTL, op::MULTI];
        assert_eq!(nodes_created(&log(&creates)), 5);
        assert_eq!(nodes_created(&log(&[op::CREATE, op::SET_DATA, op::CREATE, op::DELETE])), 1);
        assert_eq!(
            nodes_created(&log(&[op::CREATE, op::DELETE, op::CREATE, op::DELETE_CONTAINER])),
            0,
            "churn"
        );
        assert_eq!(nodes_created(&log(&[op::DELETE, op::DELETE, op::CREATE])), 0, "never below none");
        let mut short = entry(1, op::CREATE);
        short.txn = short.txn.slice(..20);
        assert_eq!(nodes_created(&[short]), 0, "a txn too short for a type counts as nothing");
    }
}
