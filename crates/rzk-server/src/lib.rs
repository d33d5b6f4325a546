//! rzk-server: the tokio shell around the pure core.
//!
//! The outer stages of the one-way flow live here: bytes from sockets are framed and decoded
//! (`conn`), handed to the single core task that owns the node (`core`), txns go to the log
//! thread for group commit (`log_thread`), and replies and watch events go back out through each
//! connection's outbox (`route`, `outbox`; a large watch fan-out shares its socket writes with the
//! `fanout` thread). Start-up order and the accept loop are in `server`.

pub mod account;
pub mod admin;
pub mod audit_user;
pub mod client_sasl;
pub mod conn;
pub mod core;
pub mod fanout;
pub mod four_letter;
pub mod from_config;
pub mod heap;
pub mod log_thread;
pub mod metrics;
pub mod mntr;
pub mod outbox;
pub mod prometheus;
pub mod quorum;
pub mod restore;
pub mod route;
pub mod server;
pub mod settings;
pub mod shared_write;
pub mod snapshotter;
pub mod stats;
pub mod tls;

pub use server::{ServerHandle, StartError, start};
pub use settings::{FourLetterWhitelist, Settings};
