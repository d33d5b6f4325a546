//! The sans-I/O session core (Java's `ClientCnxn` without threads or sockets). The driver tells
//! it when a transport came up or went down, hands it every received frame and the time, and
//! sends what it asks to send; the core never touches a socket or a clock.
//!
//! What it does, in the order of a connection's life:
//! - `transport_up`: queues the ConnectRequest (with the session id once known, the password and
//!   lastZxidSeen).
//! - ConnectResponse: a timeout of 0 means the session expired (terminal, `Expired` event);
//!   otherwise the session is (re)established: auth packets (xid −4) are re-sent, watches are
//!   re-registered with SetWatches/SetWatches2 (xid −8), then requests that waited are sent.
//! - replies: xid −1 is a watch event, −2 a ping reply, −4 an auth reply; any other xid must be
//!   the oldest pending request's (ZooKeeper answers in order), else the connection is dropped.
//!   `lastZxidSeen` follows every reply header with a zxid > 0.
//! - `tick`: pings after readTimeout/2 of sending nothing (readTimeout = negotiated timeout × 2/3)
//!   and gives up on a connection silent for readTimeout (connectTimeout = timeout / hosts while
//!   connecting).
//! - `transport_down`: pending requests fail with ConnectionLoss; the session waits for the
//!   driver to connect again.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};
use rzk_proto::codes::{op, xid};
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{AuthPacket, ErrorCode, Jute, Reader, ReplyHeader, Request, WatcherEvent};

use crate::connect_string::to_client_path;
use crate::event::{EventType, KeeperState, States, WatchedEvent, WatcherType};
use crate::watches::{WatchKind, WatchRegistry};

/// Identifies a request's completion between the driver and the core.
pub type Tag = u64;

/// Java sends a ping at least this often, whatever the timeout (`MAX_SEND_PING_INTERVAL`).
pub const PING_INTERVAL_MS_MAX: u64 = 10_000;

/// Settings of one session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The session timeout asked for; the server may negotiate it into its min/max range.
    pub session_timeout_ms: u32,
    /// Ask for (and accept) a read-only connection.
    pub read_only: bool,
    /// A session to re-attach (0: a new one).
    pub session_id: i64,
    pub password: Bytes,
    /// How many servers the connect string names (connectTimeout = timeout / hosts).
    pub host_count: usize,
    pub chroot: Option<String>,
    /// Largest reply body accepted (lengths inside replies are capped by it).
    pub frame_bytes_max: usize,
    /// Requests pending on the wire plus requests waiting for a connection.
    pub requests_in_flight_max: usize,
}

/// What the core hands back to the driver.
#[derive(Debug)]
pub enum Output {
    /// A request finished: its reply, or why it failed.
    Reply { tag: Tag, result: Result<RawReply, SessionError> },
    /// A watch event or a session state event, for the application.
    Event(WatchedEvent),
}

/// A reply as received: header, the opcode it answers and its undecoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReply {
    pub header: ReplyHeader,
    pub op: i32,
    pub body: Bytes,
}

/// Why a request failed inside the core (before or without a server reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    /// A code the Java client would report (ConnectionLoss, SessionExpired, AuthFailed, ...).
    Code(i32),
    /// removeWatches refused locally (no such watch): the code, usually NoWatcher.
    Unwatch(i32),
}

/// Why the driver must drop the current connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    #[error("no reply from the server for {0} ms")]
    Silent(u64),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("session expired")]
    Expired,
    #[error("authentication failed")]
    AuthFailed,
    #[error("session closed")]
    Closed,
}

/// A removeWatches whose local watches are dropped once the server answers.
#[derive(Debug, Clone)]
struct Unwatch {
    client_path: String,
    server_path: String,
    wtype: WatcherType,
    local: bool,
}

#[derive(Debug)]
struct Pending {
    xid: i32,
    op: i32,
    tag: Option<Tag>,
    watch: Option<(WatchKind, String)>,
    unwatch: Option<Unwatch>,
}

#[derive(Debug)]
struct Queued {
    xid: Option<i32>,
    req: Request,
    tag: Tag,
    unwatch: Option<Unwatch>,
}

#[derive(Debug)]
struct AuthEntry {
    scheme: String,
    auth: Bytes,
    /// The caller waiting for this auth's first answer.
    waiter: Option<Tag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No transport.
    Down,
    /// Transport up, ConnectRequest sent.
    Handshake,
    Up,
    /// Terminal.
    Done,
}

/// The session state machine.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    phase: Phase,
    state: States,
    session_id: i64,
    password: Bytes,
    negotiated_timeout_ms: u32,
    read_timeout_ms: u64,
    connect_timeout_ms: u64,
    last_zxid: i64,
    seen_rw_server: bool,
    next_xid: i32,
    pending: VecDeque<Pending>,
    queued: VecDeque<Queued>,
    auth: Vec<AuthEntry>,
    /// Auth packets sent on this connection, oldest first: the waiter to tell, if any.
    auth_in_flight: VecDeque<Option<Tag>>,
    watches: WatchRegistry,
    closing: Option<Tag>,
    transmit: VecDeque<Bytes>,
    outputs: VecDeque<Output>,
    last_send_ms: u64,
    last_recv_ms: u64,
    next_tag: Tag,
}

impl Session {
    pub fn new(cfg: SessionConfig) -> Session {
        let timeout = u64::from(cfg.session_timeout_ms);
        let hosts = cfg.host_count.max(1) as u64;
        Session {
            phase: Phase::Down,
            state: States::Connecting,
            session_id: cfg.session_id,
            password: if cfg.password.is_empty() {
                Bytes::from_static(&[0; 16])
            } else {
                cfg.password.clone()
            },
            negotiated_timeout_ms: 0,
            read_timeout_ms: timeout * 2 / 3,
            connect_timeout_ms: timeout / hosts,
            last_zxid: 0,
            seen_rw_server: cfg.session_id != 0,
            next_xid: 1,
            pending: VecDeque::new(),
            queued: VecDeque::new(),
            auth: Vec::new(),
            auth_in_flight: VecDeque::new(),
            watches: WatchRegistry::default(),
            closing: None,
            transmit: VecDeque::new(),
            outputs: VecDeque::new(),
            last_send_ms: 0,
            last_recv_ms: 0,
            next_tag: 1,
            cfg,
        }
    }

    // ---- accessors ----

    pub fn state(&self) -> States {
        self.state
    }
    pub fn session_id(&self) -> i64 {
        self.session_id
    }
    pub fn password(&self) -> &Bytes {
        &self.password
    }
    pub fn negotiated_timeout_ms(&self) -> u32 {
        self.negotiated_timeout_ms
    }
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }
    pub fn connect_timeout_ms(&self) -> u64 {
        self.connect_timeout_ms
    }
    /// Whether the session has ended (closed, expired or auth failed): the driver stops.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
    /// Whether another request may be submitted now (the driver stops reading its command channel
    /// otherwise, which pushes back on callers).
    pub fn can_accept(&self) -> bool {
        self.pending.len() + self.queued.len() < self.cfg.requests_in_flight_max
    }

    // ---- driver inputs ----

    /// A transport to a server is up: start the handshake.
    pub fn transport_up(&mut self, now_ms: u64) {
        assert_eq!(self.phase, Phase::Down, "transport_up while a transport is already up");
        self.phase = Phase::Handshake;
        self.last_recv_ms = now_ms;
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            time_out: self.cfg.session_timeout_ms as i32,
            session_id: if self.seen_rw_server { self.session_id } else { 0 },
            passwd: self.password.clone(),
            read_only: Some(self.cfg.read_only),
        };
        let mut payload = Vec::with_capacity(48);
        req.encode(&mut payload);
        self.push_frame(&payload, now_ms);
    }

    /// The transport went down (closed, failed, or dropped by the driver on [`Dropped`]).
    pub fn transport_down(&mut self) {
        if self.phase == Phase::Done {
            return;
        }
        let was_up = self.phase == Phase::Up;
        self.phase = Phase::Down;
        self.transmit.clear();
        self.fail_pending(ErrorCode::ConnectionLoss.code());
        // Auth answers not received yet: the entries are re-sent on the next connection.
        for (entry_waiter, waiter) in self.auth.iter_mut().rev().zip(self.auth_in_flight.drain(..).rev()) {
            if entry_waiter.waiter.is_none() {
                entry_waiter.waiter = waiter;
            }
        }
        if let Some(tag) = self.closing.take() {
            self.finish(KeeperState::Closed, ErrorCode::ConnectionLoss.code());
            self.outputs.push_back(Output::Reply { tag, result: Ok(closed_reply()) });
            return;
        }
        self.state = States::Connecting;
        if was_up {
            self.event(WatchedEvent::state(KeeperState::Disconnected));
        }
    }

    /// One frame payload (length prefix removed) from the server.
    pub fn frame(&mut self, now_ms: u64, payload: Bytes) -> Result<(), Dropped> {
        self.last_recv_ms = now_ms;
        match self.phase {
            Phase::Handshake => self.connect_response(now_ms, payload),
            Phase::Up => self.reply(payload),
            Phase::Down | Phase::Done => Ok(()),
        }
    }

    /// Time passed: ping when idle, give up on a silent connection.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), Dropped> {
        let idle_recv = now_ms.saturating_sub(self.last_recv_ms);
        match self.phase {
            Phase::Handshake if idle_recv >= self.connect_timeout_ms => Err(Dropped::Silent(idle_recv)),
            Phase::Up if idle_recv >= self.read_timeout_ms => Err(Dropped::Silent(idle_recv)),
            Phase::Up => {
                if now_ms >= self.next_ping_ms() {
                    let mut payload = Vec::with_capacity(8);
                    Request::Ping.encode_with_header(xid::PING, &mut payload);
                    self.push_frame(&payload, now_ms);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// When `tick` must next be called, if a transport is up.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        match self.phase {
            Phase::Handshake => Some(self.last_recv_ms + self.connect_timeout_ms),
            Phase::Up => Some((self.last_recv_ms + self.read_timeout_ms).min(self.next_ping_ms())),
            _ => None,
        }
    }

    /// Java pings when readTimeout/2 − idleSend − (idleSend > 1 s ? 1 s : 0) ≤ 0, or after 10 s.
    fn next_ping_ms(&self) -> u64 {
        let half = self.read_timeout_ms / 2;
        let interval = if half > 2000 { half - 1000 } else { half };
        self.last_send_ms + interval.min(PING_INTERVAL_MS_MAX)
    }

    // ---- caller inputs ----

    /// Allocates a tag for a request the driver will submit.
    pub fn new_tag(&mut self) -> Tag {
        let t = self.next_tag;
        self.next_tag += 1;
        t
    }

    /// Submits a request (with the next xid, or `xid` if given: for differential tests; −1, −2
    /// and −4 are routed as events, pings and auth replies and must not be used).
    pub fn submit(&mut self, tag: Tag, req: Request, xid: Option<i32>, now_ms: u64) {
        self.enqueue(Queued { xid, req, tag, unwatch: None }, now_ms);
    }

    /// removeWatches for all watchers of `wtype` on a path (Java's `removeAllWatches`); with
    /// `local`, the watches go even when the server cannot be reached.
    pub fn remove_watches(
        &mut self,
        tag: Tag,
        client_path: &str,
        server_path: &str,
        wtype: WatcherType,
        local: bool,
        now_ms: u64,
    ) {
        let unwatch = Unwatch {
            client_path: client_path.to_owned(),
            server_path: server_path.to_owned(),
            wtype,
            local,
        };
        if local && self.phase != Phase::Up {
            self.complete_unwatch(tag, &unwatch, ErrorCode::ConnectionLoss.code(), None);
            return;
        }
        let req = Request::RemoveWatches(rzk_proto::RemoveWatchesRequest {
            path: server_path.to_owned(),
            watcher_type: wtype.code(),
        });
        self.enqueue(Queued { xid: None, req, tag, unwatch: Some(unwatch) }, now_ms);
    }

    /// addauth: kept for every later connection; `tag` completes on the server's answer.
    pub fn add_auth(&mut self, tag: Tag, scheme: &str, auth: Bytes, now_ms: u64) {
        if self.phase == Phase::Done {
            self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Code(self.dead_code())) });
            return;
        }
        if self.phase == Phase::Up {
            self.send_auth(scheme, &auth, Some(tag), now_ms);
            self.auth.push(AuthEntry { scheme: scheme.to_owned(), auth, waiter: None });
        } else {
            self.auth.push(AuthEntry { scheme: scheme.to_owned(), auth, waiter: Some(tag) });
        }
    }

    /// Closes the session: closeSession if connected (`tag` completes on its reply), at once
    /// otherwise.
    pub fn close(&mut self, tag: Tag, now_ms: u64) {
        match self.phase {
            Phase::Done => self.outputs.push_back(Output::Reply { tag, result: Ok(closed_reply()) }),
            Phase::Up if self.closing.is_none() => {
                self.closing = Some(tag);
                let xid = self.take_xid();
                self.send_request(xid, &Request::CloseSession, Some(tag), None, now_ms);
            }
            Phase::Up => self.outputs.push_back(Output::Reply { tag, result: Ok(closed_reply()) }),
            // The server may be creating the session right now: finish the handshake, then close
            // it (as Java, whose closeSession waits in the outgoing queue), so none is left behind.
            Phase::Handshake if self.closing.is_none() => self.closing = Some(tag),
            Phase::Handshake => self.outputs.push_back(Output::Reply { tag, result: Ok(closed_reply()) }),
            Phase::Down => {
                self.finish(KeeperState::Closed, ErrorCode::ConnectionLoss.code());
                self.outputs.push_back(Output::Reply { tag, result: Ok(closed_reply()) });
            }
        }
    }

    // ---- driver outputs ----

    /// The next frame to write (with its length prefix).
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next completion or event.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    // ---- internals ----

    fn enqueue(&mut self, q: Queued, now_ms: u64) {
        if self.phase == Phase::Done || self.closing.is_some() {
            // Java's conLossPacket: ConnectionLoss while closing, SessionExpired/AuthFailed after.
            let code =
                if self.closing.is_some() { ErrorCode::ConnectionLoss.code() } else { self.dead_code() };
            self.outputs.push_back(Output::Reply { tag: q.tag, result: Err(SessionError::Code(code)) });
            return;
        }
        if self.phase == Phase::Up {
            self.send_queued(q, now_ms);
        } else if self.can_accept() {
            self.queued.push_back(q);
        } else {
            // Disconnected and full: the driver keeps taking commands (so close() still works),
            // and the excess fails as if the connection had dropped under it.
            let code = ErrorCode::ConnectionLoss.code();
            self.outputs.push_back(Output::Reply { tag: q.tag, result: Err(SessionError::Code(code)) });
        }
    }

    /// The code requests fail with once the session is over (Java's `conLossPacket`).
    fn dead_code(&self) -> i32 {
        match self.state {
            States::AuthFailed => ErrorCode::AuthFailed.code(),
            _ => ErrorCode::SessionExpired.code(),
        }
    }

    fn send_queued(&mut self, q: Queued, now_ms: u64) {
        let xid = q.xid.unwrap_or_else(|| self.take_xid());
        let watch = watch_of(&q.req);
        self.send_request(xid, &q.req, Some(q.tag), q.unwatch, now_ms);
        if let Some(p) = self.pending.back_mut() {
            p.watch = watch;
        }
    }

    fn take_xid(&mut self) -> i32 {
        let x = self.next_xid;
        // Wrap before the special (negative) xids.
        self.next_xid = if x == i32::MAX { 1 } else { x + 1 };
        x
    }

    fn send_request(
        &mut self,
        xid: i32,
        req: &Request,
        tag: Option<Tag>,
        unwatch: Option<Unwatch>,
        now_ms: u64,
    ) {
        let mut payload = Vec::new();
        req.encode_with_header(xid, &mut payload);
        self.push_frame(&payload, now_ms);
        self.pending.push_back(Pending { xid, op: req.op(), tag, watch: None, unwatch });
    }

    fn send_auth(&mut self, scheme: &str, auth: &Bytes, waiter: Option<Tag>, now_ms: u64) {
        let packet =
            Request::Auth(AuthPacket { auth_type: 0, scheme: scheme.to_owned(), auth: auth.clone() });
        let mut payload = Vec::new();
        packet.encode_with_header(xid::AUTH, &mut payload);
        self.push_frame(&payload, now_ms);
        self.auth_in_flight.push_back(waiter);
    }

    fn push_frame(&mut self, payload: &[u8], now_ms: u64) {
        let mut f = BytesMut::with_capacity(4 + payload.len());
        f.put_u32(payload.len() as u32);
        f.put_slice(payload);
        self.transmit.push_back(f.freeze());
        self.last_send_ms = now_ms;
    }

    fn event(&mut self, e: WatchedEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn reader(&self, payload: Bytes) -> Reader {
        Reader::new(payload, self.cfg.frame_bytes_max)
    }

    fn connect_response(&mut self, now_ms: u64, payload: Bytes) -> Result<(), Dropped> {
        let mut r = self.reader(payload);
        let resp = ConnectResponse::decode(&mut r).map_err(|e| Dropped::Protocol(e.to_string()))?;
        if resp.time_out <= 0 {
            self.finish(KeeperState::Expired, ErrorCode::SessionExpired.code());
            return Err(Dropped::Expired);
        }
        let t = resp.time_out as u32;
        self.negotiated_timeout_ms = t;
        self.read_timeout_ms = u64::from(t) * 2 / 3;
        self.connect_timeout_ms = u64::from(t) / self.cfg.host_count.max(1) as u64;
        self.session_id = resp.session_id;
        self.password = resp.passwd;
        let read_only = resp.read_only.unwrap_or(false);
        self.seen_rw_server |= !read_only;
        self.phase = Phase::Up;
        self.state = if read_only { States::ConnectedReadOnly } else { States::Connected };
        let state = if read_only { KeeperState::ConnectedReadOnly } else { KeeperState::SyncConnected };
        self.event(WatchedEvent::state(state));
        self.prime(now_ms);
        Ok(())
    }

    /// After the handshake: auth, watches, then the requests that waited.
    fn prime(&mut self, now_ms: u64) {
        let auths: Vec<(String, Bytes, Option<Tag>)> =
            self.auth.iter_mut().map(|a| (a.scheme.clone(), a.auth.clone(), a.waiter.take())).collect();
        for (scheme, auth, waiter) in auths {
            self.send_auth(&scheme, &auth, waiter, now_ms);
        }
        for req in self.watches.set_watches_requests(self.last_zxid) {
            self.send_request(xid::SET_WATCHES, &req, None, None, now_ms);
        }
        while let Some(q) = self.queued.pop_front() {
            self.send_queued(q, now_ms);
        }
        if let Some(tag) = self.closing {
            let xid = self.take_xid();
            self.send_request(xid, &Request::CloseSession, Some(tag), None, now_ms);
        }
    }

    fn reply(&mut self, payload: Bytes) -> Result<(), Dropped> {
        let mut r = self.reader(payload);
        let header = ReplyHeader::decode(&mut r).map_err(|e| Dropped::Protocol(e.to_string()))?;
        match header.xid {
            xid::PING => Ok(()),
            xid::AUTH => self.auth_reply(&header),
            xid::NOTIFICATION => self.notification(&mut r),
            _ => self.matched_reply(header, r.rest().clone()),
        }
    }

    fn auth_reply(&mut self, header: &ReplyHeader) -> Result<(), Dropped> {
        let waiter = self.auth_in_flight.pop_front().flatten();
        if header.err == ErrorCode::AuthFailed.code() {
            if let Some(tag) = waiter {
                self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Code(header.err)) });
            }
            self.finish(KeeperState::AuthFailed, ErrorCode::AuthFailed.code());
            return Err(Dropped::AuthFailed);
        }
        if let Some(tag) = waiter {
            let reply = RawReply { header: header.clone(), op: op::AUTH, body: Bytes::new() };
            self.outputs.push_back(Output::Reply { tag, result: Ok(reply) });
        }
        Ok(())
    }

    fn notification(&mut self, r: &mut Reader) -> Result<(), Dropped> {
        let ev = WatcherEvent::decode(r).map_err(|e| Dropped::Protocol(e.to_string()))?;
        let (Some(event_type), Some(state)) =
            (EventType::from_code(ev.event_type), KeeperState::from_code(ev.state))
        else {
            tracing::debug!(event_type = ev.event_type, state = ev.state, "ignoring unknown watch event");
            return Ok(());
        };
        if !self.watches.materialize(event_type, &ev.path) {
            tracing::debug!(path = %ev.path, ?event_type, "event for no registered watch");
            return Ok(());
        }
        let path = to_client_path(self.cfg.chroot.as_deref(), &ev.path);
        self.event(WatchedEvent { event_type, state, path: Some(path) });
        Ok(())
    }

    fn matched_reply(&mut self, header: ReplyHeader, body: Bytes) -> Result<(), Dropped> {
        let Some(p) = self.pending.pop_front() else {
            return Err(Dropped::Protocol(format!("Nothing in the queue, but got {}", header.xid)));
        };
        if p.xid != header.xid {
            let msg = format!(
                "Xid out of order. Got Xid {} with err {} expected Xid {}",
                header.xid, header.err, p.xid
            );
            self.fail_one(p, ErrorCode::ConnectionLoss.code());
            return Err(Dropped::Protocol(msg));
        }
        if header.zxid > 0 {
            self.last_zxid = header.zxid;
        }
        if let Some((kind, path)) = &p.watch {
            register_watch(&mut self.watches, *kind, path, header.err);
        }
        let closed = p.op == op::CLOSE_SESSION;
        let Some(tag) = p.tag else { return Ok(()) };
        if let Some(u) = &p.unwatch {
            self.complete_unwatch(tag, u, header.err, Some((header, body)));
        } else {
            let reply = RawReply { header, op: p.op, body };
            self.outputs.push_back(Output::Reply { tag, result: Ok(reply) });
        }
        if closed {
            self.closing = None;
            self.finish(KeeperState::Closed, ErrorCode::SessionExpired.code());
            return Err(Dropped::Closed);
        }
        Ok(())
    }

    /// Finishes a removeWatches whose server answer was `rc` (Java's `finishPacket` with a
    /// `WatchDeregistration`).
    fn complete_unwatch(&mut self, tag: Tag, u: &Unwatch, rc: i32, reply: Option<(ReplyHeader, Bytes)>) {
        match self.watches.remove(u.wtype, &u.server_path, u.local, rc) {
            Ok(events) => {
                let state =
                    if rc == ErrorCode::ConnectionLoss.code() || rc == ErrorCode::SessionExpired.code() {
                        KeeperState::Disconnected
                    } else {
                        KeeperState::SyncConnected
                    };
                for event_type in events {
                    self.event(WatchedEvent { event_type, state, path: Some(u.client_path.clone()) });
                }
                let (mut header, body) = reply.unwrap_or_default();
                header.err = 0;
                let reply = RawReply { header, op: op::REMOVE_WATCHES, body };
                self.outputs.push_back(Output::Reply { tag, result: Ok(reply) });
            }
            Err(code) => {
                self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Unwatch(code)) })
            }
        }
    }

    fn fail_one(&mut self, p: Pending, code: i32) {
        let Some(tag) = p.tag else { return };
        match p.unwatch {
            Some(u) => self.complete_unwatch(tag, &u, code, None),
            None => self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Code(code)) }),
        }
    }

    fn fail_pending(&mut self, code: i32) {
        while let Some(p) = self.pending.pop_front() {
            self.fail_one(p, code);
        }
    }

    /// Ends the session for good: everything outstanding fails with `code`.
    fn finish(&mut self, state: KeeperState, code: i32) {
        self.phase = Phase::Done;
        self.state = if state == KeeperState::AuthFailed { States::AuthFailed } else { States::Closed };
        self.transmit.clear();
        self.fail_pending(code);
        while let Some(q) = self.queued.pop_front() {
            self.outputs.push_back(Output::Reply { tag: q.tag, result: Err(SessionError::Code(code)) });
        }
        for a in self.auth.iter_mut() {
            if let Some(tag) = a.waiter.take() {
                self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Code(code)) });
            }
        }
        for tag in self.auth_in_flight.drain(..).flatten().collect::<Vec<_>>() {
            self.outputs.push_back(Output::Reply { tag, result: Err(SessionError::Code(code)) });
        }
        self.event(WatchedEvent::state(state));
    }
}

/// The watch a successful (or, for exists, NoNode) reply leaves, by request.
fn watch_of(req: &Request) -> Option<(WatchKind, String)> {
    match req {
        Request::Exists(r) if r.watch => Some((WatchKind::Exist, r.path.clone())),
        Request::GetData(r) if r.watch => Some((WatchKind::Data, r.path.clone())),
        Request::GetChildren(r) if r.watch => Some((WatchKind::Child, r.path.clone())),
        Request::GetChildren2(r) if r.watch => Some((WatchKind::Child, r.path.clone())),
        Request::AddWatch(r) if r.mode == rzk_proto::codes::add_watch_mode::PERSISTENT => {
            Some((WatchKind::Persistent, r.path.clone()))
        }
        Request::AddWatch(r) => Some((WatchKind::PersistentRecursive, r.path.clone())),
        _ => None,
    }
}

/// Java's `WatchRegistration.register`: exists watches a missing node (exist watch) or an
/// existing one (data watch); the others only on success.
fn register_watch(w: &mut WatchRegistry, kind: WatchKind, path: &str, rc: i32) {
    match kind {
        WatchKind::Exist if rc == 0 => w.register(WatchKind::Data, path),
        WatchKind::Exist if rc == ErrorCode::NoNode.code() => w.register(WatchKind::Exist, path),
        _ if rc == 0 => w.register(kind, path),
        _ => {}
    }
}

/// What a finished close completes with.
fn closed_reply() -> RawReply {
    RawReply { header: ReplyHeader::default(), op: op::CLOSE_SESSION, body: Bytes::new() }
}

#[cfg(test)]
mod tests;
