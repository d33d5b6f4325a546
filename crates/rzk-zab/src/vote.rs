//! Votes and server states (`Vote`, `QuorumPeer.ServerState`), and the total order of
//! `FastLeaderElection.totalOrderPredicate`: the higher (peerEpoch, zxid, sid) wins.

/// `QuorumPeer.ServerState`; the ordinal is what notifications carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    Looking,
    Following,
    Leading,
    Observing,
}

impl ServerState {
    pub fn ordinal(self) -> i32 {
        match self {
            ServerState::Looking => 0,
            ServerState::Following => 1,
            ServerState::Leading => 2,
            ServerState::Observing => 3,
        }
    }

    pub fn from_ordinal(v: i32) -> Option<ServerState> {
        Some(match v {
            0 => ServerState::Looking,
            1 => ServerState::Following,
            2 => ServerState::Leading,
            3 => ServerState::Observing,
            _ => return None,
        })
    }

    /// The name `srvr` and `mntr` print (`Mode: follower`).
    pub fn mode_name(self) -> &'static str {
        match self {
            ServerState::Looking => "looking",
            ServerState::Following => "follower",
            ServerState::Leading => "leader",
            ServerState::Observing => "observer",
        }
    }
}

/// A vote: who should lead, and the (zxid, epochs) it was cast with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    pub leader: i64,
    pub zxid: i64,
    pub election_epoch: i64,
    pub peer_epoch: i64,
    pub state: ServerState,
    /// The notification version the vote came with (0 for pre-3.4.6 peers).
    pub version: i32,
}

impl Vote {
    /// `Vote.equals`: LOOKING votes compare everything but the state; votes of servers out of
    /// election compare the leader and its epoch (only the leader against pre-3.4.6 peers).
    pub fn same_as(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            return self.leader == other.leader
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch;
        }
        if (self.version > 0) ^ (other.version > 0) {
            self.leader == other.leader
        } else {
            self.leader == other.leader && self.peer_epoch == other.peer_epoch
        }
    }
}

/// `totalOrderPredicate`: whether the new vote (id, zxid, epoch) beats the current one. A
/// candidate with weight 0 (an observer or zero-weight participant) never wins.
pub fn beats(new: (i64, i64, i64), cur: (i64, i64, i64), new_weight: u64) -> bool {
    let (new_id, new_zxid, new_epoch) = new;
    let (cur_id, cur_zxid, cur_epoch) = cur;
    if new_weight == 0 {
        return false;
    }
    new_epoch > cur_epoch
        || (new_epoch == cur_epoch && (new_zxid > cur_zxid || (new_zxid == cur_zxid && new_id > cur_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_then_zxid_then_id() {
        assert!(beats((1, 5, 2), (9, 9, 1), 1));
        assert!(beats((1, 6, 2), (9, 5, 2), 1));
        assert!(beats((9, 5, 2), (1, 5, 2), 1));
        assert!(!beats((1, 5, 2), (9, 5, 2), 1));
        assert!(!beats((9, 9, 9), (1, 1, 1), 0));
    }
}
