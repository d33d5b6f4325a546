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
//! ZooKeeper's snapshots are fuzzy: the tree is walked while txns keep changing it, and the log
//! replayed from the snapshot's zxid on start-up mends what the walk caught half-way. rzk's are
//! exact: [`SnapshotJob::start`] takes a frozen view of every node (the arena's slots are shared
//! chunks copied on write, so this costs a reference per 64 nodes, and the core then copies only
//! the chunks it changes while the view lives), with the sessions, the ACL cache, the zxid and the
//! digest of that same moment. The walk, the serialization and the file run on another thread,
//! and the image is the tree at exactly its zxid, which ZooKeeper's loader (built for fuzzier
//! ones) reads as well. [`SnapshotJob::step`] serializes a bounded number of nodes at a time and
//! [`SnapshotJob::take_nodes`] hands over what is ready, so the stream is never whole in memory.
//! Loading is the same in reverse: [`load_snapshot_from`] (`load`) reads the stream a part at a
//! time and builds the tree record by record.

use bytes::{BufMut, Bytes};
use rzk_proto::{Acl, DecodeError, FileHeader, Jute, Reader, StatPersisted};

use crate::arena::Slots;
use crate::digest::DIGEST_VERSION;
use crate::node::DataNode;
use crate::tree::DataTree;

mod load;
pub use load::{SNAPSHOT_READ_PART_BYTES, load_snapshot_from, load_snapshot_sized};

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
    #[error("reading the snapshot: {0}")]
    Io(#[from] std::io::Error),
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

/// A snapshot being taken; see the module docs. It owns its view of the tree, so it can be
/// sent to and stepped on any thread (and a clone walks the same view again).
#[derive(Clone)]
pub struct SnapshotJob {
    /// The zxid the snapshot is named after: the last txn applied when it started.
    pub zxid: i64,
    /// The file header, the sessions and the ACL cache.
    head: Vec<u8>,
    /// Every node as of the start.
    slots: Slots,
    digest: ZxidDigest,
    /// Nodes still to visit, the next on top.
    stack: Vec<u32>,
    /// Serialized nodes not yet taken.
    nodes: Vec<u8>,
}

/// Bytes of the file header at the start of `head`.
const FILE_HEADER_BYTES: usize = 16;

impl SnapshotJob {
    /// Freezes the tree as it is now (cheap: see the module docs).
    pub fn start(tree: &DataTree) -> SnapshotJob {
        let sessions: Vec<(i64, i32)> = tree.sessions.iter().map(|(k, v)| (*k, *v)).collect();
        let mut acls: Vec<(i64, &[Acl])> =
            tree.acls.entries().filter(|(idx, _)| *idx != crate::acl_cache::OPEN_UNSAFE_ACL_ID).collect();
        acls.sort_by_key(|(idx, _)| *idx);
        let mut head = Vec::with_capacity(1024);
        FileHeader { magic: SNAP_MAGIC, version: 2, dbid: SNAP_DBID }.encode(&mut head);
        debug_assert_eq!(head.len(), FILE_HEADER_BYTES);
        write_sessions(&mut head, &sessions);
        write_acls(&mut head, &acls);
        let (slots, root) = tree.frozen_nodes();
        SnapshotJob {
            zxid: tree.last_processed_zxid,
            head,
            slots,
            digest: ZxidDigest {
                zxid: tree.last_processed_zxid,
                version: DIGEST_VERSION,
                digest: tree.digest(),
            },
            stack: root.into_iter().collect(),
            nodes: Vec::new(),
        }
    }

    /// The whole snapshot of the tree as it is now, serialized at once (start-up, tools, tests).
    pub fn whole(tree: &DataTree) -> SnapshotImage {
        let mut job = SnapshotJob::start(tree);
        job.step(usize::MAX);
        job.finish()
    }

    /// What comes before the nodes in the file: header, sessions, ACL cache.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Serializes up to `nodes_max` more nodes; true when every node has been visited.
    pub fn step(&mut self, nodes_max: usize) -> bool {
        let slots = &self.slots;
        let mut n = 0;
        while n < nodes_max {
            let Some(id) = self.stack.pop() else { return true };
            // The next nodes are mostly the stack's top ones (leaves follow each other): start
            // loading the contents of the next and the slot of the one after it, so the walk
            // over a tree far larger than the caches does not wait for each miss in turn.
            let top = self.stack.len();
            if top >= PREFETCH_CONTENTS_AHEAD {
                prefetch_contents(slots, self.stack[top - PREFETCH_CONTENTS_AHEAD]);
            }
            if top >= PREFETCH_SLOTS_AHEAD {
                prefetch_slot(slots, self.stack[top - PREFETCH_SLOTS_AHEAD]);
            }
            let node = &slots.at(id).node;
            // The root is written as "" (`DataTree.serialize` starts from "").
            let path = node.path();
            write_node(&mut self.nodes, if path == "/" { "" } else { path }, node);
            // Children are visited in the order Java iterates them; push them reversed.
            let first = self.stack.len();
            self.stack.extend(slots.children(&node.children));
            self.stack[first..].reverse();
            n += 1;
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

    /// The digest section: the tree's digest at the snapshot's zxid.
    pub fn digest(&self) -> ZxidDigest {
        self.digest
    }

    /// Ends the walk: the head, the nodes not yet taken, and the digest. Cheap; the sealing
    /// checksums are computed by [`SnapshotImage::tail`] or a [`SnapshotSeal`].
    pub fn finish(self) -> SnapshotImage {
        SnapshotImage { zxid: self.zxid, head: self.head, nodes: self.nodes, digest: self.digest }
    }
}

/// Asks the CPU to start loading slot `id` (a hint for walks over trees larger than the caches;
/// no effect on what anything reads).
fn prefetch_slot(slots: &Slots, id: u32) {
    if let Some(s) = slots.get(id) {
        prefetch((s as *const crate::arena::Slot).cast());
    }
}

/// Asks the CPU to start loading the path and data of slot `id` (whose slot should already be
/// in cache: see [`prefetch_slot`]).
fn prefetch_contents(slots: &Slots, id: u32) {
    if let Some(s) = slots.get(id) {
        prefetch(s.node.contents_ptr());
    }
}

/// A cache prefetch hint for the line holding `p` (x86-64; elsewhere nothing).
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and never changes memory, whatever `p` is.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
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

fn write_acls(out: &mut Vec<u8>, acls: &[(i64, &[Acl])]) {
    out.put_i32(acls.len() as i32);
    for (idx, list) in acls {
        out.put_i64(*idx);
        out.put_i32(list.len() as i32);
        for acl in *list {
            acl.encode(out);
        }
    }
}

fn write_node(out: &mut Vec<u8>, path: &str, node: &DataNode) {
    rzk_proto::jute::put_ustring(out, path);
    match node.data() {
        None => out.put_i32(-1),
        Some(d) => {
            out.put_i32(d.len() as i32);
            out.put_slice(d);
        }
    }
    out.put_i64(node.acl);
    node.stat.encode(out);
}

/// The tree as a SNAP sync sends it to a learner (`SerializeUtils.serializeSnapshot`: sessions,
/// ACL cache, nodes, "/"; no file header, seal or digest), frozen when the leader decides to send
/// it and serialized by whoever writes it out, a part at a time. Two are equal when they are
/// images of the same state of the tree (same zxid and digest).
#[derive(Clone)]
pub struct TreeBody(SnapshotJob);

impl TreeBody {
    /// Freezes the tree as it is now (cheap: see the module docs).
    pub fn of(tree: &DataTree) -> TreeBody {
        TreeBody(SnapshotJob::start(tree))
    }

    /// Serializes the body into `out`, at most about `part_bytes` of nodes at a time.
    pub fn write_to(self, out: &mut impl std::io::Write, part_bytes: usize) -> std::io::Result<()> {
        let mut job = self.0;
        out.write_all(&job.head[FILE_HEADER_BYTES..])?;
        loop {
            let done = job.step(TREE_BODY_NODES_PER_STEP);
            if done || job.buffered_bytes() >= part_bytes {
                out.write_all(&job.take_nodes())?;
            }
            if done {
                break;
            }
        }
        let mut end = Vec::with_capacity(8);
        "/".to_owned().encode(&mut end);
        out.write_all(&end)
    }

    /// The whole body in one buffer.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.write_to(&mut out, usize::MAX) {
            Ok(()) => out,
            // Writes into a Vec do not fail.
            Err(_) => Vec::new(),
        }
    }
}

impl PartialEq for TreeBody {
    fn eq(&self, other: &TreeBody) -> bool {
        self.0.zxid == other.0.zxid && self.0.digest == other.0.digest
    }
}

impl Eq for TreeBody {}

impl std::fmt::Debug for TreeBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeBody").field("zxid", &self.0.zxid).field("digest", &self.0.digest.digest).finish()
    }
}

/// Nodes [`TreeBody::write_to`] serializes between checks for a full part.
const TREE_BODY_NODES_PER_STEP: usize = 256;

/// The whole tree serialized at once (tests and tools): see [`TreeBody`].
pub fn serialize_tree_body(tree: &DataTree) -> Vec<u8> {
    TreeBody::of(tree).to_bytes()
}

/// A snapshot read back.
pub struct LoadedSnapshot {
    pub tree: DataTree,
    pub dbid: i64,
    /// The digest section, when present and not empty.
    pub digest: Option<ZxidDigest>,
}

/// Reads a whole (uncompressed) snapshot stream held in memory, checking its seals (see
/// [`load_snapshot_from`], which reads one from a file a part at a time). `tree.last_processed_zxid`
/// is left at 0: the caller sets it from the file name, as ZooKeeper does.
pub fn load_snapshot(bytes: Bytes, extended_types: bool) -> Result<LoadedSnapshot, SnapError> {
    load_snapshot_from(&bytes[..], extended_types)
}

/// Sessions, ACL cache and nodes (what follows the file header, and what SNAP sync sends).
pub fn read_tree_body(r: &mut Reader, extended_types: bool) -> Result<DataTree, SnapError> {
    read_body(r, extended_types)
}

/// Where a snapshot's records come from: a stream held in memory (a [`Reader`]) or one read a
/// part at a time (`load`).
trait Records {
    /// Decodes one record with `decode`. It must not act before it succeeds: a source read in
    /// parts runs it again from the record's start when a part held only some of the record.
    fn record<T>(&mut self, decode: impl Fn(&mut Reader) -> Result<T, SnapError>) -> Result<T, SnapError>;

    /// The bytes consumed so far and the stream's whole length, when the source knows it.
    fn progress(&self) -> Option<(u64, u64)> {
        None
    }
}

/// Nodes read before the loader estimates how many the stream holds (from the bytes they took).
const NODES_SAMPLED: usize = 4096;
/// The fewest bytes a node record takes (a path's length and one byte, a null data's length, the
/// ACL reference and `StatPersisted`'s 60): the estimate never exceeds the stream's length over
/// this.
const NODE_RECORD_BYTES_MIN: u64 = 4 + 1 + 4 + 8 + 60;
/// Most nodes an estimate makes room for at once (an index of about 48 MiB): a file can be far
/// longer than its nodes say (sparse, corrupt), and past this the index grows as it always does.
const ESTIMATED_NODES_MAX: u64 = 8 << 20;

impl Records for Reader {
    fn record<T>(&mut self, decode: impl Fn(&mut Reader) -> Result<T, SnapError>) -> Result<T, SnapError> {
        decode(self)
    }
}

/// The body of [`read_tree_body`], record by record, from either source.
fn read_body(src: &mut impl Records, extended_types: bool) -> Result<DataTree, SnapError> {
    let mut tree = DataTree::empty(extended_types);
    let count = src.record(|r| Ok(r.read_i32()?))?;
    for _ in 0..count.max(0) {
        let (id, timeout) = src.record(|r| Ok((r.read_i64()?, r.read_i32()?)))?;
        tree.sessions.insert(id, timeout);
    }
    let acl_count = src.record(|r| Ok(r.read_i32()?))?;
    for _ in 0..acl_count.max(0) {
        let (idx, list) = src.record(|r| Ok((r.read_i64()?, Vec::<Acl>::decode(r)?)))?;
        tree.acls.insert_loaded(idx, list);
    }
    let mut nodes = 0usize;
    loop {
        if nodes == NODES_SAMPLED
            && let Some((consumed, total)) = src.progress()
        {
            // The index then grows once, not a step per insert (each step also makes lookups
            // look in two tables until it is done).
            let estimate = (nodes as u128 * u128::from(total) / u128::from(consumed.max(1))) as u64;
            let estimate = estimate.min(total / NODE_RECORD_BYTES_MIN).min(ESTIMATED_NODES_MAX);
            tree.reserve_nodes(usize::try_from(estimate).unwrap_or(0).saturating_sub(nodes));
        }
        nodes += 1;
        let node = src.record(|r| {
            let path = r.read_ustring()?.unwrap_or_default();
            if path == "/" {
                return Ok(None);
            }
            let data = r.read_buffer()?;
            let acl = r.read_i64()?;
            let stat = StatPersisted::decode(r)?;
            Ok(Some((path, data, acl, stat)))
        })?;
        let Some((path, data, acl, stat)) = node else { break };
        tree.insert_loaded(node_from_record(&tree, path, data.as_deref(), acl, stat)?);
    }
    tree.finish_load();
    Ok(tree)
}

/// A node read from a snapshot ("" is the root), once its parent is known to be in the tree.
fn node_from_record(
    tree: &DataTree,
    path: String,
    data: Option<&[u8]>,
    acl: i64,
    stat: StatPersisted,
) -> Result<DataNode, SnapError> {
    let key = if path.is_empty() { "/" } else { path.as_str() };
    if key != "/" {
        let parent = rzk_proto::path::parent(key).unwrap_or("/");
        if tree.node(parent).is_none() {
            let parent = parent.to_owned();
            return Err(SnapError::NoParent { parent, path });
        }
    }
    Ok(DataNode::new(key, data, acl, stat))
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
        while !job.step(7) {}
        let bytes = job.finish().to_vec();
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

    /// Whatever the tree goes through while the walk runs (deletes, ids reused by new nodes,
    /// new data, new ACL lists), the snapshot is the tree as it was at the start.
    #[test]
    fn a_walk_writes_the_tree_as_of_its_start() {
        let mut t = tree_with(200);
        let before = load_snapshot(Bytes::from(serialize_image(&t)), false).unwrap().tree;
        let mut job = SnapshotJob::start(&t);
        // The root: its children are now on the walk's stack.
        job.step(1);
        let mut ev = Vec::new();
        let mut zxid = 1000;
        let mut apply = |t: &mut DataTree, body: TxnBody| {
            zxid += 1;
            let hdr = TxnHeader { client_id: 7, cxid: 0, zxid, time: 5, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut ev);
        };
        for i in (0..200).step_by(2) {
            apply(&mut t, TxnBody::Delete(rzk_proto::DeleteTxn { path: format!("/n{i}") }));
        }
        let secret = Acl::new(1, "digest", "u:secret");
        for i in 0..100 {
            let body = TxnBody::Create(CreateTxn {
                path: format!("/new{i}"),
                data: None,
                acl: vec![secret.clone()],
                ephemeral: false,
                parent_cversion: -1,
            });
            apply(&mut t, body);
        }
        for i in (1..200).step_by(2) {
            let path = format!("/n{i}");
            apply(
                &mut t,
                TxnBody::SetData(rzk_proto::SetDataTxn { path: path.clone(), data: None, version: 1 }),
            );
            apply(
                &mut t,
                TxnBody::SetAcl(rzk_proto::SetAclTxn { path, acl: vec![secret.clone()], version: 1 }),
            );
        }
        while !job.step(5) {}
        let loaded = load_snapshot(Bytes::from(job.finish().to_vec()), false).expect("parents come first");
        assert_eq!(loaded.digest.map(|d| (d.zxid, d.digest)), Some((200, before.digest())));
        assert_eq!(loaded.tree.digest(), before.digest());
        assert_eq!(loaded.tree.node_count(), before.node_count());
        for i in 0..200 {
            let (got, want) =
                (loaded.tree.node(&format!("/n{i}")).unwrap(), before.node(&format!("/n{i}")).unwrap());
            assert_eq!(got.data(), want.data(), "/n{i}");
            assert_eq!(loaded.tree.acls.get(got.acl), before.acls.get(want.acl), "/n{i}");
        }
        assert!((0..100).all(|i| loaded.tree.node(&format!("/new{i}")).is_none()));
        // The tree itself has moved on.
        assert!(t.node("/n0").is_none() && t.node("/new0").is_some());
    }

    fn serialize_image(t: &DataTree) -> Vec<u8> {
        SnapshotJob::whole(t).to_vec()
    }

    #[test]
    fn a_stream_taken_in_pieces_is_the_whole_stream() {
        let t = tree_with(40);
        let whole = serialize_image(&t);
        let mut job = SnapshotJob::start(&t);
        let mut seal = SnapshotSeal::new();
        let mut out = job.head().to_vec();
        seal.update(job.head());
        loop {
            let done = job.step(3);
            let piece = job.take_nodes();
            seal.update(&piece);
            out.extend_from_slice(&piece);
            if done {
                break;
            }
        }
        let image = job.finish();
        assert!(image.nodes.is_empty(), "everything was taken");
        out.extend_from_slice(&seal.tail(&image.digest));
        assert_eq!(out, whole);
    }

    /// A SNAP body is the snapshot stream without file header and seals, as of when it was
    /// frozen, whatever happens to the tree before it is written, in parts of any size.
    #[test]
    fn a_tree_body_is_the_tree_when_frozen_written_in_parts() {
        let mut t = tree_with(300);
        let image = SnapshotJob::whole(&t);
        let mut expected = image.head[FILE_HEADER_BYTES..].to_vec();
        expected.extend_from_slice(&image.nodes);
        "/".to_owned().encode(&mut expected);
        let body = TreeBody::of(&t);
        let again = body.clone();
        assert_eq!(body, again);
        let hdr = TxnHeader { client_id: 7, cxid: 0, zxid: 999, time: 5, txn_type: op::CREATE };
        t.process_txn(&hdr, &TxnBody::Delete(rzk_proto::DeleteTxn { path: "/n1".into() }), &mut Vec::new());
        assert_ne!(TreeBody::of(&t), body, "another state of the tree");
        struct Parts(Vec<usize>, Vec<u8>);
        impl std::io::Write for Parts {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.push(b.len());
                self.1.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut parts = Parts(Vec::new(), Vec::new());
        body.write_to(&mut parts, 1000).unwrap();
        assert_eq!(parts.1, expected);
        assert!(parts.0.len() > 3, "written in parts: {:?}", parts.0);
        assert_eq!(again.to_bytes(), expected);
        let mut r = Reader::new(Bytes::from(expected), usize::MAX);
        let read = read_tree_body(&mut r, false).unwrap();
        assert!(read.node("/n1").is_some());
    }

    #[test]
    fn a_flipped_bit_fails_the_seal() {
        let t = tree_with(10);
        let mut bytes = serialize_image(&t);
        bytes[40] ^= 1;
        assert!(load_snapshot(Bytes::from(bytes), false).is_err());
    }
}
