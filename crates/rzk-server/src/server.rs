//! Start-up and the accept loop, in the order the seed documents give for the standalone path
//! (`ZooKeeperServerMain.runFromConfig`): bind the client port, load the database, start the
//! request pipeline (core loop and log thread), then accept connections: on the client port
//! (plain, or plain and TLS with `client.portUnification`) and on the secure client port (TLS).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rzk_node::{Node, PeerInput, QuorumSetup};
use rzk_storage::FileTxnLog;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::admin::http::{CoreLink, HttpServer};
use crate::conn::{self, ConnParams};
use crate::core::{Core, CoreMsg, Startup, wall_ms};
use crate::four_letter::host::DataDirs;
use crate::log_thread;
use crate::quorum::links::Links;
use crate::quorum::qcm::{Qcm, QcmConfig};
use crate::quorum::setup::{QuorumSettings, load_epochs};
use crate::quorum::shell::QuorumShell;
use crate::quorum::tls::QuorumTls;
use crate::restore::restore;
use crate::settings::Settings;
use crate::snapshotter::{SnapshotGate, Snapshotter, snapshot_now, spawn_writer};
use rzk_node::audit::{self, AuditEvent, AuditResult};

/// Messages waiting for the core before senders have to wait.
pub const CORE_INBOX_MSGS_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind the client port {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    /// `JettyAdminServer.start` failed: ZooKeeper exits ("Unable to start AdminServer").
    #[error("Unable to start AdminServer on {addr}: {source}")]
    AdminBind { addr: SocketAddr, source: std::io::Error },
    /// `PrometheusMetricsProvider.start` failed: ZooKeeper exits ("Cannot boot MetricsProvider").
    #[error("Cannot start the Prometheus /metrics endpoint on {addr}: {source}")]
    MetricsBind { addr: SocketAddr, source: std::io::Error },
    #[error("client TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("quorum TLS (zookeeper.ssl.quorum.*): {0}")]
    QuorumTls(crate::tls::TlsError),
    #[error("cannot load the database: {0}")]
    Restore(#[from] crate::restore::RestoreError),
    #[error("cannot open the transaction log: {0}")]
    Log(#[from] rzk_storage::LogError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running server.
pub struct ServerHandle {
    pub local_addr: SocketAddr,
    /// The secure client port's address, when one is configured (`secureClientPort`).
    pub secure_addr: Option<SocketAddr>,
    /// The admin server's address, when it runs (`admin.enableServer`).
    pub admin_addr: Option<SocketAddr>,
    /// The Prometheus endpoint's address, when that provider is configured.
    pub metrics_addr: Option<SocketAddr>,
    core_tx: mpsc::Sender<CoreMsg>,
    done: tokio::task::JoinHandle<Result<(), String>>,
    /// Who runs the server, when the audit log is on.
    audit_user: Option<String>,
    /// The HTTP servers; they stop when the handle goes.
    _http: Vec<HttpServer>,
}

impl ServerHandle {
    /// Stops the core; connections end with it.
    pub async fn shutdown(self) -> Result<(), String> {
        if let Some(user) = &self.audit_user {
            // ZooKeeper's shutdown hook: the stop is logged as invoked.
            AuditEvent::server(user, audit::OP_STOP, AuditResult::Invoked).emit();
        }
        let _ = self.core_tx.send(CoreMsg::Shutdown).await;
        self.done.await.map_err(|e| e.to_string())?
    }

    /// Waits until the server stops by itself (a storage failure).
    pub async fn wait(self) -> Result<(), String> {
        self.done.await.map_err(|e| e.to_string())?
    }
}

fn bind(settings: &Settings, addr: SocketAddr) -> Result<TcpListener, StartError> {
    let err = |source| StartError::Bind { addr, source };
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
            .map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    let backlog = if settings.listen_backlog > 0 { settings.listen_backlog as u32 } else { 1024 };
    socket.listen(backlog).map_err(err)
}

/// Binds, loads the database and starts serving. Returns once clients can connect.
pub async fn start(mut settings: Settings) -> Result<ServerHandle, StartError> {
    let listener = bind(&settings, settings.client_addr)?;
    let local_addr = listener.local_addr()?;
    // `conf` reports the port actually bound (a configured port 0 picks one).
    settings.client_addr = local_addr;
    // TLS: the stores are read (and a bad one refuses the start) before the database loads.
    let tls = match &settings.tls {
        Some(t) => {
            Some(crate::tls::TlsSource::new(t.settings.clone(), settings.node.auth.x509_super_user.clone())?)
        }
        None => None,
    };
    let secure_listener = match settings.secure_client_addr {
        Some(addr) => Some(bind(&settings, addr)?),
        None => None,
    };
    let secure_addr = secure_listener.as_ref().map(|l| l.local_addr()).transpose()?;
    if let Some(a) = secure_addr {
        settings.secure_client_addr = Some(a);
        settings.secure_client_port = Some(a.port());
    }
    let dirs = DataDirs { data_dir: settings.data_dir.clone(), data_log_dir: settings.data_log_dir.clone() };
    // ZooKeeperServerMain starts the metrics provider and the admin server before loading the
    // database; until the core runs they answer "not serving".
    let link = Arc::new(CoreLink::default());
    let (http, admin_addr, metrics_addr) = start_http(&settings, &link, &dirs).await?;
    let t = std::time::Instant::now();
    let st = &settings.storage;
    let restored = restore(&settings.data_dir, &settings.data_log_dir, st, settings.node.extended_types)?;
    let load_ms = t.elapsed().as_millis() as u64;
    let tree = restored.tree;
    tracing::info!(
        snapshot = %format!("0x{:x}", restored.snapshot_zxid),
        txns = restored.txns,
        zxid = %format!("0x{:x}", tree.last_processed_zxid),
        ms = load_ms,
        snapshot_ms = restored.snapshot_load_ms,
        replay_ms = restored.replay_ms,
        "database loaded"
    );
    crate::heap::trim();
    // ZooKeeperServer.loadData ends with a snapshot of what was loaded. rzk takes it before
    // serving only when there is no snapshot at all (a new, empty database: the log alone must
    // never be all there is); otherwise it is taken in the background while serving, which keeps
    // restarts short (the old snapshot and the log stay until it is written).
    let background_snapshot = if rzk_storage::snapfile::snapshot_files(&settings.data_dir)?.is_empty() {
        let snap = snapshot_now(&settings.data_dir, &tree, st.compression)?;
        tracing::info!(file = %snap.display(), "snapshot taken at start-up");
        false
    } else {
        restored.txns > 0
    };
    let log = FileTxnLog::open(&settings.data_log_dir, settings.prealloc_bytes, settings.force_sync)?;

    let (core_tx, core_rx) = mpsc::channel(CORE_INBOX_MSGS_MAX);
    let (log_tx, log_rx) = std::sync::mpsc::channel();
    log_thread::spawn(log, log_rx, core_tx.clone(), settings.fsync_warning_ms)?;
    let (snap_tx, snap_rx) = std::sync::mpsc::channel();
    let gate = SnapshotGate::default();
    spawn_writer(settings.data_dir.clone(), st.compression, gate.clone(), snap_rx, core_tx.clone())?;
    let seed = wall_ms() as u64 ^ ((std::process::id() as u64) << 32);
    let snapshotter = Snapshotter::new(st.clone(), snap_tx, gate, seed);
    // Session ids come from the time since boot, as Java's `Time.currentElapsedTime()`.
    if settings.node.boot_elapsed_ms.is_none() {
        settings.node.boot_elapsed_ms = boot_elapsed_ms();
    }
    let node = match &settings.quorum {
        None => Node::new(settings.node.clone(), tree, 0, wall_ms()),
        Some(q) => {
            let (accepted, current) = load_epochs(&settings.data_dir, tree.last_processed_zxid)?;
            tracing::info!(my_id = q.my_id, accepted, current, "quorum member starting: LOOKING");
            let setup = QuorumSetup {
                my_id: q.my_id,
                qv: q.qv.clone(),
                accepted_epoch: accepted,
                current_epoch: current,
                init_limit: q.init_limit,
                sync_limit: q.sync_limit,
                recent_txns: restored.recent.clone(),
                commit_log_count: q.commit_log_count,
                force_snap_sync: q.force_snap_sync,
                notification_interval_ms: (
                    rzk_zab::election::MIN_NOTIFICATION_INTERVAL_MS,
                    rzk_zab::election::MAX_NOTIFICATION_INTERVAL_MS,
                ),
            };
            Node::new_quorum(settings.node.clone(), tree, 0, wall_ms(), setup)
        }
    };
    let mut core = Core::new(node, settings.clone(), log_tx, snapshotter);
    if let Some(q) = &settings.quorum {
        core.set_quorum(start_quorum(q, settings.node.tick_time_ms, &core_tx).await?);
    }
    if background_snapshot {
        core.start_snapshot();
    }
    core.record_startup(Startup {
        db_init_ms: load_ms,
        txns_replayed: restored.txns,
        replay_ms: restored.replay_ms,
        digest_log: restored.digest_log,
    });
    if let Some(hours) = st.purge_interval_hours {
        tokio::spawn(purge_task(
            settings.data_dir.clone(),
            settings.data_log_dir.clone(),
            st.snap_retain_count,
            hours,
        ));
    } else {
        tracing::info!("Purge task is not scheduled.");
    }
    let shared = core.shared_counters();
    let done = tokio::spawn(core.run(core_rx));
    link.set(core_tx.clone());

    let params = Arc::new(ConnParams {
        frame_bytes_max: settings.frame_bytes_max,
        four_letter_words: settings.four_letter_words.clone(),
        dirs,
        shared,
    });
    let next_conn = Arc::new(AtomicU64::new(1));
    let unified = settings.tls.as_ref().is_some_and(|t| t.port_unification);
    let plain_mode = match &tls {
        Some(src) if unified => Mode::Unified(src.clone()),
        _ => Mode::Plain,
    };
    let limits = (settings.max_client_cnxns, settings.max_cnxns);
    tokio::spawn(accept_loop(
        listener,
        plain_mode,
        core_tx.clone(),
        params.clone(),
        limits,
        next_conn.clone(),
    ));
    if let (Some(l), Some(src)) = (secure_listener, &tls) {
        tokio::spawn(accept_loop(l, Mode::Tls(src.clone()), core_tx.clone(), params, limits, next_conn));
        tracing::info!(addr = ?secure_addr, "secure client port open (TLS)");
    }
    if settings.quorum.is_some() {
        tracing::info!(addr = %local_addr, "client port open; clients are served once a leader is established");
    } else {
        tracing::info!(addr = %local_addr, "serving clients");
    }
    let audit_user = settings.node.audit_user.clone();
    match &audit_user {
        Some(user) => {
            tracing::info!("ZooKeeper audit is enabled.");
            AuditEvent::server(user, audit::OP_START, AuditResult::Success).emit();
        }
        None => tracing::info!("ZooKeeper audit is disabled."),
    }
    Ok(ServerHandle {
        local_addr,
        secure_addr,
        admin_addr,
        metrics_addr,
        core_tx,
        done,
        audit_user,
        _http: http,
    })
}

/// Opens a quorum member's ports: the election port (QuorumCnxManager) and the quorum port
/// (learners). Election notifications are forwarded to the core as they arrive.
async fn start_quorum(
    q: &QuorumSettings,
    tick_time_ms: i64,
    core_tx: &mpsc::Sender<CoreMsg>,
) -> Result<QuorumShell, StartError> {
    let tls = match &q.tls {
        Some(t) => Some(QuorumTls::new(t.clone()).map_err(StartError::QuorumTls)?),
        None => None,
    };
    let cfg = QcmConfig {
        my_id: q.my_id,
        listen: q.election_listen,
        my_addr_text: q.election_text.clone(),
        peers: q.election_peers.clone(),
        cnx_timeout: q.cnx_timeout,
        tls: tls.clone(),
        sasl: q.sasl.clone(),
    };
    let (qcm, mut inbox) =
        Qcm::start(cfg).await.map_err(|source| StartError::Bind { addr: q.election_listen, source })?;
    let listener =
        bind_std(q.quorum_listen).map_err(|source| StartError::Bind { addr: q.quorum_listen, source })?;
    let links = Links::new(core_tx.clone(), tls, tokio::runtime::Handle::current()).with_sasl(
        q.sasl.clone(),
        std::time::Duration::from_millis((tick_time_ms.max(1) as u64).saturating_mul(q.init_limit as u64)),
    );
    links.serve_learners(listener)?;
    let tx = core_tx.clone();
    tokio::spawn(async move {
        while let Some((from, bytes)) = inbox.recv().await {
            if tx.send(CoreMsg::Peer(PeerInput::Notification { from, bytes })).await.is_err() {
                return;
            }
        }
    });
    tracing::info!(election = %q.election_listen, quorum = %q.quorum_listen, "quorum ports open");
    Ok(QuorumShell::new(q.clone(), qcm, links, tick_time_ms, core_tx.clone()))
}

/// Milliseconds since boot (CLOCK_MONOTONIC, what `System.nanoTime` counts on Linux).
fn boot_elapsed_ms() -> Option<i64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some((secs * 1000.0) as i64)
}

/// A blocking listener with SO_REUSEADDR (a restarted member rebinds its port at once).
fn bind_std(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let domain = if addr.is_ipv4() { socket2::Domain::IPV4 } else { socket2::Domain::IPV6 };
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(64)?;
    Ok(socket.into())
}

/// Starts the Prometheus endpoint and the admin server, as configured.
async fn start_http(
    settings: &Settings,
    link: &Arc<CoreLink>,
    dirs: &DataDirs,
) -> Result<(Vec<HttpServer>, Option<SocketAddr>, Option<SocketAddr>), StartError> {
    let mut servers = Vec::new();
    let mut metrics_addr = None;
    if let Some(p) = &settings.prometheus {
        let server = crate::prometheus::start(p, link.clone())
            .await
            .map_err(|source| StartError::MetricsBind { addr: p.addr, source })?;
        metrics_addr = Some(server.local_addr);
        servers.push(server);
    }
    let mut admin_addr = None;
    if let Some(a) = &settings.admin {
        let server =
            crate::admin::http::start(a.clone(), link.clone(), dirs.clone(), settings.node.extended_types)
                .await
                .map_err(|source| StartError::AdminBind { addr: a.addr, source })?;
        admin_addr = Some(server.local_addr);
        servers.push(server);
    }
    Ok((servers, admin_addr, metrics_addr))
}

/// Live connections per client address and in total, for maxClientCnxns and maxCnxns.
#[derive(Default)]
struct ConnCounts {
    per_ip: HashMap<IpAddr, usize>,
    total: usize,
}

/// What a listener's connections speak.
#[derive(Clone)]
enum Mode {
    Plain,
    /// TLS only (the secure client port).
    Tls(Arc<crate::tls::TlsSource>),
    /// TLS or plain, told apart by the first byte (`client.portUnification`).
    Unified(Arc<crate::tls::TlsSource>),
}

/// Accepts connections until the core stops. Each listener counts its own connections against
/// `(maxClientCnxns, maxCnxns)`, as each of ZooKeeper's connection factories does; connection
/// ids come from one counter shared by all listeners.
async fn accept_loop(
    listener: TcpListener,
    mode: Mode,
    core: mpsc::Sender<CoreMsg>,
    params: Arc<ConnParams>,
    (per_ip_max, total_max): (usize, usize),
    next_conn: Arc<AtomicU64>,
) {
    let counts = Arc::new(Mutex::new(ConnCounts::default()));
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if core.is_closed() {
            return;
        }
        if !admit(&counts, remote.ip(), per_ip_max, total_max) {
            continue;
        }
        let conn = next_conn.fetch_add(1, Ordering::Relaxed);
        let (core, params, counts, mode) = (core.clone(), params.clone(), counts.clone(), mode.clone());
        tokio::spawn(async move {
            serve_counted(stream, mode, conn, remote, core, &params).await;
            release(&counts, remote.ip());
        });
    }
}

async fn serve_counted(
    stream: TcpStream,
    mode: Mode,
    conn: u64,
    remote: SocketAddr,
    core: mpsc::Sender<CoreMsg>,
    p: &ConnParams,
) {
    let src = match mode {
        Mode::Plain => return conn::serve(stream, conn, remote, core, p).await,
        Mode::Tls(src) => src,
        Mode::Unified(src) => match crate::tls::starts_tls(&stream).await {
            Ok(Some(true)) => src,
            Ok(Some(false)) => return conn::serve(stream, conn, remote, core, p).await,
            Ok(None) | Err(_) => return,
        },
    };
    match crate::tls::handshake(&src, stream).await {
        Ok((tls, ids)) => {
            let (rd, wr) = tokio::io::split(tls);
            conn::serve_io(conn::Halves { rd, wr, socket: None }, conn, remote, ids, core, p).await;
        }
        Err(reason) => crate::tls::log_refused(conn, remote, &reason),
    }
}

fn admit(counts: &Mutex<ConnCounts>, ip: IpAddr, per_ip_max: usize, total_max: usize) -> bool {
    let Ok(mut c) = counts.lock() else { return false };
    let mine = c.per_ip.get(&ip).copied().unwrap_or(0);
    if per_ip_max > 0 && mine >= per_ip_max {
        tracing::warn!(%ip, max = per_ip_max, "Too many connections from {ip} - max is {per_ip_max}");
        return false;
    }
    if total_max > 0 && c.total >= total_max {
        tracing::warn!(max = total_max, "too many connections in total; refusing one");
        return false;
    }
    *c.per_ip.entry(ip).or_insert(0) += 1;
    c.total += 1;
    true
}

fn release(counts: &Mutex<ConnCounts>, ip: IpAddr) {
    if let Ok(mut c) = counts.lock() {
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&ip);
            }
        }
    }
}

/// `DatadirCleanupManager`: purge at start and then every `hours`.
async fn purge_task(
    data_dir: std::path::PathBuf,
    data_log_dir: std::path::PathBuf,
    retain: usize,
    hours: u32,
) {
    tracing::info!(retain, hours, "purge task scheduled");
    let mut every = tokio::time::interval(std::time::Duration::from_secs(hours as u64 * 3600));
    loop {
        every.tick().await;
        let (d, l) = (data_dir.clone(), data_log_dir.clone());
        match tokio::task::spawn_blocking(move || rzk_storage::purge::purge(&d, &l, retain)).await {
            Ok(Ok(removed)) => tracing::info!(files = removed.len(), "purge task completed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "purge failed"),
            Err(e) => tracing::warn!(error = %e, "purge task panicked"),
        }
    }
}
