//! Elections among in-memory peers: a tiny network that delivers every notification in order,
//! with time advanced in steps, and servers that can be left out (down).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::*;
use crate::verifier::Member;

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

struct Net {
    nodes: BTreeMap<i64, Election>,
    up: BTreeSet<i64>,
    wire: VecDeque<(i64, i64, Notification)>,
    decided: BTreeMap<i64, Vote>,
    now: i64,
}

impl Net {
    /// Servers `1..=voters` vote; `observers` more follow them as observers. `zxids[i]` is the
    /// last zxid of server i+1 (all at epoch 1).
    fn new(voters: i64, observers: i64, zxids: &[i64]) -> Net {
        let members: Vec<Member> = (1..=voters)
            .map(|i| member(i, false))
            .chain((voters + 1..=voters + observers).map(|i| member(i, true)))
            .collect();
        let qv = QuorumVerifier::majority(members, 0);
        let mut nodes = BTreeMap::new();
        for i in 1..=voters + observers {
            let zxid = zxids.get((i - 1) as usize).copied().unwrap_or(0);
            let mut e = Election::new(i, qv.clone(), zxid, 1);
            e.set_intervals(50, 400);
            nodes.insert(i, e);
        }
        Net { nodes, up: BTreeSet::new(), wire: VecDeque::new(), decided: BTreeMap::new(), now: 0 }
    }

    fn start(&mut self, id: i64) {
        self.up.insert(id);
        self.decided.remove(&id);
        let e = self.nodes.get_mut(&id).expect("node");
        let zxid = e.current_vote().zxid;
        e.start(self.now, zxid, 1);
        self.collect(id);
    }

    fn collect(&mut self, id: i64) {
        let out = self.nodes.get_mut(&id).expect("node").take_out();
        for o in out {
            match o {
                ElectionOut::Send { to, notification } => self.wire.push_back((id, to, notification)),
                ElectionOut::Decided(v) => {
                    assert!(self.decided.insert(id, v).is_none(), "server {id} decided twice");
                }
            }
        }
    }

    /// Delivers everything on the wire (to servers that are up), then advances time by `step`.
    fn run_for(&mut self, ms: i64, step: i64) {
        let end = self.now + ms;
        while self.now < end {
            while let Some((from, to, n)) = self.wire.pop_front() {
                if !self.up.contains(&to) || !self.up.contains(&from) {
                    continue;
                }
                self.nodes.get_mut(&to).expect("node").receive(from, n, self.now);
                self.collect(to);
            }
            self.now += step;
            let ids: Vec<i64> = self.up.iter().copied().collect();
            for id in ids {
                self.nodes.get_mut(&id).expect("node").tick(self.now);
                self.collect(id);
            }
        }
    }
}

#[test]
fn equal_servers_elect_the_highest_id() {
    let mut net = Net::new(3, 0, &[]);
    for id in 1..=3 {
        net.start(id);
    }
    net.run_for(2_000, 10);
    assert_eq!(net.decided.len(), 3, "{:?}", net.decided);
    assert_eq!(net.decided[&3].state, ServerState::Leading);
    assert_eq!(net.decided[&1].state, ServerState::Following);
    assert_eq!(net.decided[&2].state, ServerState::Following);
    assert!(net.decided.values().all(|v| v.leader == 3));
}

#[test]
fn the_most_recent_zxid_wins_over_the_id() {
    let mut net =
        Net::new(5, 0, &[0x1_0000_0009, 0x1_0000_0007, 0x1_0000_0008, 0x1_0000_0009, 0x1_0000_0002]);
    for id in 1..=5 {
        net.start(id);
    }
    net.run_for(3_000, 10);
    assert_eq!(net.decided.len(), 5);
    assert!(net.decided.values().all(|v| v.leader == 4 && v.zxid == 0x1_0000_0009), "{:?}", net.decided);
}

#[test]
fn a_bare_majority_elects_and_a_minority_does_not() {
    let mut net = Net::new(5, 0, &[]);
    for id in [1, 2] {
        net.start(id);
    }
    net.run_for(3_000, 10);
    assert!(net.decided.is_empty(), "a minority decided: {:?}", net.decided);
    net.start(3);
    net.run_for(3_000, 10);
    assert_eq!(net.decided.len(), 3);
    assert!(net.decided.values().all(|v| v.leader == 3));
}

#[test]
fn a_late_server_joins_the_established_leader() {
    let mut net = Net::new(3, 0, &[]);
    for id in [1, 2] {
        net.start(id);
    }
    net.run_for(2_000, 10);
    assert_eq!(net.decided[&2].state, ServerState::Leading);
    // Server 3 has the highest id but arrives late: the running leader stays.
    net.start(3);
    net.run_for(2_000, 10);
    assert_eq!(net.decided[&3].leader, 2);
    assert_eq!(net.decided[&3].state, ServerState::Following);
}

#[test]
fn observers_learn_the_leader_without_voting() {
    let mut net = Net::new(3, 2, &[]);
    for id in 1..=5 {
        net.start(id);
    }
    net.run_for(2_000, 10);
    assert_eq!(net.decided.len(), 5, "{:?}", net.decided);
    assert!(net.decided.values().all(|v| v.leader == 3));
    assert_eq!(net.decided[&4].state, ServerState::Observing);
    assert_eq!(net.decided[&5].state, ServerState::Observing);
}

#[test]
fn observers_alone_elect_nobody() {
    let mut net = Net::new(3, 2, &[]);
    for id in [1, 4, 5] {
        net.start(id);
    }
    net.run_for(3_000, 10);
    assert!(net.decided.is_empty(), "{:?}", net.decided);
}

#[test]
fn re_election_after_the_leader_dies() {
    let mut net = Net::new(3, 0, &[]);
    for id in 1..=3 {
        net.start(id);
    }
    net.run_for(2_000, 10);
    assert_eq!(net.decided[&3].state, ServerState::Leading);
    net.up.remove(&3);
    for id in [1, 2] {
        net.nodes.get_mut(&id).expect("node").stop_following();
        net.start(id);
    }
    net.run_for(2_000, 10);
    assert_eq!(net.decided[&1].leader, 2);
    assert_eq!(net.decided[&2].state, ServerState::Leading);
    // The old leader comes back and follows the new one.
    net.start(3);
    net.run_for(2_000, 10);
    assert_eq!(net.decided[&3].leader, 2);
}

#[test]
fn unanswered_rounds_back_off() {
    let qv = QuorumVerifier::majority((1..=3).map(|i| member(i, false)).collect(), 0);
    let mut e = Election::new(1, qv, 0, 1);
    e.set_intervals(100, 800);
    e.start(0, 0, 1);
    let sends = |out: Vec<ElectionOut>| out.iter().filter(|o| matches!(o, ElectionOut::Send { .. })).count();
    assert_eq!(sends(e.take_out()), 2);
    let mut resend_times = Vec::new();
    for t in (10..=5_000).step_by(10) {
        e.tick(t);
        if sends(e.take_out()) > 0 {
            resend_times.push(t);
        }
    }
    assert_eq!(&resend_times[..5], &[100, 300, 700, 1500, 2300]);
}
