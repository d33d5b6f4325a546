//! rzk-proto: Apache ZooKeeper's wire format and protocol vocabulary, with no I/O.
//!
//! The first stage of rzk's one-way flow (bytes → codec → session → pipeline → tree → replies):
//! frames are cut from the socket's bytes (`frame`), a connection's first frame is a
//! `ConnectRequest` or a four-letter word, later frames are `(RequestHeader, Request)`
//! (`request`); replies and watch events go back as `ReplyHeader` + `Response` (`response`).
//! Every record of `zookeeper.jute` is declared once in `records`; txns as logged and replicated
//! are in `txn`.

pub mod codes;
pub mod connect;
pub mod frame;
pub mod ids;
pub mod jute;
pub mod path;
pub mod records;
pub mod request;
pub mod response;
pub mod txn;

pub use codes::{CreateMode, ErrorCode};
pub use ids::{ServerId, SessionId, Zxid};
pub use jute::{DecodeError, Jute, Reader};
pub use records::*;
pub use request::Request;
pub use response::{MultiResult, Response};
