//! The AdminServer: ZooKeeper's HTTP admin interface (`JettyAdminServer` + `Commands`) on
//! `admin.serverAddress`:`admin.serverPort` (0.0.0.0:8080), every 3.8 command under
//! `admin.commandURL` (/commands) with ZooKeeper's names, aliases and JSON, plus 3.9's `snapshot`
//! and `restore`, and rzk's `/ready` and `/health`.
//!
//! The HTTP side ([`http`]) parses the request, gathers what needs the disk or /proc on a
//! blocking thread ([`AdminFacts`]), and asks the core with a [`CoreMsg::Admin`] message; the core
//! answers from the node and the shell ([`core_side`]), so the node is never shared across tasks.
//! The views of the data (`stats_view`, `tree_view`, `info_view`) read the same counters the
//! four-letter words print.
//!
//! [`CoreMsg::Admin`]: crate::core::CoreMsg::Admin

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;

use rzk_config::Config;
use tokio::sync::oneshot;

use crate::four_letter::host::{DataDirs, HostFacts};

pub mod auth;
pub mod commands;
pub mod core_side;
pub mod http;
pub mod http_db;
pub mod info_view;
pub mod json;
pub mod probes;
pub mod rate_limit;
pub mod readiness;
pub mod response;
pub mod restore;
pub mod snapshot;
pub mod stats_view;
pub mod tree_view;

use commands::Cmd;
use response::Response;

/// `zookeeper.admin.rateLimiterIntervalInMS`: one `snapshot` and one `restore` per interval.
pub const RATE_LIMIT_INTERVAL_MS_DEFAULT: u64 = 300_000;

/// The admin server's part of zoo.cfg (`admin.*`) and what some commands print from it.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// `admin.serverAddress`:`admin.serverPort`.
    pub addr: SocketAddr,
    /// `admin.commandURL`.
    pub command_url: String,
    /// `admin.idleTimeout`: how long an idle HTTP connection is kept.
    pub idle_timeout_ms: u64,
    /// `zookeeper.admin.rateLimiterIntervalInMS`.
    pub rate_limit_interval_ms: u64,
    /// `zookeeper.admin.snapshot.enabled` / `zookeeper.admin.restore.enabled` (3.9).
    pub snapshot_enabled: bool,
    pub restore_enabled: bool,
    /// zoo.cfg as read (`initial_configuration`).
    pub initial_config: String,
    /// The system properties (`-D` flags and zoo.cfg fall-through keys), for `system_properties`.
    pub system_properties: Vec<(String, String)>,
}

impl AdminSettings {
    /// On 127.0.0.1 and a port the OS picks (tests).
    pub fn for_test() -> AdminSettings {
        AdminSettings {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            command_url: "/commands".to_owned(),
            idle_timeout_ms: 30_000,
            rate_limit_interval_ms: RATE_LIMIT_INTERVAL_MS_DEFAULT,
            snapshot_enabled: true,
            restore_enabled: true,
            initial_config: String::new(),
            system_properties: Vec::new(),
        }
    }

    /// From the validated zoo.cfg: `None` when `admin.enableServer=false`.
    pub fn from_config(c: &Config) -> Result<Option<AdminSettings>, String> {
        let a = &c.admin;
        if !a.enabled {
            return Ok(None);
        }
        let addr = resolve(&a.server_address, a.server_port)
            .ok_or_else(|| format!("cannot resolve admin.serverAddress {}", a.server_address))?;
        let props = &c.system_props;
        let flag = |name: &str| props.get(name).is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        Ok(Some(AdminSettings {
            addr,
            command_url: a.command_url.clone(),
            idle_timeout_ms: a.idle_timeout_ms.max(0) as u64,
            rate_limit_interval_ms: props
                .get_long("zookeeper.admin.rateLimiterIntervalInMS", RATE_LIMIT_INTERVAL_MS_DEFAULT as i64)
                .max(0) as u64,
            snapshot_enabled: flag("zookeeper.admin.snapshot.enabled"),
            restore_enabled: flag("zookeeper.admin.restore.enabled"),
            initial_config: c.initial_config.clone(),
            system_properties: props.iter().map(|(k, p)| (k.to_owned(), p.value.clone())).collect(),
        }))
    }
}

/// `host:port` as `InetSocketAddress` resolves it; an empty host or 0.0.0.0 is every interface.
pub fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if host.is_empty() || host == "0.0.0.0" {
        return Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

/// What a command prints from the disk and /proc, gathered off the core (blocking).
#[derive(Debug, Clone, Default)]
pub struct AdminFacts {
    pub host: HostFacts,
    /// The newest snapshot file: (zxid, modification time in seconds).
    pub last_snapshot: Option<(i64, i64)>,
}

impl AdminFacts {
    pub fn gather(cmd: Cmd, dirs: &DataDirs) -> AdminFacts {
        let word: Option<&[u8; 4]> = match cmd {
            Cmd::Configuration => Some(b"conf"),
            Cmd::Dirs | Cmd::ServerStats | Cmd::Stats => Some(b"dirs"),
            Cmd::Environment | Cmd::SystemProperties => Some(b"envi"),
            Cmd::Monitor => Some(b"mntr"),
            _ => None,
        };
        let host = word.map(|w| HostFacts::gather(w, dirs)).unwrap_or_default();
        let last_snapshot = if cmd == Cmd::LastSnapshot { newest_snapshot(&dirs.data_dir) } else { None };
        AdminFacts { host, last_snapshot }
    }
}

/// `FileTxnSnapLog.getLastSnapshotInfo`: the newest snapshot's zxid and `lastModified() / 1000`.
fn newest_snapshot(data_dir: &Path) -> Option<(i64, i64)> {
    let files = rzk_storage::snapfile::snapshot_files(data_dir).ok()?;
    let (zxid, path) = files.into_iter().next()?;
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let secs = modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some((zxid, secs))
}

/// What the HTTP side asks the core.
pub enum AdminMsg {
    /// Runs a command that reads or resets the core's state.
    Command {
        cmd: Cmd,
        kwargs: Vec<(String, String)>,
        facts: Box<AdminFacts>,
        reply: oneshot::Sender<Response>,
    },
    /// The Prometheus exposition of the metrics.
    Prometheus { process: crate::prometheus::process::ProcessFacts, reply: oneshot::Sender<String> },
    /// Whether the server is ready (`/ready`).
    Readiness { reply: oneshot::Sender<readiness::Readiness> },
    /// 3.9's check for `snapshot` and `restore`: the `Authorization` header's identity must hold
    /// every permission on `/`.
    Authorize {
        command: &'static str,
        auth: Option<String>,
        remote_ip: String,
        reply: oneshot::Sender<Result<(), Response>>,
    },
    /// `snapshot`: takes a snapshot and answers when it is on disk.
    Snapshot { reply: oneshot::Sender<Result<snapshot::Taken, Response>> },
    /// `restore`: swaps in the tree read from the request; hands the stream back while the
    /// server is busy (see `restore::busy`).
    Restore { stream: Box<restore::Stream>, reply: oneshot::Sender<Result<Response, Box<restore::Stream>>> },
}
