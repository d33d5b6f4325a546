//! The ensemble side of start-up, after zoo.cfg's own keys are read: `QuorumPeerConfig`'s
//! `setupQuorumPeerConfig` steps. Read the ensemble (from zoo.cfg or the dynamic configuration
//! file), read `myid` (`setupMyId`), reconcile this server's client address (`setupClientPort`) and
//! peer type (`setupPeerType`) with its `server.N` line, and check what quorum mode requires
//! (`checkValidity`, plus `QuorumPeer.start`'s check that this server is listed).

use std::path::{Path, PathBuf};

use rzk_proto::ServerId;

use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::files::ConfigFiles;
use crate::java;
use crate::myid::{Myid, parse_myid};
use crate::properties::Properties;
use crate::quorum::{QuorumInput, QuorumSpec, parse_quorum};
use crate::server_entry::{HostPort, LearnerType};
use crate::sysprops::SystemProps;
use crate::zoo_cfg::{Setting, StaticSettings};

/// The ensemble, from zoo.cfg or, with `dynamicConfigFile`, from that file (whose name may end
/// in `.<hex version>`, and which must not contain a `version` itself).
pub(crate) fn read_quorum(
    path: &Path,
    props: &Properties,
    s: &StaticSettings,
    sysprops: &SystemProps,
    files: &dyn ConfigFiles,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(Option<PathBuf>, QuorumSpec), ConfigError> {
    // QuorumServer consults the system property, not the zoo.cfg key multiAddress.enabled.
    let multi_address_enabled =
        sysprops.get("zookeeper.multiAddress.enabled").is_some_and(java::parse_boolean);
    let mut input = QuorumInput {
        props,
        path,
        dynamic_file: false,
        multi_address_enabled,
        oracle: s.oracle_path.is_some(),
        standalone_enabled: s.standalone_enabled.value,
    };
    let Some(dynamic) = &s.dynamic_config_file else {
        let (spec, quorum_warnings) = parse_quorum(&input)?;
        warnings.extend(quorum_warnings);
        return Ok((None, spec));
    };
    let dynamic_path = PathBuf::from(&dynamic.value);
    let bytes = files
        .read(&dynamic_path)
        .map_err(|source| ConfigError::Read { path: dynamic_path.clone(), source })?
        .ok_or_else(|| {
            ConfigError::invalid_value(&dynamic.at, "dynamicConfigFile", &dynamic.value, "no such file")
        })?;
    let dynamic_props = Properties::parse(&bytes).map_err(|e| ConfigError::Syntax {
        at: Origin::file_line(&dynamic_path, e.line),
        message: e.to_string(),
    })?;
    if let Some(v) = dynamic_props.get("version") {
        let at = Origin::file_line(&dynamic_path, v.line);
        return Err(ConfigError::invalid(&at, "version", "dynamic file shouldn't have version inside"));
    }
    input.props = &dynamic_props;
    input.path = &dynamic_path;
    input.dynamic_file = true;
    let (mut spec, quorum_warnings) = parse_quorum(&input)?;
    warnings.extend(quorum_warnings);
    spec.version = version_from_file_name(&dynamic.value);
    Ok((Some(dynamic_path), spec))
}

/// `QuorumPeerConfig.getVersionFromFilename`: the hex number after the last dot, if any.
pub fn version_from_file_name(name: &str) -> Option<i64> {
    let (_, hex) = name.rsplit_once('.')?;
    java::parse_long_hex(hex).ok()
}

pub(crate) fn read_myid(
    data_dir: &Path,
    files: &dyn ConfigFiles,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Option<ServerId>, ConfigError> {
    let path = data_dir.join("myid");
    let bytes = files.read(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let Some(bytes) = bytes else { return Ok(None) };
    let at = Origin::file_line(&path, 1);
    match parse_myid(&bytes) {
        Ok(Myid::Id(id)) => Ok(Some(id)),
        Ok(Myid::Unset) => {
            let message = "myid -1 is ZooKeeper's \"no id\" marker; treating the file as absent";
            warnings.push(ConfigWarning::new(&at, "myid", WarningKind::ValueAdjusted, message));
            Ok(None)
        }
        Err(text) => Err(ConfigError::invalid_value(&at, "myid", &text, "server id is not a number")),
    }
}

/// `setupClientPort`: this server's `server.N` client address must agree with the static one and
/// then wins; if the line has none, it takes the static one.
pub(crate) fn reconcile_client_address(
    server_id: Option<ServerId>,
    quorum: &mut QuorumSpec,
    client_address: &mut Option<HostPort>,
    s: &StaticSettings,
) -> Result<(), ConfigError> {
    let Some(id) = server_id else { return Ok(()) };
    let Some(me) = quorum.servers.get_mut(&id) else { return Ok(()) };
    match (&*client_address, &me.client_address) {
        (Some(static_addr), Some(line_addr)) => {
            let differs = if static_addr.is_wildcard() {
                static_addr.port != line_addr.port
            } else {
                !same_address(static_addr, line_addr)
            };
            if differs {
                let at = s.client_port_address.as_ref().map_or(&s.client_port.at, |a| &a.at);
                let message = format!(
                    "client address for this server (id = {id}) in static config file is {static_addr} is different \
                     from client address found in dynamic file: {line_addr}"
                );
                return Err(ConfigError::invalid(at, "clientPort", message));
            }
            *client_address = Some(line_addr.clone());
        }
        (_, Some(line_addr)) => *client_address = Some(line_addr.clone()),
        (static_addr, None) => {
            // Java sets the flag even when there is no static address either.
            me.client_address = static_addr.clone();
            me.client_address_from_static = true;
        }
    }
    Ok(())
}

/// `InetSocketAddress.equals` compares resolved addresses; without resolving, compare IP literals
/// as addresses and names case-insensitively.
fn same_address(a: &HostPort, b: &HostPort) -> bool {
    if a.port != b.port {
        return false;
    }
    match (a.host.parse::<std::net::IpAddr>(), b.host.parse::<std::net::IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.host.eq_ignore_ascii_case(&b.host),
    }
}

/// `setupPeerType`: the servers list decides; a different `peerType` is warned about.
pub(crate) fn reconcile_peer_type(
    server_id: Option<ServerId>,
    quorum: &QuorumSpec,
    peer_type: &Setting<LearnerType>,
    warnings: &mut Vec<ConfigWarning>,
) -> LearnerType {
    let is_observer = server_id
        .and_then(|id| quorum.servers.get(&id))
        .is_some_and(|s| s.learner_type == LearnerType::Observer);
    let by_list = if is_observer { LearnerType::Observer } else { LearnerType::Participant };
    if by_list != peer_type.value {
        let message = format!(
            "Peer type from servers list ({by_list}) doesn't match peerType ({}). Defaulting to servers list.",
            peer_type.value
        );
        warnings.push(ConfigWarning::new(&peer_type.at, "peerType", WarningKind::ValueAdjusted, message));
    }
    by_list
}

/// `checkValidity`, and `QuorumPeer.start`'s check that this server is in the list.
pub(crate) fn check_quorum_mode(
    s: &StaticSettings,
    server_id: Option<ServerId>,
    quorum: &QuorumSpec,
    data_dir: &Path,
    file: &Origin,
) -> Result<(), ConfigError> {
    if s.init_limit == 0 {
        return Err(ConfigError::invalid(
            file,
            "initLimit",
            "initLimit is not set (required in quorum mode)",
        ));
    }
    if s.sync_limit == 0 {
        return Err(ConfigError::invalid(
            file,
            "syncLimit",
            "syncLimit is not set (required in quorum mode)",
        ));
    }
    let Some(id) = server_id else {
        let message =
            format!("myid file is missing: {} (required in quorum mode)", data_dir.join("myid").display());
        return Err(ConfigError::invalid(file, "myid", message));
    };
    if !quorum.servers.contains_key(&id) {
        let message = format!("My id {id} not in the peer list");
        return Err(ConfigError::invalid(file, "myid", message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_file_versions() {
        assert_eq!(version_from_file_name("zoo.cfg.dynamic.100000000"), Some(0x1_0000_0000));
        assert_eq!(version_from_file_name("zoo.cfg.dynamic.0"), Some(0));
        assert_eq!(version_from_file_name("zoo.cfg.dynamic"), None);
        assert_eq!(version_from_file_name("dyn"), None);
    }

    #[test]
    fn same_address_compares_ip_literals_as_addresses() {
        assert!(same_address(&HostPort::new("::1", 1), &HostPort::new("0:0:0:0:0:0:0:1", 1)));
        assert!(same_address(&HostPort::new("ZK1", 1), &HostPort::new("zk1", 1)));
        assert!(!same_address(&HostPort::new("zk1", 1), &HostPort::new("zk1", 2)));
        assert!(!same_address(&HostPort::new("10.0.0.1", 1), &HostPort::new("10.0.0.2", 1)));
    }
}
