//! TLS for clients (`secureClientPort`, `client.portUnification`, `client.certReload`) and the
//! `x509` auth scheme, with real clients: kazoo (`use_ssl=True` with a client certificate), the
//! Java client over Netty (`zookeeper.client.secure`), and bare Python TLS handshakes.
//!
//! Every certificate is made at test time with openssl and keytool (a CA, a server certificate
//! for localhost/127.0.0.1, clients signed by the CA, a client signed by another CA), in PEM,
//! PKCS12 and JKS stores. The x509 ids rzk gives are compared with the reference ZooKeeper's
//! (whoAmI and the ACL that `auth` expands to), including a subject that needs RFC 2253
//! escaping. Missing tools skip a test, or fail it with `RZK_REQUIRE_CLIENTS=1`.

#[path = "clients/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rzk_testkit::refzk::{JAVA, JVM_DEFAULT_FLAGS, NETTY_TLS_JARS, ZOOKEEPER_JAR};
use rzk_testkit::{RefZk, RzkServer, free_port};
use tempfile::TempDir;

/// Every store's password.
const PW: &str = "secret";
const CLIENT1: &str = "CN=client1,O=Acme,C=US";
const ADMIN: &str = "CN=admin,O=Acme,C=US";
/// A subject whose RFC 2253 form needs escapes, an OID and a multi-valued RDN.
const TRICKY_SUBJ: &str = "/DC=org/DC=example/O=Acme\\, Inc./OU=a+OU=b/emailAddress=x@y.z/CN= lead#";
/// Certificates are valid this many days.
const DAYS: &str = "30";

fn tls_dir() -> PathBuf {
    common::workspace_root().join("tests/compat/tls")
}

fn python() -> PathBuf {
    match std::env::var_os("RZK_KAZOO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => common::workspace_root().join(".venv/bin/python"),
    }
}

fn pki_missing() -> Option<String> {
    for tool in ["openssl", "keytool"] {
        if !common::runs("sh", &["-c", &format!("command -v {tool}")]) {
            return Some(format!("{tool} not found (needed to make certificates)"));
        }
    }
    None
}

fn kazoo_missing() -> Option<String> {
    pki_missing().or_else(|| {
        (!common::runs(&python().to_string_lossy(), &["-c", "import kazoo"]))
            .then(|| format!("kazoo: {} cannot import kazoo", python().display()))
    })
}

fn java_missing() -> Option<String> {
    pki_missing().or_else(|| RefZk::missing().map(|why| format!("Java client: {why}")))
}

fn sh(what: &str, script: &str, dir: &Path) {
    let out = Command::new("bash").arg("-ec").arg(script).current_dir(dir).output().expect("bash runs");
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The certificates and stores of one test, in a temp dir.
struct Pki {
    dir: TempDir,
}

impl Pki {
    fn make() -> Pki {
        let dir = tempfile::Builder::new().prefix("rzk-tls-").tempdir().expect("tempdir");
        let script = format!(
            r#"
ca() {{ openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -out $1.crt -days {DAYS} -subj "$2" 2>/dev/null; }}
# name subject ca [extra req args]
sign() {{
  local name=$1 subj=$2 ca=$3; shift 3
  openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj "$subj" "$@" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > $name.ext
  openssl x509 -req -in $name.csr -CA $ca.crt -CAkey $ca.key -CAcreateserial -days {DAYS} -out $name.crt -extfile $name.ext 2>/dev/null
  openssl pkcs12 -export -inkey $name.key -in $name.crt -certfile $ca.crt -name $name -passout pass:{PW} -out $name.p12
}}
ca ca "/O=rzk test/CN=rzk test CA"
ca ca2 "/O=rzk test/CN=rzk test CA 2"
ca rogueca "/O=elsewhere/CN=rogue CA"
sign server "/O=rzk test/CN=localhost" ca
sign server2 "/O=rzk test/CN=localhost" ca2
sign client1 "/C=US/O=Acme/CN=client1" ca
sign client2 "/C=US/O=Acme/CN=client2" ca
sign admin "/C=US/O=Acme/CN=admin" ca
sign tricky "{TRICKY_SUBJ}" ca -multivalue-rdn
sign rogue "/C=US/O=Acme/CN=client1" rogueca
cat server.key server.crt ca.crt > server.pem
cat server2.key server2.crt ca2.crt > server2.pem
cp ca.crt ca.pem
cat ca.crt ca2.crt > both-cas.pem
keytool -importkeystore -srckeystore server.p12 -srcstoretype PKCS12 -srcstorepass {PW} \
  -destkeystore server.jks -deststoretype JKS -deststorepass {PW} -destkeypass {PW} -noprompt 2>/dev/null
keytool -importcert -alias ca -file ca.crt -keystore truststore.jks -storetype JKS -storepass {PW} -noprompt 2>/dev/null
keytool -importcert -alias ca -file ca.crt -keystore truststore.p12 -storetype PKCS12 -storepass {PW} -noprompt 2>/dev/null
"#
        );
        sh("making certificates", &script, dir.path());
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// zoo.cfg lines for a server with the given key and trust store files.
    fn server_lines(&self, key_store: &str, trust_store: &str) -> Vec<String> {
        vec![
            format!("ssl.keyStore.location={}", self.path(key_store)),
            format!("ssl.keyStore.password={PW}"),
            format!("ssl.trustStore.location={}", self.path(trust_store)),
            format!("ssl.trustStore.password={PW}"),
        ]
    }
}

fn start_rzk(lines: &[String]) -> RzkServer {
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &lines, &[]).expect("rzk starts")
}

/// A secure client port, with the store files given (and Netty named, as ZooKeeper needs).
fn secure_lines(pki: &Pki, key_store: &str, trust_store: &str, extra: &[&str]) -> (u16, Vec<String>) {
    let port = free_port().expect("free port");
    let mut lines = vec![
        format!("secureClientPort={port}"),
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory".to_string(),
    ];
    lines.extend(pki.server_lines(key_store, trust_store));
    lines.extend(extra.iter().map(|s| s.to_string()));
    (port, lines)
}

/// Runs `tls_client.py` as the client `who` (a certificate name, or "-" for none).
fn kazoo(pki: &Pki, port: u16, who: &str, steps: &[&str]) -> Vec<String> {
    let (cert, key) = if who == "-" {
        ("-".into(), "-".into())
    } else {
        (pki.path(&format!("{who}.crt")), pki.path(&format!("{who}.key")))
    };
    let mut cmd = Command::new(python());
    cmd.arg(tls_dir().join("tls_client.py"))
        .arg(format!("127.0.0.1:{port}"))
        .arg(pki.path("ca.pem"))
        .arg(cert)
        .arg(key)
        .args(steps);
    let out = common::run_to_end("tls_client.py", cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tls_client.py {steps:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// Runs `TlsClient.java` over TLS with `who`'s PKCS12 key store and the CA's trust store.
fn java(pki: &Pki, port: u16, who: &str, steps: &[&str]) -> Vec<String> {
    let mut cmd = Command::new(JAVA);
    cmd.args(JVM_DEFAULT_FLAGS)
        .arg("-Dzookeeper.client.secure=true")
        .arg("-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty")
        .arg(format!("-Dzookeeper.ssl.keyStore.location={}", pki.path(&format!("{who}.p12"))))
        .arg(format!("-Dzookeeper.ssl.keyStore.password={PW}"))
        .arg(format!("-Dzookeeper.ssl.trustStore.location={}", pki.path("truststore.jks")))
        .arg(format!("-Dzookeeper.ssl.trustStore.password={PW}"))
        .arg("-cp")
        .arg([ZOOKEEPER_JAR].into_iter().chain(NETTY_TLS_JARS).collect::<Vec<_>>().join(":"))
        .arg(tls_dir().join("TlsClient.java"))
        .arg(format!("127.0.0.1:{port}"))
        .args(steps);
    let out = common::run_to_end("TlsClient.java", cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "TlsClient {steps:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

/// (a) and (b): kazoo and the Java client over the secure port, with the server's stores in
/// each format; the Java client's whoAmI shows the certificate's x509 id.
#[test]
fn kazoo_and_java_clients_with_each_store_type() {
    if !common::client_available("tls kazoo", kazoo_missing()) {
        return;
    }
    let java_ok = common::client_available("tls java", java_missing());
    let pki = Pki::make();
    for (key_store, trust_store) in
        [("server.pem", "ca.pem"), ("server.p12", "truststore.p12"), ("server.jks", "truststore.jks")]
    {
        let (port, lines) = secure_lines(&pki, key_store, trust_store, &[]);
        let rzk = start_rzk(&lines);
        let got = kazoo(&pki, port, "client1", &["create", "/k", "open", "get", "/k"]);
        assert_eq!(got, ["create /k ok", "get /k data"], "{key_store}: kazoo\n{}", rzk.log());
        if java_ok {
            let got = java(&pki, port, "client1", &["whoami", "get", "/k"]);
            // whoAmI lists ids in ConcurrentHashMap order, as ZooKeeper does (x509 before ip here).
            let want = [&format!("whoami x509 {CLIENT1}"), "whoami ip 127.0.0.1", "get /k data"];
            assert_eq!(got, want, "{key_store}: Java client\n{}", rzk.log());
        }
    }
}

/// (c): an x509 ACL admits client1's certificate and refuses client2's; the configured
/// superUser's certificate gets through any x509 ACL.
#[test]
fn x509_acl_admits_the_named_certificate_only() {
    if !common::client_available("tls x509 acl", kazoo_missing()) {
        return;
    }
    let pki = Pki::make();
    let super_line = format!("X509AuthenticationProvider.superUser={ADMIN}");
    let (port, lines) = secure_lines(&pki, "server.pem", "ca.pem", &[&super_line]);
    let rzk = start_rzk(&lines);
    let acl = format!("x509:{CLIENT1}");
    let got = kazoo(&pki, port, "client1", &["create", "/secret", &acl, "get", "/secret"]);
    assert_eq!(got, ["create /secret ok", "get /secret data"], "{}", rzk.log());
    assert_eq!(kazoo(&pki, port, "client2", &["get", "/secret"]), ["get /secret NoAuthError"]);
    assert_eq!(kazoo(&pki, port, "admin", &["get", "/secret"]), ["get /secret data"]);
    // An x509 id that is not a distinguished name is an invalid ACL, as in ZooKeeper.
    assert_eq!(
        kazoo(&pki, port, "client1", &["create", "/bad", "x509:client1"]),
        ["create /bad InvalidACLError"]
    );
    if common::client_available("tls x509 acl (java)", java_missing()) {
        assert_eq!(java(&pki, port, "client2", &["get", "/secret"]), ["get /secret NOAUTH"]);
        assert_eq!(java(&pki, port, "client1", &["get", "/secret"]), ["get /secret data"]);
    }
}

/// (d): a certificate from another CA, and no certificate at all (clientAuth need), are refused
/// in the handshake with a logged reason; clients with good certificates carry on.
#[test]
fn untrusted_or_missing_client_certificates_are_refused() {
    if !common::client_available("tls refused", kazoo_missing()) {
        return;
    }
    let pki = Pki::make();
    let (port, lines) = secure_lines(&pki, "server.p12", "truststore.p12", &[]);
    let rzk = start_rzk(&lines);
    assert_eq!(kazoo(&pki, port, "client1", &["create", "/d", "open"]), ["create /d ok"]);
    let rogue = kazoo(&pki, port, "rogue", &["handshake"]);
    assert!(rogue[0].starts_with("handshake failed"), "rogue certificate admitted: {rogue:?}");
    let none = kazoo(&pki, port, "-", &["handshake"]);
    assert!(none[0].starts_with("handshake failed"), "client without a certificate admitted: {none:?}");
    common::poll("the refused handshakes in the server log", || {
        let log = rzk.log();
        (log.matches("Unsuccessful TLS handshake").count() >= 2).then_some(())
    });
    assert_eq!(kazoo(&pki, port, "client1", &["get", "/d"]), ["get /d data"]);
    assert_eq!(kazoo(&pki, port, "client1", &["handshake"]), ["handshake ok"]);
}

/// (e): with client.portUnification, plaintext and TLS clients share the client port (and the
/// four-letter words still answer there: RzkServer waits for `srvr`).
#[test]
fn port_unification_serves_plain_and_tls_on_one_port() {
    if !common::client_available("tls port unification", kazoo_missing()) {
        return;
    }
    let pki = Pki::make();
    let mut lines = vec!["client.portUnification=true".to_string()];
    lines.extend(pki.server_lines("server.jks", "truststore.jks"));
    let rzk = start_rzk(&lines);
    let port = rzk.port;
    assert_eq!(
        kazoo(&pki, port, "-", &["plain", "create", "/p", "open", "get", "/p"]),
        ["create /p ok", "get /p data"]
    );
    let acl = format!("x509:{CLIENT1}");
    let got = kazoo(&pki, port, "client1", &["create", "/t", &acl, "get", "/t", "get", "/p"]);
    assert_eq!(got, ["create /t ok", "get /t data", "get /p data"], "{}", rzk.log());
    assert_eq!(kazoo(&pki, port, "-", &["plain", "get", "/t"]), ["get /t NoAuthError"]);
    assert!(kazoo(&pki, port, "rogue", &["handshake"])[0].starts_with("handshake failed"));
}

/// client.certReload: replacing the key store file on disk changes the certificate new
/// connections get, without a restart.
#[test]
fn cert_reload_serves_the_new_certificate() {
    if !common::client_available("tls cert reload", kazoo_missing()) {
        return;
    }
    let pki = Pki::make();
    let (port, lines) = secure_lines(&pki, "server.pem", "ca.pem", &["client.certReload=true"]);
    let rzk = start_rzk(&lines);
    // A handshake as `who` that trusts only CA 2 (the replacement certificate's issuer).
    let ca2_client = |pki: &Pki, who: &str| {
        let mut cmd = Command::new(python());
        cmd.arg(tls_dir().join("tls_client.py"))
            .arg(format!("127.0.0.1:{port}"))
            .arg(pki.path("ca2.crt"))
            .arg(pki.path(&format!("{who}.crt")))
            .arg(pki.path(&format!("{who}.key")))
            .arg("handshake");
        String::from_utf8_lossy(&common::run_to_end("tls_client.py", cmd).stdout).trim().to_string()
    };
    assert!(ca2_client(&pki, "client1").starts_with("handshake failed"), "CA 2 trusted before the reload");
    // Replace the file in one step, as deployment tools do.
    let staged = pki.path("server.pem.new");
    std::fs::copy(pki.path("server2.pem"), &staged).expect("copy");
    std::fs::rename(&staged, pki.path("server.pem")).expect("rename");
    common::poll("the reloaded certificate", || {
        (ca2_client(&pki, "client1") == "handshake ok").then_some(())
    });
    assert!(rzk.log().contains("reloaded"), "{}", rzk.log());
    // Client certificates are still checked against the (unchanged) trust store.
    assert!(ca2_client(&pki, "rogue").starts_with("handshake failed"));
    assert!(
        kazoo(&pki, port, "client1", &["handshake"])[0].starts_with("handshake failed"),
        "old certificate still served"
    );
}

/// The x509 ids compared with the reference ZooKeeper 3.8: whoAmI, and the ACL that `auth`
/// expands to, for a plain subject and one that needs RFC 2253 escaping.
#[test]
fn x509_ids_match_the_reference_zookeeper() {
    if !common::client_available("tls x509 vs reference", java_missing()) {
        return;
    }
    let pki = Pki::make();
    let (ref_port, ref_lines) = secure_lines(&pki, "server.p12", "truststore.p12", &[]);
    let ref_lines: Vec<&str> = ref_lines.iter().map(String::as_str).collect();
    let Some(reference) = RefZk::start_or_skip("tls x509 vs reference", &ref_lines, &[]) else { return };
    let (port, lines) = secure_lines(&pki, "server.p12", "truststore.p12", &[]);
    let rzk = start_rzk(&lines);
    for who in ["client1", "tricky"] {
        let steps = ["whoami", "create", "/mine", "auth", "getacl", "/mine", "get", "/mine"];
        let path_steps: Vec<String> = steps.iter().map(|s| s.replace("/mine", &format!("/{who}"))).collect();
        let steps: Vec<&str> = path_steps.iter().map(String::as_str).collect();
        let want = java(&pki, ref_port, who, &steps);
        let got = java(&pki, port, who, &steps);
        println!("{who} on ZooKeeper: {want:?}");
        assert_eq!(
            got,
            want,
            "{who}: rzk differs from ZooKeeper\nrzk log:\n{}",
            common::tail(&rzk.log(), 30)
        );
    }
    drop(reference);
}
