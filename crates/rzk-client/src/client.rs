//! The `Client` handle and its builder: starts the driver task, sends it commands over a
//! bounded channel, and exposes the session's state, its events and the raw request API the
//! differential tests use. The typed ZooKeeper calls are in `api.rs`.
//!
//! Events: one ordered stream per subscriber ([`Client::watches`]) carrying both watch events and
//! session state events (type `None`), as Java's default watcher sees them. Each server
//! notification is delivered once (not once per watch type that matched: ZooKeeper sends one
//! notification per path and session, and this client has a single watcher). The stream is a
//! bounded broadcast: a subscriber that falls more than `event_capacity` events behind gets
//! `RecvError::Lagged` and loses the oldest ones; the driver never blocks on it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use rzk_proto::{ErrorCode, Jute, Reader, Request, Response};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::connect_string::{ConnectString, to_server_path};
use crate::driver::{Command, Completion, Driver, DriverConfig, SessionInfo};
use crate::error::{Error, Result};
use crate::event::{States, WatchedEvent, WatcherType};
use crate::session::{RawReply, Session, SessionConfig, SessionError};

/// Capacity of the command channel from handles to the driver.
pub const COMMANDS_MAX: usize = 1024;
/// Default capacity of the event stream (per subscriber lag allowed).
pub const EVENTS_MAX_DEFAULT: usize = 4096;
/// Default cap on a reply's size (and any length inside it).
pub const FRAME_BYTES_MAX_DEFAULT: usize = 4 * 1024 * 1024;
/// Default cap on requests on the wire plus requests waiting for a connection.
pub const REQUESTS_IN_FLIGHT_MAX_DEFAULT: usize = 10_000;
/// Java's pause before a reconnect is random below one second.
pub const RECONNECT_DELAY_MAX_DEFAULT: Duration = Duration::from_millis(1000);

/// Options of a client; `connect()` or `start()` builds it.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    connect_string: String,
    session_timeout: Duration,
    session: Option<(i64, Bytes)>,
    read_only: bool,
    auth: Vec<(String, Bytes)>,
    request_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    reconnect_delay_max: Duration,
    event_capacity: usize,
    frame_bytes_max: usize,
    requests_in_flight_max: usize,
}

impl ClientBuilder {
    pub fn new(connect_string: &str, session_timeout: Duration) -> ClientBuilder {
        ClientBuilder {
            connect_string: connect_string.to_owned(),
            session_timeout,
            session: None,
            read_only: false,
            auth: Vec::new(),
            request_timeout: None,
            connect_timeout: None,
            reconnect_delay_max: RECONNECT_DELAY_MAX_DEFAULT,
            event_capacity: EVENTS_MAX_DEFAULT,
            frame_bytes_max: FRAME_BYTES_MAX_DEFAULT,
            requests_in_flight_max: REQUESTS_IN_FLIGHT_MAX_DEFAULT,
        }
    }

    /// Re-attach to an existing session (its id and password).
    pub fn session(mut self, session_id: i64, password: &[u8]) -> Self {
        self.session = Some((session_id, Bytes::copy_from_slice(password)));
        self
    }

    /// Accept read-only servers (`canBeReadOnly`).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Authentication sent with every connection, before any request.
    pub fn auth(mut self, scheme: &str, auth: &[u8]) -> Self {
        self.auth.push((scheme.to_owned(), Bytes::copy_from_slice(auth)));
        self
    }

    /// Give up on a request after this long (RequestTimeout); the default waits as Java does.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// How long `connect()` waits for the session (default: the session timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The random pause before a reconnect is below this (default one second, as Java).
    pub fn reconnect_delay_max(mut self, d: Duration) -> Self {
        self.reconnect_delay_max = d;
        self
    }

    pub fn event_capacity(mut self, events: usize) -> Self {
        self.event_capacity = events.max(1);
        self
    }

    pub fn frame_bytes_max(mut self, bytes: usize) -> Self {
        self.frame_bytes_max = bytes;
        self
    }

    pub fn requests_in_flight_max(mut self, requests: usize) -> Self {
        self.requests_in_flight_max = requests.max(1);
        self
    }

    /// Starts the client and returns at once (as Java's constructor does); requests made before
    /// the session is established wait for it. Needs a tokio runtime.
    pub fn start(self) -> Result<Client> {
        let cs = ConnectString::parse(&self.connect_string)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::BadArgument("rzk-client needs a tokio runtime".into()))?;
        let (session_id, password) = self.session.clone().unwrap_or((0, Bytes::new()));
        let timeout_ms = self.session_timeout.as_millis().min(i32::MAX as u128) as u32;
        let mut session = Session::new(SessionConfig {
            session_timeout_ms: timeout_ms,
            read_only: self.read_only,
            session_id,
            password: password.clone(),
            host_count: cs.hosts.len(),
            chroot: cs.chroot.clone(),
            frame_bytes_max: self.frame_bytes_max,
            requests_in_flight_max: self.requests_in_flight_max,
        });
        for (scheme, auth) in &self.auth {
            let tag = session.new_tag();
            session.add_auth(tag, scheme, auth.clone(), 0);
        }
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMANDS_MAX);
        let (events_tx, first_rx) = broadcast::channel(self.event_capacity);
        let info0 = SessionInfo {
            state: States::Connecting,
            session_id,
            password: session.password().clone(),
            negotiated_timeout_ms: 0,
            last_zxid: 0,
            server: None,
        };
        let (info_tx, info_rx) = watch::channel(info0);
        let weak_events = events_tx.downgrade();
        let cfg = DriverConfig {
            hosts: cs.hosts.clone(),
            reconnect_delay_max: self.reconnect_delay_max,
            frame_bytes_max: self.frame_bytes_max,
        };
        runtime.spawn(Driver::new(session, cfg, cmd_rx, events_tx, info_tx).run());
        Ok(Client {
            inner: Arc::new(Inner {
                cmds: cmd_tx,
                info: info_rx,
                events: weak_events,
                first_events: Mutex::new(Some(first_rx)),
                chroot: cs.chroot,
                hosts: cs.hosts,
                request_timeout: self.request_timeout,
            }),
        })
    }

    /// Starts the client and waits until the session is established (or fails: ConnectionLoss
    /// when no server answered within the connect timeout, SessionExpired, AuthFailed).
    pub async fn connect(self) -> Result<Client> {
        let wait = self.connect_timeout.unwrap_or(self.session_timeout);
        let client = self.start()?;
        match client.wait_for(|s| s.is_connected() || !s.is_alive(), wait).await {
            Some(s) if s.is_connected() => Ok(client),
            Some(States::AuthFailed) => Err(Error::keeper(ErrorCode::AuthFailed, None)),
            Some(_) => Err(Error::keeper(ErrorCode::SessionExpired, None)),
            None => {
                let _ = client.close().await;
                Err(Error::keeper(ErrorCode::ConnectionLoss, None))
            }
        }
    }
}

struct Inner {
    cmds: mpsc::Sender<Command>,
    info: watch::Receiver<SessionInfo>,
    events: broadcast::WeakSender<WatchedEvent>,
    first_events: Mutex<Option<broadcast::Receiver<WatchedEvent>>>,
    chroot: Option<String>,
    hosts: Vec<(String, u16)>,
    request_timeout: Option<Duration>,
}

/// A ZooKeeper client session. Cheap to clone; the session lives until `close()` (or until the
/// last handle is dropped, which drops the connection without closing the session, so the
/// server expires it after its timeout).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("info", &*self.inner.info.borrow()).finish()
    }
}

impl Client {
    /// Connects with default options and waits for the session.
    pub async fn connect(connect_string: &str, session_timeout: Duration) -> Result<Client> {
        ClientBuilder::new(connect_string, session_timeout).connect().await
    }

    pub fn builder(connect_string: &str, session_timeout: Duration) -> ClientBuilder {
        ClientBuilder::new(connect_string, session_timeout)
    }

    // ---- session state ----

    /// The current session snapshot.
    pub fn info(&self) -> SessionInfo {
        self.inner.info.borrow().clone()
    }
    pub fn state(&self) -> States {
        self.inner.info.borrow().state
    }
    pub fn session_id(&self) -> i64 {
        self.inner.info.borrow().session_id
    }
    pub fn session_password(&self) -> Bytes {
        self.inner.info.borrow().password.clone()
    }
    /// The negotiated session timeout (zero before the first handshake).
    pub fn negotiated_timeout(&self) -> Duration {
        Duration::from_millis(u64::from(self.inner.info.borrow().negotiated_timeout_ms))
    }
    pub fn last_zxid(&self) -> i64 {
        self.inner.info.borrow().last_zxid
    }
    pub fn chroot(&self) -> Option<&str> {
        self.inner.chroot.as_deref()
    }
    /// The servers of the connect string.
    pub fn hosts(&self) -> &[(String, u16)] {
        &self.inner.hosts
    }

    /// A receiver of every session snapshot change.
    pub fn state_changes(&self) -> watch::Receiver<SessionInfo> {
        self.inner.info.clone()
    }

    /// Waits until the state satisfies `pred` (returns it), or `None` after `timeout`.
    pub async fn wait_for(&self, pred: impl Fn(States) -> bool, timeout: Duration) -> Option<States> {
        let mut rx = self.inner.info.clone();
        let fut = async {
            loop {
                let s = rx.borrow_and_update().state;
                if pred(s) {
                    return Some(s);
                }
                if rx.changed().await.is_err() {
                    let s = rx.borrow().state;
                    return pred(s).then_some(s);
                }
            }
        };
        tokio::time::timeout(timeout, fut).await.ok().flatten()
    }

    /// The event stream (see the module docs). The first call gets every event since the client
    /// started (including the first SyncConnected); later calls get events from now on.
    pub fn watches(&self) -> broadcast::Receiver<WatchedEvent> {
        if let Ok(mut first) = self.inner.first_events.lock()
            && let Some(rx) = first.take()
        {
            return rx;
        }
        match self.inner.events.upgrade() {
            Some(tx) => tx.subscribe(),
            // The driver is gone: a receiver that reports the stream closed.
            None => broadcast::channel(1).1,
        }
    }

    // ---- raw requests ----

    /// Sends any request with the next xid and returns the reply as received (an error reply is
    /// `Ok` here: look at `header.err`). Watches it sets are tracked as for the typed calls.
    pub async fn raw_request(&self, req: Request) -> Result<RawReply> {
        self.call(req, None).await
    }

    /// As [`Client::raw_request`], with a chosen xid (not −1, −2 or −4, which the session routes
    /// as events, pings and auth replies).
    pub async fn raw_request_with_xid(&self, xid: i32, req: Request) -> Result<RawReply> {
        self.call(req, Some(xid)).await
    }

    // ---- plumbing for api.rs ----

    pub(crate) fn server_path(&self, client_path: &str) -> String {
        to_server_path(self.chroot(), client_path)
    }

    pub(crate) async fn call(&self, req: Request, xid: Option<i32>) -> Result<RawReply> {
        self.command(|reply| Command::Request { req, xid, reply }).await
    }

    pub(crate) async fn remove_watches_cmd(
        &self,
        client_path: &str,
        wtype: WatcherType,
        local: bool,
    ) -> Result<RawReply> {
        let client_path = client_path.to_owned();
        let server_path = self.server_path(&client_path);
        self.command(|reply| Command::RemoveWatches { client_path, server_path, wtype, local, reply }).await
    }

    pub(crate) async fn add_auth_cmd(&self, scheme: &str, auth: &[u8]) -> Result<RawReply> {
        let (scheme, auth) = (scheme.to_owned(), Bytes::copy_from_slice(auth));
        self.command(|reply| Command::AddAuth { scheme, auth, reply: Some(reply) }).await
    }

    /// Closes the session (closeSession, waiting for its reply if connected). Later calls fail
    /// with SessionExpired, as in Java.
    pub async fn close(&self) -> Result<()> {
        if !self.state().is_alive() {
            return Ok(());
        }
        match self.command(|reply| Command::Close { reply }).await {
            Ok(_) => Ok(()),
            // The driver may already have stopped (expired meanwhile): closed either way.
            Err(Error::Keeper { code: ErrorCode::SessionExpired, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn command(&self, make: impl FnOnce(Completion) -> Command) -> Result<RawReply> {
        let (tx, rx) = oneshot::channel();
        if self.inner.cmds.send(make(tx)).await.is_err() {
            return Err(self.dead_error());
        }
        let res = match self.inner.request_timeout {
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(r) => r,
                Err(_) => return Err(Error::keeper(ErrorCode::RequestTimeout, None)),
            },
            None => rx.await,
        };
        match res {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(SessionError::Code(c) | SessionError::Unwatch(c))) => Err(Error::from_code(c, None)),
            Err(_) => Err(self.dead_error()),
        }
    }

    /// What a call fails with once the driver is gone.
    fn dead_error(&self) -> Error {
        match self.state() {
            States::AuthFailed => Error::keeper(ErrorCode::AuthFailed, None),
            _ => Error::keeper(ErrorCode::SessionExpired, None),
        }
    }
}

impl RawReply {
    /// The decoded body: `None` for an error reply (ZooKeeper sends no body then).
    pub fn response(&self) -> Result<Option<Response>, rzk_proto::DecodeError> {
        if self.header.err != 0 {
            return Ok(None);
        }
        let mut r = Reader::with_default_limit(self.body.clone());
        Response::decode(self.op, &mut r).map(Some)
    }

    /// The body decoded as one record.
    pub fn decode<T: Jute>(&self) -> Result<T, rzk_proto::DecodeError> {
        T::decode(&mut Reader::with_default_limit(self.body.clone()))
    }
}
