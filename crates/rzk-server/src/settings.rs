//! What the shell needs from the validated configuration, in one place. Built from the
//! `rzk_config::Config` by [`Settings::from_config`]; tests build it directly.

use std::net::SocketAddr;
use std::path::PathBuf;

use rzk_node::NodeConfig;

/// Which four-letter words are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    All,
    Only(Vec<String>),
}

impl FourLetterWhitelist {
    pub fn allows(&self, word: &str) -> bool {
        match self {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(words) => words.iter().any(|w| w == word),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub client_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
    /// `jute.maxbuffer`: the largest frame a client may send.
    pub frame_bytes_max: usize,
    /// `maxClientCnxns`: connections per client IP (0 = unlimited).
    pub max_client_cnxns: usize,
    /// `maxCnxns`: connections in total (0 = unlimited).
    pub max_cnxns: usize,
    /// `clientPortListenBacklog` (−1: the OS default).
    pub listen_backlog: i32,
    pub four_letter_words: FourLetterWhitelist,
    /// `preAllocSize` of the txn log.
    pub prealloc_bytes: u64,
    /// `forceSync`: fsync the log before acknowledging.
    pub force_sync: bool,
    /// `fsync.warningthresholdms`.
    pub fsync_warning_ms: u64,
    /// `globalOutstandingLimit`: requests in the pipeline before reading pauses.
    pub outstanding_requests_max: usize,
    /// `readonlymode.enabled` (answered by `isro`).
    pub read_only_mode_enabled: bool,
    /// `secureClientPort` (`conf` prints it; the port actually bound once started).
    pub secure_client_port: Option<u16>,
    /// `secureClientPortAddress:secureClientPort`: where TLS clients connect.
    pub secure_client_addr: Option<SocketAddr>,
    /// Client TLS (`None` without a secure client port or `client.portUnification`).
    pub tls: Option<crate::tls::ClientTls>,
    /// Snapshots, purging and start-up checks of the data directories.
    pub storage: StorageSettings,
    pub node: NodeConfig,
    /// The AdminServer (`admin.*`); `None` when `admin.enableServer=false`.
    pub admin: Option<crate::admin::AdminSettings>,
    /// The Prometheus endpoint (`metricsProvider.*`); `None` unless that provider is configured.
    pub prometheus: Option<crate::prometheus::PrometheusSettings>,
    /// The ensemble (`None`: standalone).
    pub quorum: Option<crate::quorum::setup::QuorumSettings>,
}

impl Settings {
    /// Defaults matching the embedded default config (standalone on 127.0.0.1:2181), without the
    /// admin server and metrics endpoint (tests turn them on with a port the OS picks).
    pub fn for_test(data_dir: PathBuf, client_addr: SocketAddr) -> Settings {
        Settings {
            client_addr,
            data_log_dir: data_dir.clone(),
            data_dir,
            frame_bytes_max: 0xfffff,
            max_client_cnxns: 60,
            max_cnxns: 0,
            listen_backlog: -1,
            four_letter_words: FourLetterWhitelist::All,
            prealloc_bytes: rzk_storage::txnlog::PREALLOC_BYTES_DEFAULT,
            force_sync: true,
            fsync_warning_ms: 1000,
            outstanding_requests_max: 1000,
            read_only_mode_enabled: false,
            secure_client_port: None,
            secure_client_addr: None,
            tls: None,
            storage: StorageSettings::default(),
            node: NodeConfig::default(),
            quorum: None,
            admin: None,
            prometheus: None,
        }
    }
}

/// The storage part of zoo.cfg.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// `snapCount`: a snapshot is taken after snapCount/2 + rand(snapCount/2) txns.
    pub snap_count: u64,
    /// `snapSizeLimitInKb` in bytes: ... or after this much log, likewise randomised.
    pub snap_size_limit_bytes: Option<u64>,
    /// `snapshot.compression.method`.
    pub compression: rzk_storage::snapfile::Compression,
    /// `autopurge.snapRetainCount`.
    pub snap_retain_count: usize,
    /// `autopurge.purgeInterval` (hours; `None` = off).
    pub purge_interval_hours: Option<u32>,
    /// `zookeeper.datadir.autocreate`.
    pub datadir_autocreate: bool,
    /// `zookeeper.db.autocreate`.
    pub db_autocreate: bool,
    /// `snapshot.trust.empty`.
    pub snapshot_trust_empty: bool,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            snap_count: 100_000,
            snap_size_limit_bytes: Some(4 * 1024 * 1024 * 1024),
            compression: rzk_storage::snapfile::Compression::None,
            snap_retain_count: 3,
            purge_interval_hours: None,
            datadir_autocreate: true,
            db_autocreate: true,
            snapshot_trust_empty: false,
        }
    }
}
