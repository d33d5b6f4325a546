//! The arena's slot storage: fixed-size chunks of slots, each behind an `Arc`. Cloning the
//! storage costs one reference count per chunk (about 16,000 for a million nodes), and the copy
//! stays as it was while the original changes: a chunk still shared with a copy is copied the
//! first time one of its slots is changed (copy on write). This is how a snapshot gets a frozen,
//! consistent view of every node that another thread can walk while the core keeps writing; the
//! core pays one chunk copy for each chunk it changes during the walk.

use std::sync::Arc;

use super::{NIL, Slot};
use crate::node::DataNode;

/// Slots per chunk (a power of two): small enough that a copy on write is cheap (a few
/// microseconds), large enough that a frozen view holds few references.
const CHUNK_SLOTS: usize = 1 << CHUNK_SLOTS_LOG2;
const CHUNK_SLOTS_LOG2: u32 = 6;

type Chunk = [Slot; CHUNK_SLOTS];

/// The slots, indexed by id; ids below [`len`](Self::len) exist (live or free).
#[derive(Clone, Default)]
pub(crate) struct Slots {
    chunks: Vec<Arc<Chunk>>,
    len: usize,
}

impl Slots {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Slot `id`, if it exists.
    #[inline]
    pub fn get(&self, id: u32) -> Option<&Slot> {
        let i = id as usize;
        (i < self.len).then(|| &self.chunks[i >> CHUNK_SLOTS_LOG2][i & (CHUNK_SLOTS - 1)])
    }

    /// Slot `id`; `id` must exist (ids come from this arena).
    #[inline]
    pub fn at(&self, id: u32) -> &Slot {
        let i = id as usize;
        &self.chunks[i >> CHUNK_SLOTS_LOG2][i & (CHUNK_SLOTS - 1)]
    }

    /// Slot `id` to change; its chunk is copied first if a frozen view still holds it.
    #[inline]
    pub fn at_mut(&mut self, id: u32) -> &mut Slot {
        let i = id as usize;
        &mut Arc::make_mut(&mut self.chunks[i >> CHUNK_SLOTS_LOG2])[i & (CHUNK_SLOTS - 1)]
    }

    /// Adds a slot at the end; its id.
    pub fn push(&mut self, slot: Slot) -> u32 {
        let i = self.len;
        if i >> CHUNK_SLOTS_LOG2 == self.chunks.len() {
            self.chunks.push(Arc::new(std::array::from_fn(|_| vacant())));
        }
        self.len += 1;
        let id = i as u32;
        *self.at_mut(id) = slot;
        id
    }

    /// Every slot, live or free, with its id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Slot)> {
        self.chunks.iter().flat_map(|c| c.iter()).take(self.len).enumerate().map(|(i, s)| (i as u32, s))
    }
}

/// A slot past the end (never read as a node: its path is empty).
fn vacant() -> Slot {
    Slot { node: DataNode::default(), next: NIL }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(path: &str) -> Slot {
        Slot { node: DataNode::new(path, None, 0, Default::default()), next: NIL }
    }

    #[test]
    fn a_copy_keeps_what_it_saw_while_the_original_changes() {
        let mut s = Slots::default();
        for i in 0..(CHUNK_SLOTS * 3 + 5) {
            assert_eq!(s.push(slot(&format!("/n{i}"))), i as u32);
        }
        let frozen = s.clone();
        s.at_mut(3).node = DataNode::new("/changed", None, 0, Default::default());
        s.at_mut(CHUNK_SLOTS as u32 * 3 + 4).node.acl = 9;
        let pushed = s.push(slot("/new"));
        assert_eq!(frozen.at(3).node.path(), "/n3");
        assert_eq!(frozen.at(CHUNK_SLOTS as u32 * 3 + 4).node.acl, 0);
        assert!(frozen.get(pushed).is_none(), "a slot added later is not in the copy");
        assert_eq!(s.at(3).node.path(), "/changed");
        assert_eq!(s.at(CHUNK_SLOTS as u32 * 3 + 4).node.acl, 9);
        // Unchanged chunks are still shared; changed ones were copied.
        assert!(Arc::ptr_eq(&s.chunks[1], &frozen.chunks[1]));
        assert!(!Arc::ptr_eq(&s.chunks[0], &frozen.chunks[0]));
        assert_eq!(frozen.iter().count(), CHUNK_SLOTS * 3 + 5);
        assert_eq!(s.iter().last().map(|(id, x)| (id, x.node.path())), Some((pushed, "/new")));
    }

    #[test]
    fn a_change_without_a_copy_does_not_copy_the_chunk() {
        let mut s = Slots::default();
        s.push(slot("/a"));
        let before = Arc::as_ptr(&s.chunks[0]);
        s.at_mut(0).node.acl = 1;
        assert_eq!(Arc::as_ptr(&s.chunks[0]), before);
    }
}
