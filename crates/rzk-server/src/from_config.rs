//! Turns the validated `zoo.cfg` ([`rzk_config::Config`]) into the shell's [`Settings`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use rzk_config::{Config, FourLetterWords};
use rzk_node::NodeConfig;
use rzk_node::auth::AuthConfig;

use rzk_storage::snapfile::Compression;

use crate::settings::{FourLetterWhitelist, Settings, StorageSettings};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("no clientPort configured (and no client address in this server's server.N line)")]
    NoClientPort,
    #[error("cannot resolve clientPortAddress {0}")]
    Resolve(String),
    #[error(transparent)]
    Quorum(#[from] crate::quorum::setup::QuorumSetupError),
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    pub fn from_config(c: &Config) -> Result<Settings, SettingsError> {
        // QuorumPeerMain: an ensemble of one participant with standaloneEnabled runs standalone.
        let quorum = if c.is_distributed() {
            Some(crate::quorum::setup::QuorumSettings::from_config(c)?)
        } else {
            None
        };
        let hp = c.client_address.as_ref().ok_or(SettingsError::NoClientPort)?;
        let client_addr = resolve(hp)?;
        let secure_client_addr = c.secure_client_address.as_ref().map(resolve).transpose()?;
        let tls = crate::tls::ClientTls::from_config(c).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let four_letter_words = match &c.four_letter_words {
            FourLetterWords::All => FourLetterWhitelist::All,
            FourLetterWords::Only(set) => FourLetterWhitelist::Only(set.iter().cloned().collect()),
        };
        let node = NodeConfig {
            // A standalone server creates session ids as server 1 (ZooKeeperServer's
            // createSessionTrackerServerId), whatever its myid; a quorum member as its myid.
            server_id: quorum.as_ref().map(|q| q.my_id).unwrap_or(1),
            tick_time_ms: c.tick_time_ms as i64,
            min_session_timeout_ms: c.min_session_timeout_ms,
            max_session_timeout_ms: c.max_session_timeout_ms,
            extended_types: c.extended_types_enabled,
            enforce_quota: c.enforce_quota,
            reconfig_enabled: c.reconfig_enabled,
            close_session_txn: c.close_session_txn_enabled,
            digest_enabled: c.digest_enabled,
            container_check_interval_ms: c.container_check_interval_ms as i64,
            container_max_per_minute: c.container_max_per_minute as i64,
            container_max_never_used_ms: c.container_max_never_used_interval_ms,
            boot_elapsed_ms: None,
            read_only_mode: c.read_only_mode_enabled,
            local_sessions_enabled: c.local_sessions_enabled,
            audit_user: c
                .system_props
                .get_boolean("zookeeper.audit.enable")
                .then(crate::audit_user::server_user),
            auth: AuthConfig {
                super_digest: c.super_digest.clone(),
                skip_acl: c.skip_acl,
                digest_enabled: c.digest_auth_enabled,
                x509_enabled: crate::tls::settings::x509_provider_enabled(c),
                x509_super_user: c
                    .system_props
                    .get("zookeeper.X509AuthenticationProvider.superUser")
                    .map(str::to_string),
                sasl_provider: c.client_sasl.sasl_provider,
                sasl_any_user_acl: c.client_sasl.any_user_acl.clone(),
                enforce_schemes: c.client_sasl.enforce_schemes.clone(),
                sasl: crate::client_sasl::sasl_config(&c.client_sasl)?,
            },
        };
        Ok(Settings {
            client_addr,
            data_dir: c.data_dir.clone(),
            data_log_dir: c.data_log_dir.clone(),
            frame_bytes_max: c.jute_maxbuffer_bytes as usize,
            max_client_cnxns: c.max_client_cnxns.max(0) as usize,
            max_cnxns: c.max_cnxns as usize,
            listen_backlog: c.client_port_listen_backlog,
            four_letter_words,
            prealloc_bytes: c.pre_alloc_size_bytes,
            force_sync: c.force_sync,
            fsync_warning_ms: c.fsync_warning_threshold_ms.max(0) as u64,
            outstanding_requests_max: c.global_outstanding_limit.max(1) as usize,
            storage: StorageSettings {
                snap_count: c.snap_count as u64,
                snap_size_limit_bytes: c.snap_size_limit_bytes,
                compression: match c.snapshot_compression {
                    rzk_config::SnapshotCompression::Gzip => Compression::Gzip,
                    rzk_config::SnapshotCompression::Snappy => Compression::Snappy,
                    _ => Compression::None,
                },
                snap_retain_count: c.snap_retain_count as usize,
                purge_interval_hours: c.purge_interval_hours,
                datadir_autocreate: c.datadir_autocreate,
                db_autocreate: c.db_autocreate,
                snapshot_trust_empty: c.snapshot_trust_empty,
            },
            read_only_mode_enabled: c.read_only_mode_enabled,
            secure_client_port: c.secure_client_address.as_ref().map(|a| a.port),
            secure_client_addr,
            tls,
            node,
            quorum,
            admin: crate::admin::AdminSettings::from_config(c).map_err(SettingsError::Invalid)?,
            prometheus: crate::prometheus::PrometheusSettings::from_config(c)
                .map_err(SettingsError::Invalid)?,
        })
    }
}

/// A client port's address: the wildcard for an empty host or 0.0.0.0, else the name resolved.
fn resolve(hp: &rzk_config::HostPort) -> Result<SocketAddr, SettingsError> {
    if hp.host.is_empty() || hp.host == "0.0.0.0" {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), hp.port));
    }
    (hp.host.as_str(), hp.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| SettingsError::Resolve(hp.host.clone()))
}
