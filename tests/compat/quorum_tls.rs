//! TLS between servers (`sslQuorum=true`, `ssl.quorum.*`): rzk ensembles whose election and
//! quorum ports speak only TLS with mutual authentication, and mixed ensembles with Apache
//! ZooKeeper 3.8 members (Debian's package, `SSLSocket` on both ports) to prove the handshakes
//! interoperate.
//!
//! Every certificate is made at test time with openssl and keytool: a CA, one certificate per
//! member (subject alternative names `DNS:localhost, IP:127.0.0.1`, since hostname
//! verification is on by default and checks the peer's address), and a member certificate
//! from another CA. rzk members use PEM, PKCS12 and JKS stores; Java members JKS and PKCS12.
//!
//! Skipped (with a message) when openssl/keytool are missing, and the Java tests when the
//! reference server is missing, unless `RZK_REQUIRE_REFZK` is set.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_testkit::{QuorumPorts, RefQuorumPeer, RzkQuorumPeer, four_letter_word};
use tempfile::TempDir;

/// Every store's password.
const PW: &str = "secret";
/// How long an ensemble may take to form (JVM starts and TLS handshakes included).
const FORM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a refused plaintext connection may stay open.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(15);
/// Between polls.
const POLL: Duration = Duration::from_millis(100);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rzk"))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// `Some(reason)` when the certificate tools are missing (a failure with `RZK_REQUIRE_REFZK`).
fn pki_missing(test: &str) -> bool {
    for tool in ["openssl", "keytool"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var_os("RZK_REQUIRE_REFZK").is_none(),
                "{test}: {tool} is needed to make certificates (RZK_REQUIRE_REFZK is set)"
            );
            println!("SKIP {test}: {tool} not found (needed to make certificates)");
            return true;
        }
    }
    false
}

/// The certificates of one test.
struct Pki {
    dir: TempDir,
}

impl Pki {
    /// A CA; members m1..m5 signed by it, in PEM, PKCS12 and JKS; `rogue` signed by another CA
    /// (trusting the real one); trust stores with the CA in each format.
    fn make() -> Pki {
        let dir = tempfile::Builder::new().prefix("rzk-qtls-").tempdir().expect("tempdir");
        let script = format!(
            r#"
ca() {{ openssl req -x509 -newkey rsa:2048 -nodes -keyout $1.key -out $1.crt -days 30 -subj "$2" 2>/dev/null; }}
sign() {{
  local name=$1 ca=$2
  openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj "/O=rzk test/CN=$name" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > $name.ext
  openssl x509 -req -in $name.csr -CA $ca.crt -CAkey $ca.key -CAcreateserial -days 30 -out $name.crt -extfile $name.ext 2>/dev/null
  cat $name.key $name.crt $ca.crt > $name.pem
  openssl pkcs12 -export -inkey $name.key -in $name.crt -certfile $ca.crt -name $name -passout pass:{PW} -out $name.p12
  keytool -importkeystore -srckeystore $name.p12 -srcstoretype PKCS12 -srcstorepass {PW} \
    -destkeystore $name.jks -deststoretype JKS -deststorepass {PW} -destkeypass {PW} -noprompt 2>/dev/null
}}
ca ca "/O=rzk test/CN=rzk quorum CA"
ca rogueca "/O=elsewhere/CN=rogue CA"
for m in m1 m2 m3 m4 m5; do sign $m ca; done
sign rogue rogueca
cp ca.crt ca.pem
keytool -importcert -alias ca -file ca.crt -keystore truststore.jks -storetype JKS -storepass {PW} -noprompt 2>/dev/null
keytool -importcert -alias ca -file ca.crt -keystore truststore.p12 -storetype PKCS12 -storepass {PW} -noprompt 2>/dev/null
"#
        );
        let out =
            Command::new("bash").arg("-ec").arg(&script).current_dir(dir.path()).output().expect("bash");
        assert!(
            out.status.success(),
            "making certificates failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// zoo.cfg lines for `sslQuorum=true` with the key store `key` and the trust store `trust`.
    fn quorum_lines(&self, key: &str, trust: &str) -> Vec<String> {
        vec![
            "sslQuorum=true".to_string(),
            format!("ssl.quorum.keyStore.location={}", self.path(key)),
            format!("ssl.quorum.keyStore.password={PW}"),
            format!("ssl.quorum.trustStore.location={}", self.path(trust)),
            format!("ssl.quorum.trustStore.password={PW}"),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Java,
    Rzk,
}

enum Peer {
    Java(RefQuorumPeer),
    Rzk(RzkQuorumPeer),
}

impl Peer {
    fn log(&self) -> String {
        match self {
            Peer::Java(p) => p.log(),
            Peer::Rzk(p) => p.log(),
        }
    }
}

struct Member {
    kind: Kind,
    ports: QuorumPorts,
    /// Its zoo.cfg TLS lines.
    tls: Vec<String>,
    peer: Option<Peer>,
}

struct Ensemble {
    members: Vec<Member>,
    servers: Vec<String>,
}

impl Ensemble {
    /// Members 1..=n of the given kinds with the given TLS lines.
    fn new(members: Vec<(Kind, Vec<String>)>) -> Ensemble {
        let members: Vec<Member> = members
            .into_iter()
            .map(|(kind, tls)| Member { kind, ports: QuorumPorts::free().expect("ports"), tls, peer: None })
            .collect();
        let servers = members.iter().enumerate().map(|(i, m)| m.ports.server_line(i as i64 + 1)).collect();
        Ensemble { members, servers }
    }

    fn member(&self, id: i64) -> &Member {
        &self.members[id as usize - 1]
    }

    fn start(&mut self, id: i64) {
        let servers = self.servers.clone();
        let m = &mut self.members[id as usize - 1];
        let extra: Vec<&str> = m.tls.iter().map(String::as_str).collect();
        m.peer = Some(match m.kind {
            Kind::Java => {
                Peer::Java(RefQuorumPeer::start(id, m.ports, &servers, &extra, &[]).expect("java member"))
            }
            Kind::Rzk => {
                Peer::Rzk(RzkQuorumPeer::start(bin(), id, m.ports, &servers, &extra).expect("rzk member"))
            }
        });
    }

    fn kill(&mut self, id: i64) {
        match &mut self.members[id as usize - 1].peer {
            Some(Peer::Java(p)) => p.kill(),
            Some(Peer::Rzk(p)) => p.kill(),
            None => {}
        }
    }

    fn restart(&mut self, id: i64) {
        match &mut self.members[id as usize - 1].peer {
            Some(Peer::Java(p)) => p.start_again().expect("java member starts again"),
            Some(Peer::Rzk(p)) => p.start_again().expect("rzk member starts again"),
            None => self.start(id),
        }
    }

    fn mode(&self, id: i64) -> Option<String> {
        let answer = four_letter_word(self.member(id).ports.client, "srvr", Duration::from_secs(1)).ok()?;
        answer.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned())
    }

    fn zxid(&self, id: i64) -> Option<i64> {
        let answer = four_letter_word(self.member(id).ports.client, "srvr", Duration::from_secs(1)).ok()?;
        let z = answer.lines().find_map(|l| l.strip_prefix("Zxid: "))?;
        i64::from_str_radix(z.trim().trim_start_matches("0x"), 16).ok()
    }

    fn addr(&self, id: i64) -> String {
        format!("127.0.0.1:{}", self.member(id).ports.client)
    }

    /// Member `id`'s log, without terminal colour codes.
    fn log(&self, id: i64) -> String {
        let log = self.member(id).peer.as_ref().map(Peer::log).unwrap_or_default();
        let mut out = String::with_capacity(log.len());
        let mut in_escape = false;
        for c in log.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (false, c) => out.push(c),
                (true, 'm') => in_escape = false,
                (true, _) => {}
            }
        }
        out
    }

    /// Waits until every member in `ids` serves and exactly one leads; the leader's id.
    fn wait_formed(&self, ids: &[i64]) -> i64 {
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            let modes: Vec<Option<String>> = ids.iter().map(|id| self.mode(*id)).collect();
            let leaders: Vec<i64> = ids
                .iter()
                .zip(&modes)
                .filter(|(_, m)| m.as_deref() == Some("leader"))
                .map(|(id, _)| *id)
                .collect();
            if modes.iter().all(Option::is_some) && leaders.len() == 1 {
                return leaders[0];
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members {ids:?} did not form an ensemble over TLS: {modes:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the members in `ids` report one zxid (after a write: a leader elected with
    /// nothing written yet reports its new epoch's zxid, its followers their last txn's).
    fn wait_same_zxid(&self, ids: &[i64]) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        loop {
            let z: BTreeSet<Option<i64>> = ids.iter().map(|id| self.zxid(*id)).collect();
            if z.len() == 1 && !z.contains(&None) {
                return;
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("members {ids:?} never reached the same zxid: {z:?}");
            }
            std::thread::sleep(POLL);
        }
    }

    fn dump_logs(&self) {
        for (i, m) in self.members.iter().enumerate() {
            let log = m.peer.as_ref().map(Peer::log).unwrap_or_default();
            let tail: Vec<&str> =
                log.lines().rev().filter(|l| !l.contains("Processing srvr command")).take(60).collect();
            eprintln!("---- member {} ({:?}) errors ----", i + 1, m.kind);
            let errors = log.lines().filter(|l| l.contains("ERROR") || l.contains("Exception"));
            for l in errors.take(20) {
                eprintln!("{l}");
            }
            eprintln!("---- member {} ({:?}) log tail ----", i + 1, m.kind);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// Creates `path` with `data` through member `id`.
fn create(rt: &tokio::runtime::Runtime, e: &Ensemble, id: i64, path: &str, data: &[u8]) {
    rt.block_on(async {
        let c = Client::connect(&e.addr(id), Duration::from_secs(20)).await.expect("connect");
        c.create(path, data, &open_acl_unsafe(), CreateMode::Persistent)
            .await
            .unwrap_or_else(|err| panic!("create {path} through member {id}: {err}"));
        let _ = c.close().await;
    });
}

/// Reads `path` through member `id` after a sync.
fn read(rt: &tokio::runtime::Runtime, e: &Ensemble, id: i64, path: &str) -> Vec<u8> {
    rt.block_on(async {
        let c = Client::connect(&e.addr(id), Duration::from_secs(20)).await.expect("connect");
        c.sync(path).await.expect("sync");
        let (d, _) =
            c.get_data(path, false).await.unwrap_or_else(|err| panic!("read {path} on member {id}: {err}"));
        let _ = c.close().await;
        d.to_vec()
    })
}

/// Writes through each member in `ids` and reads every write back through every member.
fn replicate_both_ways(rt: &tokio::runtime::Runtime, e: &Ensemble, ids: &[i64], tag: &str) {
    for w in ids {
        create(rt, e, *w, &format!("/{tag}-from-{w}"), format!("written via {w}").as_bytes());
    }
    for r in ids {
        for w in ids {
            let got = read(rt, e, *r, &format!("/{tag}-from-{w}"));
            assert_eq!(got, format!("written via {w}").into_bytes(), "member {r} reading member {w}'s write");
        }
    }
}

/// Polls until `log` of member `id` contains `needle`.
fn wait_log(e: &Ensemble, id: i64, needle: &str) {
    let deadline = Instant::now() + FORM_TIMEOUT;
    while !e.log(id).contains(needle) {
        if Instant::now() > deadline {
            e.dump_logs();
            panic!("member {id}'s log never showed {needle:?}");
        }
        std::thread::sleep(POLL);
    }
}

/// A plaintext connection to `port` that sends `bytes` is closed without a plaintext answer:
/// anything it reads back is a TLS alert record (content type 21).
fn assert_plaintext_refused(port: u16, bytes: &[u8]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(REFUSE_TIMEOUT)).expect("timeout");
    s.write_all(bytes).expect("write");
    let started = Instant::now();
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("plaintext connection to port {port} still open after {:?}: {e}", started.elapsed()),
    }
    assert!(got.is_empty() || got[0] == 21, "port {port} answered plaintext with {got:?}");
}

/// A QCM V1 connection header from sid 99 (`PROTOCOL_VERSION_V1`, sid, address).
fn plaintext_qcm_header() -> Vec<u8> {
    let addr = b"127.0.0.1:1";
    let mut b = Vec::new();
    b.extend_from_slice(&(-65536i64).to_be_bytes());
    b.extend_from_slice(&99i64.to_be_bytes());
    b.extend_from_slice(&(addr.len() as i32).to_be_bytes());
    b.extend_from_slice(addr);
    b
}

#[test]
fn rzk_ensemble_over_tls_elects_replicates_and_survives_a_leader_kill() {
    let test = "rzk_ensemble_over_tls_elects_replicates_and_survives_a_leader_kill";
    if pki_missing(test) {
        return;
    }
    let pki = Pki::make();
    // One store format per member, so every loader is used.
    let mut e = Ensemble::new(vec![
        (Kind::Rzk, pki.quorum_lines("m1.pem", "ca.pem")),
        (Kind::Rzk, pki.quorum_lines("m2.p12", "truststore.p12")),
        (Kind::Rzk, pki.quorum_lines("m3.jks", "truststore.jks")),
    ]);
    let rt = rt();
    for id in 1..=3 {
        e.start(id);
    }
    let leader = e.wait_formed(&[1, 2, 3]);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "before");

    // The ports speak only TLS: plaintext on either is refused, and the member says why.
    assert_plaintext_refused(e.member(1).ports.election, &plaintext_qcm_header());
    wait_log(&e, 1, "election connection refused");
    assert_plaintext_refused(e.member(leader).ports.quorum, &[0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0]);
    wait_log(&e, leader, "learner connection refused");

    e.kill(leader);
    let rest: Vec<i64> = (1..=3).filter(|i| *i != leader).collect();
    let new_leader = e.wait_formed(&rest);
    assert_ne!(new_leader, leader);
    replicate_both_ways(&rt, &e, &rest, "after-kill");
    e.restart(leader);
    e.wait_formed(&[1, 2, 3]);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "after-restart");
    e.wait_same_zxid(&[1, 2, 3]);
    for id in 1..=3 {
        assert_eq!(read(&rt, &e, id, "/before-from-1"), b"written via 1");
    }
}

#[test]
fn a_member_with_a_certificate_from_another_ca_cannot_join() {
    let test = "a_member_with_a_certificate_from_another_ca_cannot_join";
    if pki_missing(test) {
        return;
    }
    let pki = Pki::make();
    let mut e = Ensemble::new(vec![
        (Kind::Rzk, pki.quorum_lines("m1.p12", "truststore.p12")),
        (Kind::Rzk, pki.quorum_lines("m2.p12", "truststore.p12")),
        // Trusts the real CA, but its own certificate is signed by another.
        (Kind::Rzk, pki.quorum_lines("rogue.p12", "truststore.p12")),
    ]);
    let rt = rt();
    e.start(3);
    e.start(1);
    e.start(2);
    e.wait_formed(&[1, 2]);
    // Both directions fail, with the reason logged: 1 refuses 3's dials and 3's listener
    // certificate; 3 sees its handshakes fail.
    wait_log(&e, 1, "election connection refused");
    wait_log(&e, 1, "invalid peer certificate");
    wait_log(&e, 3, "TLS handshake");
    // The good members keep serving, the rogue one never does.
    replicate_both_ways(&rt, &e, &[1, 2], "without-rogue");
    assert_eq!(e.mode(3), None, "the member with a foreign certificate joined");
    let log3 = e.log(3);
    assert!(log3.contains("cannot open election connection"), "member 3 should report failed dials");
}

/// The rolling upgrade `portUnification` exists for: a plaintext ensemble whose listeners take
/// both, restarted one member at a time with `sslQuorum=true`, serves throughout and ends with
/// every member dialing TLS.
#[test]
fn rolling_upgrade_to_tls_with_port_unification() {
    let test = "rolling_upgrade_to_tls_with_port_unification";
    if pki_missing(test) {
        return;
    }
    let pki = Pki::make();
    let lines = |m: &str| {
        let mut l = pki.quorum_lines(&format!("{m}.p12"), "truststore.p12");
        l[0] = "sslQuorum=false".to_string();
        l.push("portUnification=true".to_string());
        l
    };
    let mut e =
        Ensemble::new(vec![(Kind::Rzk, lines("m1")), (Kind::Rzk, lines("m2")), (Kind::Rzk, lines("m3"))]);
    let rt = rt();
    for id in 1..=3 {
        e.start(id);
    }
    e.wait_formed(&[1, 2, 3]);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "plain");
    for id in 1..=3 {
        e.kill(id);
        let Some(Peer::Rzk(p)) = &e.members[id as usize - 1].peer else { unreachable!("rzk member") };
        let cfg = std::fs::read_to_string(&p.cfg_path).expect("zoo.cfg");
        std::fs::write(&p.cfg_path, cfg.replace("sslQuorum=false", "sslQuorum=true")).expect("zoo.cfg");
        e.restart(id);
        e.wait_formed(&[1, 2, 3]);
        replicate_both_ways(&rt, &e, &[1, 2, 3], &format!("upgraded-{id}"));
        e.wait_same_zxid(&[1, 2, 3]);
    }
    // Every member now dials with TLS; plaintext is still accepted (port unification).
    for id in 1..=3 {
        assert!(e.log(id).contains("ssl_quorum=true port_unification=true"), "member {id} not upgraded");
    }
}

fn skip_java(test: &str) -> bool {
    pki_missing(test) || RefQuorumPeer::skip(test).is_some()
}

/// Java and rzk members in one TLS ensemble: forms, replicates writes through every member,
/// survives the leader's kill -9 and restart.
fn mixed(test: &str, kinds: [Kind; 3]) {
    if skip_java(test) {
        return;
    }
    let pki = Pki::make();
    let stores = [("m1.jks", "truststore.jks"), ("m2.p12", "truststore.p12"), ("m3.jks", "truststore.jks")];
    let members = kinds
        .iter()
        .zip(stores)
        .enumerate()
        .map(|(i, (k, (key, trust)))| {
            // rzk members read PEM too; give one of them PEM stores.
            let (key, trust) = if *k == Kind::Rzk && i == 1 { ("m2.pem", "ca.pem") } else { (key, trust) };
            (*k, pki.quorum_lines(key, trust))
        })
        .collect();
    let mut e = Ensemble::new(members);
    let rt = rt();
    for id in 1..=3 {
        e.start(id);
    }
    let leader = e.wait_formed(&[1, 2, 3]);
    println!("{test}: leader is member {leader} ({:?})", e.member(leader).kind);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "mixed");
    e.kill(leader);
    let rest: Vec<i64> = (1..=3).filter(|i| *i != leader).collect();
    let next = e.wait_formed(&rest);
    println!("{test}: after the kill, member {next} ({:?}) leads", e.member(next).kind);
    replicate_both_ways(&rt, &e, &rest, "mixed-after-kill");
    e.restart(leader);
    e.wait_formed(&[1, 2, 3]);
    replicate_both_ways(&rt, &e, &[1, 2, 3], "mixed-after-restart");
    e.wait_same_zxid(&[1, 2, 3]);
}

#[test]
fn two_java_one_rzk_over_tls() {
    mixed("two_java_one_rzk_over_tls", [Kind::Java, Kind::Java, Kind::Rzk]);
}

#[test]
fn one_java_two_rzk_over_tls() {
    mixed("one_java_two_rzk_over_tls", [Kind::Rzk, Kind::Rzk, Kind::Java]);
}
