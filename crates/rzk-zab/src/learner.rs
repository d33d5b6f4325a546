//! A follower's or observer's side of Zab (`Learner.registerWithLeader`, `syncWithLeader`,
//! `Follower.processPacket`, `Observer.processPacket`) as a state machine over the connection to
//! the leader, with opaque txns:
//!
//! 1. On connecting: FOLLOWERINFO / OBSERVERINFO with our accepted epoch and LearnerInfo.
//! 2. LEADERINFO: accept the new epoch (persisted before ACKEPOCH goes out) and report our current
//!    epoch and last logged zxid; an epoch we already accepted is answered with −1.
//! 3. DIFF, TRUNC (cut the log back and reload) or SNAP (install the leader's tree), then
//!    PROPOSAL/COMMIT pairs (logged and applied) until NEWLEADER: the new epoch becomes current
//!    and the NEWLEADER ACK goes out once everything logged is durable. UPTODATE: ACK and serve.
//! 4. Broadcast: PROPOSAL is logged (ACKed after fsync by the request core), COMMIT applies,
//!    INFORM (observers) logs and applies, PING is answered with the session touches, REVALIDATE
//!    and SYNC complete waiting clients.
//!
//! Anything unexpected, or silence longer than initLimit (while syncing) or syncLimit ticks,
//! ends the role ([`LearnerOut::Failed`]) and the server goes back to LOOKING.

use bytes::{Buf, BufMut, Bytes};
use rzk_proto::{Jute, LearnerInfo, QuorumPacket};

use crate::packet::{self, epoch_of, make_zxid};

#[derive(Debug, Clone)]
pub struct LearnerConfig {
    pub my_id: i64,
    pub observer: bool,
    pub tick_time_ms: i64,
    pub init_limit: i64,
    pub sync_limit: i64,
    /// The version of our quorum configuration (LearnerInfo.configVersion).
    pub config_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearnerOut {
    Send(QuorumPacket),
    /// NEWLEADER: once every txn logged so far is durable, make `epoch` the current epoch
    /// (persisted), then send `ack`. The order matters: a learner whose currentEpoch says it
    /// joined the epoch must hold the whole history it was synced with (ZOOKEEPER-4643), or it
    /// could win a later election without txns that were acknowledged.
    NewLeaderAckWhenLogged {
        epoch: i64,
        ack: QuorumPacket,
    },
    /// Persist before anything after it is sent.
    AcceptedEpoch(i64),
    /// Cut the txn log after this zxid and reload the tree from disk (TRUNC).
    Truncate(i64),
    /// Replace the tree with the leader's (SNAP): the sessions-and-tree body as the leader
    /// serialized it; the tree is at `zxid`.
    InstallSnapshot {
        zxid: i64,
        body: Bytes,
    },
    /// Log a proposed txn; followers ACK it once durable (after NEWLEADER's ACK).
    Log {
        zxid: i64,
        data: Bytes,
    },
    /// Apply the logged txn with this zxid.
    Commit(i64),
    /// Synchronisation is over: start serving clients.
    Uptodate,
    /// The leader pinged: answer with [`Learner::ping_reply`] carrying the session touches.
    Ping(QuorumPacket),
    Revalidated {
        session: i64,
        valid: bool,
    },
    /// The leader answered the oldest pending `sync`.
    SyncDone,
    /// Leave the role (back to LOOKING).
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerStage {
    /// Waiting for the connection to the leader.
    Connecting,
    /// FOLLOWERINFO sent; waiting for LEADERINFO.
    Discovery,
    /// ACKEPOCH sent; waiting for DIFF / TRUNC / SNAP.
    SyncMode,
    /// Taking txns until NEWLEADER, then UPTODATE.
    Syncing {
        newleader_seen: bool,
    },
    Broadcast,
}

pub struct Learner {
    cfg: LearnerConfig,
    leader: i64,
    stage: LearnerStage,
    accepted_epoch: i64,
    current_epoch: i64,
    last_logged: i64,
    new_epoch: i64,
    last_queued: i64,
    last_heard_ms: i64,
    failed: bool,
    out: Vec<LearnerOut>,
}

impl Learner {
    pub fn new(
        cfg: LearnerConfig,
        leader: i64,
        accepted_epoch: i64,
        current_epoch: i64,
        last_logged: i64,
        now_ms: i64,
    ) -> Learner {
        Learner {
            cfg,
            leader,
            stage: LearnerStage::Connecting,
            accepted_epoch,
            current_epoch,
            last_logged,
            new_epoch: -1,
            last_queued: 0,
            last_heard_ms: now_ms,
            failed: false,
            out: Vec::new(),
        }
    }

    pub fn take_out(&mut self) -> Vec<LearnerOut> {
        std::mem::take(&mut self.out)
    }

    pub fn leader(&self) -> i64 {
        self.leader
    }

    pub fn stage(&self) -> LearnerStage {
        self.stage
    }

    pub fn is_observer(&self) -> bool {
        self.cfg.observer
    }

    pub fn new_epoch(&self) -> i64 {
        self.new_epoch
    }

    fn fail(&mut self, why: String) {
        if !self.failed {
            self.failed = true;
            tracing::warn!(leader = self.leader, %why, "leaving the learner role");
            self.out.push(LearnerOut::Failed(why));
        }
    }

    fn send(&mut self, p: QuorumPacket) {
        self.out.push(LearnerOut::Send(p));
    }

    /// The connection to the leader is up: register (`registerWithLeader`).
    pub fn connected(&mut self, now_ms: i64) {
        self.last_heard_ms = now_ms;
        let ty = if self.cfg.observer { packet::OBSERVERINFO } else { packet::FOLLOWERINFO };
        let info = LearnerInfo {
            server_id: self.cfg.my_id,
            protocol_version: packet::PROTOCOL_VERSION,
            config_version: self.cfg.config_version,
        };
        let p = QuorumPacket {
            packet_type: ty,
            zxid: make_zxid(self.accepted_epoch, 0),
            data: Some(info.to_bytes().into()),
            authinfo: None,
        };
        self.send(p);
        self.stage = LearnerStage::Discovery;
    }

    /// The connection to the leader failed or closed.
    pub fn disconnected(&mut self) {
        self.fail("connection to the leader closed".into());
    }

    pub fn tick(&mut self, now_ms: i64) {
        let limit_ticks = match self.stage {
            LearnerStage::Broadcast | LearnerStage::Syncing { newleader_seen: true } => self.cfg.sync_limit,
            _ => self.cfg.init_limit,
        };
        if now_ms - self.last_heard_ms > limit_ticks * self.cfg.tick_time_ms {
            self.fail(format!("no packet from the leader for {} ms", now_ms - self.last_heard_ms));
        }
    }

    pub fn receive(&mut self, p: QuorumPacket, now_ms: i64) {
        if self.failed {
            return;
        }
        self.last_heard_ms = now_ms;
        match self.stage {
            LearnerStage::Connecting => {}
            LearnerStage::Discovery => self.on_leader_info(p),
            LearnerStage::SyncMode => self.on_sync_mode(p),
            LearnerStage::Syncing { newleader_seen } => self.on_syncing(p, newleader_seen),
            LearnerStage::Broadcast => self.on_broadcast(p),
        }
    }

    fn on_leader_info(&mut self, p: QuorumPacket) {
        if p.packet_type != packet::LEADERINFO {
            // Pre-Zab-1.0 leaders send NEWLEADER first; they are not supported.
            self.fail(format!("expected LEADERINFO, got {}", packet::name(p.packet_type)));
            return;
        }
        let new_epoch = epoch_of(p.zxid);
        let mut data = Vec::with_capacity(4);
        if new_epoch > self.accepted_epoch {
            data.put_i32(self.current_epoch as i32);
            self.accepted_epoch = new_epoch;
            self.out.push(LearnerOut::AcceptedEpoch(new_epoch));
        } else if new_epoch == self.accepted_epoch {
            // Already acked this epoch: the −1 tells the leader not to count this reply.
            data.put_i32(-1);
        } else {
            self.fail(format!(
                "leader's epoch {new_epoch} is less than our accepted epoch {}",
                self.accepted_epoch
            ));
            return;
        }
        self.new_epoch = new_epoch;
        self.send(QuorumPacket {
            packet_type: packet::ACKEPOCH,
            zxid: self.last_logged,
            data: Some(data.into()),
            authinfo: None,
        });
        self.stage = LearnerStage::SyncMode;
    }

    fn on_sync_mode(&mut self, p: QuorumPacket) {
        match p.packet_type {
            packet::DIFF => {
                tracing::info!(zxid = %format!("0x{:x}", p.zxid), "getting a diff from the leader")
            }
            packet::TRUNC => {
                tracing::warn!(zxid = %format!("0x{:x}", p.zxid), "truncating the log to get in sync with the leader");
                self.out.push(LearnerOut::Truncate(p.zxid));
            }
            packet::SNAP => {
                tracing::info!(zxid = %format!("0x{:x}", p.zxid), "getting a snapshot from the leader");
                let body = p.data.unwrap_or_default();
                self.out.push(LearnerOut::InstallSnapshot { zxid: p.zxid, body });
            }
            other => {
                self.fail(format!("unexpected packet from the leader: {}", packet::name(other)));
                return;
            }
        }
        self.stage = LearnerStage::Syncing { newleader_seen: false };
    }

    fn log_proposal(&mut self, zxid: i64, data: Option<Bytes>) {
        let next_epoch_start = epoch_of(zxid) > epoch_of(self.last_queued) && zxid & 0xffff_ffff == 1;
        if zxid != self.last_queued + 1 && self.last_queued != 0 && !next_epoch_start {
            tracing::warn!(
                got = %format!("0x{zxid:x}"),
                expected = %format!("0x{:x}", self.last_queued + 1),
                "proposal out of sequence"
            );
        }
        self.last_queued = zxid;
        self.out.push(LearnerOut::Log { zxid, data: data.unwrap_or_default() });
    }

    fn on_syncing(&mut self, p: QuorumPacket, newleader_seen: bool) {
        match p.packet_type {
            packet::PROPOSAL => self.log_proposal(p.zxid, p.data),
            packet::COMMIT => self.out.push(LearnerOut::Commit(p.zxid)),
            packet::INFORM => {
                self.log_proposal(p.zxid, p.data);
                self.out.push(LearnerOut::Commit(p.zxid));
            }
            packet::NEWLEADER => {
                tracing::info!("learner received NEWLEADER");
                self.current_epoch = self.new_epoch;
                let ack = QuorumPacket {
                    packet_type: packet::ACK,
                    zxid: make_zxid(self.new_epoch, 0),
                    data: None,
                    authinfo: None,
                };
                self.out.push(LearnerOut::NewLeaderAckWhenLogged { epoch: self.new_epoch, ack });
                self.stage = LearnerStage::Syncing { newleader_seen: true };
            }
            packet::UPTODATE => {
                if !newleader_seen {
                    self.fail("UPTODATE before NEWLEADER (pre-Zab-1.0 leader)".into());
                    return;
                }
                tracing::info!("learner received UPTODATE");
                let ack = QuorumPacket {
                    packet_type: packet::ACK,
                    zxid: make_zxid(self.new_epoch, 0),
                    data: None,
                    authinfo: None,
                };
                self.send(ack);
                self.stage = LearnerStage::Broadcast;
                self.out.push(LearnerOut::Uptodate);
            }
            // PINGs while syncing go unanswered, as in `syncWithLeader`.
            _ => {}
        }
    }

    fn on_broadcast(&mut self, p: QuorumPacket) {
        match p.packet_type {
            packet::PING => self.out.push(LearnerOut::Ping(p)),
            packet::PROPOSAL if !self.cfg.observer => self.log_proposal(p.zxid, p.data),
            packet::COMMIT if !self.cfg.observer => self.out.push(LearnerOut::Commit(p.zxid)),
            packet::INFORM if self.cfg.observer => {
                self.log_proposal(p.zxid, p.data);
                self.out.push(LearnerOut::Commit(p.zxid));
            }
            packet::UPTODATE => tracing::error!("received an UPTODATE message after the learner started"),
            packet::REVALIDATE => {
                let data = p.data.unwrap_or_default();
                if data.len() < 9 {
                    tracing::warn!("short REVALIDATE answer");
                    return;
                }
                let mut b = &data[..];
                let session = b.get_i64();
                let valid = b.get_u8() != 0;
                self.out.push(LearnerOut::Revalidated { session, valid });
            }
            packet::SYNC => self.out.push(LearnerOut::SyncDone),
            packet::COMMITANDACTIVATE | packet::INFORMANDACTIVATE => {
                self.fail("reconfiguration is not supported (reconfigEnabled=false)".into());
            }
            other => tracing::warn!(packet = packet::name(other), "unexpected packet from the leader"),
        }
    }

    /// The answer to a PING: the same packet with the sessions touched since the last one.
    pub fn ping_reply(ping: &QuorumPacket, touches: &[(i64, i32)]) -> QuorumPacket {
        let mut data = Vec::with_capacity(touches.len() * 12);
        for (session, timeout) in touches {
            data.put_i64(*session);
            data.put_i32(*timeout);
        }
        QuorumPacket {
            packet_type: packet::PING,
            zxid: ping.zxid,
            data: Some(data.into()),
            authinfo: ping.authinfo.clone(),
        }
    }

    /// A client request to forward (`Learner.request`): session, cxid, op, then the body.
    pub fn request(
        session: i64,
        cxid: i32,
        op: i32,
        body: &[u8],
        authinfo: Vec<rzk_proto::Id>,
    ) -> QuorumPacket {
        let mut data = Vec::with_capacity(16 + body.len());
        data.put_i64(session);
        data.put_i32(cxid);
        data.put_i32(op);
        data.put_slice(body);
        QuorumPacket {
            packet_type: packet::REQUEST,
            zxid: -1,
            data: Some(data.into()),
            authinfo: Some(authinfo),
        }
    }

    /// `validateSession`: ask the leader whether a reconnecting session is valid.
    pub fn revalidate(session: i64, timeout: i32) -> QuorumPacket {
        let mut data = Vec::with_capacity(12);
        data.put_i64(session);
        data.put_i32(timeout);
        QuorumPacket { packet_type: packet::REVALIDATE, zxid: -1, data: Some(data.into()), authinfo: None }
    }
}

#[cfg(test)]
mod tests;
