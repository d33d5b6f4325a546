//! A connection's outbox: the frames routed to one client connection, in the order its client
//! must see them, and the writer task that sends them.
//!
//! Every frame is queued here first, so the queue's order is the order on the wire. Two paths
//! lead from the queue into the socket. The writer task takes whatever is queued and sends it in
//! one socket write; it is woken when a reply is queued ([`Outbox::push`]). A watch notification
//! is queued without that wake-up ([`Outbox::defer`]) and the core then writes the queue straight
//! into the socket ([`Outbox::flush`], one non-blocking write; for a large fan-out the fan-out
//! thread writes half of them, `fanout`), which is how one change reaches 10,000 watching
//! sessions without 10,000 task wake-ups. A flush writes only while the writer is
//! not in the middle of a write, and whatever the socket does not take stays at the head of the
//! queue for the writer, so a notification never overtakes a reply queued before it and later
//! replies follow it. Direct writes happen with the outbox's lock held and the writer takes
//! frames under the same lock, so the two never write at the same time.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

/// Frames a connection may have queued for writing before it counts as stalled and is closed.
pub const OUTBOX_FRAMES_MAX: usize = 16 * 1024;
/// Bytes a connection may have queued for writing before it counts as stalled and is closed: a
/// client that stops reading cannot make the server hold its replies without bound.
pub const OUTBOX_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Bytes the writer gathers into one socket write.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// Frames gathered into one direct write (one `writev`); the rest is queued for the writer.
const DIRECT_WRITE_FRAMES_MAX: usize = 64;

/// The client stopped reading: its outbox is over [`OUTBOX_FRAMES_MAX`] or [`OUTBOX_BYTES_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled;

/// Shared by the core (which routes frames in), the connection's reader (which may queue an
/// error reply and a close) and its writer task (which drains it).
#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<State>,
    /// Wakes the writer: frames were queued on an empty queue, or a close was asked for.
    wake: Notify,
    /// Set by the core to drop the connection (a client that stopped reading).
    pub kill: Notify,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<Bytes>,
    /// Bytes in `frames`.
    bytes: usize,
    /// The writer took frames and has not finished writing them.
    writing: bool,
    /// A close was asked for: what was queued before it is written, then the socket is shut.
    closing: bool,
    /// The writer is gone (closed, failed or aborted): frames are dropped.
    gone: bool,
    /// The socket, for direct writes (plain TCP; `None` for TLS, whose writes go through the
    /// writer, and once the connection ends).
    socket: Option<Arc<OwnedWriteHalf>>,
}

impl Outbox {
    /// An outbox whose frames the core (or the fan-out thread) may write straight into `socket`
    /// (see the module docs).
    pub fn new(socket: Option<Arc<OwnedWriteHalf>>) -> Outbox {
        Outbox {
            state: Mutex::new(State { socket, ..State::default() }),
            wake: Notify::new(),
            kill: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should something, the queue is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `frame` for the writer.
    pub fn push(&self, frame: Bytes) -> Result<(), Stalled> {
        let mut st = self.lock();
        if st.gone || st.closing {
            return Ok(());
        }
        if st.frames.len() >= OUTBOX_FRAMES_MAX || st.bytes + frame.len() > OUTBOX_BYTES_MAX {
            return Err(Stalled);
        }
        let wake = st.frames.is_empty();
        st.bytes += frame.len();
        st.frames.push_back(frame);
        drop(st);
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Queues `frame` without waking the writer, for a [`Outbox::flush`] to write it straight
    /// into the socket. True when the caller must call `flush` (nothing was queued or being
    /// written before it); otherwise the writer or a flush already due will send it.
    pub fn defer(&self, frame: Bytes) -> Result<bool, Stalled> {
        let mut st = self.lock();
        if st.gone || st.closing {
            return Ok(false);
        }
        if st.frames.len() >= OUTBOX_FRAMES_MAX || st.bytes + frame.len() > OUTBOX_BYTES_MAX {
            return Err(Stalled);
        }
        let due = st.frames.is_empty() && !st.writing;
        st.bytes += frame.len();
        st.frames.push_back(frame);
        Ok(due)
    }

    /// Writes what is queued straight into the socket (one non-blocking write) unless the writer
    /// is in the middle of a write; wakes the writer for whatever the socket does not take now
    /// (and for everything on a TLS connection).
    pub fn flush(&self) {
        let mut st = self.lock();
        if st.gone || st.closing || st.writing || st.frames.is_empty() {
            return;
        }
        let written = match &st.socket {
            Some(socket) => write_now((**socket).as_ref(), &st.frames),
            None => 0,
        };
        st.consume(written);
        let wake = !st.frames.is_empty();
        drop(st);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Asks the writer to shut the socket down after what is queued; frames routed later are
    /// dropped.
    pub fn close(&self) {
        let mut st = self.lock();
        if st.gone || st.closing {
            return;
        }
        st.closing = true;
        drop(st);
        self.wake.notify_one();
    }

    /// The connection is over: frames are dropped from now on and the socket is let go.
    pub fn end(&self) {
        let mut st = self.lock();
        st.gone = true;
        st.frames.clear();
        st.bytes = 0;
        st.socket = None;
    }

    /// Bytes queued for the writer.
    pub fn queued_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Moves queued frames into `batch` (up to about [`WRITE_BATCH_BYTES`]) for the writer.
    fn take(&self, batch: &mut BytesMut) -> Take {
        let mut st = self.lock();
        if st.frames.is_empty() {
            st.writing = false;
            return if st.closing { Take::Close } else { Take::Empty };
        }
        while batch.len() < WRITE_BATCH_BYTES
            && let Some(f) = st.frames.pop_front()
        {
            st.bytes -= f.len();
            batch.extend_from_slice(&f);
        }
        st.writing = true;
        Take::Frames
    }
}

impl State {
    /// Drops the first `n` bytes of the queue (written directly).
    fn consume(&mut self, mut n: usize) {
        self.bytes -= n;
        while n > 0
            && let Some(f) = self.frames.front_mut()
        {
            if f.len() > n {
                *f = f.slice(n..);
                return;
            }
            n -= f.len();
            self.frames.pop_front();
        }
    }
}

enum Take {
    Frames,
    Empty,
    Close,
}

/// One non-blocking write of the first frames of the queue (at most
/// [`DIRECT_WRITE_FRAMES_MAX`]); the bytes written, 0 when the socket takes nothing now. An error
/// other than "would block" is left for the writer, whose next write meets it.
fn write_now(socket: &TcpStream, frames: &VecDeque<Bytes>) -> usize {
    let r = if frames.len() == 1 {
        socket.try_write(&frames[0])
    } else {
        let slices: Vec<IoSlice<'_>> =
            frames.iter().take(DIRECT_WRITE_FRAMES_MAX).map(|f| IoSlice::new(f)).collect();
        socket.try_write_vectored(&slices)
    };
    r.unwrap_or(0)
}

/// The writer task: sends what is queued, a batch per socket write, until a close (then shuts
/// the socket down) or a failed write.
pub async fn write_loop(mut wr: impl AsyncWrite + Unpin, outbox: Arc<Outbox>) {
    // Grows with what is written at once (up to about WRITE_BATCH_BYTES), so idle sessions stay
    // small.
    let mut batch = BytesMut::new();
    loop {
        match outbox.take(&mut batch) {
            Take::Frames => {
                if write_all(&mut wr, &mut batch).await.is_err() {
                    outbox.end();
                    return;
                }
                batch.clear();
            }
            Take::Empty => outbox.wake.notified().await,
            Take::Close => {
                let _ = wr.shutdown().await;
                outbox.end();
                return;
            }
        }
    }
}

async fn write_all(wr: &mut (impl AsyncWrite + Unpin), batch: &mut BytesMut) -> io::Result<()> {
    while !batch.is_empty() {
        if wr.write_buf(batch).await? == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
