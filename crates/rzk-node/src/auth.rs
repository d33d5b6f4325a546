//! Authentication and ACLs: the `digest` and `ip` providers, the `world`, `auth` and `super`
//! special ids, `checkACL`, `fixupACL` and whoAmI's user names, as ZooKeeper's
//! `ProviderRegistry`, `DigestAuthenticationProvider`, `IPAuthenticationProvider`,
//! `PrepRequestProcessor.fixupACL` and `ZooKeeperServer.checkACL` define them.

use base64::Engine;
use rzk_proto::{Acl, ClientInfo, ErrorCode, Id};
use sha1::{Digest, Sha1};

/// What the server knows about authentication, from its configuration.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`).
    pub super_digest: Option<String>,
    /// `zookeeper.skipACL`.
    pub skip_acl: bool,
    /// `zookeeper.DigestAuthenticationProvider.enabled` (true by default).
    pub digest_enabled: bool,
}

/// `DigestAuthenticationProvider.generateDigest("user:password")` = `user:base64(sha1(...))`.
pub fn generate_digest(id_password: &str) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    let hash = Sha1::digest(id_password.as_bytes());
    format!("{user}:{}", base64::engine::general_purpose::STANDARD.encode(hash))
}

/// Java's `String.split(sep)`: trailing empty strings are dropped.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] && !s.is_empty() {
        parts.clear();
    }
    parts
}

fn provider_exists(cfg: &AuthConfig, scheme: &str) -> bool {
    scheme == "ip" || (scheme == "digest" && cfg.digest_enabled)
}

fn is_valid_id(scheme: &str, id: &str) -> bool {
    match scheme {
        "digest" => java_split(id, ':').len() == 2,
        "ip" => parse_ip_acl(id).is_some(),
        _ => false,
    }
}

/// An `ip` ACL expression: `a.b.c.d` or `a.b.c.d/bits` (IPv4 only, as ZooKeeper 3.8).
fn parse_ip_acl(expr: &str) -> Option<([u8; 4], u32)> {
    let (addr, bits) = match expr.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (expr, None),
    };
    let bytes = v4_bytes(addr)?;
    let bits = match bits {
        Some(b) => {
            let n: i64 = b.parse().ok()?;
            if !(0..=32).contains(&n) {
                return None;
            }
            n as u32
        }
        None => 32,
    };
    Some((bytes, bits))
}

fn v4_bytes(addr: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        let v: i64 = p.parse().ok()?;
        if !(0..=255).contains(&v) {
            return None;
        }
        b[i] = v as u8;
    }
    Some(b)
}

fn ip_matches(client: &str, expr: &str) -> bool {
    let Some((acl, bits)) = parse_ip_acl(expr) else { return false };
    let Some(addr) = v4_bytes(client) else { return false };
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    (u32::from_be_bytes(acl) & mask) == (u32::from_be_bytes(addr) & mask)
}

/// Handles an `AuthPacket` (scheme, credentials): the ids to add to the connection, or
/// AuthFailed (after which the server closes the connection).
pub fn authenticate(
    cfg: &AuthConfig,
    scheme: &str,
    auth: &[u8],
    client_ip: &str,
) -> Result<Vec<Id>, ErrorCode> {
    match scheme {
        "digest" if cfg.digest_enabled => {
            let id = String::from_utf8_lossy(auth);
            let digest = generate_digest(&id);
            let mut ids = Vec::new();
            if cfg.super_digest.as_deref() == Some(digest.as_str()) {
                ids.push(Id::new("super", ""));
            }
            ids.push(Id { scheme: "digest".into(), id: digest });
            Ok(ids)
        }
        "ip" => Ok(vec![Id::new("ip", client_ip)]),
        _ => Err(ErrorCode::AuthFailed),
    }
}

/// `checkACL`: whether `ids` hold `perm` on a node with `acl`.
pub fn check_acl(cfg: &AuthConfig, acl: &[Acl], perm: i32, ids: &[Id]) -> Result<(), ErrorCode> {
    if cfg.skip_acl || acl.is_empty() || ids.iter().any(|i| i.scheme == "super") {
        return Ok(());
    }
    for a in acl.iter().filter(|a| a.perms & perm != 0) {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            return Ok(());
        }
        if !provider_exists(cfg, &a.id.scheme) {
            continue;
        }
        let matched = ids.iter().filter(|i| i.scheme == a.id.scheme).any(|i| match a.id.scheme.as_str() {
            "ip" => ip_matches(&i.id, &a.id.id),
            _ => i.id == a.id.id,
        });
        if matched {
            return Ok(());
        }
    }
    Err(ErrorCode::NoAuth)
}

/// `fixupACL`: removes duplicates, expands `auth` to the caller's authenticated ids, and checks
/// every id against its provider. An empty or invalid list is InvalidACL.
pub fn fixup_acl(cfg: &AuthConfig, ids: &[Id], acls: &[Acl]) -> Result<Vec<Acl>, ErrorCode> {
    let mut uniq: Vec<&Acl> = Vec::with_capacity(acls.len());
    for a in acls {
        if !uniq.contains(&a) {
            uniq.push(a);
        }
    }
    if uniq.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(uniq.len());
    for a in uniq {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            out.push(a.clone());
        } else if a.id.scheme == "auth" {
            // Only ids of providers that authenticate (digest; not ip) stand in for `auth`.
            let mut valid = false;
            for cid in ids {
                if cid.scheme == "digest" && cfg.digest_enabled {
                    valid = true;
                    out.push(Acl { perms: a.perms, id: cid.clone() });
                }
            }
            if !valid {
                return Err(ErrorCode::InvalidAcl);
            }
        } else {
            if !provider_exists(cfg, &a.id.scheme) || !is_valid_id(&a.id.scheme, &a.id.id) {
                return Err(ErrorCode::InvalidAcl);
            }
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// whoAmI's entries (`AuthUtil.getClientInfos`): digest ids show the user name only.
pub fn client_infos(ids: &[Id]) -> Vec<ClientInfo> {
    ids.iter()
        .map(|i| {
            let user = match i.scheme.as_str() {
                "digest" => i.id.split(':').next().unwrap_or("").to_owned(),
                "ip" => i.id.clone(),
                _ => String::new(),
            };
            ClientInfo { auth_scheme: i.scheme.clone(), user }
        })
        .collect()
}

/// getACL without ADMIN permission hides digest hashes (`user:x`).
pub fn redact_digests(acl: Vec<Acl>) -> Vec<Acl> {
    acl.into_iter()
        .map(|mut a| {
            if a.id.scheme == "digest"
                && let Some((user, _)) = a.id.id.split_once(':')
            {
                a.id.id = format!("{user}:x");
            }
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::codes::perms;

    fn cfg() -> AuthConfig {
        AuthConfig { digest_enabled: true, ..Default::default() }
    }

    #[test]
    fn digest_matches_zookeeper() {
        // DigestAuthenticationProvider.generateDigest("super:test") from ZooKeeper's docs.
        assert_eq!(generate_digest("super:test"), "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    }

    #[test]
    fn ip_cidr() {
        assert!(ip_matches("127.0.0.1", "127.0.0.0/8"));
        assert!(ip_matches("127.0.0.1", "127.0.0.1"));
        assert!(!ip_matches("10.0.0.1", "127.0.0.0/8"));
        assert!(ip_matches("10.1.2.3", "0.0.0.0/0"));
        assert!(!is_valid_id("ip", "1.2.3.4/33"));
        assert!(!is_valid_id("ip", "1.2.3"));
    }

    #[test]
    fn fixup_expands_auth_and_rejects_bad_ids() {
        let ids = vec![Id::new("ip", "127.0.0.1"), Id::new("digest", "u:h")];
        let out = fixup_acl(&cfg(), &ids, &[Acl::new(perms::ALL, "auth", "")]).unwrap();
        assert_eq!(out, vec![Acl::new(perms::ALL, "digest", "u:h")]);
        assert_eq!(fixup_acl(&cfg(), &ids[..1], &[Acl::new(1, "auth", "")]), Err(ErrorCode::InvalidAcl));
        assert_eq!(fixup_acl(&cfg(), &ids, &[Acl::new(1, "digest", "nocolon")]), Err(ErrorCode::InvalidAcl));
        assert_eq!(fixup_acl(&cfg(), &ids, &[Acl::new(1, "world", "someone")]), Err(ErrorCode::InvalidAcl));
        assert_eq!(fixup_acl(&cfg(), &ids, &[]), Err(ErrorCode::InvalidAcl));
    }

    #[test]
    fn super_and_world() {
        let acl = vec![Acl::new(perms::READ, "digest", "a:b")];
        assert_eq!(check_acl(&cfg(), &acl, perms::READ, &[]), Err(ErrorCode::NoAuth));
        assert_eq!(check_acl(&cfg(), &acl, perms::READ, &[Id::new("super", "")]), Ok(()));
        assert_eq!(check_acl(&cfg(), &acl, perms::READ, &[Id::new("digest", "a:b")]), Ok(()));
        assert_eq!(
            check_acl(&cfg(), &acl, perms::WRITE, &[Id::new("digest", "a:b")]),
            Err(ErrorCode::NoAuth)
        );
    }
}
