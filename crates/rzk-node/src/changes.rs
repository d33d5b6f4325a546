//! Outstanding changes (`ZooKeeperServer.outstandingChanges`): what the txns that are prepared
//! but not yet applied will do to each path. Prep validates a new request against the tree *plus*
//! these records, so a create right after a create of its parent succeeds before either is on
//! disk. Each record also carries the node digest and the tree digest after it, which is how a
//! txn knows the digest the tree will have once it is applied.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use rzk_proto::{Acl, ErrorCode, StatPersisted};
use rzk_tree::DataTree;
use rzk_tree::digest::node_digest;

/// A record's data: unchanged from the tree (looked up when needed, so prep never copies a
/// parent's data just to add a child), or the new value a pending txn sets.
#[derive(Debug, Clone)]
pub enum RecData {
    Tree,
    Value(Option<Bytes>),
}

impl RecData {
    /// The data of `path` this record stands for.
    pub fn get<'a>(&'a self, tree: &'a DataTree, path: &str) -> Option<&'a [u8]> {
        match self {
            RecData::Tree => tree.node(path).and_then(|n| n.data()),
            RecData::Value(v) => v.as_deref(),
        }
    }
}

/// The pending state of one path (`ChangeRecord`); `stat: None` means "deleted".
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub zxid: i64,
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    /// Shared with the tree's ACL cache (prep never copies a parent's list).
    pub acl: Arc<[Acl]>,
    pub data: RecData,
    pub node_digest: i64,
}

/// A record as stored: its id (to tell whether it is still the latest for its path) and itself.
type Stored = (u64, ChangeRecord);

#[derive(Debug, Default)]
pub struct Outstanding {
    /// Keyed by path; the path's one allocation is shared with `order` (and `undo`).
    by_path: HashMap<Arc<str>, Stored>,
    /// (zxid, path, record id, tree digest after this record), in the order added.
    order: VecDeque<(i64, Arc<str>, u64, i64)>,
    next_id: u64,
    /// While a multi is prepared: the records it replaced, to put back if it fails.
    undo: Option<Vec<(Arc<str>, Option<Stored>)>>,
}

fn key(path: &str) -> &str {
    if path.is_empty() { "/" } else { path }
}

impl Outstanding {
    /// `getRecordForPath`: the pending record, else the tree's node; NoNode if neither exists.
    pub fn record(&self, tree: &DataTree, path: &str) -> Result<ChangeRecord, ErrorCode> {
        let path = key(path);
        if let Some((_, r)) = self.by_path.get(path) {
            return if r.stat.is_some() { Ok(r.clone()) } else { Err(ErrorCode::NoNode) };
        }
        let n = tree.node(path).ok_or(ErrorCode::NoNode)?;
        Ok(ChangeRecord {
            zxid: -1,
            stat: Some(n.stat.clone()),
            child_count: n.children.len() as i32,
            acl: tree.acl_shared(n),
            data: RecData::Tree,
            node_digest: node_digest(path, n.data(), &n.stat),
        })
    }

    /// Whether the path exists, counting pending creates and deletes.
    pub fn exists(&self, tree: &DataTree, path: &str) -> bool {
        self.record(tree, path).is_ok()
    }

    /// The tree digest once every outstanding change is applied.
    pub fn current_digest(&self, tree: &DataTree) -> i64 {
        self.order.back().map_or(tree.digest(), |e| e.3)
    }

    /// `addChangeRecord`, with the node's new digest folded into the tree digest.
    pub fn add(&mut self, tree: &DataTree, path: &str, mut rec: ChangeRecord) {
        let path = key(path);
        let prev_node_digest = match self.by_path.get(path) {
            Some((_, r)) => r.node_digest,
            None => tree.node(path).map_or(0, |n| node_digest(path, n.data(), &n.stat)),
        };
        rec.node_digest = match &rec.stat {
            Some(s) => node_digest(path, rec.data.get(tree, path), s),
            None => 0,
        };
        let digest = self.current_digest(tree).wrapping_sub(prev_node_digest).wrapping_add(rec.node_digest);
        let id = self.next_id;
        self.next_id += 1;
        let path: Arc<str> = path.into();
        self.order.push_back((rec.zxid, path.clone(), id, digest));
        let old = self.by_path.insert(path.clone(), (id, rec));
        if let Some(undo) = &mut self.undo {
            undo.push((path, old));
        }
    }

    /// Starts recording what a multi changes.
    pub fn begin_multi(&mut self) {
        self.undo = Some(Vec::new());
    }

    /// Ends a multi; if it failed, its records are removed and the ones they replaced restored
    /// (`rollbackPendingChanges`).
    pub fn end_multi(&mut self, zxid: i64, failed: bool) {
        let Some(undo) = self.undo.take() else { return };
        if !failed {
            return;
        }
        while self.order.back().is_some_and(|e| e.0 == zxid) {
            self.order.pop_back();
        }
        for (path, old) in undo.into_iter().rev() {
            match old {
                Some(o) => {
                    self.by_path.insert(path, o);
                }
                None => {
                    self.by_path.remove(&*path);
                }
            }
        }
    }

    /// Forgets the records of txns up to `zxid` once they are in the tree.
    pub fn applied(&mut self, zxid: i64) {
        while self.order.front().is_some_and(|e| e.0 <= zxid) {
            if let Some((_, path, id, _)) = self.order.pop_front()
                && self.by_path.get(&*path).is_some_and(|(i, _)| *i == id)
            {
                self.by_path.remove(&*path);
            }
        }
    }

    /// Paths pending deletion and pending ephemerals of `session` (for closeSession).
    pub fn ephemeral_changes(&self, session: i64) -> (Vec<String>, Vec<String>) {
        let mut deleted = Vec::new();
        let mut created = Vec::new();
        for (_, path, id, _) in &self.order {
            if let Some((i, r)) = self.by_path.get(path)
                && i == id
            {
                match &r.stat {
                    None => deleted.push(path.to_string()),
                    Some(s) if s.ephemeral_owner == session => created.push(path.to_string()),
                    Some(_) => {}
                }
            }
        }
        (deleted, created)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
