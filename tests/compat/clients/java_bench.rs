//! `scripts/java-bench/ZkJavaBench.java`, the load generator on Apache's Java client that
//! `scripts/compare-zookeeper.sh --client java` runs, against an rzk server: compiled with javac
//! as the script does, run for about two seconds of `create` and of `mixed`, its JSON line parsed
//! (ops > 0, no error), and what it claims checked on the server with a client of our own: every
//! node the creates made is there, numbered without a gap per session, with the value written;
//! the mixed run's keys exist and carry its setData versions. A run whose requests fail (the test
//! deletes the keys under a running `get`) must count the errors and exit non-zero.
//!
//! Needs java, javac and Debian's zookeeper.jar; without them the tests print SKIP (they fail
//! instead with `RZK_REQUIRE_CLIENTS=1`).

#[path = "common.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rzk_client::Client;
use rzk_testkit::refzk::{JAVA, JVM_DEFAULT_FLAGS, ZOOKEEPER_JAR};
use rzk_testkit::{RefZk, RzkServer};
use serde_json::Value;

const JAVAC: &str = "javac";
/// Sessions and requests in flight of the test runs (small: the machine may be busy).
const SESSIONS: u64 = 2;
const OUTSTANDING: &str = "4";
const VALUE_BYTES: usize = 100;

fn missing() -> Option<String> {
    if let Some(why) = RefZk::missing() {
        return Some(format!("Java client: {why}"));
    }
    if !common::runs(JAVAC, &["-version"]) {
        return Some(format!("{JAVAC} not found (a JDK, e.g. openjdk-17-jdk-headless)"));
    }
    None
}

fn source() -> PathBuf {
    common::workspace_root().join("scripts/java-bench/ZkJavaBench.java")
}

/// ZkJavaBench compiled into `out` (javac warnings are errors, except the manifest's
/// Class-Path naming jars Debian does not install).
fn compile(out: &Path) {
    let mut cmd = Command::new(JAVAC);
    cmd.args(["-Xlint:all,-path", "-Werror", "-d"]).arg(out).args(["-cp", ZOOKEEPER_JAR]).arg(source());
    let o = common::run_to_end("javac ZkJavaBench.java", cmd);
    assert!(o.status.success(), "javac failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
}

/// The Netty 4 jars (Debian's libnetty-java, a dependency of zookeeper) that
/// `ClientCnxnSocketNetty` loads; compare-zookeeper.sh adds the same for `--java-socket netty`.
const NETTY_JARS: [&str; 8] = [
    "buffer",
    "codec",
    "common",
    "handler",
    "resolver",
    "transport",
    "transport-native-epoll",
    "transport-native-unix-common",
];

fn bench_command(classes: &Path, args: &[&str], netty: bool) -> Command {
    let mut classpath = format!("{}:{ZOOKEEPER_JAR}", classes.display());
    if netty {
        for j in NETTY_JARS {
            classpath.push_str(&format!(":/usr/share/java/netty-{j}.jar"));
        }
    }
    let mut cmd = Command::new(JAVA);
    cmd.args(JVM_DEFAULT_FLAGS).arg("-cp").arg(classpath).arg("ZkJavaBench").args(args);
    cmd
}

/// The one JSON line of a run's stdout.
fn json_line(what: &str, o: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one JSON line ({}), got {stdout:?}; stderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{what}: {e}: {:?}", lines[0]))
}

fn num(v: &Value, field: &str) -> f64 {
    v[field].as_f64().unwrap_or_else(|| panic!("{field} is not a number: {v}"))
}

/// A clean run's report: the settings echoed, ops measured, no error, sane percentiles.
fn assert_clean(what: &str, o: &Output, v: &Value, workload: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{what}: exit {}: {v}\n{stderr}", o.status);
    assert_eq!(
        (v["tool"].as_str(), v["client"].as_str(), v["workload"].as_str(), v["label"].as_str()),
        (Some("zk-java-bench"), Some("java"), Some(workload), Some("t")),
        "{v}"
    );
    assert_eq!((num(v, "sessions"), num(v, "value_bytes")), (SESSIONS as f64, VALUE_BYTES as f64), "{v}");
    assert!(num(v, "ops") > 0.0, "{what}: {v}");
    assert_eq!((num(v, "errors"), num(v, "errors_unmeasured")), (0.0, 0.0), "{what}: {v}");
    assert!(v["first_error"].is_null(), "{v}");
    assert!((1.9..4.0).contains(&num(v, "duration_s")), "{what}: {v}");
    let rate = num(v, "ops") / num(v, "duration_s");
    assert!((num(v, "ops_per_s") - rate).abs() <= rate * 0.01 + 0.1, "{v}");
    let l = &v["latency_us"];
    assert!(
        1.0 <= num(l, "min")
            && num(l, "min") <= num(l, "p50")
            && num(l, "p50") <= num(l, "p99")
            && num(l, "p99") <= num(l, "p999")
            && num(l, "p999") <= num(l, "max"),
        "{v}"
    );
    assert!(num(v, "server_cpu_s") >= 0.0 && num(v, "server_rss_kb") > 0.0, "{v}");
    assert!(v["client_version"].as_str().is_some_and(|s| s.starts_with("3.")), "{v}");
}

struct Fixture {
    _dir: tempfile::TempDir,
    classes: PathBuf,
    server: RzkServer,
}

impl Fixture {
    fn start(test: &str) -> Option<Fixture> {
        if !common::client_available(test, missing()) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let classes = dir.path().join("classes");
        compile(&classes);
        let server = RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &[], &[]).expect("rzk starts");
        Some(Fixture { _dir: dir, classes, server })
    }

    /// Runs `workload` with the test's small settings under `prefix` plus `extra` arguments.
    fn run(&self, workload: &str, prefix: &str, extra: &[&str]) -> Output {
        self.run_over(workload, prefix, extra, false)
    }

    /// As `run`; with `netty`, the Netty jars are on the class path (for `--socket netty`).
    fn run_over(&self, workload: &str, prefix: &str, extra: &[&str], netty: bool) -> Output {
        let addr = self.server.addr();
        let pid = self.server.process().and_then(|p| p.pid()).expect("server pid").to_string();
        let sessions = SESSIONS.to_string();
        let value_bytes = VALUE_BYTES.to_string();
        let mut args = vec![
            "--server",
            &addr,
            "--server-pid",
            &pid,
            "--sessions",
            &sessions,
            "--outstanding",
            OUTSTANDING,
            "--value-bytes",
            &value_bytes,
            "--prefix",
            prefix,
            "--label",
            "t",
            "--json",
        ];
        args.extend_from_slice(extra);
        args.push(workload);
        common::run_to_end(&format!("ZkJavaBench {workload}"), bench_command(&self.classes, &args, netty))
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

async fn connect(addr: &str) -> Client {
    Client::connect(addr, Duration::from_secs(30)).await.expect("rzk_client connects")
}

/// The bench's value: 'a'..'z' repeated.
fn value() -> Vec<u8> {
    (0..VALUE_BYTES).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The run's parent, as the JSON line names it, and as the only child of `prefix` on the server.
async fn parent_of(c: &Client, prefix: &str, v: &Value) -> String {
    let parent = v["parent"].as_str().unwrap_or_else(|| panic!("no parent: {v}")).to_owned();
    let runs = c.get_children(prefix, false).await.expect("children of the prefix");
    assert_eq!(runs.len(), 1, "{prefix}: {runs:?}");
    assert_eq!(parent, format!("{prefix}/{}", runs[0]), "{v}");
    parent
}

#[test]
fn java_bench_create_and_mixed_against_rzk() {
    let Some(f) = Fixture::start("java_bench_create_and_mixed_against_rzk") else { return };
    let duration = ["--duration", "2", "--warmup", "0.5"];

    // Bad arguments: exit 2, nothing on stdout.
    let o = f.run("watch", "/jbench-bad", &[]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(o.stdout.is_empty(), "{o:?}");

    let o = f.run("create", "/jbench-create", &duration);
    let create = json_line("create", &o);
    assert_clean("create", &o, &create, "create");
    assert!(create["keys"].is_null() && create["read_percent"].is_null(), "{create}");
    assert_eq!(
        create["client_socket"].as_str(),
        Some("ClientCnxnSocketNIO"),
        "the client's default: {create}"
    );

    let o =
        f.run("mixed", "/jbench-mixed", &[&duration[..], &["--keys", "20", "--read-percent", "90"]].concat());
    let mixed = json_line("mixed", &o);
    assert_clean("mixed", &o, &mixed, "mixed");
    assert_eq!((num(&mixed, "keys"), num(&mixed, "read_percent")), (20.0, 90.0), "{mixed}");

    rt().block_on(async {
        let c = connect(&f.server.addr()).await;

        // create: s<session>-w0-<n>, n = 1.. without a gap per session (every create
        // succeeded), at least as many as the measured ops, each holding the value.
        let parent = parent_of(&c, "/jbench-create", &create).await;
        let names = c.get_children(&parent, false).await.expect("children");
        let mut per_session: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for n in &names {
            let parsed = n
                .strip_prefix('s')
                .and_then(|r| r.split_once("-w0-"))
                .and_then(|(s, seq)| Some((s.parse::<u64>().ok()?, seq.parse::<u64>().ok()?)));
            let (s, seq) = parsed.unwrap_or_else(|| panic!("unexpected node {parent}/{n}"));
            assert!(s < SESSIONS, "{n}");
            per_session.entry(s).or_default().push(seq);
        }
        assert_eq!(per_session.len() as u64, SESSIONS, "every session created: {per_session:?}");
        for (s, seqs) in &mut per_session {
            seqs.sort_unstable();
            let want: Vec<u64> = (1..=seqs.len() as u64).collect();
            assert!(*seqs == want, "session {s}: creates with gaps: {seqs:?}");
        }
        assert!(names.len() as f64 >= num(&create, "ops"), "{} nodes, {create}", names.len());
        for s in 0..SESSIONS {
            let (data, stat) = c.get_data(&format!("{parent}/s{s}-w0-1"), false).await.expect("first node");
            assert_eq!((data.as_ref(), stat.version), (value().as_slice(), 0));
        }

        // mixed: exactly the 20 keys, each holding the value; the setData share (10 %) shows in
        // their versions.
        let parent = parent_of(&c, "/jbench-mixed", &mixed).await;
        let mut keys = c.get_children(&parent, false).await.expect("children");
        keys.sort();
        let want: Vec<String> = (0..20).map(|i| format!("n{i:010}")).collect();
        assert_eq!(keys, want);
        let mut sets = 0i64;
        for k in &keys {
            let (data, stat) = c.get_data(&format!("{parent}/{k}"), false).await.expect("key");
            assert_eq!(data.as_ref(), value().as_slice(), "{k}");
            sets += i64::from(stat.version);
        }
        let ops = num(&mixed, "ops");
        assert!(sets > 0, "no setData reached the server: {mixed}");
        // At least half the expected 10 % of the measured ops (warm-up and drain add more).
        if ops >= 1000.0 {
            assert!(sets as f64 >= ops * 0.05, "{sets} sets for {ops} mixed ops: {mixed}");
        }
        let _ = c.close().await;
    });
}

#[test]
fn java_bench_counts_error_replies_and_fails() {
    let Some(f) = Fixture::start("java_bench_counts_error_replies_and_fails") else { return };
    let prefix = "/jbench-errors";
    let o = std::thread::scope(|scope| {
        // getData over 5 keys for 0.5 + 3 s; the keys are deleted as soon as they all exist.
        let run =
            scope.spawn(|| f.run("get", prefix, &["--keys", "5", "--duration", "3", "--warmup", "0.5"]));
        rt().block_on(async {
            let c = connect(&f.server.addr()).await;
            let deadline = tokio::time::Instant::now() + common::PROCESS_TIMEOUT;
            let keys = loop {
                assert!(tokio::time::Instant::now() < deadline, "the bench's keys never appeared");
                let runs = c.get_children(prefix, false).await.unwrap_or_default();
                if let [run] = runs.as_slice() {
                    let parent = format!("{prefix}/{run}");
                    let keys = c.get_children(&parent, false).await.expect("children");
                    if keys.len() == 5 {
                        break keys.into_iter().map(|k| format!("{parent}/{k}")).collect::<Vec<_>>();
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            for k in &keys {
                c.delete(k, -1).await.expect("delete a key");
            }
            let _ = c.close().await;
        });
        run.join().expect("bench thread")
    });
    let v = json_line("get with deleted keys", &o);
    assert_eq!(o.status.code(), Some(1), "errors must fail the run: {v}");
    assert!(num(&v, "errors") + num(&v, "errors_unmeasured") > 0.0, "{v}");
    assert!(v["first_error"].as_str().is_some_and(|e| e.contains("NoNode")), "{v}");
}

/// `--socket netty` (the client's ClientCnxnSocketNetty) in the closed loop, and an open loop
/// (`--rate`) over the default socket: both clean, and the open loop offers what was asked.
#[test]
fn java_bench_over_netty_and_in_an_open_loop() {
    let Some(f) = Fixture::start("java_bench_over_netty_and_in_an_open_loop") else { return };
    let duration = ["--duration", "2", "--warmup", "0.5"];

    let o = f.run_over(
        "set",
        "/jbench-netty",
        &[&duration[..], &["--keys", "20", "--socket", "netty"]].concat(),
        true,
    );
    let set = json_line("set over netty", &o);
    assert_clean("set over netty", &o, &set, "set");
    assert_eq!(set["client_socket"].as_str(), Some("ClientCnxnSocketNetty"), "{set}");
    // Whatever the socket, the sets reached the server: the 20 keys' versions add up to at least
    // the measured ops.
    let sets = rt().block_on(async {
        let c = connect(&f.server.addr()).await;
        let parent = parent_of(&c, "/jbench-netty", &set).await;
        let mut sets = 0.0;
        for i in 0..20 {
            let (_, stat) = c.get_data(&format!("{parent}/n{i:010}"), false).await.expect("key");
            sets += f64::from(stat.version);
        }
        let _ = c.close().await;
        sets
    });
    assert!(sets >= num(&set, "ops"), "{sets} versions for {set}");

    let rate = 200.0;
    let o = f.run("get", "/jbench-open", &[&duration[..], &["--keys", "20", "--rate", "200"]].concat());
    let get = json_line("open-loop get", &o);
    assert_clean("open-loop get", &o, &get, "get");
    assert_eq!(num(&get, "rate_ops_per_s"), rate, "{get}");
    // The schedule is kept (a server this idle answers in time): within 10 % of the offered rate.
    assert!((num(&get, "ops_per_s") - rate).abs() <= rate * 0.1, "{get}");
    assert!(num(&get["send_lag_us"], "p50") >= 0.0, "{get}");
}
