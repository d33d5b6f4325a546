//! rzk-node: the request core of a server, pure and synchronous.
//!
//! It owns the data tree, the session table and the request pipeline (`prep` turns writes into
//! txns; the log makes them durable; `final` applies them and answers; reads are answered from the
//! tree in session order). The shell (rzk-server) feeds it inputs and carries out its output; the
//! simulator will drive the same code. No I/O, no clock, no threads in here.

pub mod audit;
pub mod auth;
pub mod changes;
pub mod containers;
pub mod digest_md5;
pub mod io;
pub mod java_hash;
pub mod java_random;
pub mod node;
pub mod prep;
pub mod quorum;
pub mod reads;
pub mod sasl;
pub mod sessions;
pub mod x509;

pub use io::{ClientOut, ConnId, Input, LogAppend, PeerInput, PeerOut, Ready, StorageOp};
pub use node::peer::{LeaderGauges, QuorumGauges};
pub use node::{DIGEST_LOG_INTERVAL, Node, NodeConfig};
pub use quorum::QuorumSetup;
