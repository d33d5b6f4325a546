//! The standalone core: one owner of the tree, the sessions and the pipeline. The shell feeds
//! [`Input`]s with [`Node::step`] and takes [`Ready`] output with [`Node::ready`].
//!
//! Flow of a request (ZooKeeper's `PrepRequestProcessor → SyncRequestProcessor →
//! FinalRequestProcessor`): a write is prepared at once into a txn with the next zxid (`prep`)
//! and handed to the log; once the log reports it durable (`Input::Persisted`) it is applied to
//! the tree and answered (`final`). Requests of one session are answered in order: a read that
//! arrives while the session has writes in flight waits behind them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use rzk_proto::codes::{keeper_state, op, perms, xid};
use rzk_proto::connect::{ConnectRequest, ConnectResponse, SESSION_PASSWORD_BYTES};
use rzk_proto::records::*;
use rzk_proto::txn::{TxnBody, TxnEntry};
use rzk_proto::{ErrorCode, MultiResult, Request, Response};
use rzk_tree::digest::DIGEST_VERSION;
use rzk_tree::{DataTree, Fired, TxnResult};

use crate::audit::{self, AuditNote};
use crate::auth::{AuthConfig, authenticate, check_acl, open_to_anyone};
use crate::changes::Outstanding;
use crate::containers;
use crate::io::{ClientOut, ConnId, Input, LogAppend, Ready};
use crate::java_random::session_password;
use crate::prep::Prep;
use crate::quorum::{Peer, QuorumSetup};
use crate::reads::{Reads, last_op};
use crate::sessions::{Owner, SessionTracker};

mod lead;
mod learn;
pub mod peer;
mod readonly;
mod sasl;

/// The settings the core needs (a slice of the validated zoo.cfg).
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub server_id: i64,
    pub tick_time_ms: i64,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub extended_types: bool,
    pub enforce_quota: bool,
    pub reconfig_enabled: bool,
    /// `zookeeper.closeSessionTxn.enabled`: closeSession txns list the ephemerals to delete.
    pub close_session_txn: bool,
    /// `zookeeper.digest.enabled`: txns carry the tree digest.
    pub digest_enabled: bool,
    pub container_check_interval_ms: i64,
    pub container_max_per_minute: i64,
    /// `znode.container.maxNeverUsedIntervalMs` (0: never-used containers stay).
    pub container_max_never_used_ms: i64,
    pub auth: AuthConfig,
    /// `Time.currentElapsedTime()` (milliseconds since boot, CLOCK_MONOTONIC) when the core
    /// starts: session ids are built from it as ZooKeeper's are. `None` uses the wall clock.
    pub boot_elapsed_ms: Option<i64>,
    /// `readonlymode.enabled`: a quorum member without a leader serves read-only clients.
    pub read_only_mode: bool,
    /// `localSessionsEnabled` (used by read-only mode only).
    pub local_sessions_enabled: bool,
    /// `zookeeper.audit.enable`: the audit log's user for server-side lines (who runs the
    /// server); `None` when the audit log is off. See [`crate::audit`].
    pub audit_user: Option<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            server_id: 1,
            tick_time_ms: 2000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40000,
            extended_types: false,
            enforce_quota: false,
            reconfig_enabled: false,
            close_session_txn: true,
            digest_enabled: true,
            container_check_interval_ms: 60000,
            container_max_per_minute: 10000,
            container_max_never_used_ms: 0,
            auth: AuthConfig { digest_enabled: true, ..Default::default() },
            boot_elapsed_ms: None,
            read_only_mode: false,
            local_sessions_enabled: false,
            audit_user: None,
        }
    }
}

#[derive(Debug)]
struct Conn {
    remote_ip: String,
    /// Authenticated ids; every connection starts with `ip:<address>`.
    ids: Vec<Id>,
    session: Option<i64>,
    /// Whether the connect response went out. Until then ZooKeeper stops reading the socket
    /// (`disableRecv`), so requests that arrive early wait here, auth packets included.
    established: bool,
    held: Vec<Held>,
    /// The connection's SASL exchange (`ServerCnxn.zooKeeperSaslServer`).
    sasl: crate::sasl::SaslExchange,
}

/// A request that arrived before its connection's session was established.
#[derive(Debug)]
enum Held {
    Request { xid: i32, req: Request },
    Malformed { xid: i32, op: i32 },
}

/// A request of a session waiting for the session's earlier writes.
#[derive(Debug)]
enum Queued {
    /// A write in the pipeline, known by its cxid (its txn carries it).
    Write {
        cxid: i32,
    },
    /// A `sync` forwarded to the leader (learners); answered once `done` and at the front.
    Sync {
        conn: ConnId,
        xid: i32,
        path: String,
        done: bool,
    },
    Read {
        conn: ConnId,
        xid: i32,
        req: Request,
        ids: Vec<Id>,
    },
    /// A read that failed to deserialize.
    Malformed {
        conn: ConnId,
        xid: i32,
    },
}

/// Opcodes PrepRequestProcessor turns into txns (so a malformed one still consumes a zxid).
fn is_write_op(opcode: i32) -> bool {
    matches!(
        opcode,
        op::CREATE
            | op::DELETE
            | op::SET_DATA
            | op::SET_ACL
            | op::CHECK
            | op::MULTI
            | op::CREATE2
            | op::CREATE_CONTAINER
            | op::DELETE_CONTAINER
            | op::CREATE_TTL
    )
}

#[derive(Debug)]
enum Origin {
    Client {
        conn: ConnId,
        xid: i32,
        req_op: &'static str,
        close: bool,
    },
    NewSession {
        conn: ConnId,
        timeout_ms: i32,
        read_only: Option<bool>,
    },
    /// The session tracker expired the session (no reply; its connection is closed).
    Expiry,
    /// ContainerManager's deleteContainer.
    Container,
    /// Another server's request (the leader prepared it for a learner, or a learner applies a
    /// txn no local client asked for): no reply here.
    Remote,
}

#[derive(Debug)]
struct InFlight {
    entry: TxnEntry,
    /// The txn as logged (the PROPOSAL payload and the committed log's entry).
    bytes: Bytes,
    session: i64,
    origin: Origin,
}

pub struct Node {
    cfg: NodeConfig,
    tree: DataTree,
    sessions: SessionTracker,
    changes: Outstanding,
    conns: HashMap<ConnId, Conn>,
    queues: HashMap<i64, VecDeque<Queued>>,
    in_flight: VecDeque<InFlight>,
    /// The last zxid handed out by prep.
    last_zxid: i64,
    elapsed_ms: i64,
    wall_ms: i64,
    next_container_check_ms: i64,
    ready: Ready,
    /// The ensemble side (`None` when standalone).
    peer: Option<Box<Peer>>,
    /// Whether clients are served: always when standalone; in an ensemble once the role is
    /// established (ZooKeeper refuses connections until then).
    serving: bool,
    /// The last zxid handed to the log, and the last the log reported durable.
    last_appended: i64,
    durable: i64,
    /// Learner: requests forwarded to the leader, by (session, cxid), until their txn commits.
    forwarded: HashMap<(i64, i32), Origin>,
    /// (zxid, digest) right after applying every txn whose zxid is a multiple of
    /// [`DIGEST_LOG_INTERVAL`] (`DataTree.logZxidDigest`), until the shell takes them.
    digests: Vec<(i64, i64)>,
    /// Whether this member serves read-only clients now (see `node/readonly.rs`).
    read_only: bool,
    /// SASL nonces handed out so far (each nonce is derived from the key and this count).
    sasl_nonces: u64,
    /// With the audit log on: what each client write in flight needs for its audit line, by
    /// (session, xid), until its txn is applied.
    audit_notes: HashMap<(i64, i32), AuditNote>,
}

/// `DataTree.DIGEST_LOG_INTERVAL`: the tree digest is logged every this many zxids.
pub const DIGEST_LOG_INTERVAL: i64 = 128;

impl Node {
    /// A core over a restored tree (sessions in `tree.sessions` are tracked again, as on start-up).
    pub fn new(cfg: NodeConfig, tree: DataTree, elapsed_ms: i64, wall_ms: i64) -> Node {
        let clock = cfg.boot_elapsed_ms.unwrap_or(wall_ms);
        let mut sessions = SessionTracker::new(cfg.tick_time_ms, cfg.server_id, clock);
        for (&id, &timeout) in &tree.sessions {
            sessions.add(id, timeout, elapsed_ms);
        }
        let next_container_check_ms = elapsed_ms + cfg.container_check_interval_ms;
        Node {
            last_zxid: tree.last_processed_zxid,
            cfg,
            tree,
            sessions,
            changes: Outstanding::default(),
            conns: HashMap::new(),
            queues: HashMap::new(),
            in_flight: VecDeque::new(),
            elapsed_ms,
            wall_ms,
            next_container_check_ms,
            ready: Ready::default(),
            peer: None,
            serving: true,
            last_appended: 0,
            durable: 0,
            forwarded: HashMap::new(),
            digests: Vec::new(),
            read_only: false,
            sasl_nonces: 0,
            audit_notes: HashMap::new(),
        }
        .with_log_marks()
    }

    fn with_log_marks(mut self) -> Node {
        self.last_appended = self.tree.last_processed_zxid;
        self.durable = self.tree.last_processed_zxid;
        self
    }

    /// A core that is a member of an ensemble: it starts LOOKING and serves clients once it
    /// leads, follows or observes an established leader.
    pub fn new_quorum(
        cfg: NodeConfig,
        tree: DataTree,
        elapsed_ms: i64,
        wall_ms: i64,
        q: QuorumSetup,
    ) -> Node {
        let mut node = Node::new(cfg, tree, elapsed_ms, wall_ms);
        // Sessions are tracked by the leader once it is established.
        node.sessions = SessionTracker::new(node.cfg.tick_time_ms, q.my_id, node.session_clock_ms());
        let last = node.tree.last_processed_zxid;
        let mut peer = Peer::new(q, last);
        peer.looking_since_ms = elapsed_ms;
        node.peer = Some(Box::new(peer));
        node.serving = false;
        node.init_config_node();
        node.maybe_start_election();
        node
    }

    /// The clock session ids are made from (`Time.currentElapsedTime()`).
    pub(crate) fn session_clock_ms(&self) -> i64 {
        match self.cfg.boot_elapsed_ms {
            Some(boot) => boot + self.elapsed_ms,
            None => self.wall_ms,
        }
    }

    /// Whether clients are being served.
    pub fn serving(&self) -> bool {
        self.serving
    }

    /// The digests logged since the last call (see [`DIGEST_LOG_INTERVAL`]).
    pub fn take_digests(&mut self) -> Vec<(i64, i64)> {
        std::mem::take(&mut self.digests)
    }

    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    pub fn sessions(&self) -> &SessionTracker {
        &self.sessions
    }

    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }

    /// The session a connection is attached to.
    pub fn conn_session(&self, conn: ConnId) -> Option<i64> {
        self.conns.get(&conn).and_then(|c| c.session)
    }

    /// Requests accepted but not yet answered (`outstanding_requests`).
    pub fn outstanding(&self) -> usize {
        self.queues.values().map(|q| q.len()).sum()
    }

    /// Txns handed to the log but not yet durable.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Takes the output accumulated by the steps so far.
    pub fn ready(&mut self) -> Ready {
        std::mem::take(&mut self.ready)
    }

    pub fn step(&mut self, input: Input) {
        match input {
            Input::Tick { elapsed_ms, wall_ms } => self.tick(elapsed_ms, wall_ms),
            Input::Accepted { conn, remote_ip } => {
                let ids = vec![Id::new("ip", &remote_ip)];
                self.conns.insert(
                    conn,
                    Conn {
                        remote_ip,
                        ids,
                        session: None,
                        established: false,
                        held: Vec::new(),
                        sasl: Default::default(),
                    },
                );
            }
            Input::ConnAuth { conn, ids } => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    for id in ids {
                        if !c.ids.contains(&id) {
                            c.ids.push(id);
                        }
                    }
                }
            }
            Input::Connect { conn, req } => self.connect(conn, req),
            Input::Request { conn, xid, req } => self.request(conn, xid, req),
            Input::Malformed { conn, xid, op } => self.malformed(conn, xid, op),
            Input::Closed { conn } => self.closed(conn),
            Input::Persisted { through } => self.persisted(through),
            Input::LogFailed => self.log_failed(),
            Input::Peer(p) => self.peer_input(p),
            Input::Reloaded { tree, recent } => self.reloaded(*tree, recent),
        }
    }

    fn out(&mut self, conn: ConnId, o: ClientOut) {
        self.ready.client_out.push((conn, o));
    }

    // ---- time ----

    fn tick(&mut self, elapsed_ms: i64, wall_ms: i64) {
        self.elapsed_ms = self.elapsed_ms.max(elapsed_ms);
        self.wall_ms = wall_ms;
        if self.peer.is_some() {
            self.peer_tick();
            self.maybe_enter_read_only();
            if self.read_only {
                self.expire_read_only_sessions();
                return;
            }
        }
        // Sessions expire, and containers are reaped, only where txns are prepared.
        if !self.serving || self.peer.as_ref().is_some_and(|p| !p.is_leader()) {
            return;
        }
        for id in self.sessions.poll_expired(self.elapsed_ms) {
            tracing::info!(session = %format!("0x{id:x}"), "expiring session");
            self.submit_write(id, 0, Request::CloseSession, Vec::new(), Origin::Expiry, None);
        }
        if self.elapsed_ms >= self.next_container_check_ms {
            self.next_container_check_ms = self.elapsed_ms + self.cfg.container_check_interval_ms.max(1);
            let max = self.cfg.container_max_per_minute.max(1) as usize;
            for path in containers::candidates(&self.tree, self.wall_ms, self.cfg.container_max_never_used_ms)
                .into_iter()
                .take(max)
            {
                let req = Request::DeleteContainer(DeleteRequest { path, version: -1 });
                self.submit_write(0, 0, req, Vec::new(), Origin::Container, None);
            }
        }
    }

    // ---- sessions ----

    fn negotiate_timeout(&self, asked: i32) -> i32 {
        asked.max(self.cfg.min_session_timeout_ms).min(self.cfg.max_session_timeout_ms)
    }

    fn connect(&mut self, conn: ConnId, req: ConnectRequest) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        if !self.serving && self.read_only {
            self.connect_read_only(conn, req);
            return;
        }
        if !self.serving {
            tracing::info!(conn, "refusing a session: this server is not serving (no leader established)");
            self.out(conn, ClientOut::Close { reason: "ZooKeeperServer not running" });
            return;
        }
        if req.last_zxid_seen > self.tree.last_processed_zxid {
            tracing::info!(
                conn,
                client_zxid = %format!("0x{:x}", req.last_zxid_seen),
                our_zxid = %format!("0x{:x}", self.tree.last_processed_zxid),
                "refusing session request: client has seen a later zxid; it must try another server"
            );
            self.out(conn, ClientOut::Close { reason: "client zxid ahead" });
            return;
        }
        let timeout = self.negotiate_timeout(req.time_out);
        let read_only = req.read_only.map(|_| false);
        if req.session_id == 0 {
            let id = self.sessions.next_session_id();
            self.sessions.add(id, timeout, self.elapsed_ms);
            self.sessions.set_owner(id, Owner::Local);
            self.attach(conn, id);
            let origin = Origin::NewSession { conn, timeout_ms: timeout, read_only };
            if self.is_learner() {
                self.forward_create_session(id, timeout, origin);
                return;
            }
            self.submit_txn(
                id,
                0,
                op::CREATE_SESSION,
                TxnBody::CreateSession(CreateSessionTxn { time_out: timeout }),
                origin,
            );
            return;
        }
        let id = req.session_id;
        // ZooKeeper closes the session's current connection (CLIENT_RECONNECT) before it checks
        // the password (processConnectRequest → reopenSession).
        if let Some(old) = self.sessions.get(id).and_then(|s| s.conn)
            && old != conn
        {
            self.detach(old);
            self.out(old, ClientOut::Close { reason: "session moved to a new connection" });
        }
        if self.is_learner() && req.passwd[..] == session_password(id)[..] {
            // The leader knows whether the session is alive (`Learner.validateSession`).
            self.revalidate(conn, id, timeout, read_only);
            return;
        }
        let valid =
            req.passwd[..] == session_password(id)[..] && self.sessions.touch(id, timeout, self.elapsed_ms);
        if !valid {
            tracing::info!(session = %format!("0x{id:x}"), "invalid session, probably expired");
            let resp = ConnectResponse {
                protocol_version: 0,
                time_out: 0,
                session_id: 0,
                passwd: Bytes::from_static(&[0; SESSION_PASSWORD_BYTES]),
                read_only,
            };
            self.out(conn, ClientOut::ConnectResponse(resp));
            self.out(conn, ClientOut::Close { reason: "invalid session" });
            return;
        }
        self.sessions.set_owner(id, Owner::Local);
        self.attach(conn, id);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.established = true;
        }
        let resp = ConnectResponse {
            protocol_version: 0,
            time_out: timeout,
            session_id: id,
            passwd: Bytes::copy_from_slice(&session_password(id)),
            read_only,
        };
        self.out(conn, ClientOut::ConnectResponse(resp));
    }

    /// The connect response is out: requests that came early are handled now, in order.
    fn established(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.established = true;
        for h in std::mem::take(&mut c.held) {
            match h {
                Held::Request { xid, req } => self.request(conn, xid, req),
                Held::Malformed { xid, op } => self.malformed(conn, xid, op),
            }
        }
    }

    fn attach(&mut self, conn: ConnId, session: i64) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.session = Some(session);
        }
        if let Some(s) = self.sessions.get_mut(session) {
            s.conn = Some(conn);
        }
    }

    fn detach(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get_mut(&conn)
            && let Some(sid) = c.session.take()
            && let Some(s) = self.sessions.get_mut(sid)
            && s.conn == Some(conn)
        {
            s.conn = None;
        }
    }

    fn closed(&mut self, conn: ConnId) {
        self.detach(conn);
        self.conns.remove(&conn);
        self.tree.remove_watcher(conn);
    }

    // ---- requests ----

    fn request(&mut self, conn: ConnId, xid: i32, req: Request) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if !c.established && c.session.is_some() {
            c.held.push(Held::Request { xid, req });
            return;
        }
        let Some(session) = c.session else {
            tracing::warn!(conn, "request before the session handshake; closing");
            self.out(conn, ClientOut::Close { reason: "request before connect" });
            return;
        };
        let ids = c.ids.clone();
        if !self.serving && !self.read_only {
            self.out(conn, ClientOut::Close { reason: "ZooKeeperServer not running" });
            return;
        }
        if !matches!(req, Request::Auth(_) | Request::Sasl(_)) && !self.cfg.auth.enforced_auth_ok(&ids) {
            self.refuse_unauthenticated(conn, xid, &ids);
            return;
        }
        self.sessions.touch_current(session, self.elapsed_ms);
        self.note_touch(session);
        if self.read_only && self.read_only_refusal(conn, session, xid, &req).is_some() {
            return;
        }
        match req {
            Request::Auth(packet) => self.auth(conn, xid, packet),
            Request::Sasl(r) => self.sasl(conn, session, xid, r),
            Request::Sync(sync) if self.is_learner() => {
                self.forward_sync(conn, session, xid, sync, ids);
            }
            r if r.is_write() => {
                if self.cfg.audit_user.is_some()
                    && let Some(c) = self.conns.get(&conn)
                    && let Some(note) = AuditNote::for_request(&r, session, &c.remote_ip, &ids)
                {
                    self.audit_notes.insert((session, xid), note);
                }
                let origin = Origin::Client {
                    conn,
                    xid,
                    req_op: last_op(&r),
                    close: matches!(r, Request::CloseSession),
                };
                if self.is_learner() {
                    self.forward_write(session, xid, &r, ids, origin);
                } else {
                    self.submit_write(session, xid, r, ids, origin, Some(Owner::Local));
                }
            }
            r => {
                let q = self.queues.entry(session).or_default();
                if q.is_empty() {
                    self.answer_read(conn, session, xid, &r, &ids);
                } else {
                    q.push_back(Queued::Read { conn, xid, req: r, ids });
                }
            }
        }
    }

    /// A request that failed to deserialize: writes become MarshallingError txns (prep fails
    /// after it took a zxid), reads get MarshallingError from the final stage.
    fn malformed(&mut self, conn: ConnId, xid: i32, opcode: i32) {
        if let Some(c) = self.conns.get_mut(&conn)
            && !c.established
            && c.session.is_some()
        {
            c.held.push(Held::Malformed { xid, op: opcode });
            return;
        }
        let Some(session) = self.conns.get(&conn).and_then(|c| c.session) else {
            self.out(conn, ClientOut::Close { reason: "request before connect" });
            return;
        };
        if !self.serving && !self.read_only {
            self.out(conn, ClientOut::Close { reason: "ZooKeeperServer not running" });
            return;
        }
        if let Some(c) = self.conns.get(&conn)
            && !matches!(opcode, op::AUTH | op::SASL)
            && !self.cfg.auth.enforced_auth_ok(&c.ids)
        {
            let ids = c.ids.clone();
            self.refuse_unauthenticated(conn, xid, &ids);
            return;
        }
        if self.read_only && is_write_op(opcode) {
            let header =
                ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err: ErrorCode::NotReadOnly.code() };
            self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "NA" });
            return;
        }
        self.sessions.touch_current(session, self.elapsed_ms);
        tracing::warn!(conn, op = op::name(opcode), "cannot deserialize request; answering MarshallingError");
        let err = ErrorCode::MarshallingError.code();
        if is_write_op(opcode) {
            let origin = Origin::Client { conn, xid, req_op: "NA", close: false };
            if self.is_learner() {
                // The leader fails to decode it too and logs the error txn.
                let ids = self.conns.get(&conn).map(|c| c.ids.clone()).unwrap_or_default();
                self.forward_raw(session, xid, opcode, &[], ids, origin);
                return;
            }
            self.log_txn(session, xid, op::ERROR, TxnBody::Error(ErrorTxn { err }), None, origin);
            return;
        }
        let q = self.queues.entry(session).or_default();
        if q.is_empty() {
            let header = ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err };
            self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "NA" });
        } else {
            q.push_back(Queued::Malformed { conn, xid });
        }
    }

    fn auth(&mut self, conn: ConnId, xid: i32, packet: AuthPacket) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        match authenticate(&self.cfg.auth, &packet.scheme, &packet.auth, &c.remote_ip) {
            Ok(ids) => {
                tracing::info!(conn, scheme = %packet.scheme, "auth success");
                for id in ids {
                    if !c.ids.contains(&id) {
                        c.ids.push(id);
                    }
                }
                let header = ReplyHeader { xid, zxid: 0, err: 0 };
                self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "AUTH" });
            }
            Err(e) => {
                tracing::warn!(conn, scheme = %packet.scheme, "authentication failed");
                let header = ReplyHeader { xid, zxid: 0, err: e.code() };
                self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "AUTH" });
                self.out(conn, ClientOut::Close { reason: "authentication failed" });
            }
        }
    }

    fn answer_read(&mut self, conn: ConnId, session: i64, xid: i32, req: &Request, ids: &[Id]) {
        if !self.conns.contains_key(&conn) {
            return;
        }
        let mut events = Vec::new();
        let result = match self.sessions.check(session) {
            Err(e) => Err(e),
            Ok(()) => Reads {
                tree: &mut self.tree,
                auth: &self.cfg.auth,
                ids,
                session_id: session,
                watcher: conn,
                events: &mut events,
            }
            .answer(req),
        };
        self.deliver(events);
        let zxid = self.tree.last_processed_zxid;
        let reply_xid = if matches!(req, Request::Ping) { xid::PING } else { xid };
        let (err, body) = match result {
            Ok(b) => (0, b),
            Err(e) => (e.code(), Response::Empty),
        };
        let header = ReplyHeader { xid: reply_xid, zxid, err };
        self.out(conn, ClientOut::Reply { header, body, op: last_op(req) });
    }

    /// Prep: turns a write into a txn (or an error txn) with the next zxid and sends it to the log.
    /// `owner` is where the request came in (`None` for the server's own: expiry, containers);
    /// a session used through another server than its owner gets SessionMoved.
    fn submit_write(
        &mut self,
        session: i64,
        cxid: i32,
        req: Request,
        ids: Vec<Id>,
        origin: Origin,
        owner: Option<Owner>,
    ) {
        // closeSession is not checked: the expiry thread queues it without being the owner.
        let moved = match owner {
            Some(o) if !matches!(req, Request::CloseSession) => {
                self.sessions.check_owner(session, o) == Err(ErrorCode::SessionMoved)
            }
            _ => false,
        };
        let zxid = self.last_zxid + 1;
        let mut prep = Prep {
            tree: &self.tree,
            changes: &mut self.changes,
            sessions: &self.sessions,
            auth: &self.cfg.auth,
            extended_types: self.cfg.extended_types,
            enforce_quota: self.cfg.enforce_quota,
            reconfig_enabled: self.cfg.reconfig_enabled,
            close_session_txn: self.cfg.close_session_txn,
            session_id: session,
            ids: &ids,
            zxid,
            time: self.wall_ms,
        };
        let result = if moved { Err(ErrorCode::SessionMoved) } else { prep.write(&req) };
        let (ty, body, ok) = match result {
            Ok((ty, body)) => (ty, body, true),
            Err(e) => {
                if e.code() < ErrorCode::ApiError.code() {
                    tracing::info!(session = %format!("0x{session:x}"), op = op::name(req.op()), path = req.path().unwrap_or(""), err = %e, "user-level error");
                }
                (op::ERROR, TxnBody::Error(ErrorTxn { err: e.code() }), false)
            }
        };
        if matches!(req, Request::CloseSession) {
            self.sessions.set_closing(session);
        }
        // A txn that prep accepted carries the digest the tree will have after it; an error txn
        // carries none (ZooKeeper sets the digest only at the end of a successful prep).
        let digest = (self.cfg.digest_enabled && ok).then(|| TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: self.changes.current_digest(&self.tree),
        });
        self.log_txn(session, cxid, ty, body, digest, origin);
    }

    fn submit_txn(&mut self, session: i64, cxid: i32, ty: i32, body: TxnBody, origin: Origin) {
        let digest = self.cfg.digest_enabled.then(|| TxnDigest {
            version: DIGEST_VERSION,
            tree_digest: self.changes.current_digest(&self.tree),
        });
        self.log_txn(session, cxid, ty, body, digest, origin);
    }

    fn log_txn(
        &mut self,
        session: i64,
        cxid: i32,
        ty: i32,
        body: TxnBody,
        digest: Option<TxnDigest>,
        origin: Origin,
    ) {
        self.last_zxid += 1;
        let zxid = self.last_zxid;
        let header = TxnHeader { client_id: session, cxid, zxid, time: self.wall_ms, txn_type: ty };
        let entry = TxnEntry { header, body, digest };
        let bytes = Bytes::from(entry.to_bytes());
        self.ready.log.push(LogAppend { zxid, bytes: bytes.clone() });
        self.last_appended = zxid;
        if matches!(origin, Origin::Client { .. } | Origin::NewSession { .. }) {
            self.queues.entry(session).or_default().push_back(Queued::Write { cxid });
        }
        self.in_flight.push_back(InFlight { entry, bytes: bytes.clone(), session, origin });
        self.propose(zxid, bytes);
    }

    // ---- commit and final ----

    fn persisted(&mut self, through: i64) {
        self.durable = self.durable.max(through);
        if self.peer.is_some() {
            self.peer_persisted(through);
            return;
        }
        self.commit_through(through);
    }

    /// Applies the in-flight txns through `zxid`, in order.
    fn commit_through(&mut self, zxid: i64) {
        while self.in_flight.front().is_some_and(|f| f.entry.header.zxid <= zxid) {
            if let Some(f) = self.in_flight.pop_front() {
                self.commit(f);
            }
        }
    }

    /// The log could not make the in-flight txns durable: each fails with SystemError (new
    /// sessions are refused), and prep starts again from the tree.
    fn log_failed(&mut self) {
        let failed: Vec<InFlight> = self.in_flight.drain(..).collect();
        tracing::warn!(txns = failed.len(), "failing txns the log could not store");
        self.changes = Outstanding::default();
        self.last_zxid = self.tree.last_processed_zxid;
        let zxid_now = self.tree.last_processed_zxid;
        for f in failed {
            let hdr = &f.entry.header;
            if hdr.txn_type == op::CLOSE_SESSION {
                // The session lives on; an expired one is expired again at the next tick.
                self.sessions.reopen(f.session, self.elapsed_ms);
            }
            match f.origin {
                Origin::Client { conn, xid, req_op, .. } => {
                    if self.conns.contains_key(&conn) {
                        let header = ReplyHeader { xid, zxid: zxid_now, err: ErrorCode::SystemError.code() };
                        self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: req_op });
                    }
                }
                Origin::NewSession { conn, .. } => {
                    self.sessions.remove(f.session);
                    self.detach(conn);
                    self.out(conn, ClientOut::Close { reason: "cannot store the new session" });
                }
                Origin::Expiry | Origin::Container | Origin::Remote => {}
            }
            self.drain_queue(f.session, hdr.cxid);
        }
        self.last_appended = self.durable;
        if self.peer.is_some() {
            self.leave_role("the transaction log failed");
        }
    }

    fn commit(&mut self, mut f: InFlight) {
        if matches!(f.origin, Origin::Remote)
            && let Some(o) = self.forwarded.remove(&(f.entry.header.client_id, f.entry.header.cxid))
        {
            f.origin = o;
        }
        let mut events = Vec::new();
        let hdr = &f.entry.header;
        // The ephemerals a closeSession removes, for the audit log (DataTree.killSession).
        let audit_ephemerals = match &self.cfg.audit_user {
            Some(_) if hdr.txn_type == op::CLOSE_SESSION => self.tree.ephemerals_java_order(f.session),
            _ => Vec::new(),
        };
        let rc = self.tree.process_txn(hdr, &f.entry.body, &mut events);
        if let Some(user) = &self.cfg.audit_user {
            for path in &audit_ephemerals {
                audit::ephemeral_removed(user, f.session, path, self.tree.node(path).is_none()).emit();
            }
        }
        self.changes.applied(hdr.zxid);
        if hdr.zxid % DIGEST_LOG_INTERVAL == 0 {
            self.digests.push((hdr.zxid, self.tree.digest()));
        }
        if let Some(p) = self.peer.as_mut() {
            p.committed_log.push(hdr.zxid, f.bytes.clone());
        }
        if hdr.txn_type == op::CREATE_SESSION
            && self.sessions.get(f.session).is_none()
            && let TxnBody::CreateSession(cs) = &f.entry.body
        {
            // A session created through another server (learners track every global session).
            self.sessions.add(f.session, cs.time_out, self.elapsed_ms);
        }
        if hdr.txn_type == op::CLOSE_SESSION {
            if let Some(s) = self.sessions.remove(f.session)
                && let Some(conn) = s.conn
                && matches!(f.origin, Origin::Expiry | Origin::Remote)
            {
                self.detach(conn);
                self.out(conn, ClientOut::Close { reason: "session expired" });
            }
            self.queues.remove(&f.session);
        }
        self.deliver(events);
        let zxid = self.tree.last_processed_zxid;
        match f.origin {
            Origin::Client { conn, xid, req_op, close } => {
                if let Some(note) = self.audit_notes.remove(&(f.session, xid)) {
                    for e in note.events(&rc) {
                        e.emit();
                    }
                }
                if self.conns.contains_key(&conn) && rc.txn_type == op::CHECK && rc.err == 0 {
                    // A successful check outside a multi: ZooKeeper answers SetDataResponse(null),
                    // fails to serialize it and drops the connection; the client sees a close.
                    self.detach(conn);
                    self.out(conn, ClientOut::Close { reason: "check outside multi" });
                } else if self.conns.contains_key(&conn) && rc.err == ErrorCode::SessionMoved.code() {
                    // SessionMoved is a connection-level error: ZooKeeper closes the connection
                    // without a reply, so the client reconnects and finds where its session is.
                    self.detach(conn);
                    self.out(conn, ClientOut::Close { reason: "session moved to another server" });
                } else if self.conns.contains_key(&conn) {
                    let (err, body) = reply_for(&rc);
                    let header = ReplyHeader { xid, zxid, err };
                    self.out(conn, ClientOut::Reply { header, body, op: req_op });
                    if close {
                        self.detach(conn);
                        self.out(conn, ClientOut::Close { reason: "session closed" });
                    }
                }
            }
            Origin::NewSession { conn, timeout_ms, read_only } => {
                if self.conns.contains_key(&conn) {
                    let resp = ConnectResponse {
                        protocol_version: 0,
                        time_out: timeout_ms,
                        session_id: f.session,
                        passwd: Bytes::copy_from_slice(&session_password(f.session)),
                        read_only,
                    };
                    self.out(conn, ClientOut::ConnectResponse(resp));
                    self.established(conn);
                }
            }
            Origin::Expiry | Origin::Container | Origin::Remote => {}
        }
        self.drain_queue(f.session, hdr.cxid);
    }

    /// After a session's write completes, answers the reads that waited behind it.
    fn drain_queue(&mut self, session: i64, cxid: i32) {
        if let Some(q) = self.queues.get_mut(&session)
            && matches!(q.front(), Some(Queued::Write { cxid: c }) if *c == cxid)
        {
            q.pop_front();
        }
        loop {
            let Some(q) = self.queues.get_mut(&session) else { return };
            match q.pop_front() {
                Some(Queued::Read { conn, xid, req, ids }) => {
                    self.answer_read(conn, session, xid, &req, &ids)
                }
                Some(Queued::Malformed { conn, xid }) => {
                    let err = ErrorCode::MarshallingError.code();
                    let header = ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err };
                    self.out(conn, ClientOut::Reply { header, body: Response::Empty, op: "NA" });
                }
                Some(Queued::Sync { conn, xid, path, done: true }) => {
                    let header = ReplyHeader { xid, zxid: self.tree.last_processed_zxid, err: 0 };
                    let body = Response::Sync(SyncResponse { path });
                    self.out(conn, ClientOut::Reply { header, body, op: "SYNC" });
                }
                Some(w @ (Queued::Write { .. } | Queued::Sync { .. })) => {
                    q.push_front(w);
                    return;
                }
                None => {
                    self.queues.remove(&session);
                    return;
                }
            }
        }
    }

    /// Sends fired watch events to their connections, dropping those whose node the watcher may
    /// not read (`NIOServerCnxn.process` checks READ since CVE-2024-23944).
    fn deliver(&mut self, events: Vec<Fired>) {
        for ev in events {
            // Checked once for all the watchers when the node is readable by anyone.
            let acl = ev.acl.filter(|acl| !open_to_anyone(&self.cfg.auth, acl, perms::READ));
            let e = Arc::new(WatcherEvent {
                event_type: ev.event_type,
                state: keeper_state::SYNC_CONNECTED,
                path: ev.path,
            });
            for w in ev.watchers {
                let Some(c) = self.conns.get(&w) else { continue };
                if let Some(acl) = &acl
                    && check_acl(&self.cfg.auth, acl, perms::READ, &c.ids).is_err()
                {
                    tracing::trace!(conn = w, path = %e.path, "not delivering event (filtered by ACL)");
                    continue;
                }
                self.out(w, ClientOut::Event(e.clone()));
            }
        }
    }
}

/// The reply to a write from what applying its txn did (FinalRequestProcessor's switch).
fn reply_for(rc: &TxnResult) -> (i32, Response) {
    if rc.txn_type == op::MULTI {
        let results = rc.multi.iter().map(multi_result).collect();
        return (0, Response::Multi(results));
    }
    if rc.err != 0 {
        return (rc.err, Response::Empty);
    }
    let stat = rc.stat.clone().unwrap_or_default();
    let body = match rc.txn_type {
        op::CREATE => Response::Create(CreateResponse { path: rc.path.clone() }),
        op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => {
            Response::Create2(Create2Response { path: rc.path.clone(), stat })
        }
        op::SET_DATA | op::SET_ACL | op::CHECK => Response::Stat(stat),
        _ => Response::Empty,
    };
    (0, body)
}

fn multi_result(rc: &TxnResult) -> MultiResult {
    match rc.txn_type {
        op::CHECK => MultiResult::Check,
        op::CREATE => MultiResult::Create(rc.path.clone()),
        op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => {
            MultiResult::Create2 { path: rc.path.clone(), stat: rc.stat.clone().unwrap_or_default() }
        }
        op::DELETE | op::DELETE_CONTAINER => MultiResult::Delete,
        op::SET_DATA => MultiResult::SetData(rc.stat.clone().unwrap_or_default()),
        _ => MultiResult::Error(rc.err),
    }
}

#[cfg(test)]
mod tests;
