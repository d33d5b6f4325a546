//! rzk-tools: offline tools over ZooKeeper's files, with the output of ZooKeeper's own tools so
//! that scripts written for them keep working.
//!
//! - `rzk txnlog dump|recover` is `zkTxnLogToolkit.sh` (`TxnLogToolkit`), plus a JSON form;
//! - `rzk snapshot dump|compare` is `zkSnapShotToolkit.sh` (`SnapshotFormatter`) and
//!   `zkSnapshotComparer.sh` (`SnapshotComparer`), plus an exact diff;
//! - `rzk purge` is `zkCleanup.sh` (`PurgeTxnLog`).
//!
//! These sit outside rzk's request flow: they read what `rzk-storage` wrote (or Apache ZooKeeper
//! did), never a live server. Every command is a function over an output writer (and input, for
//! prompts), so tests run them in-process; `*_main` wire them to the process's stdio and return
//! the exit code the Java tool would.

mod args;
mod error;
mod javafmt;
mod progress;
mod tostring;

pub mod purge;
pub mod snapshot;
pub mod txnlog;

pub use error::ToolError;

/// `rzk txnlog ...` (the arguments after `txnlog`); returns the process exit code.
pub fn txnlog_main(args: Vec<String>) -> i32 {
    error::run_main(|out| txnlog::run(&args, out, &mut std::io::stdin().lock()))
}

/// `rzk snapshot ...` (the arguments after `snapshot`); returns the process exit code.
pub fn snapshot_main(args: Vec<String>) -> i32 {
    error::run_main(|out| snapshot::run(&args, out, &mut std::io::stdin().lock()))
}

/// `rzk purge ...` (the arguments after `purge`); returns the process exit code.
pub fn purge_main(args: Vec<String>) -> i32 {
    error::run_main(|out| purge::run(&args, out))
}
