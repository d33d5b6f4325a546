//! Authentication and ACLs: the `digest` and `ip` providers, the `world`, `auth` and `super`
//! special ids, `checkACL`, `fixupACL` and whoAmI's user names, as ZooKeeper's
//! `ProviderRegistry`, `DigestAuthenticationProvider`, `IPAuthenticationProvider`,
//! `PrepRequestProcessor.fixupACL` and `ZooKeeperServer.checkACL` define them; and the ACL side
//! of `SASLAuthenticationProvider` (the SASL exchange itself is in `sasl`).

use base64::Engine;
use rzk_proto::{Acl, ClientInfo, ErrorCode, Id};
use sha1::{Digest, Sha1};

use crate::sasl::SaslConfig;

/// What the server knows about authentication, from its configuration.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`).
    pub super_digest: Option<String>,
    /// `zookeeper.skipACL`.
    pub skip_acl: bool,
    /// `zookeeper.DigestAuthenticationProvider.enabled` (true by default).
    pub digest_enabled: bool,
    /// `authProvider.N=org.apache.zookeeper.server.auth.SASLAuthenticationProvider`: the `sasl`
    /// scheme is known to ACLs.
    pub sasl_provider: bool,
    /// `zookeeper.letAnySaslUserDoX`: a `sasl` ACL id that every SASL user matches.
    pub sasl_any_user_acl: Option<String>,
    /// Client SASL: the JAAS users, super users, nonce key (see `sasl`).
    pub sasl: SaslConfig,
    /// `AuthenticationHelper`: a connection must hold an id of one of these schemes before any
    /// request but auth and sasl (`enforce.auth.enabled` with `enforce.auth.schemes`, or
    /// `sessionRequireClientSASLAuth`, which means `sasl`). Empty: nothing is enforced.
    pub enforce_schemes: Vec<String>,
    /// Whether the `x509` provider is registered (`authProvider.x509`, which a secure client
    /// port or client port unification registers); see [`crate::x509`].
    pub x509_enabled: bool,
    /// `zookeeper.X509AuthenticationProvider.superUser`: the certificate DN that matches every
    /// x509 ACL (its connections also get the `super` id from the shell).
    pub x509_super_user: Option<String>,
}

impl AuthConfig {
    /// `AuthenticationHelper.isSaslAuthRequired`.
    pub fn sasl_required(&self) -> bool {
        self.enforce_schemes.iter().any(|s| s == "sasl")
    }

    /// `AuthenticationHelper.isCnxnAuthenticated`: whether `ids` satisfy the enforced schemes.
    pub fn enforced_auth_ok(&self, ids: &[Id]) -> bool {
        self.enforce_schemes.is_empty() || ids.iter().any(|i| self.enforce_schemes.contains(&i.scheme))
    }
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
    (scheme == "sasl" && cfg.sasl_provider)
        || scheme == "ip"
        || (scheme == "digest" && cfg.digest_enabled)
        || (scheme == "x509" && cfg.x509_enabled)
}

fn is_valid_id(scheme: &str, id: &str) -> bool {
    match scheme {
        "digest" => java_split(id, ':').len() == 2,
        "ip" => parse_ip_acl(id).is_some(),
        "sasl" => is_kerberos_name(id),
        "x509" => crate::x509::is_valid_dn(id),
        _ => false,
    }
}

/// `SASLAuthenticationProvider.isValid`: `new KerberosName(id)` does not throw, i.e. the id
/// matches `([^/@]*)(/([^/@]*))?@([^/@]*)` or has no `@` at all.
fn is_kerberos_name(id: &str) -> bool {
    let Some((principal, realm)) = id.split_once('@') else { return true };
    !realm.contains(['@', '/']) && principal.split('/').count() <= 2
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
/// True when `acl` grants `perm` whatever the ids ([`check_acl`] passes for every caller): the
/// check can then be made once for many callers (a watch event's watchers).
pub fn open_to_anyone(cfg: &AuthConfig, acl: &[Acl], perm: i32) -> bool {
    cfg.skip_acl
        || acl.is_empty()
        || acl.iter().any(|a| a.perms & perm != 0 && a.id.scheme == "world" && a.id.id == "anyone")
}

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
            // SASLAuthenticationProvider.matches: a SASL user called `super` matches any id.
            "sasl" => {
                i.id == "super"
                    || i.id == a.id.id
                    || cfg.sasl_any_user_acl.as_deref() == Some(a.id.id.as_str())
            }
            "x509" => crate::x509::matches(cfg.x509_super_user.as_deref(), &i.id, &a.id.id),
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
                // sasl is an authenticating provider (`isAuthenticated` is true).
                if cid.scheme == "sasl" && cfg.sasl_provider {
                    valid = true;
                    out.push(Acl { perms: a.perms, id: cid.clone() });
                    continue;
                }
                // x509 is an authenticating provider too (`isAuthenticated` is true).
                if (cid.scheme == "digest" && cfg.digest_enabled)
                    || (cid.scheme == "x509" && cfg.x509_enabled)
                {
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
                "ip" | "x509" | "sasl" => i.id.clone(),
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

    #[test]
    fn sasl_ids_as_sasl_authentication_provider() {
        let sasl = AuthConfig { sasl_provider: true, sasl_any_user_acl: Some("anyone-sasl".into()), ..cfg() };
        // isValid is `new KerberosName(id)`.
        for (id, valid) in
            [("u", true), ("zk/host@R", true), ("x@", true), ("a@b@c", false), ("a/b/c@R", false)]
        {
            assert_eq!(is_valid_id("sasl", id), valid, "{id}");
        }
        let acl = vec![Acl::new(perms::READ, "sasl", "user1")];
        let ok = |ids: &[Id]| check_acl(&sasl, &acl, perms::READ, ids);
        assert_eq!(ok(&[Id::new("sasl", "user1")]), Ok(()));
        assert_eq!(ok(&[Id::new("sasl", "user2")]), Err(ErrorCode::NoAuth));
        // matches(): a SASL user called super matches every sasl id.
        assert_eq!(ok(&[Id::new("sasl", "super")]), Ok(()));
        let any = vec![Acl::new(perms::READ, "sasl", "anyone-sasl")];
        assert_eq!(check_acl(&sasl, &any, perms::READ, &[Id::new("sasl", "user2")]), Ok(()));
        // Without the provider, sasl ACL entries match nobody and are invalid.
        assert_eq!(check_acl(&cfg(), &acl, perms::READ, &[Id::new("sasl", "user1")]), Err(ErrorCode::NoAuth));
        assert_eq!(fixup_acl(&cfg(), &[], &acl), Err(ErrorCode::InvalidAcl));
        // `auth` expands to the sasl id (ip does not authenticate).
        let ids = [Id::new("ip", "127.0.0.1"), Id::new("sasl", "user1")];
        let out = fixup_acl(&sasl, &ids, &[Acl::new(perms::ALL, "auth", "")]).unwrap();
        assert_eq!(out, vec![Acl::new(perms::ALL, "sasl", "user1")]);
        assert!(sasl.enforced_auth_ok(&ids));
        let required = AuthConfig { enforce_schemes: vec!["sasl".into()], ..cfg() };
        assert!(required.sasl_required());
        assert!(!required.enforced_auth_ok(&ids[..1]));
        assert!(required.enforced_auth_ok(&ids));
    }
}
