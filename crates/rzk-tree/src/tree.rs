//! `DataTree`: the znodes, their indexes (ephemerals by session, containers, TTL nodes, quota
//! paths), the ACL cache, the session table, the digest and the watch managers. Txns are applied
//! with [`DataTree::process_txn`], which returns ZooKeeper's `ProcessTxnResult` and appends the
//! watch events it fired; reads register watches as they answer. No I/O, no clock: time arrives in
//! txn headers.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use rzk_proto::codes::{event_type, op};
use rzk_proto::txn::TxnBody;
use rzk_proto::{Acl, ErrorCode, Stat, StatPersisted, TxnHeader, path};

use crate::acl_cache::{AclCache, OPEN_UNSAFE_ACL_ID, read_acl_unsafe};
use crate::arena::Arena;
use crate::children::Children;
use crate::digest::DIGEST_VERSION;
use crate::node::{DataNode, NodeKind, create_stat, node_kind};
use crate::quota::{self, QuotaPaths, StatsTrack};
use crate::watch::{WatchManager, WatchMode, WatcherId};

/// A watch event the tree fired, for every watcher it names (one change reaches all its
/// watchers with one path and one ACL list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// In watcher id order.
    pub watchers: Vec<WatcherId>,
    pub event_type: i32,
    pub path: String,
    /// The ACL a watcher must have READ on to receive the event (the node's; the parent's for
    /// NodeChildrenChanged), as ZooKeeper checks since CVE-2024-23944. `None`: no check (events
    /// setWatches fires at once).
    pub acl: Option<Vec<Acl>>,
}

/// `ProcessTxnResult`: what applying a txn did, for the reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnResult {
    pub txn_type: i32,
    pub err: i32,
    pub path: String,
    pub stat: Option<Stat>,
    pub multi: Vec<TxnResult>,
}

/// The `/zookeeper` subtree paths every tree has.
pub const ZOOKEEPER_PATH: &str = "/zookeeper";
pub const CONFIG_PATH: &str = "/zookeeper/config";

#[derive(Debug, Clone)]
pub struct DataTree {
    /// The nodes: an arena of slots with a path index (see `arena`); iteration order never leaks
    /// out of the tree.
    nodes: Arena,
    pub acls: AclCache,
    ephemerals: HashMap<i64, BTreeSet<String>>,
    /// The same sets in Java HashSet order (what getEphemerals and closeSession txns list).
    ephemeral_order: HashMap<i64, Children>,
    containers: BTreeSet<String>,
    ttls: BTreeSet<String>,
    quotas: QuotaPaths,
    /// Live sessions and their timeouts (ZKDatabase's `sessionsWithTimeouts`).
    pub sessions: BTreeMap<i64, i32>,
    data_watches: WatchManager,
    child_watches: WatchManager,
    digest: i64,
    /// The zxid of the last txn applied.
    pub last_processed_zxid: i64,
    /// Whether ephemeralOwner values with the 0xff high byte mean TTL nodes.
    pub extended_types: bool,
    data_size: i64,
}

/// The ways a read can fail.
pub type ReadResult<T> = Result<T, ErrorCode>;

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota` and `/zookeeper/config` (read-only for
    /// the world, aversion −1, as `addConfigNode` leaves it).
    pub fn new(extended_types: bool) -> DataTree {
        let mut t = DataTree {
            nodes: Arena::default(),
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            ephemeral_order: HashMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            quotas: QuotaPaths::default(),
            sessions: BTreeMap::new(),
            data_watches: WatchManager::default(),
            child_watches: WatchManager::default(),
            digest: 0,
            last_processed_zxid: 0,
            extended_types,
            data_size: 0,
        };
        let empty = |path: &str| DataNode::new(path, Some(&[]), OPEN_UNSAFE_ACL_ID, StatPersisted::default());
        t.put_linked(empty("/"));
        t.put_linked(empty(ZOOKEEPER_PATH));
        t.put_linked(empty(quota::QUOTA_ROOT));
        let mut config = empty(CONFIG_PATH);
        config.acl = t.acls.intern(&read_acl_unsafe());
        config.stat.aversion = -1;
        t.put_linked(config);
        t
    }

    /// An empty tree for loading a snapshot into (no nodes at all).
    pub fn empty(extended_types: bool) -> DataTree {
        let mut t = DataTree::new(extended_types);
        t.nodes.clear();
        t.acls = AclCache::default();
        t.digest = 0;
        t.data_size = 0;
        t
    }

    /// Makes room for `additional` more nodes at once, for a start-up that knows how many are
    /// coming (a log replay): the index then grows in one step instead of a little per insert.
    /// Not for a serving tree: that one step holds the caller for as long as a rehash of every
    /// node takes.
    pub fn reserve_nodes(&mut self, additional: usize) {
        self.nodes.reserve(additional);
    }

    /// Inserts a node read from a snapshot, as it is (children are linked by the loader).
    pub fn insert_loaded(&mut self, node: DataNode) {
        self.acls.add_usage(node.acl);
        let kind = node_kind(node.stat.ephemeral_owner, self.extended_types);
        self.index_kind(node.path(), kind);
        self.put_linked(node);
    }

    /// What ZooKeeper does after reading a snapshot's nodes: quota paths and stats rebuilt
    /// (`setupQuota`), unused ACLs dropped (`purgeUnused`), and `/zookeeper/config` present.
    pub fn finish_load(&mut self) {
        self.rebuild_quotas();
        self.acls.purge_unused();
        if self.node(CONFIG_PATH).is_none() && self.node(ZOOKEEPER_PATH).is_some() {
            let acl = self.acls.intern(&read_acl_unsafe());
            let stat = StatPersisted { aversion: -1, ..Default::default() };
            self.insert_loaded(DataNode::new(CONFIG_PATH, Some(&[]), acl, stat));
            // insert_loaded counted a use; intern already did.
            self.acls.remove_usage(acl);
        }
    }

    /// Rebuilds the quota paths after a snapshot load (`setupQuota`/`traverseNode`).
    pub fn rebuild_quotas(&mut self) {
        let limit_suffix = format!("/{}", quota::LIMIT_NODE);
        let quota_nodes: Vec<String> = self
            .paths()
            .filter(|k| k.starts_with(quota::QUOTA_ROOT) && k.ends_with(&limit_suffix))
            .map(|k| k.to_string())
            .collect();
        for k in quota_nodes {
            let real = &k[quota::QUOTA_ROOT.len()..k.len() - limit_suffix.len()];
            self.quotas.add(real);
            self.update_quota_for_path(real);
        }
    }

    fn index_kind(&mut self, path: &str, kind: NodeKind) {
        match kind {
            NodeKind::Container => {
                self.containers.insert(path.to_owned());
            }
            NodeKind::Ttl(_) => {
                self.ttls.insert(path.to_owned());
            }
            NodeKind::Ephemeral(owner) => {
                self.ephemerals.entry(owner).or_default().insert(path.to_owned());
                self.ephemeral_order.entry(owner).or_insert_with(Children::default_capacity).insert(path);
            }
            NodeKind::Persistent => {}
        }
    }

    fn unindex_kind(&mut self, path: &str, kind: NodeKind) {
        match kind {
            NodeKind::Container => {
                self.containers.remove(path);
            }
            NodeKind::Ttl(_) => {
                self.ttls.remove(path);
            }
            NodeKind::Ephemeral(owner) => {
                if let Some(set) = self.ephemerals.get_mut(&owner) {
                    set.remove(path);
                }
                if let Some(set) = self.ephemeral_order.get_mut(&owner) {
                    set.remove(path);
                }
            }
            NodeKind::Persistent => {}
        }
    }

    // ---- queries ----

    /// The digest of the whole tree (`AdHash` of the node digests).
    pub fn digest(&self) -> i64 {
        self.digest
    }

    pub fn digest_version(&self) -> i32 {
        DIGEST_VERSION
    }

    /// Sum of path and data lengths (`approximateDataSize`).
    pub fn approximate_data_size(&self) -> i64 {
        self.data_size
    }

    pub fn client_stat(&self, node: &DataNode) -> Stat {
        node.client_stat(self.extended_types)
    }

    pub fn kind(&self, node: &DataNode) -> NodeKind {
        node_kind(node.stat.ephemeral_owner, self.extended_types)
    }

    pub fn acl_of(&self, node: &DataNode) -> Vec<Acl> {
        self.acls.get(node.acl)
    }

    /// A node's ACL list, shared with the cache (no copy).
    pub fn acl_shared(&self, node: &DataNode) -> std::sync::Arc<[Acl]> {
        self.acls.shared(node.acl)
    }

    /// The paths of a session's ephemeral nodes.
    pub fn ephemerals(&self, session: i64) -> BTreeSet<String> {
        self.ephemerals.get(&session).cloned().unwrap_or_default()
    }

    /// A session's ephemerals in the order ZooKeeper lists them (a clone of its HashSet).
    pub fn ephemerals_java_order(&self, session: i64) -> Vec<String> {
        self.ephemeral_order
            .get(&session)
            .map(|c| c.clone_order().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    pub fn ephemerals_by_session(&self) -> &HashMap<i64, BTreeSet<String>> {
        &self.ephemerals
    }

    pub fn ephemeral_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    pub fn containers(&self) -> &BTreeSet<String> {
        &self.containers
    }

    pub fn ttls(&self) -> &BTreeSet<String> {
        &self.ttls
    }

    /// `getAllChildrenNumber`: all descendants ("/" counts the `/zookeeper` nodes too). Java
    /// counts the paths that start with `path + "/"`; in a tree that is every descendant.
    pub fn all_children_number(&self, path: &str) -> usize {
        if path == "/" {
            return self.nodes.len().saturating_sub(1);
        }
        let Some(id) = self.nodes.find(path) else { return 0 };
        let (mut count, mut stack) = (0, vec![id]);
        while let Some(id) = stack.pop() {
            let first = stack.len();
            stack.extend(self.child_ids(id));
            count += stack.len() - first;
        }
        count
    }

    pub fn max_quota_prefix(&self, path: &str) -> Option<&str> {
        self.quotas.max_prefix(path)
    }

    // ---- reads that register watches ----

    pub fn get_data(&mut self, path: &str, watcher: Option<WatcherId>) -> ReadResult<(Option<Bytes>, Stat)> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        let out = (node.data().map(Bytes::copy_from_slice), self.client_stat(node));
        if let Some(w) = watcher {
            self.data_watches.add(path, w, WatchMode::Standard);
        }
        Ok(out)
    }

    /// `statNode`: registers the watch even when the node does not exist (an exists watch).
    pub fn stat_node(&mut self, path: &str, watcher: Option<WatcherId>) -> ReadResult<Stat> {
        if let Some(w) = watcher {
            self.data_watches.add(path, w, WatchMode::Standard);
        }
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        Ok(self.client_stat(node))
    }

    pub fn get_children(
        &mut self,
        path: &str,
        watcher: Option<WatcherId>,
    ) -> ReadResult<(Vec<String>, Stat)> {
        let node = self.node(path).ok_or(ErrorCode::NoNode)?;
        let children = self.child_names(node).map(str::to_owned).collect();
        let stat = self.client_stat(node);
        if let Some(w) = watcher {
            self.child_watches.add(path, w, WatchMode::Standard);
        }
        Ok((children, stat))
    }

    /// `addWatch`: a persistent (mode 0) or persistent-recursive (mode 1) watch in both managers.
    pub fn add_watch(&mut self, path: &str, watcher: WatcherId, mode: WatchMode) {
        self.data_watches.add(path, watcher, mode);
        self.child_watches.add(path, watcher, mode);
    }

    /// `setWatches`: re-registers a reconnecting client's watches, firing at once those whose
    /// node changed after `relative_zxid`.
    #[allow(clippy::too_many_arguments)]
    pub fn set_watches(
        &mut self,
        relative_zxid: i64,
        data: &[String],
        exist: &[String],
        child: &[String],
        persistent: &[String],
        recursive: &[String],
        watcher: WatcherId,
        events: &mut Vec<Fired>,
    ) {
        let fire = |events: &mut Vec<Fired>, t: i32, p: &str| {
            events.push(Fired { watchers: vec![watcher], event_type: t, path: p.to_owned(), acl: None })
        };
        for p in data {
            match self.node(p).map(|n| n.stat.mzxid) {
                None => fire(events, event_type::NODE_DELETED, p),
                Some(m) if m > relative_zxid => fire(events, event_type::NODE_DATA_CHANGED, p),
                Some(_) => self.data_watches.add(p, watcher, WatchMode::Standard),
            }
        }
        for p in exist {
            if self.node(p).is_some() {
                fire(events, event_type::NODE_CREATED, p);
            } else {
                self.data_watches.add(p, watcher, WatchMode::Standard);
            }
        }
        for p in child {
            match self.node(p).map(|n| n.stat.pzxid) {
                None => fire(events, event_type::NODE_DELETED, p),
                Some(z) if z > relative_zxid => fire(events, event_type::NODE_CHILDREN_CHANGED, p),
                Some(_) => self.child_watches.add(p, watcher, WatchMode::Standard),
            }
        }
        for p in persistent {
            self.child_watches.add(p, watcher, WatchMode::Persistent);
            self.data_watches.add(p, watcher, WatchMode::Persistent);
        }
        for p in recursive {
            self.child_watches.add(p, watcher, WatchMode::PersistentRecursive);
            self.data_watches.add(p, watcher, WatchMode::PersistentRecursive);
        }
    }

    /// checkWatches for watcher types Children (1), Data (2) and Any (3).
    pub fn contains_watcher(&self, path: &str, watcher_type: i32, watcher: WatcherId) -> bool {
        use rzk_proto::codes::watcher_type as wt;
        match watcher_type {
            wt::CHILDREN => self.child_watches.contains(path, watcher),
            wt::DATA => self.data_watches.contains(path, watcher),
            _ => self.child_watches.contains(path, watcher) || self.data_watches.contains(path, watcher),
        }
    }

    /// removeWatches for watcher types Children, Data and Any.
    pub fn remove_watch(&mut self, path: &str, watcher_type: i32, watcher: WatcherId) -> bool {
        use rzk_proto::codes::watcher_type as wt;
        match watcher_type {
            wt::CHILDREN => self.child_watches.remove(path, watcher),
            wt::DATA => self.data_watches.remove(path, watcher),
            _ => {
                let c = self.child_watches.remove(path, watcher);
                let d = self.data_watches.remove(path, watcher);
                c || d
            }
        }
    }

    /// Drops every watch of a closed connection.
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        self.data_watches.remove_watcher(watcher);
        self.child_watches.remove_watcher(watcher);
    }

    pub fn data_watches(&self) -> &WatchManager {
        &self.data_watches
    }

    pub fn child_watches(&self) -> &WatchManager {
        &self.child_watches
    }

    /// Total watch registrations (`wchs` "Total watches").
    pub fn watch_count(&self) -> usize {
        self.data_watches.count() + self.child_watches.count()
    }

    /// Fires data watches on `path`; `acl` (looked up only if someone watches) gates delivery.
    fn trigger_data(
        &mut self,
        path: &str,
        t: i32,
        acl: impl FnOnce(&Self) -> Vec<Acl>,
        events: &mut Vec<Fired>,
    ) -> BTreeSet<WatcherId> {
        let ws = self.data_watches.trigger(path, false);
        if !ws.is_empty() {
            let watchers = ws.iter().copied().collect();
            events.push(Fired { watchers, event_type: t, path: path.to_owned(), acl: Some(acl(self)) });
        }
        ws
    }

    fn trigger_child(
        &mut self,
        path: &str,
        t: i32,
        acl: impl FnOnce(&Self) -> Vec<Acl>,
        suppress: &BTreeSet<WatcherId>,
        events: &mut Vec<Fired>,
    ) {
        let ws = self.child_watches.trigger(path, t == event_type::NODE_CHILDREN_CHANGED);
        let watchers: Vec<WatcherId> = ws.difference(suppress).copied().collect();
        if watchers.is_empty() {
            return;
        }
        events.push(Fired { watchers, event_type: t, path: path.to_owned(), acl: Some(acl(self)) });
    }

    /// The ACL list of the node at `path` (empty if it is gone).
    fn acl_at(&self, path: &str) -> Vec<Acl> {
        self.node(path).map(|n| self.acls.get(n.acl)).unwrap_or_default()
    }

    // ---- changes ----

    /// `createNode`. `parent_cversion` −1 means "parent's + 1" (old logs).
    #[allow(clippy::too_many_arguments)]
    pub fn create_node(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        acl: &[Acl],
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<Fired>,
    ) -> Result<Stat, ErrorCode> {
        let slash = path.rfind('/').ok_or(ErrorCode::NoNode)?;
        let parent_name = if slash == 0 { "/" } else { &path[..slash] };
        let child_name = &path[slash + 1..];
        let parent = self.nodes.find(parent_name).ok_or(ErrorCode::NoNode)?;
        // The ACL is interned before the existence check, as ZooKeeper does (ZOOKEEPER-3814).
        let acl_idx = self.acls.intern(acl);
        // Java asks the parent's child set, so a node left behind by a replayed delete of its
        // parent (a fuzzy snapshot) is replaced, not reported as existing.
        let hash = self.nodes.hash(path);
        if self.nodes.find_hashed(path, hash).is_some_and(|id| self.nodes.has_child(parent, id)) {
            return Err(ErrorCode::NodeExists);
        }
        self.change_id(parent, |p| {
            let cv = if parent_cversion == -1 { p.stat.cversion + 1 } else { parent_cversion };
            if cv > p.stat.cversion {
                p.stat.cversion = cv;
                p.stat.pzxid = zxid;
            }
        });
        let bytes = data.as_ref().map_or(0, |d| d.len()) as i64;
        let node = DataNode::new(path, data.as_deref(), acl_idx, create_stat(zxid, time, ephemeral_owner));
        let stat = self.client_stat(&node);
        let id = self.put_hashed(hash, node);
        if id != parent {
            self.nodes.link_child(parent, id);
        }
        let kind = node_kind(ephemeral_owner, self.extended_types);
        self.index_kind(path, kind);

        if parent_name.starts_with(quota::QUOTA_ROOT) {
            if child_name == quota::LIMIT_NODE {
                self.quotas.add(quota::trim_quota_path(parent_name));
            }
            if child_name == quota::STAT_NODE {
                let real = quota::trim_quota_path(parent_name).to_owned();
                self.update_quota_for_path(&real);
            }
        }
        if let Some(prefix) = self.quotas.max_prefix(path).map(str::to_owned) {
            self.update_quota_stat(&prefix, bytes, 1);
        }
        self.trigger_data(path, event_type::NODE_CREATED, |_| acl.to_vec(), events);
        let none = BTreeSet::new();
        self.trigger_child(
            parent_name,
            event_type::NODE_CHILDREN_CHANGED,
            |t| t.acl_at(parent_name),
            &none,
            events,
        );
        Ok(stat)
    }

    /// `deleteNode`: the parent's pzxid moves forward even if the child is already gone.
    pub fn delete_node(&mut self, path: &str, zxid: i64, events: &mut Vec<Fired>) -> Result<(), ErrorCode> {
        let slash = path.rfind('/').ok_or(ErrorCode::NoNode)?;
        let parent_name = if slash == 0 { "/" } else { &path[..slash] };
        let child_name = &path[slash + 1..];
        let parent = self.nodes.find(parent_name).ok_or(ErrorCode::NoNode)?;
        let id = self.nodes.find(path);
        if let Some(id) = id
            && id != parent
        {
            self.nodes.unlink_child(parent, id);
        }
        self.change_id(parent, |p| {
            if zxid > p.stat.pzxid {
                p.stat.pzxid = zxid;
            }
        });
        let node = self.take(id.ok_or(ErrorCode::NoNode)?);
        // Looked up before the ACL's last use may go away with the node.
        let acl = if self.data_watches.path_count() + self.child_watches.path_count() > 0 {
            self.acls.get(node.acl)
        } else {
            Vec::new()
        };
        self.acls.remove_usage(node.acl);
        let kind = node_kind(node.stat.ephemeral_owner, self.extended_types);
        self.unindex_kind(path, kind);
        if parent_name.starts_with(ZOOKEEPER_PATH) && child_name == quota::LIMIT_NODE {
            self.quotas.remove(quota::trim_quota_path(parent_name));
        }
        if let Some(prefix) = self.quotas.max_prefix(path).map(str::to_owned) {
            self.update_quota_stat(&prefix, -(node.data_len() as i64), -1);
        }
        let processed = self.trigger_data(path, event_type::NODE_DELETED, |_| acl.clone(), events);
        self.trigger_child(path, event_type::NODE_DELETED, |_| acl.clone(), &processed, events);
        let none = BTreeSet::new();
        self.trigger_child(
            parent_name,
            event_type::NODE_CHILDREN_CHANGED,
            |t| t.acl_at(parent_name),
            &none,
            events,
        );
        Ok(())
    }

    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Bytes>,
        version: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<Fired>,
    ) -> Result<Stat, ErrorCode> {
        let path = Self::key(path);
        let new_len = data.as_ref().map_or(0, |d| d.len()) as i64;
        let old_len = self
            .change(path, |n| {
                let old = n.data_len() as i64;
                n.set_data(data.as_deref());
                n.stat.mtime = time;
                n.stat.mzxid = zxid;
                n.stat.version = version;
                old
            })
            .ok_or(ErrorCode::NoNode)?;
        if let Some(prefix) = self.quotas.max_prefix(path).map(str::to_owned) {
            self.update_quota_stat(&prefix, new_len - old_len, 0);
        }
        let stat = self.node(path).map(|n| self.client_stat(n)).unwrap_or_default();
        self.trigger_data(path, event_type::NODE_DATA_CHANGED, |t| t.acl_at(path), events);
        Ok(stat)
    }

    pub fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ErrorCode> {
        let path = Self::key(path);
        let old = self.node(path).ok_or(ErrorCode::NoNode)?.acl;
        self.acls.remove_usage(old);
        let idx = self.acls.intern(acl);
        self.change(path, |n| {
            n.stat.aversion = version;
            n.acl = idx;
        });
        Ok(self.node(path).map(|n| self.client_stat(n)).unwrap_or_default())
    }

    /// `setCversionPzxid`, used when replaying a create that already happened.
    pub fn set_cversion_pzxid(&mut self, path: &str, cversion: i32, zxid: i64) -> Result<(), ErrorCode> {
        let path = Self::key(path.strip_suffix('/').unwrap_or(path));
        self.change(path, |n| {
            let cv = if cversion == -1 { n.stat.cversion + 1 } else { cversion };
            if cv > n.stat.cversion {
                n.stat.cversion = cv;
                n.stat.pzxid = zxid;
            }
        })
        .ok_or(ErrorCode::NoNode)
    }

    /// `killSession`: deletes the session's ephemerals (the txn's list first, then any the index
    /// still holds) and forgets the session.
    pub fn kill_session(
        &mut self,
        session: i64,
        zxid: i64,
        in_txn: Option<&[String]>,
        events: &mut Vec<Fired>,
    ) {
        let mut local = self.ephemerals.remove(&session).unwrap_or_default();
        self.ephemeral_order.remove(&session);
        if let Some(paths) = in_txn {
            for p in paths {
                // A missing node is ignored, as ZooKeeper does for a dead session.
                let _ = self.delete_node(p, zxid, events);
                local.remove(p);
            }
            if !local.is_empty() {
                tracing::warn!(session = %format!("0x{session:x}"), zxid = %format!("0x{zxid:x}"), extra = ?local,
                    "unexpected extra ephemerals under session which are not in the txn");
            }
        }
        for p in local {
            let _ = self.delete_node(&p, zxid, events);
        }
    }

    fn update_quota_stat(&mut self, prefix: &str, bytes_diff: i64, count_diff: i64) {
        let sp = quota::stat_path(prefix);
        let Some(id) = self.nodes.find(&sp) else {
            tracing::error!(path = %sp, "missing node for quota stat");
            return;
        };
        let node = &mut self.nodes.slot_mut(id).node;
        let mut st = StatsTrack::parse(node.data().unwrap_or(&[]));
        st.set("count", st.count() + count_diff);
        st.set("bytes", st.bytes() + bytes_diff);
        let old = node.data_len() as i64;
        let new = st.render();
        self.data_size += new.len() as i64 - old;
        node.set_data(Some(new.as_bytes()));
    }

    fn update_quota_for_path(&mut self, path: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack: Vec<u32> = self.id_of(path).into_iter().collect();
        while let Some(id) = stack.pop() {
            count += 1;
            bytes += self.nodes.slot(id).node.data_len() as i64;
            stack.extend(self.child_ids(id));
        }
        let mut st = StatsTrack::default();
        st.set("count", count);
        st.set("bytes", bytes);
        let sp = quota::stat_path(path);
        let data = st.render();
        if self.change(&sp, |n| n.set_data(Some(data.as_bytes()))).is_none() {
            tracing::warn!(path = %sp, "missing quota stat node");
        }
    }

    // ---- txns ----

    /// `processTxn`: applies one txn. Errors are results (as in ZooKeeper), never panics.
    pub fn process_txn(&mut self, hdr: &TxnHeader, body: &TxnBody, events: &mut Vec<Fired>) -> TxnResult {
        let rc = self.apply(hdr, body, events);
        if hdr.zxid > self.last_processed_zxid {
            self.last_processed_zxid = hdr.zxid;
        }
        rc
    }

    fn apply(&mut self, hdr: &TxnHeader, body: &TxnBody, events: &mut Vec<Fired>) -> TxnResult {
        let mut rc = TxnResult { txn_type: hdr.txn_type, ..Default::default() };
        let zxid = hdr.zxid;
        let res: Result<(), ErrorCode> = match body {
            TxnBody::Create(t) => {
                rc.path = t.path.clone();
                let owner = if t.ephemeral { hdr.client_id } else { 0 };
                let r = self.create_node(
                    &t.path,
                    t.data.clone(),
                    &t.acl,
                    owner,
                    t.parent_cversion,
                    zxid,
                    hdr.time,
                    events,
                );
                // Replaying a create that a fuzzy snapshot already holds: move the parent's
                // cversion/pzxid forward anyway (DataTree.processTxn).
                if r == Err(ErrorCode::NodeExists) && hdr.txn_type == op::CREATE {
                    let parent = path::parent(&t.path).unwrap_or("/").to_owned();
                    if let Err(e) = self.set_cversion_pzxid(&parent, t.parent_cversion, zxid) {
                        rc.err = e.code();
                    }
                }
                r.map(|s| {
                    if hdr.txn_type == op::CREATE2 {
                        rc.stat = Some(s)
                    }
                })
            }
            TxnBody::CreateV0(t) => {
                rc.path = t.path.clone();
                let owner = if t.ephemeral { hdr.client_id } else { 0 };
                self.create_node(&t.path, t.data.clone(), &t.acl, owner, -1, zxid, hdr.time, events)
                    .map(|_| ())
            }
            TxnBody::CreateTtl(t) => {
                rc.path = t.path.clone();
                let owner = rzk_proto::codes::ephemeral_owner::ttl(t.ttl);
                self.create_node(
                    &t.path,
                    t.data.clone(),
                    &t.acl,
                    owner,
                    t.parent_cversion,
                    zxid,
                    hdr.time,
                    events,
                )
                .map(|s| rc.stat = Some(s))
            }
            TxnBody::CreateContainer(t) => {
                rc.path = t.path.clone();
                let owner = rzk_proto::codes::ephemeral_owner::CONTAINER;
                self.create_node(
                    &t.path,
                    t.data.clone(),
                    &t.acl,
                    owner,
                    t.parent_cversion,
                    zxid,
                    hdr.time,
                    events,
                )
                .map(|s| rc.stat = Some(s))
            }
            TxnBody::Delete(t) => {
                rc.path = t.path.clone();
                self.delete_node(&t.path, zxid, events)
            }
            TxnBody::SetData(t) => {
                rc.path = t.path.clone();
                self.set_data(&t.path, t.data.clone(), t.version, zxid, hdr.time, events)
                    .map(|s| rc.stat = Some(s))
            }
            TxnBody::SetAcl(t) => {
                rc.path = t.path.clone();
                self.set_acl(&t.path, &t.acl, t.version).map(|s| rc.stat = Some(s))
            }
            TxnBody::CreateSession(t) => {
                self.sessions.insert(hdr.client_id, t.time_out);
                Ok(())
            }
            TxnBody::CloseSession(t) => {
                self.sessions.remove(&hdr.client_id);
                self.kill_session(
                    hdr.client_id,
                    zxid,
                    t.as_ref().map(|t| t.paths2_delete.as_slice()),
                    events,
                );
                Ok(())
            }
            TxnBody::Error(t) => {
                rc.err = t.err;
                Ok(())
            }
            TxnBody::Check(t) => {
                rc.path = t.path.clone();
                Ok(())
            }
            TxnBody::SetMaxChildren(_) => Ok(()),
            TxnBody::Multi(subs) => {
                self.apply_multi(hdr, subs, &mut rc, events);
                Ok(())
            }
        };
        if let Err(e) = res {
            rc.err = e.code();
        }
        rc
    }

    fn apply_multi(
        &mut self,
        hdr: &TxnHeader,
        subs: &[(i32, TxnBody)],
        rc: &mut TxnResult,
        events: &mut Vec<Fired>,
    ) {
        let failed = subs.iter().any(|(t, _)| *t == op::ERROR);
        let mut post_failed = false;
        for (ty, body) in subs {
            if *ty == op::ERROR {
                post_failed = true;
            }
            let (sub_ty, sub_body);
            if failed && *ty != op::ERROR {
                let ec = if post_failed { ErrorCode::RuntimeInconsistency.code() } else { 0 };
                sub_ty = op::ERROR;
                sub_body = TxnBody::Error(rzk_proto::ErrorTxn { err: ec });
            } else {
                sub_ty = *ty;
                sub_body = body.clone();
            }
            let sub_hdr = TxnHeader { txn_type: sub_ty, ..hdr.clone() };
            let sub = self.apply(&sub_hdr, &sub_body, events);
            if sub.err != 0 && rc.err == 0 {
                rc.err = sub.err;
            }
            rc.multi.push(sub);
        }
    }
}

mod nodes;
#[cfg(test)]
mod tests;
