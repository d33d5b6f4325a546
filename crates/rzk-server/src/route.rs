//! Routing the node's client output to the connections' outboxes (`outbox`).
//!
//! Replies are queued for the connection's writer task, which batches them. A watch notification
//! takes the direct path: it is encoded once per change and its bytes shared by every watcher,
//! queued without waking the writer, and at the end of the core's batch each outbox that got one
//! is flushed straight into its socket, with no wake-up of its writer (by the core, and for a large
//! fan-out half of them by a second thread: `fanout`).

use bytes::{BufMut, Bytes, BytesMut};
use rzk_node::{ClientOut, ConnId};
use rzk_proto::response::encode_reply;
use rzk_proto::{Jute, ReplyHeader, WatcherEvent};
use std::sync::Arc;

use crate::account::{self, Sent};
use crate::core::Shell;
use crate::fanout::FanoutThread;
use crate::outbox::Outbox;

/// What the node knew when it produced the output being routed.
#[derive(Debug, Clone, Copy)]
pub struct RouteCtx {
    /// The connection's session (for `cons`), when routing a reply.
    pub session: Option<i64>,
    pub now_ms: i64,
    /// The last zxid applied.
    pub zxid: i64,
}

#[derive(Debug, Default)]
pub struct Router {
    /// Outboxes with a notification queued for a direct write at the end of the batch.
    due: Vec<Arc<Outbox>>,
    /// The last notification encoded, and its frame (shared by every watcher of one change).
    last_event: Option<(Arc<WatcherEvent>, Bytes)>,
    /// Shares the flushes of a large fan-out.
    fanout: FanoutThread,
}

impl Router {
    /// Routes one output of the node to connection `conn`.
    pub fn route(&mut self, shell: &mut Shell, conn: ConnId, out: ClientOut, ctx: RouteCtx) {
        let Some(h) = shell.conns.get_mut(&conn) else { return };
        let (what, frame) = match out {
            ClientOut::Close { reason } => {
                tracing::debug!(conn, reason, "closing connection");
                h.outbox.close();
                return;
            }
            ClientOut::ConnectResponse(resp) => {
                let (id, to) = (resp.session_id, resp.time_out);
                account::handshake_answered(&mut shell.stats, &mut h.stats, id, to, ctx.zxid, ctx.now_ms);
                (Sent::Handshake, frame(|b| resp.encode(b)))
            }
            ClientOut::Event(ev) => {
                let f = self.event_frame(ev);
                account::sent(&mut shell.stats, &mut h.stats, Sent::Event(f.len() - 4));
                match h.outbox.defer(f) {
                    Ok(true) => self.due.push(h.outbox.clone()),
                    Ok(false) => {}
                    Err(_) => stalled(shell, conn),
                }
                return;
            }
            ClientOut::Reply { header, body, op } => {
                h.stats.session_id = ctx.session;
                account::replied(&mut shell.stats, &mut h.stats, &header, op, ctx.now_ms);
                let f = frame(|b| encode_reply(&header, &body, b));
                (Sent::Reply(f.len() - 4), f)
            }
        };
        account::sent(&mut shell.stats, &mut h.stats, what);
        if h.outbox.push(frame).is_err() {
            stalled(shell, conn);
        }
    }

    /// Flushes the outboxes that got a notification. Called at the end of every batch of output.
    pub fn finish(&mut self) {
        self.fanout.flush_all(&mut self.due);
    }

    /// The frame of `ev`: the last one's bytes again when it is the same notification.
    fn event_frame(&mut self, ev: Arc<WatcherEvent>) -> Bytes {
        if let Some((last, f)) = &self.last_event
            && (Arc::ptr_eq(last, &ev) || *last == ev)
        {
            return f.clone();
        }
        let header = ReplyHeader { xid: -1, zxid: -1, err: 0 };
        let f = frame(|b| {
            header.encode(b);
            ev.encode(b);
        });
        self.last_event = Some((ev, f.clone()));
        f
    }
}

/// A client that does not read what it is sent: its connection is dropped.
fn stalled(shell: &mut Shell, conn: ConnId) {
    tracing::warn!(conn, "client is not reading its replies; closing the connection");
    if let Some(h) = shell.conns.remove(&conn) {
        // Its writer may be stuck on a full socket: close it from the outside.
        h.outbox.kill.notify_one();
    }
}

/// Encodes a length-prefixed frame.
fn frame(f: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut b = BytesMut::with_capacity(128);
    b.put_i32(0);
    f(&mut b);
    let len = (b.len() - 4) as i32;
    b[..4].copy_from_slice(&len.to_be_bytes());
    b.freeze()
}
