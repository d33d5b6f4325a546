//! rzk-tree: ZooKeeper's `DataTree` as a pure state machine.
//!
//! In the one-way flow it sits after the log: committed txns are applied here
//! ([`DataTree::process_txn`]), which yields the per-request result and the watch events to
//! deliver; reads are answered from here by the final stage of the pipeline. Nothing in this crate
//! does I/O or reads a clock.

pub mod acl_cache;
mod arena;
pub mod children;
pub mod digest;
pub mod node;
pub mod quota;
pub mod snapshot;
pub mod tree;
pub mod watch;

pub use acl_cache::{AclCache, open_acl_unsafe, read_acl_unsafe};
pub use node::{DataNode, NodeKind};
pub use tree::{DataTree, Fired, TxnResult};
pub use watch::{WatchMode, WatcherId};
