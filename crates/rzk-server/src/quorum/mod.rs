//! The shell of a quorum member: its transports and the glue between them and the core.
//!
//! - [`qcm`]: the election port (ZooKeeper's `QuorumCnxManager`), carrying FastLeaderElection
//!   notifications; the election itself is the pure state machine in `rzk_zab::election`.
//! - [`stream`] and [`links`]: the quorum port (learners ↔ leader), QuorumPacket records back to
//!   back and the SNAP stream.
//! - [`tls`] and [`tunnel`]: TLS between servers on both ports (`sslQuorum`, `portUnification`),
//!   and how the quorum port's blocking threads share a TLS stream.
//! - [`sasl`]: quorum SASL (DIGEST-MD5 between servers, `quorum.auth.*`) on both ports.
//! - [`setup`]: the ensemble part of zoo.cfg, and the epoch files.
//! - [`shell`]: where the node's peer messages go, and the storage work done synchronously.

pub mod links;
pub mod qcm;
pub mod sasl;
pub mod setup;
pub mod shell;
pub mod stream;
pub mod tls;
pub mod tunnel;
