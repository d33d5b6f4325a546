//! rzk-storage: rzk's data on disk, in Apache ZooKeeper's own formats, so that a dataDir moves
//! between the two servers unchanged.
//!
//! In the one-way flow the log sits between prep and final: txns are appended and synced here
//! before they are applied and answered. This crate speaks txn bytes and zxids, not server types.

pub mod epoch;
pub mod purge;
pub mod snapfile;
pub mod txnlog;

pub use txnlog::{
    FileTxnLog, LogEntry, LogError, LogMark, LogRead, SyncTicket, read_log_dir, read_log_dir_and_tail,
};

/// `version-2`: the sub-directory ZooKeeper keeps its files in.
pub const VERSION_DIR: &str = "version-2";
