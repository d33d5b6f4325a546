//! A server's disk in memory: the txn log (a durable part and appends not yet synced), the
//! last snapshot, and the epoch files. A crash keeps only what was durable; everything else is
//! lost, as on a machine that loses power.

use bytes::Bytes;
use rzk_proto::txn::TxnEntry;
use rzk_tree::DataTree;

#[derive(Debug, Clone, Default)]
pub struct MemStore {
    /// The durable log; appends go through [`MemStore::append_durable`], which checks their order.
    pub log: Vec<(i64, Bytes)>,
    /// Appended, not yet durable: (zxid, bytes), synced at `sync_at`.
    pub unsynced: Vec<(i64, Bytes)>,
    pub snapshot: Option<(i64, DataTree)>,
    pub accepted_epoch: Option<i64>,
    pub current_epoch: Option<i64>,
    /// The first durable append that did not follow its predecessor's zxid: (previous, appended).
    pub disorder: Option<(i64, i64)>,
}

impl MemStore {
    /// Makes everything appended durable; returns the last zxid synced.
    pub fn sync(&mut self) -> Option<i64> {
        let last = self.unsynced.last().map(|(z, _)| *z);
        let unsynced = std::mem::take(&mut self.unsynced);
        self.append_durable(unsynced);
        last
    }

    /// Appends to the durable log, noting the first zxid out of order (checking as entries
    /// arrive keeps the per-step check O(1); truncation keeps a prefix, so order survives it).
    pub fn append_durable(&mut self, entries: impl IntoIterator<Item = (i64, Bytes)>) {
        for (zxid, bytes) in entries {
            if let Some(&(prev, _)) = self.log.last()
                && prev >= zxid
                && self.disorder.is_none()
            {
                self.disorder = Some((prev, zxid));
            }
            self.log.push((zxid, bytes));
        }
    }

    pub fn crash(&mut self) {
        self.unsynced.clear();
    }

    /// `FileTxnLog.truncate`: drops every txn after `zxid` (synced or not).
    pub fn truncate(&mut self, zxid: i64) {
        self.log.retain(|(z, _)| *z <= zxid);
        self.unsynced.retain(|(z, _)| *z <= zxid);
    }

    /// Loads the tree as a restart would: the snapshot, then the log after it.
    pub fn restore(&self) -> (DataTree, Vec<(i64, Bytes)>) {
        let mut tree = match &self.snapshot {
            Some((_, t)) => t.clone(),
            None => DataTree::new(false),
        };
        let mut events = Vec::new();
        let mut recent = Vec::new();
        for (zxid, bytes) in &self.log {
            if *zxid <= tree.last_processed_zxid {
                continue;
            }
            if let Ok(e) = TxnEntry::decode(bytes.clone()) {
                tree.process_txn(&e.header, &e.body, &mut events);
                events.clear();
                recent.push((*zxid, bytes.clone()));
            }
        }
        if recent.len() > 500 {
            recent.drain(..recent.len() - 500);
        }
        (tree, recent)
    }
}
