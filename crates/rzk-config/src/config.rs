//! `Config`: everything the server reads from zoo.cfg, `myid`, the dynamic configuration file and
//! the Java system properties, validated, with ZooKeeper 3.8's defaults, in one typed value.
//!
//! Fields keep ZooKeeper's Java types (`i32` for an `int`) where ZooKeeper accepts any value of
//! that type, so that rzk accepts the same files; they are unsigned or `Option` where ZooKeeper
//! itself normalises the value (e.g. `snapCount` below 2 becomes 2, a size limit of 0 or less
//! means "off"). Each field's doc names the key it comes from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rzk_proto::ServerId;

use crate::four_letter_words::FourLetterWords;
use crate::quorum::QuorumSpec;
use crate::server_entry::{HostPort, LearnerType, QuorumServer};
use crate::sysprops::SystemProps;

/// ZooKeeper's `ZooKeeperServer.DEFAULT_TICK_TIME`.
pub const DEFAULT_TICK_TIME_MS: i32 = 3000;
/// `BinaryInputArchive.maxBuffer`'s default: just under 1 MiB.
pub const DEFAULT_JUTE_MAXBUFFER_BYTES: u32 = 0xfffff;
/// The smallest `autopurge.snapRetainCount` (`QuorumPeerConfig.MIN_SNAP_RETAIN_COUNT`).
pub const MIN_SNAP_RETAIN_COUNT: u32 = 3;
/// The largest server id that works with `extendedTypesEnabled` (`EphemeralType.MAX_EXTENDED_SERVER_ID`).
pub const MAX_EXTENDED_SERVER_ID: i64 = 0xfe;

/// The validated configuration of one server.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The zoo.cfg path, or `None` for the built-in default.
    pub config_file: Option<PathBuf>,
    /// The text of zoo.cfg as read (ZooKeeper keeps it as the "initial config").
    pub initial_config: String,

    // --- Time ---
    /// `tickTime` (default 3000; must not be 0).
    pub tick_time_ms: i32,
    /// `minSessionTimeout`, default 2 × tickTime.
    pub min_session_timeout_ms: i32,
    /// `maxSessionTimeout`, default 20 × tickTime.
    pub max_session_timeout_ms: i32,
    /// `initLimit` in ticks (required, non-zero, in quorum mode).
    pub init_limit_ticks: i32,
    /// `syncLimit` in ticks (required, non-zero, in quorum mode).
    pub sync_limit_ticks: i32,
    /// `connectToLearnerMasterLimit` in ticks; 0 (the default) means use `initLimit`.
    pub connect_to_learner_master_limit_ticks: i32,

    // --- Client connections ---
    /// Where clients connect: `clientPortAddress:clientPort` (wildcard when only `clientPort`), or
    /// the client address of this server's `server.N` line. `None` when no client port is set.
    pub client_address: Option<HostPort>,
    /// `secureClientPortAddress:secureClientPort` (TLS).
    pub secure_client_address: Option<HostPort>,
    /// `clientPortListenBacklog`; -1 (default) leaves it to the OS.
    pub client_port_listen_backlog: i32,
    /// `maxClientCnxns`: connections per client IP; 0 = unlimited (default 60).
    pub max_client_cnxns: i32,
    /// `maxCnxns` (system property `zookeeper.maxCnxns`): total connections; 0 = unlimited.
    pub max_cnxns: u32,
    /// `globalOutstandingLimit` (default 1000).
    pub global_outstanding_limit: i32,
    /// `localSessionsEnabled`.
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled`.
    pub local_sessions_upgrading_enabled: bool,
    /// `4lw.commands.whitelist` (default `srvr`, plus `isro` in read-only mode).
    pub four_letter_words: FourLetterWords,
    /// System property `jute.maxbuffer` (not settable in zoo.cfg): the largest frame and znode.
    pub jute_maxbuffer_bytes: u32,
    /// System property `zookeeper.jute.maxbuffer.extrasize` (default jute.maxbuffer, at least 1024).
    pub jute_maxbuffer_extrasize_bytes: u32,

    // --- Storage ---
    /// `dataDir`: snapshots, `myid`, epochs.
    pub data_dir: PathBuf,
    /// `dataLogDir`: transaction logs (defaults to dataDir).
    pub data_log_dir: PathBuf,
    /// `autopurge.snapRetainCount` (default 3; values below 3 become 3).
    pub snap_retain_count: u32,
    /// `autopurge.purgeInterval` in hours; `None` (0 or less, the default) disables purging.
    pub purge_interval_hours: Option<u32>,
    /// `snapCount`: txns between snapshots (default 100000, at least 2).
    pub snap_count: u32,
    /// `snapSizeLimitInKb` × 1024 (default 4 GiB); `None` when 0 or less.
    pub snap_size_limit_bytes: Option<u64>,
    /// `txnLogSizeLimitInKb` × 1024; `None` (the default, -1) for no limit.
    pub txn_log_size_limit_bytes: Option<u64>,
    /// `preAllocSize` × 1024 (default 64 MiB); 0 disables padding.
    pub pre_alloc_size_bytes: u64,
    /// `forceSync`: anything but "no" means fsync (default yes).
    pub force_sync: bool,
    /// `fsync.warningthresholdms` (default 1000).
    pub fsync_warning_threshold_ms: i64,
    /// `snapshot.compression.method` ("", "gz" or "snappy").
    pub snapshot_compression: SnapshotCompression,
    /// `digest.enabled` (default true).
    pub digest_enabled: bool,
    /// System property `zookeeper.datadir.autocreate` (default true; `ZOO_DATADIR_AUTOCREATE_DISABLE`).
    pub datadir_autocreate: bool,
    /// System property `zookeeper.db.autocreate` (default true).
    pub db_autocreate: bool,
    /// `snapshot.trust.empty` (default false).
    pub snapshot_trust_empty: bool,

    // --- Data tree ---
    /// `extendedTypesEnabled`: TTL nodes (default false).
    pub extended_types_enabled: bool,
    /// `emulate353TTLNodes` (default false).
    pub emulate353_ttl_nodes: bool,
    /// System property `znode.container.checkIntervalMs` (default 60000).
    pub container_check_interval_ms: i32,
    /// System property `znode.container.maxPerMinute` (default 10000).
    pub container_max_per_minute: i32,
    /// System property `znode.container.maxNeverUsedIntervalMs` (default 0).
    pub container_max_never_used_interval_ms: i64,
    /// `closeSessionTxn.enabled` (default true).
    pub close_session_txn_enabled: bool,
    /// `enforceQuota` (default false).
    pub enforce_quota: bool,

    // --- Auth and ACLs ---
    /// `DigestAuthenticationProvider.superDigest`: `super:<base64 sha1>`.
    pub super_digest: Option<String>,
    /// `DigestAuthenticationProvider.enabled` (default true).
    pub digest_auth_enabled: bool,
    /// `skipACL`: exactly "yes" skips ACL checks.
    pub skip_acl: bool,
    /// `enableEagerACLCheck` (default false).
    pub enable_eager_acl_check: bool,
    /// `authProvider.<name>` → Java class name, by name.
    pub auth_providers: BTreeMap<String, String>,
    /// Client SASL (the JAAS `Server` section's DIGEST-MD5 users, super users) and enforced
    /// authentication (`sessionRequireClientSASLAuth`, `enforce.auth.*`).
    pub client_sasl: crate::client_sasl::ClientSaslConfig,

    // --- Quorum ---
    /// From `dataDir/myid`; `None` when there is none (fine in standalone mode).
    pub server_id: Option<ServerId>,
    /// The ensemble: `server.N` (and `group`/`weight`) lines, from zoo.cfg or the dynamic file.
    pub quorum: QuorumSpec,
    /// `standaloneEnabled` (default true).
    pub standalone_enabled: bool,
    /// `reconfigEnabled` (default false).
    pub reconfig_enabled: bool,
    /// `peerType`, corrected to what this server's `server.N` line says.
    pub peer_type: LearnerType,
    /// `electionAlg` (only 3 is allowed).
    pub election_alg: i32,
    /// `observerMasterPort`; `None` when 0 or less.
    pub observer_master_port: Option<u16>,
    /// `quorumListenOnAllIPs` (default false).
    pub quorum_listen_on_all_ips: bool,
    /// `syncEnabled` (observers persist txns), overridden by system property
    /// `zookeeper.observer.syncEnabled` when that is set.
    pub sync_enabled: bool,
    /// `leaderServes`: anything but "no" means the leader accepts clients.
    pub leader_serves: bool,
    /// `dynamicConfigFile`.
    pub dynamic_config_file: Option<PathBuf>,
    /// `multiAddress.*`.
    pub multi_address: MultiAddressConfig,
    /// `oraclePath`.
    pub oracle_path: Option<String>,
    /// `quorum.auth.*`.
    pub quorum_sasl: QuorumSaslConfig,
    /// `quorum.cnxn.threads.size`, as `QuorumPeer` uses it: at least 20.
    pub quorum_cnxn_threads: u32,
    /// `sslQuorum` (default false).
    pub ssl_quorum: bool,
    /// `portUnification` (default false).
    pub port_unification: bool,
    /// `sslQuorumReloadCertFiles` (default false).
    pub ssl_quorum_reload_cert_files: bool,
    /// `cnxTimeout`: election connection timeout (default 5000).
    pub cnx_timeout_ms: i32,
    /// `electionPortBindRetry` (default 3; 0 = retry forever).
    pub election_port_bind_retry: u32,
    /// `quorumCnxnTimeoutMs`; `None` (the default, -1) means syncLimit × tickTime.
    pub quorum_cnxn_timeout_ms: Option<u32>,
    /// `tcpKeepAlive` on quorum sockets (default false).
    pub tcp_keep_alive: bool,
    /// System property `readonlymode.enabled` (not settable in zoo.cfg).
    pub read_only_mode_enabled: bool,

    // --- Admin server, metrics, JVM pause monitor, TLS ---
    /// `admin.*`.
    pub admin: AdminServerConfig,
    /// `metricsProvider.*`.
    pub metrics_provider: MetricsProviderConfig,
    /// `jvm.pause.*`.
    pub jvm_pause_monitor: JvmPauseMonitorConfig,
    /// Every `zookeeper.ssl.*` system property (client and quorum TLS), by full name.
    pub ssl: BTreeMap<String, String>,

    /// All system properties after zoo.cfg was read, for settings not typed above.
    pub system_props: SystemProps,
}

/// `snapshot.compression.method` (`SnapStream.StreamMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotCompression {
    /// No compression (""), the default.
    #[default]
    Checked,
    /// "gz".
    Gzip,
    /// "snappy".
    Snappy,
}

impl SnapshotCompression {
    /// `StreamMode.fromString`: case-insensitive, and anything unknown is the default.
    pub fn from_name(name: &str) -> Option<SnapshotCompression> {
        match name.to_lowercase().as_str() {
            "" => Some(SnapshotCompression::Checked),
            "gz" => Some(SnapshotCompression::Gzip),
            "snappy" => Some(SnapshotCompression::Snappy),
            _ => None,
        }
    }

    /// The snapshot file name extension ("", ".gz" or ".snappy").
    pub fn file_extension(self) -> &'static str {
        match self {
            SnapshotCompression::Checked => "",
            SnapshotCompression::Gzip => ".gz",
            SnapshotCompression::Snappy => ".snappy",
        }
    }
}

/// The admin HTTP server (`JettyAdminServer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminServerConfig {
    /// `admin.enableServer`: anything but "false" enables it (default on).
    pub enabled: bool,
    /// `admin.serverAddress` (default 0.0.0.0).
    pub server_address: String,
    /// `admin.serverPort` (default 8080).
    pub server_port: u16,
    /// `admin.idleTimeout` (default 30000).
    pub idle_timeout_ms: i32,
    /// `admin.commandURL` (default /commands).
    pub command_url: String,
    /// `admin.httpVersion` (default 11).
    pub http_version: i32,
    /// `admin.portUnification` (default false).
    pub port_unification: bool,
    /// `admin.forceHttps` (default false).
    pub force_https: bool,
}

/// `metricsProvider.className` and the other `metricsProvider.*` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsProviderConfig {
    /// Default `org.apache.zookeeper.metrics.impl.DefaultMetricsProvider`.
    pub class_name: String,
    /// The other keys, without the `metricsProvider.` prefix (e.g. `httpPort`).
    pub settings: BTreeMap<String, String>,
}

/// The JVM pause monitor settings (`jvm.pause.*`), kept for a process-pause monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JvmPauseMonitorConfig {
    pub enabled: bool,
    pub info_threshold_ms: i64,
    pub warn_threshold_ms: i64,
    pub sleep_time_ms: i64,
}

/// `multiAddress.*` (the zoo.cfg keys; the server-line check uses the system property).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiAddressConfig {
    pub enabled: bool,
    pub reachability_check_enabled: bool,
    pub reachability_check_timeout_ms: i32,
}

/// `quorum.auth.*` (SASL between servers).
#[derive(Clone, PartialEq, Eq)]
pub struct QuorumSaslConfig {
    pub enabled: bool,
    pub server_required: bool,
    pub learner_required: bool,
    pub learner_login_context: String,
    pub server_login_context: String,
    pub service_principal: String,
    /// With `enabled`: the `user_<name>` passwords of the server login section (JAAS).
    pub server_users: BTreeMap<String, String>,
    /// With `enabled`: the `username` and `password` of the learner login section (JAAS).
    pub learner_credentials: Option<(String, String)>,
}

impl std::fmt::Debug for QuorumSaslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passwords.
        f.debug_struct("QuorumSaslConfig")
            .field("enabled", &self.enabled)
            .field("server_required", &self.server_required)
            .field("learner_required", &self.learner_required)
            .field("learner_login_context", &self.learner_login_context)
            .field("server_login_context", &self.server_login_context)
            .field("service_principal", &self.service_principal)
            .field("server_users", &self.server_users.keys().collect::<Vec<_>>())
            .field("learner_user", &self.learner_credentials.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl Config {
    /// Whether this server runs as part of an ensemble (`QuorumPeerConfig.isDistributed`): more
    /// than one participant, or `standaloneEnabled=false` (which validation only allows with at
    /// least one participant). Otherwise it runs
    /// standalone, as `QuorumPeerMain` falls back to `ZooKeeperServerMain`.
    pub fn is_distributed(&self) -> bool {
        !self.standalone_enabled || self.quorum.participant_count() > 1
    }

    /// This server's own `server.N` entry, if it has one.
    pub fn my_server(&self) -> Option<&QuorumServer> {
        self.server_id.and_then(|id| self.quorum.servers.get(&id))
    }
}
