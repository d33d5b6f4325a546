//! A snapshot file read the way the Java tools read it (`FileSnap.deserialize` into a fresh
//! `DataTree`): nodes in file order, sessions in file order, the ACL cache, each node's children
//! in Java `HashSet` order (rzk-tree's `Children`), and the seals and digest checked on the side.
//!
//! The tools need what `rzk_tree::snapshot::load_snapshot` does not keep (file order, offsets for
//! error messages, the node count as Java counts it) and must dump a snapshot whose seal is wrong,
//! as the Java formatter does, so this is a separate reader over rzk-proto's decoders. Every
//! length is bounded by the bytes left, so there is no jute.maxbuffer limit to configure.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rzk_proto::{Acl, DecodeError, FileHeader, Jute, Reader, StatPersisted};
use rzk_tree::children::Children;
use rzk_tree::snapshot::{SNAP_MAGIC, ZxidDigest};

use crate::progress::Progress;

#[derive(Debug, thiserror::Error)]
pub enum SnapError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} at offset {offset}: {what}")]
    Corrupt { path: PathBuf, offset: u64, what: String },
}

/// One znode as stored.
#[derive(Debug, Clone)]
pub struct SnapNode {
    /// The path as in the file: "" for the root.
    pub path: String,
    pub data: Option<Bytes>,
    pub acl: i64,
    pub stat: StatPersisted,
    pub children: Children,
}

impl SnapNode {
    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }
}

/// The Adler-32 seal after a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seal {
    Ok,
    /// The file ends before the seal.
    Missing,
    Mismatch {
        offset: u64,
        stored: i64,
        computed: i64,
    },
}

pub struct SnapshotView {
    pub path: PathBuf,
    /// The zxid in the file name (`Util.getZxidFromName`), −1 when it has none.
    pub name_zxid: i64,
    pub header: FileHeader,
    /// Sessions and timeouts, in file order.
    pub sessions: Vec<(i64, i32)>,
    pub acls: BTreeMap<i64, Vec<Acl>>,
    nodes: Vec<SnapNode>,
    index: HashMap<String, usize>,
    root: usize,
    ephemerals: HashMap<i64, usize>,
    pub seal: Seal,
    /// The digest section, when present (zxid > 0, as ZooKeeper keeps it).
    pub digest: Option<ZxidDigest>,
    pub digest_seal: Option<Seal>,
}

/// `Util.getZxidFromName`: the hex after `snapshot.`, or −1.
pub fn zxid_from_name(name: &str, prefix: &str) -> i64 {
    let mut parts = name.split('.');
    if parts.next() != Some(prefix) {
        return -1;
    }
    parts.next().and_then(|h| i64::from_str_radix(h, 16).ok()).unwrap_or(-1)
}

struct Parse<'a> {
    r: Reader,
    all: &'a Bytes,
    path: &'a Path,
    progress: &'a Progress,
}

impl Parse<'_> {
    fn offset(&self) -> u64 {
        (self.all.len() - self.r.remaining()) as u64
    }

    fn corrupt(&self, what: impl Into<String>) -> SnapError {
        SnapError::Corrupt { path: self.path.to_owned(), offset: self.offset(), what: what.into() }
    }

    fn decoded<T>(&self, what: &str, r: Result<T, DecodeError>) -> Result<T, SnapError> {
        r.map_err(|e| self.corrupt(format!("{what}: {e}")))
    }

    fn i32(&mut self, what: &str) -> Result<i32, SnapError> {
        let v = self.r.read_i32();
        self.decoded(what, v)
    }

    fn i64(&mut self, what: &str) -> Result<i64, SnapError> {
        let v = self.r.read_i64();
        self.decoded(what, v)
    }

    fn seal(&mut self) -> Result<Seal, SnapError> {
        let offset = self.offset();
        if self.r.remaining() < 8 {
            return Ok(Seal::Missing);
        }
        let mut a = adler2::Adler32::new();
        a.write_slice(&self.all[..offset as usize]);
        let computed = i64::from(a.checksum());
        let stored = self.i64("seal")?;
        // The "/" after the checksum; a file cut right after the checksum is still sealed.
        if self.r.remaining() >= 4 {
            let slash = self.r.read_ustring();
            self.decoded("seal", slash)?;
        }
        Ok(if stored == computed { Seal::Ok } else { Seal::Mismatch { offset, stored, computed } })
    }
}

impl SnapshotView {
    /// Reads (and decompresses) a snapshot file.
    pub fn open(path: &Path) -> Result<SnapshotView, SnapError> {
        let name = path.display().to_string();
        let bytes = {
            let _spin = Progress::spinner(&format!("reading {name}"));
            rzk_storage::snapfile::read_snapshot(path)
                .map_err(|source| SnapError::Io { path: path.to_owned(), source })?
        };
        let progress = Progress::bytes(bytes.len() as u64, &name);
        SnapshotView::parse(path, Bytes::from(bytes), &progress)
    }

    /// Parses an uncompressed snapshot stream.
    pub fn parse(path: &Path, all: Bytes, progress: &Progress) -> Result<SnapshotView, SnapError> {
        let mut p = Parse { r: Reader::new(all.clone(), usize::MAX), all: &all, path, progress };
        let header = FileHeader::decode(&mut p.r);
        let header = p.decoded("file header", header)?;
        if header.magic != SNAP_MAGIC {
            return Err(p.corrupt(format!("mismatching magic headers {} != {SNAP_MAGIC}", header.magic)));
        }
        let sessions = read_sessions(&mut p)?;
        let acls = read_acls(&mut p)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut view = SnapshotView {
            path: path.to_owned(),
            name_zxid: zxid_from_name(&name, "snapshot"),
            header,
            sessions,
            acls,
            nodes: Vec::new(),
            index: HashMap::new(),
            root: 0,
            ephemerals: HashMap::new(),
            seal: Seal::Missing,
            digest: None,
            digest_seal: None,
        };
        view.read_nodes(&mut p)?;
        view.seal = p.seal()?;
        view.read_digest(&mut p)?;
        Ok(view)
    }

    fn read_nodes(&mut self, p: &mut Parse) -> Result<(), SnapError> {
        let mut root = None;
        loop {
            p.progress.set(p.offset());
            let path = p.r.read_ustring();
            let Some(path) = p.decoded("node path", path)? else { return Err(p.corrupt("null node path")) };
            if path == "/" {
                break;
            }
            let data = Option::<Bytes>::decode(&mut p.r);
            let data = p.decoded("node data", data)?;
            let acl = p.i64("node acl")?;
            let stat = StatPersisted::decode(&mut p.r);
            let stat = p.decoded("node stat", stat)?;
            let owner = stat.ephemeral_owner;
            // DataTree.deserialize: a path without '/' is the root; others need their parent.
            let parent = match path.rfind('/') {
                None => None,
                Some(slash) => match self.index.get(&path[..slash]) {
                    Some(&i) => Some((i, path[slash + 1..].to_owned())),
                    None => {
                        let what = format!(
                            "Invalid Datatree, unable to find parent {} of path {path}",
                            &path[..slash]
                        );
                        return Err(p.corrupt(what));
                    }
                },
            };
            let idx =
                self.put(SnapNode { path: path.clone(), data, acl, stat, children: Children::default() });
            match parent {
                None => root = Some(idx),
                Some((pi, name)) => {
                    self.nodes[pi].children.insert(&name);
                    // EphemeralType.get without extended types: containers apart, any owner counts.
                    if owner != 0 && owner != rzk_proto::codes::ephemeral_owner::CONTAINER {
                        *self.ephemerals.entry(owner).or_default() += 1;
                    }
                }
            }
        }
        self.root = root.ok_or_else(|| p.corrupt("the snapshot has no root node"))?;
        Ok(())
    }

    /// Adds a node, or replaces one with the same path (keeping its children).
    fn put(&mut self, mut node: SnapNode) -> usize {
        if let Some(&i) = self.index.get(&node.path) {
            node.children = std::mem::take(&mut self.nodes[i].children);
            self.nodes[i] = node;
            return i;
        }
        self.index.insert(node.path.clone(), self.nodes.len());
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn read_digest(&mut self, p: &mut Parse) -> Result<(), SnapError> {
        if p.r.remaining() < 12 {
            return Ok(());
        }
        let zxid = p.i64("digest zxid")?;
        let version = p.i32("digest version")?;
        let digest = if version < 2 {
            // Before 3.6.0 the digest was a hex string.
            let s = p.r.read_ustring();
            let s = p.decoded("digest", s)?.unwrap_or_default();
            u64::from_str_radix(&s, 16).map(|v| v as i64).unwrap_or(0)
        } else {
            p.i64("digest")?
        };
        self.digest_seal = Some(p.seal()?);
        if zxid > 0 {
            self.digest = Some(ZxidDigest { zxid, version, digest });
        }
        Ok(())
    }

    /// Every node in file order.
    pub fn nodes(&self) -> &[SnapNode] {
        &self.nodes
    }

    pub fn root(&self) -> &SnapNode {
        &self.nodes[self.root]
    }

    /// A node by path ("/" and "" are both the root).
    pub fn node(&self, path: &str) -> Option<&SnapNode> {
        if path == "/" {
            return Some(self.root());
        }
        self.index.get(path).map(|&i| &self.nodes[i])
    }

    /// `DataTree.getNodeCount()` after loading: the root is in the map twice ("" and "/").
    pub fn java_node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// How many ephemerals `session` owns (`getEphemerals(sid).size()`).
    pub fn ephemeral_count(&self, session: i64) -> usize {
        self.ephemerals.get(&session).copied().unwrap_or(0)
    }

    /// The full path of `child` under the node at `parent` (as the tools build it).
    pub fn child_path(parent: &str, child: &str) -> String {
        if parent == "/" || parent.is_empty() { format!("/{child}") } else { format!("{parent}/{child}") }
    }

    /// The ACL list of a node (empty if its index is not in the cache).
    pub fn acl_of(&self, node: &SnapNode) -> Vec<Acl> {
        if node.acl == rzk_tree::acl_cache::OPEN_UNSAFE_ACL_ID {
            return rzk_tree::open_acl_unsafe();
        }
        self.acls.get(&node.acl).cloned().unwrap_or_default()
    }

    /// Sessions in the order Java's `HashMap<Long, Integer>` iterates them, having been filled in
    /// file order: by bucket in a table sized for the count, then insertion order. (Tree bins,
    /// eight or more ids in one bucket, are not modelled.)
    pub fn sessions_java_order(&self) -> Vec<(i64, i32)> {
        let mut unique: Vec<(i64, i32)> = Vec::with_capacity(self.sessions.len());
        let mut at: HashMap<i64, usize> = HashMap::new();
        for &(id, timeout) in &self.sessions {
            match at.get(&id) {
                Some(&i) => unique[i].1 = timeout,
                None => {
                    at.insert(id, unique.len());
                    unique.push((id, timeout));
                }
            }
        }
        let mut cap = 16usize;
        while unique.len() > cap / 4 * 3 {
            cap *= 2;
        }
        let bucket = |id: i64| {
            let h = (id ^ ((id as u64) >> 32) as i64) as i32 as u32;
            (h ^ (h >> 16)) as usize & (cap - 1)
        };
        let mut order: Vec<(usize, usize)> =
            unique.iter().enumerate().map(|(i, (id, _))| (bucket(*id), i)).collect();
        order.sort_unstable();
        order.into_iter().map(|(_, i)| unique[i]).collect()
    }
}

fn read_sessions(p: &mut Parse) -> Result<Vec<(i64, i32)>, SnapError> {
    let count = p.i32("session count")?;
    let mut sessions = Vec::with_capacity((count.max(0) as usize).min(p.r.remaining() / 12));
    for _ in 0..count.max(0) {
        let id = p.i64("session id")?;
        let timeout = p.i32("session timeout")?;
        sessions.push((id, timeout));
    }
    Ok(sessions)
}

fn read_acls(p: &mut Parse) -> Result<BTreeMap<i64, Vec<Acl>>, SnapError> {
    let count = p.i32("ACL cache size")?;
    let mut acls = BTreeMap::new();
    for _ in 0..count.max(0) {
        let idx = p.i64("ACL index")?;
        if p.r.remaining() >= 4 && p.r.rest()[..4] == [0xff; 4] {
            return Err(
                p.corrupt("Incorrect format of InputArchive when deserialize DataTree - missing acls")
            );
        }
        let list = Vec::<Acl>::decode(&mut p.r);
        let list = p.decoded("ACL list", list)?;
        acls.insert(idx, list);
    }
    Ok(acls)
}
