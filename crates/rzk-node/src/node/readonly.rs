//! Read-only mode (`readonlymode.enabled`, `ReadOnlyZooKeeperServer`): a quorum member that has
//! been LOOKING for the grace period (max(2 s, tickTime)) serves clients that allow read-only
//! sessions. Reads are answered from its tree; writes and `sync` fail with NotReadOnly; clients
//! that do not allow read-only sessions are refused. When an election ends the read-only server
//! stops and its connections close.
//!
//! As in ZooKeeper 3.8, a new session in read-only mode needs `localSessionsEnabled=true`: the
//! session is then local to this server (no txn). Without it ZooKeeper answers the connect with a
//! bare NotReadOnly reply header, which clients cannot parse; rzk sends the same bytes. A global
//! session that the tree knows may reconnect either way.

use bytes::Bytes;
use rzk_proto::codes::op;
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{ErrorCode, ReplyHeader, Request, Response};

use super::{ClientOut, ConnId, Node};
use crate::java_random::session_password;
use crate::quorum::Role;
use crate::sessions::SessionTracker;

/// The grace period before a LOOKING member turns read-only (`Math.max(2000, tickTime)`).
pub const READ_ONLY_GRACE_MIN_MS: i64 = 2000;

impl Node {
    /// Whether the read-only server runs (`isro` answers "ro").
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Starts read-only mode once the member has looked for a leader long enough.
    pub(super) fn maybe_enter_read_only(&mut self) {
        if !self.cfg.read_only_mode || self.read_only || self.serving {
            return;
        }
        let Some(p) = self.peer.as_ref() else { return };
        if !matches!(p.role, Role::Looking) {
            return;
        }
        let grace = READ_ONLY_GRACE_MIN_MS.max(self.cfg.tick_time_ms);
        if self.elapsed_ms - p.looking_since_ms < grace {
            return;
        }
        tracing::info!("Read-only server started: serving read-only clients until a leader is elected");
        self.read_only = true;
        self.sessions = SessionTracker::new(self.cfg.tick_time_ms, p.setup.my_id, self.session_clock_ms());
    }

    /// Stops read-only mode (an election ended): its clients are disconnected.
    pub(super) fn leave_read_only(&mut self) {
        if !self.read_only {
            return;
        }
        tracing::info!("Read-only server stopped");
        self.read_only = false;
        let mut conns: Vec<ConnId> = self.conns.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            self.detach(conn);
            self.out(conn, ClientOut::Close { reason: "read-only server stopped" });
        }
        self.queues.clear();
    }

    /// A session handshake while read-only.
    pub(super) fn connect_read_only(&mut self, conn: ConnId, req: ConnectRequest) {
        if req.read_only != Some(true) {
            tracing::info!(conn, "Refusing session request for not-read-only client");
            self.out(conn, ClientOut::Close { reason: "not a read-only client" });
            return;
        }
        if req.last_zxid_seen > self.tree.last_processed_zxid {
            self.out(conn, ClientOut::Close { reason: "client zxid ahead" });
            return;
        }
        let timeout = req.time_out.max(self.cfg.min_session_timeout_ms).min(self.cfg.max_session_timeout_ms);
        if req.session_id == 0 {
            if !self.cfg.local_sessions_enabled {
                // ReadOnlyRequestProcessor refuses a global createSession with a bare reply header.
                tracing::warn!(
                    conn,
                    "read-only mode cannot create sessions without localSessionsEnabled=true (as ZooKeeper)"
                );
                let header = ReplyHeader {
                    xid: 0,
                    zxid: self.tree.last_processed_zxid,
                    err: ErrorCode::NotReadOnly.code(),
                };
                self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "NA" });
                return;
            }
            let id = self.sessions.next_session_id();
            self.sessions.add(id, timeout, self.elapsed_ms);
            self.attach(conn, id);
            self.answer_read_only_connect(conn, id, timeout);
            return;
        }
        let id = req.session_id;
        let known = self.sessions.get(id).is_some() || self.tree.sessions.contains_key(&id);
        if req.passwd[..] != session_password(id)[..] || !known {
            let resp = ConnectResponse {
                protocol_version: 0,
                time_out: 0,
                session_id: 0,
                passwd: Bytes::from_static(&[0; rzk_proto::connect::SESSION_PASSWORD_BYTES]),
                read_only: Some(true),
            };
            self.out(conn, ClientOut::ConnectResponse(resp));
            self.out(conn, ClientOut::Close { reason: "invalid session" });
            return;
        }
        if let Some(old) = self.sessions.get(id).and_then(|s| s.conn)
            && old != conn
        {
            self.detach(old);
            self.out(old, ClientOut::Close { reason: "session moved to a new connection" });
        }
        if self.sessions.get(id).is_none() {
            self.sessions.add(id, timeout, self.elapsed_ms);
        } else {
            self.sessions.touch(id, timeout, self.elapsed_ms);
        }
        self.attach(conn, id);
        self.answer_read_only_connect(conn, id, timeout);
    }

    fn answer_read_only_connect(&mut self, conn: ConnId, id: i64, timeout: i32) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.established = true;
        }
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: timeout,
            session_id: id,
            passwd: Bytes::copy_from_slice(&session_password(id)),
            read_only: Some(true),
        };
        self.out(conn, ClientOut::ConnectResponse(resp));
    }

    /// A request that the read-only server does not run: writes and `sync` fail with NotReadOnly;
    /// closing a local session ends it here. `None` when the request is a read to answer.
    pub(super) fn read_only_refusal(
        &mut self,
        conn: ConnId,
        session: i64,
        xid: i32,
        req: &Request,
    ) -> Option<()> {
        let refused = req.is_write() || matches!(req, Request::Sync(_));
        if !refused {
            return None;
        }
        if matches!(req, Request::CloseSession) && !self.tree.sessions.contains_key(&session) {
            self.sessions.remove(session);
            let header = ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err: 0 };
            self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "CLOS" });
            self.detach(conn);
            self.out(conn, ClientOut::Close { reason: "session closed" });
            return Some(());
        }
        let header =
            ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err: ErrorCode::NotReadOnly.code() };
        let name = if req.op() == op::CLOSE_SESSION { "CLOS" } else { "NA" };
        self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: name });
        Some(())
    }

    /// Local read-only sessions expire without a txn; their connections close.
    pub(super) fn expire_read_only_sessions(&mut self) {
        for id in self.sessions.poll_expired(self.elapsed_ms) {
            if let Some(s) = self.sessions.remove(id)
                && let Some(conn) = s.conn
            {
                self.detach(conn);
                self.out(conn, ClientOut::Close { reason: "session expired" });
            }
        }
    }
}
