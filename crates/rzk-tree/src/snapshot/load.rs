//! Loading a snapshot stream a part at a time (start-up, `rzk-server` `restore`): the stream is
//! read [`SNAPSHOT_READ_PART_BYTES`] at a time and each record (a session, an ACL list, a node)
//! is decoded from the part that holds it, so the file is never whole in memory next to the
//! tree it builds. The seals' Adler-32 is kept over the bytes as they are consumed.

use std::io::Read;

use adler2::Adler32;
use bytes::{Buf, Bytes};
use rzk_proto::{DecodeError, FileHeader, Jute, Reader};

use super::{LoadedSnapshot, Records, SNAP_MAGIC, SnapError, ZxidDigest, read_body};

/// Bytes read from the stream at a time (more when one record is longer).
pub const SNAPSHOT_READ_PART_BYTES: usize = 4 * 1024 * 1024;

/// Reads a whole (uncompressed) snapshot stream from `src`, checking its seals, as
/// [`super::load_snapshot`] does for one held in memory. `tree.last_processed_zxid` is left at 0:
/// the caller sets it from the file name, as ZooKeeper does.
pub fn load_snapshot_from(src: impl Read, extended_types: bool) -> Result<LoadedSnapshot, SnapError> {
    load_in_parts(src, extended_types, SNAPSHOT_READ_PART_BYTES, None)
}

/// [`load_snapshot_from`] for a stream whose length is known (an uncompressed file): the tree
/// makes room for the nodes it will hold once the first few show how long a node's record is.
pub fn load_snapshot_sized(
    src: impl Read,
    extended_types: bool,
    stream_bytes: u64,
) -> Result<LoadedSnapshot, SnapError> {
    load_in_parts(src, extended_types, SNAPSHOT_READ_PART_BYTES, Some(stream_bytes))
}

/// [`load_snapshot_from`] reading `part_bytes` at a time (tests use tiny parts, so that records
/// straddle them).
fn load_in_parts(
    src: impl Read,
    extended_types: bool,
    part_bytes: usize,
    stream_bytes: Option<u64>,
) -> Result<LoadedSnapshot, SnapError> {
    let mut s = Parts::new(src, part_bytes, stream_bytes);
    let header = s.record(|r| Ok(FileHeader::decode(r)?))?;
    if header.magic != SNAP_MAGIC {
        return Err(SnapError::BadMagic(header.magic));
    }
    let mut tree = read_body(&mut s, extended_types)?;
    s.seal()?;
    let mut digest = None;
    if s.holds(20)? {
        let (zxid, version, d) = s.record(|r| {
            let zxid = r.read_i64()?;
            let version = r.read_i32()?;
            let d = if version < 2 {
                // Pre-3.6.0 snapshots kept the digest as a hex string.
                let s = r.read_ustring()?.unwrap_or_default();
                u64::from_str_radix(&s, 16).unwrap_or(0) as i64
            } else {
                r.read_i64()?
            };
            Ok((zxid, version, d))
        })?;
        s.seal()?;
        if zxid > 0 {
            digest = Some(ZxidDigest { zxid, version, digest: d });
        }
    }
    tree.last_processed_zxid = 0;
    Ok(LoadedSnapshot { tree, dbid: header.dbid, digest })
}

/// The stream, the part of it read and not yet consumed, and the checksum of what was consumed.
struct Parts<R> {
    src: R,
    part_bytes: usize,
    buf: Bytes,
    eof: bool,
    adler: Adler32,
    /// Bytes consumed, and the stream's length when known (for [`Records::progress`]).
    consumed: u64,
    stream_bytes: Option<u64>,
}

impl<R: Read> Records for Parts<R> {
    /// Decodes one record from the part at hand, reading further parts while it holds only some
    /// of it, and consumes its bytes (into the checksum).
    fn record<T>(&mut self, decode: impl Fn(&mut Reader) -> Result<T, SnapError>) -> Result<T, SnapError> {
        loop {
            let mut r = Reader::new(self.buf.clone(), usize::MAX);
            match decode(&mut r) {
                Ok(v) => {
                    let used = self.buf.len() - r.remaining();
                    self.adler.write_slice(&self.buf[..used]);
                    self.buf.advance(used);
                    self.consumed += used as u64;
                    return Ok(v);
                }
                Err(SnapError::Decode(DecodeError::Truncated { needed, .. })) if !self.eof => {
                    self.read_part(needed)?
                }
                // A vector's count is checked against the bytes at hand (each item takes one at
                // least): with more of the stream it may fit.
                Err(SnapError::Decode(DecodeError::BadLength(n))) if n >= 0 && !self.eof => {
                    self.read_part(0)?
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn progress(&self) -> Option<(u64, u64)> {
        self.stream_bytes.map(|total| (self.consumed, total))
    }
}

impl<R: Read> Parts<R> {
    fn new(src: R, part_bytes: usize, stream_bytes: Option<u64>) -> Self {
        let part_bytes = part_bytes.max(1);
        Parts {
            src,
            part_bytes,
            buf: Bytes::new(),
            eof: false,
            adler: Adler32::new(),
            consumed: 0,
            stream_bytes,
        }
    }

    /// Checks a seal: the Adler-32 of every byte before it, then "/".
    fn seal(&mut self) -> Result<(), SnapError> {
        let computed = self.adler.checksum() as i64;
        let stored = self.record(|r| {
            let stored = r.read_i64()?;
            let _slash = r.read_ustring()?;
            Ok(stored)
        })?;
        if stored != computed {
            return Err(SnapError::Crc { stored, computed });
        }
        Ok(())
    }

    /// Whether at least `n` more bytes follow.
    fn holds(&mut self, n: usize) -> Result<bool, SnapError> {
        while self.buf.len() < n && !self.eof {
            self.read_part(n - self.buf.len())?;
        }
        Ok(self.buf.len() >= n)
    }

    /// Appends the next part of the stream (at least `needed` bytes unless it ends first) to what
    /// is left unconsumed. Room for one part is reserved; a longer record (or a corrupt length)
    /// grows the buffer only as far as the stream really goes.
    fn read_part(&mut self, needed: usize) -> Result<(), SnapError> {
        let want = needed.max(self.part_bytes);
        let mut next = Vec::with_capacity(self.buf.len() + self.part_bytes);
        next.extend_from_slice(&self.buf);
        let before = next.len();
        (&mut self.src).take(want as u64).read_to_end(&mut next)?;
        self.eof = next.len() - before < want;
        self.buf = Bytes::from(next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::SnapshotJob;
    use crate::tree::DataTree;
    use rzk_proto::Acl;
    use rzk_proto::codes::op;
    use rzk_proto::txn::TxnBody;
    use rzk_proto::{CreateTxn, TxnHeader};

    /// Nodes two levels deep, data from empty to 3 parts of the largest tiny part, several ACL
    /// lists and sessions: records of every kind and size.
    fn tree() -> DataTree {
        let mut t = DataTree::new(false);
        let mut ev = Vec::new();
        let mut zxid = 0;
        let mut create = |t: &mut DataTree, path: String, len: usize, perms: i32| {
            zxid += 1;
            let body = TxnBody::Create(CreateTxn {
                path,
                data: Some(Bytes::from(vec![(zxid % 251) as u8; len])),
                acl: vec![Acl::new(perms, "world", "anyone")],
                ephemeral: false,
                parent_cversion: -1,
            });
            let hdr = TxnHeader { client_id: 7, cxid: 0, zxid, time: 5, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut ev);
        };
        for i in 0..20 {
            create(&mut t, format!("/a{i}"), i * 37, 31 - (i % 3) as i32);
            for j in 0..5 {
                create(&mut t, format!("/a{i}/b{j}"), (i * j * 53) % 3000, 31);
            }
        }
        for s in 0..30 {
            t.sessions.insert(0x100 + s, 4000 + s as i32);
        }
        t
    }

    fn stream(t: &DataTree) -> Vec<u8> {
        SnapshotJob::whole(t).to_vec()
    }

    /// A stream of known length loads the same tree, whatever length it is said to have (the
    /// length only sizes the index): more nodes than the sample, children in the same order.
    #[test]
    fn a_sized_load_gives_the_same_tree() {
        let mut t = DataTree::new(false);
        let mut events = Vec::new();
        for i in 0..(super::super::NODES_SAMPLED as i64 * 3) {
            let path = if i % 10 == 0 { format!("/p{i}") } else { format!("/p{}/c{i}", i - i % 10) };
            let body = TxnBody::Create(CreateTxn {
                path,
                data: Some(Bytes::from_static(b"v")),
                acl: vec![Acl::new(31, "world", "anyone")],
                ephemeral: false,
                parent_cversion: -1,
            });
            let hdr = TxnHeader { client_id: 1, cxid: 1, zxid: i + 1, time: 0, txn_type: op::CREATE };
            t.process_txn(&hdr, &body, &mut events);
        }
        let bytes = stream(&t);
        let len = bytes.len() as u64;
        let mut t = t;
        // A sparse or corrupt file can be far longer than its nodes: u64::MAX / 2 asks for an
        // impossible index and must still load.
        for said in [len, len / 3, len * 50, 0, u64::MAX / 2] {
            let l =
                load_in_parts(&bytes[..], false, 4096, Some(said)).unwrap_or_else(|e| panic!("{said}: {e}"));
            let mut l = l;
            assert_eq!(l.tree.digest(), t.digest(), "said {said}");
            assert_eq!(l.tree.node_count(), t.node_count(), "said {said}");
            for p in ["/", "/p0", "/p120"] {
                let names =
                    |t: &mut DataTree| t.get_children(p, None).map(|(names, _)| names).expect("a node");
                assert_eq!(names(&mut l.tree), names(&mut t), "children of {p}, said {said}");
            }
        }
    }

    #[test]
    fn any_part_size_loads_the_same_tree() {
        let t = tree();
        let bytes = stream(&t);
        for part in [1, 2, 7, 100, 1000, 4096, SNAPSHOT_READ_PART_BYTES] {
            let l =
                load_in_parts(&bytes[..], false, part, None).unwrap_or_else(|e| panic!("part {part}: {e}"));
            assert_eq!(l.tree.digest(), t.digest(), "part {part}");
            assert_eq!(l.tree.node_count(), t.node_count(), "part {part}");
            assert_eq!(l.tree.sessions, t.sessions, "part {part}");
            assert_eq!(l.digest.map(|d| d.digest), Some(t.digest()), "part {part}");
            for (i, j) in [(0, 0), (7, 3), (19, 4)] {
                let (got, want) = (l.tree.node(&format!("/a{i}/b{j}")), t.node(&format!("/a{i}/b{j}")));
                assert_eq!(got.map(|n| n.data()), want.map(|n| n.data()), "part {part}");
                let acl = |tr: &DataTree, p: &str| tr.node(p).map(|n| tr.acls.get(n.acl));
                assert_eq!(acl(&l.tree, &format!("/a{i}")), acl(&t, &format!("/a{i}")), "part {part}");
            }
        }
    }

    #[test]
    fn a_stream_cut_anywhere_is_an_error_not_a_tree() {
        let bytes = stream(&tree());
        // The digest section is optional: a stream cut right after the first seal loads.
        let len = bytes.len();
        for cut in (0..len - 100).step_by(97).chain(len - 100..len) {
            let r = load_in_parts(&bytes[..cut], false, 64, None);
            if let Ok(l) = &r {
                assert!(l.digest.is_none(), "cut at {cut} of {} loaded with a digest", bytes.len());
                assert!(cut >= bytes.len() - 40, "cut at {cut} of {} loaded", bytes.len());
            }
        }
    }

    #[test]
    fn a_changed_byte_anywhere_fails_the_load() {
        let bytes = stream(&tree());
        let len = bytes.len();
        // Each seal ends in the string "/", which no checksum covers and which ZooKeeper reads
        // and ignores (`checkSealIntegrity`): the first seal's at len-38..len-33 (before the
        // 20-byte digest section and the second seal), the second's in the last 5 bytes.
        let unchecked = |at: usize| (len - 38..len - 33).contains(&at) || at >= len - 5;
        // Every 101st byte of the nodes, and every byte of the seals and the digest.
        let some = (0..len - 100).step_by(101).chain(len - 100..len);
        for at in some.filter(|&at| !unchecked(at)) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(
                load_in_parts(&bad[..], false, 100, None).is_err(),
                "byte {at} of {} changed",
                bytes.len()
            );
        }
    }

    #[test]
    fn an_unreadable_stream_is_an_io_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        assert!(matches!(load_snapshot_from(Failing, false), Err(SnapError::Io(_))));
    }
}
