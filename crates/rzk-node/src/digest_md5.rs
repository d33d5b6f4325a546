//! The server side of SASL DIGEST-MD5 (RFC 2831), as Java's `DigestMD5Server` runs it for
//! ZooKeeper (`SecurityUtils.createSaslServer(.., "zookeeper", "zk-sasl-md5", ..)`): pure
//! functions that build the challenge, parse and check the client's response and compute
//! `rspauth`. The exchange around them (states, users, errors on the wire) is in `sasl`.
//!
//! What the Java server does, and so rzk (checked against Java 17's `DigestMD5Server`):
//! - the challenge is `realm="zk-sasl-md5",nonce="…",charset=utf-8,algorithm=md5-sess` (no `qop`
//!   directive: its default, `auth`, is the only one offered);
//! - the response's realm must be `zk-sasl-md5` (a missing realm is "Nonexistent realm: "),
//!   `digest-uri` must be `zookeeper/zk-sasl-md5` in any case, `qop` absent or `auth`;
//! - the response value is computed with the nonce count `00000001`, whatever `nc` says;
//! - directives it does not know are ignored; `authzid` takes part in A1 but the authorised id
//!   stays the user name (`SaslServerCallbackHandler.handleAuthorizeCallback`);
//! - user name, realm and password are hashed as ISO-8859-1 unless one of their characters is
//!   above U+00FF and both sides said `charset=utf-8`, then as UTF-8 (RFC 2831 §2.1.2.1).

use std::fmt;

use md5::{Digest, Md5};

/// The realm and server name ZooKeeper gives its DIGEST-MD5 server.
pub const REALM: &str = "zk-sasl-md5";
/// `protocol/serverName` as the Java server expects it in `digest-uri`.
pub const DIGEST_URI: &str = "zookeeper/zk-sasl-md5";
/// Quorum SASL (`QuorumAuth.QUORUM_SERVER_SASL_DIGEST`): the server name, and so the realm, of
/// the DIGEST-MD5 exchange between ensemble members.
pub const QUORUM_REALM: &str = "zk-quorum-sasl-md5";
/// `QuorumAuth.QUORUM_SERVER_PROTOCOL_NAME` + `/` + [`QUORUM_REALM`].
pub const QUORUM_DIGEST_URI: &str = "zookeeper-quorum/zk-quorum-sasl-md5";

/// The realm and `digest-uri` an exchange runs under (client SASL or quorum SASL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    pub realm: &'static str,
    pub digest_uri: &'static str,
}

/// Client SASL (`zookeeper/zk-sasl-md5`).
pub const CLIENT_SERVICE: Service = Service { realm: REALM, digest_uri: DIGEST_URI };
/// Quorum SASL (`zookeeper-quorum/zk-quorum-sasl-md5`).
pub const QUORUM_SERVICE: Service = Service { realm: QUORUM_REALM, digest_uri: QUORUM_DIGEST_URI };
/// RFC 2831 §2.1.2: a digest-response longer than this is an error.
pub const RESPONSE_BYTES_MAX: usize = 4096;
/// The nonce count the response value is computed with (one authentication per nonce).
const NONCE_COUNT: &str = "00000001";

/// Why a client response was refused (messages follow Java's `SaslException`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestError {
    TooLong(usize),
    Syntax(String),
    Missing(&'static str),
    Duplicate(String),
    Charset(String),
    Realm(String),
    Nonce,
    /// The `digest-uri` sent, and the one expected.
    Uri(String, &'static str),
    Qop(String),
    /// No password for this user (not in the JAAS section).
    UnknownUser(String),
    /// The response value is wrong: a wrong password (or a forged exchange).
    Mismatch,
    /// (Client side) the server's challenge cannot be answered.
    Challenge(String),
    /// (Client side) the server's `rspauth` is wrong: it does not know our password.
    RspAuth,
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::TooLong(n) => {
                write!(f, "DIGEST-MD5: response of {n} bytes is above {RESPONSE_BYTES_MAX}")
            }
            DigestError::Syntax(m) => write!(f, "DIGEST-MD5: digest response format violation: {m}"),
            DigestError::Missing(d) => {
                write!(f, "DIGEST-MD5: digest response format violation. Missing {d}.")
            }
            DigestError::Duplicate(d) => write!(f, "DIGEST-MD5: directive {d} may appear only once"),
            DigestError::Charset(c) => {
                write!(f, "DIGEST-MD5: digest response format violation. Incompatible charset value: {c}")
            }
            DigestError::Realm(r) => {
                write!(f, "DIGEST-MD5: digest response format violation. Nonexistent realm: {r}")
            }
            DigestError::Nonce => {
                write!(f, "DIGEST-MD5: digest response format violation. Mismatched nonce.")
            }
            DigestError::Uri(u, expected) => write!(
                f,
                "DIGEST-MD5: digest response format violation. Mismatched URI: {u}; expecting: {expected}"
            ),
            DigestError::Qop(q) => write!(f, "DIGEST-MD5: server does not support  qop: {q}"),
            DigestError::UnknownUser(u) => {
                write!(f, "DIGEST-MD5: cannot acquire password for {u} in realm : {REALM}")
            }
            DigestError::Mismatch => {
                write!(f, "DIGEST-MD5: digest response format violation. Mismatched response.")
            }
            DigestError::Challenge(m) => write!(f, "DIGEST-MD5: invalid challenge: {m}"),
            DigestError::RspAuth => {
                write!(f, "DIGEST-MD5: Server's rspauth value does not match what client expects")
            }
        }
    }
}

impl std::error::Error for DigestError {}

/// The server's first (and only) challenge for `nonce`.
pub fn challenge(nonce: &str) -> String {
    challenge_for(CLIENT_SERVICE, nonce)
}

/// [`challenge`] for `service`.
pub fn challenge_for(service: Service, nonce: &str) -> String {
    format!("realm=\"{}\",nonce=\"{nonce}\",charset=utf-8,algorithm=md5-sess", service.realm)
}

/// The directives of a client's digest-response that the server uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientResponse {
    pub username: String,
    pub realm: Option<String>,
    pub nonce: String,
    pub cnonce: String,
    pub nc: Option<String>,
    pub qop: Option<String>,
    pub digest_uri: String,
    /// 32 lower-case hex digits.
    pub response: String,
    pub authzid: Option<String>,
    /// The client said `charset=utf-8`.
    pub utf8: bool,
}

/// The response directives the server reads; others are ignored.
const KNOWN_DIRECTIVES: [&str; 10] =
    ["username", "realm", "nonce", "cnonce", "nc", "qop", "digest-uri", "response", "authzid", "charset"];

/// `name=value` pairs, values unquoted, in order.
fn directives(text: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let name = name.trim().to_ascii_lowercase();
        if chars.next() != Some('=') || name.is_empty() {
            return Err(DigestError::Syntax(format!("directive without a value near {name:?}")));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(DigestError::Syntax(format!("unterminated quoted value of {name}")));
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_some_and(|c| *c != ',') {
                return Err(DigestError::Syntax(format!("text after the quoted value of {name}")));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_owned();
        }
        out.push((name, value));
    }
}

/// Parses a client's digest-response (its bytes are UTF-8 when it says `charset=utf-8`, else
/// ISO-8859-1).
pub fn parse_response(bytes: &[u8]) -> Result<ClientResponse, DigestError> {
    if bytes.len() > RESPONSE_BYTES_MAX {
        return Err(DigestError::TooLong(bytes.len()));
    }
    // Directive names and the charset value are ASCII, so a Latin-1 reading finds `charset`.
    let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
    let utf8 = match directives(&latin1)?.iter().find(|(n, _)| n == "charset") {
        Some((_, v)) if v.eq_ignore_ascii_case("utf-8") => true,
        Some((_, v)) => return Err(DigestError::Charset(v.clone())),
        None => false,
    };
    let text = if utf8 {
        std::str::from_utf8(bytes).map_err(|_| DigestError::Syntax("invalid UTF-8".into()))?.to_owned()
    } else {
        latin1
    };
    let mut r = ClientResponse { utf8, ..ClientResponse::default() };
    let mut seen: Vec<&'static str> = Vec::new();
    for (name, value) in directives(&text)? {
        let Some(&key) = KNOWN_DIRECTIVES.iter().find(|k| **k == name) else { continue };
        if seen.contains(&key) {
            return Err(DigestError::Duplicate(key.to_owned()));
        }
        seen.push(key);
        match key {
            "username" => r.username = value,
            "realm" => r.realm = Some(value),
            "nonce" => r.nonce = value,
            "cnonce" => r.cnonce = value,
            "nc" => r.nc = Some(value),
            "qop" => r.qop = Some(value),
            "digest-uri" => r.digest_uri = value,
            "response" => r.response = value.to_ascii_lowercase(),
            "authzid" => r.authzid = Some(value),
            _ => {} // charset, read above
        }
    }
    for required in ["username", "nonce", "cnonce", "nc", "digest-uri", "response"] {
        if !seen.contains(&required) {
            return Err(DigestError::Missing(required));
        }
    }
    Ok(r)
}

/// RFC 2831's rule for user name, realm and password: ISO-8859-1 when every character fits,
/// else UTF-8 (only when UTF-8 was negotiated).
fn hash_bytes(s: &str, utf8: bool) -> Vec<u8> {
    if s.chars().all(|c| (c as u32) <= 0xff) {
        s.chars().map(|c| c as u32 as u8).collect()
    } else if utf8 {
        s.as_bytes().to_vec()
    } else {
        // Java's String.getBytes("8859_1") writes '?' for what does not fit.
        s.chars().map(|c| if (c as u32) <= 0xff { c as u32 as u8 } else { b'?' }).collect()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))) with A2 = `a2_method:digest-uri`
/// (`AUTHENTICATE` for the client's response value, empty for the server's `rspauth`).
fn response_value(r: &ClientResponse, realm: &str, password: &str, a2_method: &str) -> String {
    let mut inner = Md5::new();
    inner.update(hash_bytes(&r.username, r.utf8));
    inner.update(b":");
    inner.update(hash_bytes(realm, r.utf8));
    inner.update(b":");
    inner.update(hash_bytes(password, r.utf8));
    let mut a1 = Md5::new();
    a1.update(inner.finalize());
    a1.update(format!(":{}:{}", r.nonce, r.cnonce).as_bytes());
    if let Some(authzid) = &r.authzid {
        a1.update(b":");
        a1.update(authzid.as_bytes());
    }
    let ha1 = hex(&a1.finalize());
    let ha2 = hex(&Md5::digest(format!("{a2_method}:{}", r.digest_uri).as_bytes()));
    let qop = r.qop.as_deref().unwrap_or("auth");
    let kd = format!("{ha1}:{}:{NONCE_COUNT}:{}:{qop}:{ha2}", r.nonce, r.cnonce);
    hex(&Md5::digest(kd.as_bytes()))
}

/// Checks everything but the password (so that an unknown user and a wrong password can be told
/// apart in the log only after these).
pub fn check_directives(r: &ClientResponse, nonce: &str) -> Result<(), DigestError> {
    check_directives_for(CLIENT_SERVICE, r, nonce)
}

/// [`check_directives`] for `service`.
pub fn check_directives_for(service: Service, r: &ClientResponse, nonce: &str) -> Result<(), DigestError> {
    let realm = r.realm.as_deref().unwrap_or("");
    if realm != service.realm {
        return Err(DigestError::Realm(realm.to_owned()));
    }
    if r.nonce != nonce {
        return Err(DigestError::Nonce);
    }
    if let Some(q) = r.qop.as_deref().filter(|q| *q != "auth") {
        return Err(DigestError::Qop(q.to_owned()));
    }
    if !r.digest_uri.eq_ignore_ascii_case(service.digest_uri) {
        return Err(DigestError::Uri(r.digest_uri.clone(), service.digest_uri));
    }
    Ok(())
}

/// Checks the response value against `password` and returns the server's final token
/// (`rspauth=…`).
pub fn verify(r: &ClientResponse, nonce: &str, password: &str) -> Result<String, DigestError> {
    verify_for(CLIENT_SERVICE, r, nonce, password)
}

/// [`verify`] for `service`.
pub fn verify_for(
    service: Service,
    r: &ClientResponse,
    nonce: &str,
    password: &str,
) -> Result<String, DigestError> {
    check_directives_for(service, r, nonce)?;
    let expected = response_value(r, service.realm, password, "AUTHENTICATE");
    if !constant_time_eq(expected.as_bytes(), r.response.as_bytes()) {
        return Err(DigestError::Mismatch);
    }
    Ok(format!("rspauth={}", response_value(r, service.realm, password, "")))
}

/// The client's side of one exchange: its answer to the server's challenge, and the `rspauth`
/// the server must send back to prove it knows the password too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAnswer {
    /// The digest-response to send.
    pub response: String,
    /// The hex value the server's final `rspauth=` must carry.
    pub rspauth: String,
}

/// Answers a server's challenge as Java's `DigestMD5Client` does when ZooKeeper creates it
/// (`SecurityUtils.createSaslClient`: the authorization id is the user name): qop `auth`, nonce
/// count 1, the challenge's realm, `charset=utf-8` when the server offered it, and
/// `authzid="<username>"` last (it takes part in A1).
pub fn client_answer(
    service: Service,
    challenge: &[u8],
    username: &str,
    password: &str,
    cnonce: &str,
) -> Result<ClientAnswer, DigestError> {
    if challenge.len() > 2048 {
        return Err(DigestError::Challenge(format!("{} bytes is above 2048", challenge.len())));
    }
    let latin1: String = challenge.iter().map(|&b| char::from(b)).collect();
    let mut realms = Vec::new();
    let (mut nonce, mut qops, mut utf8, mut algorithm) = (None, None, false, None);
    for (name, value) in directives(&latin1)? {
        match name.as_str() {
            "realm" => realms.push(value),
            "nonce" if nonce.is_some() => return Err(DigestError::Duplicate("nonce".into())),
            "nonce" => nonce = Some(value),
            "qop" => qops = Some(value),
            "charset" => utf8 = value.eq_ignore_ascii_case("utf-8"),
            "algorithm" => algorithm = Some(value),
            _ => {}
        }
    }
    let nonce = nonce.ok_or_else(|| DigestError::Challenge("no nonce".into()))?;
    if algorithm.as_deref() != Some("md5-sess") {
        return Err(DigestError::Challenge(format!("algorithm {algorithm:?}, expected md5-sess")));
    }
    if let Some(q) = &qops
        && !q.split(',').any(|q| q.trim() == "auth")
    {
        return Err(DigestError::Qop(q.clone()));
    }
    // One realm offered: that one; none: the server name (Java's client asks its callback
    // handler, which ZooKeeper's answers with the default).
    let realm = realms.first().cloned().unwrap_or_else(|| service.realm.to_owned());
    let mut r = ClientResponse {
        username: username.to_owned(),
        realm: Some(realm.clone()),
        nonce: nonce.clone(),
        cnonce: cnonce.to_owned(),
        nc: Some(NONCE_COUNT.to_owned()),
        qop: Some("auth".to_owned()),
        digest_uri: service.digest_uri.to_owned(),
        response: String::new(),
        authzid: Some(username.to_owned()),
        utf8,
    };
    r.response = response_value(&r, &realm, password, "AUTHENTICATE");
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let response = format!(
        "{}username=\"{}\",realm=\"{}\",nonce=\"{}\",nc={NONCE_COUNT},cnonce=\"{}\",digest-uri=\"{}\",\
         maxbuf=65536,response={},qop=auth,authzid=\"{}\"",
        if utf8 { "charset=utf-8," } else { "" },
        quote(username),
        quote(&realm),
        quote(&nonce),
        quote(cnonce),
        service.digest_uri,
        r.response,
        quote(username)
    );
    Ok(ClientAnswer { response, rspauth: response_value(&r, &realm, password, "") })
}

/// Checks the server's final token (`rspauth=…`) against `answer`.
pub fn check_rspauth(answer: &ClientAnswer, token: &[u8]) -> Result<(), DigestError> {
    let text: String = token.iter().map(|&b| char::from(b)).collect();
    let got = directives(&text)?
        .into_iter()
        .find(|(n, _)| n == "rspauth")
        .map(|(_, v)| v.to_ascii_lowercase())
        .ok_or(DigestError::RspAuth)?;
    if constant_time_eq(got.as_bytes(), answer.rspauth.as_bytes()) {
        Ok(())
    } else {
        Err(DigestError::RspAuth)
    }
}

/// A client's digest-response to `nonce` (as Java's client writes it), for tests and clients.
pub fn client_response(username: &str, password: &str, nonce: &str, cnonce: &str) -> String {
    let mut r = ClientResponse {
        username: username.to_owned(),
        realm: Some(REALM.to_owned()),
        nonce: nonce.to_owned(),
        cnonce: cnonce.to_owned(),
        nc: Some(NONCE_COUNT.to_owned()),
        qop: Some("auth".to_owned()),
        digest_uri: DIGEST_URI.to_owned(),
        response: String::new(),
        authzid: None,
        utf8: true,
    };
    r.response = response_value(&r, REALM, password, "AUTHENTICATE");
    format!(
        "charset=utf-8,username=\"{}\",realm=\"{REALM}\",nonce=\"{nonce}\",nc={NONCE_COUNT},cnonce=\"{cnonce}\",\
         digest-uri=\"{DIGEST_URI}\",maxbuf=65536,response={},qop=auth",
        username.replace('\\', "\\\\").replace('"', "\\\""),
        r.response
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2831 §4's worked example (IMAP, qop=auth), through the same computation with its
    /// realm and digest-uri.
    #[test]
    fn rfc2831_example() {
        let r = ClientResponse {
            username: "chris".into(),
            realm: Some("elwood.innosoft.com".into()),
            nonce: "OA6MG9tEQGm2hh".into(),
            cnonce: "OA6MHXh6VqTrRk".into(),
            nc: Some("00000001".into()),
            qop: Some("auth".into()),
            digest_uri: "imap/elwood.innosoft.com".into(),
            response: String::new(),
            authzid: None,
            utf8: false,
        };
        let value = response_value(&r, "elwood.innosoft.com", "secret", "AUTHENTICATE");
        assert_eq!(value, "d388dad90d4bbd760a152321f2143af7");
        assert_eq!(
            response_value(&r, "elwood.innosoft.com", "secret", ""),
            "ea40f60335c427b5527b84dbabcdfffd"
        );
    }

    /// A response that Java 17's SASL client (`Sasl.createSaslClient("DIGEST-MD5", .., "zookeeper",
    /// "zk-sasl-md5", ..)`) sent for user1/pass1, and the rspauth Java's server answered.
    #[test]
    fn java_client_response() {
        let nonce = "WNeKP9ByjgFD22df1zdqyhEhfvUTWhipeOD/L+Cn";
        let token = "charset=utf-8,username=\"user1\",realm=\"zk-sasl-md5\",\
            nonce=\"WNeKP9ByjgFD22df1zdqyhEhfvUTWhipeOD/L+Cn\",nc=00000001,\
            cnonce=\"Erfw0KnGw8b0MPe5hdmzltjDc3kA6iMcOIVMJeVC\",digest-uri=\"zookeeper/zk-sasl-md5\",\
            maxbuf=65536,response=8b9551cfde7e0b891c9584ba8be5ea4b,qop=auth";
        let r = parse_response(token.as_bytes()).unwrap();
        assert_eq!(r.username, "user1");
        assert!(r.utf8);
        assert_eq!(verify(&r, nonce, "pass1").unwrap(), "rspauth=d6a2687d7c638a84a7f1abcd102f0e23");
        assert_eq!(verify(&r, nonce, "wrong"), Err(DigestError::Mismatch));
        assert_eq!(verify(&r, "othernonce", "pass1"), Err(DigestError::Nonce));
    }

    /// Java's exchange for user `ü€x` (UTF-8: `€` is above U+00FF) with password `päss`
    /// (ISO-8859-1: every character fits).
    #[test]
    fn java_client_response_non_ascii() {
        let nonce = "13aKusj2Xukig8IcpWjLyhtkeEoVGDGqizfvBJri";
        let token = "charset=utf-8,username=\"ü€x\",realm=\"zk-sasl-md5\",\
            nonce=\"13aKusj2Xukig8IcpWjLyhtkeEoVGDGqizfvBJri\",nc=00000001,\
            cnonce=\"BRdXGzoTuIYYkBR4Pv9xTM2rEEwqSSykYYyV3gYH\",digest-uri=\"zookeeper/zk-sasl-md5\",\
            maxbuf=65536,response=b73546324a5f1d19229dc9a5af512c8b,qop=auth";
        let r = parse_response(token.as_bytes()).unwrap();
        assert_eq!(r.username, "ü€x");
        assert_eq!(verify(&r, nonce, "päss").unwrap(), "rspauth=e744be67aab46c7856fa371c26a53d5d");
    }

    /// A quorum exchange between Java 17's `DigestMD5Client` and `DigestMD5Server`, created as
    /// ZooKeeper's `SaslQuorumAuthLearner` / `SaslQuorumAuthServer` create them (protocol
    /// `zookeeper-quorum`, server name `zk-quorum-sasl-md5`, authorization id = user name), for
    /// user `test`, password `mypassword`.
    const JAVA_QUORUM_CHALLENGE: &str = "realm=\"zk-quorum-sasl-md5\",\
        nonce=\"tarmD6zEu8H5eNU67Rmcead49mAumYtYdxsUZwhS\",charset=utf-8,algorithm=md5-sess";
    const JAVA_QUORUM_RESPONSE: &str = "charset=utf-8,username=\"test\",realm=\"zk-quorum-sasl-md5\",\
        nonce=\"tarmD6zEu8H5eNU67Rmcead49mAumYtYdxsUZwhS\",nc=00000001,\
        cnonce=\"ioQ7czOv0hs+oV+skDM38/XeFtgWpEH+XRJG/7i5\",digest-uri=\"zookeeper-quorum/zk-quorum-sasl-md5\",\
        maxbuf=65536,response=a6ef3524978bcda34f6961a7cd10560d,qop=auth,authzid=\"test\"";
    const JAVA_QUORUM_RSPAUTH: &str = "rspauth=7b8fab86d2625fc09b06744be182d7a3";

    #[test]
    fn java_quorum_exchange_server_side() {
        let nonce = "tarmD6zEu8H5eNU67Rmcead49mAumYtYdxsUZwhS";
        assert_eq!(challenge_for(QUORUM_SERVICE, nonce), JAVA_QUORUM_CHALLENGE);
        let r = parse_response(JAVA_QUORUM_RESPONSE.as_bytes()).unwrap();
        assert_eq!(r.authzid.as_deref(), Some("test"));
        assert_eq!(verify_for(QUORUM_SERVICE, &r, nonce, "mypassword").unwrap(), JAVA_QUORUM_RSPAUTH);
        assert_eq!(verify_for(QUORUM_SERVICE, &r, nonce, "other"), Err(DigestError::Mismatch));
        // The client SASL service refuses a quorum response (realm first).
        assert!(matches!(verify(&r, nonce, "mypassword"), Err(DigestError::Realm(_))));
    }

    #[test]
    fn java_quorum_exchange_client_side() {
        let cnonce = "ioQ7czOv0hs+oV+skDM38/XeFtgWpEH+XRJG/7i5";
        let a = client_answer(QUORUM_SERVICE, JAVA_QUORUM_CHALLENGE.as_bytes(), "test", "mypassword", cnonce)
            .unwrap();
        // Byte for byte what Java's client sent.
        assert_eq!(a.response, JAVA_QUORUM_RESPONSE);
        assert_eq!(check_rspauth(&a, JAVA_QUORUM_RSPAUTH.as_bytes()), Ok(()));
        assert_eq!(check_rspauth(&a, b"rspauth=00000000000000000000000000000000"), Err(DigestError::RspAuth));
        assert_eq!(check_rspauth(&a, b""), Err(DigestError::RspAuth));
        // A wrong password: the server refuses the response.
        let bad =
            client_answer(QUORUM_SERVICE, JAVA_QUORUM_CHALLENGE.as_bytes(), "test", "wrong", cnonce).unwrap();
        let r = parse_response(bad.response.as_bytes()).unwrap();
        assert_eq!(
            verify_for(QUORUM_SERVICE, &r, "tarmD6zEu8H5eNU67Rmcead49mAumYtYdxsUZwhS", "mypassword"),
            Err(DigestError::Mismatch)
        );
    }

    #[test]
    fn client_answer_refuses_bad_challenges() {
        let ok = |c: &str| client_answer(QUORUM_SERVICE, c.as_bytes(), "u", "p", "c");
        assert!(ok("realm=\"r\",nonce=\"n\",algorithm=md5-sess").is_ok());
        assert!(ok("realm=\"r\",algorithm=md5-sess").is_err());
        assert!(ok("realm=\"r\",nonce=\"n\"").is_err());
        assert!(matches!(ok("nonce=\"n\",qop=\"auth-conf\",algorithm=md5-sess"), Err(DigestError::Qop(_))));
        assert!(ok("nonce=\"n\",qop=\"auth-int,auth\",algorithm=md5-sess").is_ok());
        assert!(ok("nonce=\"n").is_err());
    }

    #[test]
    fn client_response_round_trip() {
        let text = client_response("a\"b", "pw", "n1", "c1");
        let r = parse_response(text.as_bytes()).unwrap();
        assert_eq!(r.username, "a\"b");
        assert!(verify(&r, "n1", "pw").is_ok());
        assert_eq!(verify(&r, "n1", "pX"), Err(DigestError::Mismatch));
    }

    #[test]
    fn challenge_as_java_sends_it() {
        assert_eq!(challenge("abc"), "realm=\"zk-sasl-md5\",nonce=\"abc\",charset=utf-8,algorithm=md5-sess");
    }

    fn base() -> String {
        "username=\"u\",realm=\"zk-sasl-md5\",nonce=\"n\",cnonce=\"c\",nc=00000001,\
         digest-uri=\"zookeeper/zk-sasl-md5\",response=00"
            .to_owned()
    }

    #[test]
    fn directive_checks() {
        let ok = parse_response(base().as_bytes()).unwrap();
        assert!(!ok.utf8);
        assert_eq!(check_directives(&ok, "n"), Ok(()));
        let no_realm = parse_response(base().replace("realm=\"zk-sasl-md5\",", "").as_bytes()).unwrap();
        assert_eq!(check_directives(&no_realm, "n"), Err(DigestError::Realm(String::new())));
        let upper =
            parse_response(base().replace("zookeeper/zk-sasl-md5", "ZOOKEEPER/ZK-SASL-MD5").as_bytes());
        assert_eq!(check_directives(&upper.unwrap(), "n"), Ok(()));
        let host = parse_response(base().replace("zookeeper/zk-sasl-md5", "zookeeper/127.0.0.1").as_bytes());
        assert_eq!(
            check_directives(&host.unwrap(), "n"),
            Err(DigestError::Uri("zookeeper/127.0.0.1".into(), DIGEST_URI))
        );
        let int = parse_response(format!("{},qop=auth-int", base()).as_bytes()).unwrap();
        assert_eq!(check_directives(&int, "n"), Err(DigestError::Qop("auth-int".into())));
        let unknown = parse_response(format!("{},foo=\"b,a\\\"r\",maxbuf=1", base()).as_bytes());
        assert!(unknown.is_ok());
    }

    #[test]
    fn malformed_responses() {
        let cases = [
            base().replace("cnonce=\"c\",", ""),
            base().replace("username=\"u\",", ""),
            format!("{},username=\"v\"", base()),
            format!("{},charset=latin1", base()),
            "username=\"u".to_owned(),
            "username".to_owned(),
            format!("{},realm=\"a\"x", base()),
        ];
        for c in cases {
            assert!(parse_response(c.as_bytes()).is_err(), "{c}");
        }
        assert_eq!(parse_response(&vec![b'a'; RESPONSE_BYTES_MAX + 1]), Err(DigestError::TooLong(4097)));
        assert!(parse_response(b"").is_err());
    }

    #[test]
    fn latin1_without_utf8() {
        // Without charset=utf-8 the bytes are ISO-8859-1: 0xfc is ü.
        let text = base().replace("username=\"u\"", "username=\"\u{fc}\"");
        let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        assert_eq!(parse_response(&bytes).unwrap().username, "ü");
    }

    proptest::proptest! {
        /// Any bytes: an answer, never a panic.
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Ok(r) = parse_response(&bytes) {
                let _ = verify(&r, "n", "p");
            }
        }

        /// Responses built from any user, password and nonces verify, and only with the password.
        #[test]
        fn any_credentials_round_trip(user in "\\PC{0,12}", password in "\\PC{0,12}", nonce in "[A-Za-z0-9+/]{1,40}") {
            let r = parse_response(client_response(&user, &password, &nonce, "c").as_bytes()).unwrap();
            proptest::prop_assert_eq!(&r.username, &user);
            proptest::prop_assert!(verify(&r, &nonce, &password).is_ok());
            proptest::prop_assert_eq!(verify(&r, &nonce, &format!("{password}x")), Err(DigestError::Mismatch));
        }
    }
}
