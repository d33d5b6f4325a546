//! FastLeaderElection as a state machine (`FastLeaderElection.lookForLeader` and its
//! `WorkerReceiver`). Inputs: [`Election::start`] (a new round), [`Election::receive`] (a
//! notification from a peer) and [`Election::tick`] (time). Output: notifications to send and,
//! once, the decision ([`ElectionOut::Decided`]). After the decision the machine keeps answering
//! LOOKING peers with the vote it decided on, as a server out of election does.
//!
//! Faithful to ZooKeeper 3.8: votes are ordered by (peerEpoch, zxid, sid); a round ends when a
//! quorum votes alike and no better vote arrives within `finalizeWait` (non-better notifications
//! that arrive meanwhile are dropped, as Java's finalize loop drops them); FOLLOWING/LEADING
//! notifications let a late server join an established leader (`checkLeader`); unanswered rounds
//! re-send with exponential backoff from minNotificationInterval to maxNotificationInterval.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::notification::{NOTIFICATION_VERSION, Notification};
use crate::verifier::QuorumVerifier;
use crate::vote::{ServerState, Vote, beats};

/// `FastLeaderElection.finalizeWait`.
pub const FINALIZE_WAIT_MS: i64 = 200;
/// `zookeeper.fastleader.minNotificationInterval` / `maxNotificationInterval`.
pub const MIN_NOTIFICATION_INTERVAL_MS: i64 = 200;
pub const MAX_NOTIFICATION_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectionOut {
    Send {
        to: i64,
        notification: Notification,
    },
    /// The round is over: lead, follow or observe `vote.leader` (`vote.state` says which).
    Decided(Vote),
}

pub struct Election {
    my_id: i64,
    qv: QuorumVerifier,
    state: ServerState,
    /// What a server out of election answers with (`QuorumPeer.getCurrentVote`).
    current: Vote,
    logical_clock: i64,
    proposed: (i64, i64, i64),
    my_zxid: i64,
    my_epoch: i64,
    recvset: BTreeMap<i64, Vote>,
    outofelection: BTreeMap<i64, Vote>,
    not_timeout_ms: i64,
    resend_at_ms: i64,
    finalize_until_ms: Option<i64>,
    inbox: VecDeque<(i64, Notification)>,
    out: Vec<ElectionOut>,
    min_interval_ms: i64,
    max_interval_ms: i64,
}

impl Election {
    /// An election for `my_id` in `qv`, not yet looking; until [`start`](Self::start) it answers
    /// with a vote for itself.
    pub fn new(my_id: i64, qv: QuorumVerifier, last_zxid: i64, current_epoch: i64) -> Election {
        let current = Vote {
            leader: my_id,
            zxid: last_zxid,
            election_epoch: 0,
            peer_epoch: current_epoch,
            state: ServerState::Looking,
            version: NOTIFICATION_VERSION,
        };
        Election {
            my_id,
            qv,
            state: ServerState::Looking,
            current,
            logical_clock: 0,
            proposed: (my_id, last_zxid, current_epoch),
            my_zxid: last_zxid,
            my_epoch: current_epoch,
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            not_timeout_ms: MIN_NOTIFICATION_INTERVAL_MS,
            resend_at_ms: 0,
            finalize_until_ms: None,
            inbox: VecDeque::new(),
            out: Vec::new(),
            min_interval_ms: MIN_NOTIFICATION_INTERVAL_MS,
            max_interval_ms: MAX_NOTIFICATION_INTERVAL_MS,
        }
    }

    /// Overrides the notification backoff bounds (tests and the simulator use short ones).
    pub fn set_intervals(&mut self, min_ms: i64, max_ms: i64) {
        self.min_interval_ms = min_ms;
        self.max_interval_ms = max_ms;
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    pub fn logical_clock(&self) -> i64 {
        self.logical_clock
    }

    pub fn current_vote(&self) -> Vote {
        self.current
    }

    pub fn verifier(&self) -> &QuorumVerifier {
        &self.qv
    }

    fn is_voter_self(&self) -> bool {
        self.qv.is_voter(self.my_id)
    }

    /// `getInitId` / `getInitLastLoggedZxid` / `getPeerEpoch`: non-voters propose nobody.
    fn init_vote(&self) -> (i64, i64, i64) {
        if self.is_voter_self() {
            (self.my_id, self.my_zxid, self.my_epoch)
        } else {
            (i64::MIN, i64::MIN, i64::MIN)
        }
    }

    /// Takes the notifications to send and the decision, if any.
    pub fn take_out(&mut self) -> Vec<ElectionOut> {
        std::mem::take(&mut self.out)
    }

    /// Starts a new round (`lookForLeader`), from this server's last logged zxid and current
    /// epoch.
    pub fn start(&mut self, now_ms: i64, last_zxid: i64, current_epoch: i64) {
        self.state = ServerState::Looking;
        self.my_zxid = last_zxid;
        self.my_epoch = current_epoch;
        self.recvset.clear();
        self.outofelection.clear();
        self.finalize_until_ms = None;
        self.not_timeout_ms = self.min_interval_ms;
        self.logical_clock += 1;
        self.proposed = self.init_vote();
        self.current = Vote {
            leader: self.my_id,
            zxid: last_zxid,
            election_epoch: self.logical_clock,
            peer_epoch: current_epoch,
            state: ServerState::Looking,
            version: NOTIFICATION_VERSION,
        };
        tracing::info!(my_id = self.my_id, zxid = %format!("0x{last_zxid:x}"), clock = self.logical_clock, "new election");
        self.send_notifications();
        self.resend_at_ms = now_ms + self.not_timeout_ms;
        self.drain(now_ms);
    }

    fn config_bytes(&self) -> Vec<u8> {
        self.qv.config_text().into_bytes()
    }

    /// Our current proposal as a LOOKING vote of this round.
    fn proposed_vote(&self) -> Vote {
        let (leader, zxid, peer_epoch) = self.proposed;
        Vote {
            leader,
            zxid,
            election_epoch: self.logical_clock,
            peer_epoch,
            state: ServerState::Looking,
            version: NOTIFICATION_VERSION,
        }
    }

    /// `sendNotifications`: our proposal to every voter (ourselves included).
    fn send_notifications(&mut self) {
        let (leader, zxid, epoch) = self.proposed;
        let config = self.config_bytes();
        for to in self.qv.voters() {
            let n = Notification {
                state: ServerState::Looking,
                leader,
                zxid,
                election_epoch: self.logical_clock,
                peer_epoch: epoch,
                version: NOTIFICATION_VERSION,
                config: config.clone(),
            };
            self.send(to, n);
        }
    }

    fn send(&mut self, to: i64, n: Notification) {
        if to == self.my_id {
            self.inbox.push_back((to, n));
        } else {
            self.out.push(ElectionOut::Send { to, notification: n });
        }
    }

    /// A notification from `from` (the WorkerReceiver, then lookForLeader).
    pub fn receive(&mut self, from: i64, n: Notification, now_ms: i64) {
        self.inbox.push_back((from, n));
        self.drain(now_ms);
    }

    fn drain(&mut self, now_ms: i64) {
        while let Some((from, n)) = self.inbox.pop_front() {
            self.handle(from, n, now_ms);
        }
    }

    fn answer(&mut self, to: i64, vote: Vote, election_epoch: i64) {
        let n = Notification {
            state: self.state,
            leader: vote.leader,
            zxid: vote.zxid,
            election_epoch,
            peer_epoch: vote.peer_epoch,
            version: NOTIFICATION_VERSION,
            config: self.config_bytes(),
        };
        self.send(to, n);
    }

    fn handle(&mut self, from: i64, n: Notification, now_ms: i64) {
        // Non-voters (observers) get our current vote at once and are not counted.
        if !self.qv.is_voter(from) {
            let v = self.current;
            self.answer(from, v, self.logical_clock);
            return;
        }
        if self.state != ServerState::Looking {
            if n.state == ServerState::Looking {
                let v = self.current;
                self.answer(from, v, v.election_epoch);
            }
            return;
        }
        if n.state == ServerState::Looking && n.election_epoch < self.logical_clock {
            let v = self.proposed_vote();
            self.answer(from, v, self.logical_clock);
        }
        if !self.qv.is_voter(n.leader) {
            return;
        }
        if let Some(until) = self.finalize_until_ms {
            // Finalizing: only a better vote reopens the round; others are dropped.
            let (pl, pz, pe) = self.proposed;
            if beats((n.leader, n.zxid, n.peer_epoch), (pl, pz, pe), self.qv.weight(n.leader)) {
                self.finalize_until_ms = None;
            } else {
                self.finalize_until_ms = Some(until.max(now_ms + FINALIZE_WAIT_MS));
                return;
            }
        }
        match n.state {
            ServerState::Looking => self.on_looking(from, &n, now_ms),
            ServerState::Observing => {}
            ServerState::Following | ServerState::Leading => self.on_decided(from, &n),
        }
    }

    fn vote_of(n: &Notification) -> Vote {
        Vote {
            leader: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state: n.state,
            version: n.version,
        }
    }

    fn on_looking(&mut self, from: i64, n: &Notification, now_ms: i64) {
        if self.my_zxid == -1 || n.zxid == -1 {
            return;
        }
        let weight = self.qv.weight(n.leader);
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            self.recvset.clear();
            let init = self.init_vote();
            self.proposed = if beats((n.leader, n.zxid, n.peer_epoch), init, weight) {
                (n.leader, n.zxid, n.peer_epoch)
            } else {
                init
            };
            self.send_notifications();
        } else if n.election_epoch < self.logical_clock {
            return;
        } else if beats((n.leader, n.zxid, n.peer_epoch), self.proposed, weight) {
            self.proposed = (n.leader, n.zxid, n.peer_epoch);
            self.send_notifications();
        }
        self.recvset.insert(from, Self::vote_of(n));
        let mine = self.proposed_vote();
        if self.has_quorum(&self.recvset, &mine) {
            self.finalize_until_ms = Some(now_ms + FINALIZE_WAIT_MS);
        }
    }

    /// `receivedFollowingNotification` / `receivedLeadingNotification` (without the oracle).
    fn on_decided(&mut self, from: i64, n: &Notification) {
        let v = Self::vote_of(n);
        if n.election_epoch == self.logical_clock {
            self.recvset.insert(from, v);
            if self.has_quorum(&self.recvset, &v)
                && self.check_leader(&self.recvset, n.leader, n.election_epoch)
            {
                self.decide(Vote { state: ServerState::Looking, ..v });
                return;
            }
        }
        self.outofelection.insert(from, v);
        if self.has_quorum(&self.outofelection, &v)
            && self.check_leader(&self.outofelection, n.leader, n.election_epoch)
        {
            self.logical_clock = n.election_epoch;
            self.decide(Vote { state: ServerState::Looking, ..v });
        }
    }

    /// Whether the votes equal to `vote` make a quorum (`getVoteTracker(...).hasAllQuorums()`).
    fn has_quorum(&self, votes: &BTreeMap<i64, Vote>, vote: &Vote) -> bool {
        let ids: BTreeSet<i64> = votes.iter().filter(|(_, v)| v.same_as(vote)).map(|(id, _)| *id).collect();
        self.qv.contains_quorum(&ids)
    }

    /// `checkLeader`: the leader we would follow must itself say it leads (or be us, this round).
    fn check_leader(&self, votes: &BTreeMap<i64, Vote>, leader: i64, election_epoch: i64) -> bool {
        if leader != self.my_id {
            votes.get(&leader).is_some_and(|v| v.state == ServerState::Leading)
        } else {
            self.logical_clock == election_epoch
        }
    }

    fn decide(&mut self, v: Vote) {
        self.state = if v.leader == self.my_id {
            ServerState::Leading
        } else if self.is_voter_self() {
            ServerState::Following
        } else {
            ServerState::Observing
        };
        self.finalize_until_ms = None;
        self.current = Vote { election_epoch: v.election_epoch, state: self.state, ..v };
        tracing::info!(my_id = self.my_id, leader = v.leader, zxid = %format!("0x{:x}", v.zxid), state = ?self.state, "election decided");
        self.out.push(ElectionOut::Decided(self.current));
        self.recvset.clear();
        self.outofelection.clear();
    }

    /// Time passes: finalize a round whose quorum stood unchallenged, or re-send with backoff.
    pub fn tick(&mut self, now_ms: i64) {
        if self.state != ServerState::Looking {
            return;
        }
        if let Some(until) = self.finalize_until_ms
            && now_ms >= until
        {
            let v = self.proposed_vote();
            self.decide(v);
            return;
        }
        if self.finalize_until_ms.is_none() && now_ms >= self.resend_at_ms {
            self.send_notifications();
            self.not_timeout_ms = (self.not_timeout_ms * 2).min(self.max_interval_ms);
            self.resend_at_ms = now_ms + self.not_timeout_ms;
            self.drain(now_ms);
        }
    }

    /// After a leader is established the vote names the new epoch (`updateElectionVote`,
    /// ZOOKEEPER-1732), so late servers and Java peers see a consistent vote.
    pub fn update_current_epoch(&mut self, epoch: i64) {
        self.current.peer_epoch = epoch;
    }

    /// The server leaves its role (leader lost, sync failed): the next `start` begins a round.
    pub fn stop_following(&mut self) {
        self.state = ServerState::Looking;
    }
}

#[cfg(test)]
mod tests;
