//! `ReferenceCountedACLCache`: nodes refer to ACL lists by a long index, and equal lists share one
//! entry. The indexes are part of the snapshot format, so they are assigned exactly as ZooKeeper
//! assigns them: −1 for the built-in open ACL (only nodes created without an ACL list, i.e. the
//! root and `/zookeeper`), then 1, 2, 3, ... in order of first use; an entry disappears when its
//! last node does. Lists are kept as `Arc<[Acl]>`, so the request pipeline can hold a node's list
//! ([`AclCache::shared`]) without copying it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rzk_proto::Acl;
use rzk_proto::codes::perms;

/// The index of `OPEN_ACL_UNSAFE` that is never stored.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

#[derive(Debug, Clone)]
pub struct AclCache {
    by_index: BTreeMap<i64, Arc<[Acl]>>,
    by_list: HashMap<Arc<[Acl]>, i64>,
    refs: HashMap<i64, u64>,
    last_index: i64,
    /// `OPEN_ACL_UNSAFE`, the list of [`OPEN_UNSAFE_ACL_ID`].
    open: Arc<[Acl]>,
}

impl Default for AclCache {
    fn default() -> AclCache {
        AclCache {
            by_index: BTreeMap::new(),
            by_list: HashMap::new(),
            refs: HashMap::new(),
            last_index: 0,
            open: open_acl_unsafe().into(),
        }
    }
}

/// `ZooDefs.Ids.OPEN_ACL_UNSAFE`.
pub fn open_acl_unsafe() -> Vec<Acl> {
    vec![Acl::new(perms::ALL, "world", "anyone")]
}

/// `ZooDefs.Ids.READ_ACL_UNSAFE`.
pub fn read_acl_unsafe() -> Vec<Acl> {
    vec![Acl::new(perms::READ, "world", "anyone")]
}

impl AclCache {
    /// The index for `acls`, adding a use (`convertAcls`).
    pub fn intern(&mut self, acls: &[Acl]) -> i64 {
        let idx = match self.by_list.get(acls) {
            Some(&i) => i,
            None => {
                self.last_index += 1;
                let i = self.last_index;
                let list: Arc<[Acl]> = acls.into();
                self.by_index.insert(i, list.clone());
                self.by_list.insert(list, i);
                i
            }
        };
        self.add_usage(idx);
        idx
    }

    /// The list behind an index (`convertLong`). An unknown index yields an empty list; ZooKeeper
    /// throws there, which can only follow a corrupt snapshot.
    pub fn get(&self, idx: i64) -> Vec<Acl> {
        self.slice(idx).to_vec()
    }

    fn slice(&self, idx: i64) -> &[Acl] {
        if idx == OPEN_UNSAFE_ACL_ID {
            return &self.open;
        }
        self.by_index.get(&idx).map_or(&[], |l| l)
    }

    /// Borrowing form of [`get`](Self::get) for the hot paths (ACL checks).
    pub fn with<R>(&self, idx: i64, f: impl FnOnce(&[Acl]) -> R) -> R {
        f(self.slice(idx))
    }

    /// The list behind an index, shared (no copy).
    pub fn shared(&self, idx: i64) -> Arc<[Acl]> {
        if idx == OPEN_UNSAFE_ACL_ID {
            return self.open.clone();
        }
        self.by_index.get(&idx).cloned().unwrap_or_default()
    }

    /// An equal list already in the cache, shared; else a new copy of `acls`.
    pub fn share(&self, acls: &[Acl]) -> Arc<[Acl]> {
        match self.by_list.get_key_value(acls) {
            Some((list, _)) => list.clone(),
            None => acls.into(),
        }
    }

    pub fn add_usage(&mut self, idx: i64) {
        if idx == OPEN_UNSAFE_ACL_ID || !self.by_index.contains_key(&idx) {
            return;
        }
        *self.refs.entry(idx).or_insert(0) += 1;
    }

    pub fn remove_usage(&mut self, idx: i64) {
        if idx == OPEN_UNSAFE_ACL_ID || !self.by_index.contains_key(&idx) {
            return;
        }
        let count = self.refs.entry(idx).or_insert(0);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.refs.remove(&idx);
            if let Some(list) = self.by_index.remove(&idx) {
                self.by_list.remove(&list);
            }
        }
    }

    /// Entries in index order, as snapshots write them.
    pub fn entries(&self) -> impl Iterator<Item = (i64, &[Acl])> {
        self.by_index.iter().map(|(i, l)| (*i, &**l))
    }

    /// Restores an entry read from a snapshot (reference counts are rebuilt from the nodes).
    pub fn insert_loaded(&mut self, idx: i64, acls: Vec<Acl>) {
        self.last_index = self.last_index.max(idx);
        let list: Arc<[Acl]> = acls.into();
        self.by_list.insert(list.clone(), idx);
        self.by_index.insert(idx, list);
        self.refs.entry(idx).or_insert(0);
    }

    /// Drops entries no node uses (after loading a snapshot; `purgeUnused`).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self.refs.iter().filter(|(_, c)| **c == 0).map(|(i, _)| *i).collect();
        for i in unused {
            self.refs.remove(&i);
            if let Some(list) = self.by_index.remove(&i) {
                self.by_list.remove(&list);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_shared_and_freed() {
        let mut c = AclCache::default();
        let a = open_acl_unsafe();
        let b = read_acl_unsafe();
        assert_eq!(c.intern(&a), 1);
        assert_eq!(c.intern(&b), 2);
        assert_eq!(c.intern(&a), 1);
        c.remove_usage(1);
        assert_eq!(c.len(), 2);
        c.remove_usage(1);
        assert_eq!(c.len(), 1);
        // A new list takes a fresh index; freed ones are not reused.
        assert_eq!(c.intern(&a), 3);
        assert_eq!(c.get(OPEN_UNSAFE_ACL_ID), a);
        assert!(Arc::ptr_eq(&c.share(&a), &c.shared(3)));
        assert_eq!(&*c.share(&b), &b[..]);
    }
}
