//! Snapshots in ZooKeeper's format (`FileSnap`, `SerializeUtils`, `DataTree.serialize`):
//!
//! ```text
//! FileHeader{ZKSN, 2, dbid}
//! int count, (long sessionId, int timeout)*              sessions
//! int count, (long index, vector<ACL>)*                  the ACL cache
//! (ustring path, buffer data, long acl, StatPersisted)*   nodes, depth first, root as ""
//! ustring "/"                                            end of nodes
//! long adler32, ustring "/"                              seal (checksum of all bytes before it)
//! long zxid, int digestVersion, long digest              the tree digest (3.6+)
//! long adler32, ustring "/"                              second seal
//! ```
//!
//! Snapshots are fuzzy, as ZooKeeper's are: [`SnapshotJob`] visits the tree a few thousand nodes at
//! a time between batches of txns, so writes never stall behind a whole-tree copy; the log replayed
//! from the snapshot's zxid on start-up is idempotent over the changes it caught. The walk holds
//! `(id, generation)` references into the tree's arena, not paths: a node deleted between steps
//! is skipped even if its id was reused (the generation differs), which is what a path walk
//! does too, except that a node re-created at the same path is skipped as well (its create is in
//! the log after the snapshot's zxid, so the replay brings it back).
//!
//! The file can be written while the walk goes on ([`SnapshotJob::take_nodes`] hands over what
//! was serialized so far), so the stream is never whole in memory. That fixes everything before
//! the nodes at the start: the sessions and the ACL cache as they are then (ZooKeeper writes its
//! cache first too). A node given an ACL list during the walk that the cache did not have at the
//! start would not resolve on load from such a head: the walk collects those lists, and
//! [`SnapshotJob::acls_complete`] says whether there were any. A streamed snapshot with some is
//! abandoned (its head is already written); [`SnapshotJob::finish`] puts them in the head, so a
//! snapshot kept whole in memory is always complete.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{BufMut, Bytes};
use rzk_proto::{Acl, DecodeError, FileHeader, Jute, Reader, StatPersisted};

use crate::arena::NodeRef;
use crate::digest::DIGEST_VERSION;
use crate::node::{ChildSet, DataNode};
use crate::tree::DataTree;

/// `FileSnap.SNAP_MAGIC` ("ZKSN").
pub const SNAP_MAGIC: i32 = 0x5a4b534e;
/// The dbid ZooKeeper writes in snapshot headers (`FileSnap.dbId`).
pub const SNAP_DBID: i64 = -1;

#[derive(Debug, thiserror::Error)]
pub enum SnapError {
    #[error("not a snapshot (magic {0:#x})")]
    BadMagic(i32),
    #[error("snapshot is truncated or malformed: {0}")]
    Decode(#[from] DecodeError),
    #[error("CRC corruption in snapshot (stored {stored:#x}, computed {computed:#x})")]
    Crc { stored: i64, computed: i64 },
    #[error("invalid data tree: cannot find parent {parent} of {path}")]
    NoParent { parent: String, path: String },
}

/// What the digest section of a snapshot says (`ZxidDigest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZxidDigest {
    pub zxid: i64,
    pub version: i32,
    pub digest: i64,
}

/// How many nodes ahead of the walk the contents (path, data) of a node are prefetched.
const PREFETCH_CONTENTS_AHEAD: usize = 2;
/// How many nodes ahead of the walk a node's slot is prefetched (its contents' addresses are in
/// it, so it must arrive before they are asked for).
const PREFETCH_SLOTS_AHEAD: usize = 4;

/// A snapshot being taken; see the module docs.
pub struct SnapshotJob {
    /// The zxid the snapshot is named after: the last txn applied when it started.
    pub zxid: i64,
    /// The file header, the sessions and the ACL cache, as of the start.
    head: Vec<u8>,
    /// The sessions and ACL cache as of the start (to rebuild `head` with `extra_acls`).
    sessions: Vec<(i64, i32)>,
    start_acls: Vec<(i64, Vec<Acl>)>,
    /// The ACL indexes `head` holds.
    acl_ids: BTreeSet<i64>,
    /// ACL lists visited nodes use that `head` does not hold.
    extra_acls: BTreeMap<i64, Vec<Acl>>,
    /// Nodes still to visit, the next on top.
    stack: Vec<NodeRef>,
    /// The ACL index of the last node written (consecutive nodes mostly share one).
    last_acl: i64,
    /// Serialized nodes not yet taken.
    nodes: Vec<u8>,
    visited: u64,
}

/// Bytes of the file header at the start of `head`.
const FILE_HEADER_BYTES: usize = 16;

impl SnapshotJob {
    pub fn start(tree: &DataTree) -> SnapshotJob {
        let sessions: Vec<(i64, i32)> = tree.sessions.iter().map(|(k, v)| (*k, *v)).collect();
        let mut acls: Vec<(i64, Vec<Acl>)> = tree
            .acls
            .entries()
            .filter(|(idx, _)| *idx != crate::acl_cache::OPEN_UNSAFE_ACL_ID)
            .map(|(idx, list)| (idx, list.to_vec()))
            .collect();
        acls.sort_by_key(|(idx, _)| *idx);
        let mut head = Vec::with_capacity(1024);
        FileHeader { magic: SNAP_MAGIC, version: 2, dbid: SNAP_DBID }.encode(&mut head);
        debug_assert_eq!(head.len(), FILE_HEADER_BYTES);
        write_sessions(&mut head, &sessions);
        write_acls(&mut head, acls.iter().map(|(k, v)| (*k, v)));
        SnapshotJob {
            zxid: tree.last_processed_zxid,
            head,
            acl_ids: acls.iter().map(|(idx, _)| *idx).collect(),
            extra_acls: BTreeMap::new(),
            stack: tree.root_ref().into_iter().collect(),
            last_acl: crate::acl_cache::OPEN_UNSAFE_ACL_ID,
            sessions,
            start_acls: acls,
            nodes: Vec::new(),
            visited: 0,
        }
    }

    /// What comes before the nodes in the file: header, sessions, ACL cache.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Serializes up to `nodes_max` more nodes; true when every node has been visited.
    pub fn step(&mut self, tree: &DataTree, nodes_max: usize) -> bool {
        let mut n = 0;
        while n < nodes_max {
            let Some(r) = self.stack.pop() else { return true };
            // The next nodes are mostly the stack's top ones (leaves follow each other): start
            // loading the contents of the next and the slot of the one after it, so the walk
            // over a tree far larger than the caches does not wait for each miss in turn.
            let top = self.stack.len();
            if top >= PREFETCH_CONTENTS_AHEAD {
                tree.prefetch_contents(self.stack[top - PREFETCH_CONTENTS_AHEAD]);
            }
            if top >= PREFETCH_SLOTS_AHEAD {
                tree.prefetch_slot(self.stack[top - PREFETCH_SLOTS_AHEAD]);
            }
            let Some((path, node)) = tree.node_at(r) else { continue };
            // The root is written as "" (`DataTree.serialize` starts from "").
            write_node(&mut self.nodes, if path == "/" { "" } else { path }, node);
            if node.acl != self.last_acl {
                self.last_acl = node.acl;
                if node.acl != crate::acl_cache::OPEN_UNSAFE_ACL_ID
                    && !self.acl_ids.contains(&node.acl)
                    && !self.extra_acls.contains_key(&node.acl)
                {
                    self.extra_acls.insert(node.acl, tree.acls.get(node.acl));
                }
            }
            // Children are visited in the order Java iterates them; push them reversed.
            let first = self.stack.len();
            self.stack.extend(tree.child_refs(node));
            self.stack[first..].reverse();
            n += 1;
            self.visited += 1;
        }
        self.stack.is_empty()
    }

    /// Bytes serialized and not yet taken.
    pub fn buffered_bytes(&self) -> usize {
        self.nodes.len()
    }

    /// Takes the nodes serialized so far (the next part of the stream after `head`). The next
    /// part starts with as much room as this one had, so it does not grow by copying.
    pub fn take_nodes(&mut self) -> Vec<u8> {
        let room = self.nodes.capacity();
        std::mem::replace(&mut self.nodes, Vec::with_capacity(room))
    }

    /// Whether every visited node's ACL index is in the head (see the module docs).
    pub fn acls_complete(&self) -> bool {
        self.extra_acls.is_empty()
    }

    pub fn nodes_visited(&self) -> u64 {
        self.visited
    }

    /// Ends the walk: the head, the nodes not yet taken, and the tree's digest as of now. Cheap;
    /// the sealing checksums are computed by [`SnapshotImage::tail`] or a [`SnapshotSeal`], off
    /// the core.
    pub fn finish(self, tree: &DataTree) -> SnapshotImage {
        let digest =
            ZxidDigest { zxid: tree.last_processed_zxid, version: DIGEST_VERSION, digest: tree.digest() };
        let head = if self.extra_acls.is_empty() {
            self.head
        } else {
            let mut acls: BTreeMap<i64, &Vec<Acl>> = self.start_acls.iter().map(|(k, v)| (*k, v)).collect();
            acls.extend(self.extra_acls.iter().map(|(k, v)| (*k, v)));
            let mut head = self.head[..FILE_HEADER_BYTES].to_vec();
            write_sessions(&mut head, &self.sessions);
            write_acls(&mut head, acls.into_iter());
            head
        };
        SnapshotImage { zxid: self.zxid, head, nodes: self.nodes, digest }
    }
}

/// The seals at the end of a snapshot, computed as the stream goes by: feed it every byte of
/// the stream in order, then [`tail`](Self::tail) gives what ends the file.
#[derive(Default)]
pub struct SnapshotSeal {
    adler: adler2::Adler32,
}

impl SnapshotSeal {
    pub fn new() -> SnapshotSeal {
        SnapshotSeal::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.adler.write_slice(bytes);
    }

    /// The end of the stream: the "/" that ends the nodes, the first seal, the digest and the
    /// second seal.
    pub fn tail(mut self, digest: &ZxidDigest) -> Vec<u8> {
        let mut tail = Vec::with_capacity(64);
        "/".to_owned().encode(&mut tail);
        self.adler.write_slice(&tail);
        let sealed_at = tail.len();
        tail.put_i64(self.adler.checksum() as i64);
        "/".to_owned().encode(&mut tail);
        tail.put_i64(digest.zxid);
        tail.put_i32(digest.version);
        tail.put_i64(digest.digest);
        self.adler.write_slice(&tail[sealed_at..]);
        tail.put_i64(self.adler.checksum() as i64);
        "/".to_owned().encode(&mut tail);
        tail
    }
}

/// A finished snapshot: the file is `head`, `nodes`, then [`tail`](SnapshotImage::tail).
pub struct SnapshotImage {
    pub zxid: i64,
    pub head: Vec<u8>,
    pub nodes: Vec<u8>,
    pub digest: ZxidDigest,
}

impl SnapshotImage {
    /// The end of the stream (see [`SnapshotSeal::tail`]). Checksums the whole stream once (a
    /// few tens of ms per 100 MB).
    pub fn tail(&self) -> Vec<u8> {
        let mut seal = SnapshotSeal::new();
        seal.update(&self.head);
        seal.update(&self.nodes);
        seal.tail(&self.digest)
    }

    /// The whole stream in one buffer (tests and tools).
    pub fn to_vec(&self) -> Vec<u8> {
        let tail = self.tail();
        let mut v = Vec::with_capacity(self.head.len() + self.nodes.len() + tail.len());
        v.extend_from_slice(&self.head);
        v.extend_from_slice(&self.nodes);
        v.extend_from_slice(&tail);
        v
    }
}

/// Sessions in the order Java's `new HashMap<>(sessions)` iterates them (`SerializeUtils`): by
/// bucket of `Long.hashCode` in a table sized for the count, ties by id.
fn write_sessions(out: &mut Vec<u8>, sessions: &[(i64, i32)]) {
    let t = (sessions.len() as f32 / 0.75 + 1.0) as usize;
    let cap = t.max(1).next_power_of_two();
    let bucket = |id: i64| {
        let h = (id ^ ((id as u64) >> 32) as i64) as i32 as u32;
        (h ^ (h >> 16)) as usize & (cap - 1)
    };
    let mut sessions = sessions.to_vec();
    sessions.sort_by_key(|(id, _)| (bucket(*id), *id));
    out.put_i32(sessions.len() as i32);
    for (id, timeout) in &sessions {
        out.put_i64(*id);
        out.put_i32(*timeout);
    }
}

fn write_acls<'a>(out: &mut Vec<u8>, acls: impl ExactSizeIterator<Item = (i64, &'a Vec<Acl>)>) {
    out.put_i32(acls.len() as i32);
    for (idx, list) in acls {
        out.put_i64(idx);
        list.encode(out);
    }
}

fn write_node(out: &mut Vec<u8>, path: &str, node: &DataNode) {
    rzk_proto::jute::put_ustring(out, path);
    match &node.data {
        None => out.put_i32(-1),
        Some(d) => {
            out.put_i32(d.len() as i32);
            out.put_slice(d);
        }
    }
    out.put_i64(node.acl);
    node.stat.encode(out);
}

/// The whole tree serialized at once (tests, tools, and the SNAP sync body): no header, seal or
/// digest, as `SerializeUtils.serializeSnapshot` writes it on the quorum stream.
pub fn serialize_tree_body(tree: &DataTree) -> Vec<u8> {
    let mut job = SnapshotJob::start(tree);
    job.step(tree, usize::MAX);
    let mut out = Vec::with_capacity(job.nodes.len() + job.head.len());
    out.extend_from_slice(&job.head[FILE_HEADER_BYTES..]);
    out.extend_from_slice(&job.nodes);
    "/".to_owned().encode(&mut out);
    out
}

/// A snapshot read back.
pub struct LoadedSnapshot {
    pub tree: DataTree,
    pub dbid: i64,
    /// The digest section, when present and not empty.
    pub digest: Option<ZxidDigest>,
}

/// Reads a whole (uncompressed) snapshot stream, checking its seals. `tree.last_processed_zxid`
/// is left at 0: the caller sets it from the file name, as ZooKeeper does.
pub fn load_snapshot(bytes: Bytes, extended_types: bool) -> Result<LoadedSnapshot, SnapError> {
    let total = bytes.len();
    let mut r = Reader::new(bytes.clone(), usize::MAX);
    let header = FileHeader::decode(&mut r)?;
    if header.magic != SNAP_MAGIC {
        return Err(SnapError::BadMagic(header.magic));
    }
    let mut tree = read_tree_body(&mut r, extended_types)?;
    check_seal(&bytes, total - r.remaining(), &mut r)?;
    let mut digest = None;
    if r.remaining() >= 20 {
        let zxid = r.read_i64()?;
        let version = r.read_i32()?;
        let d = if version < 2 {
            // Pre-3.6.0 snapshots kept the digest as a hex string.
            let s = r.read_ustring()?.unwrap_or_default();
            u64::from_str_radix(&s, 16).unwrap_or(0) as i64
        } else {
            r.read_i64()?
        };
        check_seal(&bytes, total - r.remaining(), &mut r)?;
        if zxid > 0 {
            digest = Some(ZxidDigest { zxid, version, digest: d });
        }
    }
    tree.last_processed_zxid = 0;
    Ok(LoadedSnapshot { tree, dbid: header.dbid, digest })
}

fn check_seal(all: &Bytes, upto: usize, r: &mut Reader) -> Result<(), SnapError> {
    let mut a = adler2::Adler32::new();
    a.write_slice(&all[..upto]);
    let computed = a.checksum() as i64;
    let stored = r.read_i64()?;
    let _slash = r.read_ustring()?;
    if stored != computed {
        return Err(SnapError::Crc { stored, computed });
    }
    Ok(())
}

/// Sessions, ACL cache and nodes (what follows the file header, and what SNAP sync sends).
pub fn read_tree_body(r: &mut Reader, extended_types: bool) -> Result<DataTree, SnapError> {
    let mut tree = DataTree::empty(extended_types);
    let count = r.read_i32()?;
    for _ in 0..count.max(0) {
        let id = r.read_i64()?;
        let timeout = r.read_i32()?;
        tree.sessions.insert(id, timeout);
    }
    let acl_count = r.read_i32()?;
    for _ in 0..acl_count.max(0) {
        let idx = r.read_i64()?;
        let list = Vec::<Acl>::decode(r)?;
        tree.acls.insert_loaded(idx, list);
    }
    loop {
        let path = r.read_ustring()?.unwrap_or_default();
        if path == "/" {
            break;
        }
        let data = crate::node::own_data(r.read_buffer()?.as_deref());
        let acl = r.read_i64()?;
        let stat = StatPersisted::decode(r)?;
        let node = DataNode { data, acl, stat, children: ChildSet::default() };
        let key = if path.is_empty() { "/" } else { path.as_str() };
        if key != "/" {
            let parent = rzk_proto::path::parent(key).unwrap_or("/");
            if tree.node(parent).is_none() {
                return Err(SnapError::NoParent { parent: parent.to_owned(), path });
            }
        }
        tree.insert_loaded(key, node);
    }
    tree.finish_load();
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::codes::op;
    use rzk_proto::txn::TxnBody;
    use rzk_proto::{CreateTxn, TxnHeader};

    fn tree_with(n: usize) -> DataTree {
        let mut t = DataTree::new(false);
        let mut ev = Vec::new();
        for i in 0..n {
            let body = TxnBody::Create(CreateTxn {
                path: format!("/n{i}"),
                data: Some(Bytes::from(format!("v{i}"))),
                acl: vec![Acl::new(31 - (i % 2) as i32, "world", "anyone")],
                ephemeral: i % 5 == 0,
                parent_cversion: -1,
            });
            let hdr = TxnHeader { client_id: 7, cxid: 0, zxid: i as i64 + 1, time: 5, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut ev);
        }
        t.sessions.insert(7, 30000);
        t
    }

    #[test]
    fn round_trip_keeps_tree_and_digest() {
        let t = tree_with(50);
        let mut job = SnapshotJob::start(&t);
        while !job.step(&t, 7) {}
        let bytes = job.finish(&t).to_vec();
        let loaded = load_snapshot(Bytes::from(bytes), false).unwrap();
        assert_eq!(loaded.tree.digest(), t.digest());
        assert_eq!(loaded.tree.node_count(), t.node_count());
        assert_eq!(loaded.tree.sessions, t.sessions);
        assert_eq!(loaded.tree.ephemerals(7), t.ephemerals(7));
        assert_eq!(loaded.digest, Some(ZxidDigest { zxid: 50, version: 2, digest: t.digest() }));
        let kids: Vec<&str> = loaded.tree.child_names(loaded.tree.node("/").unwrap()).collect();
        let orig: Vec<&str> = t.child_names(t.node("/").unwrap()).collect();
        assert_eq!(kids, orig);
    }

    /// Nodes deleted between steps are skipped even when a new node takes their id, nodes that
    /// lived through the walk are all written, and every node follows its parent.
    #[test]
    fn a_fuzzy_walk_survives_deletes_and_reused_ids() {
        let mut t = tree_with(60);
        let mut job = SnapshotJob::start(&t);
        // The root: its children are now on the walk's stack.
        job.step(&t, 1);
        let mut ev = Vec::new();
        let mut zxid = 100;
        let mut apply = |t: &mut DataTree, body: TxnBody| {
            zxid += 1;
            let hdr = TxnHeader { client_id: 7, cxid: 0, zxid, time: 5, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut ev);
        };
        for i in (0..60).step_by(2) {
            apply(&mut t, TxnBody::Delete(rzk_proto::DeleteTxn { path: format!("/n{i}") }));
        }
        for i in 0..30 {
            let path = format!("/new{i}");
            apply(
                &mut t,
                TxnBody::Create(CreateTxn {
                    path,
                    data: None,
                    acl: vec![],
                    ephemeral: false,
                    parent_cversion: -1,
                }),
            );
        }
        while !job.step(&t, 5) {}
        let bytes = job.finish(&t).to_vec();
        let loaded = load_snapshot(Bytes::from(bytes), false).expect("parents come first");
        for i in 0..60 {
            assert_eq!(loaded.tree.node(&format!("/n{i}")).is_some(), i % 2 == 1, "/n{i}");
        }
        assert!((0..30).all(|i| loaded.tree.node(&format!("/new{i}")).is_none()));
    }

    #[test]
    fn a_stream_taken_in_pieces_is_the_whole_stream() {
        let t = tree_with(40);
        let mut whole = SnapshotJob::start(&t);
        whole.step(&t, usize::MAX);
        let whole = whole.finish(&t).to_vec();
        let mut job = SnapshotJob::start(&t);
        let mut seal = SnapshotSeal::new();
        let mut out = job.head().to_vec();
        seal.update(job.head());
        loop {
            let done = job.step(&t, 3);
            let piece = job.take_nodes();
            seal.update(&piece);
            out.extend_from_slice(&piece);
            if done {
                break;
            }
        }
        assert!(job.acls_complete());
        let image = job.finish(&t);
        assert!(image.nodes.is_empty(), "everything was taken");
        out.extend_from_slice(&seal.tail(&image.digest));
        assert_eq!(out, whole);
    }

    /// Only an ACL list the cache did not have at the start makes the stream incomplete; the
    /// whole image puts it in its head.
    #[test]
    fn a_new_acl_list_during_the_walk_marks_the_stream_incomplete_and_joins_the_whole_head() {
        for (acl, complete) in
            [(Acl::new(31, "world", "anyone"), true), (Acl::new(1, "digest", "u:secret"), false)]
        {
            let mut t = tree_with(10);
            let mut job = SnapshotJob::start(&t);
            job.step(&t, 1);
            // Under a node the walk has not reached yet, so it is visited.
            let body = TxnBody::Create(CreateTxn {
                path: "/n9/kid".into(),
                data: None,
                acl: vec![acl.clone()],
                ephemeral: false,
                parent_cversion: -1,
            });
            let hdr = TxnHeader { client_id: 7, cxid: 0, zxid: 200, time: 5, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut Vec::new());
            while !job.step(&t, 2) {}
            assert_eq!(job.acls_complete(), complete, "{acl:?}");
            // Whole, the snapshot carries the new list in its head: the node's ACL resolves.
            let loaded = load_snapshot(Bytes::from(job.finish(&t).to_vec()), false).unwrap();
            let kid = loaded.tree.node("/n9/kid").expect("the new node is in the snapshot");
            assert_eq!(loaded.tree.acls.get(kid.acl), vec![acl.clone()]);
        }
    }

    #[test]
    fn a_flipped_bit_fails_the_seal() {
        let t = tree_with(10);
        let mut job = SnapshotJob::start(&t);
        job.step(&t, usize::MAX);
        let mut bytes = job.finish(&t).to_vec();
        bytes[40] ^= 1;
        assert!(load_snapshot(Bytes::from(bytes), false).is_err());
    }
}
