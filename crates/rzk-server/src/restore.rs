//! Loading the database at start-up (`ZKDatabase.loadDataBase` / `FileTxnSnapLog.restore`):
//! replay the transaction log into a fresh tree. (Snapshots come with the storage issue.)

use std::path::Path;

use rzk_proto::txn::TxnEntry;
use rzk_storage::{LogError, read_log_dir};
use rzk_tree::DataTree;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("{file} at offset {offset}: cannot decode txn: {reason}")]
    Txn { file: String, offset: u64, reason: String },
}

/// What the log replay produced.
#[derive(Debug)]
pub struct Restored {
    pub tree: DataTree,
    /// Txns replayed.
    pub txns: usize,
    /// The digest log (`hash`) the replay rebuilt: (zxid, digest) every 128 zxids.
    pub digest_log: Vec<(i64, i64)>,
}

/// The tree the log describes.
pub fn restore(data_log_dir: &Path, extended_types: bool) -> Result<Restored, RestoreError> {
    let mut tree = DataTree::new(extended_types);
    let entries = read_log_dir(data_log_dir, 0)?;
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
    Ok(Restored { tree, txns: entries.len(), digest_log })
}
