//! One client connection: a reader that cuts frames, recognises a four-letter word or the session
//! handshake, decodes requests and passes them to the core; and a writer that sends what the core
//! routes to it, batching whatever is queued into one socket write. A malformed frame, a frame
//! over `jute.maxbuffer` or an unknown opcode closes this connection only, with a logged reason.
//! The same code serves plain TCP and TLS streams (`serve_io`); a TLS connection arrives with
//! the ids its client certificate proved.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use rzk_node::ConnId;
use rzk_proto::Id;
use rzk_proto::codes::op;
use rzk_proto::connect::ConnectRequest;
use rzk_proto::frame::{Frame, take_frame};
use rzk_proto::request::RequestError;
use rzk_proto::{Jute, Reader, ReplyHeader, Request, RequestHeader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot};

use crate::core::CoreMsg;
use crate::four_letter::host::DataDirs;
use crate::four_letter::{FourLetterRequest, HostFacts};
use crate::outbox::{Outbox, write_loop};
use crate::settings::FourLetterWhitelist;
use crate::shared_write::SharedWrite;
use crate::stats::SharedCounters;

/// A connection's read buffer to start with: enough for a connect and pings, so that idle
/// sessions stay small (it grows by doubling under load).
const READ_BUF_BYTES_MIN: usize = 1024;
/// Free room below which the read buffer grows before the next read.
const READ_ROOM_BYTES_MIN: usize = 256;
/// A read buffer above this size is dropped for a small one once it is empty (after a burst).
const READ_BUF_BYTES_KEEP_MAX: usize = 64 * 1024;
/// How long a closing connection may take to flush what is queued for it.
const CLOSE_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub struct ConnParams {
    pub frame_bytes_max: usize,
    pub four_letter_words: FourLetterWhitelist,
    /// Where the server keeps its files (some four-letter words report their sizes).
    pub dirs: DataDirs,
    pub shared: Arc<SharedCounters>,
}

pub async fn serve(
    stream: TcpStream,
    conn: ConnId,
    remote: SocketAddr,
    core: mpsc::Sender<CoreMsg>,
    p: &ConnParams,
) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let wr = Arc::new(wr);
    let halves = Halves { rd, wr: SharedWrite(wr.clone()), socket: Some(wr) };
    serve_io(halves, conn, remote, Vec::new(), core, p).await;
}

/// A connection's byte stream, split into its read and write halves.
pub struct Halves<R, W> {
    pub rd: R,
    pub wr: W,
    /// The plain TCP socket under `wr`, which the core may write to directly (see `outbox`);
    /// `None` for TLS.
    pub socket: Option<Arc<OwnedWriteHalf>>,
}

/// Serves one connection over any byte stream. `ids` are authenticated ids the connection
/// already has (a TLS client certificate's).
pub async fn serve_io<R, W>(
    halves: Halves<R, W>,
    conn: ConnId,
    remote: SocketAddr,
    ids: Vec<Id>,
    core: mpsc::Sender<CoreMsg>,
    p: &ConnParams,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Halves { mut rd, mut wr, socket } = halves;
    let mut buf = BytesMut::with_capacity(READ_BUF_BYTES_MIN);
    // The first frame: a four-letter word or a ConnectRequest.
    let first = match read_frame(&mut rd, &mut buf, true, p.frame_bytes_max).await {
        Ok(Some(f)) => f,
        Ok(None) => return,
        Err(reason) => {
            tracing::info!(conn, %remote, %reason, "closing connection");
            return;
        }
    };
    p.shared.add_bytes_received(match &first {
        // ServerCnxn.packetReceived(4) for a word, 4 + the payload for a frame.
        Frame::FourLetterWord { .. } => 4,
        Frame::Packet(payload) => 4 + payload.len(),
    });
    let req = match first {
        Frame::FourLetterWord { word, arg } => {
            four_letter(&mut wr, word, arg, remote, &core, p).await;
            return;
        }
        Frame::Packet(payload) => {
            match ConnectRequest::decode(&mut Reader::new(payload, p.frame_bytes_max)) {
                Ok(r) => r,
                Err(e) => {
                    tracing::info!(conn, %remote, error = %e, "malformed connect request; closing connection");
                    return;
                }
            }
        }
    };
    let outbox = Arc::new(Outbox::new(socket));
    if core.send(CoreMsg::Accepted { conn, remote, ids, outbox: outbox.clone() }).await.is_err()
        || core.send(CoreMsg::Connect { conn, req }).await.is_err()
    {
        outbox.end();
        return;
    }
    let mut writer = tokio::spawn(write_loop(wr, outbox.clone()));
    tokio::select! {
        _ = outbox.kill.notified() => {
            tracing::info!(conn, %remote, "dropping a client that does not read its replies");
            writer.abort();
        }
        reason = read_loop(&mut rd, &mut buf, conn, &core, &outbox, p) => {
            if let Some(reason) = reason {
                tracing::info!(conn, %remote, %reason, "closing connection");
                // Let the writer send what is queued (an Unimplemented reply, say) and close.
                outbox.close();
                if tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, &mut writer).await.is_err() {
                    writer.abort();
                }
            } else {
                writer.abort();
            }
        }
        _ = &mut writer => {}
    }
    outbox.end();
    let _ = core.send(CoreMsg::Closed { conn }).await;
}

/// Reads requests until the peer goes away (`None`) or sends something bad (`Some(reason)`).
async fn read_loop(
    rd: &mut (impl AsyncRead + Unpin),
    buf: &mut BytesMut,
    conn: ConnId,
    core: &mpsc::Sender<CoreMsg>,
    out: &Outbox,
    params: &ConnParams,
) -> Option<String> {
    let frame_bytes_max = params.frame_bytes_max;
    loop {
        let payload = match read_frame(rd, buf, false, frame_bytes_max).await {
            Ok(Some(Frame::Packet(p))) => p,
            Ok(Some(Frame::FourLetterWord { .. })) => return Some("unexpected four-letter word".into()),
            Ok(None) => return None,
            Err(reason) => return Some(reason),
        };
        params.shared.add_bytes_received(4 + payload.len());
        let mut r = Reader::new(payload, frame_bytes_max);
        let header = match RequestHeader::decode(&mut r) {
            Ok(h) => h,
            Err(e) => return Some(format!("malformed request header: {e}")),
        };
        let msg = match Request::decode(header.op_type, &mut r) {
            Ok(req) => CoreMsg::Request { conn, xid: header.xid, req },
            Err(RequestError::UnknownOp(code)) => {
                // UnimplementedRequestProcessor: answer Unimplemented, then close.
                let reply = ReplyHeader {
                    xid: header.xid,
                    zxid: -1,
                    err: rzk_proto::ErrorCode::Unimplemented.code(),
                };
                let mut b = BytesMut::new();
                b.extend_from_slice(&16i32.to_be_bytes());
                reply.encode(&mut b);
                let _ = out.push(b.freeze());
                out.close();
                return Some(format!("unknown opcode {code}"));
            }
            // Auth and SASL packets are read by the connection itself; a bad one closes it.
            Err(e) if header.op_type == op::AUTH || header.op_type == op::SASL => {
                return Some(format!("malformed {} packet: {e}", op::name(header.op_type)));
            }
            Err(_) => CoreMsg::Malformed { conn, xid: header.xid, op: header.op_type },
        };
        if core.send(msg).await.is_err() {
            return Some("server shutting down".into());
        }
    }
}

async fn read_frame(
    rd: &mut (impl AsyncRead + Unpin),
    buf: &mut BytesMut,
    first: bool,
    frame_bytes_max: usize,
) -> Result<Option<Frame>, String> {
    loop {
        match take_frame(buf, first, frame_bytes_max) {
            Ok(Some(f)) => {
                if buf.is_empty() && buf.capacity() > READ_BUF_BYTES_KEEP_MAX {
                    *buf = BytesMut::with_capacity(READ_BUF_BYTES_MIN);
                }
                return Ok(Some(f));
            }
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
        if buf.capacity() - buf.len() < READ_ROOM_BYTES_MIN {
            buf.reserve(buf.len().max(READ_BUF_BYTES_MIN));
        }
        match rd.read_buf(buf).await {
            Ok(0) => {
                return if buf.is_empty() { Ok(None) } else { Err("connection closed mid-frame".into()) };
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Answers a four-letter word and closes. Facts that need the disk are gathered here, on a
/// blocking thread, before the core renders the reply (and checks the whitelist).
async fn four_letter(
    wr: &mut (impl AsyncWrite + Unpin),
    word: [u8; 4],
    arg: Option<i64>,
    remote: SocketAddr,
    core: &mpsc::Sender<CoreMsg>,
    p: &ConnParams,
) {
    if word == rzk_proto::frame::TELNET_CLOSE {
        let _ = wr.shutdown().await;
        return;
    }
    let allowed = p.four_letter_words.allows(&String::from_utf8_lossy(&word));
    let facts = if allowed && HostFacts::needed(&word) {
        let dirs = p.dirs.clone();
        tokio::task::spawn_blocking(move || HostFacts::gather(&word, &dirs)).await.unwrap_or_default()
    } else {
        HostFacts::default()
    };
    let req = Box::new(FourLetterRequest { word, arg, remote, facts });
    let (tx, rx) = oneshot::channel();
    if core.send(CoreMsg::FourLetter { req, reply: tx }).await.is_err() {
        return;
    }
    let text = rx.await.unwrap_or_default();
    let _ = wr.write_all(text.as_bytes()).await;
    let _ = wr.shutdown().await;
}
