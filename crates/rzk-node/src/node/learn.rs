//! The learner's glue between Zab ([`rzk_zab::learner::Learner`]) and the request pipeline
//! (`FollowerRequestProcessor`, `CommitProcessor`, `SendAckRequestProcessor`): writes and syncs
//! are forwarded to the leader and wait in their session's queue; proposals are logged and
//! ACKed once durable; commits apply them and answer the local client that asked, if any;
//! reconnecting sessions are revalidated by the leader.

use bytes::Bytes;
use rzk_proto::connect::{ConnectResponse, SESSION_PASSWORD_BYTES};
use rzk_proto::txn::TxnEntry;
use rzk_proto::{Id, QuorumPacket, Reader, Request, SyncRequest};
use rzk_tree::DataTree;
use rzk_tree::snapshot::read_tree_body;
use rzk_zab::learner::{Learner, LearnerOut};
use rzk_zab::packet;

use super::lead::create_session_body;
use super::{ClientOut, ConnId, InFlight, Node, Origin, Queued};
use crate::io::{LogAppend, PeerOut, StorageOp};
use crate::java_random::session_password;
use crate::quorum::{PendingRevalidation, Role};

impl Node {
    fn send_to_leader(&mut self, packet: QuorumPacket) {
        self.ready.peer_out.push(PeerOut::ToLeader(packet));
    }

    /// Records a session touch for the next PING answer (learners).
    pub(super) fn note_touch(&mut self, session: i64) {
        let timeout = self.sessions.get(session).map(|s| s.timeout_ms);
        if let Some(p) = self.peer.as_mut()
            && p.is_learner()
            && let Some(t) = timeout
        {
            p.touches.insert(session, t);
        }
    }

    pub(super) fn forward_write(
        &mut self,
        session: i64,
        cxid: i32,
        req: &Request,
        ids: Vec<Id>,
        origin: Origin,
    ) {
        let mut body = Vec::new();
        req.encode(&mut body);
        self.forward_raw(session, cxid, req.op(), &body, ids, origin);
    }

    pub(super) fn forward_raw(
        &mut self,
        session: i64,
        cxid: i32,
        opcode: i32,
        body: &[u8],
        ids: Vec<Id>,
        origin: Origin,
    ) {
        self.queues.entry(session).or_default().push_back(Queued::Write { cxid });
        self.forwarded.insert((session, cxid), origin);
        self.send_to_leader(Learner::request(session, cxid, opcode, body, ids));
    }

    pub(super) fn forward_create_session(&mut self, session: i64, timeout: i32, origin: Origin) {
        let body = create_session_body(timeout);
        self.queues.entry(session).or_default().push_back(Queued::Write { cxid: 0 });
        self.forwarded.insert((session, 0), origin);
        self.note_touch(session);
        self.send_to_leader(Learner::request(
            session,
            0,
            rzk_proto::codes::op::CREATE_SESSION,
            &body,
            Vec::new(),
        ));
    }

    pub(super) fn forward_sync(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        sync: SyncRequest,
        ids: Vec<Id>,
    ) {
        let mut body = Vec::new();
        Request::Sync(sync.clone()).encode(&mut body);
        self.queues.entry(session).or_default().push_back(Queued::Sync {
            conn,
            xid,
            path: sync.path,
            done: false,
        });
        if let Some(p) = self.peer.as_mut() {
            p.pending_syncs.push_back(session);
        }
        self.send_to_leader(Learner::request(session, xid, rzk_proto::codes::op::SYNC, &body, ids));
    }

    /// Asks the leader whether a reconnecting session is alive.
    pub(super) fn revalidate(
        &mut self,
        conn: ConnId,
        session: i64,
        timeout_ms: i32,
        read_only: Option<bool>,
    ) {
        if let Some(p) = self.peer.as_mut() {
            tracing::info!(session = %format!("0x{session:x}"), "revalidating client");
            p.revalidations.insert(session, PendingRevalidation { conn, timeout_ms, read_only });
        }
        self.send_to_leader(Learner::revalidate(session, timeout_ms));
    }

    fn revalidated(&mut self, session: i64, valid: bool) {
        let Some(pending) = self.peer.as_mut().and_then(|p| p.revalidations.remove(&session)) else {
            tracing::warn!(session = %format!("0x{session:x}"), "missing session for validation");
            return;
        };
        let conn = pending.conn;
        if !self.conns.contains_key(&conn) {
            return;
        }
        if !valid {
            tracing::info!(session = %format!("0x{session:x}"), "invalid session, probably expired");
            let resp = ConnectResponse {
                protocol_version: 0,
                time_out: 0,
                session_id: 0,
                passwd: Bytes::from_static(&[0; SESSION_PASSWORD_BYTES]),
                read_only: pending.read_only,
            };
            self.out(conn, ClientOut::ConnectResponse(resp));
            self.out(conn, ClientOut::Close { reason: "invalid session" });
            return;
        }
        if self.sessions.get(session).is_none() {
            self.sessions.add(session, pending.timeout_ms, self.elapsed_ms);
        } else {
            self.sessions.touch(session, pending.timeout_ms, self.elapsed_ms);
        }
        self.attach(conn, session);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.established = true;
        }
        self.note_touch(session);
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: pending.timeout_ms,
            session_id: session,
            passwd: Bytes::copy_from_slice(&session_password(session)),
            read_only: pending.read_only,
        };
        self.out(conn, ClientOut::ConnectResponse(resp));
    }

    pub(super) fn leader_packet(&mut self, packet: QuorumPacket) {
        let now = self.elapsed_ms;
        let Some(p) = self.peer.as_mut() else { return };
        if p.reloading {
            p.held_packets.push_back(packet);
            return;
        }
        if let Role::Learning { learner, .. } = &mut p.role {
            learner.receive(packet, now);
            self.learner_out();
        }
    }

    pub(super) fn learner_out(&mut self) {
        loop {
            let Some(p) = self.peer.as_mut() else { return };
            let Role::Learning { learner, .. } = &mut p.role else { return };
            let outs = learner.take_out();
            if outs.is_empty() {
                return;
            }
            for o in outs {
                self.learner_event(o);
                if !self.peer.as_ref().is_some_and(|p| p.is_learner()) {
                    // The role ended (a failure): the rest no longer applies.
                    return;
                }
            }
        }
    }

    fn learner_event(&mut self, o: LearnerOut) {
        match o {
            LearnerOut::Send(packet) => self.send_to_leader(packet),
            LearnerOut::NewLeaderAckWhenLogged { epoch, ack } => {
                let after = self.last_appended;
                if let Some(p) = self.peer.as_mut() {
                    p.send_when_durable.push((after, epoch, ack));
                }
                let durable = self.durable;
                self.learner_persisted(durable);
            }
            LearnerOut::AcceptedEpoch(e) => {
                if let Some(p) = self.peer.as_mut() {
                    p.accepted_epoch = e;
                }
                self.ready.storage.push(StorageOp::AcceptedEpoch(e));
            }
            LearnerOut::Truncate(zxid) => {
                if let Some(p) = self.peer.as_mut() {
                    p.reloading = true;
                }
                self.ready.storage.push(StorageOp::TruncateLog { zxid, reload: true });
            }
            LearnerOut::InstallSnapshot { zxid, body } => self.install_snapshot(zxid, body),
            LearnerOut::Log { zxid, data } => self.log_proposal(zxid, data),
            LearnerOut::Commit(zxid) => self.commit_through(zxid),
            LearnerOut::Uptodate => {
                let epoch = self.peer.as_ref().and_then(|p| p.learner()).map(|l| l.new_epoch()).unwrap_or(0);
                if let Some(p) = self.peer.as_mut() {
                    p.election.update_current_epoch(epoch);
                    tracing::info!(my_id = p.setup.my_id, epoch, "learner serving");
                }
                self.start_serving();
            }
            LearnerOut::Ping(ping) => {
                let touches: Vec<(i64, i32)> = self
                    .peer
                    .as_mut()
                    .map(|p| std::mem::take(&mut p.touches).into_iter().collect())
                    .unwrap_or_default();
                self.send_to_leader(Learner::ping_reply(&ping, &touches));
            }
            LearnerOut::Revalidated { session, valid } => self.revalidated(session, valid),
            LearnerOut::SyncDone => self.sync_done(),
            LearnerOut::Failed(why) => self.leave_role(&why),
        }
    }

    /// A PROPOSAL (or INFORM) to log; it joins the txns in flight until its COMMIT.
    fn log_proposal(&mut self, zxid: i64, data: Bytes) {
        let entry = match TxnEntry::decode(data.clone()) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(zxid = %format!("0x{zxid:x}"), error = %e, "cannot decode a proposal");
                self.leave_role("undecodable proposal from the leader");
                return;
            }
        };
        if zxid <= self.last_appended && zxid <= self.tree.last_processed_zxid {
            // Already here (a DIFF overlapping what we had).
            return;
        }
        let session = entry.header.client_id;
        self.ready.log.push(LogAppend { zxid, bytes: data.clone() });
        self.last_appended = zxid;
        self.last_zxid = self.last_zxid.max(zxid);
        self.in_flight.push_back(InFlight { entry, bytes: data, session, origin: Origin::Remote });
        if let Some(p) = self.peer.as_mut()
            && p.is_follower()
        {
            p.unacked.push_back(zxid);
        }
    }

    /// SNAP: the leader's tree replaces ours, and is made durable (snapshot) before anything
    /// after it is logged; log txns beyond it (an abandoned history) are cut.
    fn install_snapshot(&mut self, zxid: i64, body: Bytes) {
        let mut r = Reader::new(body, usize::MAX);
        let tree = match read_tree_body(&mut r, self.cfg.extended_types) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the snapshot the leader sent");
                self.leave_role("bad snapshot from the leader");
                return;
            }
        };
        self.replace_tree(tree, zxid);
        self.init_config_node();
        if let Some(p) = self.peer.as_mut() {
            p.committed_log.clear();
        }
        self.ready.storage.push(StorageOp::TruncateLog { zxid, reload: false });
        self.ready.storage.push(StorageOp::Snapshot);
    }

    fn replace_tree(&mut self, mut tree: DataTree, zxid: i64) {
        tree.last_processed_zxid = zxid;
        self.tree = tree;
        self.in_flight.clear();
        self.changes = crate::changes::Outstanding::default();
        self.last_zxid = zxid;
        self.last_appended = zxid;
        self.durable = zxid;
    }

    /// The tree after TRUNC, reloaded from the cut log.
    pub(super) fn reloaded(&mut self, tree: DataTree, recent: Vec<(i64, Bytes)>) {
        let zxid = tree.last_processed_zxid;
        tracing::info!(zxid = %format!("0x{zxid:x}"), "tree reloaded after truncating the log");
        self.replace_tree(tree, zxid);
        self.init_config_node();
        let Some(p) = self.peer.as_mut() else { return };
        p.committed_log.clear();
        for (z, b) in recent {
            p.committed_log.push(z, b);
        }
        p.reloading = false;
        let held: Vec<QuorumPacket> = p.held_packets.drain(..).collect();
        for packet in held {
            self.leader_packet(packet);
        }
    }

    /// The log is durable through `through`: deferred sends, then ACKs (followers, once the
    /// NEWLEADER ACK is out).
    pub(super) fn learner_persisted(&mut self, through: i64) {
        let durable = self.durable.max(through);
        let Some(p) = self.peer.as_mut() else { return };
        let mut sends = Vec::new();
        let mut epochs = Vec::new();
        p.send_when_durable.retain(|(after, epoch, packet)| {
            if *after <= durable {
                epochs.push(*epoch);
                sends.push(packet.clone());
                false
            } else {
                true
            }
        });
        for e in epochs {
            // Persisted before the ACK goes out (storage runs first in a Ready).
            p.current_epoch = e;
            self.ready.storage.push(StorageOp::CurrentEpoch(e));
        }
        let Some(p) = self.peer.as_mut() else { return };
        if !sends.is_empty() {
            p.acks_enabled = true;
        }
        if p.acks_enabled {
            while p.unacked.front().is_some_and(|z| *z <= durable) {
                if let Some(z) = p.unacked.pop_front() {
                    sends.push(QuorumPacket {
                        packet_type: packet::ACK,
                        zxid: z,
                        data: None,
                        authinfo: None,
                    });
                }
            }
        }
        for s in sends {
            self.send_to_leader(s);
        }
    }

    /// The leader answered the oldest pending `sync`.
    fn sync_done(&mut self) {
        let Some(session) = self.peer.as_mut().and_then(|p| p.pending_syncs.pop_front()) else { return };
        if let Some(q) = self.queues.get_mut(&session)
            && let Some(Queued::Sync { done, .. }) =
                q.iter_mut().find(|e| matches!(e, Queued::Sync { done: false, .. }))
        {
            *done = true;
        }
        self.drain_queue(session, i32::MIN);
    }
}
