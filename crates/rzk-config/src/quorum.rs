//! The ensemble: `server.N` lines, and for hierarchical quorums `group.G` and `weight.N`, with a
//! `version`, read either from zoo.cfg itself or from the dynamic configuration file.
//!
//! Follows `QuorumMaj(Properties)`, `QuorumHierarchical.parse` and
//! `QuorumPeerConfig.parseDynamicConfig`: which keys make a quorum hierarchical, which are allowed
//! in a dynamic file, and the checks on the number of participants and observers.

use std::collections::BTreeMap;
use std::path::Path;

use rzk_proto::ServerId;

use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::java;
use crate::properties::{Properties, Property};
use crate::server_entry::{LearnerType, QuorumServer, parse_server};

/// The ensemble as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumSpec {
    /// Every configured server, participants and observers, by id.
    pub servers: BTreeMap<ServerId, QuorumServer>,
    /// Groups and weights, when any `group*` or `weight*` key is present.
    pub hierarchy: Option<Hierarchy>,
    /// The configuration version (hex in the file); `None` when not given.
    pub version: Option<i64>,
}

/// Groups and weights of a hierarchical quorum (`QuorumHierarchical`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hierarchy {
    /// Group id to its member server ids, in the order listed.
    pub groups: BTreeMap<i64, Vec<ServerId>>,
    /// Weight of each participant (1 when not given) and of any server given a `weight.N`.
    pub weights: BTreeMap<ServerId, i64>,
}

impl QuorumSpec {
    /// The voting members (participants).
    pub fn participants(&self) -> impl Iterator<Item = &QuorumServer> {
        self.servers.values().filter(|s| s.learner_type == LearnerType::Participant)
    }

    /// The observers.
    pub fn observers(&self) -> impl Iterator<Item = &QuorumServer> {
        self.servers.values().filter(|s| s.learner_type == LearnerType::Observer)
    }

    pub fn participant_count(&self) -> usize {
        self.participants().count()
    }
}

/// What the quorum parse needs besides the entries.
pub(crate) struct QuorumInput<'a> {
    pub props: &'a Properties,
    pub path: &'a Path,
    /// A dynamic configuration file: only `server.`, `group`, `weight` and `version` keys allowed.
    pub dynamic_file: bool,
    /// The system property `zookeeper.multiAddress.enabled`.
    pub multi_address_enabled: bool,
    /// `oraclePath` is set: ZooKeeper then builds a `QuorumOracleMaj`, which ignores groups.
    pub oracle: bool,
    pub standalone_enabled: bool,
}

/// Parses and checks the ensemble; the warnings are ZooKeeper's about the quorum's shape.
pub(crate) fn parse_quorum(input: &QuorumInput<'_>) -> Result<(QuorumSpec, Vec<ConfigWarning>), ConfigError> {
    let at = |p: &Property| Origin::file_line(input.path, p.line);
    let mut hierarchical = false;
    for p in input.props.iter() {
        let key = java::trim(&p.key);
        if key.starts_with("group") || key.starts_with("weight") {
            hierarchical = true;
        } else if input.dynamic_file && !key.starts_with("server.") && key != "version" {
            return Err(ConfigError::invalid(&at(p), key, format!("Unrecognised parameter: {key}")));
        }
    }
    let hierarchical = hierarchical && !input.oracle;

    let mut spec = QuorumSpec::default();
    let mut hierarchy = Hierarchy::default();
    let mut group_of: BTreeMap<ServerId, i64> = BTreeMap::new();
    for p in input.props.iter() {
        // Like QuorumMaj and QuorumHierarchical, the raw (untrimmed) key and value.
        if p.key.starts_with("server.") {
            let sid = ServerId(parse_id(p, &at(p))?);
            let server = parse_server(sid, &p.value, input.multi_address_enabled)
                .map_err(|reason| ConfigError::invalid_value(&at(p), &p.key, &p.value, reason))?;
            spec.servers.insert(sid, server);
        } else if hierarchical && p.key.starts_with("group") {
            let gid = parse_id(p, &at(p))?;
            let mut members = Vec::new();
            for part in java::split(&p.value, ':') {
                let sid = ServerId(java::parse_long(part).map_err(|e| {
                    ConfigError::invalid_value(&at(p), &p.key, &p.value, format!("server id \"{part}\": {e}"))
                })?);
                if let Some(other) = group_of.insert(sid, gid) {
                    let message = format!("server {sid} is in multiple groups ({other} and {gid})");
                    return Err(ConfigError::invalid(&at(p), &p.key, message));
                }
                members.push(sid);
            }
            hierarchy.groups.insert(gid, members);
        } else if hierarchical && p.key.starts_with("weight") {
            let sid = ServerId(parse_id(p, &at(p))?);
            let weight = java::parse_long(&p.value)
                .map_err(|e| ConfigError::invalid_value(&at(p), &p.key, &p.value, e))?;
            hierarchy.weights.insert(sid, weight);
        } else if p.key == "version" {
            let version = java::parse_long_hex(&p.value).map_err(|e| {
                ConfigError::invalid_value(&at(p), &p.key, &p.value, format!("not a hex number ({e})"))
            })?;
            spec.version = Some(version);
        }
    }
    if hierarchical {
        check_hierarchy(input, &spec, &mut hierarchy, &group_of)?;
        spec.hierarchy = Some(hierarchy);
    }
    let warnings = check_shape(input, &spec)?;
    Ok((spec, warnings))
}

/// The id after the first dot of `server.N`, `group.N` or `weight.N` (`Long.parseLong`). Without a
/// dot Java parses the whole key, which always fails.
fn parse_id(p: &Property, at: &Origin) -> Result<i64, ConfigError> {
    let id_text = p.key.split_once('.').map_or(p.key.as_str(), |(_, id)| id);
    java::parse_long(id_text).map_err(|e| {
        let message = format!("the id in \"{}\" is not a number ({e})", p.key);
        ConfigError::invalid(at, &p.key, message)
    })
}

/// Every participant must be in a group and gets weight 1 by default; every grouped server needs
/// a weight (ZooKeeper fails with a NullPointerException otherwise).
fn check_hierarchy(
    input: &QuorumInput<'_>,
    spec: &QuorumSpec,
    hierarchy: &mut Hierarchy,
    group_of: &BTreeMap<ServerId, i64>,
) -> Result<(), ConfigError> {
    let file = Origin::file(input.path);
    for server in spec.participants() {
        if !group_of.contains_key(&server.id) {
            let key = format!("server.{}", server.id);
            let message = format!("server {} is not in a group", server.id);
            return Err(ConfigError::invalid(&file, &key, message));
        }
        hierarchy.weights.entry(server.id).or_insert(1);
    }
    for (sid, gid) in group_of {
        if !hierarchy.weights.contains_key(sid) {
            let key = format!("group.{gid}");
            let message = format!(
                "server {sid} of group {gid} has no server.{sid} participant entry and no weight.{sid}"
            );
            return Err(ConfigError::invalid(&file, &key, message));
        }
    }
    Ok(())
}

/// `parseDynamicConfig`'s checks on the numbers of participants and observers.
fn check_shape(input: &QuorumInput<'_>, spec: &QuorumSpec) -> Result<Vec<ConfigWarning>, ConfigError> {
    let file = Origin::file(input.path);
    let participants = spec.participant_count();
    let observers = spec.observers().count();
    let first_observer = spec.observers().next().map(|s| format!("server.{}", s.id)).unwrap_or_default();
    let mut warnings = Vec::new();
    if participants == 0 {
        if !input.standalone_enabled {
            let message = "standaloneEnabled = false then number of participants should be >0";
            return Err(ConfigError::invalid(&file, "standaloneEnabled", message));
        }
        if observers > 0 {
            let message = "Observers w/o participants is an invalid configuration";
            return Err(ConfigError::invalid(&file, &first_observer, message));
        }
    } else if participants == 1 && input.standalone_enabled {
        if observers > 0 {
            let message = "Observers w/o quorum is an invalid configuration";
            return Err(ConfigError::invalid(&file, &first_observer, message));
        }
        let message = "only one server specified: running standalone and ignoring the server line \
                       (ZooKeeper logs \"Invalid configuration, only one server specified (ignoring)\")";
        warnings.push(ConfigWarning::new(&file, "server", WarningKind::Quorum, message));
    } else if participants <= 2 {
        let message = "No server failure will be tolerated. You need at least 3 servers.";
        warnings.push(ConfigWarning::new(&file, "server", WarningKind::Quorum, message));
    } else if participants.is_multiple_of(2) {
        let message = "Non-optimal configuration, consider an odd number of servers.";
        warnings.push(ConfigWarning::new(&file, "server", WarningKind::Quorum, message));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quorum(
        text: &str,
        dynamic_file: bool,
        standalone_enabled: bool,
    ) -> Result<(QuorumSpec, Vec<ConfigWarning>), ConfigError> {
        let props = Properties::parse(text.as_bytes()).expect("well formed");
        let input = QuorumInput {
            props: &props,
            path: Path::new("zoo.cfg"),
            dynamic_file,
            multi_address_enabled: false,
            oracle: false,
            standalone_enabled,
        };
        parse_quorum(&input)
    }

    fn err(text: &str) -> String {
        quorum(text, false, true).expect_err("invalid").to_string()
    }

    #[test]
    fn three_participants_and_an_observer() {
        let text = "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\nversion=10\n";
        let (spec, warnings) = quorum(text, false, true).expect("valid");
        assert_eq!(spec.participant_count(), 3);
        assert_eq!(spec.observers().map(|s| s.id).collect::<Vec<_>>(), [ServerId(4)]);
        assert_eq!(spec.version, Some(16));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(spec.hierarchy.is_none());
    }

    #[test]
    fn shape_warnings() {
        let (_, w) = quorum("server.1=a:1:2\nserver.2=b:1:2\n", false, true).expect("valid");
        assert!(w[0].message.contains("No server failure will be tolerated"));
        let (_, w) = quorum("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\n", false, true)
            .expect("valid");
        assert!(w[0].message.contains("odd number"));
        let (_, w) = quorum("server.1=a:1:2\n", false, true).expect("valid");
        assert!(w[0].message.contains("only one server"));
        let (spec, w) = quorum("", false, true).expect("valid");
        assert!(spec.servers.is_empty() && w.is_empty());
    }

    #[test]
    fn shape_errors() {
        assert!(err("server.1=a:1:2:observer\n").contains("Observers w/o participants"));
        assert!(err("server.1=a:1:2\nserver.2=b:1:2:observer\n").contains("Observers w/o quorum"));
        let e = quorum("", false, false).expect_err("standalone disabled and no servers").to_string();
        assert!(e.contains("standaloneEnabled = false then number of participants should be >0"), "{e}");
        // With standaloneEnabled=false a single participant and observers are fine.
        let (spec, _) = quorum("server.1=a:1:2\nserver.2=b:1:2:observer\n", false, false).expect("valid");
        assert_eq!(spec.servers.len(), 2);
    }

    #[test]
    fn bad_entries_name_key_and_line() {
        assert_eq!(
            err("x=1\nserver.a=h:1:2\n"),
            "zoo.cfg:2: the id in \"server.a\" is not a number (not an integer)"
        );
        assert_eq!(
            err("server.1=h:1:2\nserver.2=h:1:1\n"),
            "zoo.cfg:2: invalid value \"h:1:1\" for server.2: Client and election port must be different! \
             Please update the configuration file on server.2"
        );
        assert!(err("version=xyz\n").starts_with("zoo.cfg:1: invalid value \"xyz\" for version"));
    }

    #[test]
    fn dynamic_file_allows_only_quorum_keys() {
        let e = quorum("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ntickTime=5\n", true, true)
            .expect_err("strict");
        assert_eq!(e.to_string(), "zoo.cfg:4: Unrecognised parameter: tickTime");
        assert!(quorum("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n", true, true).is_ok());
    }

    #[test]
    fn hierarchical_groups_and_weights() {
        let text = "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\ngroup.2=3\nweight.3=2\n";
        let (spec, _) = quorum(text, false, true).expect("valid");
        let h = spec.hierarchy.expect("hierarchical");
        assert_eq!(h.groups[&1], [ServerId(1), ServerId(2)]);
        assert_eq!(h.weights[&ServerId(1)], 1);
        assert_eq!(h.weights[&ServerId(3)], 2);
    }

    #[test]
    fn hierarchical_errors() {
        assert!(
            err("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\n")
                .contains("server 3 is not in a group")
        );
        assert!(
            err("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\ngroup.2=2:3\n")
                .contains("multiple groups")
        );
        assert!(
            err("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2:3:4\n")
                .contains("server 4 of group 1")
        );
        assert!(err("server.1=a:1:2\nserver.2=b:1:2\ngroupie=1\n").contains("the id in \"groupie\""));
        assert!(err("server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1: 2\n").contains("server id \" 2\""));
    }
}
