//! The pass over zoo.cfg's entries (`QuorumPeerConfig.parseProperties`' loop): each key ZooKeeper
//! handles itself is parsed into `StaticSettings`, exactly as strictly as ZooKeeper parses it, and
//! every other key `K` becomes the system property `zookeeper.K`, with a warning when nothing reads
//! it.
//!
//! Keys and values are trimmed (`String.trim`) first, as ZooKeeper trims them.

use std::path::{Path, PathBuf};

use crate::config::{JvmPauseMonitorConfig, MetricsProviderConfig, MultiAddressConfig, QuorumSaslConfig};
use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::java;
use crate::keys::{FallthroughKey, classify_fallthrough};
use crate::properties::Properties;
use crate::server_entry::LearnerType;
use crate::sysprops::SystemProps;

/// A value and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting<T> {
    pub value: T,
    pub at: Origin,
}

/// The keys `parseProperties` handles itself, with `QuorumPeerConfig`'s field defaults. Integers
/// that ZooKeeper treats as "unset" when 0 or -1 are kept raw, as in Java.
#[derive(Debug, Clone)]
pub(crate) struct StaticSettings {
    pub data_dir: Option<Setting<PathBuf>>,
    pub data_log_dir: Option<Setting<PathBuf>>,
    pub client_port: Setting<i32>,
    pub local_sessions_enabled: bool,
    pub local_sessions_upgrading_enabled: bool,
    pub client_port_address: Option<Setting<String>>,
    pub secure_client_port: Setting<i32>,
    pub secure_client_port_address: Option<Setting<String>>,
    pub observer_master_port: Setting<i32>,
    pub client_port_listen_backlog: i32,
    pub tick_time: Setting<i32>,
    pub max_client_cnxns: i32,
    pub min_session_timeout: Setting<i32>,
    pub max_session_timeout: Setting<i32>,
    pub init_limit: i32,
    pub sync_limit: i32,
    pub connect_to_learner_master_limit: i32,
    pub election_alg: i32,
    pub quorum_listen_on_all_ips: bool,
    pub peer_type: Setting<LearnerType>,
    pub sync_enabled: bool,
    pub dynamic_config_file: Option<Setting<String>>,
    pub snap_retain_count: Setting<i32>,
    pub purge_interval: i32,
    pub standalone_enabled: Setting<bool>,
    pub reconfig_enabled: bool,
    pub ssl_quorum: bool,
    pub port_unification: bool,
    pub ssl_quorum_reload_cert_files: bool,
    pub quorum_sasl: QuorumSaslConfig,
    pub quorum_sasl_at: Origin,
    pub quorum_cnxn_threads_size: i32,
    pub jvm_pause_monitor: JvmPauseMonitorConfig,
    pub metrics_provider: MetricsProviderConfig,
    pub multi_address: MultiAddressConfig,
    pub oracle_path: Option<String>,
}

impl StaticSettings {
    /// `QuorumPeerConfig`'s field initialisers. The multi-address ones read system properties when
    /// the object is built, so only `-D` flags count for them (and a malformed timeout is fatal).
    fn defaults(file: &Origin, sysprops: &SystemProps) -> Result<StaticSettings, ConfigError> {
        let at = |v| Setting { value: v, at: file.clone() };
        let timeout_name = "zookeeper.multiAddress.reachabilityCheckTimeoutMs";
        let timeout = match sysprops.entry(timeout_name) {
            None => 1000,
            Some(p) => java::parse_int(&p.value)
                .map_err(|e| ConfigError::invalid_value(&p.origin, timeout_name, &p.value, e))?,
        };
        Ok(StaticSettings {
            data_dir: None,
            data_log_dir: None,
            client_port: at(0),
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            client_port_address: None,
            secure_client_port: at(0),
            secure_client_port_address: None,
            observer_master_port: at(0),
            client_port_listen_backlog: -1,
            tick_time: at(crate::config::DEFAULT_TICK_TIME_MS),
            max_client_cnxns: 60,
            min_session_timeout: at(-1),
            max_session_timeout: at(-1),
            init_limit: 0,
            sync_limit: 0,
            connect_to_learner_master_limit: 0,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            peer_type: Setting { value: LearnerType::Participant, at: file.clone() },
            sync_enabled: true,
            dynamic_config_file: None,
            snap_retain_count: at(3),
            purge_interval: 0,
            standalone_enabled: Setting { value: true, at: file.clone() },
            reconfig_enabled: false,
            ssl_quorum: false,
            port_unification: false,
            ssl_quorum_reload_cert_files: false,
            quorum_sasl: QuorumSaslConfig {
                enabled: false,
                server_required: false,
                learner_required: false,
                learner_login_context: "QuorumLearner".to_string(),
                server_login_context: "QuorumServer".to_string(),
                service_principal: "zkquorum/localhost".to_string(),
                server_users: Default::default(),
                learner_credentials: None,
            },
            quorum_sasl_at: file.clone(),
            quorum_cnxn_threads_size: 0,
            jvm_pause_monitor: JvmPauseMonitorConfig {
                enabled: false,
                info_threshold_ms: 1000,
                warn_threshold_ms: 10000,
                sleep_time_ms: 500,
            },
            metrics_provider: MetricsProviderConfig {
                class_name: "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider".to_string(),
                settings: Default::default(),
            },
            multi_address: MultiAddressConfig {
                enabled: java::parse_boolean(
                    sysprops.get("zookeeper.multiAddress.enabled").unwrap_or("false"),
                ),
                reachability_check_enabled: java::parse_boolean(
                    sysprops.get("zookeeper.multiAddress.reachabilityCheckEnabled").unwrap_or("true"),
                ),
                reachability_check_timeout_ms: timeout,
            },
            oracle_path: None,
        })
    }
}

/// Reads every entry; fills `sysprops` with the fallthrough keys and `warnings` with what an
/// operator should hear about.
pub(crate) fn read_entries(
    path: &Path,
    props: &Properties,
    sysprops: &mut SystemProps,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<StaticSettings, ConfigError> {
    let mut s = StaticSettings::defaults(&Origin::file(path), sysprops)?;
    let has_dynamic_file = props.contains_key("dynamicConfigFile");
    for p in props.iter() {
        let key = java::trim(&p.key);
        let value = java::trim(&p.value);
        let at = Origin::file_line(path, p.line);
        let e = Entry { key, value, at: &at };
        match key {
            "dataDir" => s.data_dir = Some(e.setting(e.dir(warnings)?)),
            "dataLogDir" => s.data_log_dir = Some(e.setting(e.dir(warnings)?)),
            "clientPort" => s.client_port = e.setting(e.int()?),
            "localSessionsEnabled" => s.local_sessions_enabled = e.boolean()?,
            "localSessionsUpgradingEnabled" => s.local_sessions_upgrading_enabled = e.boolean()?,
            "clientPortAddress" => s.client_port_address = Some(e.setting(value.to_string())),
            "secureClientPort" => s.secure_client_port = e.setting(e.int()?),
            "secureClientPortAddress" => s.secure_client_port_address = Some(e.setting(value.to_string())),
            "observerMasterPort" => s.observer_master_port = e.setting(e.int()?),
            "clientPortListenBacklog" => s.client_port_listen_backlog = e.int()?,
            "tickTime" => s.tick_time = e.setting(e.int()?),
            "maxClientCnxns" => s.max_client_cnxns = e.int()?,
            "minSessionTimeout" => s.min_session_timeout = e.setting(e.int()?),
            "maxSessionTimeout" => s.max_session_timeout = e.setting(e.int()?),
            "initLimit" => s.init_limit = e.int()?,
            "syncLimit" => s.sync_limit = e.int()?,
            "connectToLearnerMasterLimit" => s.connect_to_learner_master_limit = e.int()?,
            "electionAlg" => {
                s.election_alg = e.int()?;
                if s.election_alg != 3 {
                    return Err(e.invalid("only electionAlg 3 is supported"));
                }
            }
            "quorumListenOnAllIPs" => s.quorum_listen_on_all_ips = e.boolean()?,
            "peerType" => {
                let t =
                    LearnerType::parse(value).ok_or_else(|| e.invalid("expected participant or observer"))?;
                s.peer_type = e.setting(t);
            }
            "syncEnabled" => s.sync_enabled = e.boolean()?,
            "dynamicConfigFile" => s.dynamic_config_file = Some(e.setting(value.to_string())),
            "autopurge.snapRetainCount" => s.snap_retain_count = e.setting(e.int()?),
            "autopurge.purgeInterval" => s.purge_interval = e.int()?,
            "standaloneEnabled" => s.standalone_enabled = e.setting(e.boolean()?),
            "reconfigEnabled" => s.reconfig_enabled = e.boolean()?,
            "sslQuorum" => s.ssl_quorum = e.boolean()?,
            "portUnification" => s.port_unification = e.boolean()?,
            "sslQuorumReloadCertFiles" => s.ssl_quorum_reload_cert_files = e.boolean()?,
            _ if has_dynamic_file && is_quorum_key(key) => {
                let message = format!("parameter: {key} must be in a separate dynamic config file");
                return Err(ConfigError::invalid(&at, key, message));
            }
            "quorum.auth.enableSasl" => s.quorum_sasl.enabled = e.boolean()?,
            "quorum.auth.serverRequireSasl" => {
                s.quorum_sasl.server_required = e.boolean()?;
                s.quorum_sasl_at = at.clone();
            }
            "quorum.auth.learnerRequireSasl" => s.quorum_sasl.learner_required = e.boolean()?,
            "quorum.auth.learner.saslLoginContext" => s.quorum_sasl.learner_login_context = value.to_string(),
            "quorum.auth.server.saslLoginContext" => s.quorum_sasl.server_login_context = value.to_string(),
            "quorum.auth.kerberos.servicePrincipal" => s.quorum_sasl.service_principal = value.to_string(),
            "quorum.cnxn.threads.size" => s.quorum_cnxn_threads_size = e.int()?,
            "jvm.pause.info-threshold.ms" => s.jvm_pause_monitor.info_threshold_ms = e.long()?,
            "jvm.pause.warn-threshold.ms" => s.jvm_pause_monitor.warn_threshold_ms = e.long()?,
            "jvm.pause.sleep.time.ms" => s.jvm_pause_monitor.sleep_time_ms = e.long()?,
            "jvm.pause.monitor" => s.jvm_pause_monitor.enabled = e.boolean()?,
            "metricsProvider.className" => s.metrics_provider.class_name = value.to_string(),
            _ if key.starts_with("metricsProvider.") => {
                let name = key["metricsProvider.".len()..].to_string();
                s.metrics_provider.settings.insert(name, value.to_string());
            }
            "multiAddress.enabled" => s.multi_address.enabled = e.boolean()?,
            "multiAddress.reachabilityCheckTimeoutMs" => {
                s.multi_address.reachability_check_timeout_ms = e.int()?
            }
            "multiAddress.reachabilityCheckEnabled" => {
                s.multi_address.reachability_check_enabled = e.boolean()?
            }
            "oraclePath" => s.oracle_path = Some(value.to_string()),
            _ => fall_through(key, value, &at, sysprops, warnings),
        }
    }
    Ok(s)
}

fn is_quorum_key(key: &str) -> bool {
    key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight")
}

/// `System.setProperty("zookeeper." + key, value)`, plus rzk's warnings.
fn fall_through(
    key: &str,
    value: &str,
    at: &Origin,
    sysprops: &mut SystemProps,
    warnings: &mut Vec<ConfigWarning>,
) {
    let name = format!("zookeeper.{key}");
    match classify_fallthrough(key) {
        FallthroughKey::Known | FallthroughKey::Quorum => {}
        FallthroughKey::NoEffect => {
            let message = format!(
                "{key} has no effect in zoo.cfg: ZooKeeper reads only the system property {key} (this line sets \
                 {name}); set -D{key}={value} in SERVER_JVMFLAGS instead"
            );
            warnings.push(ConfigWarning::new(at, key, WarningKind::NoEffect, message));
        }
        FallthroughKey::Unknown => {
            let message = format!("unknown key {key}; kept as system property {name}, as ZooKeeper does");
            warnings.push(ConfigWarning::new(at, key, WarningKind::UnknownKey, message));
        }
    }
    sysprops.set(name, value, at.clone());
}

/// One trimmed entry being parsed.
struct Entry<'a> {
    key: &'a str,
    value: &'a str,
    at: &'a Origin,
}

impl Entry<'_> {
    fn setting<T>(&self, value: T) -> Setting<T> {
        Setting { value, at: self.at.clone() }
    }

    fn invalid(&self, reason: &str) -> ConfigError {
        ConfigError::invalid_value(self.at, self.key, self.value, reason)
    }

    /// `Integer.parseInt(value)`.
    fn int(&self) -> Result<i32, ConfigError> {
        java::parse_int(self.value).map_err(|e| ConfigError::invalid_value(self.at, self.key, self.value, e))
    }

    /// `Long.parseLong(value)`.
    fn long(&self) -> Result<i64, ConfigError> {
        java::parse_long(self.value).map_err(|e| ConfigError::invalid_value(self.at, self.key, self.value, e))
    }

    /// `QuorumPeerConfig.parseBoolean`: "true" or "false" in any case, nothing else.
    fn boolean(&self) -> Result<bool, ConfigError> {
        if self.value.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if self.value.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(self.invalid("expected 'true' or 'false'"))
        }
    }

    /// `dataDir`/`dataLogDir`. An empty path makes ZooKeeper fail (an exception in its relative-path
    /// check); a relative path not starting with `./` gets ZooKeeper's warning.
    fn dir(&self, warnings: &mut Vec<ConfigWarning>) -> Result<PathBuf, ConfigError> {
        if self.value.is_empty() {
            return Err(self.invalid("empty path"));
        }
        let path = PathBuf::from(self.value);
        if path.is_relative() && !self.value.starts_with("./") {
            let message = format!("{} is relative. Prepend ./ to indicate that you're sure!", self.value);
            warnings.push(ConfigWarning::new(self.at, self.key, WarningKind::RelativePath, message));
        }
        Ok(path)
    }
}
