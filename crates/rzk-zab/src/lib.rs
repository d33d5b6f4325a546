//! rzk-zab: the quorum protocols' pure parts.
//!
//! - [`verifier`]: who votes and what a quorum is (`QuorumMaj`, `QuorumHierarchical`), and the
//!   configuration text peers exchange.
//! - [`notification`]: FastLeaderElection's notification bytes (as `FastLeaderElection.buildMsg`
//!   writes them and `WorkerReceiver` reads them, including the 28- and 40-byte legacy forms).
//! - [`election`]: FastLeaderElection (`lookForLeader` and the receiver's answers) as a state
//!   machine: notifications and ticks in, notifications to send and a decision out.
//! - [`packet`]: the `QuorumPacket` types of Zab.
//! - [`sync`]: the committed log and how a leader chooses DIFF, TRUNC or SNAP for a learner.
//! - [`leader`] and [`learner`]: Zab's discovery, synchronisation and broadcast, each side as a
//!   state machine over one connection per learner, with txns as opaque bytes.
//!
//! No sockets, no clock, no threads: the shell (rzk-server) moves the bytes and the time, and the
//! simulator can run a whole ensemble of these in one thread.

pub mod election;
pub mod leader;
pub mod learner;
pub mod notification;
pub mod packet;
pub mod sync;
pub mod verifier;
pub mod vote;

pub use election::{Election, ElectionOut};
pub use notification::Notification;
pub use verifier::{Hierarchy, Member, QuorumVerifier};
pub use vote::{ServerState, Vote};
