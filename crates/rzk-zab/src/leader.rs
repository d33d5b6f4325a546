//! The leader's side of Zab (`Leader` and its `LearnerHandler`s) as a state machine over
//! learner connections, with opaque txns:
//!
//! 1. **Discovery.** Each learner's FOLLOWERINFO/OBSERVERINFO reports its accepted epoch; once a
//!    quorum (the leader included) has, the new epoch is the largest + 1 (`getEpochToPropose`),
//!    persisted as acceptedEpoch, and sent in LEADERINFO. ACKEPOCH answers carry each learner's
//!    current epoch and last zxid; a quorum of them (`waitForEpochAck`) makes the epoch current.
//!    A learner more recent than the leader is refused.
//! 2. **Synchronisation.** Each learner gets DIFF, TRUNC or SNAP ([`crate::sync::plan`]), the
//!    proposals still in flight (`startForwarding`), then NEWLEADER. A quorum of NEWLEADER ACKs
//!    establishes the leader ([`LeaderOut::Established`]); learners then get UPTODATE.
//! 3. **Broadcast.** [`Leader::propose`] sends PROPOSALs; a quorum of ACKs (the leader's own after
//!    its fsync) commits them in zxid order: COMMIT to followers, INFORM to observers,
//!    [`LeaderOut::Commit`] to apply. Learner REQUESTs, session touches (PING) and REVALIDATEs go
//!    out to the request core; `sync` waits for the proposals in flight when it arrived.
//!
//! Time: every tickTime/2 the leader pings learners and checks that a quorum is still in touch
//! (`syncLimit` ticks); without one it steps down. Discovery and synchronisation must finish
//! within `initLimit` ticks.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Buf, BufMut, Bytes};
use rzk_proto::{Id, Jute, LearnerInfo, QuorumPacket, Reader};

use crate::packet::{self, make_zxid};
use crate::sync::{self, CommittedLog, SyncPlan};
use crate::verifier::QuorumVerifier;

/// A learner connection, numbered by the shell.
pub type LearnerId = u64;

/// Where a `sync` came from: a learner's forwarded request, or a client of the leader itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncWaiter {
    Learner(LearnerId),
    Local(u64),
}

#[derive(Debug, Clone)]
pub struct LeaderConfig {
    pub my_id: i64,
    pub tick_time_ms: i64,
    pub init_limit: i64,
    pub sync_limit: i64,
    /// `zookeeper.forceSnapshotSync` (tests).
    pub force_snap: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderOut {
    Send(LearnerId, QuorumPacket),
    /// Send SNAP(zxid), the serialized sessions and tree, and the signature.
    Snap(LearnerId, i64),
    Close(LearnerId),
    /// Persist before anything after it is sent.
    AcceptedEpoch(i64),
    CurrentEpoch(i64),
    /// A quorum acknowledged NEWLEADER: serve clients.
    Established,
    /// Apply the txn with this zxid (proposals commit in order).
    Commit(i64),
    /// A learner forwarded a client request: `op` and the request body as the client sent it.
    Request {
        from: LearnerId,
        session: i64,
        cxid: i32,
        op: i32,
        body: Bytes,
        authinfo: Vec<Id>,
    },
    /// A learner saw the session alive (its PING answer).
    Touch {
        session: i64,
        timeout: i32,
    },
    /// A client reconnected to a learner: is the session valid? Answer with
    /// [`Leader::revalidated`].
    Revalidate {
        from: LearnerId,
        session: i64,
        timeout: i32,
    },
    /// A local `sync` may be answered.
    LocalSyncDone(u64),
    /// Give up leadership (back to LOOKING).
    StepDown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Discovery,
    Synchronization,
    Broadcast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for FOLLOWERINFO / OBSERVERINFO.
    Info,
    /// Reported its accepted epoch; waiting for the epoch quorum.
    EpochWait,
    /// LEADERINFO sent; waiting for ACKEPOCH.
    AckEpoch,
    /// Acked the epoch; waiting for the epoch-ack quorum.
    ElectionWait { peer_last_zxid: i64 },
    /// Sync and NEWLEADER queued; waiting for the NEWLEADER ACK.
    NewLeaderAck,
    /// Acked NEWLEADER; waiting for the leader to be established.
    StartupWait,
    /// UPTODATE sent.
    Active,
}

#[derive(Debug, Clone)]
struct Handler {
    sid: i64,
    observer: bool,
    stage: Stage,
    /// Receives proposals (followers) or informs (observers).
    forwarding: bool,
    /// The leader tick by which this learner must have sent something (`tickOfNextAckDeadline`).
    deadline_tick: i64,
}

impl Handler {
    fn started_sending(&self) -> bool {
        matches!(self.stage, Stage::NewLeaderAck | Stage::StartupWait | Stage::Active)
    }
}

#[derive(Debug, Clone)]
struct Proposal {
    data: Bytes,
    acks: BTreeSet<i64>,
}

pub struct Leader {
    cfg: LeaderConfig,
    qv: QuorumVerifier,
    phase: Phase,
    /// The epoch being established (−1 until a learner or we report an accepted epoch).
    epoch: i64,
    epoch_decided: bool,
    election_finished: bool,
    quorum_formed: bool,
    connecting: BTreeSet<i64>,
    electing: BTreeSet<i64>,
    newleader_acks: BTreeSet<i64>,
    /// (currentEpoch, last zxid) when leading began (`leaderStateSummary`).
    summary: (i64, i64),
    handlers: BTreeMap<LearnerId, Handler>,
    outstanding: BTreeMap<i64, Proposal>,
    last_proposed: i64,
    last_committed: i64,
    pending_syncs: BTreeMap<i64, Vec<SyncWaiter>>,
    tick: i64,
    tick_skip: bool,
    next_half_tick_ms: i64,
    /// Discovery and synchronisation must be over by then.
    phase_deadline_ms: i64,
    next_anonymous_sid: i64,
    /// The time of the last tick (phase deadlines restart from it).
    now_ms: i64,
    out: Vec<LeaderOut>,
    stepped_down: bool,
}

impl Leader {
    /// Starts leading (`Leader.lead`): the leader counts itself as connected with its accepted
    /// epoch.
    pub fn new(
        cfg: LeaderConfig,
        qv: QuorumVerifier,
        accepted_epoch: i64,
        current_epoch: i64,
        last_zxid: i64,
        now_ms: i64,
    ) -> Leader {
        let phase_deadline_ms = now_ms + cfg.init_limit * cfg.tick_time_ms;
        let mut l = Leader {
            qv,
            phase: Phase::Discovery,
            epoch: -1,
            epoch_decided: false,
            election_finished: false,
            quorum_formed: false,
            connecting: BTreeSet::new(),
            electing: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            summary: (current_epoch, last_zxid),
            handlers: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            last_proposed: last_zxid,
            last_committed: last_zxid,
            pending_syncs: BTreeMap::new(),
            tick: 0,
            tick_skip: true,
            next_half_tick_ms: now_ms + cfg.tick_time_ms / 2,
            phase_deadline_ms,
            next_anonymous_sid: -1,
            now_ms,
            out: Vec::new(),
            stepped_down: false,
            cfg,
        };
        let me = l.cfg.my_id;
        l.epoch_to_propose(me, accepted_epoch);
        l
    }

    pub fn take_out(&mut self) -> Vec<LeaderOut> {
        std::mem::take(&mut self.out)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The epoch being established (valid once decided).
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    pub fn epoch_decided(&self) -> bool {
        self.epoch_decided
    }

    pub fn last_proposed(&self) -> i64 {
        self.last_proposed
    }

    pub fn last_committed(&self) -> i64 {
        self.last_committed
    }

    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// (sid, observer, synced) of every learner connection that identified itself.
    pub fn learners(&self) -> Vec<(i64, bool, bool)> {
        self.handlers
            .values()
            .filter(|h| h.stage != Stage::Info)
            .map(|h| (h.sid, h.observer, self.tick <= h.deadline_tick && h.stage == Stage::Active))
            .collect()
    }

    /// Every learner connection (to close them when leadership ends).
    pub fn connection_ids(&self) -> Vec<LearnerId> {
        self.handlers.keys().copied().collect()
    }

    /// The sids of voting followers currently receiving proposals.
    pub fn forwarding_followers(&self) -> Vec<i64> {
        self.handlers.values().filter(|h| h.forwarding && !h.observer).map(|h| h.sid).collect()
    }

    /// Observers currently receiving INFORMs.
    pub fn forwarding_observers(&self) -> usize {
        self.handlers.values().filter(|h| h.forwarding && h.observer).count()
    }

    /// Learner connections (`getLearners().size()`), identified or not.
    pub fn learner_connections(&self) -> usize {
        self.handlers.len()
    }

    /// `sync`s waiting for proposals to commit (`getNumPendingSyncs`).
    pub fn pending_syncs(&self) -> usize {
        self.pending_syncs.values().map(Vec::len).sum()
    }

    fn step_down(&mut self, reason: String) {
        if !self.stepped_down {
            self.stepped_down = true;
            tracing::warn!(%reason, "leader stepping down");
            self.out.push(LeaderOut::StepDown(reason));
        }
    }

    fn send(&mut self, to: LearnerId, p: QuorumPacket) {
        self.out.push(LeaderOut::Send(to, p));
    }

    fn close(&mut self, to: LearnerId, why: &str) {
        if let Some(h) = self.handlers.remove(&to) {
            tracing::warn!(sid = h.sid, why, "closing learner connection");
        }
        self.out.push(LeaderOut::Close(to));
    }

    // ---- connections ----

    pub fn learner_connected(&mut self, id: LearnerId) {
        let deadline_tick = self.tick + self.cfg.init_limit + self.cfg.sync_limit;
        self.handlers.insert(
            id,
            Handler { sid: i64::MIN, observer: false, stage: Stage::Info, forwarding: false, deadline_tick },
        );
    }

    pub fn learner_closed(&mut self, id: LearnerId) {
        if let Some(h) = self.handlers.remove(&id) {
            tracing::warn!(sid = h.sid, "learner connection closed");
        }
    }

    /// A packet from a learner. `log` and `last_processed` describe the leader's database, for
    /// syncing the learner.
    pub fn receive(&mut self, id: LearnerId, p: QuorumPacket, log: &CommittedLog, last_processed: i64) {
        let Some(h) = self.handlers.get_mut(&id) else { return };
        h.deadline_tick = self.tick + self.cfg.sync_limit;
        let stage = h.stage;
        match stage {
            Stage::Info => self.on_info(id, p),
            Stage::AckEpoch => self.on_ack_epoch(id, p, log, last_processed),
            Stage::NewLeaderAck => self.on_newleader_ack(id, p),
            Stage::EpochWait | Stage::ElectionWait { .. } => {
                tracing::warn!(packet = packet::name(p.packet_type), "unexpected packet during discovery");
            }
            Stage::StartupWait | Stage::Active => self.on_broadcast_packet(id, p),
        }
    }

    fn on_info(&mut self, id: LearnerId, p: QuorumPacket) {
        if p.packet_type != packet::FOLLOWERINFO && p.packet_type != packet::OBSERVERINFO {
            self.close(id, "first packet is not FOLLOWERINFO or OBSERVERINFO");
            return;
        }
        let data = p.data.clone().unwrap_or_default();
        let (sid, version) = if p.data.is_none() {
            let sid = self.next_anonymous_sid;
            self.next_anonymous_sid -= 1;
            (sid, 0)
        } else {
            let mut b = &data[..];
            let sid = if b.len() >= 8 { b.get_i64() } else { i64::MIN };
            let version = if b.len() >= 4 { b.get_i32() } else { 0 };
            if b.len() >= 8 && b.get_i64() > self.qv.version {
                self.close(id, "learner has a later activated configuration");
                return;
            }
            (sid, version)
        };
        if version < packet::PROTOCOL_VERSION {
            // Pre-3.4 learners (no LEADERINFO) are not supported.
            self.close(id, "learner speaks a protocol older than Zab 1.0");
            return;
        }
        let observer = p.packet_type == packet::OBSERVERINFO;
        if !self.qv.members.contains_key(&sid) {
            tracing::info!(sid, "learner not in the current config");
        }
        tracing::info!(sid, observer, "learner connected");
        if let Some(h) = self.handlers.get_mut(&id) {
            h.sid = sid;
            h.observer = observer;
            h.stage = Stage::EpochWait;
        }
        let accepted = packet::epoch_of(p.zxid);
        self.epoch_to_propose(sid, accepted);
        if self.epoch_decided && self.handlers.get(&id).is_some_and(|h| h.stage == Stage::EpochWait) {
            self.send_leader_info(id);
        }
    }

    /// `getEpochToPropose`.
    fn epoch_to_propose(&mut self, sid: i64, accepted_epoch: i64) {
        if self.epoch_decided {
            return;
        }
        if accepted_epoch >= self.epoch {
            self.epoch = accepted_epoch + 1;
        }
        if self.qv.is_voter(sid) {
            self.connecting.insert(sid);
        }
        if self.connecting.contains(&self.cfg.my_id) && self.qv.contains_quorum(&self.connecting) {
            self.epoch_decided = true;
            tracing::info!(epoch = self.epoch, "new epoch decided");
            self.phase_deadline_ms = self.now_ms + self.cfg.init_limit * self.cfg.tick_time_ms;
            self.out.push(LeaderOut::AcceptedEpoch(self.epoch));
            let waiting: Vec<LearnerId> = self
                .handlers
                .iter()
                .filter(|(_, h)| h.stage == Stage::EpochWait)
                .map(|(id, _)| *id)
                .collect();
            for id in waiting {
                self.send_leader_info(id);
            }
            // The leader's own epoch ack (`waitForEpochAck(self)`).
            let me = self.cfg.my_id;
            self.electing.insert(me);
            self.check_election_finished();
        }
    }

    fn new_leader_zxid(&self) -> i64 {
        make_zxid(self.epoch, 0)
    }

    fn send_leader_info(&mut self, id: LearnerId) {
        let zxid = self.new_leader_zxid();
        let mut data = Vec::with_capacity(4);
        data.put_i32(packet::PROTOCOL_VERSION);
        self.send(
            id,
            QuorumPacket { packet_type: packet::LEADERINFO, zxid, data: Some(data.into()), authinfo: None },
        );
        if let Some(h) = self.handlers.get_mut(&id) {
            h.stage = Stage::AckEpoch;
        }
    }

    fn on_ack_epoch(&mut self, id: LearnerId, p: QuorumPacket, log: &CommittedLog, last_processed: i64) {
        if p.packet_type != packet::ACKEPOCH {
            self.close(id, "expected ACKEPOCH");
            return;
        }
        let data = p.data.clone().unwrap_or_default();
        if data.len() < 4 {
            self.close(id, "ACKEPOCH without an epoch");
            return;
        }
        let peer_epoch = (&data[..]).get_i32() as i64;
        let peer_last = p.zxid;
        let Some(sid) = self.handlers.get(&id).map(|h| h.sid) else { return };
        if !self.election_finished && peer_epoch != -1 {
            let (my_epoch, my_zxid) = self.summary;
            if peer_epoch > my_epoch || (peer_epoch == my_epoch && peer_last > my_zxid) {
                tracing::error!(
                    sid,
                    peer_epoch,
                    peer_last = %format!("0x{peer_last:x}"),
                    "follower is ahead of the leader"
                );
                self.close(id, "follower is ahead of the leader");
                return;
            }
            if peer_last != -1 && self.qv.is_voter(sid) {
                self.electing.insert(sid);
            }
        }
        if let Some(h) = self.handlers.get_mut(&id) {
            h.stage = Stage::ElectionWait { peer_last_zxid: peer_last };
        }
        if self.election_finished {
            self.sync_learner(id, peer_last, log, last_processed);
        } else {
            self.check_election_finished();
            if self.election_finished {
                self.sync_waiting(log, last_processed);
            }
        }
    }

    fn check_election_finished(&mut self) {
        if !self.election_finished
            && self.electing.contains(&self.cfg.my_id)
            && self.qv.contains_quorum(&self.electing)
        {
            self.election_finished = true;
            self.phase = Phase::Synchronization;
            tracing::info!(epoch = self.epoch, "epoch acknowledged by a quorum");
            self.phase_deadline_ms = self.now_ms + self.cfg.init_limit * self.cfg.tick_time_ms;
            self.out.push(LeaderOut::CurrentEpoch(self.epoch));
            // The leader's own NEWLEADER ack (`waitForNewLeaderAck(self)`).
            let me = self.cfg.my_id;
            self.newleader_acks.insert(me);
            self.check_quorum_formed();
        }
    }

    /// Syncs every learner that was waiting for the epoch-ack quorum. Called by the node right
    /// after [`LeaderOut::CurrentEpoch`] if it came from the leader's own epoch decision.
    pub fn sync_waiting(&mut self, log: &CommittedLog, last_processed: i64) {
        if !self.election_finished {
            return;
        }
        let waiting: Vec<(LearnerId, i64)> = self
            .handlers
            .iter()
            .filter_map(|(id, h)| match h.stage {
                Stage::ElectionWait { peer_last_zxid } => Some((*id, peer_last_zxid)),
                _ => None,
            })
            .collect();
        for (id, peer_last) in waiting {
            self.sync_learner(id, peer_last, log, last_processed);
        }
        self.check_quorum_formed();
    }

    /// `syncFollower` + `startForwarding` + NEWLEADER.
    fn sync_learner(&mut self, id: LearnerId, peer_last: i64, log: &CommittedLog, last_processed: i64) {
        let Some(h) = self.handlers.get(&id).cloned() else { return };
        let plan = sync::plan(log, last_processed, peer_last, self.cfg.force_snap);
        let current = match plan {
            SyncPlan::Snap => {
                tracing::info!(
                    sid = h.sid,
                    peer_last = %format!("0x{peer_last:x}"),
                    zxid = %format!("0x{last_processed:x}"),
                    "sending snapshot"
                );
                self.out.push(LeaderOut::Snap(id, last_processed));
                last_processed
            }
            SyncPlan::Packets { packets, through } => {
                if let Some(first) = packets.first() {
                    tracing::info!(
                        sid = h.sid,
                        mode = packet::name(first.packet_type),
                        zxid = %format!("0x{:x}", first.zxid),
                        txns = packets.len() / 2,
                        "synchronizing learner"
                    );
                }
                for p in packets {
                    self.send(id, p);
                }
                through
            }
        };
        // startForwarding: proposals still in flight follow the sync (followers only; observers
        // get INFORMs once they commit).
        if self.last_proposed > current && !h.observer {
            let pending: Vec<(i64, Bytes)> =
                self.outstanding.range(current + 1..).map(|(z, p)| (*z, p.data.clone())).collect();
            for (zxid, data) in pending {
                self.send(
                    id,
                    QuorumPacket { packet_type: packet::PROPOSAL, zxid, data: Some(data), authinfo: None },
                );
            }
        }
        let zxid = self.new_leader_zxid();
        let qv_text = self.newleader_config_text();
        self.send(
            id,
            QuorumPacket { packet_type: packet::NEWLEADER, zxid, data: Some(qv_text.into()), authinfo: None },
        );
        if let Some(h) = self.handlers.get_mut(&id) {
            h.forwarding = true;
            h.stage = Stage::NewLeaderAck;
        }
    }

    /// The configuration NEWLEADER carries: a static configuration (version 0) is given the new
    /// epoch's first zxid as its version, as `Leader.lead` does.
    fn newleader_config_text(&self) -> Vec<u8> {
        let mut qv = self.qv.clone();
        if qv.version == 0 {
            qv.version = self.new_leader_zxid();
        }
        qv.config_text().into_bytes()
    }

    fn on_newleader_ack(&mut self, id: LearnerId, p: QuorumPacket) {
        if p.packet_type != packet::ACK {
            self.close(id, "expected the NEWLEADER ACK");
            return;
        }
        let Some(sid) = self.handlers.get(&id).map(|h| h.sid) else { return };
        if let Some(h) = self.handlers.get_mut(&id) {
            h.stage = Stage::StartupWait;
        }
        if !self.quorum_formed {
            if p.zxid != self.new_leader_zxid() {
                tracing::error!(sid, zxid = %format!("0x{:x}", p.zxid), "NEWLEADER ACK from a different epoch");
            } else {
                self.newleader_acks.insert(sid);
                self.check_quorum_formed();
            }
        }
        if self.quorum_formed && self.handlers.get(&id).is_some_and(|h| h.stage == Stage::StartupWait) {
            self.send_uptodate(id);
        }
    }

    fn check_quorum_formed(&mut self) {
        if !self.quorum_formed && self.election_finished && self.qv.contains_quorum(&self.newleader_acks) {
            self.quorum_formed = true;
            self.phase = Phase::Broadcast;
            self.last_proposed = self.last_proposed.max(self.new_leader_zxid());
            self.last_committed = self.last_committed.max(self.new_leader_zxid());
            tracing::info!(epoch = self.epoch, "leader established");
            self.out.push(LeaderOut::Established);
            let waiting: Vec<LearnerId> = self
                .handlers
                .iter()
                .filter(|(_, h)| h.stage == Stage::StartupWait)
                .map(|(id, _)| *id)
                .collect();
            for id in waiting {
                self.send_uptodate(id);
            }
        }
    }

    fn send_uptodate(&mut self, id: LearnerId) {
        self.send(id, QuorumPacket { packet_type: packet::UPTODATE, zxid: -1, data: None, authinfo: None });
        if let Some(h) = self.handlers.get_mut(&id) {
            h.stage = Stage::Active;
        }
    }

    fn on_broadcast_packet(&mut self, id: LearnerId, p: QuorumPacket) {
        let Some(sid) = self.handlers.get(&id).map(|h| h.sid) else { return };
        match p.packet_type {
            packet::ACK => self.process_ack(sid, p.zxid),
            packet::PING => {
                let data = p.data.unwrap_or_default();
                let mut b = &data[..];
                while b.len() >= 12 {
                    let session = b.get_i64();
                    let timeout = b.get_i32();
                    self.out.push(LeaderOut::Touch { session, timeout });
                }
            }
            packet::REVALIDATE => {
                let data = p.data.unwrap_or_default();
                if data.len() < 12 {
                    tracing::warn!(sid, "short REVALIDATE");
                    return;
                }
                let mut b = &data[..];
                let session = b.get_i64();
                let timeout = b.get_i32();
                self.out.push(LeaderOut::Revalidate { from: id, session, timeout });
            }
            packet::REQUEST => {
                let data = p.data.unwrap_or_default();
                if data.len() < 16 {
                    tracing::warn!(sid, "short REQUEST");
                    return;
                }
                let mut b = data.clone();
                let session = b.get_i64();
                let cxid = b.get_i32();
                let op = b.get_i32();
                if op == rzk_proto::codes::op::SYNC {
                    self.process_sync(SyncWaiter::Learner(id));
                    return;
                }
                let authinfo = p.authinfo.unwrap_or_default();
                self.out.push(LeaderOut::Request { from: id, session, cxid, op, body: b, authinfo });
            }
            other => tracing::warn!(sid, packet = packet::name(other), "unexpected quorum packet"),
        }
    }

    /// The request core's answer to [`LeaderOut::Revalidate`].
    pub fn revalidated(&mut self, to: LearnerId, session: i64, valid: bool) {
        let mut data = Vec::with_capacity(9);
        data.put_i64(session);
        data.put_u8(valid as u8);
        self.send(
            to,
            QuorumPacket {
                packet_type: packet::REVALIDATE,
                zxid: -1,
                data: Some(data.into()),
                authinfo: None,
            },
        );
    }

    // ---- broadcast ----

    /// Whether the leader may take writes (established and not stepping down).
    pub fn serving(&self) -> bool {
        self.phase == Phase::Broadcast && !self.stepped_down
    }

    /// Proposes a txn the request core prepared (`Leader.propose`). The zxid counter must not
    /// roll over: the last counter value forces a new election.
    pub fn propose(&mut self, zxid: i64, data: Bytes) {
        if zxid & 0xffff_ffff == 0xffff_ffff {
            self.step_down("zxid lower 32 bits have rolled over, forcing re-election".into());
            return;
        }
        self.last_proposed = zxid;
        self.outstanding.insert(zxid, Proposal { data: data.clone(), acks: BTreeSet::new() });
        let followers: Vec<LearnerId> =
            self.handlers.iter().filter(|(_, h)| h.forwarding && !h.observer).map(|(id, _)| *id).collect();
        for id in followers {
            self.send(
                id,
                QuorumPacket {
                    packet_type: packet::PROPOSAL,
                    zxid,
                    data: Some(data.clone()),
                    authinfo: None,
                },
            );
        }
    }

    /// The leader's own log made the txns through `zxid` durable.
    pub fn local_persisted(&mut self, through: i64) {
        let me = self.cfg.my_id;
        let zxids: Vec<i64> = self.outstanding.range(..=through).map(|(z, _)| *z).collect();
        for z in zxids {
            self.process_ack(me, z);
        }
    }

    /// `processAck` and `tryToCommit`, committing every proposal at the head that has a quorum.
    fn process_ack(&mut self, sid: i64, zxid: i64) {
        if zxid & 0xffff_ffff == 0 {
            // Acks of NEWLEADER / UPTODATE.
            return;
        }
        if self.outstanding.is_empty() || self.last_committed >= zxid {
            return;
        }
        let Some(p) = self.outstanding.get_mut(&zxid) else {
            tracing::warn!(sid, zxid = %format!("0x{zxid:x}"), "ack for an unknown proposal");
            return;
        };
        p.acks.insert(sid);
        while let Some((&z, p)) = self.outstanding.first_key_value() {
            if !self.qv.contains_quorum(&p.acks) {
                break;
            }
            let Some((_, p)) = self.outstanding.pop_first() else { break };
            self.commit(z, p.data);
        }
    }

    fn commit(&mut self, zxid: i64, data: Bytes) {
        self.last_committed = zxid;
        let targets: Vec<(LearnerId, bool)> =
            self.handlers.iter().filter(|(_, h)| h.forwarding).map(|(id, h)| (*id, h.observer)).collect();
        for (id, observer) in targets {
            let p = if observer {
                QuorumPacket { packet_type: packet::INFORM, zxid, data: Some(data.clone()), authinfo: None }
            } else {
                QuorumPacket { packet_type: packet::COMMIT, zxid, data: None, authinfo: None }
            };
            self.send(id, p);
        }
        self.out.push(LeaderOut::Commit(zxid));
        let done: Vec<i64> = self.pending_syncs.range(..=zxid).map(|(z, _)| *z).collect();
        for z in done {
            for w in self.pending_syncs.remove(&z).unwrap_or_default() {
                self.sync_done(w);
            }
        }
    }

    /// `processSync`: answered once the proposals in flight now have committed.
    pub fn process_sync(&mut self, w: SyncWaiter) {
        if self.outstanding.is_empty() {
            self.sync_done(w);
        } else {
            self.pending_syncs.entry(self.last_proposed).or_default().push(w);
        }
    }

    fn sync_done(&mut self, w: SyncWaiter) {
        match w {
            SyncWaiter::Learner(id) => {
                if self.handlers.contains_key(&id) {
                    self.send(
                        id,
                        QuorumPacket { packet_type: packet::SYNC, zxid: 0, data: None, authinfo: None },
                    );
                }
            }
            SyncWaiter::Local(token) => self.out.push(LeaderOut::LocalSyncDone(token)),
        }
    }

    // ---- time ----

    pub fn tick(&mut self, now_ms: i64) {
        if self.stepped_down {
            return;
        }
        if self.phase != Phase::Broadcast && now_ms >= self.phase_deadline_ms {
            let why = if !self.epoch_decided {
                "Timeout while waiting for epoch from quorum"
            } else if !self.election_finished {
                "Timeout while waiting for epoch to be acked by quorum"
            } else {
                "Timeout while waiting for NEWLEADER to be acked by quorum"
            };
            self.step_down(why.into());
            return;
        }
        self.now_ms = now_ms;
        while now_ms >= self.next_half_tick_ms {
            self.next_half_tick_ms += (self.cfg.tick_time_ms / 2).max(1);
            self.half_tick();
            if self.stepped_down {
                return;
            }
        }
    }

    fn half_tick(&mut self) {
        if !self.tick_skip {
            self.tick += 1;
        }
        // Learners silent past their deadline are dropped (Java's socket read timeout).
        let late: Vec<LearnerId> =
            self.handlers.iter().filter(|(_, h)| self.tick > h.deadline_tick).map(|(id, _)| *id).collect();
        for id in late {
            self.close(id, "learner did not answer within the sync limit");
        }
        if self.phase == Phase::Broadcast && !self.tick_skip {
            let mut synced = BTreeSet::from([self.cfg.my_id]);
            for h in self.handlers.values() {
                if h.stage == Stage::Active && self.tick <= h.deadline_tick {
                    synced.insert(h.sid);
                }
            }
            if !self.qv.contains_quorum(&synced) {
                let list: Vec<String> = synced.iter().map(|s| s.to_string()).collect();
                self.step_down(format!(
                    "Not sufficient followers synced, only synced with sids: [ {} ]",
                    list.join(",")
                ));
                return;
            }
        }
        self.tick_skip = !self.tick_skip;
        let lp = self.last_proposed;
        let ping: Vec<LearnerId> =
            self.handlers.iter().filter(|(_, h)| h.started_sending()).map(|(id, _)| *id).collect();
        for id in ping {
            self.send(id, QuorumPacket { packet_type: packet::PING, zxid: lp, data: None, authinfo: None });
        }
    }

    /// Learner info for a LearnerInfo record (used by learners and tests).
    pub fn learner_info_bytes(sid: i64, config_version: i64) -> Bytes {
        LearnerInfo { server_id: sid, protocol_version: packet::PROTOCOL_VERSION, config_version }
            .to_bytes()
            .into()
    }

    /// Parses a REQUEST body's (session, cxid, op) prefix (tests and logs).
    pub fn parse_request(data: &Bytes) -> Option<(i64, i32, i32)> {
        let mut r = Reader::new(data.clone(), usize::MAX);
        Some((r.read_i64().ok()?, r.read_i32().ok()?, r.read_i32().ok()?))
    }
}

#[cfg(test)]
mod tests;
