//! The `x509` auth scheme's id rules, as ZooKeeper's `X509AuthenticationProvider` has them:
//! an id is a distinguished name that `new X500Principal(id)` accepts (`isValid`), and an ACL
//! id matches when it is the same string, or when the connection's id is the configured
//! `zookeeper.X509AuthenticationProvider.superUser` (`matches`). The id itself is attached by
//! the shell when a TLS client presents a certificate (see `Input::ConnAuth`).

/// Attribute type keywords `X500Principal(String)` knows (`AVAKeyword`), upper case.
const KEYWORDS: &[&str] = &[
    "CN",
    "C",
    "L",
    "S",
    "ST",
    "O",
    "OU",
    "T",
    "IP",
    "STREET",
    "DC",
    "DNQUALIFIER",
    "DNQ",
    "SURNAME",
    "GIVENNAME",
    "INITIALS",
    "GENERATION",
    "EMAIL",
    "EMAILADDRESS",
    "UID",
    "SERIALNUMBER",
];

/// `X509AuthenticationProvider.matches`.
pub fn matches(super_user: Option<&str>, id: &str, acl_expr: &str) -> bool {
    super_user.is_some_and(|s| s == id) || id == acl_expr
}

/// `X509AuthenticationProvider.isValid`: whether `dn` parses as an X.500 name (RFC 2253 or
/// RFC 1779 syntax: `type=value` pairs separated by `,` or `;`, multi-valued with `+`;
/// values plain with `\` escapes, quoted, or `#hex`). The empty name is valid.
pub fn is_valid_dn(dn: &str) -> bool {
    if dn.trim().is_empty() {
        return true;
    }
    let Some(avas) = split_avas(dn) else { return false };
    avas.iter().all(|ava| valid_ava(ava))
}

/// Splits at unescaped, unquoted `,` `;` `+`; `None` on a dangling escape or open quote.
fn split_avas(dn: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                cur.push(chars.next()?);
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' | ';' | '+' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    out.push(cur);
    Some(out)
}

fn valid_ava(ava: &str) -> bool {
    let Some((kind, value)) = ava.split_once('=') else { return false };
    let kind = kind.trim();
    let upper = kind.to_ascii_uppercase();
    let oid = upper.strip_prefix("OID.").unwrap_or(&upper);
    let is_oid = oid.split('.').count() >= 2
        && oid.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !(KEYWORDS.contains(&upper.as_str()) || is_oid) {
        return false;
    }
    let value = value.trim();
    if let Some(hex) = value.strip_prefix('#') {
        return !hex.is_empty() && hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(inner) = value.strip_prefix('"') {
        return inner.ends_with('"');
    }
    // Unquoted: a backslash escapes a special character or starts two hex digits.
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if ",=+<>#;\"\\ ".contains(n) => {}
                Some(n) if n.is_ascii_hexdigit() => {
                    if !chars.next().is_some_and(|m| m.is_ascii_hexdigit()) {
                        return false;
                    }
                }
                _ => return false,
            },
            '"' | '<' | '>' | '=' => return false,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for dn in [
            "",
            "CN=client1,O=Acme,C=US",
            "cn=client1, o=Acme",
            "CN=\\ lead\\#,1.2.840.113549.1.9.1=#16057840792e7a,ST=Some State,OU=a+OU=b,O=Acme\\, Inc.",
            "OID.2.5.4.3=x",
            "CN=\"quoted, with comma\"",
            "EMAILADDRESS=a@b.c;CN=x",
        ] {
            assert!(is_valid_dn(dn), "{dn}");
        }
    }

    #[test]
    fn invalid_names() {
        for dn in ["client1", "XX=1", "CN=a\\", "CN=\"open", "CN=#abc", "CN=a=b", "=x", "CN=a,,O=b"] {
            assert!(!is_valid_dn(dn), "{dn}");
        }
    }

    #[test]
    fn acls_with_the_x509_provider() {
        use crate::auth::{AuthConfig, check_acl, fixup_acl};
        use rzk_proto::codes::perms;
        use rzk_proto::{Acl, ErrorCode, Id};
        let off = AuthConfig { digest_enabled: true, ..Default::default() };
        let on = AuthConfig { x509_enabled: true, x509_super_user: Some("CN=root".into()), ..off.clone() };
        let acl = [Acl::new(perms::ALL, "x509", "CN=a,O=b")];
        let client = [Id::new("ip", "127.0.0.1"), Id::new("x509", "CN=a,O=b")];
        // Without the provider registered, x509 ACLs are invalid and never match.
        assert_eq!(fixup_acl(&off, &client, &acl), Err(ErrorCode::InvalidAcl));
        assert_eq!(check_acl(&off, &acl, perms::READ, &client), Err(ErrorCode::NoAuth));
        assert_eq!(fixup_acl(&on, &client, &acl).as_deref(), Ok(&acl[..]));
        assert_eq!(fixup_acl(&on, &client, &[Acl::new(1, "x509", "not a dn")]), Err(ErrorCode::InvalidAcl));
        assert_eq!(check_acl(&on, &acl, perms::READ, &client), Ok(()));
        assert_eq!(check_acl(&on, &acl, perms::READ, &[Id::new("x509", "CN=other")]), Err(ErrorCode::NoAuth));
        assert_eq!(check_acl(&on, &acl, perms::READ, &[Id::new("x509", "CN=root")]), Ok(()));
        // `auth` stands for the x509 id (an authenticating provider), not the ip id.
        assert_eq!(fixup_acl(&on, &client, &[Acl::new(perms::ALL, "auth", "")]).as_deref(), Ok(&acl[..]));
    }

    #[test]
    fn super_user_matches_any_acl() {
        assert!(matches(None, "CN=a", "CN=a"));
        assert!(!matches(None, "CN=a", "CN=b"));
        assert!(matches(Some("CN=root"), "CN=root", "CN=b"));
        assert!(!matches(Some("CN=root"), "CN=a", "CN=b"));
    }
}
