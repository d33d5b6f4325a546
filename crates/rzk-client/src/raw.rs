//! Raw connections for differential and malformed-input tests: no session logic at all. A
//! [`RawSocket`] writes any bytes and reads what comes back; a [`RawConnection`] does the
//! handshake with a caller-built `ConnectRequest`, then sends any request with any xid and
//! returns every reply and event exactly as received (header, body bytes), in order.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use rzk_proto::codes::{op, xid};
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::frame::{Frame, FrameError, take_frame};
use rzk_proto::{DecodeError, Jute, Reader, ReplyHeader, Request, WatcherEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::FRAME_BYTES_MAX_DEFAULT;
use crate::session::RawReply;

/// Read chunk size.
const READ_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("connection closed by the server")]
    Closed,
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    #[error("bad record: {0}")]
    Decode(#[from] DecodeError),
}

/// A TCP connection that sends and receives bytes as they are.
#[derive(Debug)]
pub struct RawSocket {
    stream: TcpStream,
    buf: BytesMut,
    frame_bytes_max: usize,
}

impl RawSocket {
    pub async fn connect(addr: &str) -> Result<RawSocket, RawError> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        Ok(RawSocket {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK_BYTES),
            frame_bytes_max: FRAME_BYTES_MAX_DEFAULT,
        })
    }

    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), RawError> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Writes `payload` with a 4-byte length prefix.
    pub async fn write_frame(&mut self, payload: &[u8]) -> Result<(), RawError> {
        let mut f = BytesMut::with_capacity(4 + payload.len());
        f.put_u32(payload.len() as u32);
        f.put_slice(payload);
        self.write_all(&f).await
    }

    /// Closes the write side (the server sees end of input).
    pub async fn shutdown_write(&mut self) -> Result<(), RawError> {
        self.stream.shutdown().await?;
        Ok(())
    }

    /// Reads once: what arrived (buffered bytes first), or `Closed` at end of stream.
    pub async fn read_some(&mut self, timeout: Duration) -> Result<Bytes, RawError> {
        if !self.buf.is_empty() {
            return Ok(self.buf.split().freeze());
        }
        match tokio::time::timeout(timeout, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => Err(RawError::Timeout),
            Ok(Ok(0)) => Err(RawError::Closed),
            Ok(Ok(_)) => Ok(self.buf.split().freeze()),
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// Reads until the server closes the connection (or `timeout` passes): everything it sent.
    pub async fn read_to_end(&mut self, timeout: Duration) -> Result<Bytes, RawError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut all = BytesMut::new();
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Err(RawError::Timeout),
                Ok(Ok(0)) => {
                    all.extend_from_slice(&self.buf.split());
                    return Ok(all.freeze());
                }
                Ok(Ok(_)) => all.extend_from_slice(&self.buf.split()),
                // A reset after the server's last bytes still ends the stream.
                Ok(Err(_)) => return Ok(all.freeze()),
            }
        }
    }

    /// Reads one length-prefixed frame's payload.
    pub async fn read_frame(&mut self, timeout: Duration) -> Result<Bytes, RawError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(Frame::Packet(p)) = take_frame(&mut self.buf, false, self.frame_bytes_max)? {
                return Ok(p);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Err(RawError::Timeout),
                Ok(Ok(0)) => return Err(RawError::Closed),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Whether the server closes the connection within `timeout` (bytes it sends meanwhile are
    /// discarded).
    pub async fn closed_within(&mut self, timeout: Duration) -> bool {
        self.read_to_end(timeout).await.is_ok()
    }
}

/// A handshaken connection that sends requests with any xid and returns replies raw.
#[derive(Debug)]
pub struct RawConnection {
    socket: RawSocket,
    /// Requests sent and not answered yet: (xid, opcode), to know what a reply answers.
    sent: VecDeque<(i32, i32)>,
    next_xid: i32,
}

impl RawConnection {
    /// Connects, sends `req`, and reads the ConnectResponse (decoded, and its raw payload).
    pub async fn connect(
        addr: &str,
        req: &ConnectRequest,
        timeout: Duration,
    ) -> Result<(ConnectResponse, Bytes, RawConnection), RawError> {
        let mut socket = RawSocket::connect(addr).await?;
        let mut payload = Vec::with_capacity(48);
        req.encode(&mut payload);
        socket.write_frame(&payload).await?;
        let raw = socket.read_frame(timeout).await?;
        let resp = ConnectResponse::decode(&mut Reader::with_default_limit(raw.clone()))?;
        Ok((resp, raw, RawConnection { socket, sent: VecDeque::new(), next_xid: 1 }))
    }

    /// A ConnectRequest as the Java client sends it for a new session.
    pub fn new_session_request(timeout_ms: i32) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout_ms,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        }
    }

    /// Sends `req` with `xid`.
    pub async fn send(&mut self, xid: i32, req: &Request) -> Result<(), RawError> {
        let mut payload = Vec::new();
        req.encode_with_header(xid, &mut payload);
        self.socket.write_frame(&payload).await?;
        if xid != xid::PING && xid != xid::AUTH {
            self.sent.push_back((xid, req.op()));
        }
        Ok(())
    }

    /// Sends `req` with the next automatic xid (1, 2, ...) and returns it.
    pub async fn send_auto(&mut self, req: &Request) -> Result<i32, RawError> {
        let x = self.next_xid;
        self.next_xid += 1;
        self.send(x, req).await?;
        Ok(x)
    }

    /// Sends a frame payload as given (a length prefix is added).
    pub async fn send_payload(&mut self, payload: &[u8]) -> Result<(), RawError> {
        self.socket.write_frame(payload).await
    }

    /// The next frame from the server: a reply, a ping or auth reply, or a watch event
    /// (xid −1, `op` NOTIFICATION), in the order they arrived.
    pub async fn recv(&mut self, timeout: Duration) -> Result<RawReply, RawError> {
        let frame = self.socket.read_frame(timeout).await?;
        let mut r = Reader::with_default_limit(frame);
        let header = ReplyHeader::decode(&mut r)?;
        let op = match header.xid {
            xid::NOTIFICATION => op::NOTIFICATION,
            xid::PING => op::PING,
            xid::AUTH => op::AUTH,
            x => match self.sent.iter().position(|(sx, _)| *sx == x) {
                Some(i) => self.sent.remove(i).map(|(_, o)| o).unwrap_or(op::ERROR),
                None => op::ERROR,
            },
        };
        Ok(RawReply { header, op, body: r.rest().clone() })
    }

    /// The underlying socket (to write malformed bytes mid-session, or watch for a close).
    pub fn socket(&mut self) -> &mut RawSocket {
        &mut self.socket
    }
}

impl RawReply {
    /// The event of a notification (xid −1).
    pub fn event(&self) -> Option<WatcherEvent> {
        if self.header.xid != xid::NOTIFICATION {
            return None;
        }
        WatcherEvent::decode(&mut Reader::with_default_limit(self.body.clone())).ok()
    }
}
