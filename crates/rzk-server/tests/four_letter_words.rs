//! rzk's four-letter words against the reference ZooKeeper 3.8 (Debian's package): the same
//! client operations on both servers, then every word's output compared after normalising what
//! legitimately differs (times, session ids, ports, the version text, sizes, JVM facts). What is
//! deterministic (counters, zxids, counts, key order, line shapes) must match exactly.
//!
//! Without the reference installed the test prints SKIP, or fails when RZK_REQUIRE_REFERENCE=1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{Acl, CreateMode, ErrorCode, Jute, Reader, ReplyHeader, Request};
use rzk_proto::{CreateRequest, ExistsRequest, GetChildrenRequest, GetDataRequest, SetDataRequest};
use rzk_server::Settings;
use rzk_testkit::RefZk;

const IO_TIMEOUT: Duration = Duration::from_secs(20);
const FRAME_BYTES_MAX: usize = 1 << 20;
/// Creates after the scenario that take the zxid past 0x80, where the first digest is logged.
const HASH_CREATES: usize = 125;

// ---- a minimal blocking client speaking raw jute ----

struct Client {
    sock: TcpStream,
    xid: i32,
    session: i64,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let mut sock = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
        sock.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: 30_000,
            session_id: 0,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
        };
        let mut body = BytesMut::new();
        req.encode(&mut body);
        write_frame(&mut sock, &body);
        let resp = ConnectResponse::decode(&mut Reader::new(read_frame(&mut sock), FRAME_BYTES_MAX))
            .expect("connect response");
        assert!(resp.time_out > 0, "session refused by {addr}");
        Client { sock, xid: 0, session: resp.session_id }
    }

    /// Sends a request and returns its reply's error code (watch events on the way are skipped).
    fn call(&mut self, req: Request) -> i32 {
        self.xid += 1;
        let mut body = BytesMut::new();
        req.encode_with_header(self.xid, &mut body);
        write_frame(&mut self.sock, &body);
        loop {
            let h = ReplyHeader::decode(&mut Reader::new(read_frame(&mut self.sock), FRAME_BYTES_MAX))
                .expect("reply header");
            if h.xid == self.xid {
                return h.err;
            }
        }
    }

    /// Blocks until a watch event arrives.
    fn wait_event(&mut self) {
        loop {
            let h = ReplyHeader::decode(&mut Reader::new(read_frame(&mut self.sock), FRAME_BYTES_MAX))
                .expect("event header");
            if h.xid == -1 {
                return;
            }
        }
    }

    fn create(&mut self, path: &str, data: &[u8], mode: CreateMode) -> i32 {
        let req = CreateRequest {
            path: path.to_owned(),
            data: Some(Bytes::copy_from_slice(data)),
            acl: vec![Acl::new(31, "world", "anyone")],
            flags: mode.flag(),
        };
        self.call(Request::Create { op: rzk_proto::codes::op::CREATE, req })
    }

    fn get_data(&mut self, path: &str) -> i32 {
        self.call(Request::GetData(GetDataRequest { path: path.to_owned(), watch: true }))
    }

    fn exists(&mut self, path: &str) -> i32 {
        self.call(Request::Exists(ExistsRequest { path: path.to_owned(), watch: true }))
    }

    fn get_children(&mut self, path: &str) -> i32 {
        self.call(Request::GetChildren(GetChildrenRequest { path: path.to_owned(), watch: true }))
    }

    fn set_data(&mut self, path: &str, data: &[u8]) -> i32 {
        let data = Some(Bytes::copy_from_slice(data));
        self.call(Request::SetData(SetDataRequest { path: path.to_owned(), data, version: -1 }))
    }
}

fn write_frame(sock: &mut TcpStream, body: &[u8]) {
    let mut b = BytesMut::with_capacity(body.len() + 4);
    b.put_i32(body.len() as i32);
    b.extend_from_slice(body);
    sock.write_all(&b).expect("write");
}

fn read_frame(sock: &mut TcpStream) -> Bytes {
    let mut len = [0u8; 4];
    sock.read_exact(&mut len).expect("read length");
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    sock.read_exact(&mut body).expect("read frame");
    Bytes::from(body)
}

/// Sends a four-letter word (with `stmk`'s mask) and returns the whole answer.
fn word(addr: SocketAddr, w: &str, mask: Option<i64>) -> String {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    s.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    let mut out = w.as_bytes().to_vec();
    if let Some(m) = mask {
        out.extend_from_slice(&m.to_be_bytes());
    }
    s.write_all(&out).expect("send word");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read answer");
    text
}

// ---- the scenario ----

/// What one server answered, word by word, and the session ids of its clients.
struct Answers {
    server: &'static str,
    words: Vec<(&'static str, String)>,
    /// Clients A, B and C, labelled S1, S2, S3 in normalised answers.
    sessions: [i64; 3],
    /// How many words each settling poll asked (see [`settle`]).
    settles: Vec<usize>,
}

impl Answers {
    fn get(&self, w: &str) -> &str {
        self.words.iter().find(|(k, _)| *k == w).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {w}"))
    }
}

/// The `Sent:` count in a `srvr` answer.
fn sent_count(srvr: &str) -> i64 {
    let line = srvr.lines().find_map(|l| l.strip_prefix("Sent: "));
    line.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no Sent: line in {srvr:?}"))
}

/// Most words one settling poll asks before it gives up.
const SETTLE_ASKS_MAX: usize = 50;

/// Whether no client connection in a `cons` answer still has a request queued.
fn nothing_queued(cons: &str) -> bool {
    !cons.lines().any(|l| l.contains("(queued=") && !l.contains("(queued=0,"))
}

/// Asks `w` (answers labelled "settle", never compared) until `done(previous answer, answer)`.
/// With `times` (the reference's count for this poll) it asks exactly that many instead, so that
/// both servers see the same words and their counters stay comparable.
fn poll(
    addr: SocketAddr,
    words: &mut Vec<(&'static str, String)>,
    w: &str,
    times: Option<usize>,
    done: impl Fn(Option<&str>, &str) -> bool,
) -> usize {
    let mut previous: Option<String> = None;
    for asked in 1..=times.unwrap_or(SETTLE_ASKS_MAX) {
        let text = word(addr, w, None);
        let finished = done(previous.as_deref(), &text);
        words.push(("settle", text.clone()));
        if times.is_none() && finished {
            return asked;
        }
        previous = Some(text);
    }
    times.unwrap_or_else(|| panic!("{addr}: {w} still moving after {SETTLE_ASKS_MAX} asks"))
}

/// Waits until the server's counters have caught up with what the client has read. ZooKeeper
/// hands a reply to its connection's queue and only then decrements the connection's queued
/// count (FinalRequestProcessor's thread), and counts a reply or event as sent only after a
/// worker thread has written it; a client that has read its last reply can ask a word before
/// either lands, and the reference then answers one short now and then. So: `cons` until no
/// connection has anything queued, then `srvr` until one answer's `Sent:` is exactly the previous
/// one's plus one (the previous answer's own packet: a word's answer is counted before its
/// connection closes), which shows nothing else was still landing. Each poll's count goes to
/// `counts`; `replay` holds the reference's counts when this is rzk's run.
fn settle(
    addr: SocketAddr,
    words: &mut Vec<(&'static str, String)>,
    counts: &mut Vec<usize>,
    replay: Option<&[usize]>,
) {
    let times = replay.map(|r| r[counts.len()]);
    counts.push(poll(addr, words, "cons", times, |_, cons| nothing_queued(cons)));
    let times = replay.map(|r| r[counts.len()]);
    let one_more =
        |previous: Option<&str>, srvr: &str| previous.is_some_and(|p| sent_count(p) + 1 == sent_count(srvr));
    counts.push(poll(addr, words, "srvr", times, one_more));
}

/// Runs the scenario on one server. `replay` holds the reference's settling counts when this is
/// rzk's run.
fn exercise(server: &'static str, addr: SocketAddr, replay: Option<&[usize]>) -> Answers {
    let mut words = Vec::new();
    let mut settles = Vec::new();
    let ask = |words: &mut Vec<_>, label: &'static str, w: &str, mask: Option<i64>| {
        words.push((label, word(addr, w, mask)))
    };
    ask(&mut words, "srst", "srst", None);

    let (mut a, mut b) = (Client::connect(addr), Client::connect(addr));
    let ok = ErrorCode::Ok.code();
    assert_eq!(a.create("/a", b"hello", CreateMode::Persistent), ok);
    assert_eq!(a.create("/a/e1", b"x", CreateMode::Ephemeral), ok);
    assert_eq!(a.create("/a/e2", b"", CreateMode::Ephemeral), ok);
    assert_eq!(b.create("/b", b"12", CreateMode::Persistent), ok);
    assert_eq!(b.create("/be", b"", CreateMode::Ephemeral), ok);
    assert_eq!(a.get_data("/a"), ok);
    assert_eq!(a.exists("/nope"), ErrorCode::NoNode.code());
    assert_eq!(a.get_children("/"), ok);
    // Watched paths whose Java HashMap order is not their sorted order (/a/e2 before /a/e1).
    assert_eq!(a.exists("/a/e1"), ok);
    assert_eq!(a.exists("/a/e2"), ok);
    assert_eq!(b.get_data("/a"), ok);
    assert_eq!(b.get_children("/a"), ok);
    assert_eq!(b.get_data("/b"), ok);
    // A quota on /a, as zkCli's setquota makes it: the server fills in the stats node
    // (mntr's quota gauge sets report both).
    assert_eq!(a.create("/zookeeper/quota/a", b"", CreateMode::Persistent), ok);
    assert_eq!(
        a.create("/zookeeper/quota/a/zookeeper_limits", b"count=10,bytes=-1", CreateMode::Persistent),
        ok
    );
    assert_eq!(
        a.create("/zookeeper/quota/a/zookeeper_stats", b"count=0,bytes=0", CreateMode::Persistent),
        ok
    );
    // Fires B's data watch on /b; B reads the event so both servers have sent it.
    assert_eq!(a.set_data("/b", b"34"), ok);
    b.wait_event();
    // A client that only connected: its createSession shows in cons as lop=SESS, lcxid=0x0.
    let c = Client::connect(addr);

    settle(addr, &mut words, &mut settles, replay);
    for w in ["srvr", "stat", "cons", "wchs", "wchc", "wchp", "dump", "conf", "dirs", "envi", "mntr"] {
        ask(&mut words, w, w, None);
    }
    for w in ["isro", "ruok", "gtmk"] {
        ask(&mut words, w, w, None);
    }
    ask(&mut words, "stmk 511", "stmk", Some(511));
    ask(&mut words, "gtmk after stmk", "gtmk", None);
    ask(&mut words, "stmk 306", "stmk", Some(306));

    for i in 0..HASH_CREATES {
        assert_eq!(a.create(&format!("/h{i}"), b"", CreateMode::Persistent), ok);
    }
    settle(addr, &mut words, &mut settles, replay);
    ask(&mut words, "hash", "hash", None);
    ask(&mut words, "crst", "crst", None);
    ask(&mut words, "cons after crst", "cons", None);
    ask(&mut words, "srvr at the end", "srvr", None);
    Answers { server, words, sessions: [a.session, b.session, c.session], settles }
}

// ---- normalisation ----

/// Replaces each client's session id by S1, S2, S3 (whole `0x…` tokens only).
fn label_sessions(text: &str, sessions: &[i64; 3]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        let hex_len = rest[i + 2..].chars().take_while(|c| c.is_ascii_hexdigit()).count();
        let token = &rest[i..i + 2 + hex_len];
        let id = i64::from_str_radix(&token[2..], 16)
            .ok()
            .or_else(|| u64::from_str_radix(&token[2..], 16).ok().map(|v| v as i64));
        match sessions.iter().position(|s| Some(*s) == id && hex_len > 0) {
            Some(k) => out.push_str(&format!("S{}", k + 1)),
            None => out.push_str(token),
        }
        rest = &rest[i + 2 + hex_len..];
    }
    out.push_str(rest);
    out
}

/// Replaces the digits after `key` (up to the next non-digit) by `#`.
fn blank_number(text: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let n = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        out.push('#');
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

fn normalise(text: &str, sessions: &[i64; 3]) -> String {
    let mut t = label_sessions(text, sessions);
    for key in ["127.0.0.1:", "est=", "lresp=", "llat=", "minlat=", "avglat=", "maxlat="] {
        t = blank_number(&t, key);
    }
    t
}

fn is_java_number(v: &str) -> bool {
    v.parse::<i64>().is_ok()
        || (v.contains('.') && v.replace("E-", "").replace('E', "").parse::<f64>().is_ok())
}

fn fail(what: &str, r: &Answers, z: &Answers, detail: &str) -> ! {
    panic!("{what}: {detail}\n--- {} ---\n{}\n--- {} ---\n{}", r.server, r.get(what), z.server, z.get(what))
}

// ---- comparisons ----

fn exact(w: &str, r: &Answers, z: &Answers) {
    if r.get(w) != z.get(w) {
        fail(w, r, z, "answers differ");
    }
}

/// `srvr` lines: the version and latency values differ; everything else must match.
fn server_stats_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            if let Some(v) = l.strip_prefix("Zookeeper version: ") {
                assert!(v.starts_with("3.8.0-") && v.contains(", built on "), "version line {l:?}");
                "Zookeeper version: *".to_owned()
            } else if let Some(v) = l.strip_prefix("Latency min/avg/max: ") {
                let parts: Vec<&str> = v.split('/').collect();
                assert!(parts.len() == 3 && parts.iter().all(|p| is_java_number(p)), "latency line {l:?}");
                "Latency min/avg/max: #".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect()
}

fn server_stats(w: &str, r: &Answers, z: &Answers) {
    let (a, b) = (server_stats_lines(r.get(w)), server_stats_lines(z.get(w)));
    if a != b {
        fail(w, r, z, &format!("normalised lines differ:\n{a:#?}\n{b:#?}"));
    }
}

/// Packets ZooKeeper counts as sent for an answer: one per 8 KiB its writer hands over.
fn answer_packets(text: &str) -> i64 {
    text.len().div_ceil(8192) as i64
}

/// The last `srvr`: as [`server_stats`], except that `Sent:` may differ by exactly the packets
/// the two servers' answers took (the reference's `mntr`, for one, is longer: it has
/// per-namespace metrics).
fn final_server_stats(r: &Answers, z: &Answers) {
    const W: &str = "srvr at the end";
    let packets = |a: &Answers| -> i64 {
        let after_reset = a.words.iter().skip_while(|(k, _)| *k != "srst").skip(1);
        after_reset.take_while(|(k, _)| *k != W).map(|(_, t)| answer_packets(t)).sum()
    };
    let sent = |a: &Answers| sent_count(a.get(W));
    let expected = sent(r) - packets(r) + packets(z);
    if sent(z) != expected {
        fail(W, r, z, &format!("Sent: {} expected {expected} (after answer packets)", sent(z)));
    }
    let without_sent = |a: &Answers| -> Vec<String> {
        server_stats_lines(a.get(W)).into_iter().filter(|l| !l.starts_with("Sent: ")).collect()
    };
    if without_sent(r) != without_sent(z) {
        fail(W, r, z, "normalised lines differ");
    }
}

/// `stat`: the client list as a sorted set, then the `srvr` part.
fn stat(r: &Answers, z: &Answers) {
    let split = |a: &Answers| {
        let text = a.get("stat");
        let (head, rest) = text.split_once("Clients:\n").unwrap_or_else(|| fail("stat", r, z, "no Clients:"));
        let (clients, tail) = rest.split_once("\n\n").unwrap_or_else(|| fail("stat", r, z, "no blank line"));
        let mut clients: Vec<String> = clients.lines().map(|l| normalise(l, &a.sessions)).collect();
        clients.sort();
        (clients, server_stats_lines(&format!("{head}{tail}")))
    };
    if split(r) != split(z) {
        fail("stat", r, z, &format!("normalised answers differ: {:#?} {:#?}", split(r), split(z)));
    }
}

/// `cons`: one full line per connection (any order), then an empty line.
fn cons(w: &str, r: &Answers, z: &Answers) {
    let lines = |a: &Answers| {
        let text = a.get(w);
        assert!(text.ends_with(")\n\n"), "{w} of {}: {text:?}", a.server);
        let mut v: Vec<String> =
            text.lines().filter(|l| !l.is_empty()).map(|l| normalise(l, &a.sessions)).collect();
        v.sort();
        v
    };
    if lines(r) != lines(z) {
        fail(w, r, z, &format!("normalised lines differ:\n{:#?}\n{:#?}", lines(r), lines(z)));
    }
}

/// Blocks of a header line and its tab-indented members, keyed by the (normalised) header.
fn blocks(text: &str, sessions: &[i64; 3]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in normalise(text, sessions).lines().filter(|l| !l.is_empty()) {
        match (line.strip_prefix('\t'), out.last_mut()) {
            (Some(member), Some(block)) => block.1.push(member.to_owned()),
            _ => out.push((line.to_owned(), Vec::new())),
        }
    }
    out
}

/// `wchc`: per session, its paths in Java's HashSet order; sessions in any order.
fn wchc(r: &Answers, z: &Answers) {
    let norm = |a: &Answers| {
        let text = a.get("wchc");
        assert!(text.ends_with("\n\n"), "wchc of {}: {text:?}", a.server);
        let mut b = blocks(text, &a.sessions);
        b.sort();
        b
    };
    if norm(r) != norm(z) {
        fail("wchc", r, z, "normalised blocks differ");
    }
}

/// `wchp`: paths in Java's HashMap order; each path's sessions in any order.
fn wchp(r: &Answers, z: &Answers) {
    let norm = |a: &Answers| {
        let text = a.get("wchp");
        assert!(text.ends_with("\n\n"), "wchp of {}: {text:?}", a.server);
        let mut b = blocks(text, &a.sessions);
        b.iter_mut().for_each(|(_, m)| m.sort());
        b
    };
    if norm(r) != norm(z) {
        fail("wchp", r, z, "normalised blocks differ");
    }
}

/// `dump`: the three sections. Expiry buckets depend on timing, so only their members (as a
/// set) and member counts are compared; the ephemeral listing compares exactly per session.
fn dump(r: &Answers, z: &Answers) {
    let norm = |a: &Answers| {
        let mut out: Vec<String> = Vec::new();
        let mut members: Vec<String> = Vec::new();
        let text = normalise(a.get("dump"), &a.sessions);
        let mut ephemerals = String::new();
        let mut section = "";
        for line in text.lines() {
            if line.ends_with(" dump:") {
                members.sort();
                out.append(&mut members);
                section = line;
                out.push(line.to_owned());
                continue;
            }
            if section == "ephemeral nodes dump:" {
                ephemerals.push_str(line);
                ephemerals.push('\n');
            } else if let Some(sets) = line.strip_suffix("):").and_then(|l| l.split_once(")/(")) {
                assert!(sets.0.starts_with("Session Sets (") || sets.0.starts_with("Connections Sets ("));
                out.push(format!("Sets (#)/({}):", sets.1));
            } else if let Some((count, date)) = line.split_once(" expire at ") {
                // `Date.toString`: "Sun Nov 22 18:21:56 UTC 2026".
                let fields = date.trim_end_matches(':').split(' ').count();
                assert!(count.parse::<u32>().is_ok() && fields == 6, "expiry line {line:?} of {}", a.server);
            } else {
                members.push(line.to_owned());
            }
        }
        members.sort();
        out.append(&mut members);
        let mut eph = blocks(&ephemerals, &a.sessions);
        eph.sort();
        (out, eph)
    };
    if norm(r) != norm(z) {
        fail("dump", r, z, &format!("normalised dumps differ:\n{:#?}\n{:#?}", norm(r), norm(z)));
    }
}

fn key_values(text: &str, sep: char) -> Vec<(String, String)> {
    text.lines().filter_map(|l| l.split_once(sep)).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// `conf`: the same keys in order; settings equal; paths and sizes of the right shape.
fn conf(r: &Answers, z: &Answers, ports: (u16, u16)) {
    let (a, b) = (key_values(r.get("conf"), '='), key_values(z.get("conf"), '='));
    let keys = |kv: &[(String, String)]| kv.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    if keys(&a) != keys(&b) {
        fail("conf", r, z, "keys differ");
    }
    for ((k, v1), (_, v2)) in a.iter().zip(&b) {
        match k.as_str() {
            "clientPort" => assert_eq!((v1.parse().ok(), v2.parse().ok()), (Some(ports.0), Some(ports.1))),
            "dataDir" | "dataLogDir" => {
                assert!(v1.starts_with('/') && v1.ends_with("/version-2"), "{k}={v1}");
                assert!(v2.starts_with('/') && v2.ends_with("/version-2"), "{k}={v2}");
            }
            "dataDirSize" | "dataLogSize" => {
                assert!(v1.parse::<u64>().is_ok() && v2.parse::<u64>().is_ok(), "{k}: {v1} {v2}")
            }
            _ => assert_eq!(v1, v2, "conf {k}"),
        }
    }
}

fn dirs(r: &Answers, z: &Answers) {
    for a in [r, z] {
        let kv = key_values(a.get("dirs"), ':');
        let keys: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["datadir_size", "logdir_size"], "dirs of {}", a.server);
        assert!(kv.iter().all(|(_, v)| v.trim().parse::<u64>().is_ok()), "dirs of {}", a.server);
    }
}

fn envi(r: &Answers, z: &Answers) {
    let keys = |a: &Answers| -> Vec<String> {
        let text = a.get("envi");
        assert!(text.starts_with("Environment:\n"), "envi of {}", a.server);
        let kv = key_values(text, '=');
        for (k, v) in &kv {
            assert!(!v.is_empty(), "envi {k} of {} is empty", a.server);
        }
        kv.into_iter().map(|(k, _)| k).collect()
    };
    if keys(r) != keys(z) {
        fail("envi", r, z, "keys differ");
    }
}

/// Metrics whose values are deterministic for the scenario and must be equal.
const MNTR_EXACT: [&str; 26] = [
    "server_state",
    "ephemerals_count",
    "num_alive_connections",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_client_response_size",
    "connection_drop_probability",
    "watch_count",
    "auth_failed_count",
    "approximate_data_size",
    "local_sessions",
    "outstanding_tls_handshake",
    "min_client_response_size",
    "connection_request_count",
    "response_bytes",
    "bytes_received_count",
    "cnt_readlatency",
    "cnt_updatelatency",
    "cnt_propagation_latency",
    "cnt_fsynctime",
    "cnt_sync_processor_batch_size",
];

fn mntr(r: &Answers, z: &Answers) {
    let parse = |a: &Answers| -> Vec<(String, String)> {
        let text = a.get("mntr");
        text.lines()
            .map(|l| {
                let (k, v) = l.split_once('\t').unwrap_or_else(|| panic!("mntr line {l:?} of {}", a.server));
                let k = k.strip_prefix("zk_").unwrap_or_else(|| panic!("mntr key {k:?}"));
                (k.to_owned(), v.to_owned())
            })
            // Per-namespace summaries appear in ZooKeeper with traffic; rzk does not keep them.
            .filter(|(k, _)| !k.ends_with("_per_namespace") || k.contains("_quota_"))
            .collect()
    };
    let (a, b) = (parse(r), parse(z));
    let keys = |kv: &[(String, String)]| kv.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    if keys(&a) != keys(&b) {
        fail("mntr", r, z, &format!("keys differ:\n{:?}\n{:?}", keys(&a), keys(&b)));
    }
    assert!(keys(&a).iter().any(|k| k == "a_quota_count_limit_per_namespace"), "quota metrics missing");
    let exact: BTreeMap<&str, ()> = MNTR_EXACT.iter().map(|k| (*k, ())).collect();
    for ((k, v1), (_, v2)) in a.iter().zip(&b) {
        if exact.contains_key(k.as_str()) || k.contains("_quota_") {
            assert_eq!(v1, v2, "mntr zk_{k}");
        } else if k == "version" {
            assert!(v1.starts_with("3.8.0-") && v2.starts_with("3.8.0-"), "zk_version");
        } else {
            assert!(is_java_number(v1) && is_java_number(v2), "zk_{k}: {v1:?} / {v2:?}");
            // Integers stay integers, doubles doubles.
            assert_eq!(v1.contains('.'), v2.contains('.'), "zk_{k}: {v1:?} / {v2:?}");
        }
    }
}

/// `hash`: the same zxids; digests are numbers (they cover node times, which differ).
fn hash(r: &Answers, z: &Answers) {
    let lines = |a: &Answers| -> Vec<String> {
        a.get("hash")
            .lines()
            .map(|l| {
                let (zxid, digest) = l.split_once(": ").unwrap_or_else(|| panic!("hash line {l:?}"));
                assert!(digest.parse::<i64>().is_ok(), "hash line {l:?} of {}", a.server);
                zxid.to_owned()
            })
            .collect()
    };
    assert_eq!(lines(r), ["80"], "the reference logs zxid 0x80");
    if lines(r) != lines(z) {
        fail("hash", r, z, "zxids differ");
    }
}

// ---- the test ----

fn reference() -> Option<RefZk> {
    if let Some(why) = RefZk::missing() {
        // RZK_REQUIRE_REFZK is what the testkit's other reference tests use.
        let required = std::env::var("RZK_REQUIRE_REFERENCE").as_deref() == Ok("1")
            || std::env::var_os("RZK_REQUIRE_REFZK").is_some();
        assert!(!required, "reference ZooKeeper required (RZK_REQUIRE_REFERENCE=1) but {why}");
        println!("SKIP four_letter_words: reference Apache ZooKeeper not installed: {why}");
        return None;
    }
    Some(RefZk::start(&[], &[]).expect("start the reference ZooKeeper"))
}

#[test]
fn every_four_letter_word_answers_as_zookeeper_does() {
    let Some(refzk) = reference() else { return };
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = Settings::for_test(dir.path().to_owned(), "127.0.0.1:0".parse().expect("addr"));
    let rzk = rt.block_on(rzk_server::start(settings)).expect("start rzk");
    let ref_addr: SocketAddr = refzk.addr().parse().expect("reference address");

    let r = exercise("reference ZooKeeper", ref_addr, None);
    println!("words asked by each settling poll on the reference: {:?}", r.settles);
    let z = exercise("rzk", rzk.local_addr, Some(&r.settles));

    for w in ["srst", "wchs", "isro", "ruok", "gtmk", "stmk 511", "gtmk after stmk", "stmk 306", "crst"] {
        exact(w, &r, &z);
    }
    server_stats("srvr", &r, &z);
    final_server_stats(&r, &z);
    stat(&r, &z);
    cons("cons", &r, &z);
    cons("cons after crst", &r, &z);
    wchc(&r, &z);
    wchp(&r, &z);
    dump(&r, &z);
    conf(&r, &z, (ref_addr.port(), rzk.local_addr.port()));
    dirs(&r, &z);
    envi(&r, &z);
    mntr(&r, &z);
    hash(&r, &z);

    rt.block_on(rzk.shutdown()).expect("rzk shutdown");
}

#[test]
fn normalisation_keeps_what_must_match() {
    let sessions = [0x0100_0011_4f14_0000, 0x0100_0011_4f14_0001, 7];
    let line = " /127.0.0.1:42074[1](queued=0,recved=7,sent=7,sid=0x10000114f140001,lop=GETC,est=1795371799250,\
                to=30000,lcxid=0x6,lzxid=0x10,lresp=1270782,llat=0,minlat=0,avglat=0,maxlat=2)";
    assert_eq!(
        normalise(line, &sessions),
        " /127.0.0.1:#[1](queued=0,recved=7,sent=7,sid=S2,lop=GETC,est=#,to=30000,lcxid=0x6,lzxid=0x10,\
         lresp=#,llat=#,minlat=#,avglat=#,maxlat=#)"
    );
    assert!(is_java_number("2.1538") && is_java_number("1.0E-4") && is_java_number("-1"));
    assert!(!is_java_number("standalone"));
}
