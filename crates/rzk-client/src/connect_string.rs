//! The connect string: `host:port,host:port[/chroot]`, parsed as Java's `ConnectStringParser`
//! does (default port 2181, `[v6]:port` literals, a chroot of "/" means none), and the
//! client-path ↔ server-path mapping under a chroot (`ZooKeeper.prependChroot`, and the
//! stripping `ClientCnxn` applies to event paths).

use rzk_proto::path::validate_path;

use crate::error::Error;

/// The port used when a host has none (`ConnectStringParser.DEFAULT_PORT`).
pub const DEFAULT_PORT: u16 = 2181;

/// A parsed connect string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// `(host, port)` in the order given; the client tries them round-robin.
    pub hosts: Vec<(String, u16)>,
    pub chroot: Option<String>,
}

impl ConnectString {
    pub fn parse(s: &str) -> Result<ConnectString, Error> {
        let (hosts_part, chroot) = match s.find('/') {
            Some(off) => {
                let c = &s[off..];
                if c.len() == 1 {
                    (&s[..off], None)
                } else {
                    validate_path(c).map_err(Error::ConnectString)?;
                    (&s[..off], Some(c.to_owned()))
                }
            }
            None => (s, None),
        };
        let mut hosts = Vec::new();
        for h in hosts_part.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            hosts.push(parse_host(h)?);
        }
        if hosts.is_empty() {
            return Err(Error::ConnectString(format!("no host in {s:?}")));
        }
        Ok(ConnectString { hosts, chroot })
    }
}

fn parse_host(h: &str) -> Result<(String, u16), Error> {
    let bad_port = |p: &str| Error::ConnectString(format!("bad port {p:?} in {h:?}"));
    if let Some(rest) = h.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(|| Error::ConnectString(format!("unclosed [ in {h:?}")))?;
        let host = rest[..end].to_owned();
        let port = match rest[end + 1..].strip_prefix(':') {
            Some(p) if !p.is_empty() => p.parse().map_err(|_| bad_port(p))?,
            _ => DEFAULT_PORT,
        };
        return Ok((host, port));
    }
    match h.rfind(':') {
        Some(i) if i + 1 < h.len() => {
            let p = &h[i + 1..];
            Ok((h[..i].to_owned(), p.parse().map_err(|_| bad_port(p))?))
        }
        Some(i) => Ok((h[..i].to_owned(), DEFAULT_PORT)),
        None => Ok((h.to_owned(), DEFAULT_PORT)),
    }
}

/// The server path of a client path under `chroot`.
pub fn to_server_path(chroot: Option<&str>, client_path: &str) -> String {
    match chroot {
        None => client_path.to_owned(),
        Some(c) if client_path == "/" => c.to_owned(),
        Some(c) => format!("{c}{client_path}"),
    }
}

/// The client path of a server path under `chroot` (a path outside the chroot is kept, as Java
/// does after logging a warning).
pub fn to_client_path(chroot: Option<&str>, server_path: &str) -> String {
    match chroot {
        None => server_path.to_owned(),
        Some(c) if server_path == c => "/".to_owned(),
        Some(c) if server_path.len() > c.len() && server_path.starts_with(c) => {
            server_path[c.len()..].to_owned()
        }
        Some(_) => server_path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_connect_string_parser() {
        let cs = ConnectString::parse("a:1,b,[::1]:3,c:/app/x").unwrap();
        assert_eq!(
            cs.hosts,
            vec![("a".into(), 1), ("b".into(), 2181), ("::1".into(), 3), ("c".into(), 2181)]
        );
        assert_eq!(cs.chroot.as_deref(), Some("/app/x"));
        assert_eq!(ConnectString::parse("h:5/").unwrap().chroot, None);
        assert!(ConnectString::parse("h:5/a/").is_err());
        assert!(ConnectString::parse("h:xx").is_err());
    }

    #[test]
    fn chroot_mapping() {
        assert_eq!(to_server_path(Some("/app"), "/"), "/app");
        assert_eq!(to_server_path(Some("/app"), "/a"), "/app/a");
        assert_eq!(to_client_path(Some("/app"), "/app"), "/");
        assert_eq!(to_client_path(Some("/app"), "/app/a"), "/a");
        assert_eq!(to_client_path(None, "/app/a"), "/app/a");
    }
}
