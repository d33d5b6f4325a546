//! FastLeaderElection notifications on the wire (inside QuorumCnxManager's `int len` framing):
//! `int state, long leader, long zxid, long electionEpoch, long peerEpoch, int version (2),
//! int configLength, byte[] config` (44 + config bytes). Receivers also accept the 28-byte
//! (no peerEpoch: taken from the zxid) and 40-byte (no version) forms of old servers.

use bytes::{Buf, BufMut};

use crate::vote::ServerState;

/// `Notification.CURRENTVERSION`.
pub const NOTIFICATION_VERSION: i32 = 0x2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub state: ServerState,
    pub leader: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    pub version: i32,
    /// The sender's quorum configuration text (`QuorumVerifier.toString()`), version ≥ 2 only.
    pub config: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotificationError {
    #[error("notification too short ({0} bytes)")]
    Short(usize),
    #[error("unknown server state {0}")]
    State(i32),
    #[error("invalid configLength {0} in a {1}-byte notification")]
    ConfigLength(i32, usize),
}

impl Notification {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(44 + self.config.len());
        b.put_i32(self.state.ordinal());
        b.put_i64(self.leader);
        b.put_i64(self.zxid);
        b.put_i64(self.election_epoch);
        b.put_i64(self.peer_epoch);
        b.put_i32(NOTIFICATION_VERSION);
        b.put_i32(self.config.len() as i32);
        b.put_slice(&self.config);
        b
    }

    pub fn decode(msg: &[u8]) -> Result<Notification, NotificationError> {
        let n = msg.len();
        if n < 28 {
            return Err(NotificationError::Short(n));
        }
        let mut b = msg;
        let state_ord = b.get_i32();
        let state = ServerState::from_ordinal(state_ord).ok_or(NotificationError::State(state_ord))?;
        let leader = b.get_i64();
        let zxid = b.get_i64();
        let election_epoch = b.get_i64();
        if n == 28 {
            let peer_epoch = zxid >> 32;
            return Ok(Notification {
                state,
                leader,
                zxid,
                election_epoch,
                peer_epoch,
                version: 0,
                config: Vec::new(),
            });
        }
        if b.remaining() < 8 {
            return Err(NotificationError::Short(n));
        }
        let peer_epoch = b.get_i64();
        if n == 40 || b.remaining() < 4 {
            return Ok(Notification {
                state,
                leader,
                zxid,
                election_epoch,
                peer_epoch,
                version: 0,
                config: Vec::new(),
            });
        }
        let version = b.get_i32();
        let mut config = Vec::new();
        if version > 0x1 {
            if b.remaining() < 4 {
                return Err(NotificationError::Short(n));
            }
            let len = b.get_i32();
            if len < 0 || len as usize > b.remaining() {
                return Err(NotificationError::ConfigLength(len, n));
            }
            config = b[..len as usize].to_vec();
        }
        Ok(Notification { state, leader, zxid, election_epoch, peer_epoch, version, config })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_legacy_forms() {
        let n = Notification {
            state: ServerState::Looking,
            leader: 3,
            zxid: 0x200000005,
            election_epoch: 7,
            peer_epoch: 2,
            version: NOTIFICATION_VERSION,
            config: b"server.1=a:1:2:participant\nversion=0".to_vec(),
        };
        let bytes = n.encode();
        assert_eq!(bytes.len(), 44 + n.config.len());
        assert_eq!(Notification::decode(&bytes).unwrap(), n);
        let old = Notification::decode(&bytes[..28]).unwrap();
        assert_eq!((old.peer_epoch, old.version), (2, 0));
        let forty = Notification::decode(&bytes[..40]).unwrap();
        assert_eq!((forty.peer_epoch, forty.version), (2, 0));
        assert!(Notification::decode(&bytes[..20]).is_err());
        let mut bad = bytes.clone();
        bad[40..44].copy_from_slice(&1000i32.to_be_bytes());
        assert!(Notification::decode(&bad).is_err());
    }
}
