//! Quorum SASL (`quorum.auth.enableSasl`): the DIGEST-MD5 exchange ZooKeeper's
//! `SaslQuorumAuthLearner` and `SaslQuorumAuthServer` run over `QuorumAuthPacket` frames
//! (`long magic, int status, buffer token`), once per connection, on the election port (after
//! the connection header) and on the quorum port (before the learner's first packet).
//!
//! The learner sends an empty token, the server answers with its challenge (`IN_PROGRESS`), the
//! learner with its digest-response, the server with `SUCCESS` and `rspauth` (or `ERROR` and an
//! empty token). A learner authenticates only with `quorum.auth.learnerRequireSasl`; a server
//! whose peer does not start with the magic number lets it through unless
//! `quorum.auth.serverRequireSasl`, and so does it when the exchange fails (with a warning, after
//! sending `ERROR`), as Java does. The mechanism itself is in `rzk_node::digest_md5`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use base64::Engine;
use rzk_config::QuorumSaslConfig;
use rzk_node::digest_md5::{self, ClientAnswer, QUORUM_SERVICE};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// `QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER`: the first long of every `QuorumAuthPacket`. Java
/// writes it `-0xa0dbcafecafe1234L`: the hex literal is already a negative long, so the value is
/// positive (`0x5f2435013501edcc`), despite the comment next to it.
pub const MAGIC: i64 = (0xa0db_cafe_cafe_1234_u64 as i64).wrapping_neg();
/// `QuorumAuth.Status`.
pub const STATUS_IN_PROGRESS: i32 = 0;
pub const STATUS_SUCCESS: i32 = 1;
pub const STATUS_ERROR: i32 = -1;
/// Tokens are a few hundred bytes; anything much larger is not a DIGEST-MD5 exchange.
const TOKEN_BYTES_MAX: usize = 64 * 1024;

/// What a member needs for quorum SASL.
#[derive(Clone)]
pub struct QuorumSasl {
    pub server_required: bool,
    pub learner_required: bool,
    users: Arc<BTreeMap<String, String>>,
    learner: Option<(String, String)>,
}

impl fmt::Debug for QuorumSasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuorumSasl")
            .field("server_required", &self.server_required)
            .field("learner_required", &self.learner_required)
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("learner", &self.learner.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl QuorumSasl {
    /// `None` unless `quorum.auth.enableSasl`.
    pub fn from_config(c: &QuorumSaslConfig) -> Option<QuorumSasl> {
        c.enabled.then(|| QuorumSasl {
            server_required: c.server_required,
            learner_required: c.learner_required,
            users: Arc::new(c.server_users.clone()),
            learner: c.learner_credentials.clone(),
        })
    }

    /// For tests.
    pub fn new(
        server_required: bool,
        learner_required: bool,
        users: BTreeMap<String, String>,
        learner: Option<(String, String)>,
    ) -> QuorumSasl {
        QuorumSasl { server_required, learner_required, users: Arc::new(users), learner }
    }
}

/// One `QuorumAuthPacket` with its magic number.
pub fn encode(status: i32, token: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + token.map_or(0, <[u8]>::len));
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&status.to_be_bytes());
    match token {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(t) => {
            out.extend_from_slice(&(t.len() as i32).to_be_bytes());
            out.extend_from_slice(t);
        }
    }
    out
}

fn random_text() -> String {
    let mut raw = [0u8; 30];
    // Without randomness the nonce is still unique per exchange, only guessable.
    if getrandom::fill(&mut raw).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        raw[..16].copy_from_slice(&t.as_nanos().to_be_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// The learner's side of one exchange.
struct LearnerSide<'a> {
    user: &'a str,
    password: &'a str,
    answer: Option<ClientAnswer>,
}

/// What the learner does after a packet.
enum LearnerNext {
    Send(Vec<u8>),
    Done,
}

impl LearnerSide<'_> {
    fn on_packet(&mut self, status: i32, token: Option<Vec<u8>>) -> Result<LearnerNext, String> {
        match status {
            STATUS_IN_PROGRESS if self.answer.is_none() => {
                let token = token.ok_or("the server's challenge is null")?;
                let answer = digest_md5::client_answer(
                    QUORUM_SERVICE,
                    &token,
                    self.user,
                    self.password,
                    &random_text(),
                )
                .map_err(|e| e.to_string())?;
                let out = encode(STATUS_IN_PROGRESS, Some(answer.response.as_bytes()));
                self.answer = Some(answer);
                Ok(LearnerNext::Send(out))
            }
            STATUS_IN_PROGRESS => Err("the server sent a second challenge".into()),
            STATUS_SUCCESS => {
                let answer = self.answer.as_ref().ok_or("Protocol error: success before the challenge")?;
                let token = token.ok_or("the server's final token is null")?;
                digest_md5::check_rspauth(answer, &token).map_err(|e| e.to_string())?;
                Ok(LearnerNext::Done)
            }
            STATUS_ERROR => Err("the server refused our credentials (status ERROR)".into()),
            s => Err(format!("unknown status {s}")),
        }
    }
}

/// The server's side of one exchange.
#[derive(Default)]
struct ServerSide {
    nonce: Option<String>,
}

enum ServerNext {
    Send(Vec<u8>),
    /// Send this, then the learner is authenticated as this user.
    Done(Vec<u8>, String),
}

impl ServerSide {
    fn on_token(&mut self, users: &BTreeMap<String, String>, token: &[u8]) -> Result<ServerNext, String> {
        let Some(nonce) = self.nonce.take() else {
            // DIGEST-MD5 has no initial response: whatever the learner sent first is ignored.
            let nonce = random_text();
            let challenge = digest_md5::challenge_for(QUORUM_SERVICE, &nonce);
            self.nonce = Some(nonce);
            return Ok(ServerNext::Send(encode(STATUS_IN_PROGRESS, Some(challenge.as_bytes()))));
        };
        let r = digest_md5::parse_response(token).map_err(|e| e.to_string())?;
        digest_md5::check_directives_for(QUORUM_SERVICE, &r, &nonce).map_err(|e| e.to_string())?;
        let password = users.get(&r.username).ok_or_else(|| {
            format!("User '{}' not found in list of DIGEST-MD5 authenticateable users", r.username)
        })?;
        let rspauth =
            digest_md5::verify_for(QUORUM_SERVICE, &r, &nonce, password).map_err(|e| e.to_string())?;
        // `SaslQuorumServerCallbackHandler`: the authorization id must be the user.
        if let Some(authzid) = r.authzid.as_deref().filter(|a| *a != r.username) {
            return Err(format!("{} may not act as {authzid}", r.username));
        }
        Ok(ServerNext::Done(encode(STATUS_SUCCESS, Some(rspauth.as_bytes())), r.username))
    }
}

/// How the server side ended (an `Err` means: refuse the connection).
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    /// The learner authenticated as this user.
    User(String),
    /// The learner did not try (these bytes, read to find out, belong to what follows), and
    /// SASL is not required.
    NotAttempted(Vec<u8>),
    /// The exchange failed, and SASL is not required.
    FailedAllowed(String),
}

fn split_header(head: &[u8; 8]) -> i64 {
    i64::from_be_bytes(*head)
}

fn token_len(raw: [u8; 4]) -> Result<Option<usize>, String> {
    match i32::from_be_bytes(raw) {
        -1 => Ok(None),
        n if n < 0 || n as usize > TOKEN_BYTES_MAX => Err(format!("bad token length {n}")),
        n => Ok(Some(n as usize)),
    }
}

// ---- blocking (the quorum port) ----

fn read_packet_blocking(r: &mut impl Read) -> io::Result<(i64, i32, Option<Vec<u8>>)> {
    let mut head = [0u8; 16];
    r.read_exact(&mut head)?;
    let magic = i64::from_be_bytes(head[..8].try_into().unwrap_or_default());
    let status = i32::from_be_bytes(head[8..12].try_into().unwrap_or_default());
    let len = token_len(head[12..16].try_into().unwrap_or_default()).map_err(io::Error::other)?;
    let token = match len {
        None => None,
        Some(n) => {
            let mut t = vec![0u8; n];
            r.read_exact(&mut t)?;
            Some(t)
        }
    };
    Ok((magic, status, token))
}

/// `SaslQuorumAuthLearner.authenticate` (the caller checks `learner_required`).
pub fn learn_blocking<S: Read + Write>(sasl: &QuorumSasl, s: &mut S) -> Result<(), String> {
    let (user, password) =
        sasl.learner.as_ref().ok_or("the learner login section has no username/password")?;
    let mut side = LearnerSide { user, password, answer: None };
    let io = |e: io::Error| format!("I/O error during the SASL exchange: {e}");
    s.write_all(&encode(STATUS_IN_PROGRESS, Some(&[]))).and_then(|()| s.flush()).map_err(io)?;
    loop {
        let (_, status, token) = read_packet_blocking(s).map_err(io)?;
        match side.on_packet(status, token)? {
            LearnerNext::Send(out) => s.write_all(&out).and_then(|()| s.flush()).map_err(io)?,
            LearnerNext::Done => return Ok(()),
        }
    }
}

/// `SaslQuorumAuthServer.authenticate`.
pub fn serve_blocking<S: Read + Write>(sasl: &QuorumSasl, s: &mut S) -> Result<Admitted, String> {
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match s.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("I/O error waiting for the learner: {e}")),
        }
    }
    if got < 8 || split_header(&head) != MAGIC {
        return not_attempted(sasl, head[..got].to_vec());
    }
    let mut side = ServerSide::default();
    let mut first = true;
    let result = (|| -> Result<String, String> {
        loop {
            let token = if first {
                first = false;
                let mut rest = [0u8; 8];
                s.read_exact(&mut rest).map_err(|e| e.to_string())?;
                let len = token_len(rest[4..8].try_into().unwrap_or_default())?;
                let mut t = vec![0u8; len.unwrap_or(0)];
                s.read_exact(&mut t).map_err(|e| e.to_string())?;
                t
            } else {
                read_packet_blocking(s).map_err(|e| e.to_string())?.2.unwrap_or_default()
            };
            match side.on_token(&sasl.users, &token)? {
                ServerNext::Send(out) => {
                    s.write_all(&out).and_then(|()| s.flush()).map_err(|e| e.to_string())?
                }
                ServerNext::Done(out, user) => {
                    s.write_all(&out).and_then(|()| s.flush()).map_err(|e| e.to_string())?;
                    return Ok(user);
                }
            }
        }
    })();
    match result {
        Ok(user) => Ok(Admitted::User(user)),
        Err(why) => {
            let _ = s.write_all(&encode(STATUS_ERROR, Some(&[]))).and_then(|()| s.flush());
            failed(sasl, why)
        }
    }
}

fn not_attempted(sasl: &QuorumSasl, prefix: Vec<u8>) -> Result<Admitted, String> {
    if sasl.server_required {
        Err("Learner not trying to authenticate and authentication is required".into())
    } else {
        Ok(Admitted::NotAttempted(prefix))
    }
}

fn failed(sasl: &QuorumSasl, why: String) -> Result<Admitted, String> {
    if sasl.server_required {
        Err(format!("Failed to authenticate using SASL: {why}"))
    } else {
        Ok(Admitted::FailedAllowed(why))
    }
}

// ---- async (the election port) ----

async fn read_packet_async<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<(i64, i32, Option<Vec<u8>>)> {
    let magic = r.read_i64().await?;
    let status = r.read_i32().await?;
    let len = token_len(r.read_i32().await?.to_be_bytes()).map_err(io::Error::other)?;
    let token = match len {
        None => None,
        Some(n) => {
            let mut t = vec![0u8; n];
            r.read_exact(&mut t).await?;
            Some(t)
        }
    };
    Ok((magic, status, token))
}

/// [`learn_blocking`] on async halves.
pub async fn learn_async<R, W>(sasl: &QuorumSasl, rd: &mut R, wr: &mut W) -> Result<(), String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (user, password) =
        sasl.learner.as_ref().ok_or("the learner login section has no username/password")?;
    let mut side = LearnerSide { user, password, answer: None };
    let io = |e: io::Error| format!("I/O error during the SASL exchange: {e}");
    wr.write_all(&encode(STATUS_IN_PROGRESS, Some(&[]))).await.map_err(io)?;
    wr.flush().await.map_err(io)?;
    loop {
        let (_, status, token) = read_packet_async(rd).await.map_err(io)?;
        match side.on_packet(status, token)? {
            LearnerNext::Send(out) => {
                wr.write_all(&out).await.map_err(io)?;
                wr.flush().await.map_err(io)?;
            }
            LearnerNext::Done => return Ok(()),
        }
    }
}

/// [`serve_blocking`] on async halves.
pub async fn serve_async<R, W>(sasl: &QuorumSasl, rd: &mut R, wr: &mut W) -> Result<Admitted, String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        match rd.read(&mut head[got..]).await {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(format!("I/O error waiting for the learner: {e}")),
        }
    }
    if got < 8 || split_header(&head) != MAGIC {
        return not_attempted(sasl, head[..got].to_vec());
    }
    let mut side = ServerSide::default();
    let mut first = true;
    let result: Result<String, String> = async {
        loop {
            let token = if first {
                first = false;
                let _status = rd.read_i32().await.map_err(|e| e.to_string())?;
                let len = token_len(rd.read_i32().await.map_err(|e| e.to_string())?.to_be_bytes())?;
                let mut t = vec![0u8; len.unwrap_or(0)];
                rd.read_exact(&mut t).await.map_err(|e| e.to_string())?;
                t
            } else {
                read_packet_async(rd).await.map_err(|e| e.to_string())?.2.unwrap_or_default()
            };
            let (out, user) = match side.on_token(&sasl.users, &token)? {
                ServerNext::Send(out) => (out, None),
                ServerNext::Done(out, user) => (out, Some(user)),
            };
            wr.write_all(&out).await.map_err(|e| e.to_string())?;
            wr.flush().await.map_err(|e| e.to_string())?;
            if let Some(user) = user {
                return Ok(user);
            }
        }
    }
    .await;
    match result {
        Ok(user) => Ok(Admitted::User(user)),
        Err(why) => {
            let _ = wr.write_all(&encode(STATUS_ERROR, Some(&[]))).await;
            let _ = wr.flush().await;
            failed(sasl, why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    fn users() -> BTreeMap<String, String> {
        BTreeMap::from([("test".to_owned(), "mypassword".to_owned())])
    }

    fn sasl(required: bool, password: &str) -> QuorumSasl {
        QuorumSasl::new(required, required, users(), Some(("test".into(), password.into())))
    }

    /// Learner and server over a socket pair; the server's outcome and the learner's.
    fn run(
        server: QuorumSasl,
        learner: Option<QuorumSasl>,
    ) -> (Result<Admitted, String>, Result<(), String>) {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let r = match &learner {
                Some(l) => learn_blocking(l, &mut b),
                None => b.write_all(b"\0\0\0\0\0\0\0\x01rest").map_err(|e| e.to_string()),
            };
            drop(b);
            r
        });
        let s = serve_blocking(&server, &mut a);
        (s, t.join().unwrap())
    }

    #[test]
    fn packet_layout() {
        assert_eq!(
            encode(STATUS_ERROR, Some(&[])),
            [0x5f, 0x24, 0x35, 0x01, 0x35, 0x01, 0xed, 0xcc, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(encode(STATUS_SUCCESS, None)[8..], [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn exchange_succeeds_with_the_password() {
        let (s, l) = run(sasl(true, "mypassword"), Some(sasl(true, "mypassword")));
        assert_eq!(s, Ok(Admitted::User("test".into())));
        assert_eq!(l, Ok(()));
    }

    #[test]
    fn wrong_password_refused_or_allowed() {
        let (s, l) = run(sasl(true, "mypassword"), Some(sasl(true, "nope")));
        assert!(s.unwrap_err().contains("Mismatched response"));
        assert!(l.unwrap_err().contains("ERROR"));
        // Not required: the server lets it through (the learner still gives up on ERROR).
        let (s, l) = run(sasl(false, "mypassword"), Some(sasl(true, "nope")));
        assert!(matches!(s, Ok(Admitted::FailedAllowed(_))));
        assert!(l.is_err());
    }

    #[test]
    fn no_attempt() {
        let (s, _) = run(sasl(true, "mypassword"), None);
        assert!(s.unwrap_err().contains("not trying to authenticate"));
        let (s, _) = run(sasl(false, "mypassword"), None);
        assert_eq!(s, Ok(Admitted::NotAttempted(b"\0\0\0\0\0\0\0\x01".to_vec())));
    }

    #[tokio::test]
    async fn async_sides_talk_to_each_other() {
        let (a, b) = tokio::io::duplex(4096);
        let (mut ar, mut aw) = tokio::io::split(a);
        let (mut br, mut bw) = tokio::io::split(b);
        let server = sasl(true, "mypassword");
        let learner = sasl(true, "mypassword");
        let (s, l) =
            tokio::join!(serve_async(&server, &mut ar, &mut aw), learn_async(&learner, &mut br, &mut bw));
        assert_eq!(s, Ok(Admitted::User("test".into())));
        assert_eq!(l, Ok(()));
        let (a, b) = tokio::io::duplex(4096);
        let (mut ar, mut aw) = tokio::io::split(a);
        let (mut br, mut bw) = tokio::io::split(b);
        let learner = sasl(true, "bad");
        let (s, l) =
            tokio::join!(serve_async(&server, &mut ar, &mut aw), learn_async(&learner, &mut br, &mut bw));
        assert!(s.is_err() && l.is_err());
    }
}
