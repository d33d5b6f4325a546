//! Client SASL (opcode 102) as ZooKeeper's `ZooKeeperServer.processSasl`, `ZooKeeperSaslServer`
//! and `SaslServerCallbackHandler` run it: one DIGEST-MD5 exchange per connection, against the
//! `user_<name>` passwords of the JAAS login section (`Server` by default). The mechanism itself
//! is in `digest_md5`; the node calls [`SaslExchange::step`] for each `GetSASLRequest` token and
//! turns the outcome into the reply (see `node/sasl.rs`).
//!
//! ZooKeeper's server offers exactly one mechanism, chosen by its own login: DIGEST-MD5 when the
//! JAAS section holds no Kerberos principal. rzk supports only that case; a Kerberos server login
//! is refused by the configuration, and a client that opens with a GSSAPI token is told
//! AuthFailed (where Java's DIGEST-MD5 server ignores the token and sends its challenge, which the
//! Kerberos client then cannot read).

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use sha1::{Digest, Sha1};

use crate::digest_md5::{self, DigestError};

/// The bytes of a SASL nonce before base64 (Java's `DigestMD5Base` uses 30 random bytes too).
pub const NONCE_BYTES: usize = 30;
/// The secret the nonces are derived from.
pub const NONCE_KEY_BYTES: usize = 32;

/// What the server knows about client SASL, from its configuration.
#[derive(Clone, Default)]
pub struct SaslConfig {
    /// DIGEST-MD5 passwords by user name (the `user_<name>` options of the JAAS login section).
    /// `None` when no JAAS section is configured: ZooKeeper then has no SASL server and answers
    /// every SASL token with OK and a null token.
    pub users: Option<BTreeMap<String, String>>,
    /// `zookeeper.SASLAuthenticationProvider.superPassword`: the password of user `super` (used
    /// only when the JAAS section has a `user_super`, as ZooKeeper's callback handler does).
    pub super_password: Option<String>,
    /// `zookeeper.superUser` and `zookeeper.superUser.<anything>`: SASL ids that also get `super`.
    pub super_users: Vec<String>,
    /// `zookeeper.allowSaslFailedClients`: a failed exchange answers OK and keeps the connection
    /// (unless SASL is required).
    pub allow_failed_clients: bool,
    /// The secret key SASL nonces are derived from (random in the server; fixed in tests).
    pub nonce_key: [u8; NONCE_KEY_BYTES],
}

impl fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords or the key.
        f.debug_struct("SaslConfig")
            .field("users", &self.users.as_ref().map(|u| u.keys().collect::<Vec<_>>()))
            .field("super_password", &self.super_password.as_ref().map(|_| "<set>"))
            .field("super_users", &self.super_users)
            .field("allow_failed_clients", &self.allow_failed_clients)
            .finish_non_exhaustive()
    }
}

impl SaslConfig {
    /// The password of `user`, as `SaslServerCallbackHandler` finds it.
    fn password(&self, user: &str) -> Option<&str> {
        let users = self.users.as_ref()?;
        let stored = users.get(user)?;
        match &self.super_password {
            Some(p) if user == "super" => Some(p),
            _ => Some(stored),
        }
    }

    /// `ZooKeeperServer.isSaslSuperUser`.
    pub fn is_super_user(&self, id: &str) -> bool {
        !id.is_empty() && self.super_users.iter().any(|u| u == id)
    }

    /// The `seq`th nonce: base64 of [`NONCE_BYTES`] bytes of SHA-1(key, seq, block), unguessable
    /// without the key and never repeated within one server run.
    pub fn nonce(&self, seq: u64) -> String {
        let mut raw = Vec::with_capacity(2 * 20);
        for block in 0u8..2 {
            let mut h = Sha1::new();
            h.update(self.nonce_key);
            h.update(seq.to_be_bytes());
            h.update([block]);
            raw.extend_from_slice(&h.finalize());
        }
        raw.truncate(NONCE_BYTES);
        base64::engine::general_purpose::STANDARD.encode(raw)
    }
}

/// Where one connection's exchange is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SaslExchange {
    /// No token yet.
    #[default]
    Start,
    /// The challenge with this nonce went out; the client's response is next.
    Challenged { nonce: String },
    /// Authenticated or failed: ZooKeeper's SaslServer is then at an illegal state, and any
    /// further token fails.
    Done,
}

/// The result of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslStep {
    /// Answer OK with this token.
    Continue(Vec<u8>),
    /// Answer OK with this token; the connection is now `sasl:<id>`.
    Authenticated { id: String, token: Vec<u8> },
}

/// Why an exchange failed (logged; the client only sees the error code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslFailure {
    /// The client's first token is a GSSAPI (Kerberos) one.
    GssapiNotSupported,
    Digest(DigestError),
    /// A token after the exchange completed or failed.
    IllegalState,
}

impl fmt::Display for SaslFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaslFailure::GssapiNotSupported => {
                write!(
                    f,
                    "the client asked for GSSAPI (Kerberos), which rzk does not support; use DIGEST-MD5"
                )
            }
            SaslFailure::Digest(e) => e.fmt(f),
            SaslFailure::IllegalState => write!(f, "DIGEST-MD5: Server at illegal state"),
        }
    }
}

/// Whether `token` is the start of a GSSAPI initial context token (RFC 2743 §3.1: tag 0x60, a
/// DER length, then the mechanism OID; Kerberos V5 is 1.2.840.113554.1.2.2).
pub fn is_gssapi_token(token: &[u8]) -> bool {
    const KRB5_OID: [u8; 11] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
    token.first() == Some(&0x60) && token.windows(KRB5_OID.len()).take(8).any(|w| w == KRB5_OID)
}

impl SaslExchange {
    /// Handles one client token. `next_nonce` is called once per exchange, for the challenge.
    pub fn step(
        &mut self,
        cfg: &SaslConfig,
        token: &[u8],
        next_nonce: impl FnOnce() -> String,
    ) -> Result<SaslStep, SaslFailure> {
        match std::mem::replace(self, SaslExchange::Done) {
            SaslExchange::Start => {
                // DIGEST-MD5 has no initial response; Java's server ignores one, rzk too, unless
                // it is a Kerberos token (the client would fail on the challenge anyway).
                if is_gssapi_token(token) {
                    return Err(SaslFailure::GssapiNotSupported);
                }
                let nonce = next_nonce();
                let challenge = digest_md5::challenge(&nonce).into_bytes();
                *self = SaslExchange::Challenged { nonce };
                Ok(SaslStep::Continue(challenge))
            }
            SaslExchange::Challenged { nonce } => {
                let r = digest_md5::parse_response(token).map_err(SaslFailure::Digest)?;
                digest_md5::check_directives(&r, &nonce).map_err(SaslFailure::Digest)?;
                let password = cfg
                    .password(&r.username)
                    .ok_or_else(|| SaslFailure::Digest(DigestError::UnknownUser(r.username.clone())))?;
                let rspauth = digest_md5::verify(&r, &nonce, password).map_err(SaslFailure::Digest)?;
                Ok(SaslStep::Authenticated { id: r.username, token: rspauth.into_bytes() })
            }
            SaslExchange::Done => Err(SaslFailure::IllegalState),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SaslConfig {
        let users =
            BTreeMap::from([("user1".to_owned(), "pass1".to_owned()), ("super".to_owned(), "s".to_owned())]);
        SaslConfig { users: Some(users), super_users: vec!["user1".into()], ..SaslConfig::default() }
    }

    const JAVA_NONCE: &str = "WNeKP9ByjgFD22df1zdqyhEhfvUTWhipeOD/L+Cn";
    const JAVA_RESPONSE: &str = "charset=utf-8,username=\"user1\",realm=\"zk-sasl-md5\",\
        nonce=\"WNeKP9ByjgFD22df1zdqyhEhfvUTWhipeOD/L+Cn\",nc=00000001,\
        cnonce=\"Erfw0KnGw8b0MPe5hdmzltjDc3kA6iMcOIVMJeVC\",digest-uri=\"zookeeper/zk-sasl-md5\",\
        maxbuf=65536,response=8b9551cfde7e0b891c9584ba8be5ea4b,qop=auth";

    #[test]
    fn java_exchange() {
        let c = cfg();
        let mut x = SaslExchange::default();
        let first = x.step(&c, b"", || JAVA_NONCE.to_owned()).unwrap();
        assert_eq!(first, SaslStep::Continue(digest_md5::challenge(JAVA_NONCE).into_bytes()));
        let done = x.step(&c, JAVA_RESPONSE.as_bytes(), || unreachable!()).unwrap();
        assert_eq!(
            done,
            SaslStep::Authenticated {
                id: "user1".into(),
                token: b"rspauth=d6a2687d7c638a84a7f1abcd102f0e23".to_vec()
            }
        );
        assert_eq!(x.step(&c, b"", || unreachable!()), Err(SaslFailure::IllegalState));
        assert!(c.is_super_user("user1") && !c.is_super_user("user2") && !c.is_super_user(""));
    }

    #[test]
    fn wrong_password_and_unknown_user() {
        let mut c = cfg();
        c.users = Some(BTreeMap::from([("user1".to_owned(), "other".to_owned())]));
        let mut x = SaslExchange::Challenged { nonce: JAVA_NONCE.into() };
        assert_eq!(
            x.step(&c, JAVA_RESPONSE.as_bytes(), String::new),
            Err(SaslFailure::Digest(DigestError::Mismatch))
        );
        assert_eq!(x, SaslExchange::Done);
        c.users = Some(BTreeMap::new());
        let mut x = SaslExchange::Challenged { nonce: JAVA_NONCE.into() };
        assert_eq!(
            x.step(&c, JAVA_RESPONSE.as_bytes(), String::new),
            Err(SaslFailure::Digest(DigestError::UnknownUser("user1".into())))
        );
    }

    #[test]
    fn super_password_only_for_a_listed_super() {
        let mut c = cfg();
        c.super_password = Some("sp".into());
        assert_eq!(c.password("super"), Some("sp"));
        assert_eq!(c.password("user1"), Some("pass1"));
        c.users = Some(BTreeMap::new());
        assert_eq!(c.password("super"), None);
    }

    #[test]
    fn gssapi_is_refused() {
        // The start of a Kerberos AP-REQ wrapped as an initial context token.
        let token =
            [0x60, 0x82, 0x02, 0x5b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];
        let mut x = SaslExchange::default();
        assert_eq!(x.step(&cfg(), &token, String::new), Err(SaslFailure::GssapiNotSupported));
        // Any other initial response is ignored, as Java's server does.
        let mut x = SaslExchange::default();
        assert!(matches!(x.step(&cfg(), b"\0user\0pw", || "n".into()), Ok(SaslStep::Continue(_))));
    }

    #[test]
    fn nonces_differ_and_hide_the_key() {
        let c = cfg();
        let (a, b) = (c.nonce(1), c.nonce(2));
        assert_ne!(a, b);
        assert_eq!(a.len(), 40);
        let other = SaslConfig { nonce_key: [7; NONCE_KEY_BYTES], ..cfg() };
        assert_ne!(other.nonce(1), a);
        assert!(!format!("{c:?}").contains("pass1"));
    }
}
