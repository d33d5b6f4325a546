//! Peer transports of a quorum member. So far the election port: [`qcm`] (ZooKeeper's
//! `QuorumCnxManager`) carries FastLeaderElection notifications between the members; the
//! election logic itself is the pure state machine in `rzk_zab::election`.

pub mod qcm;
