//! The session handshake: `ConnectRequest` and `ConnectResponse`, the only frames without a
//! request header. Both end in a `readOnly` byte that older clients (before 3.4) omit, so the
//! decoder accepts the record with or without it and remembers which it saw, and the server
//! answers in the same form.

use bytes::{BufMut, Bytes};

use crate::jute::{DecodeError, Jute, Reader};

/// The length of a session password (`ZooKeeperServer` generates 16 random bytes).
pub const SESSION_PASSWORD_BYTES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// `None` when the client sent no readOnly byte at all.
    pub read_only: Option<bool>,
}

impl ConnectRequest {
    pub fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let protocol_version = r.read_i32()?;
        let last_zxid_seen = r.read_i64()?;
        let time_out = r.read_i32()?;
        let session_id = r.read_i64()?;
        let passwd = Bytes::decode(r)?;
        // ZooKeeper reads the flag only if a byte remains (ConnectRequest without readOnly
        // comes from 3.3-era clients).
        let read_only = if r.is_empty() { None } else { Some(r.read_bool()?) };
        Ok(ConnectRequest { protocol_version, last_zxid_seen, time_out, session_id, passwd, read_only })
    }

    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_i32(self.protocol_version);
        out.put_i64(self.last_zxid_seen);
        out.put_i32(self.time_out);
        out.put_i64(self.session_id);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            out.put_u8(ro as u8);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    /// The negotiated timeout; 0 tells the client its session is invalid (expired).
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    /// Whether the server is read-only; `None` omits the byte (for clients that omitted it).
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_i32(self.protocol_version);
        out.put_i32(self.time_out);
        out.put_i64(self.session_id);
        self.passwd.encode(out);
        if let Some(ro) = self.read_only {
            out.put_u8(ro as u8);
        }
    }

    pub fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let protocol_version = r.read_i32()?;
        let time_out = r.read_i32()?;
        let session_id = r.read_i64()?;
        let passwd = Bytes::decode(r)?;
        let read_only = if r.is_empty() { None } else { Some(r.read_bool()?) };
        Ok(ConnectResponse { protocol_version, time_out, session_id, passwd, read_only })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(read_only: Option<bool>) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0x1_0000_0005,
            time_out: 30000,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only,
        }
    }

    #[test]
    fn handshake_is_44_or_45_bytes() {
        for (ro, len) in [(None, 44), (Some(false), 45), (Some(true), 45)] {
            let mut out = Vec::new();
            req(ro).encode(&mut out);
            assert_eq!(out.len(), len);
            let back = ConnectRequest::decode(&mut Reader::with_default_limit(out.into())).unwrap();
            assert_eq!(back, req(ro));
        }
    }
}
