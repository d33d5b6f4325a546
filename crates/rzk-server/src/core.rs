//! The core loop: the one task that owns the [`Node`]. Connections, the log thread and the ticker
//! send it [`CoreMsg`]s over one bounded channel; it steps the node, hands txns to the log thread
//! and routes replies and watch events to the connections' writers. Nothing else touches the node.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc as smpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rzk_node::{ClientOut, ConnId, Input, Node};
use rzk_proto::Request;
use rzk_proto::connect::ConnectRequest;
use tokio::sync::{mpsc, oneshot};

use crate::account;
use crate::four_letter::{self, FourLetterRequest};
use crate::log_thread::LogCmd;
use crate::outbox::Outbox;
use crate::route::{RouteCtx, Router};
use crate::settings::Settings;
use crate::snapshotter::{SnapDue, Snapshotter};
use crate::stats::{ConnStats, ServerStats, SharedCounters};

/// Messages handled before the core flushes its output.
const BATCH_MSGS_MAX: usize = 256;
/// How often time advances in the core.
pub const TICK_INTERVAL_MS: u64 = 100;

pub enum CoreMsg {
    Accepted {
        conn: ConnId,
        remote: SocketAddr,
        /// Ids proved before the first frame (a TLS client certificate's x509 id).
        ids: Vec<rzk_proto::Id>,
        outbox: Arc<Outbox>,
    },
    Connect {
        conn: ConnId,
        req: ConnectRequest,
    },
    Request {
        conn: ConnId,
        xid: i32,
        req: Request,
    },
    Malformed {
        conn: ConnId,
        xid: i32,
        op: i32,
    },
    Closed {
        conn: ConnId,
    },
    Persisted {
        through: i64,
        txns: usize,
        fsync_ms: u64,
        /// The log's generation (see `LogCmd::Truncate`).
        generation: u64,
    },
    /// From the election port or a learner connection (quorum mode).
    Peer(rzk_node::PeerInput),
    /// From the connection to the leader; dropped unless `generation` is the current link's.
    LeaderLink {
        generation: u64,
        input: rzk_node::PeerInput,
    },
    StorageFailed(String),
    /// The log thread could not store the txns it was given (see `log_thread`).
    LogFailed {
        error: String,
    },
    /// The snapshot writer finished a snapshot.
    SnapshotWritten {
        zxid: i64,
        ms: u64,
        ok: bool,
    },
    FourLetter {
        req: Box<FourLetterRequest>,
        reply: oneshot::Sender<String>,
    },
    /// An admin-server or metrics-endpoint request (`crate::admin::core_side`).
    Admin(Box<crate::admin::AdminMsg>),
    Shutdown,
}

/// The core's view of a connection.
pub struct ConnHandle {
    /// Where its replies and watch events go.
    pub outbox: Arc<Outbox>,
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
    pub digest_log: VecDeque<(i64, i64)>,
    /// Counters the connection tasks bump themselves.
    pub shared: Arc<SharedCounters>,
    /// The last snapshot written: (zxid, wall-clock ms).
    pub last_snapshot: Option<(i64, i64)>,
}

/// What loading the database measured, for the start-up metrics and `hash`.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    pub db_init_ms: u64,
    pub txns_replayed: usize,
    pub replay_ms: u64,
    pub digest_log: Vec<(i64, i64)>,
}

pub fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub struct Core {
    node: Node,
    shell: Shell,
    log_tx: smpsc::Sender<LogCmd>,
    snapshotter: Snapshotter,
    epoch: Instant,
    /// Admin `snapshot` requests waiting for the snapshot to be written.
    snapshot_waiters: crate::admin::snapshot::Waiters,
    /// The ensemble side, when this server is a quorum member.
    quorum: Option<crate::quorum::shell::QuorumShell>,
    /// Carries client output to the connections.
    router: Router,
}

impl Core {
    pub fn new(
        node: Node,
        settings: Settings,
        log_tx: smpsc::Sender<LogCmd>,
        snapshotter: Snapshotter,
    ) -> Core {
        let epoch = Instant::now();
        let mut stats = ServerStats::default();
        if settings.prometheus.is_some() {
            stats.metrics.keep_windows();
        }
        let shell = Shell {
            settings,
            stats,
            conns: HashMap::new(),
            started: epoch,
            trace_mask: four_letter::TRACE_MASK_DEFAULT,
            digest_log: VecDeque::new(),
            shared: Arc::default(),
            last_snapshot: None,
        };
        Core {
            node,
            shell,
            log_tx,
            snapshotter,
            epoch,
            snapshot_waiters: Default::default(),
            quorum: None,
            router: Router::default(),
        }
    }

    /// Makes this core a quorum member's: peer messages go through `q`.
    pub fn set_quorum(&mut self, q: crate::quorum::shell::QuorumShell) {
        self.quorum = Some(q);
    }

    /// Starts a background snapshot of the tree as it is now.
    pub fn start_snapshot(&mut self) {
        self.snapshotter.start(self.node.tree());
    }

    /// The counters connection tasks share with the core.
    pub fn shared_counters(&self) -> Arc<SharedCounters> {
        self.shell.shared.clone()
    }

    /// Records what loading the database measured (`ZKDatabase.loadDataBase`'s metrics).
    pub fn record_startup(&mut self, s: Startup) {
        let m = &mut self.shell.stats.metrics;
        m.db_init_time.add(s.db_init_ms as i64);
        if s.txns_replayed > 0 {
            m.startup_txns_loaded.add(s.txns_replayed as i64);
            m.startup_txns_load_time.add(s.replay_ms as i64);
        }
        for (zxid, digest) in s.digest_log {
            four_letter::hash::record(&mut self.shell.digest_log, zxid, digest);
        }
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
            self.flush()?;
        }
    }

    /// Handles one message; false on shutdown.
    fn handle(&mut self, msg: CoreMsg) -> Result<bool, String> {
        match msg {
            CoreMsg::Accepted { conn, remote, ids, outbox } => {
                let stats = ConnStats::new(remote, wall_ms());
                self.shell.conns.insert(conn, ConnHandle { outbox, stats });
                self.node.step(Input::Accepted { conn, remote_ip: remote.ip().to_string() });
                if !ids.is_empty() {
                    self.node.step(Input::ConnAuth { conn, ids });
                }
            }
            CoreMsg::Connect { conn, req } => {
                let h = self.shell.conns.get_mut(&conn).map(|h| &mut h.stats);
                account::handshake_received(&mut self.shell.stats, h, req.session_id == 0);
                // A connect may be the first thing after a long idle period: advance time first.
                let (e, w) = (self.elapsed_ms(), wall_ms());
                self.node.step(Input::Tick { elapsed_ms: e, wall_ms: w });
                self.node.step(Input::Connect { conn, req });
            }
            CoreMsg::Request { conn, xid, req } => {
                let h = self.shell.conns.get_mut(&conn).map(|h| &mut h.stats);
                account::request_received(&mut self.shell.stats, h, xid, req.is_write());
                self.node.step(Input::Request { conn, xid, req });
            }
            CoreMsg::Malformed { conn, xid, op } => {
                let h = self.shell.conns.get_mut(&conn).map(|h| &mut h.stats);
                account::request_received(&mut self.shell.stats, h, xid, false);
                self.node.step(Input::Malformed { conn, xid, op });
            }
            CoreMsg::Closed { conn } => {
                self.shell.conns.remove(&conn);
                self.node.step(Input::Closed { conn });
            }
            CoreMsg::Persisted { through, txns, fsync_ms, generation } => {
                if self.quorum.as_ref().is_some_and(|q| generation < q.log_generation) {
                    // About appends from before the log was cut (TRUNC/SNAP).
                    return Ok(true);
                }
                let warn_ms = self.shell.settings.fsync_warning_ms;
                account::persisted(&mut self.shell.stats, txns, fsync_ms, warn_ms);
                self.persisted(through);
            }
            CoreMsg::Peer(input) => self.node.step(Input::Peer(input)),
            CoreMsg::LeaderLink { generation, input } => {
                if self.quorum.as_ref().is_some_and(|q| q.links.leader_generation() == generation) {
                    self.node.step(Input::Peer(input));
                }
            }
            CoreMsg::StorageFailed(e) => return Err(e),
            CoreMsg::LogFailed { error } => {
                tracing::error!(%error, "transaction log write failed; failing the txns in flight");
                self.node.step(Input::LogFailed);
                if self.log_tx.send(LogCmd::Resume).is_err() {
                    tracing::error!("the log thread is gone");
                }
            }
            CoreMsg::SnapshotWritten { zxid, ms, ok } => {
                self.snapshotter.written();
                if ok {
                    self.shell.last_snapshot = Some((zxid, wall_ms()));
                    account::snapshot_taken(&mut self.shell.stats, ms);
                }
                let s = &self.shell.settings;
                self.snapshot_waiters.written(&s.data_dir, s.storage.compression, zxid, ok);
            }
            CoreMsg::FourLetter { req, reply } => {
                // ZooKeeper counts the word as a packet received before it runs the command, and
                // the reply's writes as sent after.
                self.shell.stats.packets_received += 1;
                let text = four_letter::render(&req, &self.node, &mut self.shell);
                self.shell.stats.packets_sent += four_letter::reply_packets(&text);
                let _ = reply.send(text);
            }
            CoreMsg::Admin(msg) => {
                let ctx = crate::admin::core_side::AdminCtx {
                    elapsed_ms: self.elapsed_ms(),
                    node: &mut self.node,
                    shell: &mut self.shell,
                    snapshotter: &mut self.snapshotter,
                    waiters: &mut self.snapshot_waiters,
                    log_tx: &self.log_tx,
                };
                crate::admin::core_side::handle(*msg, ctx);
            }
            CoreMsg::Shutdown => {
                if let Some(q) = &self.quorum {
                    q.stop();
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The log is durable through `through` (the node applies or acknowledges what it can).
    fn persisted(&mut self, through: i64) {
        self.node.step(Input::Persisted { through });
    }

    /// Carries out the node's output: storage work first (quorum mode), txns to the log thread,
    /// messages to the ensemble, then frames to connections.
    fn flush(&mut self) -> Result<(), String> {
        for (zxid, digest) in self.node.take_digests() {
            four_letter::hash::record(&mut self.shell.digest_log, zxid, digest);
        }
        loop {
            let ready = self.node.ready();
            if ready.is_empty() {
                break;
            }
            self.flush_ready(ready)?;
        }
        Ok(())
    }

    fn flush_ready(&mut self, ready: rzk_node::Ready) -> Result<(), String> {
        if !ready.storage.is_empty() {
            let Some(q) = self.quorum.as_mut() else { return Err("storage work outside an ensemble".into()) };
            let s = &self.shell.settings;
            let ctx = crate::quorum::shell::StorageCtx {
                log_tx: &self.log_tx,
                data_dir: &s.data_dir,
                data_log_dir: &s.data_log_dir,
                storage: &s.storage,
                extended_types: s.node.extended_types,
            };
            for op in ready.storage {
                if matches!(op, rzk_node::StorageOp::TruncateLog { .. }) {
                    // No snapshot taken across the cut survives it (see `SnapshotGate`).
                    let gate = self.snapshotter.gate();
                    let mut generation = gate.hold();
                    *generation += 1;
                    q.storage_op(op, &mut self.node, &ctx)?;
                } else {
                    q.storage_op(op, &mut self.node, &ctx)?;
                }
            }
        }
        if !ready.log.is_empty() {
            let bytes: u64 = ready.log.iter().map(|a| a.bytes.len() as u64).sum();
            let txns = ready.log.len() as u64;
            if self.log_tx.send(LogCmd::Append(ready.log)).is_err() {
                tracing::error!("the log thread is gone");
            }
            match self.snapshotter.on_logged(txns, bytes) {
                SnapDue::Nothing => {}
                SnapDue::Roll => {
                    let _ = self.log_tx.send(LogCmd::Roll);
                }
                SnapDue::RollAndSnapshot => {
                    let _ = self.log_tx.send(LogCmd::Roll);
                    self.snapshotter.start(self.node.tree());
                }
            }
        }
        if let Some(q) = &self.quorum {
            for o in ready.peer_out {
                q.route(o);
            }
        }
        let (now_ms, zxid) = (self.elapsed_ms(), self.node.tree().last_processed_zxid);
        for (conn, out) in ready.client_out {
            // Only a reply records its session (looked up per reply, not per watch event).
            let session =
                if matches!(out, ClientOut::Reply { .. }) { self.node.conn_session(conn) } else { None };
            let ctx = RouteCtx { session, now_ms, zxid };
            self.router.route(&mut self.shell, conn, out, ctx);
        }
        self.router.finish();
        Ok(())
    }
}
