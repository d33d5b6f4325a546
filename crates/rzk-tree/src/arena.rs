//! Where the tree's nodes live: a slab of slots indexed by `u32` ids with a free list, each slot
//! holding the node (its path is stored once, with its data; a child's name is the suffix of its
//! path) and the link to its next sibling in its parent's child set (see `child_set`). An index
//! keyed by the path's hash finds a node's id (see `path_index`: it holds ids only, compares
//! paths through the slab, and grows a step at a time). Ids are reused after a delete. The slots are stored in shared chunks (see
//! `slots`), so [`Arena::frozen`] gives a snapshot a consistent view of every node for the price of
//! a reference per chunk.

mod child_set;
mod path_index;
mod slots;

use std::hash::BuildHasher;

use foldhash::fast::FixedState;

pub use child_set::ChildSet;
pub(crate) use slots::Slots;

use crate::node::DataNode;
use path_index::PathIndex;

/// No slot (end of a sibling chain or of the free list).
pub(crate) const NIL: u32 = u32::MAX;

/// The fixed seed of the path hash (the pure core has no random state).
const PATH_HASH_SEED: u64 = 0x5a4b;

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Vacant when the slot is free (every live path is at least "/").
    pub node: DataNode,
    /// The next sibling in the parent's bucket chain, or the next free slot.
    pub next: u32,
}

#[derive(Clone)]
pub(crate) struct Arena {
    slots: Slots,
    free: u32,
    index: PathIndex,
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
            slots: Slots::default(),
            free: NIL,
            index: PathIndex::default(),
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
        self.index.find(hash, |id| slots.at(id).node.path() == path)
    }

    /// A live or free slot; `id` must come from this arena.
    pub fn slot(&self, id: u32) -> &Slot {
        self.slots.at(id)
    }

    pub fn slot_mut(&mut self, id: u32) -> &mut Slot {
        self.slots.at_mut(id)
    }

    /// The slots as they are now, unchanged by whatever this arena does next (see `slots`).
    pub fn frozen(&self) -> Slots {
        self.slots.clone()
    }

    /// Adds a node; a node already at its path is replaced in place (same id, same place among
    /// its siblings) and returned. `hash` is the path's [`hash`](Self::hash).
    pub fn insert_hashed(&mut self, hash: u64, node: DataNode) -> (u32, Option<DataNode>) {
        let Arena { slots, free, index, hasher } = self;
        let path = node.path();
        let eq = |id: u32| slots.at(id).node.path() == path;
        let hash_of = slot_hash(slots, hasher);
        // Ids are u32: four billion znodes is far past any heap this server runs in.
        let slot_count = u32::try_from(slots.len()).unwrap_or(NIL);
        match index.entry(hash, eq, hash_of, slot_count) {
            Err(id) => (id, Some(std::mem::replace(&mut slots.at_mut(id).node, node))),
            Ok(vacant) => {
                let id = alloc(slots, free, node);
                vacant.insert(id);
                (id, None)
            }
        }
    }

    /// Room in the path index for `additional` more nodes, made in one step (see
    /// `PathIndex::reserve`).
    pub fn reserve(&mut self, additional: usize) {
        let Arena { slots, index, hasher, .. } = self;
        index.reserve(additional, slot_hash(slots, hasher));
    }

    /// Removes a node (already unlinked from its parent's child set) and frees its slot.
    pub fn remove(&mut self, id: u32) -> DataNode {
        let hash = self.hash(self.slot(id).node.path());
        self.index.remove(hash, id);
        let free = std::mem::replace(&mut self.free, id);
        let slot = self.slot_mut(id);
        slot.next = free;
        std::mem::take(&mut slot.node)
    }

    /// Every live node.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Slot)> {
        self.slots.iter().filter(|(_, s)| !s.node.is_vacant())
    }

    /// The name of a node: its path after the last '/' ("" for the root).
    pub fn name(&self, id: u32) -> &str {
        self.slot(id).node.name()
    }
}

/// A slot's index hash (its node's path's), `None` for a free slot: what the index needs to move
/// an id from one table to another.
fn slot_hash<'a>(slots: &'a Slots, hasher: &'a FixedState) -> impl Fn(u32) -> Option<u64> + 'a {
    move |id| {
        let n = &slots.at(id).node;
        (!n.is_vacant()).then(|| hasher.hash_one(n.path()))
    }
}

/// A slot for a new node: the most recently freed one, else a new one at the end.
fn alloc(slots: &mut Slots, free: &mut u32, node: DataNode) -> u32 {
    if *free != NIL {
        let id = *free;
        let slot = slots.at_mut(id);
        *free = slot.next;
        slot.node = node;
        slot.next = NIL;
        return id;
    }
    // Ids are u32: four billion znodes is far past any heap this server runs in.
    assert!(slots.len() < NIL as usize, "node arena full");
    slots.push(Slot { node, next: NIL })
}

#[cfg(test)]
impl Arena {
    pub fn insert(&mut self, path: &str) -> (u32, Option<DataNode>) {
        self.insert_node(DataNode::new(path, None, 0, Default::default()))
    }

    pub fn insert_node(&mut self, node: DataNode) -> (u32, Option<DataNode>) {
        self.insert_hashed(self.hash(node.path()), node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-node footprint the layout was chosen for (path and data live on the heap).
    #[test]
    fn a_slot_stays_small() {
        assert_eq!(std::mem::size_of::<DataNode>(), 96);
        assert_eq!(std::mem::size_of::<Slot>(), 104);
    }

    #[test]
    fn ids_are_reused() {
        let mut a = Arena::default();
        let (x, _) = a.insert("/x");
        let (y, _) = a.insert("/y");
        let frozen = a.frozen();
        a.remove(x);
        assert!(a.find("/x").is_none());
        let (z, _) = a.insert("/z");
        assert_eq!(z, x);
        assert_eq!(frozen.at(x).node.path(), "/x", "a frozen view keeps the node that was there");
        assert_eq!(a.find("/z"), Some(z));
        assert_eq!(a.find("/y"), Some(y));
        assert_eq!(a.len(), 2);
        assert_eq!(a.name(z), "z");
        let (again, old) = a.insert_node(DataNode::new("/z", None, 5, Default::default()));
        assert_eq!((again, old.map(|n| n.acl)), (z, Some(0)));
        assert_eq!(a.iter().count(), 2);
    }
}
