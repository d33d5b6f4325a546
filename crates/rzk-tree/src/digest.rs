//! The tree digest of ZooKeeper 3.6+ (`DigestCalculator`, digest version 2): a CRC32 per node over
//! its path ("/" counts as ""), its data and a 60-byte big-endian stat tuple, summed with
//! wrapping arithmetic over every node except those under `/zookeeper/` (`AdHash`). Txns carry the
//! digest the tree will have after them, so replicas can detect divergence.

use rzk_proto::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`.
pub const DIGEST_VERSION: i32 = 2;

/// Whether a node counts towards the tree digest (everything under "/zookeeper/" does not;
/// "/zookeeper" itself does).
pub fn in_digest(path: &str) -> bool {
    !path.starts_with("/zookeeper/")
}

/// The digest of one node, or 0 for nodes outside the digest.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if !in_digest(path) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut tuple = [0u8; 60];
    let fields_64 = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
    for (i, v) in fields_64.iter().enumerate() {
        tuple[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    tuple[40..44].copy_from_slice(&stat.version.to_be_bytes());
    tuple[44..48].copy_from_slice(&stat.cversion.to_be_bytes());
    tuple[48..52].copy_from_slice(&stat.aversion.to_be_bytes());
    tuple[52..60].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(path.as_bytes());
    if let Some(d) = data {
        crc.update(d);
    }
    crc.update(&tuple);
    crc.finalize() as i64
}
