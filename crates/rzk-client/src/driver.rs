//! The tokio driver: the one task that owns the socket and the [`Session`]. It connects to the
//! connect string's servers round-robin (with Java's random pause of up to a second before a
//! reconnect), feeds the session every frame, timer tick and caller command, writes what the
//! session emits, and hands completions to callers (oneshot) and events to subscribers
//! (broadcast). Callers talk to it over a bounded command channel, which it stops reading while
//! a connected session has `requests_in_flight_max` requests outstanding (while disconnected it
//! keeps reading, so `close()` gets through, and the session fails the excess with
//! ConnectionLoss).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rzk_proto::Request;
use rzk_proto::frame::{Frame, take_frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::event::{States, WatchedEvent, WatcherType};
use crate::session::{Output, RawReply, Session, SessionError, Tag};

/// Initial capacity of the receive buffer.
const READ_BUF_BYTES: usize = 64 * 1024;
/// How long a closing driver keeps trying to flush its last frames.
const FLUSH_ON_CLOSE_MS: u64 = 1_000;

/// What a caller's request completes with.
pub(crate) type Completion = oneshot::Sender<Result<RawReply, SessionError>>;

/// What callers ask the driver.
pub(crate) enum Command {
    Request {
        req: Request,
        xid: Option<i32>,
        reply: Completion,
    },
    RemoveWatches {
        client_path: String,
        server_path: String,
        wtype: WatcherType,
        local: bool,
        reply: Completion,
    },
    AddAuth {
        scheme: String,
        auth: Bytes,
        reply: Option<Completion>,
    },
    Close {
        reply: Completion,
    },
}

/// A snapshot of the session, published after every change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub state: States,
    pub session_id: i64,
    pub password: Bytes,
    /// 0 until the first handshake.
    pub negotiated_timeout_ms: u32,
    pub last_zxid: i64,
    /// `host:port` of the server of the current (or last) connection.
    pub server: Option<String>,
}

pub(crate) struct DriverConfig {
    pub hosts: Vec<(String, u16)>,
    pub reconnect_delay_max: Duration,
    pub frame_bytes_max: usize,
}

pub(crate) struct Driver {
    pub session: Session,
    pub cfg: DriverConfig,
    pub cmds: mpsc::Receiver<Command>,
    pub events: broadcast::Sender<WatchedEvent>,
    pub info: watch::Sender<SessionInfo>,
    waiters: HashMap<Tag, Completion>,
    clock: Instant,
    next_host: usize,
    server: Option<String>,
    random: RandomState,
    draws: u64,
    cmds_closed: bool,
    /// A close received while a TCP connect was in progress.
    deferred_close: Option<Command>,
}

impl Driver {
    pub fn new(
        session: Session,
        cfg: DriverConfig,
        cmds: mpsc::Receiver<Command>,
        events: broadcast::Sender<WatchedEvent>,
        info: watch::Sender<SessionInfo>,
    ) -> Driver {
        Driver {
            session,
            cfg,
            cmds,
            events,
            info,
            waiters: HashMap::new(),
            clock: Instant::now(),
            next_host: 0,
            server: None,
            random: RandomState::new(),
            draws: 0,
            cmds_closed: false,
            deferred_close: None,
        }
    }

    fn now_ms(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    /// Runs until the session ends or every `Client` handle is gone.
    pub async fn run(mut self) {
        let mut first = true;
        while !self.session.is_done() && !self.cmds_closed {
            if !first {
                let pause = self.random_below(self.cfg.reconnect_delay_max);
                self.pause(pause).await;
                if self.session.is_done() || self.cmds_closed {
                    break;
                }
            }
            first = false;
            if let Some(stream) = self.connect_next().await {
                self.serve(stream).await;
                // Nobody is left to tell (every handle is gone): just drop the connection.
                if self.cmds_closed {
                    break;
                }
                self.session.transport_down();
                self.dispatch();
            }
        }
        tracing::debug!(session = %rzk_proto::SessionId(self.session.session_id()), "client driver stopped");
    }

    /// A pseudo-random duration in `[0, max)`, from std's per-process random hasher keys.
    fn random_below(&mut self, max: Duration) -> Duration {
        self.draws += 1;
        let max_ms = max.as_millis() as u64;
        if max_ms == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(self.random.hash_one(self.draws) % max_ms)
    }

    /// Waits `d` while still taking commands.
    async fn pause(&mut self, d: Duration) {
        let sleep = tokio::time::sleep(d);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return,
                c = self.cmds.recv(), if !self.cmds_closed => {
                    self.command(c);
                    if self.session.is_done() || self.cmds_closed {
                        return;
                    }
                }
            }
        }
    }

    /// Tries the next server of the connect string; takes commands meanwhile.
    async fn connect_next(&mut self) -> Option<TcpStream> {
        let (host, port) = self.cfg.hosts[self.next_host % self.cfg.hosts.len()].clone();
        self.next_host = (self.next_host + 1) % self.cfg.hosts.len();
        let timeout = Duration::from_millis(self.session.connect_timeout_ms().max(1));
        let attempt = tokio::time::timeout(timeout, TcpStream::connect((host.clone(), port)));
        tokio::pin!(attempt);
        loop {
            tokio::select! {
                r = &mut attempt => {
                    let stream = match r {
                        Ok(Ok(s)) => {
                            self.server = Some(format!("{host}:{port}"));
                            Some(s)
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%host, port, error = %e, "connect failed");
                            None
                        }
                        Err(_) => {
                            tracing::debug!(%host, port, "connect timed out");
                            None
                        }
                    };
                    // A close that came during the attempt: with a connection, the session closes
                    // after its handshake (the server may be creating it); without, at once.
                    if let Some(close) = self.deferred_close.take() {
                        if stream.is_none() {
                            self.command(Some(close));
                        } else {
                            self.deferred_close = Some(close);
                        }
                    }
                    return stream;
                }
                c = self.cmds.recv(), if !self.cmds_closed && self.deferred_close.is_none() => {
                    match c {
                        Some(close @ Command::Close { .. }) => self.deferred_close = Some(close),
                        other => self.command(other),
                    }
                    if self.session.is_done() || self.cmds_closed {
                        return None;
                    }
                }
            }
        }
    }

    /// Serves one connection until it fails, the session ends or the handles are gone.
    async fn serve(&mut self, stream: TcpStream) {
        // Latency matters more than packet count for a request/reply protocol.
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        let now = self.now_ms();
        self.session.transport_up(now);
        if let Some(close) = self.deferred_close.take() {
            self.command(Some(close));
        }
        self.dispatch();
        let mut inbuf = BytesMut::with_capacity(READ_BUF_BYTES);
        let mut outbuf = BytesMut::new();
        loop {
            while let Some(f) = self.session.poll_transmit() {
                outbuf.extend_from_slice(&f);
            }
            if self.session.is_done() || self.cmds_closed {
                let flush =
                    tokio::time::timeout(Duration::from_millis(FLUSH_ON_CLOSE_MS), wr.write_all(&outbuf));
                let _ = flush.await;
                return;
            }
            let deadline = self.session.next_deadline_ms().map(|ms| self.clock + Duration::from_millis(ms));
            let accepting = self.session.can_accept();
            tokio::select! {
                r = rd.read_buf(&mut inbuf) => {
                    match r {
                        Ok(0) => return,
                        Err(e) => {
                            tracing::debug!(error = %e, "connection read failed");
                            return;
                        }
                        Ok(_) => {
                            if !self.take_frames(&mut inbuf) {
                                return;
                            }
                        }
                    }
                }
                r = wr.write_buf(&mut outbuf), if !outbuf.is_empty() => {
                    if matches!(r, Ok(0) | Err(_)) {
                        return;
                    }
                }
                c = self.cmds.recv(), if accepting => self.command(c),
                _ = sleep_until_opt(deadline), if deadline.is_some() => {
                    if let Err(e) = self.session.tick(self.now_ms()) {
                        tracing::info!(error = %e, server = ?self.server, "dropping connection");
                        return;
                    }
                }
            }
            self.dispatch();
        }
    }

    /// Hands every whole frame to the session; false when the connection must be dropped.
    fn take_frames(&mut self, inbuf: &mut BytesMut) -> bool {
        loop {
            match take_frame(inbuf, false, self.cfg.frame_bytes_max) {
                Ok(None) => return true,
                Ok(Some(Frame::Packet(payload))) => {
                    if let Err(e) = self.session.frame(self.now_ms(), payload) {
                        tracing::debug!(error = %e, "dropping connection");
                        return false;
                    }
                }
                Ok(Some(Frame::FourLetterWord { .. })) => return false,
                Err(e) => {
                    tracing::warn!(error = %e, "bad frame from server");
                    return false;
                }
            }
        }
    }

    fn command(&mut self, c: Option<Command>) {
        let now = self.now_ms();
        let Some(c) = c else {
            self.cmds_closed = true;
            return;
        };
        let tag = self.session.new_tag();
        match c {
            Command::Request { req, xid, reply } => {
                self.waiters.insert(tag, reply);
                self.session.submit(tag, req, xid, now);
            }
            Command::RemoveWatches { client_path, server_path, wtype, local, reply } => {
                self.waiters.insert(tag, reply);
                self.session.remove_watches(tag, &client_path, &server_path, wtype, local, now);
            }
            Command::AddAuth { scheme, auth, reply } => {
                if let Some(reply) = reply {
                    self.waiters.insert(tag, reply);
                }
                self.session.add_auth(tag, &scheme, auth, now);
            }
            Command::Close { reply } => {
                self.waiters.insert(tag, reply);
                self.session.close(tag, now);
            }
        }
        self.dispatch();
    }

    /// Publishes the session snapshot, then delivers completions and events (so a caller woken
    /// by a reply already sees the state and zxid that reply brought).
    fn dispatch(&mut self) {
        self.publish_info();
        while let Some(o) = self.session.poll_output() {
            match o {
                Output::Reply { tag, result } => {
                    if let Some(tx) = self.waiters.remove(&tag) {
                        // The caller may have given up (request timeout): nothing to do then.
                        let _ = tx.send(result);
                    }
                }
                Output::Event(e) => {
                    // No subscriber is fine: events are then dropped.
                    let _ = self.events.send(e);
                }
            }
        }
    }

    fn publish_info(&mut self) {
        let s = &self.session;
        let now = SessionInfo {
            state: s.state(),
            session_id: s.session_id(),
            password: s.password().clone(),
            negotiated_timeout_ms: s.negotiated_timeout_ms(),
            last_zxid: s.last_zxid(),
            server: self.server.clone(),
        };
        self.info.send_if_modified(|i| {
            if *i == now {
                false
            } else {
                *i = now;
                true
            }
        });
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
