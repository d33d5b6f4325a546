//! Dialing a peer (`connectOne` / `initiateConnection`): connect within `cnxTimeout`, write our
//! header, then keep the connection if we have the larger sid, or close it and let the peer dial
//! back. A peer's dialer runs while a message waits for it and there is no connection, pausing
//! with a doubling backoff between attempts; a dial back (a refused connection from a smaller
//! sid) makes it try at once even with nothing to send.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::wire::encode_initial;
use super::{Conn, DIAL_BACKOFF_MAX, DIAL_BACKOFF_MIN, DialBack, Shared, State, link};

/// Starts the dialer of `sid` unless it runs; a `dial_back` is recorded and wakes a running one.
pub(super) fn ensure_dialer(sh: &Arc<Shared>, st: &mut State, sid: i64, dial_back: Option<DialBack>) {
    if st.shut {
        return;
    }
    let Some(peer) = st.peers.get_mut(&sid) else { return };
    if dial_back.is_some() {
        peer.dialer.dial_back = dial_back;
    }
    if peer.dialer.running {
        if dial_back.is_some() {
            peer.dialer.kick.notify_one();
        }
        return;
    }
    peer.dialer.running = true;
    let kick = peer.dialer.kick.clone();
    sh.spawn(st, dial_loop(sh.clone(), sid, kick));
}

async fn dial_loop(sh: Arc<Shared>, sid: i64, kick: Arc<Notify>) {
    let mut backoff = DIAL_BACKOFF_MIN;
    let mut failures = 0u32;
    let mut last_error: Option<String> = None;
    while let Some(addr) = next_target(&sh, sid) {
        match tokio::time::timeout(sh.cnx_timeout, connect(&sh, addr)).await {
            Ok(Ok(conn)) => {
                failures = 0;
                last_error = None;
                sh.lock().dials_completed += 1;
                if sh.my_id > sid {
                    let mut st = sh.lock();
                    if !st.shut {
                        link::register(&sh, &mut st, sid, conn, None);
                    }
                } else {
                    // Only the larger sid keeps a connection; the peer dials back.
                    tracing::debug!(my_id = sh.my_id, sid, "dialed a larger sid; closing, it dials back");
                }
            }
            Ok(Err(error)) => {
                failures += 1;
                // Each new reason is worth a warning (a peer that was down may now refuse our
                // certificate); the same one again is not.
                let reason = error.to_string();
                let new_reason = last_error.as_deref() != Some(reason.as_str());
                last_error = Some(reason);
                if new_reason {
                    tracing::warn!(my_id = sh.my_id, sid, %addr, %error, "cannot open election connection; retrying");
                } else {
                    tracing::debug!(my_id = sh.my_id, sid, %addr, %error, failures, "cannot open election connection");
                }
            }
            Err(_) => {
                failures += 1;
                tracing::warn!(my_id = sh.my_id, sid, %addr, timeout = ?sh.cnx_timeout, "election connect timed out");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = kick.notified() => {}
        }
        backoff = (backoff * 2).min(DIAL_BACKOFF_MAX);
    }
}

/// Where to dial next, or `None` (and the dialer marked stopped) when there is no reason to.
fn next_target(sh: &Shared, sid: i64) -> Option<SocketAddr> {
    let mut st = sh.lock();
    let shut = st.shut;
    let peer = st.peers.get_mut(&sid)?;
    let mut target = None;
    if !shut && peer.link.is_none() {
        let back = peer.dialer.dial_back.take();
        target =
            back.and_then(|b| b.addr).or(peer.addr()).filter(|_| back.is_some() || peer.pending.is_some());
        if target.is_none() && (back.is_some() || peer.pending.is_some()) {
            // Java: "Invalid server id".
            tracing::warn!(my_id = sh.my_id, sid, "no election address for this server id");
        }
    }
    if target.is_none() {
        peer.dialer.running = false;
        peer.dialer.dial_back = None;
        if peer.is_forgettable() {
            st.peers.remove(&sid);
        }
    }
    target
}

/// Connects, runs the TLS handshake with `sslQuorum`, writes our header, and authenticates with
/// `quorum.auth.learnerRequireSasl` (`startConnection`: `authLearner.authenticate` right after
/// the header, whichever sid keeps the connection).
async fn connect(sh: &Shared, addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut conn = match sh.tls.as_ref().filter(|t| t.dials_tls()) {
        None => Conn::plain(stream)?,
        Some(tls) => {
            let (local, remote) = (stream.local_addr()?, stream.peer_addr()?);
            Conn::tls(tls.connect(stream).await?, local, remote)
        }
    };
    conn.wr.write_all(&encode_initial(sh.my_id, &sh.my_addr_text)).await?;
    conn.wr.flush().await?;
    if let Some(sasl) = sh.sasl.as_ref().filter(|s| s.learner_required) {
        super::super::sasl::learn_async(sasl, &mut conn.rd, &mut conn.wr)
            .await
            .map_err(|why| std::io::Error::other(format!("quorum SASL authentication failed: {why}")))?;
        tracing::info!(my_id = sh.my_id, %addr, "quorum SASL: authenticated to the peer");
    }
    Ok(conn)
}
