//! The settings ZooKeeper reads as Java system properties, resolved into typed values exactly as
//! the class that reads each one does (`ZooKeeperServer`, `FileTxnLog`, `FilePadding`,
//! `SnapStream`, `BinaryInputArchive`, `ServerCnxnFactory`, `JettyAdminServer`, ...).
//!
//! Where ZooKeeper silently falls back to a default (`Integer.getInteger` on a malformed value) or
//! reads a value surprisingly (`forceSync=false` still syncs: only "no" turns it off), rzk does the
//! same and adds a warning. Where ZooKeeper fails to start, rzk returns an error.

use std::collections::BTreeMap;

use crate::config::{AdminServerConfig, DEFAULT_JUTE_MAXBUFFER_BYTES, SnapshotCompression};
use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::four_letter_words::FourLetterWords;
use crate::java;
use crate::sysprops::{SysProp, SystemProps};

/// The system-property settings, typed.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub max_cnxns: u32,
    pub global_outstanding_limit: i32,
    pub four_letter_words: FourLetterWords,
    pub jute_maxbuffer_bytes: u32,
    pub jute_maxbuffer_extrasize_bytes: u32,
    pub snap_count: u32,
    pub snap_size_limit_bytes: Option<u64>,
    pub txn_log_size_limit_bytes: Option<u64>,
    pub pre_alloc_size_bytes: u64,
    pub force_sync: bool,
    pub fsync_warning_threshold_ms: i64,
    pub snapshot_compression: SnapshotCompression,
    pub digest_enabled: bool,
    pub datadir_autocreate: bool,
    pub db_autocreate: bool,
    pub snapshot_trust_empty: bool,
    pub extended_types_enabled: bool,
    pub emulate353_ttl_nodes: bool,
    pub container_check_interval_ms: i32,
    pub container_max_per_minute: i32,
    pub container_max_never_used_interval_ms: i64,
    pub close_session_txn_enabled: bool,
    pub enforce_quota: bool,
    pub super_digest: Option<String>,
    pub digest_auth_enabled: bool,
    pub skip_acl: bool,
    pub enable_eager_acl_check: bool,
    pub auth_providers: BTreeMap<String, String>,
    pub observer_sync_enabled: Option<bool>,
    pub leader_serves: bool,
    pub cnx_timeout_ms: i32,
    pub election_port_bind_retry: u32,
    pub quorum_cnxn_timeout_ms: Option<u32>,
    pub tcp_keep_alive: bool,
    pub read_only_mode_enabled: bool,
    pub admin: AdminServerConfig,
    pub ssl: BTreeMap<String, String>,
}

/// Resolves every typed system-property setting. `distributed` decides whether the quorum-only
/// settings can stop start-up (ZooKeeper reads them only when it starts a quorum peer).
pub(crate) fn resolve(
    props: &SystemProps,
    distributed: bool,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Resolved, ConfigError> {
    let mut r = Reader { props, warnings };
    let jute_maxbuffer_bytes = r.jute_maxbuffer();
    let extrasize = r.integer("zookeeper.jute.maxbuffer.extrasize", jute_maxbuffer_bytes as i32);
    let admin = r.admin()?;
    Ok(Resolved {
        max_cnxns: r.at_least("zookeeper.maxCnxns", 0, 0),
        global_outstanding_limit: r.integer("zookeeper.globalOutstandingLimit", 1000),
        four_letter_words: FourLetterWords::from_whitelist(
            props.get("zookeeper.4lw.commands.whitelist"),
            props.get("readonlymode.enabled") == Some("true"),
        ),
        jute_maxbuffer_bytes,
        // BinaryInputArchive: never below the 1024 it used to be.
        jute_maxbuffer_extrasize_bytes: u32::try_from(extrasize.max(1024)).unwrap_or(1024),
        snap_count: r.at_least("zookeeper.snapCount", 100_000, 2),
        snap_size_limit_bytes: r.kib_limit("zookeeper.snapSizeLimitInKb", 4_194_304),
        txn_log_size_limit_bytes: r.kib_limit("zookeeper.txnLogSizeLimitInKb", -1),
        pre_alloc_size_bytes: r.pre_alloc_size(),
        force_sync: r.unless_exactly("zookeeper.forceSync", "no", "yes"),
        fsync_warning_threshold_ms: r.fsync_warning_threshold(),
        snapshot_compression: r.snapshot_compression(),
        digest_enabled: r.parse_boolean("zookeeper.digest.enabled", true),
        datadir_autocreate: r.parse_boolean("zookeeper.datadir.autocreate", true),
        db_autocreate: r.parse_boolean("zookeeper.db.autocreate", true),
        snapshot_trust_empty: r.parse_boolean("zookeeper.snapshot.trust.empty", false),
        extended_types_enabled: r.parse_boolean("zookeeper.extendedTypesEnabled", false),
        emulate353_ttl_nodes: r.parse_boolean("zookeeper.emulate353TTLNodes", false),
        container_check_interval_ms: r.integer("znode.container.checkIntervalMs", 60_000),
        container_max_per_minute: r.integer("znode.container.maxPerMinute", 10_000),
        container_max_never_used_interval_ms: r.long("znode.container.maxNeverUsedIntervalMs", 0),
        close_session_txn_enabled: r.parse_boolean("zookeeper.closeSessionTxn.enabled", true),
        enforce_quota: r.parse_boolean("zookeeper.enforceQuota", false),
        super_digest: props.get("zookeeper.DigestAuthenticationProvider.superDigest").map(str::to_string),
        digest_auth_enabled: r.parse_boolean("zookeeper.DigestAuthenticationProvider.enabled", true),
        skip_acl: r.only_if_exactly("zookeeper.skipACL", "yes", "no"),
        enable_eager_acl_check: r.parse_boolean("zookeeper.enableEagerACLCheck", false),
        auth_providers: prefixed(props, "zookeeper.authProvider."),
        observer_sync_enabled: props
            .get("zookeeper.observer.syncEnabled")
            .map(|_| r.parse_boolean("zookeeper.observer.syncEnabled", false)),
        leader_serves: r.unless_exactly("zookeeper.leaderServes", "no", "yes"),
        cnx_timeout_ms: r.cnx_timeout(distributed)?,
        election_port_bind_retry: r.at_least("zookeeper.electionPortBindRetry", 3, 0),
        quorum_cnxn_timeout_ms: r.positive("zookeeper.quorumCnxnTimeoutMs", -1),
        tcp_keep_alive: r.parse_boolean("zookeeper.tcpKeepAlive", false),
        read_only_mode_enabled: r.parse_boolean("readonlymode.enabled", false),
        admin,
        ssl: prefixed(props, "zookeeper.ssl."),
    })
}

/// Every property under `prefix`, by the rest of its name (or by full name for `zookeeper.ssl.`).
fn prefixed(props: &SystemProps, prefix: &str) -> BTreeMap<String, String> {
    let keep_full_name = prefix == "zookeeper.ssl.";
    props
        .with_prefix(prefix)
        .map(|(k, p)| {
            let name = if keep_full_name { k } else { &k[prefix.len()..] };
            (name.to_string(), p.value.clone())
        })
        .collect()
}

struct Reader<'a> {
    props: &'a SystemProps,
    warnings: &'a mut Vec<ConfigWarning>,
}

impl Reader<'_> {
    /// The key as the operator wrote it: from zoo.cfg, the key and its system property.
    fn shown_name(name: &str, p: &SysProp) -> String {
        match (&p.origin, name.strip_prefix("zookeeper.")) {
            (Origin::File { .. }, Some(key)) => format!("{key} (system property {name})"),
            _ => name.to_string(),
        }
    }

    /// Adds a warning about the property `name`; `message` is given the name to show.
    fn warn(&mut self, name: &str, p: &SysProp, kind: WarningKind, message: impl FnOnce(&str) -> String) {
        let message = message(&Self::shown_name(name, p));
        self.warnings.push(ConfigWarning::new(&p.origin, name, kind, message));
    }

    fn ignored(
        &mut self,
        name: &str,
        p: &SysProp,
        reason: impl std::fmt::Display,
        using: impl std::fmt::Display,
    ) {
        let value = &p.value;
        let message = |key: &str| {
            format!(
                "ignoring invalid value \"{value}\" for {key}: {reason}; using {using}, as ZooKeeper does"
            )
        };
        self.warn(name, p, WarningKind::ValueIgnored, message);
    }

    /// `Integer.getInteger(name, default)`, warning when the value is malformed.
    fn integer(&mut self, name: &str, default: i32) -> i32 {
        let Some(p) = self.props.entry(name) else { return default };
        match java::decode_int(&p.value) {
            Ok(v) => v,
            Err(e) => {
                self.ignored(name, p, e, default);
                default
            }
        }
    }

    /// `Long.getLong(name, default)`, warning when the value is malformed.
    fn long(&mut self, name: &str, default: i64) -> i64 {
        let Some(p) = self.props.entry(name) else { return default };
        match java::decode_long(&p.value) {
            Ok(v) => v,
            Err(e) => {
                self.ignored(name, p, e, default);
                default
            }
        }
    }

    /// An `Integer.getInteger` value that ZooKeeper raises to `min` (with a warning of its own).
    fn at_least(&mut self, name: &str, default: i32, min: i32) -> u32 {
        let v = self.integer(name, default);
        let v = if v < min {
            if let Some(p) = self.props.entry(name) {
                // ServerCnxnFactory and QuorumCnxManager go back to the default; ZooKeeperServer
                // raises snapCount to 2.
                let using = if name == "zookeeper.snapCount" { min } else { default };
                let message =
                    |key: &str| format!("{key} = {v} is below {min}; using {using}, as ZooKeeper does");
                self.warn(name, p, WarningKind::ValueAdjusted, message);
                using
            } else {
                default
            }
        } else {
            v
        };
        u32::try_from(v).unwrap_or(0)
    }

    /// An `Integer.getInteger` value where 0 or less means "not set".
    fn positive(&mut self, name: &str, default: i32) -> Option<u32> {
        let v = self.integer(name, default);
        u32::try_from(v).ok().filter(|&v| v > 0)
    }

    /// A `Long.getLong` size in KiB where 0 or less means "no limit".
    fn kib_limit(&mut self, name: &str, default: i64) -> Option<u64> {
        let kib = self.long(name, default);
        let kib = u64::try_from(kib).ok().filter(|&k| k > 0)?;
        match kib.checked_mul(1024) {
            Some(bytes) => Some(bytes),
            None => {
                if let Some(p) = self.props.entry(name) {
                    self.ignored(name, p, "too large", "no limit");
                }
                None
            }
        }
    }

    /// `Boolean.parseBoolean(System.getProperty(name, default))`, warning when the value is neither
    /// true nor false (ZooKeeper reads anything else as false).
    fn parse_boolean(&mut self, name: &str, default: bool) -> bool {
        let Some(p) = self.props.entry(name) else { return default };
        let v = java::parse_boolean(&p.value);
        if !v && !p.value.eq_ignore_ascii_case("false") {
            let value = &p.value;
            let message =
                |key: &str| format!("{key} = \"{value}\" is read as false (ZooKeeper accepts only \"true\")");
            self.warn(name, p, WarningKind::ValueAdjusted, message);
        }
        v
    }

    /// `!System.getProperty(name, default).equals(off)`, as for `forceSync` and `leaderServes`.
    fn unless_exactly(&mut self, name: &str, off: &str, on: &str) -> bool {
        let Some(p) = self.props.entry(name) else { return true };
        let v = p.value != off;
        if v && p.value != on {
            let value = &p.value;
            let message = |key: &str| {
                format!("{key} = \"{value}\" is read as \"{on}\" (only exactly \"{off}\" turns it off)")
            };
            self.warn(name, p, WarningKind::ValueAdjusted, message);
        }
        v
    }

    /// `System.getProperty(name, default).equals(on)`, as for `skipACL`.
    fn only_if_exactly(&mut self, name: &str, on: &str, off: &str) -> bool {
        let Some(p) = self.props.entry(name) else { return false };
        let v = p.value == on;
        if !v && p.value != off {
            let value = &p.value;
            let message = |key: &str| {
                format!("{key} = \"{value}\" is read as \"{off}\" (only exactly \"{on}\" turns it on)")
            };
            self.warn(name, p, WarningKind::ValueAdjusted, message);
        }
        v
    }

    /// `BinaryInputArchive.maxBuffer`. rzk also refuses a negative size (ZooKeeper would then
    /// reject every request), with a warning.
    fn jute_maxbuffer(&mut self) -> u32 {
        let name = "jute.maxbuffer";
        let v = self.integer(name, DEFAULT_JUTE_MAXBUFFER_BYTES as i32);
        match u32::try_from(v) {
            Ok(v) => v,
            Err(_) => {
                if let Some(p) = self.props.entry(name) {
                    self.ignored(name, p, "negative", DEFAULT_JUTE_MAXBUFFER_BYTES);
                }
                DEFAULT_JUTE_MAXBUFFER_BYTES
            }
        }
    }

    /// `FilePadding`: `Long.parseLong` (not `decode`) × 1024, default 64 MiB; 0 or less means no
    /// padding.
    fn pre_alloc_size(&mut self) -> u64 {
        let name = "zookeeper.preAllocSize";
        let default = 65_536 * 1024;
        let Some(p) = self.props.entry(name) else { return default };
        match java::parse_long(&p.value) {
            Ok(kib) => u64::try_from(kib).unwrap_or(0).checked_mul(1024).unwrap_or_else(|| {
                self.ignored(name, p, "too large", "65536 KiB");
                default
            }),
            Err(e) => {
                self.ignored(name, p, e, "65536 KiB");
                default
            }
        }
    }

    /// `FileTxnLog`: `zookeeper.fsync.warningthresholdms`, else `fsync.warningthresholdms`, else
    /// 1000. A malformed first one counts as unset.
    fn fsync_warning_threshold(&mut self) -> i64 {
        let name = "zookeeper.fsync.warningthresholdms";
        if let Some(p) = self.props.entry(name) {
            match java::decode_long(&p.value) {
                Ok(v) => return v,
                Err(e) => self.ignored(name, p, e, "fsync.warningthresholdms or 1000"),
            }
        }
        self.long("fsync.warningthresholdms", 1000)
    }

    /// `SnapStream.StreamMode.fromString`: unknown names mean no compression.
    fn snapshot_compression(&mut self) -> SnapshotCompression {
        let name = "zookeeper.snapshot.compression.method";
        let Some(p) = self.props.entry(name) else { return SnapshotCompression::default() };
        SnapshotCompression::from_name(&p.value).unwrap_or_else(|| {
            self.ignored(name, p, "expected \"\", \"gz\" or \"snappy\"", "no compression");
            SnapshotCompression::default()
        })
    }

    /// `QuorumCnxManager`: `Integer.parseInt`, which throws (and stops the quorum peer) when the
    /// value is malformed.
    fn cnx_timeout(&mut self, distributed: bool) -> Result<i32, ConfigError> {
        let name = "zookeeper.cnxTimeout";
        let Some(p) = self.props.entry(name) else { return Ok(5000) };
        match java::parse_int(&p.value) {
            Ok(v) => Ok(v),
            Err(e) if distributed => Err(ConfigError::invalid_value(&p.origin, name, &p.value, e)),
            Err(e) => {
                self.ignored(name, p, e, 5000);
                Ok(5000)
            }
        }
    }

    /// `AdminServerFactory` and `JettyAdminServer`.
    fn admin(&mut self) -> Result<AdminServerConfig, ConfigError> {
        let enabled = self.props.get("zookeeper.admin.enableServer") != Some("false");
        if let Some(p) = self.props.entry("zookeeper.admin.enableServer")
            && enabled
            && p.value != "true"
        {
            let value = &p.value;
            let message = |key: &str| {
                format!(
                    "{key} = \"{value}\" leaves the admin server on (only exactly \"false\" turns it off)"
                )
            };
            self.warn("zookeeper.admin.enableServer", p, WarningKind::ValueAdjusted, message);
        }
        let port_name = "zookeeper.admin.serverPort";
        let port = self.integer(port_name, 8080);
        let server_port = match (u16::try_from(port), self.props.entry(port_name)) {
            (Ok(port), _) => port,
            (Err(_), Some(p)) if enabled => {
                return Err(ConfigError::invalid_value(
                    &p.origin,
                    port_name,
                    &p.value,
                    "port out of range (0-65535)",
                ));
            }
            (Err(_), _) => 8080,
        };
        Ok(AdminServerConfig {
            enabled,
            server_address: self.props.get("zookeeper.admin.serverAddress").unwrap_or("0.0.0.0").to_string(),
            server_port,
            idle_timeout_ms: self.integer("zookeeper.admin.idleTimeout", 30_000),
            command_url: self.props.get("zookeeper.admin.commandURL").unwrap_or("/commands").to_string(),
            http_version: self.integer("zookeeper.admin.httpVersion", 11),
            port_unification: self.parse_boolean("zookeeper.admin.portUnification", false),
            force_https: self.parse_boolean("zookeeper.admin.forceHttps", false),
        })
    }
}
