//! One `server.N` value: `host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]`,
//! several `host:port:port[:type]` joined by `|` when multi-address is enabled.
//!
//! The parse follows `QuorumPeer.QuorumServer.initializeWithAddressString` and
//! `ConfigUtils.getHostAndPort`, including their quirks: the value is not trimmed (a trailing space
//! after the election port makes it "not a number"), `[v6]` literals are bracketed, the character
//! after `]` is skipped unchecked, and Java's `split` drops trailing empty pieces. Host names are
//! kept as text: resolving them is the server's business, as `InetSocketAddress` resolving them is
//! ZooKeeper's.

use std::fmt;

use rzk_proto::ServerId;

use crate::java;

/// A host (name or IP literal, IPv6 without brackets) and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl HostPort {
    pub fn new(host: impl Into<String>, port: u16) -> HostPort {
        HostPort { host: host.into(), port }
    }

    /// The wildcard address `0.0.0.0:port`, as `new InetSocketAddress(port)` makes.
    pub fn wildcard(port: u16) -> HostPort {
        HostPort::new("0.0.0.0", port)
    }

    /// Whether the host is a wildcard literal (`InetAddress.isAnyLocalAddress`).
    pub fn is_wildcard(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_unspecified())
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A server's role in the ensemble (`QuorumPeer.LearnerType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LearnerType {
    #[default]
    Participant,
    Observer,
}

impl LearnerType {
    /// As ZooKeeper reads `peerType` and the `:type` of a server line: case-insensitive.
    pub fn parse(s: &str) -> Option<LearnerType> {
        match s.to_lowercase().as_str() {
            "participant" => Some(LearnerType::Participant),
            "observer" => Some(LearnerType::Observer),
            _ => None,
        }
    }
}

impl fmt::Display for LearnerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LearnerType::Participant => "participant",
            LearnerType::Observer => "observer",
        })
    }
}

/// One address of a server: where it accepts quorum (follower) and election connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumAddress {
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
}

/// A parsed `server.N` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    pub id: ServerId,
    /// One or more addresses (more than one only with multi-address enabled).
    pub addresses: Vec<QuorumAddress>,
    pub learner_type: LearnerType,
    /// The client address given after `;` (a bare port means `0.0.0.0`), or for this server the
    /// static `clientPort`/`clientPortAddress` when the line has none.
    pub client_address: Option<HostPort>,
    /// Whether this is this server's line and it had no client address, so `client_address` was
    /// taken from the static settings (`QuorumServer.isClientAddrFromStatic`, set even when those
    /// have no client port either); such an address is not written back to a dynamic file.
    pub client_address_from_static: bool,
}

const WRONG_FORMAT: &str = " does not have the form server_config or server_config;client_config where \
server_config is the pipe separated list of host:port:port or host:port:port:type and client_config is \
port or host:port";

/// Parses the value of `server.<id>`. `multi_address_enabled` is the system property
/// `zookeeper.multiAddress.enabled` (not the zoo.cfg key `multiAddress.enabled`, which ZooKeeper
/// 3.8 does not consult here). The error is ZooKeeper's message.
pub fn parse_server(id: ServerId, value: &str, multi_address_enabled: bool) -> Result<QuorumServer, String> {
    let server_client = java::split(value, ';');
    let Some(server_part) = server_client.first() else {
        return Err(format!("{value}{WRONG_FORMAT}"));
    };
    let mut client_address = None;
    if server_client.len() == 2 {
        let client = host_and_port(server_client[1])?;
        if client.len() > 2 {
            return Err(format!("{value}{WRONG_FORMAT}"));
        }
        let host = if client.len() == 2 { client[0] } else { "0.0.0.0" };
        let port_text = client[client.len() - 1];
        let port = parse_port(port_text).map_err(|e| match e {
            PortError::NotANumber => format!("Address unresolved: null:{port_text}"),
            PortError::OutOfRange => format!("port out of range:{port_text}"),
        })?;
        client_address = Some(HostPort::new(host, port));
    }
    let pieces = java::split(server_part, '|');
    if !multi_address_enabled && pieces.len() > 1 {
        return Err(format!(
            "Multiple address feature is disabled, but multiple addresses were specified for sid {id}"
        ));
    }
    let mut addresses = Vec::new();
    let mut learner_type = None;
    for piece in pieces {
        let parts = host_and_port(piece)?;
        if server_client.len() > 2 || parts.len() < 3 || parts.len() > 4 {
            return Err(format!("{value}{WRONG_FORMAT}"));
        }
        let host = parts[0];
        let port = |text: &str| {
            parse_port(text).map_err(|e| match e {
                PortError::NotANumber => format!("Address unresolved: {host}:{text}"),
                PortError::OutOfRange => format!("port out of range:{text}"),
            })
        };
        let quorum_port = port(parts[1])?;
        let election_port = port(parts[2])?;
        if quorum_port == election_port {
            return Err(format!(
                "Client and election port must be different! Please update the configuration file on server.{id}"
            ));
        }
        if parts.len() == 4 {
            let t = LearnerType::parse(java::trim(parts[3]))
                .ok_or_else(|| format!("Unrecognised peertype: {}", parts[3]))?;
            match learner_type {
                None => learner_type = Some(t),
                Some(first) if first != t => {
                    return Err(format!("Multiple addresses should have similar roles: {first} vs {t}"));
                }
                Some(_) => {}
            }
        }
        addresses.push(QuorumAddress { host: host.to_string(), quorum_port, election_port });
    }
    Ok(QuorumServer {
        id,
        addresses,
        learner_type: learner_type.unwrap_or_default(),
        client_address,
        client_address_from_static: false,
    })
}

enum PortError {
    NotANumber,
    OutOfRange,
}

/// `Integer.parseInt`, then `InetSocketAddress`'s check that the port is in 0..=65535.
fn parse_port(text: &str) -> Result<u16, PortError> {
    let n = java::parse_int(text).map_err(|_| PortError::NotANumber)?;
    u16::try_from(n).map_err(|_| PortError::OutOfRange)
}

/// `ConfigUtils.getHostAndPort`: `[v6]:rest` keeps the literal whole, otherwise split on `:`.
fn host_and_port(s: &str) -> Result<Vec<&str>, String> {
    let Some(after_bracket) = s.strip_prefix('[') else {
        return Ok(java::split(s, ':'));
    };
    let Some(close) = after_bracket.find(']') else {
        return Err(format!("{s} starts with '[' but has no matching ']:'"));
    };
    let i = close + 1; // index of ']' in `s`
    if i + 2 == s.len() {
        return Err(format!("{s} doesn't have a port after colon"));
    }
    if i + 2 < s.len() {
        let mut parts = vec![&s[1..i]];
        // Java skips the character after ']' without checking that it is ':'. Slicing at a byte
        // offset needs a char boundary, so step over that character properly.
        let after = &s[i + 1..];
        let skip = after.chars().next().map_or(0, char::len_utf8);
        parts.extend(java::split(&after[skip..], ':'));
        return Ok(parts);
    }
    Ok(vec![&s[1..i]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<QuorumServer, String> {
        parse_server(ServerId(1), value, false)
    }

    fn addr(host: &str, q: u16, e: u16) -> QuorumAddress {
        QuorumAddress { host: host.into(), quorum_port: q, election_port: e }
    }

    #[test]
    fn plain_participant() {
        let s = parse("zk1.example.com:2888:3888").expect("valid");
        assert_eq!(s.addresses, [addr("zk1.example.com", 2888, 3888)]);
        assert_eq!(s.learner_type, LearnerType::Participant);
        assert_eq!(s.client_address, None);
    }

    #[test]
    fn observer_and_client_port_forms() {
        let s = parse("10.0.0.1:2888:3888:observer;2181").expect("valid");
        assert_eq!(s.learner_type, LearnerType::Observer);
        assert_eq!(s.client_address, Some(HostPort::wildcard(2181)));
        let s = parse("10.0.0.1:2888:3888:PARTICIPANT;127.0.0.1:2181").expect("valid");
        assert_eq!(s.learner_type, LearnerType::Participant);
        assert_eq!(s.client_address, Some(HostPort::new("127.0.0.1", 2181)));
        let s = parse("10.0.0.1:2888:3888:observer  ").expect("the type is trimmed");
        assert_eq!(s.learner_type, LearnerType::Observer);
        // A trailing ';' leaves no client part: Java's split drops the empty piece.
        assert_eq!(parse("h:1:2;").expect("valid").client_address, None);
    }

    #[test]
    fn ipv6_literals() {
        let s = parse("[2001:db8::1]:2888:3888;[::1]:2181").expect("valid");
        assert_eq!(s.addresses, [addr("2001:db8::1", 2888, 3888)]);
        assert_eq!(s.client_address, Some(HostPort::new("::1", 2181)));
        assert_eq!(s.client_address.as_ref().map(ToString::to_string).as_deref(), Some("[::1]:2181"));
        assert!(parse("[::1:2888:3888").is_err());
        assert!(parse("[::1]:").is_err());
        assert!(parse("::1:2888:3888").is_err(), "unbracketed v6 splits into too many parts");
    }

    #[test]
    fn multiple_addresses() {
        let v = "10.0.0.1:2888:3888|10.0.1.1:2889:3889";
        assert!(parse(v).expect_err("disabled by default").contains("Multiple address feature is disabled"));
        let s = parse_server(ServerId(4), v, true).expect("valid when enabled");
        assert_eq!(s.addresses, [addr("10.0.0.1", 2888, 3888), addr("10.0.1.1", 2889, 3889)]);
        let mixed = "a:1:2:observer|b:1:2:participant";
        assert!(parse_server(ServerId(4), mixed, true).expect_err("mixed roles").contains("similar roles"));
    }

    #[test]
    fn errors_carry_zookeepers_messages() {
        assert_eq!(parse("h:2888:3888 ").expect_err("trailing space"), "Address unresolved: h:3888 ");
        assert_eq!(parse("h:x:3888").expect_err("bad port"), "Address unresolved: h:x");
        assert_eq!(parse("h:2888:70000").expect_err("range"), "port out of range:70000");
        assert!(
            parse("h:2888:2888")
                .expect_err("same ports")
                .starts_with("Client and election port must be different")
        );
        assert_eq!(parse("h:1:2:leader").expect_err("type"), "Unrecognised peertype: leader");
        assert!(parse("h:2888").expect_err("two parts").ends_with("client_config is port or host:port"));
        assert!(parse("h:1:2:observer:x").is_err());
        assert!(parse("h:1:2;a;b").is_err());
        assert!(parse("h:1:2;a:b:c").is_err());
        assert_eq!(parse("h:1:2;abc").expect_err("client port"), "Address unresolved: null:abc");
        assert!(parse("").is_err());
        assert!(parse(";;").is_err());
    }
}
