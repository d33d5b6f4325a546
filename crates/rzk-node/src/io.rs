//! What goes into the core and what comes out of it. The shell feeds [`Input`]s and carries out
//! the [`Ready`] strictly in order: txns to the log first, then the client output (which only
//! ever contains replies to txns the log already reported durable).

use std::sync::Arc;

use bytes::Bytes;
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{QuorumPacket, ReplyHeader, Request, Response, WatcherEvent};
use rzk_tree::DataTree;
use rzk_tree::snapshot::TreeBody;
use rzk_zab::leader::LearnerId;

/// A client connection, numbered by the shell.
pub type ConnId = u64;

#[derive(Debug, Clone)]
pub enum Input {
    /// Time passes. `elapsed_ms` is monotonic (expiry); `wall_ms` is wall-clock time (txn
    /// headers, TTLs), as ZooKeeper uses `Time.currentElapsedTime` and `currentWallTime`.
    Tick { elapsed_ms: i64, wall_ms: i64 },
    /// A connection was accepted from `remote_ip`.
    Accepted { conn: ConnId, remote_ip: String },
    /// Ids the connection proved before its first frame, added to its `ip` id: the `x509` id
    /// (and `super`, for the configured superUser) of a TLS client certificate, as
    /// `X509AuthenticationProvider.handleAuthentication` adds them when the handshake ends.
    ConnAuth { conn: ConnId, ids: Vec<rzk_proto::Id> },
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
    /// Something from the ensemble (quorum mode only).
    Peer(PeerInput),
    /// The answer to [`StorageOp::TruncateLog`]: the tree reloaded from disk, and the last txns
    /// of the log (zxid, bytes as logged) for the committed log.
    Reloaded { tree: Box<DataTree>, recent: Vec<(i64, Bytes)> },
}

/// What the ensemble's transports deliver.
#[derive(Debug, Clone)]
pub enum PeerInput {
    /// A FastLeaderElection notification (the bytes QuorumCnxManager framed).
    Notification {
        from: i64,
        bytes: Vec<u8>,
    },
    /// The connection to the leader asked for by [`PeerOut::ConnectLeader`] is up, or failed.
    LeaderConnected,
    LeaderConnectFailed,
    /// A packet from the leader. A SNAP packet carries the serialized sessions and tree that
    /// followed it on the stream as its data (the shell reads them up to the signature).
    FromLeader(QuorumPacket),
    LeaderClosed,
    /// A learner connected to our quorum port.
    LearnerAccepted {
        id: LearnerId,
    },
    FromLearner {
        id: LearnerId,
        packet: QuorumPacket,
    },
    LearnerClosed {
        id: LearnerId,
    },
}

/// What goes to the ensemble, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerOut {
    Notification {
        to: i64,
        bytes: Vec<u8>,
    },
    /// Connect to this member's quorum port (and report `LeaderConnected` or
    /// `LeaderConnectFailed`).
    ConnectLeader {
        sid: i64,
    },
    DisconnectLeader,
    ToLeader(QuorumPacket),
    ToLearner {
        id: LearnerId,
        packet: QuorumPacket,
    },
    /// What follows a SNAP packet on a learner's stream: the tree as of the SNAP's zxid (frozen;
    /// the shell serializes it as it writes it), then `rzk_zab::packet::SNAP_SIGNATURE`.
    ToLearnerSnapshot {
        id: LearnerId,
        body: TreeBody,
    },
    CloseLearner {
        id: LearnerId,
    },
}

/// Storage work the shell does synchronously, before anything else in the same [`Ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOp {
    /// Write `acceptedEpoch` (fsynced).
    AcceptedEpoch(i64),
    /// Write `currentEpoch` (fsynced).
    CurrentEpoch(i64),
    /// Cut the txn log after `zxid` (after every append handed over before it is done). With
    /// `reload`, reload the tree from disk and answer with [`Input::Reloaded`].
    TruncateLog { zxid: i64, reload: bool },
    /// Write a snapshot of the tree as it is when the shell carries this out (fsynced).
    Snapshot,
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
    /// A watch event (sent with xid −1); shared by every watcher of one change.
    Event(Arc<WatcherEvent>),
    /// Close the connection after what was sent before.
    Close {
        reason: &'static str,
    },
}

/// One txn to append to the log, encoded as logged (header + record + digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAppend {
    pub zxid: i64,
    pub bytes: Bytes,
}

#[must_use]
#[derive(Debug, Default)]
pub struct Ready {
    /// Carried out first, synchronously, in order.
    pub storage: Vec<StorageOp>,
    /// Txns to append, in zxid order; the shell reports `Persisted` once they are synced.
    pub log: Vec<LogAppend>,
    /// Messages to the ensemble, in order (after `storage`; they need not wait for `log`).
    pub peer_out: Vec<PeerOut>,
    /// Output for clients, in order.
    pub client_out: Vec<(ConnId, ClientOut)>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
            && self.log.is_empty()
            && self.peer_out.is_empty()
            && self.client_out.is_empty()
    }
}
