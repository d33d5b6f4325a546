//! One znode as the server keeps it (`DataNode`): its path and data (in one allocation), an ACL
//! cache reference, the persisted stat and its children (ids in the tree's arena; names through
//! [`DataTree::child_names`]).
//!
//! [`DataTree::child_names`]: crate::DataTree::child_names

use rzk_proto::codes::ephemeral_owner;
use rzk_proto::{Stat, StatPersisted};

pub use crate::arena::ChildSet;

#[derive(Clone, Default)]
pub struct DataNode {
    /// The path and the data. A node owns these bytes (never a slice of a request frame or a
    /// snapshot buffer, which would keep those alive). Empty for a node not in a tree.
    contents: Contents,
    /// Index into the tree's ACL cache.
    pub acl: i64,
    pub stat: StatPersisted,
    /// The children, in Java HashSet order (see `children`); a compact set of arena ids.
    pub children: ChildSet,
}

impl std::fmt::Debug for DataNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataNode")
            .field("path", &self.path())
            .field("data", &self.data())
            .field("acl", &self.acl)
            .field("stat", &self.stat)
            .field("children", &self.children.len())
            .finish()
    }
}

impl DataNode {
    /// A node at `path`; `data` is `None` when the creator sent null (clients get null back).
    pub fn new(path: &str, data: Option<&[u8]>, acl: i64, stat: StatPersisted) -> DataNode {
        DataNode { contents: Contents::new(path, data), acl, stat, children: ChildSet::default() }
    }

    pub fn path(&self) -> &str {
        self.contents.path()
    }

    /// The node's name: its path after the last '/' ("" for the root).
    pub fn name(&self) -> &str {
        let p = self.path();
        p.rfind('/').map_or(p, |i| &p[i + 1..])
    }

    /// `None` when the data is null.
    pub fn data(&self) -> Option<&[u8]> {
        self.contents.data()
    }

    pub fn set_data(&mut self, data: Option<&[u8]>) {
        self.contents = Contents::new(self.contents.path(), data);
    }

    pub fn data_len(&self) -> usize {
        self.data().map_or(0, |d| d.len())
    }

    /// No path: a node not in a tree (a free slot of the arena).
    pub(crate) fn is_vacant(&self) -> bool {
        self.contents.0.is_empty()
    }

    /// Where the contents are in memory (for prefetch hints only).
    pub(crate) fn contents_ptr(&self) -> *const u8 {
        self.contents.0.as_ptr()
    }

    /// The stat clients see (`DataNode.copyStat`): cversion counts creates *and* deletes
    /// (`2 × creates − live children`), and containers and TTL nodes show no ephemeralOwner.
    pub fn client_stat(&self, extended_types: bool) -> Stat {
        let s = &self.stat;
        let num_children = self.children.len() as i32;
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: client_ephemeral_owner(s.ephemeral_owner, extended_types),
            data_length: self.data_len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }
}

/// Bytes of the header at the start of [`Contents`].
const CONTENTS_HEADER_BYTES: usize = 4;

/// A node's path and data in one allocation (one allocation less per node than two boxes, and
/// 16 bytes less in its slot): a little-endian `u32` header, the path's length shifted left once
/// with the low bit set when the data is null, then the path, then the data. Paths are far
/// shorter than 2 GiB (a request is at most `jute.maxbuffer`). Built only by
/// [`Contents::new`], from a `&str`: the path bytes are always UTF-8.
#[derive(Clone, Default)]
struct Contents(Box<[u8]>);

impl Contents {
    fn new(path: &str, data: Option<&[u8]>) -> Contents {
        let d = data.unwrap_or_default();
        let header = ((path.len() as u32) << 1) | u32::from(data.is_none());
        let mut v = Vec::with_capacity(CONTENTS_HEADER_BYTES + path.len() + d.len());
        v.extend_from_slice(&header.to_le_bytes());
        v.extend_from_slice(path.as_bytes());
        v.extend_from_slice(d);
        Contents(v.into_boxed_slice())
    }

    /// (path length, data is null); an empty `Contents` has no path and null data.
    fn header(&self) -> (usize, bool) {
        match self.0.first_chunk::<CONTENTS_HEADER_BYTES>() {
            Some(h) => {
                let h = u32::from_le_bytes(*h);
                ((h >> 1) as usize, h & 1 == 1)
            }
            None => (0, true),
        }
    }

    fn path(&self) -> &str {
        let (len, _) = self.header();
        let bytes = self.0.get(CONTENTS_HEADER_BYTES..CONTENTS_HEADER_BYTES + len).unwrap_or_default();
        // SAFETY: `new` is the only way to make a `Contents`, and it copies these bytes from a
        // `&str`, whole, right after the header that gives their length.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    fn data(&self) -> Option<&[u8]> {
        let (len, null) = self.header();
        if null { None } else { self.0.get(CONTENTS_HEADER_BYTES + len..) }
    }
}

/// What `EphemeralType.get` calls a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

pub fn node_kind(owner: i64, extended_types: bool) -> NodeKind {
    if ephemeral_owner::is_ttl(owner, extended_types) {
        NodeKind::Ttl(ephemeral_owner::ttl_ms(owner))
    } else if owner == ephemeral_owner::CONTAINER {
        NodeKind::Container
    } else if owner == 0 {
        NodeKind::Persistent
    } else {
        NodeKind::Ephemeral(owner)
    }
}

fn client_ephemeral_owner(owner: i64, extended_types: bool) -> i64 {
    match node_kind(owner, extended_types) {
        NodeKind::Ephemeral(o) => o,
        _ => 0,
    }
}

/// `DataTree.createStat`.
pub fn create_stat(zxid: i64, time: i64, ephemeral_owner: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner,
        pzxid: zxid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_data_share_one_allocation_and_keep_null_apart_from_empty() {
        let mut n = DataNode::new("/a/bc", Some(b"xyz"), 3, StatPersisted::default());
        assert_eq!((n.path(), n.name(), n.data(), n.data_len()), ("/a/bc", "bc", Some(&b"xyz"[..]), 3));
        n.set_data(None);
        assert_eq!((n.path(), n.data(), n.data_len()), ("/a/bc", None, 0));
        n.set_data(Some(b""));
        assert_eq!((n.path(), n.data()), ("/a/bc", Some(&b""[..])));
        let root = DataNode::new("/", None, 0, StatPersisted::default());
        assert_eq!((root.path(), root.name(), root.data()), ("/", "", None));
        let vacant = DataNode::default();
        assert!(vacant.is_vacant() && !n.is_vacant());
        assert_eq!((vacant.path(), vacant.data()), ("", None));
        let long = "/".to_owned() + &"é".repeat(40_000);
        let n = DataNode::new(&long, Some(&[1; 5]), 0, StatPersisted::default());
        assert_eq!((n.path(), n.data()), (&long[..], Some(&[1u8; 5][..])));
    }
}
