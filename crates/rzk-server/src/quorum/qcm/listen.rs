//! The election port's listener (`Listener` + `handleConnection`): accept, read the header
//! within `cnxTimeout`, then keep the connection if it comes from a larger sid, or close it and
//! dial back if it comes from a smaller one. A bad header closes the socket and the listener
//! carries on.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::super::sasl::{Admitted, serve_async};
use super::super::tls::Accepted;
use super::wire::{self, InitialMessage, OBSERVER_ID};
use super::{Conn, DialBack, HANDSHAKES_IN_FLIGHT_MAX, Peer, Shared, dial, link};

/// `ServerSocket`'s default backlog, as ZooKeeper's listener uses.
const LISTEN_BACKLOG: i32 = 50;
/// Pause after a failed accept (out of file descriptors, ...) so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Binds `addr` with SO_REUSEADDR, as ZooKeeper does (a restarted server gets its port back
/// while old connections linger in TIME_WAIT).
pub(super) fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let s = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    s.bind(&addr.into())?;
    s.listen(LISTEN_BACKLOG)?;
    Ok(s.into())
}

pub(super) async fn accept_loop(sh: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => admit(&sh, stream, remote),
            Err(error) => {
                tracing::warn!(my_id = sh.my_id, %error, "election port accept failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

fn admit(sh: &Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    let Some(slot) = InFlight::take(sh) else {
        tracing::warn!(my_id = sh.my_id, %remote, "too many election handshakes in progress; closing");
        return;
    };
    let mut st = sh.lock();
    if !st.shut {
        st.accepts += 1;
        let seq = st.accepts;
        sh.spawn(&mut st, handshake(sh.clone(), stream, remote, seq, slot));
    }
}

/// One handshake slot, given back on drop (also when the task is aborted).
struct InFlight(Arc<Shared>);

impl InFlight {
    fn take(sh: &Arc<Shared>) -> Option<InFlight> {
        let prev = sh.handshakes_in_flight.fetch_add(1, Ordering::AcqRel);
        if prev >= HANDSHAKES_IN_FLIGHT_MAX {
            sh.handshakes_in_flight.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InFlight(sh.clone()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.handshakes_in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The connection as the peer speaks it: TLS (`sslQuorum`, or a TLS first byte with
/// `portUnification`) or plaintext. The error says why the peer was refused.
async fn open(sh: &Shared, stream: TcpStream) -> Result<Conn, String> {
    let Some(tls) = &sh.tls else { return Conn::plain(stream).map_err(|e| e.to_string()) };
    let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => return Err(e.to_string()),
    };
    match tls.accept(stream).await? {
        Accepted::Plain(s) => Conn::plain(s).map_err(|e| e.to_string()),
        Accepted::Tls(s) => Ok(Conn::tls(s, local, remote)),
    }
}

async fn handshake(sh: Arc<Shared>, stream: TcpStream, remote: SocketAddr, seq: u64, slot: InFlight) {
    let _ = stream.set_nodelay(true);
    let conn = match tokio::time::timeout(sh.cnx_timeout, open(&sh, stream)).await {
        Ok(Ok(c)) => c,
        Ok(Err(reason)) => {
            tracing::warn!(my_id = sh.my_id, %remote, %reason, "election connection refused");
            return;
        }
        Err(_) => {
            tracing::warn!(my_id = sh.my_id, %remote, timeout = ?sh.cnx_timeout, "no TLS handshake on the election connection in time; closing");
            return;
        }
    };
    let mut conn = conn;
    let header = match tokio::time::timeout(sh.cnx_timeout, wire::read_initial(&mut conn.rd)).await {
        Ok(Ok(h)) => h,
        Ok(Err(error)) => {
            tracing::warn!(my_id = sh.my_id, %remote, %error, "bad election connection header; closing");
            return;
        }
        Err(_) => {
            tracing::warn!(my_id = sh.my_id, %remote, timeout = ?sh.cnx_timeout, "no election connection header in time; closing");
            return;
        }
    };
    if let Some(sasl) = &sh.sasl {
        // `handleConnection`: `authServer.authenticate` after the header.
        match tokio::time::timeout(sh.cnx_timeout, serve_async(sasl, &mut conn.rd, &mut conn.wr)).await {
            Ok(Ok(Admitted::User(user))) => {
                tracing::info!(my_id = sh.my_id, %remote, sid = header.sid, %user, "quorum SASL: peer authenticated");
            }
            Ok(Ok(Admitted::NotAttempted(prefix))) => {
                tracing::debug!(my_id = sh.my_id, %remote, sid = header.sid, "quorum SASL: peer did not authenticate (not required)");
                if !prefix.is_empty() {
                    let rest = std::mem::replace(&mut conn.rd, BufReader::new(Box::new(tokio::io::empty())));
                    conn.rd = BufReader::new(Box::new(std::io::Cursor::new(prefix).chain(rest)));
                }
            }
            Ok(Ok(Admitted::FailedAllowed(why))) => {
                tracing::warn!(my_id = sh.my_id, %remote, sid = header.sid, %why, "quorum SASL authentication failed; keeping the connection as quorum.auth.serverRequireSasl=false");
            }
            Ok(Err(why)) => {
                tracing::error!(my_id = sh.my_id, %remote, sid = header.sid, %why, "quorum SASL: peer refused; closing");
                return;
            }
            Err(_) => {
                tracing::warn!(my_id = sh.my_id, %remote, sid = header.sid, timeout = ?sh.cnx_timeout, "quorum SASL exchange not finished in time; closing");
                return;
            }
        }
    }
    let addr = resolve(&header, sh.cnx_timeout).await;
    drop(slot);
    on_header(&sh, header, addr, seq, conn);
}

/// The first usable address of the header (`InitialMessage.parse` drops wildcard addresses).
async fn resolve(header: &InitialMessage, timeout: Duration) -> Option<SocketAddr> {
    for (host, port) in &header.addrs {
        let addr = match host.parse::<IpAddr>() {
            Ok(ip) => Some(SocketAddr::new(ip, *port)),
            Err(_) => {
                match tokio::time::timeout(timeout, tokio::net::lookup_host((host.as_str(), *port))).await {
                    Ok(Ok(mut addrs)) => addrs.next(),
                    _ => None,
                }
            }
        };
        if let Some(a) = addr.filter(|a| !a.ip().is_unspecified()) {
            return Some(a);
        }
    }
    None
}

fn on_header(sh: &Arc<Shared>, header: InitialMessage, addr: Option<SocketAddr>, seq: u64, conn: Conn) {
    let mut st = sh.lock();
    if st.shut {
        return;
    }
    st.headers_read += 1;
    let mut sid = header.sid;
    if sid == OBSERVER_ID {
        sid = st.observer_counter;
        st.observer_counter -= 1;
        tracing::info!(my_id = sh.my_id, sid, "anonymous observer given an id");
    }
    if sid == sh.my_id {
        // ZOOKEEPER-2164: a configuration error, or a bug.
        tracing::warn!(my_id = sh.my_id, "election connection from a server with our own id; closing");
        return;
    }
    let peer = st.peers.entry(sid).or_insert_with(|| Peer::new(None));
    if peer.configured_addr.is_none() && addr.is_some() {
        peer.learned_addr = addr;
    }
    if sid < sh.my_id {
        // It may believe our old connection is gone: drop that one too, then dial back.
        tracing::debug!(my_id = sh.my_id, sid, "election connection from a smaller sid; dialing back");
        sh.drop_link(&mut st, sid, "the peer connected again");
        drop(conn);
        dial::ensure_dialer(sh, &mut st, sid, Some(DialBack { addr }));
    } else {
        link::register(sh, &mut st, sid, conn, Some(seq));
    }
}
