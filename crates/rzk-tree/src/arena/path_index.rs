//! The arena's path → id index, grown a little at a time. A hash table that doubles in one step
//! rehashes every entry at once; with ids only in the table, each rehash reads the node's path
//! from the slab, so at a million znodes one doubling held the core for 100–400 ms (the maximum
//! latencies of a create run). Here a full table is set aside as `old` and a table twice its size
//! takes new entries, while each later insert moves a few entries across (found by walking the
//! slab's ids with a cursor); lookups and removals look in both until `old` is empty. If the new
//! table fills before that (possible only when the cursor crosses long runs of free slots), the
//! rest is moved at once, as a plain table would.

use hashbrown::HashTable;
use hashbrown::hash_table::{Entry, VacantEntry};

/// Entries moved from the old table per insert while a resize is under way. The new table has
/// room for at least as many inserts as the old one held entries, so 4 per insert finishes the
/// move when the new table is a quarter full at most.
const MOVED_PER_INSERT: usize = 4;
/// Slab ids the cursor may visit per insert looking for those entries (free slots are skipped).
const VISITED_PER_INSERT: u32 = 64;
/// The first table's capacity.
const FIRST_CAPACITY: usize = 16;

#[derive(Clone, Default)]
pub(crate) struct PathIndex {
    /// Where inserts go.
    table: HashTable<u32>,
    /// Being moved into `table`; empty when no resize is under way.
    old: HashTable<u32>,
    /// The next slab id whose entry may still be in `old`.
    cursor: u32,
}

impl PathIndex {
    pub fn len(&self) -> usize {
        self.table.len() + self.old.len()
    }

    /// The id whose node matches (`eq`) at `hash`.
    pub fn find(&self, hash: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
        if let Some(&id) = self.table.find(hash, |&id| eq(id)) {
            return Some(id);
        }
        if self.old.is_empty() {
            return None;
        }
        self.old.find(hash, |&id| eq(id)).copied()
    }

    /// The id at `hash` that `eq` matches (`Err`), or the place for a new id (`Ok`; the table has
    /// room for it, so inserting it never rehashes). `hash_of` gives an id's hash (its node's
    /// path; `None` for a free slot) and `slots` the slab's length, for the entries a resize moves.
    pub fn entry(
        &mut self,
        hash: u64,
        eq: impl Fn(u32) -> bool,
        hash_of: impl Fn(u32) -> Option<u64>,
        slots: u32,
    ) -> Result<VacantEntry<'_, u32>, u32> {
        self.move_some(&hash_of, slots);
        if self.table.len() == self.table.capacity() {
            self.grow(&hash_of);
        }
        // After the growth: it may just have set the entry's table aside.
        if !self.old.is_empty()
            && let Some(&id) = self.old.find(hash, |&id| eq(id))
        {
            return Err(id);
        }
        match self.table.entry(hash, |&id| eq(id), |&id| hash_of(id).unwrap_or(0)) {
            Entry::Occupied(e) => Err(*e.get()),
            Entry::Vacant(v) => Ok(v),
        }
    }

    /// Makes room for `additional` more entries in one step (finishing a move under way first).
    /// The step rehashes every entry at once, reading each node's path: what the gradual growth
    /// spares a serving core, but cheaper than the repeated moves when a start-up knows how many
    /// nodes are coming.
    pub fn reserve(&mut self, additional: usize, hash_of: impl Fn(u32) -> Option<u64>) {
        if !self.old.is_empty() {
            self.move_all(&hash_of);
        }
        // The room asked for is an estimate: when it cannot be had, the table keeps growing a
        // step at a time instead.
        let _ = self.table.try_reserve(additional, |&id| hash_of(id).unwrap_or(0));
    }

    /// Removes the entry of `id` (whose node's path hashes to `hash`).
    pub fn remove(&mut self, hash: u64, id: u32) {
        if let Ok(e) = self.table.find_entry(hash, |&i| i == id) {
            e.remove();
        } else if let Ok(e) = self.old.find_entry(hash, |&i| i == id) {
            e.remove();
        }
    }

    /// Sets the full table aside and starts a twice as large one (finishing a previous move
    /// first, at once, if one is still under way).
    fn grow(&mut self, hash_of: &impl Fn(u32) -> Option<u64>) {
        if !self.old.is_empty() {
            self.move_all(hash_of);
        }
        let capacity = (self.table.capacity() * 2).max(FIRST_CAPACITY);
        self.old = std::mem::replace(&mut self.table, HashTable::with_capacity(capacity));
        self.cursor = 0;
    }

    /// Moves up to [`MOVED_PER_INSERT`] entries, visiting up to [`VISITED_PER_INSERT`] ids, and
    /// leaving room in the table for one insert.
    fn move_some(&mut self, hash_of: &impl Fn(u32) -> Option<u64>, slots: u32) {
        if self.old.is_empty() {
            return;
        }
        let mut moved = 0;
        let end = self.cursor.saturating_add(VISITED_PER_INSERT).min(slots);
        while moved < MOVED_PER_INSERT
            && self.cursor < end
            && !self.old.is_empty()
            && self.table.len() + 1 < self.table.capacity()
        {
            let id = self.cursor;
            self.cursor += 1;
            if self.move_one(hash_of, id) {
                moved += 1;
            }
        }
        if self.old.is_empty() {
            // Give the set-aside table's memory back.
            self.old = HashTable::new();
        }
    }

    /// Moves `id`'s entry if it is still in the old table.
    fn move_one(&mut self, hash_of: &impl Fn(u32) -> Option<u64>, id: u32) -> bool {
        let Some(hash) = hash_of(id) else { return false };
        let Ok(e) = self.old.find_entry(hash, |&i| i == id) else { return false };
        e.remove();
        self.table.insert_unique(hash, id, |&i| hash_of(i).unwrap_or(0));
        true
    }

    fn move_all(&mut self, hash_of: &impl Fn(u32) -> Option<u64>) {
        let old = std::mem::take(&mut self.old);
        self.table.reserve(old.len(), |&i| hash_of(i).unwrap_or(0));
        for id in old {
            if let Some(hash) = hash_of(id) {
                self.table.insert_unique(hash, id, |&i| hash_of(i).unwrap_or(0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use foldhash::fast::FixedState;

    use super::*;

    /// A slab of paths (`None`: a free slot) and an index over it.
    struct Model {
        paths: Vec<Option<String>>,
        index: PathIndex,
        hasher: FixedState,
    }

    impl Model {
        fn new() -> Model {
            Model { paths: Vec::new(), index: PathIndex::default(), hasher: FixedState::with_seed(7) }
        }

        fn hash(&self, p: &str) -> u64 {
            self.hasher.hash_one(p)
        }

        fn find(&self, p: &str) -> Option<u32> {
            self.index.find(self.hash(p), |id| self.paths[id as usize].as_deref() == Some(p))
        }

        fn insert(&mut self, p: &str) -> Result<u32, u32> {
            let hash = self.hash(p);
            let Model { paths, index, hasher } = self;
            let slots = paths.len() as u32;
            let hash_of = |id: u32| paths[id as usize].as_deref().map(|p| hasher.hash_one(p));
            let vacant = index.entry(hash, |id| paths[id as usize].as_deref() == Some(p), hash_of, slots)?;
            let id = match paths.iter().position(Option::is_none) {
                Some(free) => {
                    paths[free] = Some(p.to_owned());
                    free
                }
                None => {
                    paths.push(Some(p.to_owned()));
                    paths.len() - 1
                }
            } as u32;
            vacant.insert(id);
            Ok(id)
        }

        fn remove(&mut self, p: &str) {
            let id = self.find(p).expect("present");
            self.index.remove(self.hash(p), id);
            self.paths[id as usize] = None;
        }
    }

    #[test]
    fn every_path_stays_findable_while_the_table_grows_a_step_at_a_time() {
        let mut m = Model::new();
        for i in 0..5_000 {
            let p = format!("/n{i}");
            assert!(m.insert(&p).is_ok());
            assert_eq!(m.insert(&p), Err(m.find(&p).expect("just inserted")), "a second insert finds it");
            if i % 7 == 3 {
                // Deletes in the middle of a move, and ids reused by later inserts.
                m.remove(&format!("/n{}", i / 2));
            }
            if i % 500 == 0 {
                for (id, path) in m.paths.iter().enumerate() {
                    if let Some(path) = path {
                        assert_eq!(m.find(path), Some(id as u32), "{path}");
                    }
                }
            }
        }
        let live = m.paths.iter().flatten().count();
        assert_eq!(m.index.len(), live);
        assert_eq!(m.find("/n1"), None, "removed");
    }

    fn reserve(m: &mut Model, additional: usize) {
        let Model { paths, index, hasher } = m;
        index.reserve(additional, |id| paths[id as usize].as_deref().map(|p| hasher.hash_one(p)));
    }

    #[test]
    fn a_reserve_finishes_a_move_and_leaves_room_for_what_was_asked() {
        let mut m = Model::new();
        let mut i = 0;
        while m.index.old.is_empty() || m.index.old.len() < 8 {
            m.insert(&format!("/a{i}")).expect("new");
            i += 1;
        }
        reserve(&mut m, 10_000);
        assert!(m.index.old.is_empty(), "the move under way is finished");
        for j in 0..10_000 {
            m.insert(&format!("/b{j}")).expect("new");
            assert!(m.index.old.is_empty(), "insert {j} set a table aside after the reserve");
        }
        for (id, path) in m.paths.iter().enumerate() {
            let path = path.as_deref().expect("no removes");
            assert_eq!(m.find(path), Some(id as u32), "{path}");
        }
        assert_eq!(m.index.len(), i + 10_000);
    }

    #[test]
    fn a_resize_moves_the_old_table_over_the_next_inserts() {
        let mut m = Model::new();
        for i in 0..FIRST_CAPACITY * 8 {
            m.insert(&format!("/a{i}")).expect("new");
        }
        // Grown step by step: no insert moves more than its share, and the move finishes.
        let before = m.index.table.capacity();
        let mut i = 0;
        while m.index.table.capacity() == before {
            m.insert(&format!("/b{i}")).expect("new");
            i += 1;
        }
        assert!(!m.index.old.is_empty(), "the full table was set aside, not rehashed at once");
        let waiting = m.index.old.len();
        for j in 0..waiting.div_ceil(MOVED_PER_INSERT) + 1 {
            let left = m.index.old.len();
            m.insert(&format!("/c{j}")).expect("new");
            assert!(
                left - m.index.old.len() <= MOVED_PER_INSERT,
                "one insert moved {}",
                left - m.index.old.len()
            );
        }
        assert!(m.index.old.is_empty(), "{} entries left", m.index.old.len());
    }
}
