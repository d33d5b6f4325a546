//! rzk's AdminServer against the reference ZooKeeper 3.8's (Debian's package, Jetty): the same
//! client traffic on both servers, then every command (and every alias) asked of both. Answers
//! are compared as ZooKeeper's JSON: the same keys in the same order with the same JSON types,
//! and, where nothing legitimately differs (quorum commands, trace masks, errors, watch counts),
//! the same text. Values that differ by nature (session ids, times, sizes, the version text,
//! JVM facts) are normalised away. Also: the `/commands` listing and the unknown-command error.
//!
//! Without the reference installed the comparison prints SKIP (or fails with
//! RZK_REQUIRE_REFZK set). The tests of rzk's own endpoints (3.9's `snapshot`/`restore`,
//! `/ready`, `/health`) need no reference.

#[path = "common/http.rs"]
mod http;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rzk_client::{Client, CreateMode, open_acl_unsafe};
use rzk_server::Settings;
use rzk_server::admin::AdminSettings;
use rzk_server::admin::commands::COMMANDS;
use rzk_testkit::RefZk;
use serde_json::Value;

const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
/// Creates that take the zxid past 0x80, where the first digest is logged (`hash`).
const HASH_CREATES: usize = 130;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn admin_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings::for_test(dir.to_owned(), "127.0.0.1:0".parse().expect("addr"));
    s.prealloc_bytes = 1024 * 1024;
    s.admin = Some(AdminSettings::for_test());
    s
}

fn reference() -> Option<(RefZk, SocketAddr)> {
    let port = rzk_testkit::free_port().expect("free port");
    let cfg = [
        "admin.enableServer=true".to_owned(),
        format!("admin.serverPort={port}"),
        "admin.serverAddress=127.0.0.1".to_owned(),
    ];
    let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
    let zk = RefZk::start_or_skip("admin_commands", &cfg, &[])?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("admin address");
    // Jetty starts before the client port, so it answers by now; poll all the same.
    http::poll("the reference AdminServer", Duration::from_secs(30), || {
        http::try_request(addr, "GET", "/commands/ruok", &[], &[]).ok().filter(|a| a.status == 200)
    });
    Some((zk, addr))
}

/// The same traffic on either server: two sessions, ephemerals, data watches, and enough creates
/// for a digest to be logged. The clients stay connected while the commands run.
async fn traffic(addr: &str) -> (Client, Client) {
    let a = Client::connect(addr, SESSION_TIMEOUT).await.expect("client a");
    let b = Client::connect(addr, SESSION_TIMEOUT).await.expect("client b");
    let acl = open_acl_unsafe();
    a.create("/a", b"hello", &acl, CreateMode::Persistent).await.expect("create /a");
    a.create("/a/e1", b"x", &acl, CreateMode::Ephemeral).await.expect("create /a/e1");
    b.create("/be", b"", &acl, CreateMode::Ephemeral).await.expect("create /be");
    a.get_data("/a", true).await.expect("get /a");
    b.get_data("/a", true).await.expect("get /a");
    assert!(a.exists("/nope", true).await.expect("exists /nope").is_none());
    for i in 0..HASH_CREATES {
        a.create(&format!("/h{i}"), b"", &acl, CreateMode::Persistent).await.expect("create /h");
    }
    (a, b)
}

// ---- comparing JSON ----

/// The JSON types of a value: objects by key, arrays by their elements' (all alike) type.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => {
            let shapes: Vec<Value> = items.iter().map(shape).collect();
            assert!(shapes.windows(2).all(|w| w[0] == w[1]), "array of mixed shapes: {v}");
            Value::Array(shapes.into_iter().take(1).collect())
        }
        Value::Number(n) if n.is_f64() => Value::from("double"),
        Value::Number(_) => Value::from("long"),
        Value::String(_) => Value::from("string"),
        Value::Bool(_) => Value::from("boolean"),
        Value::Null => Value::Null,
    }
}

/// Objects whose keys are data (session ids, expiry times) become one `*` entry.
fn collapse_keys(v: &mut Value, pointer: &str) {
    if let Some(Value::Object(m)) = v.pointer_mut(pointer) {
        let first = m.values().next().cloned();
        m.clear();
        if let Some(f) = first {
            m.insert("*".to_owned(), f);
        }
    }
}

/// The keys of the JSON text in order, as printed (every depth).
fn key_order(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            l.trim_start().strip_prefix('"').and_then(|r| r.split_once("\" : ")).map(|(k, _)| k.to_owned())
        })
        .collect()
}

struct Pair {
    name: String,
    reference: http::Answer,
    rzk: http::Answer,
}

impl Pair {
    fn fail(&self, why: &str) -> ! {
        panic!(
            "{}: {why}\n--- reference ZooKeeper ---\n{}\n--- rzk ---\n{}",
            self.name,
            self.reference.text(),
            self.rzk.text()
        )
    }

    fn same_status_and_type(&self) {
        if self.reference.status != self.rzk.status {
            self.fail("statuses differ");
        }
        if self.reference.header("content-type") != self.rzk.header("content-type") {
            self.fail("content types differ");
        }
    }

    fn same_text(&self) {
        self.same_status_and_type();
        if self.reference.text() != self.rzk.text() {
            self.fail("answers differ");
        }
    }

    /// Same keys in the same order with the same types; `dynamic` names objects keyed by data.
    fn same_shape(&self, dynamic: &[&str], keep_order: bool) {
        self.same_status_and_type();
        let (mut r, mut z) = (self.reference.json(), self.rzk.json());
        for p in dynamic {
            collapse_keys(&mut r, p);
            collapse_keys(&mut z, p);
        }
        if shape(&r) != shape(&z) {
            self.fail(&format!("shapes differ:\n{:#}\n{:#}", shape(&r), shape(&z)));
        }
        if keep_order && key_order(&self.reference.text()) != key_order(&self.rzk.text()) {
            self.fail("key order differs");
        }
    }
}

fn ask(reference: SocketAddr, rzk: SocketAddr, name: &str, path: &str) -> Pair {
    Pair { name: name.to_owned(), reference: http::get(reference, path), rzk: http::get(rzk, path) }
}

/// `monitor` without the per-namespace summary sets, which ZooKeeper adds with traffic and rzk
/// does not keep (see `mntr.rs`).
fn monitor_keys(a: &http::Answer) -> Vec<String> {
    key_order(&a.text())
        .into_iter()
        .filter(|k| !k.ends_with("_per_namespace") || k.contains("_quota_"))
        .collect()
}

fn compare_monitor(p: &Pair) {
    p.same_status_and_type();
    if monitor_keys(&p.reference) != monitor_keys(&p.rzk) {
        p.fail("monitor keys differ");
    }
    let (r, z) = (p.reference.json(), p.rzk.json());
    for k in monitor_keys(&p.rzk) {
        if shape(&r[&k]) != shape(&z[&k]) {
            p.fail(&format!("{k}: types differ"));
        }
    }
}

/// `system_properties`: a sorted object of strings on both; the JVM's own properties differ, the
/// ones rzk has a meaning for agree.
fn compare_system_properties(p: &Pair) {
    p.same_status_and_type();
    for a in [&p.reference, &p.rzk] {
        let keys: Vec<String> =
            key_order(&a.text()).into_iter().filter(|k| k != "command" && k != "error").collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "system_properties is not sorted");
    }
    let (r, z) = (p.reference.json(), p.rzk.json());
    for k in ["os.name", "os.arch", "user.name", "file.separator", "line.separator", "path.separator"] {
        if r[k] != z[k] {
            p.fail(&format!("{k} differs"));
        }
    }
}

#[test]
fn every_admin_command_answers_as_zookeeper_does() {
    let Some((_refzk_process, ref_admin)) = reference() else { return };
    let ref_client = format!("127.0.0.1:{}", _refzk_process.port);
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let rzk = rt.block_on(rzk_server::start(admin_settings(dir.path()))).expect("start rzk");
    let rzk_admin = rzk.admin_addr.expect("rzk admin address");

    // Counters start from zero on both.
    for addr in [ref_admin, rzk_admin] {
        assert_eq!(http::get(addr, "/commands/stat_reset").status, 200);
    }
    let _ref_clients = rt.block_on(traffic(&ref_client));
    let _rzk_clients = rt.block_on(traffic(&rzk.local_addr.to_string()));

    let exact = [
        "ruok",
        "is_read_only",
        "get_trace_mask",
        "leader",
        "observers",
        "voting_view",
        "zabstate",
        "watch_summary",
        "observer_connection_stat_reset",
        "nope",
        "set_trace_mask",
        "set_trace_mask?traceMask=abc",
        "set_trace_mask?traceMask=511",
        "get_trace_mask?after=stmk",
        "set_trace_mask?traceMask=306",
    ];
    for name in exact {
        ask(ref_admin, rzk_admin, name, &format!("/commands/{name}")).same_text();
    }
    let shapes: [(&str, &[&str], bool); 10] = [
        ("configuration", &[], true),
        ("connections", &[], true),
        ("dirs", &[], true),
        ("dump", &["/expiry_time_to_session_ids", "/session_id_to_ephemeral_paths"], false),
        ("environment", &[], true),
        ("hash", &[], true),
        ("initial_configuration", &[], true),
        ("last_snapshot", &[], true),
        ("watches", &["/session_id_to_watched_paths"], false),
        ("watches_by_path", &["/path_to_session_ids"], false),
    ];
    for (name, dynamic, order) in shapes {
        ask(ref_admin, rzk_admin, name, &format!("/commands/{name}")).same_shape(dynamic, order);
    }
    for name in ["server_stats", "stats"] {
        ask(ref_admin, rzk_admin, name, &format!("/commands/{name}")).same_shape(&[], true);
    }
    let p = ask(ref_admin, rzk_admin, "hash", "/commands/hash");
    assert_eq!(p.reference.json()["digests"][0]["zxid"], 128, "the reference logs a digest at 0x80");
    assert_eq!(p.reference.json()["digests"][0]["zxid"], p.rzk.json()["digests"][0]["zxid"]);
    compare_monitor(&ask(ref_admin, rzk_admin, "monitor", "/commands/monitor"));
    compare_system_properties(&ask(ref_admin, rzk_admin, "system_properties", "/commands/system_properties"));
    // The resets answer alike, and then the counters restart on both (a ping may count already).
    let received = |addr: SocketAddr| {
        let s = http::get(addr, "/commands/server_stats").json()["server_stats"]["packets_received"].clone();
        let conns = http::get(addr, "/commands/connections").json()["connections"].clone();
        let busiest = conns
            .as_array()
            .expect("connections")
            .iter()
            .filter_map(|c| c["packets_received"].as_i64())
            .max();
        (s.as_i64().expect("server packets"), busiest.expect("a connection"))
    };
    let before = [received(ref_admin), received(rzk_admin)];
    for name in ["connection_stat_reset", "stat_reset"] {
        ask(ref_admin, rzk_admin, name, &format!("/commands/{name}")).same_text();
    }
    for (addr, (server, conn)) in [ref_admin, rzk_admin].into_iter().zip(before) {
        let (s, c) = received(addr);
        assert!(server > 100 && s < 3, "server packets_received {server} → {s} after stat_reset");
        assert!(conn > 100 && c < 3, "connection packets_received {conn} → {c} after connection_stat_reset");
    }

    // Every alias names its command; both servers agree (3.9's snapshot/restore are rzk's only).
    for c in COMMANDS.iter().filter(|c| !matches!(c.primary(), "snapshot" | "restore")) {
        for alias in c.names {
            let p = ask(ref_admin, rzk_admin, alias, &format!("/commands/{alias}"));
            let (r, z) = (p.reference.json(), p.rzk.json());
            if r["command"] != c.primary() || z["command"] != c.primary() {
                p.fail("the alias does not answer as its command");
            }
        }
    }

    // The listing: ZooKeeper 3.8's links, plus 3.9's snapshot and restore.
    let (r, z) = (http::get(ref_admin, "/commands"), http::get(rzk_admin, "/commands"));
    assert_eq!((r.status, z.status), (200, 200));
    let extra = "<a href=\"/commands/restore\">restore</a>\n<br/>\n<a href=\"/commands/snapshot\">snapshot</a>\n<br/>\n";
    let mut expected: Vec<String> = r.text().split_inclusive("<br/>\n").map(str::to_owned).collect();
    expected.extend(extra.split_inclusive("<br/>\n").map(str::to_owned));
    expected.sort();
    assert_eq!(z.text(), expected.concat(), "the /commands listing");

    rt.block_on(rzk.shutdown()).expect("rzk shutdown");
}

// ---- rzk's own endpoints ----

#[test]
fn ready_and_health_follow_the_server() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    // A database large enough that loading it takes a while: the admin server answers meanwhile.
    write_big_snapshot(dir.path(), 100_000);
    let admin_port = rzk_testkit::free_port().expect("free port");
    let mut settings = admin_settings(dir.path());
    if let Some(a) = settings.admin.as_mut() {
        a.addr = format!("127.0.0.1:{admin_port}").parse().expect("addr");
    }
    let admin: SocketAddr = format!("127.0.0.1:{admin_port}").parse().expect("addr");
    // Started as the rzk binary starts it (block_on outside the runtime's workers): the load
    // blocks that thread while the runtime's workers serve the admin port.
    let handle = rt.handle().clone();
    let starting = std::thread::spawn(move || handle.block_on(rzk_server::start(settings)));
    let mut seen = Vec::new();
    let server = loop {
        let done_before = starting.is_finished();
        if let Ok(a) = http::try_request(admin, "GET", "/ready", &[], &[]) {
            let json = a.json();
            seen.push((a.status, done_before));
            if a.status == 503 {
                assert_eq!(
                    (json["ready"].clone(), json["serving_clients"].clone()),
                    (false.into(), false.into())
                );
                // Alive while loading, and the commands say what ZooKeeper says then.
                assert_eq!(http::get(admin, "/health").status, 200);
                let ruok = http::get(admin, "/commands/ruok").json();
                assert!(ruok["error"].is_null() || ruok["error"] == NOT_SERVING, "{ruok}");
            }
        }
        if starting.is_finished() {
            break starting.join().expect("join").expect("start rzk");
        }
        // Polling the port while the server loads.
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(
        seen.iter().any(|(s, done)| *s == 503 && !done),
        "never saw /ready answer 503 while loading: {seen:?}"
    );
    let ready = http::get(admin, "/ready");
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["serving_clients"], true);
    assert_eq!(ready.json()["server_state"], "standalone");
    assert_eq!(http::get(admin, "/health").status, 200);
    assert_eq!(http::get(admin, "/commands/ruok").json()["error"], Value::Null);
    rt.block_on(server.shutdown()).expect("shutdown");
    // Stopped: nothing answers 200 any more.
    let after = http::try_request(admin, "GET", "/ready", &[], &[]);
    assert!(after.map_or(true, |a| a.status != 200), "ready after shutdown");
}

/// A snapshot of `nodes` nodes under /big, written as rzk would have written it.
fn write_big_snapshot(data_dir: &std::path::Path, nodes: usize) {
    use bytes::Bytes;
    use rzk_proto::codes::op;
    use rzk_proto::txn::TxnBody;
    use rzk_proto::{Acl, CreateTxn, TxnHeader};

    let mut tree = rzk_tree::DataTree::new(false);
    let mut events = Vec::new();
    let mut zxid = 0;
    let mut create = |path: String, tree: &mut rzk_tree::DataTree| {
        zxid += 1;
        let body = TxnBody::Create(CreateTxn {
            path,
            data: Some(Bytes::from_static(b"0123456789")),
            acl: vec![Acl::new(31, "world", "anyone")],
            ephemeral: false,
            parent_cversion: -1,
        });
        let hdr = TxnHeader { client_id: 1, cxid: 0, zxid, time: 1, txn_type: op::CREATE };
        tree.process_txn(&hdr, &body, &mut events);
        events.clear();
    };
    create("/big".to_owned(), &mut tree);
    for i in 0..nodes {
        create(format!("/big/n{i}"), &mut tree);
    }
    tree.last_processed_zxid = nodes as i64 + 1;
    let stream = rzk_tree::snapshot::SnapshotJob::whole(&tree).to_vec();
    rzk_storage::snapfile::write_snapshot(data_dir, tree.last_processed_zxid, &stream, Default::default())
        .expect("write the snapshot");
}

/// A client authenticated as `admin` (the root's only ACL entry in the snapshot test).
async fn admin_client(addr: &str) -> Client {
    Client::builder(addr, SESSION_TIMEOUT).auth("digest", b"admin:secret").connect().await.expect("client")
}

fn json_of(a: &http::Answer) -> BTreeMap<String, Value> {
    serde_json::from_slice(&a.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", a.text()))
}

#[test]
fn snapshot_and_restore_round_trip_with_auth() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = admin_settings(dir.path());
    if let Some(a) = settings.admin.as_mut() {
        a.rate_limit_interval_ms = 0;
    }
    let server = rt.block_on(rzk_server::start(settings.clone())).expect("start rzk");
    let admin = server.admin_addr.expect("admin");
    let client_addr = server.local_addr.to_string();
    let digest = rzk_node::auth::generate_digest("admin:secret");
    rt.block_on(async {
        let c = admin_client(&client_addr).await;
        c.create("/keep", b"v1", &open_acl_unsafe(), CreateMode::Persistent).await.expect("create");
        // Only admin on the root: checkACL(ALL) admits any entry with some bit, so no other.
        let root_acl = vec![rzk_proto::Acl::new(31, "digest", &digest)];
        c.set_acl("/", &root_acl, -1).await.expect("set the root ACL");
        c.close().await.expect("close");
    });

    // 3.9's authorization: missing, unknown scheme, wrong identity.
    let snap = |auth: Option<&str>, query: &str| {
        let headers: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        http::request(admin, "GET", &format!("/commands/snapshot{query}"), &headers, &[])
    };
    let a = snap(None, "");
    assert_eq!(
        (a.status, json_of(&a)["error"].clone()),
        (401, Value::from("Auth info is missing for the command"))
    );
    assert_eq!(snap(Some("kerberos x"), "").status, 401);
    assert_eq!(snap(Some("digest admin:wrong"), "").status, 403);
    assert_eq!(json_of(&snap(Some("digest admin:wrong"), ""))["error"], "Not authorized");

    // Headers only, then the stream.
    let a = snap(Some("digest admin:secret"), "?streaming=false");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(json_of(&a)["command"], "snapshot");
    let a = snap(Some("digest admin:secret"), "");
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("application/octet-stream"));
    let size: usize = a.header("snapshot_size").expect("snapshot_size").parse().expect("size");
    assert_eq!(a.body.len(), size);
    assert_eq!(&a.body[..4], b"ZKSN");
    let zxid = a.header("last_zxid").expect("last_zxid").to_owned();
    assert!(zxid.starts_with("0x"), "{zxid}");
    let snapshot_bytes = a.body.clone();

    // Changes after the snapshot, then the restore brings the snapshot's state back.
    rt.block_on(async {
        let c = admin_client(&client_addr).await;
        c.create("/after", b"", &open_acl_unsafe(), CreateMode::Persistent).await.expect("create");
        c.set_data("/keep", b"v2", -1).await.expect("set");
        c.close().await.expect("close");
    });
    let post =
        |auth: &[(&str, &str)], body: &[u8]| http::request(admin, "POST", "/commands/restore", auth, body);
    assert_eq!(post(&[], &snapshot_bytes).status, 401);
    assert_eq!(http::get(admin, "/commands/restore").status, 405);
    let auth = [("Authorization", "digest admin:secret")];
    let bad = post(&auth, b"not a snapshot");
    assert_eq!(bad.status, 500, "{}", bad.text());
    let done = post(&auth, &snapshot_bytes);
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(json_of(&done)["command"], "restore");
    assert_eq!(format!("0x{:x}", json_of(&done)["last_zxid"].as_i64().expect("last_zxid")), zxid);
    let check = |addr: String| async move {
        let c = admin_client(&addr).await;
        assert!(c.exists("/after", false).await.expect("exists").is_none(), "/after survived the restore");
        assert_eq!(&c.get_data("/keep", false).await.expect("get").0[..], b"v1");
        c.create("/new", b"", &open_acl_unsafe(), CreateMode::Persistent)
            .await
            .expect("create after restore");
    };
    rt.block_on(check(client_addr.clone()));

    // The restore is durable: a restart loads it (and the write made after it).
    rt.block_on(server.shutdown()).expect("shutdown");
    let server = rt.block_on(rzk_server::start(settings)).expect("restart rzk");
    rt.block_on(async {
        let c = admin_client(&server.local_addr.to_string()).await;
        assert!(c.exists("/after", false).await.expect("exists").is_none());
        assert_eq!(&c.get_data("/keep", false).await.expect("get").0[..], b"v1");
        assert!(c.exists("/new", false).await.expect("exists").is_some());
    });
    rt.block_on(server.shutdown()).expect("shutdown");
}

#[test]
fn snapshots_are_rate_limited() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = rt.block_on(rzk_server::start(admin_settings(dir.path()))).expect("start rzk");
    let admin = server.admin_addr.expect("admin");
    // The default root ACL (world:anyone, ALL) admits the `ip` scheme.
    let auth = [("Authorization", "ip")];
    let first = http::request(admin, "GET", "/commands/snap?streaming=false", &auth, &[]);
    assert_eq!(first.status, 200, "{}", first.text());
    let second = http::request(admin, "GET", "/commands/snapshot?streaming=false", &auth, &[]);
    assert_eq!(second.status, 429, "{}", second.text());
    assert_eq!(json_of(&second)["error"], Value::Null);
    rt.block_on(server.shutdown()).expect("shutdown");
}
