//! The bytes of the election port (`QuorumCnxManager` and its `InitialMessage`):
//!
//! - the initiator's header: `long protocolVersion` (V1 = −65536, or V2 = −65535 which ZooKeeper
//!   sends only with `multiAddress.enabled`), `long sid`, `int len` (1..=2048, `maxBuffer`), then
//!   `len` bytes of `host:port` (the sender's election address; V2 joins several with `|`). A
//!   non-negative first long is a pre-3.5 header that is just the sid;
//! - after it, in both directions, messages framed as `int len` + bytes, 1..=512 KiB
//!   (`PACKETMAXSIZE`).
//!
//! Everything here is pure or reads from a generic stream; sockets and timeouts are the
//! callers'.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// `QuorumCnxManager.PROTOCOL_VERSION_V1`: what ZooKeeper 3.5+ sends (and what rzk sends).
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// `QuorumCnxManager.PROTOCOL_VERSION_V2` (ZOOKEEPER-3188): sent by 3.6+ only with
/// `multiAddress.enabled=true`; the address text may then list several `host:port`s.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// `QuorumCnxManager.maxBuffer`: the longest address text a header may carry, in bytes.
pub const HEADER_ADDR_BYTES_MAX: usize = 2048;
/// `QuorumCnxManager.PACKETMAXSIZE`: the largest message, in bytes.
pub const FRAME_BYTES_MAX: usize = 512 * 1024;
/// `QuorumPeer.OBSERVER_ID`: the sid an observer without an id connects with.
pub const OBSERVER_ID: i64 = i64::MAX;

/// A parsed connection header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// `None` for the pre-3.5 header that is only a sid.
    pub protocol_version: Option<i64>,
    pub sid: i64,
    /// The sender's election addresses as `(host, port)`, in the order sent (empty for the old
    /// header). Hosts are as written (IPv6 literals without brackets).
    pub addrs: Vec<(String, u16)>,
}

#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("unrecognized protocol version {0}")]
    Version(i64),
    #[error("unreasonable address length {0} (must be 1..={HEADER_ADDR_BYTES_MAX})")]
    AddrLength(i32),
    #[error("badly formed address {0:?}")]
    Address(String),
}

/// The header rzk sends when it dials: always V1 with one address, as ZooKeeper does unless
/// `multiAddress.enabled` (ZOOKEEPER-3720: so that every version in a rolling upgrade reads it).
/// `addr_text` must be 1..=`HEADER_ADDR_BYTES_MAX` bytes (checked by `Qcm::start`).
pub fn encode_initial(my_id: i64, addr_text: &str) -> Vec<u8> {
    let addr = addr_text.as_bytes();
    let mut b = Vec::with_capacity(20 + addr.len());
    b.extend_from_slice(&PROTOCOL_VERSION_V1.to_be_bytes());
    b.extend_from_slice(&my_id.to_be_bytes());
    // Cannot truncate: start() limits the text to HEADER_ADDR_BYTES_MAX bytes.
    b.extend_from_slice(&(addr.len() as i32).to_be_bytes());
    b.extend_from_slice(addr);
    b
}

/// Reads a connection header (`QuorumCnxManager.handleConnection` + `InitialMessage.parse`).
/// The caller bounds the time it may take.
pub async fn read_initial<R: AsyncRead + Unpin>(r: &mut R) -> Result<InitialMessage, HeaderError> {
    let first = r.read_i64().await?;
    if first >= 0 {
        return Ok(InitialMessage { protocol_version: None, sid: first, addrs: Vec::new() });
    }
    if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
        return Err(HeaderError::Version(first));
    }
    let sid = r.read_i64().await?;
    let len = r.read_i32().await?;
    if len <= 0 || len as usize > HEADER_ADDR_BYTES_MAX {
        return Err(HeaderError::AddrLength(len));
    }
    let mut text = vec![0; len as usize];
    r.read_exact(&mut text).await?;
    // Java decodes with `new String(b, UTF_8)`, which replaces bad bytes rather than failing.
    let text = String::from_utf8_lossy(&text);
    let addrs = text.split('|').map(split_host_port).collect::<Result<Vec<_>, _>>()?;
    Ok(InitialMessage { protocol_version: Some(first), sid, addrs })
}

/// `host:port` or `[v6]:port` as `ConfigUtils.getHostAndPort` splits it (plus the port range
/// check of `InetSocketAddress`).
pub fn split_host_port(s: &str) -> Result<(String, u16), HeaderError> {
    let bad = || HeaderError::Address(s.to_owned());
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or_else(bad)?;
        (host, port)
    } else {
        let mut parts = s.split(':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), None) => (h, p),
            _ => return Err(bad()),
        }
    };
    let port = port.parse::<u16>().map_err(|_| bad())?;
    Ok((host.to_owned(), port))
}

/// One message on the wire: `int len` + bytes.
pub fn encode_frame(msg: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + msg.len());
    // Cannot truncate: send() refuses messages over FRAME_BYTES_MAX.
    b.extend_from_slice(&(msg.len() as i32).to_be_bytes());
    b.extend_from_slice(msg);
    b
}

/// Reads one message (`RecvWorker.run`); a length outside 1..=`FRAME_BYTES_MAX` is an
/// `InvalidData` error (the caller closes the connection).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let len = r.read_i32().await?;
    if len <= 0 || len as usize > FRAME_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message length {len} outside 1..={FRAME_BYTES_MAX}"),
        ));
    }
    let mut msg = vec![0; len as usize];
    r.read_exact(&mut msg).await?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: i64, sid: i64, len: i32, text: &[u8]) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&sid.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(text);
        b
    }

    async fn parse(bytes: &[u8]) -> Result<InitialMessage, HeaderError> {
        let mut r = bytes;
        read_initial(&mut r).await
    }

    #[tokio::test]
    async fn v1_header_round_trips() {
        let b = encode_initial(3, "127.0.0.1:3888");
        assert_eq!(&b[..8], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0], "V1 is 0xFFFFFFFFFFFF0000");
        assert_eq!(b.len(), 8 + 8 + 4 + 14);
        let m = parse(&b).await.expect("parses");
        assert_eq!(m.protocol_version, Some(PROTOCOL_VERSION_V1));
        assert_eq!(m.sid, 3);
        assert_eq!(m.addrs, vec![("127.0.0.1".to_owned(), 3888)]);
    }

    #[tokio::test]
    async fn v2_lists_addresses_and_legacy_is_a_bare_sid() {
        let text = b"10.0.0.1:3888|[::1]:3889|zk3.example:3890";
        let m = parse(&header(PROTOCOL_VERSION_V2, 7, text.len() as i32, text)).await.expect("parses");
        assert_eq!(m.sid, 7);
        assert_eq!(
            m.addrs,
            vec![("10.0.0.1".into(), 3888), ("::1".into(), 3889), ("zk3.example".into(), 3890)]
        );
        let legacy = parse(&5i64.to_be_bytes()).await.expect("parses");
        assert_eq!(legacy, InitialMessage { protocol_version: None, sid: 5, addrs: vec![] });
    }

    #[tokio::test]
    async fn bad_headers_are_refused() {
        assert!(matches!(parse(&header(-2, 1, 3, b"a:1")).await, Err(HeaderError::Version(-2))));
        assert!(matches!(
            parse(&header(PROTOCOL_VERSION_V1, 1, 0, b"")).await,
            Err(HeaderError::AddrLength(0))
        ));
        assert!(matches!(
            parse(&header(PROTOCOL_VERSION_V1, 1, -1, b"")).await,
            Err(HeaderError::AddrLength(-1))
        ));
        let long = vec![b'a'; 2049];
        assert!(matches!(
            parse(&header(PROTOCOL_VERSION_V1, 1, 2049, &long)).await,
            Err(HeaderError::AddrLength(2049))
        ));
        for text in ["nohost", "a:b", "a:1:2", "[::1]", "[::1]:", "h:70000"] {
            let r = parse(&header(PROTOCOL_VERSION_V1, 1, text.len() as i32, text.as_bytes())).await;
            assert!(matches!(r, Err(HeaderError::Address(_))), "{text}: {r:?}");
        }
        // Truncated: fewer bytes than `len` promises.
        assert!(matches!(parse(&header(PROTOCOL_VERSION_V1, 1, 10, b"a:1")).await, Err(HeaderError::Io(_))));
        // Exactly the limit is fine.
        let mut max = vec![b'h'; 2048 - 5];
        max.extend_from_slice(b":3888");
        assert!(parse(&header(PROTOCOL_VERSION_V1, 1, 2048, &max)).await.is_ok());
    }

    #[tokio::test]
    async fn frames_are_bounded() {
        let f = encode_frame(b"hello");
        assert_eq!(read_frame(&mut &f[..]).await.expect("frame"), b"hello");
        for len in [0i32, -1, (FRAME_BYTES_MAX + 1) as i32] {
            let b = len.to_be_bytes();
            let e = read_frame(&mut &b[..]).await.expect_err("refused");
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        }
        let mut max = (FRAME_BYTES_MAX as i32).to_be_bytes().to_vec();
        max.resize(4 + FRAME_BYTES_MAX, 7);
        assert_eq!(read_frame(&mut &max[..]).await.expect("max frame").len(), FRAME_BYTES_MAX);
    }
}
