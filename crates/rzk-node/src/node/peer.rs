//! The quorum peer loop (`QuorumPeer.run`): LOOKING until the election decides, then LEADING,
//! FOLLOWING or OBSERVING until the role fails, then LOOKING again. Before each election the
//! core waits until everything it handed to the log is durable, then applies the txns it had
//! logged but not committed (`fastForwardDataBase`), so its vote names its real last zxid.

use rzk_proto::QuorumPacket;
use rzk_zab::election::ElectionOut;
use rzk_zab::leader::{Leader, LeaderConfig, LearnerId};
use rzk_zab::learner::{Learner, LearnerConfig};
use rzk_zab::{Notification, ServerState, Vote};

use super::{ClientOut, Node};
use crate::io::{PeerInput, PeerOut};
use crate::quorum::Role;
use crate::sessions::SessionTracker;

/// `mntr`'s quorum figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumGauges {
    /// `getDetailedPeerState`: "leading - broadcast", "following - broadcast", ...
    pub peer_state: String,
    /// Voting members.
    pub quorum_size: usize,
    pub leader: Option<LeaderGauges>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderGauges {
    pub learners: usize,
    pub synced_followers: usize,
    pub synced_observers: usize,
    pub pending_syncs: usize,
    pub uptime_ms: i64,
    /// (last, min, max) proposal sizes in bytes; −1 before the first.
    pub proposal_sizes: (i64, i64, i64),
}

impl Node {
    pub(super) fn is_learner(&self) -> bool {
        self.peer.as_ref().is_some_and(|p| p.is_learner())
    }

    /// The server state for `srvr`/`mntr` (`None` when standalone).
    pub fn quorum_state(&self) -> Option<ServerState> {
        self.peer.as_ref().map(|p| p.state())
    }

    /// The leader this server follows or observes, or itself when leading.
    pub fn current_leader(&self) -> Option<i64> {
        let p = self.peer.as_ref()?;
        match &p.role {
            Role::Leading(_) => Some(p.setup.my_id),
            Role::Learning { learner, .. } => Some(learner.leader()),
            Role::Looking => None,
        }
    }

    /// (sid, observer, synced) of the learners of a leader.
    pub fn learners(&self) -> Vec<(i64, bool, bool)> {
        self.peer.as_ref().and_then(|p| p.leader()).map(|l| l.learners()).unwrap_or_default()
    }

    /// Proposals the leader has in flight.
    pub fn pending_proposals(&self) -> usize {
        self.peer.as_ref().and_then(|p| p.leader()).map(|l| l.outstanding()).unwrap_or(0)
    }

    /// The figures `mntr` prints for a quorum member (`QuorumZooKeeperServer`,
    /// `LeaderZooKeeperServer`).
    pub fn quorum_gauges(&self) -> Option<QuorumGauges> {
        let p = self.peer.as_ref()?;
        let state = match p.state() {
            ServerState::Leading => "leading",
            ServerState::Following => "following",
            ServerState::Observing => "observing",
            ServerState::Looking => "looking",
        };
        let zab = if self.serving { "broadcast" } else { "election" };
        let mut g = QuorumGauges {
            peer_state: format!("{state} - {zab}"),
            quorum_size: p.setup.qv.voters().len(),
            leader: None,
        };
        if let Some(l) = p.leader() {
            g.leader = Some(LeaderGauges {
                learners: l.learner_connections(),
                synced_followers: l.forwarding_followers().len(),
                synced_observers: l.forwarding_observers(),
                pending_syncs: l.pending_syncs(),
                uptime_ms: self.elapsed_ms - p.role_started_ms,
                proposal_sizes: p.proposal_sizes,
            });
        }
        Some(g)
    }

    /// (acceptedEpoch, currentEpoch).
    pub fn epochs(&self) -> Option<(i64, i64)> {
        self.peer.as_ref().map(|p| (p.accepted_epoch, p.current_epoch))
    }

    fn peer_out(&mut self, o: PeerOut) {
        self.ready.peer_out.push(o);
    }

    pub(super) fn peer_input(&mut self, input: PeerInput) {
        let now = self.elapsed_ms;
        let Some(p) = self.peer.as_mut() else { return };
        match input {
            PeerInput::Notification { from, bytes } => match Notification::decode(&bytes) {
                Ok(n) => {
                    p.election.receive(from, n, now);
                    self.election_out();
                }
                Err(e) => tracing::warn!(from, error = %e, "bad election notification"),
            },
            PeerInput::LeaderConnected => {
                if let Role::Learning { learner, connected } = &mut p.role
                    && !*connected
                {
                    *connected = true;
                    learner.connected(now);
                    self.learner_out();
                }
            }
            PeerInput::LeaderConnectFailed | PeerInput::LeaderClosed => {
                if p.is_learner() {
                    self.leave_role("the connection to the leader failed or closed");
                }
            }
            PeerInput::FromLeader(packet) => self.leader_packet(packet),
            PeerInput::LearnerAccepted { id } => match &mut p.role {
                Role::Leading(l) => {
                    l.learner_connected(id);
                    self.leader_out();
                }
                _ => {
                    p.waiting_learners.insert(id, (now, Vec::new()));
                }
            },
            PeerInput::FromLearner { id, packet } => self.learner_packet(id, packet),
            PeerInput::LearnerClosed { id } => {
                p.waiting_learners.remove(&id);
                if let Role::Leading(l) = &mut p.role {
                    l.learner_closed(id);
                    self.leader_out();
                }
            }
        }
    }

    fn learner_packet(&mut self, id: LearnerId, packet: QuorumPacket) {
        let last = self.tree.last_processed_zxid;
        let Some(p) = self.peer.as_mut() else { return };
        match &mut p.role {
            Role::Leading(l) => {
                l.receive(id, packet, &p.committed_log, last);
                self.leader_out();
            }
            _ => {
                if let Some((_, held)) = p.waiting_learners.get_mut(&id) {
                    held.push(packet);
                }
            }
        }
    }

    pub(super) fn peer_tick(&mut self) {
        let now = self.elapsed_ms;
        let Some(p) = self.peer.as_mut() else { return };
        // Learner connections that found no leader here are dropped after initLimit.
        let limit = p.setup.init_limit * self.cfg.tick_time_ms;
        let stale: Vec<LearnerId> = p
            .waiting_learners
            .iter()
            .filter(|(_, (since, _))| now - since > limit)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            p.waiting_learners.remove(&id);
            self.ready.peer_out.push(PeerOut::CloseLearner { id });
        }
        let Some(p) = self.peer.as_mut() else { return };
        match &mut p.role {
            Role::Looking => {
                p.election.tick(now);
                self.election_out();
            }
            Role::Leading(l) => {
                l.tick(now);
                self.leader_out();
            }
            Role::Learning { learner, .. } => {
                learner.tick(now);
                self.learner_out();
            }
        }
        self.maybe_start_election();
    }

    /// Starts a round once nothing handed to the log is still on its way to disk.
    pub(super) fn maybe_start_election(&mut self) {
        let now = self.elapsed_ms;
        let durable = self.durable >= self.last_appended;
        let last = self.tree.last_processed_zxid;
        let Some(p) = self.peer.as_mut() else { return };
        if !matches!(p.role, Role::Looking) || !p.election_pending || !durable || p.reloading {
            return;
        }
        p.election_pending = false;
        let epoch = p.current_epoch;
        p.election.start(now, last, epoch);
        self.election_out();
    }

    fn election_out(&mut self) {
        let Some(p) = self.peer.as_mut() else { return };
        let outs = p.election.take_out();
        for o in outs {
            match o {
                ElectionOut::Send { to, notification } => {
                    self.peer_out(PeerOut::Notification { to, bytes: notification.encode() });
                }
                ElectionOut::Decided(v) => self.start_role(v),
            }
        }
    }

    fn start_role(&mut self, v: Vote) {
        self.leave_read_only();
        let now = self.elapsed_ms;
        let last = self.tree.last_processed_zxid;
        let tick = self.cfg.tick_time_ms;
        let Some(p) = self.peer.as_mut() else { return };
        p.role_started_ms = now;
        match v.state {
            ServerState::Leading => {
                tracing::info!(my_id = p.setup.my_id, "LEADING");
                let cfg = LeaderConfig {
                    my_id: p.setup.my_id,
                    tick_time_ms: tick,
                    init_limit: p.setup.init_limit,
                    sync_limit: p.setup.sync_limit,
                    force_snap: p.setup.force_snap_sync,
                };
                let mut leader =
                    Leader::new(cfg, p.setup.qv.clone(), p.accepted_epoch, p.current_epoch, last, now);
                let waiting = std::mem::take(&mut p.waiting_learners);
                for (id, (_, held)) in waiting {
                    leader.learner_connected(id);
                    for packet in held {
                        leader.receive(id, packet, &p.committed_log, last);
                    }
                }
                p.role = Role::Leading(Box::new(leader));
                self.leader_out();
            }
            ServerState::Following | ServerState::Observing => {
                let observer = v.state == ServerState::Observing;
                tracing::info!(my_id = p.setup.my_id, leader = v.leader, observer, "FOLLOWING/OBSERVING");
                let cfg = LearnerConfig {
                    my_id: p.setup.my_id,
                    observer,
                    tick_time_ms: tick,
                    init_limit: p.setup.init_limit,
                    sync_limit: p.setup.sync_limit,
                    config_version: p.setup.qv.version,
                };
                let learner = Learner::new(cfg, v.leader, p.accepted_epoch, p.current_epoch, last, now);
                p.role = Role::Learning { learner: Box::new(learner), connected: false };
                for id in std::mem::take(&mut p.waiting_learners).into_keys() {
                    self.ready.peer_out.push(PeerOut::CloseLearner { id });
                }
                self.peer_out(PeerOut::ConnectLeader { sid: v.leader });
            }
            ServerState::Looking => {}
        }
    }

    /// Leaves the current role (`QuorumPeer`'s finally blocks): clients are disconnected, the
    /// txns logged but not committed are applied, and a new election follows once the log is
    /// durable.
    pub(super) fn leave_role(&mut self, why: &str) {
        let Some(p) = self.peer.as_mut() else { return };
        if matches!(p.role, Role::Looking) {
            return;
        }
        tracing::warn!(my_id = p.setup.my_id, reason = why, state = ?p.state(), "leaving the role; back to LOOKING");
        let old = std::mem::replace(&mut p.role, Role::Looking);
        match old {
            Role::Leading(l) => {
                for id in l.connection_ids() {
                    self.ready.peer_out.push(PeerOut::CloseLearner { id });
                }
            }
            Role::Learning { .. } => self.ready.peer_out.push(PeerOut::DisconnectLeader),
            Role::Looking => {}
        }
        let now = self.elapsed_ms;
        let Some(p) = self.peer.as_mut() else { return };
        p.reset_role_state();
        p.election.stop_following();
        p.election_pending = true;
        p.looking_since_ms = now;
        self.serving = false;
        self.close_all_clients();
        self.fast_forward();
        self.maybe_start_election();
    }

    fn close_all_clients(&mut self) {
        let mut conns: Vec<u64> = self.conns.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            self.detach(conn);
            self.out(conn, ClientOut::Close { reason: "server left its quorum role" });
        }
        self.queues.clear();
        self.forwarded.clear();
        self.audit_notes.clear();
    }

    /// `fastForwardDataBase`: txns that reached the log are applied to the tree (without
    /// replies); prep starts again from the tree.
    fn fast_forward(&mut self) {
        let mut events = Vec::new();
        for f in std::mem::take(&mut self.in_flight) {
            let hdr = &f.entry.header;
            if hdr.zxid > self.tree.last_processed_zxid {
                self.tree.process_txn(hdr, &f.entry.body, &mut events);
                if let Some(p) = self.peer.as_mut() {
                    p.committed_log.push(hdr.zxid, f.bytes.clone());
                }
            }
        }
        self.changes = crate::changes::Outstanding::default();
        self.last_zxid = self.tree.last_processed_zxid;
        let clock = self.session_clock_ms();
        self.sessions = SessionTracker::new(
            self.cfg.tick_time_ms,
            self.peer.as_ref().map(|p| p.setup.my_id).unwrap_or(1),
            clock,
        );
    }

    /// `ZKDatabase.initConfigInZKDatabase`: `/zookeeper/config` holds the quorum configuration
    /// text (version −1, mzxid the configuration's version), at start-up and whenever the tree
    /// comes from elsewhere (SNAP, reload after TRUNC).
    pub(super) fn init_config_node(&mut self) {
        let Some(p) = self.peer.as_ref() else { return };
        let text = bytes::Bytes::from(p.setup.qv.config_text());
        let version = p.setup.qv.version;
        let mut events = Vec::new();
        let r = self.tree.set_data(
            rzk_tree::tree::CONFIG_PATH,
            Some(text),
            -1,
            version,
            self.wall_ms,
            &mut events,
        );
        if r.is_err() {
            tracing::warn!("configuration znode missing");
        }
        self.deliver(events);
    }

    /// Clients are served again: every global session is tracked from the tree.
    pub(super) fn start_serving(&mut self) {
        let my_id = self.peer.as_ref().map(|p| p.setup.my_id).unwrap_or(1);
        let mut sessions = SessionTracker::new(self.cfg.tick_time_ms, my_id, self.session_clock_ms());
        for (&id, &timeout) in &self.tree.sessions {
            sessions.add(id, timeout, self.elapsed_ms);
        }
        self.sessions = sessions;
        self.serving = true;
    }

    /// The log made txns durable: the leader counts its own ack; a learner sends what waited
    /// for the log, then ACKs proposals.
    pub(super) fn peer_persisted(&mut self, through: i64) {
        let Some(p) = self.peer.as_mut() else { return };
        match &mut p.role {
            Role::Leading(l) => {
                l.local_persisted(through);
                self.leader_out();
            }
            Role::Learning { .. } => self.learner_persisted(through),
            Role::Looking => {}
        }
        self.maybe_start_election();
    }

    /// Proposes a txn the leader prepared.
    pub(super) fn propose(&mut self, zxid: i64, bytes: bytes::Bytes) {
        if let Some(p) = self.peer.as_mut()
            && let Role::Leading(l) = &mut p.role
        {
            let n = bytes.len() as i64;
            let (_, min, max) = p.proposal_sizes;
            p.proposal_sizes = (n, if min < 0 { n } else { min.min(n) }, max.max(n));
            l.propose(zxid, bytes);
            self.leader_out();
        }
    }
}
