//! The node map under `DataTree`: nodes added, removed and changed in the arena with the tree
//! digest and the approximate data size kept right (`NodeHashMapImpl`, `preChange`/`postChange`),
//! the lookups by path and by id, and the frozen view a snapshot walks.

use super::DataTree;
use crate::arena::Slots;
use crate::digest::node_digest;
use crate::node::DataNode;

impl DataTree {
    /// The map key of a path ("" is the root, as snapshots write it).
    pub(super) fn key(path: &str) -> &str {
        if path.is_empty() { "/" } else { path }
    }

    /// Adds a node, or replaces the one at its path (which keeps its place among its siblings;
    /// its children are dropped from its set, as Java's `nodes.put` of a new `DataNode` does).
    pub(super) fn put(&mut self, node: DataNode) -> u32 {
        self.put_hashed(self.nodes.hash(node.path()), node)
    }

    /// [`put`](Self::put) with the path's index hash already computed.
    pub(super) fn put_hashed(&mut self, hash: u64, node: DataNode) -> u32 {
        self.digest = self.digest.wrapping_add(digest_of(&node));
        self.data_size += (node.path().len() + node.data_len()) as i64;
        let (id, old) = self.nodes.insert_hashed(hash, node);
        if let Some(old) = old {
            self.digest = self.digest.wrapping_sub(digest_of(&old));
            self.data_size -= (old.path().len() + old.data_len()) as i64;
        }
        id
    }

    /// Adds a node and links it into its parent's children, if the parent exists.
    pub(super) fn put_linked(&mut self, node: DataNode) -> u32 {
        let parent = rzk_proto::path::parent(node.path()).and_then(|p| self.nodes.find(p));
        let id = self.put(node);
        if let Some(p) = parent
            && p != id
        {
            self.nodes.link_child(p, id);
        }
        id
    }

    /// Removes a node (its parent link must be gone already) and frees its id.
    pub(super) fn take(&mut self, id: u32) -> DataNode {
        let node = self.nodes.remove(id);
        self.digest = self.digest.wrapping_sub(digest_of(&node));
        self.data_size -= (node.path().len() + node.data_len()) as i64;
        node
    }

    /// Changes a node in place, keeping the digest and data size right.
    pub(super) fn change_id<R>(&mut self, id: u32, f: impl FnOnce(&mut DataNode) -> R) -> R {
        let node = &mut self.nodes.slot_mut(id).node;
        let before = digest_of(node);
        let size_before = node.data_len() as i64;
        let r = f(node);
        let after = digest_of(node);
        let size_after = node.data_len() as i64;
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        self.data_size += size_after - size_before;
        r
    }

    pub(super) fn change<R>(&mut self, path: &str, f: impl FnOnce(&mut DataNode) -> R) -> Option<R> {
        let id = self.nodes.find(path)?;
        Some(self.change_id(id, f))
    }

    pub(super) fn id_of(&self, path: &str) -> Option<u32> {
        self.nodes.find(Self::key(path))
    }

    pub fn node(&self, path: &str) -> Option<&DataNode> {
        self.id_of(path).map(|id| &self.nodes.slot(id).node)
    }

    /// The names of a node's children (a node of this tree), in Java HashSet order.
    pub fn child_names<'a>(&'a self, node: &'a DataNode) -> impl Iterator<Item = &'a str> + 'a {
        self.nodes.children(&node.children).map(|id| self.nodes.name(id))
    }

    /// The ids of a node's children, in Java HashSet order.
    pub(super) fn child_ids<'a>(&'a self, id: u32) -> impl Iterator<Item = u32> + 'a {
        self.nodes.children(&self.nodes.slot(id).node.children)
    }

    /// Every path in the tree (unordered).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|(_, s)| s.node.path())
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Every node as it is now, and the root's id: a view that later changes leave alone (see
    /// `arena::slots`), for a snapshot walked on another thread.
    pub(crate) fn frozen_nodes(&self) -> (Slots, Option<u32>) {
        (self.nodes.frozen(), self.nodes.find("/"))
    }
}

/// A node's part of the tree digest.
fn digest_of(node: &DataNode) -> i64 {
    node_digest(node.path(), node.data(), &node.stat)
}
