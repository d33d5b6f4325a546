//! The leader's glue between Zab ([`rzk_zab::leader::Leader`]) and the request pipeline:
//! learners' forwarded requests are prepared like local ones (`submitLearnerRequest`), their
//! session touches and revalidations reach the session tracker, commits apply the txns in
//! flight, and SNAP syncs get the serialized tree.

use bytes::{BufMut, Bytes};
use rzk_proto::codes::op;
use rzk_proto::records::{CreateSessionTxn, ErrorTxn};
use rzk_proto::txn::TxnBody;
use rzk_proto::{ErrorCode, Id, QuorumPacket, Reader, Request};
use rzk_tree::snapshot::TreeBody;
use rzk_zab::leader::{LeaderOut, LearnerId};
use rzk_zab::packet::{self, make_zxid};

use super::{Node, Origin};
use crate::io::{PeerOut, StorageOp};
use crate::quorum::Role;
use crate::sessions::Owner;

impl Node {
    /// Carries out what the leader asked for, until it has nothing more to say.
    pub(super) fn leader_out(&mut self) {
        loop {
            let Some(p) = self.peer.as_mut() else { return };
            let Role::Leading(l) = &mut p.role else { return };
            let outs = l.take_out();
            if outs.is_empty() {
                return;
            }
            for o in outs {
                self.leader_event(o);
            }
        }
    }

    fn leader_event(&mut self, o: LeaderOut) {
        let now = self.elapsed_ms;
        match o {
            LeaderOut::Send(id, packet) => self.ready.peer_out.push(PeerOut::ToLearner { id, packet }),
            LeaderOut::Snap(id, zxid) => self.send_snapshot(id, zxid),
            LeaderOut::Close(id) => self.ready.peer_out.push(PeerOut::CloseLearner { id }),
            LeaderOut::AcceptedEpoch(e) => {
                if let Some(p) = self.peer.as_mut() {
                    p.accepted_epoch = e;
                }
                self.ready.storage.push(StorageOp::AcceptedEpoch(e));
            }
            LeaderOut::CurrentEpoch(e) => {
                self.ready.storage.push(StorageOp::CurrentEpoch(e));
                let last = self.tree.last_processed_zxid;
                if let Some(p) = self.peer.as_mut() {
                    p.current_epoch = e;
                    if let Role::Leading(l) = &mut p.role {
                        l.sync_waiting(&p.committed_log, last);
                    }
                }
            }
            LeaderOut::Established => {
                let Some(p) = self.peer.as_mut() else { return };
                let Role::Leading(l) = &p.role else { return };
                let epoch = l.epoch();
                p.election.update_current_epoch(epoch);
                tracing::info!(my_id = p.setup.my_id, epoch, "leader serving");
                // New txns are numbered in the new epoch (`zk.setZxid(makeZxid(epoch, 0))`), and
                // the tree counts as processed up to there (`Leader.startZkServer`), as in Java:
                // `srvr`, snapshot names, votes and sync choices then agree with Java members.
                self.last_zxid = make_zxid(epoch, 0);
                if self.tree.last_processed_zxid < self.last_zxid {
                    self.tree.last_processed_zxid = self.last_zxid;
                }
                self.start_serving();
            }
            LeaderOut::Commit(zxid) => self.commit_through(zxid),
            LeaderOut::Request { from, session, cxid, op, body, authinfo } => {
                self.learner_request(from, session, cxid, op, body, authinfo)
            }
            LeaderOut::Touch { session, timeout } => {
                self.sessions.touch(session, timeout, now);
            }
            LeaderOut::Revalidate { from, session, timeout } => {
                let valid = self.sessions.touch(session, timeout, now);
                if valid {
                    self.sessions.set_owner(session, Owner::Learner(from));
                }
                tracing::info!(session = %format!("0x{session:x}"), valid, "revalidating a session for a learner");
                if let Some(p) = self.peer.as_mut()
                    && let Role::Leading(l) = &mut p.role
                {
                    l.revalidated(from, session, valid);
                }
            }
            LeaderOut::LocalSyncDone(_) => {}
            LeaderOut::StepDown(why) => self.leave_role(&why),
        }
    }

    /// SNAP(zxid), then the sessions and tree as `SerializeUtils.serializeSnapshot` writes them,
    /// then the signature (the shell serializes the frozen tree as it writes it).
    fn send_snapshot(&mut self, id: LearnerId, zxid: i64) {
        let packet = QuorumPacket { packet_type: packet::SNAP, zxid, data: None, authinfo: None };
        self.ready.peer_out.push(PeerOut::ToLearner { id, packet });
        self.ready.peer_out.push(PeerOut::ToLearnerSnapshot { id, body: TreeBody::of(&self.tree) });
    }

    /// A request a learner forwarded: prepared here exactly as a local one would be.
    fn learner_request(
        &mut self,
        from: LearnerId,
        session: i64,
        cxid: i32,
        opcode: i32,
        body: Bytes,
        authinfo: Vec<Id>,
    ) {
        if !self.serving {
            return;
        }
        match opcode {
            op::CREATE_SESSION => {
                let timeout = if body.len() >= 4 {
                    i32::from_be_bytes([body[0], body[1], body[2], body[3]])
                } else {
                    0
                };
                self.sessions.add(session, timeout, self.elapsed_ms);
                self.sessions.set_owner(session, Owner::Learner(from));
                let txn = TxnBody::CreateSession(CreateSessionTxn { time_out: timeout });
                self.submit_txn(session, cxid, op::CREATE_SESSION, txn, Origin::Remote);
            }
            _ => {
                let mut r = Reader::with_default_limit(body);
                match Request::decode(opcode, &mut r) {
                    Ok(req) if req.is_write() => {
                        self.sessions.touch_current(session, self.elapsed_ms);
                        self.submit_write(
                            session,
                            cxid,
                            req,
                            authinfo,
                            Origin::Remote,
                            Some(Owner::Learner(from)),
                        );
                    }
                    Ok(req) => {
                        tracing::warn!(op = op::name(req.op()), "a learner forwarded a read; ignoring it")
                    }
                    Err(e) => {
                        tracing::warn!(op = op::name(opcode), error = %e, "cannot decode a forwarded request");
                        let err = ErrorCode::MarshallingError.code();
                        self.log_txn(
                            session,
                            cxid,
                            op::ERROR,
                            TxnBody::Error(ErrorTxn { err }),
                            None,
                            Origin::Remote,
                        );
                    }
                }
            }
        }
    }
}

/// The body of a forwarded createSession: the timeout.
pub(super) fn create_session_body(timeout: i32) -> Vec<u8> {
    let mut b = Vec::with_capacity(4);
    b.put_i32(timeout);
    b
}
