//! From zoo.cfg's bytes to a validated `Config`, in the order `QuorumPeerConfig.parse` works:
//! read the entries, check client ports, tick time and session timeouts, read the ensemble (from
//! zoo.cfg or the dynamic file), read `myid`, reconcile the client address and peer type with this
//! server's `server.N` line, check what quorum mode requires, then resolve the system properties.
//!
//! Pure: other files (`myid`, the dynamic file) come through `ConfigFiles`. The ensemble steps are
//! in `setup`.

use std::path::{Path, PathBuf};

use rzk_proto::ServerId;

use crate::client_sasl::{ClientSaslConfig, read_client_sasl, read_quorum_sasl_logins};
use crate::config::{Config, MAX_EXTENDED_SERVER_ID, MIN_SNAP_RETAIN_COUNT};
use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::files::ConfigFiles;
use crate::properties::Properties;
use crate::quorum::QuorumSpec;
use crate::resolve::{Resolved, resolve};
use crate::server_entry::{HostPort, LearnerType};
use crate::setup::{
    check_quorum_mode, read_myid, read_quorum, reconcile_client_address, reconcile_peer_type,
};
use crate::sysprops::SystemProps;
use crate::zoo_cfg::{Setting, StaticSettings, read_entries};

/// A configuration and the warnings to log with it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<ConfigWarning>,
}

/// The metrics providers rzk has built in, by ZooKeeper's class names, and rzk's short name for
/// the Prometheus one.
const KNOWN_METRICS_PROVIDERS: [&str; 3] = [
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider",
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider",
    "prometheus",
];

/// Parses and validates a zoo.cfg. `path` is used in messages and as the config file's name;
/// `sysprops` are the system properties from the launch (see `jvmflags`); `files` gives `myid`
/// and the dynamic configuration file.
pub fn parse_config(
    path: &Path,
    bytes: &[u8],
    sysprops: SystemProps,
    files: &dyn ConfigFiles,
) -> Result<Loaded, ConfigError> {
    let file = Origin::file(path);
    let props = Properties::parse(bytes)
        .map_err(|e| ConfigError::Syntax { at: Origin::file_line(path, e.line), message: e.to_string() })?;
    let mut warnings = Vec::new();
    let mut sysprops = sysprops;
    let s = read_entries(path, &props, &mut sysprops, &mut warnings)?;

    check_quorum_sasl(&s)?;
    let snap_retain_count = snap_retain_count(&s, &mut warnings);
    let data_dir =
        s.data_dir.as_ref().ok_or_else(|| ConfigError::invalid(&file, "dataDir", "dataDir is not set"))?;
    let data_dir = data_dir.value.clone();
    let data_log_dir = s.data_log_dir.as_ref().map_or_else(|| data_dir.clone(), |d| d.value.clone());
    let mut client_address =
        client_port_address(&s.client_port, s.client_port_address.as_ref(), "clientPort")?;
    let secure_client_address = client_port_address(
        &s.secure_client_port,
        s.secure_client_port_address.as_ref(),
        "secureClientPort",
    )?;
    if secure_client_address.is_some() {
        configure_ssl_auth(&mut sysprops)?;
    }
    let observer_master_port = observer_master_port(&s.observer_master_port)?;
    if s.tick_time.value == 0 {
        return Err(ConfigError::invalid(&s.tick_time.at, "tickTime", "tickTime is not set"));
    }
    let (min_session_timeout_ms, max_session_timeout_ms) = session_timeouts(&s)?;
    if !KNOWN_METRICS_PROVIDERS.contains(&s.metrics_provider.class_name.as_str()) {
        let message = format!(
            "metricsProvider.className {} is not built into rzk; the built-in metrics are used",
            s.metrics_provider.class_name
        );
        warnings.push(ConfigWarning::new(
            &file,
            "metricsProvider.className",
            WarningKind::Unsupported,
            message,
        ));
    }

    let (dynamic_config_file, mut quorum) = read_quorum(path, &props, &s, &sysprops, files, &mut warnings)?;
    let server_id = read_myid(&data_dir, files, &mut warnings)?;
    reconcile_client_address(server_id, &mut quorum, &mut client_address, &s)?;
    let peer_type = reconcile_peer_type(server_id, &quorum, &s.peer_type, &mut warnings);
    let distributed = !s.standalone_enabled.value || quorum.participant_count() > 1;
    if distributed {
        check_quorum_mode(&s, server_id, &quorum, &data_dir, &file)?;
    }

    let r = resolve(&sysprops, distributed, &mut warnings)?;
    let client_sasl =
        read_client_sasl(&sysprops, &r.auth_providers, r.digest_auth_enabled, files, &mut warnings)?;
    let mut s = s;
    if s.quorum_sasl.enabled && distributed {
        read_quorum_sasl_logins(&sysprops, files, &mut s.quorum_sasl)?;
    }
    if distributed && r.extended_types_enabled && server_id.is_some_and(|id| id.0 > MAX_EXTENDED_SERVER_ID) {
        let message = format!(
            "extendedTypesEnabled is true but Server ID is too large. Cannot be larger than {MAX_EXTENDED_SERVER_ID}"
        );
        return Err(ConfigError::invalid(&file, "extendedTypesEnabled", message));
    }
    let derived = Derived {
        data_dir,
        data_log_dir,
        client_address,
        secure_client_address,
        observer_master_port,
        min_session_timeout_ms,
        max_session_timeout_ms,
        snap_retain_count,
        dynamic_config_file,
        quorum,
        server_id,
        peer_type,
        sysprops,
        client_sasl,
    };
    let config = assemble(path, bytes, s, r, derived);
    Ok(Loaded { config, warnings })
}

/// What `parse_config` worked out beyond the raw zoo.cfg settings and the system properties.
struct Derived {
    data_dir: PathBuf,
    data_log_dir: PathBuf,
    client_address: Option<HostPort>,
    secure_client_address: Option<HostPort>,
    observer_master_port: Option<u16>,
    min_session_timeout_ms: i32,
    max_session_timeout_ms: i32,
    snap_retain_count: u32,
    dynamic_config_file: Option<PathBuf>,
    quorum: QuorumSpec,
    server_id: Option<ServerId>,
    peer_type: LearnerType,
    sysprops: SystemProps,
    client_sasl: ClientSaslConfig,
}

/// Puts the pieces into one `Config`.
fn assemble(path: &Path, bytes: &[u8], s: StaticSettings, r: Resolved, d: Derived) -> Config {
    Config {
        config_file: Some(path.to_path_buf()),
        initial_config: String::from_utf8_lossy(bytes).into_owned(),
        tick_time_ms: s.tick_time.value,
        min_session_timeout_ms: d.min_session_timeout_ms,
        max_session_timeout_ms: d.max_session_timeout_ms,
        init_limit_ticks: s.init_limit,
        sync_limit_ticks: s.sync_limit,
        connect_to_learner_master_limit_ticks: s.connect_to_learner_master_limit,
        client_address: d.client_address,
        secure_client_address: d.secure_client_address,
        client_port_listen_backlog: s.client_port_listen_backlog,
        max_client_cnxns: s.max_client_cnxns,
        max_cnxns: r.max_cnxns,
        global_outstanding_limit: r.global_outstanding_limit,
        local_sessions_enabled: s.local_sessions_enabled,
        local_sessions_upgrading_enabled: s.local_sessions_upgrading_enabled,
        four_letter_words: r.four_letter_words,
        jute_maxbuffer_bytes: r.jute_maxbuffer_bytes,
        jute_maxbuffer_extrasize_bytes: r.jute_maxbuffer_extrasize_bytes,
        data_dir: d.data_dir,
        data_log_dir: d.data_log_dir,
        snap_retain_count: d.snap_retain_count,
        purge_interval_hours: u32::try_from(s.purge_interval).ok().filter(|&h| h > 0),
        snap_count: r.snap_count,
        snap_size_limit_bytes: r.snap_size_limit_bytes,
        txn_log_size_limit_bytes: r.txn_log_size_limit_bytes,
        pre_alloc_size_bytes: r.pre_alloc_size_bytes,
        force_sync: r.force_sync,
        fsync_warning_threshold_ms: r.fsync_warning_threshold_ms,
        snapshot_compression: r.snapshot_compression,
        digest_enabled: r.digest_enabled,
        datadir_autocreate: r.datadir_autocreate,
        db_autocreate: r.db_autocreate,
        snapshot_trust_empty: r.snapshot_trust_empty,
        extended_types_enabled: r.extended_types_enabled,
        emulate353_ttl_nodes: r.emulate353_ttl_nodes,
        container_check_interval_ms: r.container_check_interval_ms,
        container_max_per_minute: r.container_max_per_minute,
        container_max_never_used_interval_ms: r.container_max_never_used_interval_ms,
        close_session_txn_enabled: r.close_session_txn_enabled,
        enforce_quota: r.enforce_quota,
        super_digest: r.super_digest,
        digest_auth_enabled: r.digest_auth_enabled,
        skip_acl: r.skip_acl,
        enable_eager_acl_check: r.enable_eager_acl_check,
        auth_providers: r.auth_providers,
        client_sasl: d.client_sasl,
        server_id: d.server_id,
        quorum: d.quorum,
        standalone_enabled: s.standalone_enabled.value,
        reconfig_enabled: s.reconfig_enabled,
        peer_type: d.peer_type,
        election_alg: s.election_alg,
        observer_master_port: d.observer_master_port,
        quorum_listen_on_all_ips: s.quorum_listen_on_all_ips,
        sync_enabled: r.observer_sync_enabled.unwrap_or(s.sync_enabled),
        leader_serves: r.leader_serves,
        dynamic_config_file: d.dynamic_config_file,
        multi_address: s.multi_address,
        oracle_path: s.oracle_path,
        quorum_sasl: s.quorum_sasl,
        quorum_cnxn_threads: u32::try_from(s.quorum_cnxn_threads_size).unwrap_or(0).max(20),
        ssl_quorum: s.ssl_quorum,
        port_unification: s.port_unification,
        ssl_quorum_reload_cert_files: s.ssl_quorum_reload_cert_files,
        cnx_timeout_ms: r.cnx_timeout_ms,
        election_port_bind_retry: r.election_port_bind_retry,
        quorum_cnxn_timeout_ms: r.quorum_cnxn_timeout_ms,
        tcp_keep_alive: r.tcp_keep_alive,
        read_only_mode_enabled: r.read_only_mode_enabled,
        admin: r.admin,
        metrics_provider: s.metrics_provider,
        jvm_pause_monitor: s.jvm_pause_monitor,
        ssl: r.ssl,
        system_props: d.sysprops,
    }
}

/// `quorum.auth.*`: the server can only require SASL if SASL is on and learners require it too.
fn check_quorum_sasl(s: &StaticSettings) -> Result<(), ConfigError> {
    let sasl = &s.quorum_sasl;
    let at = &s.quorum_sasl_at;
    if !sasl.enabled && sasl.server_required {
        let message = "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl";
        return Err(ConfigError::invalid(at, "quorum.auth.serverRequireSasl", message));
    }
    if !sasl.enabled && sasl.learner_required {
        let message = "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl";
        return Err(ConfigError::invalid(at, "quorum.auth.learnerRequireSasl", message));
    }
    if !sasl.learner_required && sasl.server_required {
        let message =
            "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl";
        return Err(ConfigError::invalid(at, "quorum.auth.serverRequireSasl", message));
    }
    Ok(())
}

/// Below 3 becomes 3, with ZooKeeper's warning.
fn snap_retain_count(s: &StaticSettings, warnings: &mut Vec<ConfigWarning>) -> u32 {
    let count = s.snap_retain_count.value;
    match u32::try_from(count) {
        Ok(c) if c >= MIN_SNAP_RETAIN_COUNT => c,
        _ => {
            let message =
                format!("Invalid autopurge.snapRetainCount: {count}. Defaulting to {MIN_SNAP_RETAIN_COUNT}");
            let at = &s.snap_retain_count.at;
            warnings.push(ConfigWarning::new(
                at,
                "autopurge.snapRetainCount",
                WarningKind::ValueAdjusted,
                message,
            ));
            MIN_SNAP_RETAIN_COUNT
        }
    }
}

/// `clientPort` + `clientPortAddress` (or the secure pair): a port of 0 means none, and then an
/// address is an error; an address resolves like `InetAddress.getByName` (empty means localhost).
fn client_port_address(
    port: &Setting<i32>,
    address: Option<&Setting<String>>,
    port_key: &str,
) -> Result<Option<HostPort>, ConfigError> {
    let address_key = format!("{port_key}Address");
    if port.value == 0 {
        if let Some(a) = address {
            let message = format!("{address_key} is set but {port_key} is not set");
            return Err(ConfigError::invalid(&a.at, &address_key, message));
        }
        return Ok(None);
    }
    let port_number = u16::try_from(port.value).map_err(|_| {
        ConfigError::invalid_value(&port.at, port_key, &port.value.to_string(), "port out of range (0-65535)")
    })?;
    Ok(Some(match address {
        None => HostPort::wildcard(port_number),
        Some(a) => {
            let host = host_of(&a.value)
                .map_err(|reason| ConfigError::invalid_value(&a.at, &address_key, &a.value, reason))?;
            HostPort::new(host, port_number)
        }
    }))
}

/// The host part as `InetAddress.getByName` reads it: `[v6]` without brackets, "" as localhost.
/// Names are resolved later, by the server; a `:` that is not part of an IPv6 literal (as in
/// `0.0.0.0:2181`) fails here, as it fails `getByName`.
fn host_of(address: &str) -> Result<String, &'static str> {
    if address.is_empty() {
        return Ok("localhost".to_string());
    }
    let host = address.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(address);
    if host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
        return Err("not a host name or IP address (the port goes in the port key)");
    }
    Ok(host.to_string())
}

/// `QuorumPeerConfig.configureSSLAuth`: a secure client port needs the auth provider of
/// `zookeeper.ssl.authProvider` (default x509); x509's is registered if missing.
fn configure_ssl_auth(sysprops: &mut SystemProps) -> Result<(), ConfigError> {
    let scheme = sysprops.get("zookeeper.ssl.authProvider").unwrap_or("x509").to_string();
    let provider_property = format!("zookeeper.authProvider.{scheme}");
    if sysprops.get(&provider_property).is_some() {
        return Ok(());
    }
    if scheme == "x509" {
        let class = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";
        sysprops.set(provider_property, class, Origin::Derived);
        return Ok(());
    }
    let at = sysprops.entry("zookeeper.ssl.authProvider").map_or(Origin::Derived, |p| p.origin.clone());
    let message = format!("No auth provider configured for the SSL authentication scheme '{scheme}'.");
    Err(ConfigError::invalid(&at, "ssl.authProvider", message))
}

fn observer_master_port(port: &Setting<i32>) -> Result<Option<u16>, ConfigError> {
    if port.value <= 0 {
        return Ok(None);
    }
    u16::try_from(port.value).map(Some).map_err(|_| {
        ConfigError::invalid_value(
            &port.at,
            "observerMasterPort",
            &port.value.to_string(),
            "port out of range (0-65535)",
        )
    })
}

/// -1 means 2 × and 20 × tickTime (with Java's int arithmetic); min must not exceed max.
fn session_timeouts(s: &StaticSettings) -> Result<(i32, i32), ConfigError> {
    let tick = s.tick_time.value;
    let min = match s.min_session_timeout.value {
        -1 => tick.wrapping_mul(2),
        v => v,
    };
    let max = match s.max_session_timeout.value {
        -1 => tick.wrapping_mul(20),
        v => v,
    };
    if min > max {
        let explicit_min = s.min_session_timeout.value != -1;
        let (at, key) = if explicit_min {
            (&s.min_session_timeout.at, "minSessionTimeout")
        } else {
            (&s.max_session_timeout.at, "maxSessionTimeout")
        };
        let message = format!("minSessionTimeout must not be larger than maxSessionTimeout ({min} > {max})");
        return Err(ConfigError::invalid(at, key, message));
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_client_port_address() {
        assert_eq!(host_of(""), Ok("localhost".to_string()));
        assert_eq!(host_of("[::1]"), Ok("::1".to_string()));
        assert_eq!(host_of("::1"), Ok("::1".to_string()));
        assert_eq!(host_of("10.0.0.1"), Ok("10.0.0.1".to_string()));
        assert_eq!(host_of("zk1.example.com"), Ok("zk1.example.com".to_string()));
        assert!(host_of("0.0.0.0:2181").is_err());
        assert!(host_of("[::1]:2181").is_err());
    }
}
