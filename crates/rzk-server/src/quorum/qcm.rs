//! The election-port transport: ZooKeeper's `QuorumCnxManager`, in tokio.
//!
//! FastLeaderElection (`rzk_zab::election`) produces and consumes the bytes; the notification
//! codec is `rzk_zab::notification`. This module only moves opaque messages between members:
//! [`Qcm::send`] queues one for a peer, and every message from every peer arrives on the one
//! receiver [`Qcm::start`] returns.
//!
//! What it keeps from ZooKeeper, on purpose and byte for byte (see [`wire`]):
//! - **One connection per pair, from the larger sid to the smaller.** A dialer writes its header;
//!   if it dialed a larger sid it then closes, and the larger side, seeing a connection from a
//!   smaller sid, closes it (and any connection it had to that sid) and dials back. A new
//!   accepted connection from a sid replaces the old one.
//! - **Latest wins.** Each peer has a send queue of one message (`SEND_CAPACITY`): a new message
//!   replaces an unsent one. The last message written to a peer is written again when a new
//!   connection to it starts with nothing queued (`lastMessageSent`); duplicates are harmless to
//!   FastLeaderElection.
//! - **Anonymous observers**: sid `Long.MAX_VALUE` is given a fresh negative id (-1, -2, ...).
//! - A message to our own sid loops back to the receiver.
//!
//! Where it differs: connections are made on demand by [`Qcm::send`] and retried with a backoff
//! from [`DIAL_BACKOFF_MIN`] to [`DIAL_BACKOFF_MAX`] while a message waits for the peer (Java
//! tries once per `toSend`/`connectAll`); incoming headers are read concurrently (at most
//! [`HANDSHAKES_IN_FLIGHT_MAX`]) instead of one at a time on the listener thread; one timeout,
//! [`QcmConfig::cnx_timeout`], bounds both connecting and reading a header (Java reads headers
//! under the quorum socket timeout, `quorumCnxnTimeoutMs` or tickTime × syncLimit); and the
//! receive queue applies backpressure (a slow consumer stops the socket reads) where Java's
//! `CircularBlockingQueue` drops the oldest message. No SASL.
//!
//! TLS ([`QcmConfig::tls`], `sslQuorum`/`portUnification`): a dialer runs the handshake before it
//! writes its header, a listener before it reads one, both within `cnxTimeout`; a refused peer
//! is logged and its connection closed. A connection is then two halves of one stream (plain
//! TCP halves, or `tokio::io::split` of the TLS stream), boxed so the links need not care.

mod dial;
mod link;
mod listen;
pub mod wire;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::{AbortHandle, JoinSet};

use super::tls::QuorumTls;
pub use wire::{
    FRAME_BYTES_MAX, HEADER_ADDR_BYTES_MAX, OBSERVER_ID, PROTOCOL_VERSION_V1, PROTOCOL_VERSION_V2,
};

/// `cnxTimeout` (`zookeeper.cnxTimeout`) default.
pub const CNX_TIMEOUT_DEFAULT: Duration = Duration::from_millis(5000);
/// `QuorumCnxManager.RECV_CAPACITY`: messages waiting for the consumer before reads stop.
pub const RECV_QUEUE_MESSAGES: usize = 100;
/// First pause between dials to a peer a message is waiting for; doubled after each attempt.
pub const DIAL_BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest pause between dials.
pub const DIAL_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Incoming connections whose header is still being read; more are closed at once.
pub const HANDSHAKES_IN_FLIGHT_MAX: usize = 64;

/// The reading half of a connection, plain or TLS.
type PeerRead = BufReader<Box<dyn AsyncRead + Send + Unpin>>;
/// The writing half; written messages are flushed (a TLS stream may hold bytes back).
type PeerWrite = Box<dyn AsyncWrite + Send + Unpin>;

/// An open election connection.
struct Conn {
    rd: PeerRead,
    wr: PeerWrite,
    local: SocketAddr,
    remote: SocketAddr,
}

impl Conn {
    fn plain(stream: TcpStream) -> io::Result<Conn> {
        let (local, remote) = (stream.local_addr()?, stream.peer_addr()?);
        let (rd, wr) = stream.into_split();
        Ok(Conn { rd: BufReader::new(Box::new(rd)), wr: Box::new(wr), local, remote })
    }

    fn tls<S>(stream: S, local: SocketAddr, remote: SocketAddr) -> Conn
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        Conn { rd: BufReader::new(Box::new(rd)), wr: Box::new(wr), local, remote }
    }
}

/// Where messages from peers arrive: `(sid, message bytes)`.
pub type Inbox = mpsc::Receiver<(i64, Vec<u8>)>;

/// What a [`Qcm`] needs to know.
#[derive(Debug, Clone)]
pub struct QcmConfig {
    /// This server's sid.
    pub my_id: i64,
    /// Where to listen: the election address, or `0.0.0.0:<electionPort>` with
    /// `quorumListenOnAllIPs` (see [`QcmConfig::listen_addr`]). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// `host:port` sent in the header: the election address peers dial back (1..=2048 bytes).
    pub my_addr_text: String,
    /// Election addresses of the other members, observers included (our own id is ignored).
    pub peers: BTreeMap<i64, SocketAddr>,
    /// `cnxTimeout`: bounds a connect and the reading of a header ([`CNX_TIMEOUT_DEFAULT`]).
    pub cnx_timeout: Duration,
    /// Quorum TLS; `None` for plaintext only.
    pub tls: Option<Arc<QuorumTls>>,
    /// Quorum SASL (`quorum.auth.enableSasl`); `None` without.
    pub sasl: Option<super::sasl::QuorumSasl>,
}

impl QcmConfig {
    /// The address to listen on for `election`: itself, or the wildcard of its family with the
    /// same port when `quorumListenOnAllIPs` is set.
    pub fn listen_addr(election: SocketAddr, listen_on_all_ips: bool) -> SocketAddr {
        if !listen_on_all_ips {
            return election;
        }
        let any = match election.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(any, election.port())
    }
}

/// A running election transport; a cheap handle to clone. Dropping the last clone shuts it down.
#[derive(Clone)]
pub struct Qcm {
    shared: Arc<Shared>,
    _guard: Arc<ShutdownOnDrop>,
}

impl std::fmt::Debug for Qcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qcm")
            .field("my_id", &self.shared.my_id)
            .field("listen", &self.shared.local_addr)
            .finish()
    }
}

impl Qcm {
    /// Binds the election port and starts accepting. Messages from peers arrive on the returned
    /// receiver as `(sid, bytes)`; it ends after [`shutdown`](Self::shutdown).
    pub async fn start(cfg: QcmConfig) -> io::Result<(Qcm, Inbox)> {
        let listener = listen::bind(cfg.listen)?;
        Self::start_on(cfg, listener)
    }

    /// `start` on a listener the caller bound (tests bind every member's port before starting
    /// any). Must run inside a tokio runtime.
    pub(crate) fn start_on(cfg: QcmConfig, listener: std::net::TcpListener) -> io::Result<(Qcm, Inbox)> {
        let text_len = cfg.my_addr_text.len();
        if text_len == 0 || text_len > HEADER_ADDR_BYTES_MAX || cfg.my_addr_text.contains('|') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "election address text {:?} must be 1..={HEADER_ADDR_BYTES_MAX} bytes of host:port",
                    cfg.my_addr_text
                ),
            ));
        }
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let local_addr = listener.local_addr()?;
        let (recv_tx, recv_rx) = mpsc::channel(RECV_QUEUE_MESSAGES);
        let peers = cfg
            .peers
            .iter()
            .filter(|(sid, _)| **sid != cfg.my_id)
            .map(|(sid, a)| (*sid, Peer::new(Some(*a))));
        let shared = Arc::new(Shared {
            my_id: cfg.my_id,
            my_addr_text: cfg.my_addr_text,
            cnx_timeout: cfg.cnx_timeout,
            tls: cfg.tls,
            sasl: cfg.sasl,
            local_addr,
            runtime: Handle::current(),
            state: Mutex::new(State {
                shut: false,
                peers: peers.collect(),
                tasks: JoinSet::new(),
                recv_tx: Some(recv_tx),
                observer_counter: -1,
                next_link_id: 1,
                links_opened: 0,
                dials_completed: 0,
                headers_read: 0,
                accepts: 0,
            }),
            handshakes_in_flight: AtomicUsize::new(0),
        });
        {
            let mut st = shared.lock();
            shared.spawn(&mut st, listen::accept_loop(shared.clone(), listener));
        }
        tracing::info!(my_id = shared.my_id, listen = %local_addr, "election port listening");
        let guard = Arc::new(ShutdownOnDrop(shared.clone()));
        Ok((Qcm { shared, _guard: guard }, recv_rx))
    }

    /// Queues `msg` for `sid`, replacing a message still waiting for that peer, and connects to
    /// the peer if there is no connection. Never blocks. A message for our own sid goes straight
    /// to the receiver (dropped, with a warning, if the receiver is full). Empty or oversized
    /// messages, and messages for an unknown sid without a connection, are dropped with a warning.
    pub fn send(&self, sid: i64, msg: Vec<u8>) {
        let sh = &self.shared;
        if msg.is_empty() || msg.len() > FRAME_BYTES_MAX {
            tracing::warn!(sid, len = msg.len(), "not sending an election message of this size");
            return;
        }
        let mut st = sh.lock();
        if st.shut {
            return;
        }
        if sid == sh.my_id {
            if let Some(tx) = &st.recv_tx
                && tx.try_send((sid, msg)).is_err()
            {
                tracing::warn!(sid, "receive queue full; dropping a message to self");
            }
            return;
        }
        let Some(peer) = st.peers.get_mut(&sid) else {
            tracing::warn!(sid, "no election address nor connection for this server id; message dropped");
            return;
        };
        peer.pending = Some(Bytes::from(msg));
        if let Some(link) = &peer.link {
            link.wake.notify_one();
        } else {
            dial::ensure_dialer(sh, &mut st, sid, None);
        }
    }

    /// Sids with a live connection, in order.
    pub fn connected(&self) -> Vec<i64> {
        let st = self.shared.lock();
        st.peers.iter().filter(|(_, p)| p.link.is_some()).map(|(sid, _)| *sid).collect()
    }

    /// The address the election port listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Closes the listener and every connection and stops dialing; later sends are ignored and
    /// the receiver ends once the tasks are gone. Idempotent.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }
}

/// Shuts the transport down when the last [`Qcm`] clone goes (the tasks hold only `Shared`).
struct ShutdownOnDrop(Arc<Shared>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// What the tasks share. The lock is never held across an await.
struct Shared {
    my_id: i64,
    my_addr_text: String,
    cnx_timeout: Duration,
    tls: Option<Arc<QuorumTls>>,
    sasl: Option<super::sasl::QuorumSasl>,
    local_addr: SocketAddr,
    runtime: Handle,
    state: Mutex<State>,
    /// Incoming connections whose header is being read (kept outside the lock so that a drop
    /// guard can give a slot back).
    handshakes_in_flight: AtomicUsize,
}

struct State {
    shut: bool,
    peers: BTreeMap<i64, Peer>,
    /// Every task (listener, handshakes, dialers, links), for abort on shutdown.
    tasks: JoinSet<()>,
    /// `None` after shutdown, so the receiver ends when the last link task is gone.
    recv_tx: Option<mpsc::Sender<(i64, Vec<u8>)>>,
    /// Next id for an anonymous observer (`QuorumCnxManager.observerCounter`).
    observer_counter: i64,
    next_link_id: u64,
    /// Connections ever registered (tests use it to see that the pairs stay put).
    links_opened: u64,
    /// Dials that got as far as writing our header, and headers read from peers: once every
    /// dial of each side has been read by the other, the pair has settled (tests).
    dials_completed: u64,
    headers_read: u64,
    /// Connections accepted, numbering them in accept order (see `Link::accepted`).
    accepts: u64,
}

/// Everything about one peer.
struct Peer {
    /// From the configuration; `None` for a sid that connected without being configured.
    configured_addr: Option<SocketAddr>,
    /// From the peer's header, used when there is no configured address.
    learned_addr: Option<SocketAddr>,
    /// The send queue of capacity one.
    pending: Option<Bytes>,
    /// `lastMessageSent`.
    last_sent: Option<Bytes>,
    link: Option<Link>,
    dialer: Dialer,
}

impl Peer {
    fn new(configured_addr: Option<SocketAddr>) -> Peer {
        Peer {
            configured_addr,
            learned_addr: None,
            pending: None,
            last_sent: None,
            link: None,
            dialer: Dialer { running: false, dial_back: None, kick: Arc::new(Notify::new()) },
        }
    }

    fn addr(&self) -> Option<SocketAddr> {
        self.configured_addr.or(self.learned_addr)
    }

    /// A peer entry nobody needs any more (an unconfigured sid whose connection ended).
    fn is_forgettable(&self) -> bool {
        self.configured_addr.is_none()
            && self.link.is_none()
            && self.pending.is_none()
            && !self.dialer.running
    }
}

/// The live connection to a peer.
struct Link {
    id: u64,
    /// For an accepted connection, its number in accept order. Headers are read concurrently,
    /// so an older connection's header can be read after a newer one's; the older one must not
    /// replace the newer (its peer has already given it up), or both ends would be left with a
    /// dead connection each and nothing to redial. Dialed links need no number: one dialer per
    /// peer makes them in order.
    accepted: Option<u64>,
    abort: AbortHandle,
    /// Wakes the link's writer when a message is queued.
    wake: Arc<Notify>,
    local: SocketAddr,
    remote: SocketAddr,
}

/// The dialing task of a peer (at most one).
struct Dialer {
    running: bool,
    /// A connection from this (smaller) sid was refused: dial back at once, even with nothing
    /// to send, at the address its header gave if any.
    dial_back: Option<DialBack>,
    /// Cuts the dialer's backoff short for a dial back.
    kick: Arc<Notify>,
}

#[derive(Debug, Clone, Copy)]
struct DialBack {
    addr: Option<SocketAddr>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; carry on with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Spawns a task that shutdown aborts, reaping the ones that ended.
    fn spawn<F>(&self, st: &mut State, task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        while st.tasks.try_join_next().is_some() {}
        st.tasks.spawn_on(task, &self.runtime)
    }

    fn shutdown(&self) {
        let mut st = self.lock();
        if st.shut {
            return;
        }
        st.shut = true;
        st.tasks.abort_all();
        st.recv_tx = None;
        for peer in st.peers.values_mut() {
            peer.link = None;
            peer.pending = None;
        }
        tracing::info!(my_id = self.my_id, "election port shut down");
    }

    /// Closes the link to `sid`, if any (its task is aborted, which drops the socket).
    fn drop_link(&self, st: &mut State, sid: i64, why: &'static str) {
        if let Some(link) = st.peers.get_mut(&sid).and_then(|p| p.link.take()) {
            link.abort.abort();
            tracing::info!(my_id = self.my_id, sid, remote = %link.remote, local = %link.local, why, "election connection closed");
        }
    }
}
