//! rzk-testkit: helpers for tests that run real servers (dev-only; synchronous, so sync and
//! async tests can both use it).
//!
//! - `ServerProcess`: any server command, killed (SIGKILL) on drop, `kill()` / `terminate()`,
//!   readiness by polling its client port with a deadline.
//! - `RefZk`: the reference Apache ZooKeeper 3.8 (Debian's package) in a temp dir on a free
//!   127.0.0.1 port; `RefZk::start_or_skip` prints why and returns `None` when it is not
//!   installed.
//! - `RefQuorumPeer`: a reference ZooKeeper as one member of an ensemble (`server.N` lines,
//!   `myid`), with ports the test chooses (`QuorumPorts`), to mix Java and rzk members.
//! - `RzkQuorumPeer`: an rzk member of an ensemble, in the same shape (kill -9 and start again).
//! - `Proxy`: a TCP proxy that can cut and restore every connection through it (to disconnect a
//!   client from a running server).
//! - `net`: `free_port`, `wait_for_port`, `wait_for_serving` (srvr says `Mode:`),
//!   `four_letter_word`.

pub mod net;
pub mod process;
pub mod proxy;
pub mod ref_quorum;
pub mod refzk;
pub mod rzk;
pub mod rzk_quorum;

pub use net::{four_letter_word, free_port, wait_for_port, wait_for_serving};
pub use process::ServerProcess;
pub use proxy::Proxy;
pub use ref_quorum::{QuorumPorts, RefQuorumPeer};
pub use refzk::RefZk;
pub use rzk::RzkServer;
pub use rzk_quorum::RzkQuorumPeer;
