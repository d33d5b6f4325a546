//! The write half of a plain TCP connection shared by its writer task and the core: the writer
//! writes through [`SharedWrite`] (an `AsyncWrite`), the core through the same socket's
//! non-blocking `try_write` (see `outbox`), both under the outbox's rules.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

/// An `AsyncWrite` over a shared [`OwnedWriteHalf`] (whose own `AsyncWrite` needs it exclusively).
#[derive(Debug, Clone)]
pub struct SharedWrite(pub Arc<OwnedWriteHalf>);

impl SharedWrite {
    fn socket(&self) -> &TcpStream {
        (*self.0).as_ref()
    }
}

impl AsyncWrite for SharedWrite {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_socket_write(self.socket(), cx, |s| s.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_socket_write(self.socket(), cx, |s| s.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(self.socket()).shutdown(Shutdown::Write))
    }
}

/// Waits until the socket is writable and writes with `write`, again while it would block.
fn poll_socket_write(
    socket: &TcpStream,
    cx: &mut Context<'_>,
    write: impl Fn(&TcpStream) -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(socket.poll_write_ready(cx))?;
        match write(socket) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            r => return Poll::Ready(r),
        }
    }
}
