//! Shared by the real-client tests (zkCli, the C client, kazoo, the Rust `zookeeper-client`):
//! starting the reference ZooKeeper and rzk alike, deciding whether a missing client skips or
//! fails the test, driving an interactive client process line by line with deadlines, and
//! comparing what a client observed on both servers.
//!
//! A test plays one client session against the reference server first (so the test's own
//! expectations are checked against ZooKeeper), then against rzk, asserting the expected results
//! on both; then the two transcripts (what the client printed or returned, with times, zxids and
//! session ids masked) must be equal.

#![allow(dead_code)] // each test target uses a different part of this module

use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rzk_testkit::{RefZk, RzkServer};

/// Both servers run with extended types (TTL nodes) and a fast container/TTL reaper, as in
/// the differential test.
pub const CFG: [&str; 0] = [];
pub const DEFINES: [&str; 2] =
    ["-Dzookeeper.extendedTypesEnabled=true", "-Dznode.container.checkIntervalMs=100"];

/// How long one client command may take to answer.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a condition polled for (a session's ephemerals gone, a container reaped) may take.
pub const POLL_DEADLINE: Duration = Duration::from_secs(20);
/// How long a whole client process (a script, a one-shot program) may run.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);
/// Interval between two polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The workspace root (tests/compat/clients/../../..).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// This directory (scripts and sources the tests run).
pub fn clients_dir() -> PathBuf {
    workspace_root().join("tests/compat/clients")
}

/// True when the client can run. When it cannot (`missing` says why), the test fails if
/// `RZK_REQUIRE_CLIENTS=1` (CI installs every client) and otherwise prints a SKIP line.
pub fn client_available(test: &str, missing: Option<String>) -> bool {
    let Some(why) = missing else { return true };
    assert!(
        std::env::var("RZK_REQUIRE_CLIENTS").as_deref() != Ok("1"),
        "{test}: client required (RZK_REQUIRE_CLIENTS=1) but {why}"
    );
    println!("SKIP {test}: {why}");
    false
}

/// One server a session is played against.
pub struct Target {
    /// `zookeeper` or `rzk`.
    pub name: &'static str,
    pub addr: String,
}

/// The reference server (when installed) and rzk, started with the same settings.
pub struct Servers {
    pub reference: Option<RefZk>,
    pub rzk: RzkServer,
}

impl Servers {
    pub fn start(test: &str) -> Servers {
        let reference = RefZk::start_or_skip(test, &CFG, &DEFINES);
        let rzk = RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &CFG, &DEFINES).expect("rzk starts");
        Servers { reference, rzk }
    }

    /// The reference first: a session that fails there is a wrong test, not an rzk bug.
    pub fn targets(&self) -> Vec<Target> {
        let mut t = Vec::new();
        if let Some(r) = &self.reference {
            t.push(Target { name: "zookeeper", addr: r.addr() });
        }
        t.push(Target { name: "rzk", addr: self.rzk.addr() });
        t
    }

    /// Plays `session` against every target; each must pass its own assertions, and rzk's
    /// transcript must equal the reference's.
    pub fn play(&self, test: &str, mut session: impl FnMut(&Target) -> Vec<String>) {
        let mut transcripts = Vec::new();
        for t in self.targets() {
            let started = Instant::now();
            let transcript = session(&t);
            println!("{test}: session against {} took {:?}", t.name, started.elapsed());
            transcripts.push((t.name, transcript));
        }
        if let [(_, want), (_, got)] = transcripts.as_slice() {
            assert_same(test, want, got, &self.rzk.log());
        }
    }
}

/// Panics with a line-by-line diff when rzk's transcript differs from ZooKeeper's.
pub fn assert_same(test: &str, want: &[String], got: &[String], rzk_log: &str) {
    if want == got {
        return;
    }
    let mut s = format!("{test}: what the client observed differs (- zookeeper, + rzk)\n");
    for i in 0..want.len().max(got.len()) {
        let w = want.get(i).map(String::as_str).unwrap_or("<none>");
        let g = got.get(i).map(String::as_str).unwrap_or("<none>");
        if w == g {
            s.push_str(&format!("    {w}\n"));
        } else {
            s.push_str(&format!("  - {w}\n  + {g}\n"));
        }
    }
    s.push_str(&format!("rzk log tail:\n{}", tail(rzk_log, 30)));
    panic!("{s}");
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Polls `f` until it returns `Some`, or panics with `what` once `POLL_DEADLINE` has passed.
pub fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + POLL_DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {POLL_DEADLINE:?} waiting for {what}");
        thread::sleep(POLL_INTERVAL);
    }
}

/// Runs a one-shot program to its end (killed and failed after `PROCESS_TIMEOUT`).
pub fn run_to_end(what: &str, mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    // Read both pipes on threads so that a chatty child cannot block on a full pipe.
    let out = child.stdout.take().map(|mut s| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = io::Read::read_to_end(&mut s, &mut v);
            v
        })
    });
    let err = child.stderr.take().map(|mut s| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = io::Read::read_to_end(&mut s, &mut v);
            v
        })
    });
    let status = wait_with_deadline(what, &mut child, PROCESS_TIMEOUT);
    let join =
        |h: Option<thread::JoinHandle<Vec<u8>>>| h.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
    Output { status, stdout: join(out), stderr: join(err) }
}

/// Waits for `child` to exit; kills it and panics once `timeout` has passed.
pub fn wait_with_deadline(what: &str, child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => thread::sleep(POLL_INTERVAL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what}: still running after {timeout:?}; killed");
            }
            Err(e) => panic!("{what}: wait failed: {e}"),
        }
    }
}

/// A client process driven through its stdin, its stdout and stderr merged into one stream of
/// lines (as a terminal would show them), read on a thread so that every read has a deadline.
/// Killed on drop.
pub struct Interactive {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub seen: Vec<String>,
}

impl Interactive {
    pub fn spawn(name: &str, mut cmd: Command) -> Interactive {
        let (reader, writer) = io::pipe().expect("pipe");
        cmd.stdin(Stdio::piped()).stdout(writer.try_clone().expect("pipe clone")).stderr(writer);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{name}: cannot start: {e}"));
        // The Command holds the pipe's write ends; drop it so that EOF arrives when the child
        // exits.
        drop(cmd);
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut r = BufReader::new(reader);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        if tx.send(line.trim_end_matches(['\n', '\r']).to_owned()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Interactive { name: name.to_owned(), child, stdin, lines: rx, seen: Vec::new() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes one line to the client's stdin, in one write. `writeln!` on the unbuffered pipe
    /// writes the text and the newline apart, and the C client's cli_mt drops a partial line
    /// that it read together with a whole one (its read loop starts the next read at the start
    /// of its buffer): its `sync /` marker was lost now and then and the step timed out.
    pub fn send(&mut self, line: &str) {
        let name = &self.name;
        let stdin = self.stdin.as_mut().unwrap_or_else(|| panic!("{name}: stdin already closed"));
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{name}: writing {line:?}: {e}\n{}", self.seen.join("\n")));
    }

    /// The next line of output; `None` at end of output. Panics once `deadline` has passed.
    pub fn next_line(&mut self, deadline: Instant, waiting_for: &str) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(l) => {
                self.seen.push(l.clone());
                Some(l)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "{}: timed out waiting for {waiting_for}; output so far:\n{}",
                self.name,
                tail(&self.seen.join("\n"), 60)
            ),
        }
    }

    /// Closes stdin (end of input: the client quits).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to exit (killed and failed after `STEP_TIMEOUT`).
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.close_stdin();
        wait_with_deadline(&self.name, &mut self.child, STEP_TIMEOUT)
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `program` can be run (`program --version`-like probe with `args`).
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The digest credentials every session uses: `addauth digest alice:secret`.
pub const ALICE: &str = "alice:secret";
/// The id ZooKeeper stores for it, `user:base64(SHA-1(user:password))`
/// (`DigestAuthenticationProvider.generateDigest`).
pub const ALICE_DIGEST: &str = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";
/// Another user's id (`bob:hunter2`), for a node that alice may not read.
pub const BOB_DIGEST: &str = "bob:1Yu1ryCXOIF7lyFzbmQ5J+MJOZc=";
