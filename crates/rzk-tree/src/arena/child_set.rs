//! A node's children as a compact set of ids that iterates in exactly the order of the
//! `java.util.HashSet<String>` ZooKeeper keeps (the model is in `crate::children`): a table of
//! bucket heads (`u32` ids) and, per child, one `next` link stored in the child's own slot — a
//! node is in one parent's set only, so the chains thread through the arena as Java's `HashMap`
//! nodes thread through the heap. Names are not stored again: a child's name is the suffix of its
//! path, and its Java hash is recomputed from it when needed (lookups, deletes, resizes).
//!
//! Java doubles a full table in one step; with a million children that walk (every child's
//! hash, every chain relinked) held the core for over 100 ms. A large table here doubles a few
//! buckets at a time instead: the heads array doubles at once, then each later add or remove
//! splits the next [`SPLIT_PER_CHANGE`] old buckets into their low and high halves. A bucket not
//! split yet still holds both halves' children in one chain, in their order; lookups find them
//! there, and iteration reads that chain twice, keeping each time the half that belongs to the
//! bucket it stands for, so the order is always that of Java's fully resized table.

use super::{Arena, NIL, Slots};
use crate::children::{INITIAL_BUCKETS, MIN_TREEIFY_CAPACITY, TREEIFY_THRESHOLD, spread};

/// Tables with fewer buckets than this double in one step (as Java's).
const SPLIT_STEPWISE_MIN_BUCKETS: usize = 1024;
/// Old buckets split per add or remove while a table doubles. The next doubling comes after at
/// least a quarter of the new table's buckets' worth of adds, so 4 per change finish first.
const SPLIT_PER_CHANGE: usize = 4;

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
    /// While the table doubles: the old bucket count (0 otherwise).
    old_buckets: u32,
    /// While the table doubles: the old buckets split so far. Old bucket `j >= split` still
    /// chains the children of new buckets `j` and `j + old_buckets` together, at `heads[j]`.
    split: u32,
}

impl Table {
    fn new(buckets: usize) -> Box<Table> {
        Box::new(Table { heads: vec![NIL; buckets].into_boxed_slice(), len: 0, old_buckets: 0, split: 0 })
    }

    /// Where the chain holding children of hash `h` starts.
    fn bucket_of(&self, h: u32) -> usize {
        let n = self.old_buckets as usize;
        if n != 0 && (h as usize & (n - 1)) >= self.split as usize {
            h as usize & (n - 1)
        } else {
            h as usize & (self.heads.len() - 1)
        }
    }
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
    /// The table's `old_buckets` and `split`.
    old_buckets: usize,
    split: usize,
    bucket: usize,
    cur: u32,
    /// Reading an unsplit old chain: the children whose hash has this `old_buckets` bit.
    half: Option<usize>,
}

impl Iterator for ChildIds<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            while self.cur != NIL {
                let id = self.cur;
                self.cur = self.slots.at(id).next;
                match self.half {
                    Some(bit) if spread(self.slots.at(id).node.name()) as usize & self.old_buckets != bit => {
                    }
                    _ => return Some(id),
                }
            }
            let b = self.bucket;
            if b >= self.heads.len() {
                return None;
            }
            self.bucket += 1;
            let n = self.old_buckets;
            (self.cur, self.half) = if n != 0 && b % n >= self.split {
                // New bucket b lives in old bucket b % n's chain, with its other half.
                (self.heads[b % n], Some(b & n))
            } else {
                (self.heads[b], None)
            };
        }
    }
}

impl Slots {
    /// The children of a set (taken from a node of these slots), in Java's order.
    pub fn children<'a>(&'a self, set: &'a ChildSet) -> ChildIds<'a> {
        let (old_buckets, split) =
            set.table.as_ref().map_or((0, 0), |t| (t.old_buckets as usize, t.split as usize));
        ChildIds { slots: self, heads: set.heads(), old_buckets, split, bucket: 0, cur: NIL, half: None }
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
            None => Table::new(INITIAL_BUCKETS),
        };
        self.split_some(&mut table);
        let b = table.bucket_of(self.child_hash(child));
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
        self.split_some(&mut table);
        let b = table.bucket_of(self.child_hash(child));
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
        let Some(table) = &self.slot(parent).node.children.table else { return false };
        let mut cur = table.heads[table.bucket_of(self.child_hash(child))];
        while cur != NIL && cur != child {
            cur = self.slot(cur).next;
        }
        cur != NIL
    }

    /// Doubles the table (`HashMap.resize`): each bucket splits into a low and a high one that
    /// keep their relative order. Large tables split their buckets over the following changes
    /// (see the module docs); a doubling still under way is finished first.
    fn resize(&mut self, table: &mut Table) {
        self.split_all(table);
        let n = table.heads.len();
        let mut heads = vec![NIL; n * 2].into_boxed_slice();
        heads[..n].copy_from_slice(&table.heads);
        table.heads = heads;
        (table.old_buckets, table.split) = (n as u32, 0);
        if n < SPLIT_STEPWISE_MIN_BUCKETS {
            self.split_all(table);
        }
    }

    fn split_some(&mut self, table: &mut Table) {
        for _ in 0..SPLIT_PER_CHANGE {
            if table.old_buckets == 0 {
                return;
            }
            self.split_next(table);
        }
    }

    fn split_all(&mut self, table: &mut Table) {
        while table.old_buckets != 0 {
            self.split_next(table);
        }
    }

    /// Splits the next old bucket into its low and high halves.
    fn split_next(&mut self, table: &mut Table) {
        let (n, j) = (table.old_buckets as usize, table.split as usize);
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
        table.heads[j] = lo.0;
        table.heads[j + n] = hi.0;
        table.split += 1;
        if table.split as usize == n {
            (table.old_buckets, table.split) = (0, 0);
        }
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

    /// Past [`SPLIT_STEPWISE_MIN_BUCKETS`] the table doubles over many changes: at every point
    /// of a doubling, lookups and the order agree with the model (Java's one-step resize).
    #[test]
    fn a_stepwise_doubling_keeps_the_order_at_every_point() {
        let mut a = Arena::default();
        let (root, _) = a.insert("/");
        let mut model = Children::default();
        let mut ids = Vec::new();
        let mut seen_mid_split = false;
        for i in 0..6_000u32 {
            let name = format!("c{}", i.wrapping_mul(2_654_435_761) % 100_000);
            let (id, _) = a.insert(&format!("/{name}"));
            if !a.link_child(root, id) {
                continue;
            }
            model.insert(&name);
            ids.push(id);
            if i % 5 == 4 {
                // Removals in the middle of a doubling split buckets too.
                let gone = ids.swap_remove((i as usize * 31) % ids.len());
                model.remove(a.name(gone));
                assert!(a.unlink_child(root, gone));
                assert!(!a.has_child(root, gone));
                a.remove(gone);
            }
            let table = a.slot(root).node.children.table.as_ref().expect("table");
            seen_mid_split |= table.old_buckets as usize >= SPLIT_STEPWISE_MIN_BUCKETS;
            if i % 41 == 0 || table.old_buckets != 0 && i % 7 == 0 {
                let set = &a.slot(root).node.children;
                let got: Vec<&str> = a.children(set).map(|id| a.name(id)).collect();
                assert_eq!(got, model.iter().collect::<Vec<_>>(), "after {i} adds");
                assert!(ids.iter().all(|&id| a.has_child(root, id)));
            }
        }
        assert!(seen_mid_split, "the run never caught a table mid-doubling");
        let set = &a.slot(root).node.children;
        assert_eq!(set.len(), model.len());
    }
}
