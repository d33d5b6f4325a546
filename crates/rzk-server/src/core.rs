//! The core loop: the one task that owns the [`Node`]. Connections, the log thread and the ticker
//! send it [`CoreMsg`]s over one bounded channel; it steps the node, hands txns to the log thread
//! and routes replies and watch events to the connections' writers. Nothing else touches the node.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc as smpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use rzk_node::{ClientOut, ConnId, Input, LogAppend, Node};
use rzk_proto::connect::ConnectRequest;
use rzk_proto::response::encode_reply;
use rzk_proto::{Jute, ReplyHeader, Request};
use tokio::sync::{mpsc, oneshot};

use crate::four_letter;
use crate::settings::Settings;
use crate::stats::{ConnStats, ServerStats};

/// Frames a connection may have queued for writing before it counts as stalled and is closed.
pub const CONN_OUTBOX_FRAMES_MAX: usize = 16 * 1024;
/// Messages handled before the core flushes its output.
const BATCH_MSGS_MAX: usize = 256;
/// How often time advances in the core.
pub const TICK_INTERVAL_MS: u64 = 100;

/// What a connection's writer is told to do.
#[derive(Debug)]
pub enum Outgoing {
    Frame(Bytes),
    Close,
}

pub enum CoreMsg {
    Accepted { conn: ConnId, remote: SocketAddr, out: mpsc::Sender<Outgoing> },
    Connect { conn: ConnId, req: ConnectRequest },
    Request { conn: ConnId, xid: i32, req: Request },
    Malformed { conn: ConnId, xid: i32, op: i32 },
    Closed { conn: ConnId },
    Persisted { through: i64, txns: usize, fsync_ms: u64 },
    StorageFailed(String),
    FourLetter { word: [u8; 4], arg: Option<i64>, reply: oneshot::Sender<String> },
    Shutdown,
}

/// The core's view of a connection.
pub struct ConnHandle {
    pub out: mpsc::Sender<Outgoing>,
    pub stats: ConnStats,
}

/// Shell state the four-letter words read besides the node.
pub struct Shell {
    pub settings: Settings,
    pub stats: ServerStats,
    pub conns: HashMap<ConnId, ConnHandle>,
    pub started: Instant,
    pub trace_mask: i64,
    /// (zxid, digest) pairs logged every 128 zxids (`hash`).
    pub digest_log: Vec<(i64, i64)>,
}

pub fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub struct Core {
    node: Node,
    shell: Shell,
    log_tx: smpsc::Sender<Vec<LogAppend>>,
    epoch: Instant,
}

impl Core {
    pub fn new(node: Node, settings: Settings, log_tx: smpsc::Sender<Vec<LogAppend>>) -> Core {
        let epoch = Instant::now();
        let shell = Shell {
            settings,
            stats: ServerStats::default(),
            conns: HashMap::new(),
            started: epoch,
            trace_mask: 0,
            digest_log: Vec::new(),
        };
        Core { node, shell, log_tx, epoch }
    }

    fn elapsed_ms(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    /// Runs until shutdown or a storage failure (returned as an error).
    pub async fn run(mut self, mut rx: mpsc::Receiver<CoreMsg>) -> Result<(), String> {
        let mut tick = tokio::time::interval(Duration::from_millis(TICK_INTERVAL_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { return Ok(()) };
                    if !self.handle(msg)? {
                        return Ok(());
                    }
                    for _ in 0..BATCH_MSGS_MAX {
                        match rx.try_recv() {
                            Ok(m) => if !self.handle(m)? { return Ok(()) },
                            Err(_) => break,
                        }
                    }
                }
                _ = tick.tick() => {
                    let (e, w) = (self.elapsed_ms(), wall_ms());
                    self.node.step(Input::Tick { elapsed_ms: e, wall_ms: w });
                }
            }
            self.flush();
        }
    }

    /// Handles one message; false on shutdown.
    fn handle(&mut self, msg: CoreMsg) -> Result<bool, String> {
        match msg {
            CoreMsg::Accepted { conn, remote, out } => {
                let stats = ConnStats::new(remote, wall_ms());
                self.shell.conns.insert(conn, ConnHandle { out, stats });
                self.node.step(Input::Accepted { conn, remote_ip: remote.ip().to_string() });
            }
            CoreMsg::Connect { conn, req } => {
                self.shell.stats.packets_received += 1;
                if let Some(h) = self.shell.conns.get_mut(&conn) {
                    h.stats.received += 1;
                }
                // A connect may be the first thing after a long idle period: advance time first.
                let (e, w) = (self.elapsed_ms(), wall_ms());
                self.node.step(Input::Tick { elapsed_ms: e, wall_ms: w });
                self.node.step(Input::Connect { conn, req });
            }
            CoreMsg::Request { conn, xid, req } => {
                self.shell.stats.packets_received += 1;
                if let Some(h) = self.shell.conns.get_mut(&conn) {
                    h.stats.received += 1;
                    h.stats.pending.push_back((xid, Instant::now()));
                }
                self.node.step(Input::Request { conn, xid, req });
            }
            CoreMsg::Malformed { conn, xid, op } => {
                self.shell.stats.packets_received += 1;
                if let Some(h) = self.shell.conns.get_mut(&conn) {
                    h.stats.received += 1;
                    h.stats.pending.push_back((xid, Instant::now()));
                }
                self.node.step(Input::Malformed { conn, xid, op });
            }
            CoreMsg::Closed { conn } => {
                self.shell.conns.remove(&conn);
                self.node.step(Input::Closed { conn });
            }
            CoreMsg::Persisted { through, txns, fsync_ms } => {
                self.shell.stats.fsync_count += 1;
                self.shell.stats.fsync_total_ms += fsync_ms;
                self.shell.stats.commits += txns as u64;
                self.node.step(Input::Persisted { through });
                self.record_digest();
            }
            CoreMsg::StorageFailed(e) => return Err(e),
            CoreMsg::FourLetter { word, arg, reply } => {
                let text = four_letter::render(&word, arg, &self.node, &mut self.shell);
                let _ = reply.send(text);
            }
            CoreMsg::Shutdown => return Ok(false),
        }
        Ok(true)
    }

    fn record_digest(&mut self) {
        let zxid = self.node.tree().last_processed_zxid;
        if zxid > 0 && zxid % 128 == 0 && self.shell.digest_log.last().map(|d| d.0) != Some(zxid) {
            self.shell.digest_log.push((zxid, self.node.tree().digest()));
            if self.shell.digest_log.len() > 1024 {
                self.shell.digest_log.remove(0);
            }
        }
    }

    /// Carries out the node's output: txns to the log thread, then frames to connections.
    fn flush(&mut self) {
        let ready = self.node.ready();
        if !ready.log.is_empty() && self.log_tx.send(ready.log).is_err() {
            tracing::error!("the log thread is gone");
        }
        let now_wall = wall_ms();
        for (conn, out) in ready.client_out {
            self.route(conn, out, now_wall);
        }
    }

    fn route(&mut self, conn: ConnId, out: ClientOut, now_wall: i64) {
        let session = self.node.conn_session(conn);
        let Some(h) = self.shell.conns.get_mut(&conn) else { return };
        let frame = match out {
            ClientOut::Close { reason } => {
                tracing::debug!(conn, reason, "closing connection");
                if h.out.try_send(Outgoing::Close).is_err() {
                    self.shell.conns.remove(&conn);
                }
                return;
            }
            ClientOut::ConnectResponse(resp) => {
                h.stats.session_id = Some(resp.session_id);
                h.stats.session_timeout_ms = resp.time_out;
                frame(|b| resp.encode(b))
            }
            ClientOut::Event(ev) => {
                let header = ReplyHeader { xid: -1, zxid: -1, err: 0 };
                frame(|b| {
                    header.encode(b);
                    ev.encode(b);
                })
            }
            ClientOut::Reply { header, body, op } => {
                h.stats.session_id = session;
                if let Some(i) =
                    h.stats.pending.iter().position(|(x, _)| *x == header.xid || header.xid == -2)
                {
                    if let Some((_, at)) = h.stats.pending.remove(i) {
                        let ms = at.elapsed().as_millis() as u64;
                        h.stats.latency.add(ms);
                        h.stats.last_latency_ms = ms;
                        self.shell.stats.latency.add(ms);
                    }
                }
                h.stats.last_op = op;
                h.stats.last_cxid = header.xid;
                h.stats.last_zxid = header.zxid;
                h.stats.last_response_wall_ms = now_wall;
                frame(|b| encode_reply(&header, &body, b))
            }
        };
        h.stats.sent += 1;
        self.shell.stats.packets_sent += 1;
        if h.out.try_send(Outgoing::Frame(frame)).is_err() {
            tracing::warn!(conn, "client is not reading its replies; closing the connection");
            self.shell.conns.remove(&conn);
        }
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
