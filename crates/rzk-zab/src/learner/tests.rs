//! The learner alone: the packets it answers with, epoch handling, and failures.

use super::*;

fn cfg(observer: bool) -> LearnerConfig {
    LearnerConfig { my_id: 2, observer, tick_time_ms: 100, init_limit: 10, sync_limit: 5, config_version: 0 }
}

fn pkt(ty: i32, zxid: i64, data: Option<&'static [u8]>) -> QuorumPacket {
    QuorumPacket { packet_type: ty, zxid, data: data.map(Bytes::from_static), authinfo: None }
}

#[test]
fn registers_with_follower_info_and_acks_a_new_epoch() {
    let mut l = Learner::new(cfg(false), 1, 3, 3, make_zxid(3, 9), 0);
    l.connected(0);
    let out = l.take_out();
    let LearnerOut::Send(info) = &out[0] else { panic!("{out:?}") };
    assert_eq!(info.packet_type, packet::FOLLOWERINFO);
    assert_eq!(info.zxid, make_zxid(3, 0));
    // LearnerInfo: sid 2, protocol 0x10000, config version 0.
    assert_eq!(
        &info.data.as_ref().unwrap()[..],
        &[0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    l.receive(pkt(packet::LEADERINFO, make_zxid(4, 0), Some(&[0, 1, 0, 0])), 1);
    let out = l.take_out();
    assert_eq!(out[0], LearnerOut::AcceptedEpoch(4));
    assert_eq!(out[1], LearnerOut::Send(pkt(packet::ACKEPOCH, make_zxid(3, 9), Some(&[0, 0, 0, 3]))));
}

#[test]
fn an_epoch_already_accepted_is_acked_with_minus_one() {
    let mut l = Learner::new(cfg(false), 1, 4, 3, 5, 0);
    l.connected(0);
    l.take_out();
    l.receive(pkt(packet::LEADERINFO, make_zxid(4, 0), Some(&[0, 1, 0, 0])), 1);
    assert_eq!(
        l.take_out(),
        vec![LearnerOut::Send(pkt(packet::ACKEPOCH, 5, Some(&[0xff, 0xff, 0xff, 0xff])))]
    );
}

#[test]
fn an_older_leader_epoch_fails() {
    let mut l = Learner::new(cfg(false), 1, 5, 5, 5, 0);
    l.connected(0);
    l.take_out();
    l.receive(pkt(packet::LEADERINFO, make_zxid(4, 0), Some(&[0, 1, 0, 0])), 1);
    assert!(matches!(l.take_out()[..], [LearnerOut::Failed(_)]));
}

#[test]
fn observers_register_as_observers_and_apply_informs() {
    let mut l = Learner::new(cfg(true), 1, 1, 1, make_zxid(1, 1), 0);
    l.connected(0);
    let out = l.take_out();
    assert!(matches!(&out[0], LearnerOut::Send(p) if p.packet_type == packet::OBSERVERINFO));
    l.receive(pkt(packet::LEADERINFO, make_zxid(2, 0), Some(&[0, 1, 0, 0])), 1);
    l.receive(pkt(packet::DIFF, make_zxid(1, 1), None), 2);
    l.receive(pkt(packet::NEWLEADER, make_zxid(2, 0), Some(b"server.1=...")), 3);
    l.receive(pkt(packet::UPTODATE, -1, None), 4);
    l.take_out();
    assert_eq!(l.stage(), LearnerStage::Broadcast);
    l.receive(pkt(packet::INFORM, make_zxid(2, 1), Some(b"txn")), 5);
    // Proposals are not for observers.
    l.receive(pkt(packet::PROPOSAL, make_zxid(2, 2), Some(b"txn")), 6);
    assert_eq!(
        l.take_out(),
        vec![
            LearnerOut::Log { zxid: make_zxid(2, 1), data: Bytes::from_static(b"txn") },
            LearnerOut::Commit(make_zxid(2, 1)),
        ]
    );
}

#[test]
fn newleader_ack_waits_for_the_log_and_uptodate_is_acked() {
    let mut l = Learner::new(cfg(false), 1, 1, 1, 0, 0);
    l.connected(0);
    l.receive(pkt(packet::LEADERINFO, make_zxid(2, 0), Some(&[0, 1, 0, 0])), 1);
    l.receive(pkt(packet::DIFF, 0, None), 2);
    l.receive(pkt(packet::PROPOSAL, make_zxid(1, 1), Some(b"t")), 3);
    l.receive(pkt(packet::COMMIT, make_zxid(1, 1), None), 3);
    l.take_out();
    l.receive(pkt(packet::NEWLEADER, make_zxid(2, 0), Some(b"cfg")), 4);
    assert_eq!(
        l.take_out(),
        vec![LearnerOut::NewLeaderAckWhenLogged { epoch: 2, ack: pkt(packet::ACK, make_zxid(2, 0), None) }]
    );
    l.receive(pkt(packet::UPTODATE, -1, None), 5);
    assert_eq!(
        l.take_out(),
        vec![LearnerOut::Send(pkt(packet::ACK, make_zxid(2, 0), None)), LearnerOut::Uptodate]
    );
    // A PING is handed to the core for the touch table.
    l.receive(pkt(packet::PING, make_zxid(2, 0), None), 6);
    let out = l.take_out();
    let LearnerOut::Ping(p) = &out[0] else { panic!("{out:?}") };
    let reply = Learner::ping_reply(p, &[(0x1234, 5000)]);
    assert_eq!(&reply.data.unwrap()[..], &[0, 0, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0x13, 0x88]);
}

#[test]
fn silence_ends_the_role() {
    let mut l = Learner::new(cfg(false), 1, 1, 1, 0, 0);
    l.connected(0);
    l.take_out();
    l.tick(900);
    assert!(l.take_out().is_empty());
    l.tick(1_001);
    assert!(matches!(l.take_out()[..], [LearnerOut::Failed(_)]));
}
