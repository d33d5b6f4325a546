//! One znode as the server keeps it (`DataNode`): data, an ACL cache reference, the persisted stat
//! and its children (ids in the tree's arena; names through [`DataTree::child_names`]).
//!
//! [`DataTree::child_names`]: crate::DataTree::child_names

use rzk_proto::codes::ephemeral_owner;
use rzk_proto::{Stat, StatPersisted};

pub use crate::arena::ChildSet;

/// A node's data: owned, 16 bytes when present, null kept apart from empty.
pub type NodeData = Option<Box<[u8]>>;

/// Copies request or snapshot bytes into a node's own allocation.
pub fn own_data(d: Option<&[u8]>) -> NodeData {
    d.map(Box::from)
}

#[derive(Debug, Clone, Default)]
pub struct DataNode {
    /// `None` when the creator sent null data (clients get null back). A node owns its bytes
    /// (never a slice of a request frame or a snapshot buffer, which would keep those alive).
    pub data: NodeData,
    /// Index into the tree's ACL cache.
    pub acl: i64,
    pub stat: StatPersisted,
    /// The children, in Java HashSet order (see `children`); a compact set of arena ids.
    pub children: ChildSet,
}

impl DataNode {
    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
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
