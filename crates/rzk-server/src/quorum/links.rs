//! Connections on the quorum port: the listener that accepts learners (used while leading;
//! connections that arrive earlier wait in the core), one reader and one writer thread per
//! learner, and the learner's own connection to its leader (dialled with retries until
//! `initLimit` ticks have passed, as `Learner.connectToLeader` does).
//!
//! Packets read go to the core as [`CoreMsg::Peer`]; the leader link's are tagged with the
//! link's generation so that a stale connection's last packets are dropped.
//!
//! With quorum TLS ([`super::tls`]) a learner's connection is upgraded on its own thread before
//! it is served (the accept thread never waits for a handshake), the leader link after it
//! connects; the threads then talk through a [`tunnel`] to the TLS stream.
//!
//! With quorum SASL ([`super::sasl`]) the leader authenticates a learner on that thread too
//! (`LearnerHandler`'s constructor), and a learner authenticates right after connecting
//! (`Learner.connectToLeader`), before any packet.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as smpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rzk_node::PeerInput;
use rzk_proto::QuorumPacket;
use rzk_tree::snapshot::TreeBody;
use rzk_zab::leader::LearnerId;
use rzk_zab::packet;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::sasl::{self, Admitted, QuorumSasl};
use super::stream;
use super::tls::{Accepted, QuorumTls};
use super::tunnel::{QuorumStream, tunnel};
use crate::core::CoreMsg;
use crate::tls::TLS_HANDSHAKE_TIMEOUT;

/// Pause between attempts to reach the leader (`Learner.connectToLeader` sleeps 1 s).
pub const LEADER_DIAL_RETRY: Duration = Duration::from_millis(500);

/// What a connection's writer thread is told.
enum WireOut {
    Packet(QuorumPacket),
    /// A SNAP's body: the frozen tree, serialized as it is written, then the signature.
    Snapshot(TreeBody),
    Close,
}

struct Writer {
    tx: smpsc::Sender<WireOut>,
    stream: QuorumStream,
}

#[derive(Default)]
struct Shared {
    learners: HashMap<LearnerId, Writer>,
    leader: Option<(u64, Writer)>,
}

/// The quorum port's connections.
#[derive(Clone)]
pub struct Links {
    shared: Arc<Mutex<Shared>>,
    core: mpsc::Sender<CoreMsg>,
    next_learner: Arc<AtomicU64>,
    leader_gen: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
    /// Quorum TLS, if configured, and the runtime its handshakes and pumps run on.
    tls: Option<Arc<QuorumTls>>,
    rt: Handle,
    /// Quorum SASL, and how long one exchange may take (`initLimit` ticks, the leader's
    /// learner socket timeout).
    sasl: Option<QuorumSasl>,
    sasl_timeout: Duration,
}

impl Links {
    pub fn new(core: mpsc::Sender<CoreMsg>, tls: Option<Arc<QuorumTls>>, rt: Handle) -> Links {
        Links {
            shared: Arc::default(),
            core,
            next_learner: Arc::new(AtomicU64::new(1)),
            leader_gen: Arc::new(AtomicU64::new(0)),
            stopped: Arc::default(),
            tls,
            rt,
            sasl: None,
            sasl_timeout: TLS_HANDSHAKE_TIMEOUT,
        }
    }

    /// Quorum SASL on this port's connections.
    pub fn with_sasl(mut self, sasl: Option<QuorumSasl>, timeout: Duration) -> Links {
        self.sasl = sasl;
        self.sasl_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Accepts learners on `listener` (a thread) until [`stop`](Self::stop).
    pub fn serve_learners(&self, listener: TcpListener) -> std::io::Result<()> {
        let links = self.clone();
        std::thread::Builder::new().name("rzk-quorum-accept".into()).spawn(move || {
            for s in listener.incoming() {
                if links.stopped.load(Ordering::Relaxed) {
                    return;
                }
                match s {
                    Ok(stream) => links.learner_accepted(stream),
                    Err(e) => {
                        tracing::warn!(error = %e, "quorum port accept failed");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        })?;
        Ok(())
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Ok(mut s) = self.shared.lock() {
            for (_, w) in s.learners.drain() {
                let _ = w.stream.shutdown(Shutdown::Both);
            }
            if let Some((_, w)) = s.leader.take() {
                let _ = w.stream.shutdown(Shutdown::Both);
            }
        }
    }

    fn learner_accepted(&self, stream: TcpStream) {
        let id = self.next_learner.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(id, %peer, "learner connected to the quorum port");
        if self.tls.is_none() && self.sasl.is_none() {
            self.serve_learner(id, QuorumStream::Plain(stream), Vec::new());
            return;
        }
        let links = self.clone();
        let spawned = std::thread::Builder::new().name(format!("rzk-learner-{id}-auth")).spawn(move || {
            let s = match &links.tls {
                None => QuorumStream::Plain(stream),
                Some(tls) => match links.accept_tls(tls, stream) {
                    Ok(s) => s,
                    Err(reason) => {
                        tracing::warn!(id, %peer, %reason, "learner connection refused");
                        return;
                    }
                },
            };
            match links.authenticate_learner(id, &peer, &s) {
                Some(prefix) => links.serve_learner(id, s, prefix),
                None => {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
        });
        if spawned.is_err() {
            tracing::warn!(id, "cannot start a thread for a learner's TLS handshake");
        }
    }

    /// `SaslQuorumAuthServer.authenticate` on a learner's connection: `None` refuses it, else the
    /// bytes read that belong to the learner's first packet.
    fn authenticate_learner(&self, id: LearnerId, peer: &str, s: &QuorumStream) -> Option<Vec<u8>> {
        let Some(cfg) = &self.sasl else { return Some(Vec::new()) };
        let mut io = s.try_clone().ok()?;
        let _ = s.set_read_timeout(Some(self.sasl_timeout));
        let outcome = sasl::serve_blocking(cfg, &mut io);
        let _ = s.set_read_timeout(None);
        match outcome {
            Ok(Admitted::User(user)) => {
                tracing::info!(id, %peer, %user, "quorum SASL: learner authenticated");
                Some(Vec::new())
            }
            Ok(Admitted::NotAttempted(prefix)) => Some(prefix),
            Ok(Admitted::FailedAllowed(why)) => {
                tracing::warn!(id, %peer, %why, "quorum SASL authentication failed; keeping the learner connection as quorum.auth.serverRequireSasl=false");
                Some(Vec::new())
            }
            Err(why) => {
                tracing::error!(id, %peer, %why, "Server failed to authenticate quorum learner; closing connection");
                None
            }
        }
    }

    /// The listener's side of quorum TLS on a learner's connection, within
    /// [`TLS_HANDSHAKE_TIMEOUT`]; the error says why the learner was refused.
    fn accept_tls(&self, tls: &QuorumTls, stream: TcpStream) -> Result<QuorumStream, String> {
        stream.set_nonblocking(true).map_err(|e| e.to_string())?;
        let accepted = self.rt.block_on(async {
            let s = tokio::net::TcpStream::from_std(stream).map_err(|e| e.to_string())?;
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(s)).await {
                Ok(r) => r,
                Err(_) => Err(format!("TLS handshake not finished within {TLS_HANDSHAKE_TIMEOUT:?}")),
            }
        })?;
        match accepted {
            Accepted::Plain(s) => {
                let s = s.into_std().map_err(|e| e.to_string())?;
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                Ok(QuorumStream::Plain(s))
            }
            Accepted::Tls(t) => tunnel(&self.rt, t).map_err(|e| e.to_string()),
        }
    }

    /// Connects to `addr`: TCP, then TLS with `sslQuorum`, each within `timeout`.
    fn dial(&self, addr: SocketAddr, timeout: Duration) -> std::io::Result<QuorumStream> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        let _ = stream.set_nodelay(true);
        let Some(tls) = self.tls.as_ref().filter(|t| t.dials_tls()) else {
            return Ok(QuorumStream::Plain(stream));
        };
        stream.set_nonblocking(true)?;
        let secured = self.rt.block_on(async {
            let s = tokio::net::TcpStream::from_std(stream)?;
            match tokio::time::timeout(timeout, tls.connect(s)).await {
                Ok(r) => r,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("TLS handshake with {addr} not finished within {timeout:?}"),
                )),
            }
        })?;
        tunnel(&self.rt, secured)
    }

    /// Registers a learner's connection with the core and starts its reader and writer.
    fn serve_learner(&self, id: LearnerId, stream: QuorumStream, prefix: Vec<u8>) {
        let (Ok(read_half), Ok(write_half), Ok(keep)) =
            (stream.try_clone(), stream.try_clone(), stream.try_clone())
        else {
            return;
        };
        let tx = spawn_writer(write_half, format!("rzk-learner-{id}-out"));
        if let Ok(mut s) = self.shared.lock() {
            s.learners.insert(id, Writer { tx, stream: keep });
        }
        if self.core.blocking_send(CoreMsg::Peer(PeerInput::LearnerAccepted { id })).is_err() {
            return;
        }
        let links = self.clone();
        let spawned = std::thread::Builder::new().name(format!("rzk-learner-{id}-in")).spawn(move || {
            let mut r = BufReader::with_capacity(64 * 1024, Cursor::new(prefix).chain(read_half));
            loop {
                match stream::read_packet(&mut r) {
                    Ok(packet) => {
                        tracing::trace!(id, packet = rzk_zab::packet::name(packet.packet_type), zxid = %format!("0x{:x}", packet.zxid), "from learner");
                        if links.core.blocking_send(CoreMsg::Peer(PeerInput::FromLearner { id, packet })).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::info!(id, error = %e, "learner connection ended");
                        break;
                    }
                }
            }
            links.forget_learner(id);
            let _ = links.core.blocking_send(CoreMsg::Peer(PeerInput::LearnerClosed { id }));
        });
        if spawned.is_err() {
            self.forget_learner(id);
        }
    }

    fn forget_learner(&self, id: LearnerId) {
        if let Ok(mut s) = self.shared.lock()
            && let Some(w) = s.learners.remove(&id)
        {
            let _ = w.tx.send(WireOut::Close);
            let _ = w.stream.shutdown(Shutdown::Both);
        }
    }

    pub fn to_learner(&self, id: LearnerId, packet: QuorumPacket) {
        self.learner_send(id, WireOut::Packet(packet));
    }

    pub fn to_learner_snapshot(&self, id: LearnerId, body: TreeBody) {
        self.learner_send(id, WireOut::Snapshot(body));
    }

    fn learner_send(&self, id: LearnerId, w: WireOut) {
        if let Ok(s) = self.shared.lock()
            && let Some(writer) = s.learners.get(&id)
        {
            let _ = writer.tx.send(w);
        }
    }

    pub fn close_learner(&self, id: LearnerId) {
        self.forget_learner(id);
    }

    /// The generation of the current leader link (messages of older ones are stale).
    pub fn leader_generation(&self) -> u64 {
        self.leader_gen.load(Ordering::Relaxed)
    }

    /// Dials the leader at `addr`, retrying until `deadline`; reports `LeaderConnected` or
    /// `LeaderConnectFailed`, then the leader's packets, then `LeaderClosed`.
    pub fn connect_leader(&self, addr: SocketAddr, give_up_after: Duration, connect_timeout: Duration) {
        self.disconnect_leader();
        let generation = self.leader_gen.fetch_add(1, Ordering::Relaxed) + 1;
        let links = self.clone();
        let send = move |links: &Links, input: PeerInput| {
            links.core.blocking_send(CoreMsg::LeaderLink { generation, input }).is_ok()
        };
        let spawned = std::thread::Builder::new().name("rzk-leader-link".into()).spawn(move || {
            let deadline = Instant::now() + give_up_after;
            let stream = loop {
                if links.leader_gen.load(Ordering::Relaxed) != generation || links.stopped.load(Ordering::Relaxed) {
                    return;
                }
                match links.dial(addr, connect_timeout) {
                    Ok(s) => break s,
                    Err(e) => {
                        if Instant::now() + LEADER_DIAL_RETRY >= deadline {
                            tracing::warn!(%addr, error = %e, "cannot connect to the leader; giving up");
                            send(&links, PeerInput::LeaderConnectFailed);
                            return;
                        }
                        tracing::info!(%addr, error = %e, "cannot connect to the leader yet; retrying");
                        std::thread::sleep(LEADER_DIAL_RETRY);
                    }
                }
            };
            if let Some(cfg) = links.sasl.as_ref().filter(|c| c.learner_required) {
                let mut io = stream.try_clone();
                let _ = stream.set_read_timeout(Some(links.sasl_timeout));
                let outcome = match &mut io {
                    Ok(io) => sasl::learn_blocking(cfg, io),
                    Err(e) => Err(e.to_string()),
                };
                let _ = stream.set_read_timeout(None);
                if let Err(why) = outcome {
                    tracing::error!(%addr, %why, "quorum SASL authentication with the leader failed");
                    let _ = stream.shutdown(Shutdown::Both);
                    send(&links, PeerInput::LeaderConnectFailed);
                    return;
                }
                tracing::info!(%addr, "quorum SASL: authenticated to the leader");
            }
            let (Ok(read_half), Ok(write_half), Ok(keep)) = (stream.try_clone(), stream.try_clone(), stream.try_clone())
            else {
                send(&links, PeerInput::LeaderConnectFailed);
                return;
            };
            let tx = spawn_writer(write_half, "rzk-leader-out".into());
            if let Ok(mut s) = links.shared.lock() {
                if links.leader_gen.load(Ordering::Relaxed) != generation {
                    let _ = keep.shutdown(Shutdown::Both);
                    return;
                }
                s.leader = Some((generation, Writer { tx, stream: keep }));
            }
            tracing::info!(%addr, "connected to the leader");
            if !send(&links, PeerInput::LeaderConnected) {
                return;
            }
            let mut r = BufReader::with_capacity(256 * 1024, read_half);
            loop {
                match stream::read_from_leader(&mut r) {
                    Ok(p) => {
                        tracing::trace!(packet = rzk_zab::packet::name(p.packet_type), zxid = %format!("0x{:x}", p.zxid), "from leader");
                        if !send(&links, PeerInput::FromLeader(p)) {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "connection to the leader ended");
                        break;
                    }
                }
            }
            send(&links, PeerInput::LeaderClosed);
        });
        if spawned.is_err() {
            tracing::error!("cannot start the leader link thread");
        }
    }

    pub fn disconnect_leader(&self) {
        self.leader_gen.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.shared.lock()
            && let Some((_, w)) = s.leader.take()
        {
            let _ = w.tx.send(WireOut::Close);
            let _ = w.stream.shutdown(Shutdown::Both);
        }
    }

    pub fn to_leader(&self, packet: QuorumPacket) {
        if let Ok(s) = self.shared.lock()
            && let Some((_, w)) = &s.leader
        {
            let _ = w.tx.send(WireOut::Packet(packet));
        }
    }
}

/// Bytes of a SNAP body serialized at a time (the body of a big tree is never whole in memory).
const SNAP_BODY_PART_BYTES: usize = 1 << 20;

fn write_snapshot_body(w: &mut impl Write, body: TreeBody) -> std::io::Result<()> {
    body.write_to(w, SNAP_BODY_PART_BYTES)?;
    let mut signature = Vec::with_capacity(16);
    rzk_proto::jute::put_ustring(&mut signature, packet::SNAP_SIGNATURE);
    w.write_all(&signature)
}

/// A writer thread: packets in order, flushed whenever the queue runs dry.
fn spawn_writer(stream: QuorumStream, name: String) -> smpsc::Sender<WireOut> {
    let (tx, rx) = smpsc::channel::<WireOut>();
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let mut w = BufWriter::with_capacity(256 * 1024, stream);
        let mut next = rx.recv();
        while let Ok(item) = next {
            let r = match item {
                WireOut::Packet(p) => stream::write_packet(&mut w, &p),
                WireOut::Snapshot(body) => write_snapshot_body(&mut w, body),
                WireOut::Close => {
                    let _ = w.flush();
                    let _ = w.get_ref().shutdown(Shutdown::Both);
                    return;
                }
            };
            if r.is_err() {
                let _ = w.get_ref().shutdown(Shutdown::Both);
                return;
            }
            next = match rx.try_recv() {
                Ok(item) => Ok(item),
                Err(_) => {
                    if w.flush().is_err() {
                        let _ = w.get_ref().shutdown(Shutdown::Both);
                        return;
                    }
                    rx.recv()
                }
            };
        }
    });
    if spawned.is_err() {
        tracing::error!("cannot start a quorum writer thread");
    }
    tx
}
