//! The quorum port's connections as the blocking reader and writer threads of [`super::links`]
//! see them: a TCP socket, or, for TLS, one end of a local socket pair whose other end a tokio
//! task pumps to and from the TLS stream.
//!
//! Why a pump: a rustls connection is one state machine that both directions drive (reading
//! can require writing, e.g. alerts and key updates; writing needs the state reading updates).
//! Sharing it between a blocking reader and a blocking writer needs a lock that the reader must
//! not hold while it waits for the socket, or a writer blocked on a full socket holds it while
//! the peer does the same: both stall. Two async copies over `tokio_rustls` (its stream split
//! with `tokio::io::split`, whose lock is held for one poll, never across a wait) drive the two
//! directions without such a lock, and backpressure still reaches the threads through the
//! socket pair's buffers. The cost is one more copy of each byte, on the TLS path only: the
//! plaintext path is unchanged, the threads use the TCP socket directly.
//!
//! Closing: see [`tunnel`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::runtime::Handle;

/// The pump's buffer in each direction (a SNAP streams through it).
pub const TUNNEL_BUFFER_BYTES: usize = 64 * 1024;
/// How long the peer may keep a connection open after our side closed it.
pub const TUNNEL_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// A quorum-port connection for the blocking threads.
#[derive(Debug)]
pub enum QuorumStream {
    Plain(TcpStream),
    /// Our end of the socket pair to a TLS pump.
    Tunnel(UnixStream),
}

impl QuorumStream {
    pub fn try_clone(&self) -> io::Result<QuorumStream> {
        Ok(match self {
            QuorumStream::Plain(s) => QuorumStream::Plain(s.try_clone()?),
            QuorumStream::Tunnel(s) => QuorumStream::Tunnel(s.try_clone()?),
        })
    }

    pub fn set_read_timeout(&self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        match self {
            QuorumStream::Plain(s) => s.set_read_timeout(timeout),
            QuorumStream::Tunnel(s) => s.set_read_timeout(timeout),
        }
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            QuorumStream::Plain(s) => s.shutdown(how),
            QuorumStream::Tunnel(s) => s.shutdown(how),
        }
    }
}

impl Read for QuorumStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            QuorumStream::Plain(s) => s.read(buf),
            QuorumStream::Tunnel(s) => s.read(buf),
        }
    }
}

impl Write for QuorumStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            QuorumStream::Plain(s) => s.write(buf),
            QuorumStream::Tunnel(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            QuorumStream::Plain(s) => s.flush(),
            QuorumStream::Tunnel(s) => s.flush(),
        }
    }
}

/// Starts a pump between `tls` and a new socket pair on `rt`; returns the threads' end.
///
/// The pump ends when the peer closes (the threads then read EOF, and their writes fail), or
/// [`TUNNEL_CLOSE_GRACE`] after the threads close their end (close_notify is sent at once; a
/// peer that never closes its side cannot keep the socket open for longer).
pub fn tunnel<S>(rt: &Handle, tls: S) -> io::Result<QuorumStream>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mine, theirs) = UnixStream::pair()?;
    theirs.set_nonblocking(true)?;
    let theirs = {
        let _in_runtime = rt.enter();
        tokio::net::UnixStream::from_std(theirs)?
    };
    rt.spawn(pump(tls, theirs));
    Ok(QuorumStream::Tunnel(mine))
}

async fn pump<S>(tls: S, theirs: tokio::net::UnixStream)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (tls_rd, mut tls_wr) = tokio::io::split(tls);
    let (th_rd, mut th_wr) = theirs.into_split();
    let inbound = async {
        let mut from_peer = BufReader::with_capacity(TUNNEL_BUFFER_BYTES, tls_rd);
        let r = tokio::io::copy_buf(&mut from_peer, &mut th_wr).await;
        let _ = th_wr.shutdown().await;
        r
    };
    let outbound = async {
        let mut from_threads = BufReader::with_capacity(TUNNEL_BUFFER_BYTES, th_rd);
        let r = tokio::io::copy_buf(&mut from_threads, &mut tls_wr).await;
        let _ = tls_wr.shutdown().await;
        r
    };
    tokio::pin!(inbound);
    tokio::select! {
        r = &mut inbound => {
            if let Err(error) = r {
                tracing::debug!(%error, "quorum TLS connection ended");
            }
        }
        _ = outbound => {
            let _ = tokio::time::timeout(TUNNEL_CLOSE_GRACE, inbound).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_the_pump_both_ways_and_close_reaches_the_thread() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        // A duplex pipe stands in for the TLS stream.
        let (near, far) = tokio::io::duplex(1024);
        let mut s = tunnel(rt.handle(), near).unwrap();
        let echo = rt.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut far = far;
            let mut buf = vec![0; 200_000];
            far.read_exact(&mut buf).await.unwrap();
            far.write_all(&buf).await.unwrap();
            // Dropping `far` is the peer going away.
        });
        let sent: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || w.write_all(&sent).map(|_| sent));
        let mut got = vec![0; 200_000];
        s.read_exact(&mut got).unwrap();
        assert_eq!(got, writer.join().unwrap().unwrap());
        rt.block_on(echo).unwrap();
        assert_eq!(s.read(&mut [0; 1]).unwrap(), 0, "EOF once the peer is gone");
    }

    #[test]
    fn the_threads_closing_reaches_the_peer() {
        use tokio::io::AsyncReadExt;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (near, mut far) = tokio::io::duplex(1024);
        let mut s = tunnel(rt.handle(), near).unwrap();
        s.write_all(b"bye").unwrap();
        s.shutdown(Shutdown::Both).unwrap();
        let mut got = Vec::new();
        rt.block_on(far.read_to_end(&mut got)).unwrap();
        assert_eq!(got, b"bye", "the last bytes, then EOF");
    }
}
