//! Purging old files (`PurgeTxnLog`, run by `DatadirCleanupManager` every
//! `autopurge.purgeInterval` hours and by `zkCleanup.sh`): keep the newest `retain` valid
//! snapshots (at least 3), delete older snapshots, and delete the log files no retained snapshot
//! needs. The newest log file starting at or before the oldest retained snapshot is kept, since it
//! may hold txns after that snapshot.

use std::io;
use std::path::{Path, PathBuf};

use crate::VERSION_DIR;
use crate::snapfile::{find_valid_snapshots, snapshot_files};
use crate::txnlog::log_files;

/// `PurgeTxnLog.COUNT_ERR_MSG`'s minimum.
pub const SNAP_RETAIN_COUNT_MIN: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("snapRetainCount must be at least {SNAP_RETAIN_COUNT_MIN}")]
    RetainTooSmall,
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Log(#[from] crate::LogError),
}

/// Deletes what `retain` snapshots do not need; returns the deleted files.
pub fn purge(data_dir: &Path, data_log_dir: &Path, retain: usize) -> Result<Vec<PathBuf>, PurgeError> {
    let doomed = purge_plan(data_dir, data_log_dir, retain)?;
    for f in &doomed {
        tracing::info!(file = %f.display(), "removing file");
        if let Err(e) = std::fs::remove_file(f) {
            tracing::warn!(file = %f.display(), error = %e, "failed to remove");
        }
    }
    Ok(doomed)
}

/// What [`purge`] deletes, without deleting anything: the old logs (oldest first), then the old
/// snapshots (newest first). For tools that report each file before removing it (`rzk purge`).
pub fn purge_plan(data_dir: &Path, data_log_dir: &Path, retain: usize) -> Result<Vec<PathBuf>, PurgeError> {
    if retain < SNAP_RETAIN_COUNT_MIN {
        return Err(PurgeError::RetainTooSmall);
    }
    let snaps = find_valid_snapshots(data_dir, retain)?;
    let Some(&(least, _)) = snaps.last() else { return Ok(Vec::new()) };
    let logs = log_files(&data_log_dir.join(VERSION_DIR))?;
    // The newest log starting at or before `least` stays, with everything after it.
    let keep_from = logs.iter().filter(|(z, _)| *z <= least).map(|(z, _)| *z).max().unwrap_or(0);
    let mut doomed: Vec<PathBuf> =
        logs.into_iter().filter(|(z, _)| *z < least && *z < keep_from).map(|(_, p)| p).collect();
    doomed.extend(snapshot_files(data_dir)?.into_iter().filter(|(z, _)| *z < least).map(|(_, p)| p));
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapfile::{Compression, write_snapshot};

    fn touch_log(dir: &Path, zxid: i64) {
        let d = dir.join(VERSION_DIR);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("log.{zxid:x}")), b"x").unwrap();
    }

    #[test]
    fn keeps_what_the_retained_snapshots_need() {
        let dir = tempfile::tempdir().unwrap();
        let valid = [1u8, 2, 3, 4, 5, 0, 0, 0, 1, b'/'];
        for z in [0x10, 0x20, 0x30, 0x40] {
            write_snapshot(dir.path(), z, &valid, Compression::None).unwrap();
        }
        for z in [0x1, 0x15, 0x18, 0x25, 0x41] {
            touch_log(dir.path(), z);
        }
        assert!(matches!(purge(dir.path(), dir.path(), 2), Err(PurgeError::RetainTooSmall)));
        let gone = purge(dir.path(), dir.path(), 3).unwrap();
        let mut names: Vec<String> =
            gone.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        names.sort();
        // Oldest kept snapshot is 0x20; log.18 may hold txns after it and stays.
        assert_eq!(names, ["log.1", "log.15", "snapshot.10"]);
    }
}
