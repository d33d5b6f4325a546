//! Client SASL (DIGEST-MD5) against rzk and the reference ZooKeeper 3.8, both started alike: a
//! JAAS file with a `Server` section (users user1, user2, admin) named by
//! `-Djava.security.auth.login.config`, `authProvider.1=…SASLAuthenticationProvider` in zoo.cfg and
//! `-Dzookeeper.superUser=admin`; the `required` tests add `sessionRequireClientSASLAuth=true`.
//!
//! - `sasl_raw_protocol`: requests sent by hand (rzk-client's raw connection, the DIGEST-MD5
//!   response computed by rzk-node's code): the challenge's form, the rspauth, error codes, the
//!   null token after a failure, getACL and whoAmI ids, sasl id validity, whether the server closes
//!   the connection. The transcripts must be equal; where rzk differs on purpose (a GSSAPI token,
//!   an unknown user: ZOOKEEPER-4839) each server's own answer is asserted.
//! - `sasl_kazoo`: kazoo with `sasl_options` (needs pure-sasl), `tests/compat/sasl/kazoo_sasl.py`.
//! - `sasl_java_client`: Apache's Java client with a JAAS `Client` section,
//!   `tests/compat/sasl/JavaSasl.java` run from source.
//! - `sasl_required_*`: `sessionRequireClientSASLAuth=true`, raw and with kazoo.
//!
//! Without the reference server a test runs against rzk alone (SKIP printed; a failure with
//! RZK_REQUIRE_REFZK); without a client the test prints SKIP (a failure with
//! RZK_REQUIRE_CLIENTS=1).

#[path = "clients/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::{Servers, Target};
use rzk_client::raw::RawConnection;
use rzk_node::digest_md5;
use rzk_proto::codes::{op, perms, xid};
use rzk_proto::records::{
    Acl, AuthPacket, CreateRequest, GetAclRequest, GetAclResponse, GetDataRequest, GetSaslRequest,
    SetSaslResponse, WhoAmIResponse,
};
use rzk_proto::{Jute, Reader, Request};
use rzk_testkit::refzk::{JAVA, JVM_DEFAULT_FLAGS, ZOOKEEPER_JAR};
use rzk_testkit::{RefZk, RzkServer};
use tempfile::TempDir;

/// How long one request may take to be answered, or a connection to be closed.
const STEP: Duration = Duration::from_secs(20);

const SERVER_JAAS: &str = r#"/* The DIGEST-MD5 users of tests/compat/sasl.rs. */
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
        user_user1="pw1"      // owns the test nodes
        user_user2="pw2"
        user_admin="adminpw"; // zookeeper.superUser
};
"#;
const SASL_PROVIDER: &str = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
const REQUIRE_SASL: &str = "sessionRequireClientSASLAuth=true";

/// Both servers with the JAAS file; the temp dir holds the JAAS files (server and clients).
struct SaslServers {
    servers: Servers,
    dir: TempDir,
}

impl SaslServers {
    fn start(test: &str, required: bool) -> SaslServers {
        let dir = tempfile::Builder::new().prefix("rzk-sasl-").tempdir().expect("temp dir");
        let jaas = dir.path().join("server.jaas");
        std::fs::write(&jaas, SERVER_JAAS).expect("write server.jaas");
        let mut cfg = vec![SASL_PROVIDER];
        if required {
            cfg.push(REQUIRE_SASL);
        }
        let jaas_flag = format!("-Djava.security.auth.login.config={}", jaas.display());
        let defines = [jaas_flag.as_str(), "-Dzookeeper.superUser=admin"];
        let reference = RefZk::start_or_skip(test, &cfg, &defines);
        let rzk = RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &cfg, &defines).expect("rzk starts");
        SaslServers { servers: Servers { reference, rzk }, dir }
    }

    /// A JAAS file with a `Client` section for `user`/`password` (the Java client's login).
    fn client_jaas(&self, user: &str, password: &str) -> PathBuf {
        let path = self.dir.path().join(format!("client-{user}-{password}.jaas"));
        let text = format!(
            "Client {{\n    org.apache.zookeeper.server.auth.DigestLoginModule required\n        \
             username=\"{user}\"\n        password=\"{password}\";\n}};\n"
        );
        std::fs::write(&path, text).expect("write client jaas");
        path
    }
}

// ---- raw requests ----

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

async fn connect(addr: &str) -> RawConnection {
    let req = RawConnection::new_session_request(30000);
    let (resp, _, conn) = RawConnection::connect(addr, &req, STEP).await.expect("connect");
    assert!(resp.session_id != 0, "no session");
    conn
}

/// Sends `req` and returns its reply (err, body).
async fn call(c: &mut RawConnection, req: &Request) -> (i32, Bytes) {
    let x = c.send_auto(req).await.expect("send");
    let r = c.recv(STEP).await.unwrap_or_else(|e| panic!("no reply to {}: {e}", op::name(req.op())));
    assert_eq!(r.header.xid, x, "reply out of order");
    (r.header.err, r.body)
}

fn sasl(token: &[u8]) -> Request {
    Request::Sasl(GetSaslRequest { token: Some(Bytes::copy_from_slice(token)) })
}

/// A SASL reply: (err, token; `None` for a null token).
async fn sasl_call(c: &mut RawConnection, token: &[u8]) -> (i32, Option<Vec<u8>>) {
    let (err, body) = call(c, &sasl(token)).await;
    let r = SetSaslResponse::decode(&mut Reader::with_default_limit(body)).expect("SetSASLResponse body");
    (err, r.token.map(|t| t.to_vec()))
}

/// The challenge's directives with the nonce masked, and the nonce.
fn read_challenge(token: &[u8]) -> (String, String) {
    let text = String::from_utf8(token.to_vec()).expect("challenge is UTF-8");
    let nonce = text.split("nonce=\"").nth(1).and_then(|r| r.split('"').next()).expect("nonce").to_owned();
    assert!(nonce.len() >= 16, "short nonce {nonce:?}");
    (text.replace(&nonce, "<nonce>"), nonce)
}

/// A whole DIGEST-MD5 login; the final (err, token), the rspauth checked against the password.
async fn login(c: &mut RawConnection, user: &str, password: &str) -> (i32, Option<Vec<u8>>) {
    let (err, challenge) = sasl_call(c, b"").await;
    assert_eq!(err, 0, "challenge");
    let (_, nonce) = read_challenge(&challenge.expect("a challenge"));
    let response = digest_md5::client_response(user, password, &nonce, "rzk-test-cnonce");
    let (err, token) = sasl_call(c, response.as_bytes()).await;
    if err == 0 {
        let parsed = digest_md5::parse_response(response.as_bytes()).expect("parse own response");
        let want = digest_md5::verify(&parsed, &nonce, password).expect("own response verifies");
        assert_eq!(token.as_deref(), Some(want.as_bytes()), "rspauth");
    }
    (err, token)
}

fn describe_token(token: &Option<Vec<u8>>) -> String {
    match token {
        None => "null token".into(),
        Some(t) if t.starts_with(b"rspauth=") => "rspauth".into(),
        Some(t) => format!("token {}", String::from_utf8_lossy(t)),
    }
}

async fn closed(c: &mut RawConnection) -> bool {
    c.socket().closed_within(STEP).await
}

fn create(path: &str, acl: Vec<Acl>) -> Request {
    let req = CreateRequest { path: path.into(), data: Some(Bytes::from_static(b"d")), acl, flags: 0 };
    Request::Create { op: op::CREATE, req }
}

fn get(path: &str) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch: false })
}

async fn get_acl(c: &mut RawConnection, path: &str) -> String {
    let (err, body) = call(c, &Request::GetAcl(GetAclRequest { path: path.into() })).await;
    if err != 0 {
        return format!("err {err}");
    }
    let r = GetAclResponse::decode(&mut Reader::with_default_limit(body)).expect("GetACLResponse");
    let ids: Vec<String> = r.acl.iter().map(|a| format!("{} {}:{}", a.perms, a.id.scheme, a.id.id)).collect();
    ids.join(", ")
}

async fn whoami(c: &mut RawConnection) -> String {
    let (err, body) = call(c, &Request::WhoAmI).await;
    assert_eq!(err, 0, "whoAmI");
    let r = WhoAmIResponse::decode(&mut Reader::with_default_limit(body)).expect("WhoAmIResponse");
    let mut ids: Vec<String> =
        r.client_info.iter().map(|i| format!("{}:{}", i.auth_scheme, i.user)).collect();
    ids.sort();
    ids.join(", ")
}

/// What one server did with requests it treats differently from the other on purpose.
struct Deliberate {
    gssapi: (i32, String, bool),
    unknown_user: (i32, bool),
}

async fn raw_acl_session(addr: &str) -> (Vec<String>, Deliberate) {
    let mut t = Vec::new();
    let mut owner = connect(addr).await;
    let (err, challenge) = sasl_call(&mut owner, b"").await;
    let (form, nonce) = read_challenge(challenge.as_deref().expect("challenge"));
    t.push(format!("challenge: err {err}, {form}"));
    let response = digest_md5::client_response("user1", "pw1", &nonce, "cn1");
    let (err, token) = sasl_call(&mut owner, response.as_bytes()).await;
    t.push(format!("user1 response: err {err}, {}", describe_token(&token)));
    let parsed = digest_md5::parse_response(response.as_bytes()).expect("parse");
    let want = digest_md5::verify(&parsed, &nonce, "pw1").expect("verify");
    assert_eq!(token.as_deref(), Some(want.as_bytes()), "rspauth from {addr}");
    t.push(format!("whoami: {}", whoami(&mut owner).await));
    let user1 = vec![Acl::new(perms::ALL, "sasl", "user1")];
    t.push(format!("create /sasl-raw: err {}", call(&mut owner, &create("/sasl-raw", user1)).await.0));
    t.push(format!("getACL /sasl-raw: {}", get_acl(&mut owner, "/sasl-raw").await));
    let auth = vec![Acl::new(perms::READ | perms::WRITE, "auth", "")];
    t.push(format!(
        "create /sasl-raw-auth: err {}",
        call(&mut owner, &create("/sasl-raw-auth", auth)).await.0
    ));
    t.push(format!("getACL /sasl-raw-auth: {}", get_acl(&mut owner, "/sasl-raw-auth").await));
    // SASLAuthenticationProvider.isValid is `new KerberosName(id)`.
    for id in ["zk/host@REALM", "a@b@c", "a/b/c@R", "x@"] {
        let path = format!("/sasl-raw-id-{}", id.len());
        let err = call(&mut owner, &create(&path, vec![Acl::new(perms::ALL, "sasl", id)])).await.0;
        t.push(format!("create with id sasl:{id}: err {err}"));
    }

    let mut other = connect(addr).await;
    t.push(format!("user2 login: err {}", login(&mut other, "user2", "pw2").await.0));
    t.push(format!("user2 get /sasl-raw: err {}", call(&mut other, &get("/sasl-raw")).await.0));
    t.push(format!("user2 getACL /sasl-raw: {}", get_acl(&mut other, "/sasl-raw").await));

    let mut anonymous = connect(addr).await;
    t.push(format!("anonymous get /sasl-raw: err {}", call(&mut anonymous, &get("/sasl-raw")).await.0));

    let mut admin = connect(addr).await;
    t.push(format!("admin login: err {}", login(&mut admin, "admin", "adminpw").await.0));
    t.push(format!("admin get /sasl-raw: err {}", call(&mut admin, &get("/sasl-raw")).await.0));
    t.push(format!("admin whoami: {}", whoami(&mut admin).await));

    let mut wrong = connect(addr).await;
    let (err, token) = login(&mut wrong, "user1", "not-pw1").await;
    t.push(format!(
        "wrong password: err {err}, {}, closed {}",
        describe_token(&token),
        closed(&mut wrong).await
    ));

    // DIGEST-MD5 has no initial response: a client that sends one gets the challenge anyway.
    let mut early = connect(addr).await;
    let (err, token) = sasl_call(&mut early, b"username=\"user1\"").await;
    let form = token.as_deref().map(|t| read_challenge(t).0).unwrap_or_default();
    t.push(format!("initial response: err {err}, {form}"));

    // A null token: ZooKeeper's NullPointerException closes the connection, with no reply.
    let mut null = connect(addr).await;
    null.send_auto(&Request::Sasl(GetSaslRequest { token: None })).await.expect("send");
    let reply = null.recv(STEP).await;
    t.push(format!("null token: reply {}, closed {}", reply.is_ok(), closed(&mut null).await));

    // A second exchange on a connection that completed one: the SASL server is done.
    let (err, token) = sasl_call(&mut owner, b"").await;
    t.push(format!(
        "second exchange: err {err}, {}, closed {}",
        describe_token(&token),
        closed(&mut owner).await
    ));

    let mut gss = connect(addr).await;
    // The start of a Kerberos V5 initial context token (RFC 2743 §3.1).
    let krb5 = [
        0x60, 0x82, 0x02, 0x5b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00,
    ];
    let (err, token) = sasl_call(&mut gss, &krb5).await;
    let form = token.as_deref().map(|t| read_challenge(t).0).unwrap_or_else(|| "null token".into());
    let gssapi = (err, form, closed(&mut gss).await);

    // The last user name looked up was user1 (the wrong password above).
    let mut ghost = connect(addr).await;
    let (err, _) = login(&mut ghost, "nobody", "pw1").await;
    let unknown_user = (err, err != 0 && closed(&mut ghost).await);

    let mut cleanup = connect(addr).await;
    login(&mut cleanup, "user1", "pw1").await;
    for p in ["/sasl-raw", "/sasl-raw-auth", "/sasl-raw-id-13", "/sasl-raw-id-2"] {
        let req = Request::Delete(rzk_proto::records::DeleteRequest { path: p.into(), version: -1 });
        call(&mut cleanup, &req).await;
    }
    (t, Deliberate { gssapi, unknown_user })
}

#[test]
fn sasl_raw_protocol() {
    let s = SaslServers::start("sasl_raw_protocol", false);
    let rt = runtime();
    s.servers.play("sasl_raw_protocol", |target: &Target| {
        let (t, d) = rt.block_on(raw_acl_session(&target.addr));
        for line in &t {
            println!("{}: {line}", target.name);
        }
        let auth_failed = rzk_proto::ErrorCode::AuthFailed.code();
        assert!(
            t.contains(
                &"challenge: err 0, realm=\"zk-sasl-md5\",nonce=\"<nonce>\",charset=utf-8,algorithm=md5-sess"
                    .to_owned()
            )
        );
        assert!(t.contains(&format!("wrong password: err {auth_failed}, null token, closed true")), "{t:#?}");
        assert!(t.contains(&"getACL /sasl-raw: 31 sasl:user1".to_owned()), "{t:#?}");
        match target.name {
            // Java's DIGEST-MD5 server ignores the token and sends its challenge; 3.8 checks an
            // unknown user against the password of the last user name it looked up
            // (ZOOKEEPER-4839), user1's here, so "nobody"/pw1 gets in (printed, not asserted).
            "zookeeper" => {
                println!("zookeeper: gssapi token {:?}, unknown user {:?}", d.gssapi, d.unknown_user);
                assert_eq!(d.gssapi.0, 0);
            }
            _ => {
                assert_eq!(d.gssapi, (auth_failed, "null token".to_owned(), true), "rzk: GSSAPI");
                assert_eq!(d.unknown_user, (auth_failed, true), "rzk: unknown user");
            }
        }
        t
    });
    let log = s.servers.rzk.log();
    assert!(log.contains("GSSAPI (Kerberos) is not supported"), "rzk logs the refused GSSAPI client:\n{log}");
    assert!(!log.contains("pw1") && !log.contains("adminpw"), "rzk logged a password:\n{log}");
}

async fn raw_required_session(addr: &str) -> Vec<String> {
    let mut t = Vec::new();
    let code = |err: i32| if err == 0 { "ok".to_owned() } else { format!("err {err}") };
    let mut anonymous = connect(addr).await;
    let (err, body) = call(&mut anonymous, &get("/")).await;
    t.push(format!(
        "anonymous get /: {}, body {} bytes, closed {}",
        code(err),
        body.len(),
        closed(&mut anonymous).await
    ));
    let mut pinger = connect(addr).await;
    pinger.send(xid::PING, &Request::Ping).await.expect("ping");
    let r = pinger.recv(STEP).await.expect("ping reply");
    t.push(format!(
        "anonymous ping: xid {} {}, closed {}",
        r.header.xid,
        code(r.header.err),
        closed(&mut pinger).await
    ));
    // A digest id is not a sasl one.
    let mut digest = connect(addr).await;
    let packet = AuthPacket { auth_type: 0, scheme: "digest".into(), auth: Bytes::from_static(b"u:p") };
    digest.send(xid::AUTH, &Request::Auth(packet)).await.expect("auth");
    let r = digest.recv(STEP).await.expect("auth reply");
    t.push(format!("addauth digest: {}", code(r.header.err)));
    let (err, _) = call(&mut digest, &get("/")).await;
    t.push(format!("digest get /: {}, closed {}", code(err), closed(&mut digest).await));
    let mut user1 = connect(addr).await;
    t.push(format!("user1 login: {}", code(login(&mut user1, "user1", "pw1").await.0)));
    t.push(format!("user1 get /: {}", code(call(&mut user1, &get("/")).await.0)));
    let mut wrong = connect(addr).await;
    let (err, token) = login(&mut wrong, "user1", "bad").await;
    t.push(format!(
        "wrong password: {}, {}, closed {}",
        code(err),
        describe_token(&token),
        closed(&mut wrong).await
    ));
    t
}

#[test]
fn sasl_required_raw() {
    let s = SaslServers::start("sasl_required_raw", true);
    let rt = runtime();
    s.servers.play("sasl_required_raw", |target: &Target| {
        let t = rt.block_on(raw_required_session(&target.addr));
        for line in &t {
            println!("{}: {line}", target.name);
        }
        let required = rzk_proto::ErrorCode::SessionClosedRequireSaslAuth.code();
        assert_eq!(
            t[0],
            format!("anonymous get /: err {required}, body 0 bytes, closed true"),
            "{}",
            target.name
        );
        assert!(t.contains(&"user1 get /: ok".to_owned()), "{}: {t:#?}", target.name);
        t
    });
}

// ---- kazoo ----

fn python() -> PathBuf {
    match std::env::var_os("RZK_KAZOO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => common::workspace_root().join(".venv/bin/python"),
    }
}

fn kazoo_missing() -> Option<String> {
    let py = python();
    if common::runs(&py.to_string_lossy(), &["-c", "import kazoo, puresasl"]) {
        return None;
    }
    Some(format!(
        "kazoo SASL: {} cannot import kazoo and puresasl (run scripts/test.sh, or set RZK_KAZOO_PYTHON)",
        py.display()
    ))
}

fn kazoo(target: &Target, mode: &str) -> Vec<String> {
    let mut cmd = Command::new(python());
    cmd.arg(common::workspace_root().join("tests/compat/sasl/kazoo_sasl.py")).arg(&target.addr).arg(mode);
    let out = common::run_to_end("kazoo_sasl.py", cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: kazoo_sasl.py {mode} failed ({}):\n{}\ntranscript so far:\n{stdout}",
        target.name,
        out.status,
        common::tail(&String::from_utf8_lossy(&out.stderr), 40),
    );
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("done"),
        "{}: transcript incomplete:\n{stdout}",
        target.name
    );
    lines
}

#[test]
fn sasl_kazoo() {
    if !common::client_available("sasl_kazoo", kazoo_missing()) {
        return;
    }
    let s = SaslServers::start("sasl_kazoo", false);
    s.servers.play("sasl_kazoo", |target| {
        let t = kazoo(target, "acl");
        assert!(t.contains(&"user2 get /sasl-k => raises NoAuthError".to_owned()), "{t:#?}");
        assert!(
            t.contains(
                &"wrong password => states ['CONNECTING', 'CONNECTED', 'AUTH_FAILED', 'CLOSED']".to_owned()
            ),
            "{t:#?}"
        );
        t
    });
}

#[test]
fn sasl_required_kazoo() {
    if !common::client_available("sasl_required_kazoo", kazoo_missing()) {
        return;
    }
    let s = SaslServers::start("sasl_required_kazoo", true);
    s.servers.play("sasl_required_kazoo", |target| {
        let t = kazoo(target, "required");
        assert!(t.contains(&"anonymous get / => raises SessionClosedRequireSaslError".to_owned()), "{t:#?}");
        t
    });
}

// ---- the Java client ----

fn java_sasl(s: &SaslServers, target: &Target, user: &str, password: &str, mode: &str) -> Vec<String> {
    let source = common::workspace_root().join("tests/compat/sasl/JavaSasl.java");
    let mut cmd = Command::new(JAVA);
    cmd.args(JVM_DEFAULT_FLAGS)
        .arg(format!("-Djava.security.auth.login.config={}", s.client_jaas(user, password).display()))
        .arg("-cp")
        .arg(ZOOKEEPER_JAR)
        .arg(&source)
        .arg(&target.addr)
        .arg(mode);
    let out = common::run_to_end("JavaSasl", cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: JavaSasl {mode} failed ({}):\n{stdout}\n{}",
        target.name,
        out.status,
        common::tail(&String::from_utf8_lossy(&out.stderr), 40)
    );
    stdout.lines().map(|l| format!("{mode}: {l}")).collect()
}

#[test]
fn sasl_java_client() {
    let missing = RefZk::missing().map(|why| format!("Java client: {why}"));
    if !common::client_available("sasl_java_client", missing) {
        return;
    }
    let s = SaslServers::start("sasl_java_client", false);
    s.servers.play("sasl_java_client", |target| {
        let mut t = java_sasl(&s, target, "user1", "pw1", "owner");
        t.extend(java_sasl(&s, target, "user2", "pw2", "other"));
        t.extend(java_sasl(&s, target, "user1", "wrong", "failed"));
        t.extend(java_sasl(&s, target, "user1", "pw1", "cleanup"));
        let want = [
            "owner: states: [SyncConnected, SaslAuthenticated]",
            "owner: create: /sasl-j",
            "owner: getACL: [31 sasl:user1]",
            "owner: getData: j",
            "owner: whoami: [ip:127.0.0.1, sasl:user1]",
            "other: states: [SyncConnected, SaslAuthenticated]",
            "other: getData: error NOAUTH",
            "other: whoami: [ip:127.0.0.1, sasl:user2]",
            "failed: states: [SyncConnected, AuthFailed]",
            "failed: exists: error AUTHFAILED",
            "cleanup: states: [SyncConnected, SaslAuthenticated]",
            "cleanup: deleted",
        ];
        assert_eq!(t, want, "{}: JavaSasl output", target.name);
        t
    });
}
