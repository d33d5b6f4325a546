//! A leader and learners wired together in memory: discovery, sync, broadcast and step-down.
//! The "database" of each learner is a list of applied zxids and a durable-log watermark.

use std::collections::{BTreeMap, VecDeque};

use super::*;
use crate::learner::{Learner, LearnerConfig, LearnerOut, LearnerStage};
use crate::verifier::Member;

const TICK: i64 = 100;

fn member(id: i64, observer: bool) -> Member {
    Member {
        id,
        host: "127.0.0.1".into(),
        quorum_port: 2000 + id as u16,
        election_port: 3000 + id as u16,
        observer,
        client: None,
    }
}

fn qv(voters: i64, observers: i64) -> QuorumVerifier {
    let members = (1..=voters)
        .map(|i| member(i, false))
        .chain((voters + 1..=voters + observers).map(|i| member(i, true)))
        .collect();
    QuorumVerifier::majority(members, 0)
}

#[derive(Default)]
struct Db {
    applied: Vec<i64>,
    logged: Vec<i64>,
    /// Logged but not yet durable.
    unsynced: Vec<i64>,
    waiting_sends: Vec<(i64, QuorumPacket)>,
    acks_enabled: bool,
    unacked: Vec<i64>,
    accepted: i64,
    current: i64,
    serving: bool,
    failed: Option<String>,
    snap_installed: Option<i64>,
    truncated: Option<i64>,
}

struct World {
    leader: Leader,
    leader_log: CommittedLog,
    leader_last: i64,
    leader_events: Vec<LeaderOut>,
    learners: BTreeMap<LearnerId, (Learner, Db)>,
    to_leader: VecDeque<(LearnerId, QuorumPacket)>,
    to_learner: VecDeque<(LearnerId, QuorumPacket)>,
    now: i64,
}

impl World {
    fn new(qv: QuorumVerifier, leader_id: i64, leader_zxids: &[i64], accepted: i64) -> World {
        let mut log = CommittedLog::new(500);
        for z in leader_zxids {
            log.push(*z, Bytes::from(format!("txn{z:x}")));
        }
        let last = leader_zxids.last().copied().unwrap_or(0);
        let cfg = LeaderConfig {
            my_id: leader_id,
            tick_time_ms: TICK,
            init_limit: 10,
            sync_limit: 5,
            force_snap: false,
        };
        let leader = Leader::new(cfg, qv, accepted, accepted, last, 0);
        let mut w = World {
            leader,
            leader_log: log,
            leader_last: last,
            leader_events: Vec::new(),
            learners: BTreeMap::new(),
            to_leader: VecDeque::new(),
            to_learner: VecDeque::new(),
            now: 0,
        };
        w.collect_leader();
        w
    }

    fn add_learner(&mut self, sid: i64, observer: bool, last_logged: i64, accepted: i64) -> LearnerId {
        let id = sid as LearnerId;
        let cfg = LearnerConfig {
            my_id: sid,
            observer,
            tick_time_ms: TICK,
            init_limit: 10,
            sync_limit: 5,
            config_version: 0,
        };
        let mut l = Learner::new(cfg, 1, accepted, accepted, last_logged, self.now);
        let db = Db { accepted, current: accepted, ..Default::default() };
        self.leader.learner_connected(id);
        l.connected(self.now);
        self.learners.insert(id, (l, db));
        self.collect_learner(id);
        id
    }

    fn collect_leader(&mut self) {
        for o in self.leader.take_out() {
            match o {
                LeaderOut::Send(to, p) => self.to_learner.push_back((to, p)),
                LeaderOut::Snap(to, zxid) => {
                    let p = QuorumPacket {
                        packet_type: packet::SNAP,
                        zxid,
                        data: Some(Bytes::from_static(b"tree")),
                        authinfo: None,
                    };
                    self.to_learner.push_back((to, p));
                }
                LeaderOut::Commit(z) => {
                    self.leader_log.push(z, Bytes::from(format!("txn{z:x}")));
                    self.leader_last = z;
                    self.leader_events.push(LeaderOut::Commit(z));
                }
                other => self.leader_events.push(other),
            }
        }
        let log = self.leader_log.clone();
        let last = self.leader_last;
        // The node calls sync_waiting after its own epoch decisions.
        self.leader.sync_waiting(&log, last);
        let more = self.leader.take_out();
        if !more.is_empty() {
            for o in more {
                match o {
                    LeaderOut::Send(to, p) => self.to_learner.push_back((to, p)),
                    other => self.leader_events.push(other),
                }
            }
        }
    }

    fn collect_learner(&mut self, id: LearnerId) {
        let Some((l, db)) = self.learners.get_mut(&id) else { return };
        for o in l.take_out() {
            match o {
                LearnerOut::Send(p) => self.to_leader.push_back((id, p)),
                LearnerOut::NewLeaderAckWhenLogged { epoch, ack } => {
                    db.waiting_sends.push((epoch, ack));
                }
                LearnerOut::AcceptedEpoch(e) => db.accepted = e,
                LearnerOut::Truncate(z) => {
                    db.truncated = Some(z);
                    db.applied.retain(|a| *a <= z);
                    db.logged.retain(|a| *a <= z);
                }
                LearnerOut::InstallSnapshot { zxid, .. } => {
                    db.snap_installed = Some(zxid);
                    db.applied = vec![zxid];
                }
                LearnerOut::Log { zxid, .. } => {
                    db.logged.push(zxid);
                    db.unsynced.push(zxid);
                }
                LearnerOut::Commit(z) => db.applied.push(z),
                LearnerOut::Uptodate => db.serving = true,
                LearnerOut::Ping(p) => {
                    let reply = Learner::ping_reply(&p, &[(0x77, 30000)]);
                    self.to_leader.push_back((id, reply));
                }
                LearnerOut::Revalidated { .. } | LearnerOut::SyncDone => {}
                LearnerOut::Failed(why) => db.failed = Some(why),
            }
        }
    }

    /// The learner's log fsyncs: deferred sends go out, then proposal ACKs (followers).
    fn sync_learner_logs(&mut self) {
        let ids: Vec<LearnerId> = self.learners.keys().copied().collect();
        for id in ids {
            let Some((l, db)) = self.learners.get_mut(&id) else { continue };
            let observer = l.is_observer();
            let synced = std::mem::take(&mut db.unsynced);
            for (epoch, p) in std::mem::take(&mut db.waiting_sends) {
                db.current = epoch;
                self.to_leader.push_back((id, p));
                db.acks_enabled = true;
            }
            if !observer {
                db.unacked.extend(synced);
                if db.acks_enabled {
                    for z in std::mem::take(&mut db.unacked) {
                        let ack =
                            QuorumPacket { packet_type: packet::ACK, zxid: z, data: None, authinfo: None };
                        self.to_leader.push_back((id, ack));
                    }
                }
            }
        }
    }

    fn pump(&mut self) {
        for _ in 0..10_000 {
            if let Some((id, p)) = self.to_leader.pop_front() {
                let log = self.leader_log.clone();
                self.leader.receive(id, p, &log, self.leader_last);
                self.collect_leader();
                continue;
            }
            if let Some((id, p)) = self.to_learner.pop_front() {
                if let Some((l, _)) = self.learners.get_mut(&id) {
                    l.receive(p, self.now);
                    self.collect_learner(id);
                }
                continue;
            }
            self.sync_learner_logs();
            if self.to_leader.is_empty() && self.to_learner.is_empty() {
                return;
            }
        }
        panic!("messages never settled");
    }

    fn advance(&mut self, ms: i64) {
        let end = self.now + ms;
        while self.now < end {
            self.now += 10;
            self.leader.tick(self.now);
            self.collect_leader();
            let ids: Vec<LearnerId> = self.learners.keys().copied().collect();
            for id in ids {
                if let Some((l, _)) = self.learners.get_mut(&id) {
                    l.tick(self.now);
                }
                self.collect_learner(id);
            }
            self.pump();
        }
    }

    fn established(&self) -> bool {
        self.leader_events.contains(&LeaderOut::Established)
    }

    fn stepped_down(&self) -> bool {
        self.leader_events.iter().any(|e| matches!(e, LeaderOut::StepDown(_)))
    }
}

fn z(e: i64, c: i64) -> i64 {
    make_zxid(e, c)
}

#[test]
fn three_servers_establish_and_commit_with_a_quorum() {
    let mut w = World::new(qv(3, 0), 1, &[z(1, 1), z(1, 2)], 1);
    assert!(!w.leader.epoch_decided());
    let a = w.add_learner(2, false, z(1, 2), 1);
    w.pump();
    // Leader + one follower is a quorum of three.
    assert!(w.established(), "{:?}", w.leader_events);
    assert!(w.leader_events.contains(&LeaderOut::AcceptedEpoch(2)));
    assert!(w.leader_events.contains(&LeaderOut::CurrentEpoch(2)));
    let (l, db) = &w.learners[&a];
    assert_eq!(l.stage(), LearnerStage::Broadcast);
    assert!(db.serving);
    assert_eq!((db.accepted, db.current), (2, 2));

    // A proposal needs the leader's own ack and one follower's.
    w.leader.propose(z(2, 1), Bytes::from_static(b"p1"));
    w.collect_leader();
    w.pump();
    assert!(!w.leader_events.contains(&LeaderOut::Commit(z(2, 1))), "committed without the leader's fsync");
    w.leader.local_persisted(z(2, 1));
    w.collect_leader();
    w.pump();
    assert!(w.leader_events.contains(&LeaderOut::Commit(z(2, 1))));
    assert_eq!(w.learners[&a].1.applied.last(), Some(&z(2, 1)));

    // A late follower is synced with a DIFF including the new txn.
    let b = w.add_learner(3, false, z(1, 1), 1);
    w.pump();
    let db = &w.learners[&b].1;
    assert!(db.serving);
    assert_eq!(db.applied, vec![z(1, 2), z(2, 1)]);
    assert_eq!(db.current, 2);
}

#[test]
fn a_learner_ahead_of_the_leader_is_refused() {
    let mut w = World::new(qv(3, 0), 1, &[z(1, 1)], 1);
    let a = w.add_learner(2, false, z(1, 5), 1);
    w.pump();
    // It reported (currentEpoch 1, zxid 1/5) > leader's (1, 1/1).
    assert!(!w.established());
    assert!(w.to_learner.is_empty());
    assert!(w.learners[&a].1.serving.eq(&false));
    w.advance(1_200);
    assert!(w.stepped_down(), "leader should give up waiting for the epoch ack quorum");
}

#[test]
fn divergent_follower_is_truncated() {
    // The follower logged (1,3) that never committed; the leader has (1,1),(1,2).
    let mut w = World::new(qv(3, 0), 1, &[z(1, 1), z(1, 2)], 1);
    let a = w.add_learner(2, false, z(1, 3), 0);
    // Its current epoch is 0 (it accepted epoch 1 but never finished syncing), so it is not
    // "ahead" even with the higher zxid.
    w.pump();
    let db = &w.learners[&a].1;
    assert_eq!(db.truncated, Some(z(1, 2)));
    assert!(db.serving);
}

#[test]
fn far_behind_follower_gets_a_snapshot_and_observers_get_informs() {
    let zs: Vec<i64> = (10..20).map(|c| z(1, c)).collect();
    let mut w = World::new(qv(3, 1), 1, &zs, 1);
    let a = w.add_learner(2, false, z(1, 2), 1);
    let o = w.add_learner(4, true, z(1, 19), 1);
    w.pump();
    assert!(w.established());
    assert_eq!(w.learners[&a].1.snap_installed, Some(z(1, 19)));
    assert!(w.learners[&o].1.serving);
    w.leader.propose(z(2, 1), Bytes::from_static(b"p"));
    w.leader.local_persisted(z(2, 1));
    w.collect_leader();
    w.pump();
    assert!(w.leader_events.contains(&LeaderOut::Commit(z(2, 1))));
    // The observer logged and applied it from the INFORM, and never ACKed anything.
    assert_eq!(w.learners[&o].1.applied.last(), Some(&z(2, 1)));
    assert_eq!(w.learners[&o].1.logged.last(), Some(&z(2, 1)));
}

#[test]
fn proposals_commit_in_order_and_sync_waits_for_them() {
    let mut w = World::new(qv(3, 0), 1, &[], 0);
    w.add_learner(2, false, 0, 0);
    w.pump();
    assert!(w.established());
    w.leader.propose(z(1, 1), Bytes::from_static(b"a"));
    w.leader.propose(z(1, 2), Bytes::from_static(b"b"));
    w.leader.process_sync(SyncWaiter::Local(9));
    w.collect_leader();
    // The follower acks both before the leader's fsync; nothing commits yet.
    w.pump();
    assert!(!w.leader_events.iter().any(|e| matches!(e, LeaderOut::Commit(_))));
    w.leader.local_persisted(z(1, 2));
    w.collect_leader();
    let commits: Vec<i64> = w
        .leader_events
        .iter()
        .filter_map(|e| if let LeaderOut::Commit(z) = e { Some(*z) } else { None })
        .collect();
    assert_eq!(commits, vec![z(1, 1), z(1, 2)]);
    assert!(w.leader_events.contains(&LeaderOut::LocalSyncDone(9)));
}

#[test]
fn leader_steps_down_when_followers_go_silent() {
    let mut w = World::new(qv(3, 0), 1, &[], 0);
    let a = w.add_learner(2, false, 0, 0);
    w.pump();
    assert!(w.established());
    // Pings are answered: the leader stays.
    w.advance(2_000);
    assert!(!w.stepped_down(), "{:?}", w.leader_events);
    // The follower disappears.
    w.learners.remove(&a);
    w.leader.learner_closed(a);
    w.advance(500);
    assert!(w.stepped_down());
}

#[test]
fn followers_fail_when_the_leader_goes_silent() {
    let mut w = World::new(qv(3, 0), 1, &[], 0);
    let a = w.add_learner(2, false, 0, 0);
    w.pump();
    // No more pings reach the follower (the leader is frozen).
    for _ in 0..100 {
        w.now += 10;
        if let Some((l, _)) = w.learners.get_mut(&a) {
            l.tick(w.now);
        }
        w.collect_learner(a);
    }
    assert!(w.learners[&a].1.failed.is_some());
}

#[test]
fn forwarded_requests_touches_and_revalidation_reach_the_core() {
    let mut w = World::new(qv(3, 0), 1, &[], 0);
    let a = w.add_learner(2, false, 0, 0);
    w.pump();
    let req =
        Learner::request(0x55, 7, rzk_proto::codes::op::CREATE, b"body", vec![Id::new("ip", "127.0.0.1")]);
    w.to_leader.push_back((a, req));
    w.to_leader.push_back((a, Learner::revalidate(0x55, 4000)));
    w.pump();
    w.advance(200);
    assert!(w.leader_events.iter().any(|e| matches!(e,
        LeaderOut::Request { session: 0x55, cxid: 7, op, body, authinfo, .. }
            if *op == rzk_proto::codes::op::CREATE && &body[..] == b"body" && authinfo.len() == 1)));
    assert!(w.leader_events.contains(&LeaderOut::Revalidate { from: a, session: 0x55, timeout: 4000 }));
    assert!(w.leader_events.contains(&LeaderOut::Touch { session: 0x77, timeout: 30000 }));
    // The answer reaches the learner.
    w.leader.revalidated(a, 0x55, true);
    w.collect_leader();
    let (to, p) = w.to_learner.pop_back().expect("revalidate answer");
    assert_eq!(to, a);
    let mut l = w.learners.remove(&a).expect("learner").0;
    l.receive(p, w.now);
    assert!(l.take_out().contains(&LearnerOut::Revalidated { session: 0x55, valid: true }));
}
