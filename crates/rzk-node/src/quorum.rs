//! The quorum peer's state inside the core (`QuorumPeer`): the election, the role it led to, and
//! the learner-side bookkeeping of requests forwarded to the leader. The request pipeline in
//! `node.rs` consults it at its three branch points (a write is proposed, forwarded, or logged
//! alone; a durable txn is acked or committed; a committed txn is matched to the local request
//! that caused it). The role transitions live in `node/peer.rs`, the leader's glue in
//! `node/lead.rs` and the learner's in `node/learn.rs`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rzk_proto::QuorumPacket;
use rzk_zab::election::Election;
use rzk_zab::leader::{Leader, LearnerId};
use rzk_zab::learner::Learner;
use rzk_zab::sync::CommittedLog;
use rzk_zab::{QuorumVerifier, ServerState};

use crate::ConnId;

/// Everything the core needs to run as a member of an ensemble.
#[derive(Debug, Clone)]
pub struct QuorumSetup {
    pub my_id: i64,
    pub qv: QuorumVerifier,
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    pub init_limit: i64,
    pub sync_limit: i64,
    /// The last txns of the log at start-up (zxid, bytes as logged), for the committed log.
    pub recent_txns: Vec<(i64, bytes::Bytes)>,
    /// `zookeeper.commitLogCount`.
    pub commit_log_count: usize,
    /// `zookeeper.forceSnapshotSync`.
    pub force_snap_sync: bool,
    /// Election notification backoff (min, max) in ms.
    pub notification_interval_ms: (i64, i64),
}

pub(crate) enum Role {
    /// Electing (or waiting for the log to settle before electing).
    Looking,
    Leading(Box<Leader>),
    /// Following or observing; `connected` once the shell reported the connection.
    Learning {
        learner: Box<Learner>,
        connected: bool,
    },
}

/// Where a client's connect waits for the leader's REVALIDATE answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingRevalidation {
    pub conn: ConnId,
    pub timeout_ms: i32,
    pub read_only: Option<bool>,
}

pub(crate) struct Peer {
    pub setup: QuorumSetup,
    pub election: Election,
    pub role: Role,
    pub accepted_epoch: i64,
    pub current_epoch: i64,
    pub committed_log: CommittedLog,
    /// Learner connections accepted while not (yet) leading: when they arrived, and what they
    /// sent meanwhile.
    pub waiting_learners: BTreeMap<LearnerId, (i64, Vec<QuorumPacket>)>,
    /// Learner side: sessions touched since the last PING (session → timeout).
    pub touches: BTreeMap<i64, i32>,
    pub revalidations: HashMap<i64, PendingRevalidation>,
    /// Learner side: sessions with a `sync` forwarded and not yet answered, oldest first.
    pub pending_syncs: VecDeque<i64>,
    /// Learner side: the NEWLEADER ACK waiting for the log to be durable through the zxid, with
    /// the epoch to make current first.
    pub send_when_durable: Vec<(i64, i64, QuorumPacket)>,
    /// Follower side: proposals logged and not yet acked, and whether acks may flow (after the
    /// NEWLEADER ACK went out).
    pub unacked: VecDeque<i64>,
    pub acks_enabled: bool,
    /// Packets that arrived while the tree was being reloaded after TRUNC.
    pub held_packets: VecDeque<QuorumPacket>,
    pub reloading: bool,
    /// The election must start once the log is durable (after leaving a role).
    pub election_pending: bool,
    /// When the current role began (for `mntr` and logs).
    pub role_started_ms: i64,
    /// When this member last started LOOKING (read-only mode starts after a grace period).
    pub looking_since_ms: i64,
    /// (last, min, max) PROPOSAL payload sizes (`ProposalStats`), −1 before the first.
    pub proposal_sizes: (i64, i64, i64),
}

impl Peer {
    pub fn new(setup: QuorumSetup, last_zxid: i64) -> Peer {
        let mut election = Election::new(setup.my_id, setup.qv.clone(), last_zxid, setup.current_epoch);
        election.set_intervals(setup.notification_interval_ms.0, setup.notification_interval_ms.1);
        let mut committed_log = CommittedLog::new(setup.commit_log_count);
        for (z, b) in &setup.recent_txns {
            committed_log.push(*z, b.clone());
        }
        Peer {
            accepted_epoch: setup.accepted_epoch,
            current_epoch: setup.current_epoch,
            election,
            role: Role::Looking,
            committed_log,
            waiting_learners: BTreeMap::new(),
            touches: BTreeMap::new(),
            revalidations: HashMap::new(),
            pending_syncs: VecDeque::new(),
            send_when_durable: Vec::new(),
            unacked: VecDeque::new(),
            acks_enabled: false,
            held_packets: VecDeque::new(),
            reloading: false,
            election_pending: true,
            role_started_ms: 0,
            proposal_sizes: (-1, -1, -1),
            looking_since_ms: 0,
            setup,
        }
    }

    /// The server state `srvr` and `mntr` report.
    pub fn state(&self) -> ServerState {
        match &self.role {
            Role::Looking => ServerState::Looking,
            Role::Leading(_) => ServerState::Leading,
            Role::Learning { learner, .. } => {
                if learner.is_observer() {
                    ServerState::Observing
                } else {
                    ServerState::Following
                }
            }
        }
    }

    pub fn leader(&self) -> Option<&Leader> {
        match &self.role {
            Role::Leading(l) => Some(l),
            _ => None,
        }
    }

    pub fn learner(&self) -> Option<&Learner> {
        match &self.role {
            Role::Learning { learner, .. } => Some(learner),
            _ => None,
        }
    }

    pub fn is_learner(&self) -> bool {
        matches!(self.role, Role::Learning { .. })
    }

    pub fn is_follower(&self) -> bool {
        matches!(&self.role, Role::Learning { learner, .. } if !learner.is_observer())
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leading(_))
    }

    /// Clears what belonged to the role being left.
    pub fn reset_role_state(&mut self) {
        self.touches.clear();
        self.revalidations.clear();
        self.pending_syncs.clear();
        self.send_when_durable.clear();
        self.unacked.clear();
        self.acks_enabled = false;
        self.held_packets.clear();
        self.reloading = false;
    }
}
