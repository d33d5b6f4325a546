//! One live connection to a peer (`SendWorker` + `RecvWorker`): a reader that hands each message
//! to the receiver, waiting while the receiver is full, and a writer that sends the peer's queued
//! message whenever there is one. A new link with nothing queued first re-sends the last message
//! the peer was sent. Either side failing (EOF, I/O error, a bad length) ends the link; a link
//! replaced by a newer one is aborted.

use std::io;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, mpsc};

use super::wire::{encode_frame, read_frame};
use super::{Conn, Link, Peer, PeerRead, PeerWrite, Shared, State, dial};

/// Makes `conn` the connection to `sid`, closing the one it had, unless this one was
/// accepted before the one it had (then this one is closed). `accepted` is the accept number of
/// an accepted connection, `None` for one we dialed.
pub(super) fn register(sh: &Arc<Shared>, st: &mut State, sid: i64, conn: Conn, accepted: Option<u64>) {
    let Conn { rd, wr, local, remote } = conn;
    let Some(recv_tx) = st.recv_tx.clone() else {
        return; // Shut down.
    };
    let current = st.peers.get(&sid).and_then(|p| p.link.as_ref()).and_then(|l| l.accepted);
    if let (Some(new), Some(cur)) = (accepted, current)
        && new < cur
    {
        tracing::debug!(my_id = sh.my_id, sid, %remote, "closing an election connection older than the current one");
        return;
    }
    sh.drop_link(st, sid, "replaced by a new connection");
    let id = st.next_link_id;
    st.next_link_id += 1;
    st.links_opened += 1;
    let wake = Arc::new(Notify::new());
    let abort = sh.spawn(st, run(sh.clone(), sid, id, rd, wr, wake.clone(), recv_tx));
    let peer = st.peers.entry(sid).or_insert_with(|| Peer::new(None));
    peer.link = Some(Link { id, accepted, abort, wake, local, remote });
    let origin = if accepted.is_some() { "accepted" } else { "dialed" };
    tracing::info!(my_id = sh.my_id, sid, %remote, %local, origin, "election connection up");
}

/// Why a link's loop ended.
enum End {
    Io(io::Error),
    /// A newer link took over (the abort is on its way).
    Superseded,
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> End {
        End::Io(e)
    }
}

async fn run(
    sh: Arc<Shared>,
    sid: i64,
    id: u64,
    mut rd: PeerRead,
    mut wr: PeerWrite,
    wake: Arc<Notify>,
    recv_tx: mpsc::Sender<(i64, Vec<u8>)>,
) {
    let end = tokio::select! {
        e = read_loop(sid, &mut rd, &recv_tx) => End::Io(e),
        e = write_loop(&sh, sid, id, &mut wr, &wake) => e,
    };
    let End::Io(error) = end else { return };
    let mut st = sh.lock();
    let Some(peer) = current(&mut st, sid, id) else { return };
    peer.link = None;
    let waiting = peer.pending.is_some();
    let forgettable = peer.is_forgettable();
    tracing::info!(my_id = sh.my_id, sid, %error, "election connection closed");
    if waiting {
        dial::ensure_dialer(&sh, &mut st, sid, None);
    } else if forgettable {
        st.peers.remove(&sid);
    }
}

/// The peer whose link is still `id`.
fn current(st: &mut State, sid: i64, id: u64) -> Option<&mut Peer> {
    st.peers.get_mut(&sid).filter(|p| p.link.as_ref().is_some_and(|l| l.id == id))
}

async fn read_loop(sid: i64, rd: &mut PeerRead, recv_tx: &mpsc::Sender<(i64, Vec<u8>)>) -> io::Error {
    loop {
        match read_frame(rd).await {
            // A send error means the consumer is gone: the message has nowhere to go.
            Ok(msg) => {
                let _ = recv_tx.send((sid, msg)).await;
            }
            Err(e) => return e,
        }
    }
}

/// Writes one framed message and flushes it (a no-op on TCP; TLS may hold bytes back).
async fn write_message(wr: &mut PeerWrite, msg: &[u8]) -> io::Result<()> {
    wr.write_all(&encode_frame(msg)).await?;
    wr.flush().await
}

async fn write_loop(sh: &Shared, sid: i64, id: u64, wr: &mut PeerWrite, wake: &Notify) -> End {
    // `SendWorker.run`: with nothing queued, make sure the peer got the last message.
    let resend = {
        let mut st = sh.lock();
        let Some(peer) = current(&mut st, sid, id) else { return End::Superseded };
        if peer.pending.is_none() { peer.last_sent.clone() } else { None }
    };
    if let Some(msg) = resend
        && let Err(e) = write_message(wr, &msg).await
    {
        return End::Io(e);
    }
    loop {
        let next = {
            let mut st = sh.lock();
            let Some(peer) = current(&mut st, sid, id) else { return End::Superseded };
            let msg = peer.pending.take();
            if msg.is_some() {
                peer.last_sent.clone_from(&msg);
            }
            msg
        };
        match next {
            Some(msg) => {
                if let Err(e) = write_message(wr, &msg).await {
                    return End::Io(e);
                }
            }
            None => wake.notified().await,
        }
    }
}
