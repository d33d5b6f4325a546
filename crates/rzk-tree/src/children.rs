//! A node's children, kept the way `java.util.HashSet<String>` keeps them, so that getChildren
//! lists names in the same order as ZooKeeper (clients such as kazoo and Curator pass the server's
//! order through unsorted). The model: a table of buckets sized like Java's `HashMap` (8 buckets
//! for `new HashSet<>(8)`, doubling past a 0.75 load, or when one bucket would hold a ninth entry
//! in a table smaller than 64), each bucket in insertion order; resizing keeps relative order, as
//! Java's split does. Iteration is bucket by bucket. Java's tree bins (nine or more colliding names
//! in a table of 64+) reorder their bucket; that case is not modelled.

/// `String.hashCode` over UTF-16 units (an ASCII name's bytes are its units).
fn java_string_hash(s: &str) -> i32 {
    let step = |h: i32, u: i32| h.wrapping_mul(31).wrapping_add(u);
    if s.is_ascii() {
        return s.bytes().fold(0i32, |h, b| step(h, b as i32));
    }
    s.encode_utf16().fold(0i32, |h, u| step(h, u as i32))
}

/// `HashMap.hash`: the high half folded into the low half.
pub(crate) fn spread(s: &str) -> u32 {
    let h = java_string_hash(s) as u32;
    h ^ (h >> 16)
}

/// Buckets of `new HashSet<>(8)`, as `DataNode` creates its children set.
pub(crate) const INITIAL_BUCKETS: usize = 8;
/// A ninth entry in one bucket resizes a table smaller than [`MIN_TREEIFY_CAPACITY`].
pub(crate) const TREEIFY_THRESHOLD: usize = 8;
pub(crate) const MIN_TREEIFY_CAPACITY: usize = 64;

/// The set; a leaf (no children ever) costs one null pointer.
#[derive(Debug, Clone, Default)]
pub struct Children {
    inner: Option<Box<Table>>,
}

#[derive(Debug, Clone)]
struct Table {
    buckets: Vec<Vec<(u32, Box<str>)>>,
    len: usize,
    /// Buckets of the first table: 8 for Java's `new HashSet<>(8)`, 16 for `new HashSet<>()`.
    initial: usize,
}

impl Children {
    /// A set that starts like Java's `new HashSet<>()` (16 buckets) rather than `(8)`.
    pub fn default_capacity() -> Children {
        Children { inner: Some(Box::new(Table { buckets: Vec::new(), len: 0, initial: 16 })) }
    }

    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |t| t.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, name: &str) -> bool {
        let Some(t) = &self.inner else { return false };
        if t.buckets.is_empty() {
            return false;
        }
        let h = spread(name);
        t.buckets[h as usize & (t.buckets.len() - 1)].iter().any(|(eh, n)| *eh == h && &**n == name)
    }

    /// Adds a name; false if it was there already.
    pub fn insert(&mut self, name: &str) -> bool {
        let t = self
            .inner
            .get_or_insert_with(|| Box::new(Table { buckets: Vec::new(), len: 0, initial: INITIAL_BUCKETS }));
        if t.buckets.is_empty() {
            t.buckets = vec![Vec::new(); t.initial];
        }
        let h = spread(name);
        let b = h as usize & (t.buckets.len() - 1);
        if t.buckets[b].iter().any(|(eh, n)| *eh == h && &**n == name) {
            return false;
        }
        let chain_before = t.buckets[b].len();
        t.buckets[b].push((h, name.into()));
        t.len += 1;
        if chain_before >= TREEIFY_THRESHOLD && t.buckets.len() < MIN_TREEIFY_CAPACITY {
            t.resize();
        }
        if t.len > t.buckets.len() * 3 / 4 {
            t.resize();
        }
        true
    }

    /// Removes a name; false if it was not there. Java never shrinks the table.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(t) = &mut self.inner else { return false };
        if t.buckets.is_empty() {
            return false;
        }
        let h = spread(name);
        let b = h as usize & (t.buckets.len() - 1);
        let Some(i) = t.buckets[b].iter().position(|(eh, n)| *eh == h && &**n == name) else { return false };
        t.buckets[b].remove(i);
        t.len -= 1;
        true
    }

    /// Names in Java's iteration order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.inner.iter().flat_map(|t| t.buckets.iter().flat_map(|b| b.iter().map(|(_, n)| &**n)))
    }

    /// The iteration order of a `clone()` of this set: Java rebuilds the table at the size
    /// `putMapEntries` picks for the element count and re-adds the names in iteration order.
    pub fn clone_order(&self) -> Vec<&str> {
        let Some(t) = &self.inner else { return Vec::new() };
        let n = (t.len as f32 / 0.75 + 1.0) as usize;
        let cap = n.max(1).next_power_of_two();
        let mut v: Vec<(usize, usize, &str)> = t
            .buckets
            .iter()
            .flat_map(|b| b.iter())
            .enumerate()
            .map(|(i, (h, n))| (*h as usize & (cap - 1), i, &**n))
            .collect();
        v.sort_by_key(|(b, i, _)| (*b, *i));
        v.into_iter().map(|(_, _, n)| n).collect()
    }
}

impl Table {
    fn resize(&mut self) {
        let new_len = self.buckets.len() * 2;
        let mut buckets = vec![Vec::new(); new_len];
        for bucket in std::mem::take(&mut self.buckets) {
            for (h, n) in bucket {
                buckets[h as usize & (new_len - 1)].push((h, n));
            }
        }
        self.buckets = buckets;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(c: &Children) -> String {
        c.iter().collect::<Vec<_>>().join(",")
    }

    /// Orders printed by Java 17 for `new HashSet<String>(8)` after the same adds and removes.
    #[test]
    fn iteration_matches_java_hashset() {
        let mut c = Children::default();
        for n in ["zookeeper", "a", "b", "c", "node-0000000001", "x"] {
            c.insert(n);
        }
        assert_eq!(order(&c), "x,a,b,c,zookeeper,node-0000000001");
        c.insert("y");
        c.insert("z");
        c.remove("a");
        assert_eq!(order(&c), "b,c,zookeeper,node-0000000001,x,y,z");

        let mut t = Children::default();
        for i in 0..100 {
            t.insert(&format!("n-{i:010}"));
        }
        for i in (0..100).step_by(3) {
            t.remove(&format!("n-{i:010}"));
        }
        let java = "n-0000000035,n-0000000034,n-0000000037,n-0000000038,n-0000000040,n-0000000041,n-0000000044,\
            n-0000000043,n-0000000023,n-0000000026,n-0000000025,n-0000000028,n-0000000029,n-0000000031,n-0000000032,\
            n-0000000056,n-0000000059,n-0000000058,n-0000000062,n-0000000061,n-0000000064,n-0000000065,n-0000000046,\
            n-0000000047,n-0000000049,n-0000000050,n-0000000053,n-0000000052,n-0000000055,n-0000000079,n-0000000082,\
            n-0000000083,n-0000000086,n-0000000085,n-0000000088,n-0000000080,n-0000000068,n-0000000067,n-0000000071,\
            n-0000000070,n-0000000073,n-0000000074,n-0000000077,n-0000000076,n-0000000013,n-0000000014,n-0000000017,\
            n-0000000016,n-0000000019,n-0000000020,n-0000000022,n-0000000002,n-0000000001,n-0000000089,n-0000000004,\
            n-0000000005,n-0000000008,n-0000000007,n-0000000092,n-0000000095,n-0000000094,n-0000000097,n-0000000011,\
            n-0000000010,n-0000000098,n-0000000091";
        assert_eq!(order(&t), java);
        assert_eq!(t.len(), 66);
        assert!(t.contains("n-0000000001") && !t.contains("n-0000000000"));
    }

    #[test]
    fn java_hash_of_ascii_and_other_names() {
        assert_eq!(java_string_hash("zookeeper"), 1_600_681_804);
        assert_eq!(java_string_hash("é€"), 233 * 31 + 8364);
        // A supplementary character counts as two UTF-16 units.
        assert_eq!(java_string_hash("𝄞"), 0xd834 * 31 + 0xdd1e);
    }
}
