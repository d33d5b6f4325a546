//! A lean pipelined session for the throughput workloads: one task owns one TCP connection,
//! keeps `outstanding` requests on the wire, writes every request it can in one syscall and
//! parses every reply a read brought. ZooKeeper answers a session's requests in order, so a
//! reply matches the oldest request in flight.
//!
//! Why not `rzk_client::Client::raw_request`: it costs a channel send, a oneshot and two task
//! wake-ups per request, and on a 2-core machine the bench then burns as much CPU as the server
//! it measures (getData: ~6 µs of client CPU per op against ~5 µs in rzk). This loop spends
//! about a third of that, so the server stays the bottleneck. It does no pings, reconnects or
//! watches: a throughput run keeps every session busy, and a lost connection just ends that
//! session's part of the run (counted as an error). The handshake and the closing request are
//! the ones `rzk_client::RawConnection` uses.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use rzk_client::RawConnection;
use rzk_proto::codes::xid;
use rzk_proto::connect::ConnectResponse;
use rzk_proto::frame::{Frame, take_frame};
use rzk_proto::{Jute, Reader, Request, WatcherEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Largest reply accepted (ZooKeeper's default jute.maxbuffer plus headroom).
pub const FRAME_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Initial read buffer of a session that sends requests in bulk.
pub const READ_BUF_BYTES_BULK: usize = 64 * 1024;
/// Initial read buffer of a session that is only held open (it grows if it has to).
pub const READ_BUF_BYTES_IDLE: usize = 256;
/// Bytes of requests written per batch, at most (more wait for the next write).
const WRITE_BATCH_BYTES_MAX: usize = 256 * 1024;
/// How long the closing request may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PipeError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("connection closed by the server")]
    Closed,
    #[error("session refused (negotiated timeout 0)")]
    Refused,
    #[error("bad frame from the server: {0}")]
    Frame(String),
    #[error("error reply: code {0}")]
    ErrorReply(i32),
    #[error("reply xid {got} does not answer the oldest request (xid {want})")]
    OutOfOrder { got: i32, want: i32 },
}

/// A request on the wire: its xid, when it was written, and what the caller tagged it with.
#[derive(Debug, Clone, Copy)]
pub struct InFlight<T> {
    pub xid: i32,
    pub sent: Instant,
    pub tag: T,
}

/// A reply: the error code (0 = success) and the request it answers.
#[derive(Debug, Clone, Copy)]
pub struct Reply<T> {
    pub err: i32,
    pub request: InFlight<T>,
}

/// One session's connection.
#[derive(Debug)]
pub struct Pipe {
    stream: TcpStream,
    inbuf: BytesMut,
    outbuf: BytesMut,
    next_xid: i32,
    pub session_id: i64,
}

impl Pipe {
    /// Connects (from `source`, if given) and opens a new session, with a read buffer of
    /// `read_buf_bytes` to start with.
    pub async fn connect(
        addr: &str,
        source: Option<IpAddr>,
        session_timeout: Duration,
        timeout: Duration,
        read_buf_bytes: usize,
    ) -> Result<Pipe, PipeError> {
        let stream = tokio::time::timeout(timeout, tcp_connect(addr, source))
            .await
            .map_err(|_| PipeError::Timeout)??;
        stream.set_nodelay(true)?;
        let ms = i32::try_from(session_timeout.as_millis()).unwrap_or(i32::MAX);
        let mut pipe = Pipe {
            stream,
            inbuf: BytesMut::with_capacity(read_buf_bytes),
            outbuf: BytesMut::new(),
            next_xid: 1,
            session_id: 0,
        };
        let start = pipe.outbuf.len();
        pipe.outbuf.put_u32(0);
        RawConnection::new_session_request(ms).encode(&mut pipe.outbuf);
        patch_length(&mut pipe.outbuf, start);
        pipe.flush().await?;
        let payload =
            tokio::time::timeout(timeout, pipe.read_frame()).await.map_err(|_| PipeError::Timeout)??;
        let resp = ConnectResponse::decode(&mut Reader::with_default_limit(payload))
            .map_err(|e| PipeError::Frame(e.to_string()))?;
        if resp.time_out <= 0 {
            return Err(PipeError::Refused);
        }
        pipe.session_id = resp.session_id;
        Ok(pipe)
    }

    /// Queues `req` (written by the next [`Pipe::exchange`]) and returns its xid.
    pub fn queue(&mut self, req: &Request) -> i32 {
        let x = self.next_xid;
        self.next_xid = if self.next_xid == i32::MAX { 1 } else { self.next_xid + 1 };
        let start = self.outbuf.len();
        self.outbuf.put_u32(0);
        req.encode_with_header(x, &mut self.outbuf);
        patch_length(&mut self.outbuf, start);
        x
    }

    /// Whether more requests should be queued before writing.
    pub fn batch_full(&self) -> bool {
        self.outbuf.len() >= WRITE_BATCH_BYTES_MAX
    }

    /// Writes what is queued and waits until at least one reply came (or `timeout` passed);
    /// answered requests leave `in_flight` (oldest first) and are passed to `each` with the time
    /// they arrived.
    pub async fn exchange<T: Copy>(
        &mut self,
        in_flight: &mut VecDeque<InFlight<T>>,
        timeout: Duration,
        each: impl FnMut(Reply<T>, Instant),
    ) -> Result<(), PipeError> {
        self.exchange_until(in_flight, timeout, std::future::pending(), each).await
    }

    /// [`exchange`](Self::exchange), but also returns when `wake` ends (an open-loop run's next
    /// send time), replies or not; what is still queued is written by the next call.
    pub async fn exchange_until<T: Copy>(
        &mut self,
        in_flight: &mut VecDeque<InFlight<T>>,
        timeout: Duration,
        wake: impl Future<Output = ()>,
        mut each: impl FnMut(Reply<T>, Instant),
    ) -> Result<(), PipeError> {
        let timer = tokio::time::sleep(timeout);
        tokio::pin!(timer);
        tokio::pin!(wake);
        loop {
            let (mut rd, mut wr) = self.stream.split();
            tokio::select! {
                r = rd.read_buf(&mut self.inbuf) => {
                    if r? == 0 {
                        return Err(PipeError::Closed);
                    }
                    let now = Instant::now();
                    let mut any = false;
                    while let Some(payload) = self.take()? {
                        let (x, err) = header(&payload)?;
                        let ping_awaited = in_flight.front().is_some_and(|r| r.xid == xid::PING);
                        if x == xid::NOTIFICATION || (x == xid::PING && !ping_awaited) {
                            continue;
                        }
                        let request = match in_flight.pop_front() {
                            Some(r) if r.xid == x => r,
                            Some(r) => return Err(PipeError::OutOfOrder { got: x, want: r.xid }),
                            None => return Err(PipeError::OutOfOrder { got: x, want: 0 }),
                        };
                        any = true;
                        each(Reply { err, request }, now);
                    }
                    if any && self.outbuf.is_empty() {
                        return Ok(());
                    }
                }
                w = wr.write_buf(&mut self.outbuf), if !self.outbuf.is_empty() => {
                    if w? == 0 {
                        return Err(PipeError::Closed);
                    }
                    if in_flight.is_empty() && self.outbuf.is_empty() {
                        return Ok(());
                    }
                }
                _ = &mut wake => return Ok(()),
                _ = &mut timer => return Err(PipeError::Timeout),
            }
        }
    }

    /// Waits for a watch notification of `event_type` (other frames are skipped); returns when it
    /// was read.
    pub async fn wait_event(&mut self, event_type: i32, timeout: Duration) -> Result<Instant, PipeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(payload) = self.take()? {
                if header(&payload)?.0 != xid::NOTIFICATION {
                    continue;
                }
                let mut r = Reader::with_default_limit(payload.slice(16..));
                let e = WatcherEvent::decode(&mut r).map_err(|e| PipeError::Frame(e.to_string()))?;
                if e.event_type == event_type {
                    return Ok(Instant::now());
                }
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.inbuf)).await {
                Err(_) => return Err(PipeError::Timeout),
                Ok(Ok(0)) => return Err(PipeError::Closed),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Sends a ping and waits for its answer (keeps an idle session alive).
    pub async fn ping(&mut self, timeout: Duration) -> Result<(), PipeError> {
        let start = self.outbuf.len();
        self.outbuf.put_u32(0);
        Request::Ping.encode_with_header(xid::PING, &mut self.outbuf);
        patch_length(&mut self.outbuf, start);
        let mut one = VecDeque::from([InFlight { xid: xid::PING, sent: Instant::now(), tag: () }]);
        while !one.is_empty() {
            self.exchange(&mut one, timeout, |_, _| {}).await?;
        }
        Ok(())
    }

    /// Closes the session (closeSession, waiting briefly for its reply); errors are ignored, as
    /// the server expires the session anyway.
    pub async fn close(mut self) {
        let x = self.queue(&Request::CloseSession);
        let mut one = VecDeque::from([InFlight { xid: x, sent: Instant::now(), tag: () }]);
        while !one.is_empty() {
            if self.exchange(&mut one, CLOSE_TIMEOUT, |_, _| {}).await.is_err() {
                return;
            }
        }
    }

    async fn flush(&mut self) -> Result<(), PipeError> {
        self.stream.write_all(&self.outbuf).await?;
        self.outbuf.clear();
        Ok(())
    }

    async fn read_frame(&mut self) -> Result<Bytes, PipeError> {
        loop {
            if let Some(p) = self.take()? {
                return Ok(p);
            }
            if self.stream.read_buf(&mut self.inbuf).await? == 0 {
                return Err(PipeError::Closed);
            }
        }
    }

    /// One whole frame's payload from the read buffer, if there is one.
    fn take(&mut self) -> Result<Option<Bytes>, PipeError> {
        match take_frame(&mut self.inbuf, false, FRAME_BYTES_MAX) {
            Ok(Some(Frame::Packet(p))) => Ok(Some(p)),
            Ok(Some(Frame::FourLetterWord { .. })) => {
                Err(PipeError::Frame("unexpected four-letter word".into()))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(PipeError::Frame(e.to_string())),
        }
    }
}

/// A TCP connection to `addr`, bound to `source` first if given.
async fn tcp_connect(addr: &str, source: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(source) = source else { return TcpStream::connect(addr).await };
    let mut last = None;
    for to in tokio::net::lookup_host(addr).await? {
        let socket = if to.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        socket.bind(SocketAddr::new(source, 0))?;
        match socket.connect(to).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("{addr}: no address"))))
}

/// The source address of session `i` when sessions are spread over `n` loopback addresses.
pub fn loopback_source(i: usize, n: u8) -> Option<IpAddr> {
    (n > 1).then(|| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(n)) as u8)))
}

/// Writes the length of the frame that starts at `start` (its 4-byte prefix) into the prefix.
fn patch_length(buf: &mut BytesMut, start: usize) {
    let len = (buf.len() - start - 4) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// A reply header's xid and error code (`ReplyHeader`: xid i32, zxid i64, err i32).
fn header(payload: &[u8]) -> Result<(i32, i32), PipeError> {
    if payload.len() < 16 {
        return Err(PipeError::Frame(format!("reply of {} bytes, shorter than its header", payload.len())));
    }
    let mut b = payload;
    let x = b.get_i32();
    b.advance(8);
    Ok((x, b.get_i32()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::ReplyHeader;

    #[test]
    fn frames_and_headers() {
        let mut buf = BytesMut::new();
        buf.put_u8(9);
        let start = buf.len();
        buf.put_u32(0);
        buf.put_slice(b"abc");
        patch_length(&mut buf, start);
        assert_eq!(&buf[..], &[9, 0, 0, 0, 3, b'a', b'b', b'c']);
        let h = ReplyHeader { xid: 7, zxid: 0x1_0000_0002, err: -101 };
        assert_eq!(header(&h.to_bytes()).expect("header"), (7, -101));
        assert!(header(&[0; 15]).is_err());
        assert_eq!(loopback_source(5, 1), None);
        assert_eq!(loopback_source(5, 3), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3))));
        assert_eq!(loopback_source(6, 3), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))));
    }
}
