//! Where the tree's nodes live: a slab of slots indexed by `u32` ids with a free list, each slot
//! holding the node's path (stored once; a child's name is the suffix of its path), the node, and
//! the link to its next sibling in its parent's child set (see `child_set`). A `HashTable<u32>`
//! keyed by the path's hash finds a node's id; the table holds ids only and compares paths
//! through the slab. Ids are reused after a delete; each slot's generation counts its frees, so an
//! `(id, generation)` pair held across changes (the fuzzy snapshot walk) never names a newer node.

mod child_set;

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

pub use child_set::ChildSet;

use crate::node::DataNode;

/// No slot (end of a sibling chain or of the free list).
pub(crate) const NIL: u32 = u32::MAX;

/// The fixed seed of the path hash (the pure core has no random state).
const PATH_HASH_SEED: u64 = 0x5a4b;

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Empty when the slot is free (every live path is at least "/").
    pub path: Box<str>,
    pub node: DataNode,
    /// The next sibling in the parent's bucket chain, or the next free slot.
    pub next: u32,
    /// Bumped each time the slot is freed.
    pub generation: u32,
}

/// A node as the snapshot walk remembers it between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeRef {
    pub id: u32,
    pub generation: u32,
}

#[derive(Clone)]
pub(crate) struct Arena {
    slots: Vec<Slot>,
    free: u32,
    index: HashTable<u32>,
    hasher: FixedState,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena").field("nodes", &self.len()).field("slots", &self.slots.len()).finish()
    }
}

impl Default for Arena {
    fn default() -> Arena {
        Arena {
            slots: Vec::new(),
            free: NIL,
            index: HashTable::new(),
            hasher: FixedState::with_seed(PATH_HASH_SEED),
        }
    }
}

impl Arena {
    /// The index hash of a path, for [`find_hashed`](Self::find_hashed) and
    /// [`insert_hashed`](Self::insert_hashed) (a create looks up and inserts the same path).
    pub fn hash(&self, path: &str) -> u64 {
        self.hasher.hash_one(path)
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn clear(&mut self) {
        *self = Arena::default();
    }

    /// The id of the node at `path`.
    pub fn find(&self, path: &str) -> Option<u32> {
        self.find_hashed(path, self.hash(path))
    }

    pub fn find_hashed(&self, path: &str, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(hash, |&id| &*slots[id as usize].path == path).copied()
    }

    /// A live or free slot; `id` must come from this arena.
    pub fn slot(&self, id: u32) -> &Slot {
        &self.slots[id as usize]
    }

    pub fn slot_mut(&mut self, id: u32) -> &mut Slot {
        &mut self.slots[id as usize]
    }

    /// Where slot `id` is in memory, if there is one (for prefetch hints only).
    pub fn slots_ptr(&self, id: u32) -> Option<*const Slot> {
        self.slots.get(id as usize).map(|s| s as *const Slot)
    }

    /// The node behind a reference, if it is still the same node.
    pub fn get_ref(&self, r: NodeRef) -> Option<&Slot> {
        self.slots.get(r.id as usize).filter(|s| s.generation == r.generation && !s.path.is_empty())
    }

    pub fn node_ref(&self, id: u32) -> NodeRef {
        NodeRef { id, generation: self.slot(id).generation }
    }

    /// Adds a node; a node already at `path` is replaced in place (same id, same place among its
    /// siblings) and returned. `hash` is the path's [`hash`](Self::hash).
    pub fn insert_hashed(&mut self, path: &str, hash: u64, node: DataNode) -> (u32, Option<DataNode>) {
        let Arena { slots, free, index, hasher } = self;
        let eq = |id: &u32| &*slots[*id as usize].path == path;
        match index.entry(hash, eq, |id| hasher.hash_one(&*slots[*id as usize].path)) {
            Entry::Occupied(e) => {
                let id = *e.get();
                (id, Some(std::mem::replace(&mut slots[id as usize].node, node)))
            }
            Entry::Vacant(v) => {
                let id = alloc(slots, free, path.into(), node);
                v.insert(id);
                (id, None)
            }
        }
    }

    /// Removes a node (already unlinked from its parent's child set) and frees its slot.
    pub fn remove(&mut self, id: u32) -> DataNode {
        let hash = self.hash(&self.slot(id).path);
        if let Ok(entry) = self.index.find_entry(hash, |&i| i == id) {
            entry.remove();
        }
        let free = std::mem::replace(&mut self.free, id);
        let slot = self.slot_mut(id);
        slot.path = Box::default();
        slot.next = free;
        slot.generation = slot.generation.wrapping_add(1);
        std::mem::take(&mut slot.node)
    }

    /// Every live node.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Slot)> {
        self.slots.iter().enumerate().filter(|(_, s)| !s.path.is_empty()).map(|(i, s)| (i as u32, s))
    }

    /// The name of a node: its path after the last '/' ("" for the root).
    pub fn name(&self, id: u32) -> &str {
        let p = &self.slot(id).path;
        p.rfind('/').map_or(&p[..], |i| &p[i + 1..])
    }
}

/// A slot for a new node: the most recently freed one, else a new one at the end.
fn alloc(slots: &mut Vec<Slot>, free: &mut u32, path: Box<str>, node: DataNode) -> u32 {
    if let Some(slot) = slots.get_mut(*free as usize) {
        let id = std::mem::replace(free, slot.next);
        slot.path = path;
        slot.node = node;
        slot.next = NIL;
        return id;
    }
    // Ids are u32: four billion znodes is far past any heap this server runs in.
    assert!(slots.len() < NIL as usize, "node arena full");
    slots.push(Slot { path, node, next: NIL, generation: 0 });
    (slots.len() - 1) as u32
}

#[cfg(test)]
impl Arena {
    pub fn insert(&mut self, path: &str, node: DataNode) -> (u32, Option<DataNode>) {
        self.insert_hashed(path, self.hash(path), node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-node footprint the layout was chosen for (path and data live on the heap).
    #[test]
    fn a_slot_stays_small() {
        assert_eq!(std::mem::size_of::<DataNode>(), 96);
        assert_eq!(std::mem::size_of::<Slot>(), 120);
    }

    #[test]
    fn ids_are_reused_with_a_new_generation() {
        let mut a = Arena::default();
        let (x, _) = a.insert("/x", DataNode::default());
        let (y, _) = a.insert("/y", DataNode::default());
        let rx = a.node_ref(x);
        a.remove(x);
        assert!(a.get_ref(rx).is_none() && a.find("/x").is_none());
        let (z, _) = a.insert("/z", DataNode::default());
        assert_eq!(z, x);
        assert!(a.get_ref(rx).is_none(), "a reused id is a different node");
        assert_eq!(a.find("/z"), Some(z));
        assert_eq!(a.find("/y"), Some(y));
        assert_eq!(a.len(), 2);
        assert_eq!(a.name(z), "z");
        let (again, old) = a.insert("/z", DataNode { acl: 5, ..Default::default() });
        assert_eq!((again, old.map(|n| n.acl)), (z, Some(0)));
        assert_eq!(a.iter().count(), 2);
    }
}
