//! How a leader brings a learner up to date (`LearnerHandler.syncFollower` and
//! `queueCommittedProposals`): from the learner's last zxid and the leader's in-memory committed
//! log (`ZKDatabase.committedLog`, the last `commitLogCount` txns applied), choose
//!
//! - DIFF: the learner's history is a prefix of ours; send the txns it lacks (PROPOSAL + COMMIT
//!   each), or nothing when it is level with us;
//! - TRUNC: the learner has txns we never committed (it led an epoch that died); it cuts its log
//!   back to our last common zxid, then takes the DIFF that follows;
//! - SNAP: the learner is too far behind our committed log, or its extra txns cross an epoch.
//!
//! Pure: the txns are opaque bytes (the PROPOSAL payload: header, txn and digest as logged).

use std::collections::VecDeque;

use bytes::Bytes;
use rzk_proto::QuorumPacket;

use crate::packet::{self, COMMIT, DIFF, PROPOSAL, TRUNC};

/// `zookeeper.commitLogCount`'s default.
pub const COMMIT_LOG_COUNT_DEFAULT: usize = 500;

/// The last txns applied, oldest first (`ZKDatabase.committedLog`).
#[derive(Debug, Clone)]
pub struct CommittedLog {
    entries: VecDeque<(i64, Bytes)>,
    capacity: usize,
}

impl CommittedLog {
    pub fn new(capacity: usize) -> CommittedLog {
        CommittedLog { entries: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Records an applied txn (`addCommittedProposal`).
    pub fn push(&mut self, zxid: i64, txn: Bytes) {
        if self.entries.back().is_some_and(|(z, _)| *z >= zxid) {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back((zxid, txn));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn min_zxid(&self) -> Option<i64> {
        self.entries.front().map(|(z, _)| *z)
    }

    pub fn max_zxid(&self) -> Option<i64> {
        self.entries.back().map(|(z, _)| *z)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(i64, Bytes)> {
        self.entries.iter()
    }
}

/// What the leader sends a learner before NEWLEADER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPlan {
    /// DIFF or TRUNC followed by committed txns; `through` is the last zxid they bring the
    /// learner to (proposals after it are forwarded by `startForwarding`).
    Packets { packets: Vec<QuorumPacket>, through: i64 },
    /// A whole snapshot of the tree.
    Snap,
}

fn op_packet(ty: i32, zxid: i64) -> QuorumPacket {
    QuorumPacket { packet_type: ty, zxid, data: None, authinfo: None }
}

/// `syncFollower` without the on-disk txn-log branch (rzk answers SNAP where Java would read old
/// txn log files; both are valid syncs).
pub fn plan(log: &CommittedLog, last_processed: i64, peer_last: i64, force_snap: bool) -> SyncPlan {
    let peer_new_epoch = peer_last & 0xffff_ffff == 0;
    let (min, max) = match (log.min_zxid(), log.max_zxid()) {
        (Some(a), Some(b)) => (a, b),
        _ => (last_processed, last_processed),
    };
    if force_snap {
        return SyncPlan::Snap;
    }
    if last_processed == peer_last {
        return SyncPlan::Packets { packets: vec![op_packet(DIFF, peer_last)], through: peer_last };
    }
    if peer_last > max && !peer_new_epoch {
        return SyncPlan::Packets { packets: vec![op_packet(TRUNC, max)], through: max };
    }
    if max >= peer_last && min <= peer_last {
        return queue_committed(log, peer_last, max);
    }
    SyncPlan::Snap
}

/// `queueCommittedProposals` over the committed log.
fn queue_committed(log: &CommittedLog, peer_last: i64, last_committed: i64) -> SyncPlan {
    let peer_new_epoch = peer_last & 0xffff_ffff == 0;
    let mut packets = Vec::new();
    let mut need_op = true;
    let mut queued = peer_last;
    let mut prev = -1i64;
    for (zxid, txn) in log.iter() {
        let zxid = *zxid;
        if zxid < peer_last {
            prev = zxid;
            continue;
        }
        if need_op {
            if zxid == peer_last {
                packets.push(op_packet(DIFF, last_committed));
                need_op = false;
                continue;
            }
            if peer_new_epoch {
                packets.push(op_packet(DIFF, last_committed));
                need_op = false;
            } else if zxid > peer_last {
                if packet::epoch_of(zxid) != packet::epoch_of(peer_last) {
                    // A TRUNC may not cross an epoch boundary: Java sends a snapshot.
                    return SyncPlan::Snap;
                }
                packets.push(op_packet(TRUNC, prev));
                need_op = false;
            }
        }
        if zxid <= queued {
            continue;
        }
        packets.push(QuorumPacket { packet_type: PROPOSAL, zxid, data: Some(txn.clone()), authinfo: None });
        packets.push(op_packet(COMMIT, zxid));
        queued = zxid;
    }
    if need_op && peer_new_epoch {
        packets.push(op_packet(DIFF, last_committed));
        need_op = false;
    }
    if need_op {
        return SyncPlan::Snap;
    }
    SyncPlan::Packets { packets, through: queued }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::make_zxid;

    fn log_of(zxids: &[i64]) -> CommittedLog {
        let mut l = CommittedLog::new(500);
        for z in zxids {
            l.push(*z, Bytes::from(format!("t{z:x}")));
        }
        l
    }

    fn kinds(p: &SyncPlan) -> Vec<(i32, i64)> {
        match p {
            SyncPlan::Packets { packets, .. } => packets.iter().map(|q| (q.packet_type, q.zxid)).collect(),
            SyncPlan::Snap => vec![],
        }
    }

    #[test]
    fn level_learner_gets_an_empty_diff() {
        let l = log_of(&[make_zxid(1, 1), make_zxid(1, 2)]);
        let p = plan(&l, make_zxid(1, 2), make_zxid(1, 2), false);
        assert_eq!(kinds(&p), vec![(DIFF, make_zxid(1, 2))]);
    }

    #[test]
    fn lagging_learner_gets_the_missing_txns() {
        let l = log_of(&[make_zxid(1, 1), make_zxid(1, 2), make_zxid(1, 3)]);
        let p = plan(&l, make_zxid(1, 3), make_zxid(1, 1), false);
        assert_eq!(
            kinds(&p),
            vec![
                (DIFF, make_zxid(1, 3)),
                (PROPOSAL, make_zxid(1, 2)),
                (COMMIT, make_zxid(1, 2)),
                (PROPOSAL, make_zxid(1, 3)),
                (COMMIT, make_zxid(1, 3)),
            ]
        );
        assert!(matches!(p, SyncPlan::Packets { through, .. } if through == make_zxid(1, 3)));
    }

    #[test]
    fn learner_ahead_is_truncated() {
        let l = log_of(&[make_zxid(1, 1), make_zxid(1, 2)]);
        let p = plan(&l, make_zxid(2, 0), make_zxid(1, 5), false);
        assert_eq!(kinds(&p), vec![(TRUNC, make_zxid(1, 2))]);
    }

    #[test]
    fn divergent_learner_in_the_same_epoch_is_truncated_then_diffed() {
        // The learner logged (1,3) that never committed; we committed (1,2), then (2,1).
        let l = log_of(&[make_zxid(1, 1), make_zxid(1, 2), make_zxid(2, 1)]);
        let p = plan(&l, make_zxid(2, 1), make_zxid(1, 3), false);
        // (1,3) is inside [min, max]; the first txn above it is (2,1): another epoch, so SNAP.
        assert_eq!(p, SyncPlan::Snap);
        let l = log_of(&[make_zxid(1, 1), make_zxid(1, 2), make_zxid(1, 4)]);
        let p = plan(&l, make_zxid(1, 4), make_zxid(1, 3), false);
        assert_eq!(
            kinds(&p),
            vec![(TRUNC, make_zxid(1, 2)), (PROPOSAL, make_zxid(1, 4)), (COMMIT, make_zxid(1, 4))]
        );
    }

    #[test]
    fn new_epoch_zxid_gets_a_diff_of_everything_after() {
        let l = log_of(&[make_zxid(1, 1), make_zxid(2, 1)]);
        let p = plan(&l, make_zxid(2, 1), make_zxid(2, 0), false);
        assert_eq!(
            kinds(&p),
            vec![(DIFF, make_zxid(2, 1)), (PROPOSAL, make_zxid(2, 1)), (COMMIT, make_zxid(2, 1))]
        );
    }

    #[test]
    fn too_far_behind_or_forced_means_snap() {
        let l = log_of(&[make_zxid(1, 5), make_zxid(1, 6)]);
        assert_eq!(plan(&l, make_zxid(1, 6), make_zxid(1, 2), false), SyncPlan::Snap);
        assert_eq!(plan(&l, make_zxid(1, 6), make_zxid(1, 6), true), SyncPlan::Snap);
        // An empty log and an empty learner: nothing to send.
        let empty = CommittedLog::new(10);
        assert_eq!(kinds(&plan(&empty, 0, 0, false)), vec![(DIFF, 0)]);
    }

    #[test]
    fn log_keeps_the_newest() {
        let mut l = CommittedLog::new(2);
        for z in 1..=5 {
            l.push(z, Bytes::new());
        }
        assert_eq!((l.min_zxid(), l.max_zxid(), l.len()), (Some(4), Some(5), 2));
    }
}
