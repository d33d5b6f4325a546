//! Java's hash-based iteration orders, where ZooKeeper lets them leak to clients. A connection's
//! auth ids live in a `ConcurrentHashMap`-backed set, so whoAmI lists them (and a learner forwards
//! them) in bucket order, not in the order they were added.

use rzk_proto::Id;

/// `String.hashCode`: over UTF-16 units, wrapping.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(u as i32))
}

/// The `hashCode` jute generates for `Id{scheme, id}`.
pub fn id_hash(id: &Id) -> i32 {
    let r = 17i32.wrapping_mul(37).wrapping_add(string_hash(&id.scheme));
    r.wrapping_mul(37).wrapping_add(string_hash(&id.id))
}

/// `ConcurrentHashMap.spread`.
fn spread(h: i32) -> u32 {
    ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as u32
}

/// The order a `ConcurrentHashMap`-backed set of default capacity (16) iterates `ids` in, given
/// that they were added in the order of the slice: by bucket, then by insertion. (Sets that grew
/// past 12 entries were resized and are not modelled beyond the table size.)
pub fn chm_order(ids: &[Id]) -> Vec<Id> {
    let mut table = 16u32;
    while ids.len() as u32 >= table * 3 / 4 {
        table *= 2;
    }
    let mut indexed: Vec<(u32, usize, &Id)> =
        ids.iter().enumerate().map(|(i, id)| (spread(id_hash(id)) & (table - 1), i, id)).collect();
    indexed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    indexed.into_iter().map(|(_, _, id)| id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_is_javas() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "digest".hashCode() in Java.
        assert_eq!(string_hash("digest"), -1331913276);
    }

    #[test]
    fn whoami_order_matches_zookeeper() {
        // Observed on ZooKeeper 3.8 for a connection that added two digests: [digest, ip, digest];
        // and for the super user: [super, ip, digest].
        let ip = Id::new("ip", "127.0.0.1");
        let a1 = Id { scheme: "digest".into(), id: crate::auth::generate_digest("alice:wrong") };
        let a2 = Id { scheme: "digest".into(), id: crate::auth::generate_digest("alice:secret") };
        let schemes = |v: Vec<Id>| v.into_iter().map(|i| i.scheme).collect::<Vec<_>>();
        assert_eq!(schemes(chm_order(&[ip.clone(), a1, a2])), ["digest", "ip", "digest"]);
        let sup = Id::new("super", "");
        let sd = Id { scheme: "digest".into(), id: crate::auth::generate_digest("super:test") };
        assert_eq!(schemes(chm_order(&[ip, sup, sd])), ["super", "ip", "digest"]);
    }
}
