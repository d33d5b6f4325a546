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

/// The tree the log describes, and how many txns were replayed.
pub fn restore(data_log_dir: &Path, extended_types: bool) -> Result<(DataTree, usize), RestoreError> {
    let mut tree = DataTree::new(extended_types);
    let entries = read_log_dir(data_log_dir, 0)?;
    let mut events = Vec::new();
    for e in &entries {
        let entry = TxnEntry::decode(e.txn.clone()).map_err(|err| RestoreError::Txn {
            file: e.file.display().to_string(),
            offset: e.offset,
            reason: err.to_string(),
        })?;
        tree.process_txn(&entry.header, &entry.body, &mut events);
        events.clear();
    }
    Ok((tree, entries.len()))
}
