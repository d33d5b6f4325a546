//! rzk-client: an async ZooKeeper client for rzk's shell, tests, benchmark and simulator, and
//! the raw connection the differential tests drive.
//!
//! Shape: `session` is a sans-I/O state machine (Java's `ClientCnxn` without threads: handshake,
//! xid matching, watch events, pings, auth and SetWatches replay on reconnect, lastZxidSeen);
//! `driver` is the one tokio task that owns the socket and feeds it; `client` is the handle
//! (`Client`, `ClientBuilder`) and `api` its typed calls; `raw` talks bytes for tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), rzk_client::Error> {
//! use std::time::Duration;
//! use rzk_client::{Client, CreateMode, open_acl_unsafe};
//! let zk = Client::connect("127.0.0.1:2181", Duration::from_secs(30)).await?;
//! let mut events = zk.watches();
//! zk.create("/a", b"hello", &open_acl_unsafe(), CreateMode::Persistent).await?;
//! let (data, _stat) = zk.get_data("/a", true).await?;
//! zk.set_data("/a", b"bye", -1).await?;
//! let _changed = events.recv().await; // SyncConnected first, then NodeDataChanged for /a
//! zk.close().await?;
//! # let _ = data; Ok(()) }
//! ```

mod api;
mod client;
pub mod connect_string;
mod driver;
mod error;
pub mod event;
mod ops;
pub mod raw;
pub mod session;
pub mod watches;

pub use api::{CONFIG_NODE, first_error};
pub use client::{
    COMMANDS_MAX, Client, ClientBuilder, EVENTS_MAX_DEFAULT, FRAME_BYTES_MAX_DEFAULT,
    RECONNECT_DELAY_MAX_DEFAULT, REQUESTS_IN_FLIGHT_MAX_DEFAULT,
};
pub use connect_string::ConnectString;
pub use driver::SessionInfo;
pub use error::{Error, Result};
pub use event::{AddWatchMode, EventType, KeeperState, States, WatchedEvent, WatcherType};
pub use ops::{Op, creator_all_acl, mode_name, open_acl_unsafe, read_acl_unsafe, validate_path};
pub use raw::{RawConnection, RawError, RawSocket};
pub use session::RawReply;

pub use rzk_proto::{Acl, ClientInfo, CreateMode, ErrorCode, Id, MultiResult, Stat};
pub use tokio::sync::broadcast::error::RecvError;
