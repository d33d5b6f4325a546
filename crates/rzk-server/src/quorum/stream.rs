//! The quorum port's byte stream (`Learner` / `LearnerHandler` over `BinaryInputArchive`):
//! `QuorumPacket` records back to back with no length prefix (`int type, long zxid, buffer data,
//! vector<Id> authinfo`), and after a SNAP packet the sessions and tree as
//! `SerializeUtils.serializeSnapshot` writes them, then the string "BenWasHere".
//!
//! Reading is blocking (one thread per connection); every length is checked against a limit so a
//! bad peer cannot make us allocate without bound.

use std::io::{self, Read, Write};

use rzk_proto::{Id, Jute, QuorumPacket};
use rzk_zab::packet::{self, SNAP_SIGNATURE};

/// The largest `buffer` a packet may carry: a txn of one maximal znode plus headers
/// (`jute.maxbuffer` + extras, as Java's archive allows).
pub const PACKET_DATA_BYTES_MAX: usize = 4 * 1024 * 1024;
/// The most ids an `authinfo` vector may list.
pub const AUTHINFO_IDS_MAX: usize = 1024;
/// The longest string (path, scheme, id) in a packet or snapshot.
pub const STRING_BYTES_MAX: usize = 1024 * 1024;
/// The largest tree a SNAP may carry.
pub const SNAP_BYTES_MAX: usize = 64 * 1024 * 1024 * 1024;

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn read_i32(r: &mut impl Read) -> io::Result<i32> {
    let mut b = [0; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_be_bytes(b))
}

fn read_i64(r: &mut impl Read) -> io::Result<i64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(i64::from_be_bytes(b))
}

fn read_len(r: &mut impl Read, max: usize, what: &str) -> io::Result<Option<usize>> {
    let n = read_i32(r)?;
    if n < 0 {
        return Ok(None);
    }
    if n as usize > max {
        return Err(bad(format!("{what} of {n} bytes is over the limit of {max}")));
    }
    Ok(Some(n as usize))
}

fn read_bytes(r: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0; n];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn read_string(r: &mut impl Read) -> io::Result<String> {
    match read_len(r, STRING_BYTES_MAX, "string")? {
        None => Ok(String::new()),
        Some(n) => String::from_utf8(read_bytes(r, n)?).map_err(|_| bad("string is not UTF-8".into())),
    }
}

/// Reads one packet.
pub fn read_packet(r: &mut impl Read) -> io::Result<QuorumPacket> {
    let packet_type = read_i32(r)?;
    let zxid = read_i64(r)?;
    let data = read_len(r, PACKET_DATA_BYTES_MAX, "packet data")?.map(|n| read_bytes(r, n)).transpose()?;
    let authinfo = match read_len(r, AUTHINFO_IDS_MAX, "authinfo")? {
        None => None,
        Some(n) => {
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                let scheme = read_string(r)?;
                let id = read_string(r)?;
                ids.push(Id { scheme, id });
            }
            Some(ids)
        }
    };
    Ok(QuorumPacket { packet_type, zxid, data: data.map(Into::into), authinfo })
}

pub fn write_packet(w: &mut impl Write, p: &QuorumPacket) -> io::Result<()> {
    w.write_all(&p.to_bytes())
}

/// Copies a SNAP body (sessions, ACL cache, nodes, the closing "/") from the stream, then reads
/// and checks the signature. Returns the body as the core's `read_tree_body` takes it.
pub fn read_snap_body(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut tee = Tee { r, out: &mut body };
    let sessions = read_i32(&mut tee)?;
    for _ in 0..sessions.max(0) {
        read_i64(&mut tee)?;
        read_i32(&mut tee)?;
    }
    let acl_lists = read_i32(&mut tee)?;
    for _ in 0..acl_lists.max(0) {
        read_i64(&mut tee)?;
        let n = read_i32(&mut tee)?;
        for _ in 0..n.max(0) {
            read_i32(&mut tee)?;
            read_string(&mut tee)?;
            read_string(&mut tee)?;
        }
    }
    loop {
        let path = read_string(&mut tee)?;
        if path == "/" {
            break;
        }
        if let Some(n) = read_len(&mut tee, PACKET_DATA_BYTES_MAX, "node data")? {
            read_bytes(&mut tee, n)?;
        }
        // acl index, then StatPersisted: 6 longs and 3 ints.
        read_bytes(&mut tee, 8 + 6 * 8 + 3 * 4)?;
        if tee.out.len() > SNAP_BYTES_MAX {
            return Err(bad("snapshot from the leader is too large".into()));
        }
    }
    let signature = read_string(r)?;
    if signature != SNAP_SIGNATURE {
        return Err(bad(format!("missing signature after the snapshot (got {signature:?})")));
    }
    Ok(body)
}

/// Reads through to `r`, keeping a copy of every byte.
struct Tee<'a, R: Read> {
    r: &'a mut R,
    out: &'a mut Vec<u8>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Reads the next packet from the leader; a SNAP packet comes back with its body as data.
pub fn read_from_leader(r: &mut impl Read) -> io::Result<QuorumPacket> {
    let mut p = read_packet(r)?;
    if p.packet_type == packet::SNAP {
        p.data = Some(read_snap_body(r)?.into());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_tree::DataTree;
    use rzk_tree::snapshot::serialize_tree_body;

    #[test]
    fn packets_round_trip_back_to_back() {
        let a = QuorumPacket {
            packet_type: 2,
            zxid: 0x1_0000_0001,
            data: Some(vec![1, 2, 3].into()),
            authinfo: None,
        };
        let b = QuorumPacket {
            packet_type: 1,
            zxid: -1,
            data: None,
            authinfo: Some(vec![Id { scheme: "ip".into(), id: "127.0.0.1".into() }]),
        };
        let mut buf = Vec::new();
        write_packet(&mut buf, &a).unwrap();
        write_packet(&mut buf, &b).unwrap();
        let mut r = &buf[..];
        assert_eq!(read_packet(&mut r).unwrap(), a);
        assert_eq!(read_packet(&mut r).unwrap(), b);
        assert!(r.is_empty());
    }

    #[test]
    fn a_snap_body_is_read_up_to_its_signature() {
        let tree = DataTree::new(false);
        let body = serialize_tree_body(&tree);
        let mut buf = Vec::new();
        write_packet(
            &mut buf,
            &QuorumPacket { packet_type: packet::SNAP, zxid: 5, data: None, authinfo: None },
        )
        .unwrap();
        buf.extend_from_slice(&body);
        rzk_proto::jute::put_ustring(&mut buf, SNAP_SIGNATURE);
        write_packet(
            &mut buf,
            &QuorumPacket { packet_type: packet::NEWLEADER, zxid: 7, data: None, authinfo: None },
        )
        .unwrap();
        let mut r = &buf[..];
        let snap = read_from_leader(&mut r).unwrap();
        assert_eq!(snap.data.as_deref(), Some(&body[..]));
        assert_eq!(read_from_leader(&mut r).unwrap().packet_type, packet::NEWLEADER);
    }

    #[test]
    fn oversized_lengths_are_refused() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&2i32.to_be_bytes());
        buf.extend_from_slice(&0i64.to_be_bytes());
        buf.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(read_packet(&mut &buf[..]).is_err());
    }
}
