//! A node's children as a compact set of ids that iterates in exactly the order of the
//! `java.util.HashSet<String>` ZooKeeper keeps (the model is in `crate::children`): a table of
//! bucket heads (`u32` ids) and, per child, one `next` link stored in the child's own slot — a
//! node is in one parent's set only, so the chains thread through the arena as Java's `HashMap`
//! nodes thread through the heap. Names are not stored again: a child's name is the suffix of its
//! path, and its Java hash is recomputed from it when needed (lookups, deletes, resizes).

use super::{Arena, NIL, Slots};
use crate::children::{INITIAL_BUCKETS, MIN_TREEIFY_CAPACITY, TREEIFY_THRESHOLD, spread};

/// The set; a node that never had a child costs one null pointer.
#[derive(Debug, Clone, Default)]
pub struct ChildSet {
    table: Option<Box<Table>>,
}

#[derive(Debug, Clone)]
struct Table {
    /// First id of each bucket's chain (a power of two of them; Java never shrinks the table).
    heads: Box<[u32]>,
    len: u32,
}

impl ChildSet {
    pub fn len(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.len as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bucket heads, in iteration order.
    fn heads(&self) -> &[u32] {
        self.table.as_ref().map_or(&[], |t| &t.heads)
    }
}

/// Children of one node in Java's iteration order.
pub struct ChildIds<'a> {
    slots: &'a Slots,
    heads: &'a [u32],
    bucket: usize,
    cur: u32,
}

impl Iterator for ChildIds<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        while self.cur == NIL {
            self.cur = *self.heads.get(self.bucket)?;
            self.bucket += 1;
        }
        let id = self.cur;
        self.cur = self.slots.at(id).next;
        Some(id)
    }
}

impl Slots {
    /// The children of a set (taken from a node of these slots), in Java's order.
    pub fn children<'a>(&'a self, set: &'a ChildSet) -> ChildIds<'a> {
        ChildIds { slots: self, heads: set.heads(), bucket: 0, cur: NIL }
    }
}

impl Arena {
    fn child_hash(&self, id: u32) -> u32 {
        spread(self.name(id))
    }

    /// The children of a set (taken from a node of this arena), in Java's order.
    pub fn children<'a>(&'a self, set: &'a ChildSet) -> ChildIds<'a> {
        self.slots.children(set)
    }

    /// Adds `child` to `parent`'s set, at the end of its bucket (`HashMap.putVal`); false if it
    /// is there already.
    pub fn link_child(&mut self, parent: u32, child: u32) -> bool {
        let mut table = match self.slot_mut(parent).node.children.table.take() {
            Some(t) => t,
            None => Box::new(Table { heads: vec![NIL; INITIAL_BUCKETS].into_boxed_slice(), len: 0 }),
        };
        let b = self.child_hash(child) as usize & (table.heads.len() - 1);
        let (mut chain, mut tail, mut cur) = (0usize, NIL, table.heads[b]);
        while cur != NIL && cur != child {
            chain += 1;
            tail = cur;
            cur = self.slot(cur).next;
        }
        let added = cur == NIL;
        if added {
            self.slot_mut(child).next = NIL;
            match tail {
                NIL => table.heads[b] = child,
                t => self.slot_mut(t).next = child,
            }
            table.len += 1;
            if chain >= TREEIFY_THRESHOLD && table.heads.len() < MIN_TREEIFY_CAPACITY {
                self.resize(&mut table);
            }
            if table.len as usize > table.heads.len() * 3 / 4 {
                self.resize(&mut table);
            }
        }
        self.slot_mut(parent).node.children.table = Some(table);
        added
    }

    /// Removes `child` from `parent`'s set; false if it was not there.
    pub fn unlink_child(&mut self, parent: u32, child: u32) -> bool {
        let Some(mut table) = self.slot_mut(parent).node.children.table.take() else { return false };
        let b = self.child_hash(child) as usize & (table.heads.len() - 1);
        let (mut prev, mut cur) = (NIL, table.heads[b]);
        while cur != NIL && cur != child {
            prev = cur;
            cur = self.slot(cur).next;
        }
        let found = cur != NIL;
        if found {
            let next = self.slot(child).next;
            match prev {
                NIL => table.heads[b] = next,
                p => self.slot_mut(p).next = next,
            }
            self.slot_mut(child).next = NIL;
            table.len -= 1;
        }
        self.slot_mut(parent).node.children.table = Some(table);
        found
    }

    /// Whether `child` is in `parent`'s set.
    pub fn has_child(&self, parent: u32, child: u32) -> bool {
        let heads = self.slot(parent).node.children.heads();
        if heads.is_empty() {
            return false;
        }
        let mut cur = heads[self.child_hash(child) as usize & (heads.len() - 1)];
        while cur != NIL && cur != child {
            cur = self.slot(cur).next;
        }
        cur != NIL
    }

    /// Doubles the table, splitting each bucket into a low and a high one that keep their
    /// relative order (`HashMap.resize`).
    fn resize(&mut self, table: &mut Table) {
        let n = table.heads.len();
        let mut heads = vec![NIL; n * 2].into_boxed_slice();
        for j in 0..n {
            let (mut lo, mut hi) = ((NIL, NIL), (NIL, NIL));
            let mut cur = table.heads[j];
            while cur != NIL {
                let next = self.slot(cur).next;
                let half = if self.child_hash(cur) as usize & n == 0 { &mut lo } else { &mut hi };
                match half.1 {
                    NIL => half.0 = cur,
                    t => self.slot_mut(t).next = cur,
                }
                half.1 = cur;
                cur = next;
            }
            for tail in [lo.1, hi.1] {
                if tail != NIL {
                    self.slot_mut(tail).next = NIL;
                }
            }
            heads[j] = lo.0;
            heads[j + n] = hi.0;
        }
        table.heads = heads;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::children::Children;

    /// The same adds and removes on a `Children` (the name-based model, checked against Java)
    /// and on a child set give the same order, through resizes and removals.
    #[test]
    fn order_matches_the_name_based_model() {
        let mut a = Arena::default();
        let (root, _) = a.insert("/");
        let mut model = Children::default();
        let mut ids = Vec::new();
        for i in 0..300 {
            let name = format!("n-{:010}", i * 7 % 1000);
            let (id, _) = a.insert(&format!("/{name}"));
            assert!(a.link_child(root, id));
            assert!(!a.link_child(root, id));
            model.insert(&name);
            ids.push(id);
        }
        for (i, id) in ids.iter().enumerate() {
            if i % 3 == 0 {
                model.remove(a.name(*id));
                assert!(a.unlink_child(root, *id));
                assert!(!a.has_child(root, *id));
                a.remove(*id);
            }
        }
        for name in ["zookeeper", "a", "b"] {
            let (id, _) = a.insert(&format!("/{name}"));
            a.link_child(root, id);
            model.insert(name);
        }
        let set = &a.slot(root).node.children;
        let got: Vec<&str> = a.children(set).map(|id| a.name(id)).collect();
        assert_eq!(got, model.iter().collect::<Vec<_>>());
        assert_eq!(set.len(), model.len());
    }
}
