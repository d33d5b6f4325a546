//! Apache's Java client, through zkCli (`ZooKeeperMain` from Debian's `zookeeper` package), runs
//! a session against the reference ZooKeeper and against rzk; both must show the same output.
//!
//! zkCli reads commands from a pipe (JLine is off when stdin is not a terminal) and runs them one
//! at a time. After each command the driver sends `version`, a local command whose answer marks
//! the end of the previous command's output. Watch events are printed by the client's event
//! thread, in the order the server sent them; they are collected apart from command output.
//!
//! zkCli has no multi command: `java_client_multi` runs `JavaMulti.java` (the same Java client
//! library, launched from source) for that.

#[path = "common.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{ALICE, ALICE_DIGEST, BOB_DIGEST, Interactive, STEP_TIMEOUT, Servers, Target};
use rzk_testkit::RefZk;
use rzk_testkit::refzk::{JAVA, JVM_DEFAULT_FLAGS, ZOOKEEPER_JAR};

/// Debian's zkCli launcher.
const ZKCLI_SH: &str = "/usr/share/zookeeper/bin/zkCli.sh";
/// The answer to `version`, which ends every command's output.
const MARKER: &str = "ZooKeeper CLI version";

fn missing() -> Option<String> {
    if Path::new(ZKCLI_SH).exists() {
        return None;
    }
    RefZk::missing().map(|why| format!("zkCli: {ZKCLI_SH} missing and {why}"))
}

/// zkCli connected to `addr`: Debian's script when installed, else the jar directly.
fn zkcli_command(addr: &str) -> Command {
    if Path::new(ZKCLI_SH).exists() {
        let mut cmd = Command::new("bash");
        cmd.arg(ZKCLI_SH).args(["-server", addr]).env("CLIENT_JVMFLAGS", JVM_DEFAULT_FLAGS.join(" "));
        cmd
    } else {
        RefZk::zkcli_command(&["-server", addr])
    }
}

/// One zkCli process (one ZooKeeper session).
struct ZkCli {
    label: &'static str,
    p: Interactive,
    /// Every watch event, in arrival order (`state type path`).
    events: Vec<String>,
    /// Events not yet waited for.
    pending: Vec<String>,
}

/// What one line of zkCli output is.
enum Line {
    Marker,
    Event(String),
    Noise,
    Output(String),
}

fn classify(line: &str) -> Line {
    if line.starts_with(MARKER) {
        return Line::Marker;
    }
    if let Some(rest) = line.strip_prefix("WatchedEvent ") {
        // WatchedEvent state:SyncConnected type:NodeCreated path:/a
        let ev =
            rest.split(' ').map(|f| f.split_once(':').map_or(f, |(_, v)| v)).collect::<Vec<_>>().join(" ");
        return Line::Event(ev);
    }
    if line.is_empty() || line == "WATCHER::" || line.starts_with("SLF4J:") {
        return Line::Noise;
    }
    Line::Output(line.to_owned())
}

impl ZkCli {
    fn start(label: &'static str, addr: &str) -> ZkCli {
        let p = Interactive::spawn(&format!("zkCli {label} ({addr})"), zkcli_command(addr));
        let mut c = ZkCli { label, p, events: Vec::new(), pending: Vec::new() };
        // Skip the banner ("Connecting to", "Welcome to ZooKeeper!", ...).
        c.p.send("version");
        c.read_to_marker("the banner");
        c
    }

    /// Runs one command and returns its output lines (events set apart).
    fn raw(&mut self, cmd: &str) -> Vec<String> {
        self.p.send(cmd);
        self.p.send("version");
        self.read_to_marker(&format!("the end of `{cmd}`"))
    }

    /// The output lines up to the next `version` answer (events set apart).
    fn read_to_marker(&mut self, waiting: &str) -> Vec<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut out = Vec::new();
        loop {
            let Some(line) = self.p.next_line(deadline, waiting) else {
                panic!("{}: exited waiting for {waiting}:\n{}", self.p.name(), self.p.seen.join("\n"))
            };
            match classify(&line) {
                Line::Marker => return out,
                Line::Event(e) => self.event(e),
                Line::Noise => {}
                Line::Output(l) => out.push(l),
            }
        }
    }

    fn event(&mut self, e: String) {
        self.events.push(e.clone());
        self.pending.push(e);
    }

    /// Waits for the watch event `want` (`type path`, state SyncConnected).
    fn wait_event(&mut self, want: &str) {
        let want = format!("SyncConnected {want}");
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Some(i) = self.pending.iter().position(|e| *e == want) {
                self.pending.remove(i);
                return;
            }
            let waiting = format!("event `{want}`");
            let Some(line) = self.p.next_line(deadline, &waiting) else {
                panic!("{}: exited waiting for {want}", self.p.name())
            };
            match classify(&line) {
                Line::Event(e) => self.event(e),
                Line::Marker | Line::Noise => {}
                Line::Output(l) => {
                    panic!("{}: unexpected output {l:?} while waiting for {want}", self.p.name())
                }
            }
        }
    }

    /// `quit`, then every event it saw (except the client's own `Closed`, whose printing races
    /// with the exit).
    fn quit(&mut self) -> Vec<String> {
        self.p.send("quit");
        let deadline = Instant::now() + STEP_TIMEOUT;
        while let Some(line) = self.p.next_line(deadline, "the end of output after quit") {
            if let Line::Event(e) = classify(&line) {
                self.event(e);
            }
        }
        let status = self.p.wait_exit();
        assert!(status.success(), "{}: exit status {status}", self.p.name());
        std::mem::take(&mut self.events).into_iter().filter(|e| !e.starts_with("Closed ")).collect()
    }
}

/// Masks what differs between two correct servers: times, zxids, session ids; sorts the lists
/// that `ls`/`getEphemerals` print (ZooKeeper lists children in HashSet order).
fn normalize(out: Vec<String>) -> Vec<String> {
    const MASKED: [&str; 5] = ["cZxid = ", "ctime = ", "mZxid = ", "mtime = ", "pZxid = "];
    out.into_iter()
        .filter(|l| !MASKED.iter().any(|m| l.starts_with(m)))
        .map(|l| {
            if l.starts_with("ephemeralOwner = ") && l != "ephemeralOwner = 0x0" {
                "ephemeralOwner = <session>".to_owned()
            } else if let Some(items) = l.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let mut v: Vec<&str> = items.split(", ").filter(|s| !s.is_empty()).collect();
                v.sort_unstable();
                format!("[{}]", v.join(", "))
            } else {
                l
            }
        })
        .collect()
}

/// The transcript of a session, and the assertions on it.
struct Session {
    target: &'static str,
    t: Vec<String>,
}

impl Session {
    fn run(&mut self, c: &mut ZkCli, cmd: &str) -> Vec<String> {
        let out = normalize(c.raw(cmd));
        self.t.push(format!("{}> {cmd}", c.label));
        self.t.extend(out.iter().map(|l| format!("    {l}")));
        out
    }

    fn expect(&mut self, c: &mut ZkCli, cmd: &str, want: &[&str]) {
        let out = self.run(c, cmd);
        assert_eq!(out, want, "{}: {}> {cmd}; output so far:\n{}", self.target, c.label, c.p.seen.join("\n"));
    }

    fn wait_event(&mut self, c: &mut ZkCli, want: &str) {
        c.wait_event(want);
        self.t.push(format!("{}: event {want}", c.label));
    }

    /// Polls `stat path` until the node is gone.
    fn wait_gone(&mut self, c: &mut ZkCli, path: &str) {
        let gone = format!("Node does not exist: {path}");
        common::poll(&format!("{}: {path} to be deleted", self.target), || {
            c.raw(&format!("stat {path}")).contains(&gone).then_some(())
        });
        self.t.push(format!("{}: {path} is gone", c.label));
    }
}

fn session(target: &Target) -> Vec<String> {
    let s = &mut Session { target: target.name, t: Vec::new() };
    let a = &mut ZkCli::start("A", &target.addr);

    // create / get / set / ls / delete, and their errors.
    s.expect(a, "create /zkcli", &["Created /zkcli"]);
    s.expect(a, "create /zkcli/a hello", &["Created /zkcli/a"]);
    s.expect(a, "create /zkcli/a again", &["Node already exists: /zkcli/a"]);
    s.expect(a, "get /zkcli/a", &["hello"]);
    s.expect(a, "set /zkcli/a world", &[]);
    s.expect(
        a,
        "get -s /zkcli/a",
        &[
            "world",
            "cversion = 0",
            "dataVersion = 1",
            "aclVersion = 0",
            "ephemeralOwner = 0x0",
            "dataLength = 5",
            "numChildren = 0",
        ],
    );
    s.expect(a, "set -v 0 /zkcli/a stale", &["version No is not valid : /zkcli/a"]);
    s.expect(a, "ls /zkcli", &["[a]"]);
    s.expect(a, "delete /zkcli", &["Node not empty: /zkcli"]);
    s.expect(a, "delete /zkcli/a", &[]);
    s.expect(a, "get /zkcli/a", &["Node does not exist: /zkcli/a"]);

    // Sequential nodes: the suffix is the parent's cversion, which the delete left at 1.
    s.expect(a, "create -s /zkcli/seq- x", &["Created /zkcli/seq-0000000001"]);
    s.expect(a, "create -s /zkcli/seq- x", &["Created /zkcli/seq-0000000002"]);

    // Ephemeral nodes, listed by getEphemerals for their own session only.
    s.expect(a, "create -e /zkcli/eph x", &["Created /zkcli/eph"]);
    s.expect(a, "create -e -s /zkcli/eseq- x", &["Created /zkcli/eseq-0000000004"]);
    s.expect(a, "getEphemerals /zkcli", &["[/zkcli/eph, /zkcli/eseq-0000000004]"]);
    let stat = s.run(a, "stat /zkcli/eph");
    assert!(stat.contains(&"ephemeralOwner = <session>".to_owned()), "{}: {stat:?}", target.name);
    let b = &mut ZkCli::start("B", &target.addr);
    s.expect(b, "ls /zkcli", &["[eph, eseq-0000000004, seq-0000000001, seq-0000000002]"]);
    s.expect(b, "getEphemerals /zkcli", &["[]"]);

    // One-shot data and child watches (A), fired by B's writes; each fires once.
    s.expect(a, "create /zkcli/w v1", &["Created /zkcli/w"]);
    s.expect(a, "get -w /zkcli/w", &["v1"]);
    s.expect(a, "ls -w /zkcli/w", &["[]"]);
    s.expect(b, "set /zkcli/w v2", &[]);
    s.wait_event(a, "NodeDataChanged /zkcli/w");
    s.expect(b, "create /zkcli/w/c", &["Created /zkcli/w/c"]);
    s.wait_event(a, "NodeChildrenChanged /zkcli/w");
    s.expect(b, "set /zkcli/w v3", &[]);

    // A persistent watch fires on every change of the node and of its child list.
    s.expect(a, "create /zkcli/p", &["Created /zkcli/p"]);
    s.expect(a, "addWatch -m PERSISTENT /zkcli/p", &[]);
    s.expect(b, "set /zkcli/p 1", &[]);
    s.expect(b, "set /zkcli/p 2", &[]);
    s.wait_event(a, "NodeDataChanged /zkcli/p");
    s.wait_event(a, "NodeDataChanged /zkcli/p");
    s.expect(b, "create /zkcli/p/c", &["Created /zkcli/p/c"]);
    s.wait_event(a, "NodeChildrenChanged /zkcli/p");
    s.expect(b, "set /zkcli/p/c x", &[]);

    // A persistent recursive watch fires on the whole subtree (no child events).
    s.expect(a, "create /zkcli/r", &["Created /zkcli/r"]);
    s.expect(a, "addWatch -m PERSISTENT_RECURSIVE /zkcli/r", &[]);
    s.expect(b, "create /zkcli/r/x", &["Created /zkcli/r/x"]);
    s.expect(b, "create /zkcli/r/x/y", &["Created /zkcli/r/x/y"]);
    s.expect(b, "set /zkcli/r/x/y d", &[]);
    s.expect(b, "delete /zkcli/r/x/y", &[]);
    s.wait_event(a, "NodeCreated /zkcli/r/x");
    s.wait_event(a, "NodeCreated /zkcli/r/x/y");
    s.wait_event(a, "NodeDataChanged /zkcli/r/x/y");
    s.wait_event(a, "NodeDeleted /zkcli/r/x/y");

    // Digest auth: alice's node is denied to B (unauthenticated, then with a wrong password)
    // and allowed to a session that authenticates as alice.
    let alice_acl = format!("'digest,'{ALICE_DIGEST}");
    s.expect(a, &format!("addauth digest {ALICE}"), &[]);
    s.expect(a, "create /zkcli/acl secret auth::cdrwa", &["Created /zkcli/acl"]);
    s.expect(a, "getAcl /zkcli/acl", &[alice_acl.as_str(), ": cdrwa"]);
    s.expect(a, "get /zkcli/acl", &["secret"]);
    s.expect(a, "whoami", &["Auth scheme: User", "digest: alice", "ip: 127.0.0.1"]);
    s.expect(b, "get /zkcli/acl", &["Insufficient permission : /zkcli/acl"]);
    s.expect(b, "set /zkcli/acl x", &["Insufficient permission : /zkcli/acl"]);
    s.expect(b, "addauth digest alice:wrong", &[]);
    s.expect(b, "get /zkcli/acl", &["Insufficient permission : /zkcli/acl"]);
    let c = &mut ZkCli::start("C", &target.addr);
    s.expect(c, "get /zkcli/acl", &["Insufficient permission : /zkcli/acl"]);
    s.expect(c, &format!("addauth digest {ALICE}"), &[]);
    s.expect(c, "get /zkcli/acl", &["secret"]);
    let c_events = c.quit();

    // A watch event is only sent to a session that may read the node (CVE-2024-23944,
    // ZOOKEEPER-4799; in Debian's 3.8.0-11+deb12u2): A, alice, must not hear of bob's node.
    s.expect(b, &format!("create /zkcli/r/hidden x digest:{BOB_DIGEST}:cdrwa"), &["Created /zkcli/r/hidden"]);
    s.expect(b, "create /zkcli/r/visible x", &["Created /zkcli/r/visible"]);
    s.wait_event(a, "NodeCreated /zkcli/r/visible");

    // 13 descendants: seq-1, seq-2, eph, eseq-4, w, w/c, p, p/c, r, r/x, r/hidden, r/visible, acl.
    s.expect(a, "getAllChildrenNumber /zkcli", &["13"]);

    // TTL and container nodes are reaped by the server.
    s.expect(a, "create -t 200 /zkcli-ttl x", &["Created /zkcli-ttl"]);
    s.wait_gone(a, "/zkcli-ttl");
    s.expect(a, "create -c /zkcli-cont", &["Created /zkcli-cont"]);
    s.expect(a, "create /zkcli-cont/child", &["Created /zkcli-cont/child"]);
    s.expect(a, "delete /zkcli-cont/child", &[]);
    s.wait_gone(a, "/zkcli-cont");

    // A's ephemerals live as long as its session: B watches them go.
    let stat = s.run(b, "stat -w /zkcli/eph");
    assert!(stat.contains(&"ephemeralOwner = <session>".to_owned()), "{}: {stat:?}", target.name);
    s.expect(b, "ls -w /zkcli", &["[acl, eph, eseq-0000000004, p, r, seq-0000000001, seq-0000000002, w]"]);
    let a_events = a.quit();
    s.wait_event(b, "NodeDeleted /zkcli/eph");
    s.wait_event(b, "NodeChildrenChanged /zkcli");
    s.expect(b, "ls /zkcli", &["[acl, p, r, seq-0000000001, seq-0000000002, w]"]);
    s.expect(b, "stat /zkcli/eph", &["Node does not exist: /zkcli/eph"]);
    let b_events = b.quit();

    assert!(
        !a_events.iter().any(|e| e.contains("/zkcli/r/hidden")),
        "{}: a watch event for /zkcli/r/hidden reached a session without READ on it \
         (ZooKeeper checks the node's ACL before sending a watch event, CVE-2024-23944): {a_events:?}",
        target.name
    );
    for (label, events) in [("A", a_events), ("B", b_events), ("C", c_events)] {
        s.t.push(format!("{label}: all events"));
        s.t.extend(events.into_iter().map(|e| format!("    {e}")));
    }
    std::mem::take(&mut s.t)
}

#[test]
fn zkcli_session() {
    if !common::client_available("zkcli_session", missing()) {
        return;
    }
    let servers = Servers::start("zkcli_session");
    servers.play("zkcli_session", session);
}

/// The Java client's multi: `JavaMulti.java` prints one line per result.
#[test]
fn java_client_multi() {
    let source = common::clients_dir().join("JavaMulti.java");
    let missing = RefZk::missing().map(|why| format!("Java client: {why}"));
    if !common::client_available("java_client_multi", missing) {
        return;
    }
    let servers = Servers::start("java_client_multi");
    servers.play("java_client_multi", |target| {
        let mut cmd = Command::new(JAVA);
        cmd.args(JVM_DEFAULT_FLAGS).arg("-cp").arg(ZOOKEEPER_JAR).arg(&source).arg(&target.addr);
        let out = common::run_to_end("JavaMulti", cmd);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}: JavaMulti failed ({}):\n{stdout}\n{}",
            target.name,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
        let want = [
            "multi ok: create /jmulti",
            "multi ok: create /jmulti/a",
            "multi ok: setData version=1",
            "multi ok: check",
            "multi failed: NONODE",
            "  result: OK",
            "  result: NONODE",
            "  result: RUNTIMEINCONSISTENCY",
            "after failed multi: /jmulti/b exists=false, /jmulti/a version=1",
            "multi failed: BADVERSION",
            "  result: BADVERSION",
            "  result: RUNTIMEINCONSISTENCY",
        ];
        assert_eq!(lines, want, "{}: JavaMulti output", target.name);
        lines
    });
}
