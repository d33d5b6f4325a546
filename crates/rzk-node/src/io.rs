//! What goes into the core and what comes out of it. The shell feeds [`Input`]s and carries out
//! the [`Ready`] strictly in order: txns to the log first, then the client output (which only
//! ever contains replies to txns the log already reported durable).

use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{ReplyHeader, Request, Response, WatcherEvent};

/// A client connection, numbered by the shell.
pub type ConnId = u64;

#[derive(Debug, Clone)]
pub enum Input {
    /// Time passes. `elapsed_ms` is monotonic (expiry); `wall_ms` is wall-clock time (txn
    /// headers, TTLs), as ZooKeeper uses `Time.currentElapsedTime` and `currentWallTime`.
    Tick { elapsed_ms: i64, wall_ms: i64 },
    /// A connection was accepted from `remote_ip`.
    Accepted { conn: ConnId, remote_ip: String },
    /// Its first frame: the session handshake.
    Connect { conn: ConnId, req: ConnectRequest },
    /// A request with its xid.
    Request { conn: ConnId, xid: i32, req: Request },
    /// A request whose body could not be decoded (ZooKeeper answers MarshallingError, and a
    /// malformed write still becomes an error txn that consumes a zxid).
    Malformed { conn: ConnId, xid: i32, op: i32 },
    /// The connection is gone.
    Closed { conn: ConnId },
    /// The txn log is durable up to and including this zxid.
    Persisted { through: i64 },
    /// Writing the log failed (a full disk): every txn not yet durable was undone on disk and
    /// fails; the sessions and changes they made are rolled back.
    LogFailed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOut {
    ConnectResponse(ConnectResponse),
    /// A reply; `op` is ZooKeeper's short name of the request (`cons` shows it).
    Reply {
        header: ReplyHeader,
        body: Response,
        op: &'static str,
    },
    /// A watch event (sent with xid −1).
    Event(WatcherEvent),
    /// Close the connection after what was sent before.
    Close {
        reason: &'static str,
    },
}

/// One txn to append to the log, encoded as logged (header + record + digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAppend {
    pub zxid: i64,
    pub bytes: Vec<u8>,
}

#[must_use]
#[derive(Debug, Default)]
pub struct Ready {
    /// Txns to append, in zxid order; the shell reports `Persisted` once they are synced.
    pub log: Vec<LogAppend>,
    /// Output for clients, in order.
    pub client_out: Vec<(ConnId, ClientOut)>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.log.is_empty() && self.client_out.is_empty()
    }
}
