//! An rzk ensemble of real processes for the ensemble tests: members 1..=n (observers last) on
//! 127.0.0.1 with ports picked at start, each in its own temp dir ([`RzkQuorumPeer`]); kill -9,
//! start again, poll `srvr` for modes and zxids. When a test fails, the members' log tails are
//! printed; whole logs are copied to `$RZK_ENSEMBLE_KEEP_LOGS` when that is set.

use std::path::Path;
use std::time::{Duration, Instant};

use rzk_testkit::{QuorumPorts, RzkQuorumPeer, four_letter_word};

/// How a member is run: the default is a plain process on 127.0.0.1; the partition test runs
/// each member in its own network namespace.
pub trait Launcher: Send + Sync {
    /// Starts member `id` (or starts it again when `peer` is `Some`).
    fn start(&self, id: i64, ports: QuorumPorts, lines: &[String], extra: &[String]) -> RzkQuorumPeer;
    fn start_again(&self, peer: &mut RzkQuorumPeer);
    /// `srvr` of member `id` (client port `port`), or `None` when it does not answer.
    fn srvr(&self, id: i64, port: u16) -> Option<String>;
    /// `host:port` a test client uses to reach member `id`.
    fn client_addr(&self, id: i64, port: u16) -> String;
    /// A four-letter word to member `id`.
    fn word(&self, id: i64, port: u16, word: &str) -> Option<String>;
}

/// Plain processes on 127.0.0.1.
pub struct Local;

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_rzk"))
}

impl Launcher for Local {
    fn start(&self, id: i64, ports: QuorumPorts, lines: &[String], extra: &[String]) -> RzkQuorumPeer {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        RzkQuorumPeer::start(bin(), id, ports, lines, &extra)
            .unwrap_or_else(|e| panic!("member {id} does not start: {e}"))
    }

    fn start_again(&self, peer: &mut RzkQuorumPeer) {
        peer.start_again().unwrap_or_else(|e| panic!("member {} does not start again: {e}", peer.id));
    }

    fn srvr(&self, _id: i64, port: u16) -> Option<String> {
        four_letter_word(port, "srvr", Duration::from_secs(2)).ok()
    }

    fn client_addr(&self, _id: i64, port: u16) -> String {
        format!("127.0.0.1:{port}")
    }

    fn word(&self, _id: i64, port: u16, word: &str) -> Option<String> {
        four_letter_word(port, word, Duration::from_secs(5)).ok()
    }
}

/// `n` distinct ports of 127.0.0.1, free now, below the kernel's ephemeral range (the members'
/// own outgoing connections take their local ports from that range) and reserved for this test
/// process (`rzk_testkit::free_port`).
fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| rzk_testkit::free_port().expect("a free port")).collect()
}

/// What `srvr` says about a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Srvr {
    /// Serving in this mode (`leader`, `follower`, `observer`) at this zxid.
    Serving { mode: String, zxid: i64 },
    /// Answers "This ZooKeeper instance is not currently serving requests".
    NotServing,
    /// Dead, or no answer.
    Silent,
}

impl Srvr {
    pub fn parse(text: Option<String>) -> Srvr {
        let Some(text) = text else { return Srvr::Silent };
        if text.contains("not currently serving") {
            return Srvr::NotServing;
        }
        let mode = text.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned());
        let zxid = text
            .lines()
            .find_map(|l| l.strip_prefix("Zxid: "))
            .and_then(|z| i64::from_str_radix(z.trim().trim_start_matches("0x"), 16).ok());
        match (mode, zxid) {
            (Some(mode), Some(zxid)) => Srvr::Serving { mode, zxid },
            _ => Srvr::Silent,
        }
    }

    pub fn mode(&self) -> Option<&str> {
        match self {
            Srvr::Serving { mode, .. } => Some(mode),
            _ => None,
        }
    }
}

pub struct Ensemble {
    pub name: String,
    pub members: Vec<RzkQuorumPeer>,
    /// Index of each observer in `members`.
    pub observers: Vec<usize>,
    launcher: Box<dyn Launcher>,
    alive: Vec<bool>,
}

impl Ensemble {
    /// `participants` voting members and `observers` observers, on 127.0.0.1.
    pub fn start(name: &str, participants: usize, observers: usize, extra: &[&str]) -> Ensemble {
        let mut picked = free_ports(3 * (participants + observers)).into_iter();
        let mut next = || picked.next().expect("enough ports");
        let ports: Vec<QuorumPorts> = (0..participants + observers)
            .map(|_| QuorumPorts { client: next(), quorum: next(), election: next() })
            .collect();
        let lines: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let line = p.server_line(i as i64 + 1);
                if i >= participants { format!("{line}:observer") } else { line }
            })
            .collect();
        Ensemble::start_with(name, Box::new(Local), ports, lines, participants, extra)
    }

    /// Starts every member with its `server.N` lines (`lines[i]` is member i+1's).
    pub fn start_with(
        name: &str,
        launcher: Box<dyn Launcher>,
        ports: Vec<QuorumPorts>,
        lines: Vec<String>,
        participants: usize,
        extra: &[&str],
    ) -> Ensemble {
        let observers: Vec<usize> = (participants..ports.len()).collect();
        let mut members = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let mut cfg: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            if observers.contains(&i) {
                cfg.push("peerType=observer".into());
            }
            members.push(launcher.start(i as i64 + 1, *p, &lines, &cfg));
        }
        let alive = vec![true; members.len()];
        Ensemble { name: name.to_owned(), members, observers, launcher, alive }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn srvr(&self, i: usize) -> Srvr {
        let m = &self.members[i];
        Srvr::parse(self.launcher.srvr(m.id, m.ports.client))
    }

    pub fn word(&self, i: usize, word: &str) -> Option<String> {
        let m = &self.members[i];
        self.launcher.word(m.id, m.ports.client, word)
    }

    pub fn addr(&self, i: usize) -> String {
        let m = &self.members[i];
        self.launcher.client_addr(m.id, m.ports.client)
    }

    /// Every member, starting with member `first` (the client tries them in this order).
    pub fn connect_string(&self, first: usize) -> String {
        let n = self.len();
        (0..n).map(|k| self.addr((first + k) % n)).collect::<Vec<_>>().join(",")
    }

    pub fn alive(&self) -> Vec<usize> {
        (0..self.len()).filter(|i| self.alive[*i]).collect()
    }

    /// kill -9 (returns once the process is reaped).
    pub fn kill(&mut self, i: usize) {
        self.members[i].kill();
        self.alive[i] = false;
    }

    pub fn restart(&mut self, i: usize) {
        assert!(!self.alive[i], "member {} is running", i + 1);
        self.launcher.start_again(&mut self.members[i]);
        self.alive[i] = true;
    }

    /// The process id of member `i` (found by its zoo.cfg path on its command line).
    pub fn pid(&self, i: usize) -> Option<u32> {
        let cfg = self.members[i].cfg_path.to_string_lossy().into_owned();
        for e in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else { continue };
            if cmd.split(|b| *b == 0).any(|arg| arg == cfg.as_bytes()) {
                return Some(pid);
            }
        }
        None
    }

    /// Sends member `i` a signal (`STOP`, `CONT`).
    pub fn signal(&self, i: usize, sig: &str) {
        let pid = self.pid(i).unwrap_or_else(|| panic!("{}: no process for member {}", self.name, i + 1));
        let ok = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {pid}");
    }

    /// Polls until every running member serves with exactly one leader among them and observers
    /// observing; returns the leader's index and how long it took.
    pub fn wait_all_serving(&self, timeout: Duration) -> (usize, Duration) {
        self.wait_serving(&self.alive(), timeout)
    }

    /// [`wait_all_serving`](Self::wait_all_serving) for some members only.
    pub fn wait_serving(&self, which: &[usize], timeout: Duration) -> (usize, Duration) {
        let t0 = Instant::now();
        let deadline = t0 + timeout;
        loop {
            let states: Vec<(usize, Srvr)> = which.iter().map(|i| (*i, self.srvr(*i))).collect();
            if let Some(leader) = self.settled(&states) {
                return (leader, t0.elapsed());
            }
            if Instant::now() > deadline {
                panic!("{}: members not all serving after {timeout:?}: {states:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The leader's index when every listed member serves in the right mode.
    fn settled(&self, states: &[(usize, Srvr)]) -> Option<usize> {
        let mut leader = None;
        for (i, s) in states {
            let mode = s.mode()?;
            let want_observer = self.observers.contains(i);
            match mode {
                "leader" if !want_observer && leader.is_none() => leader = Some(*i),
                "follower" if !want_observer => {}
                "observer" if want_observer => {}
                _ => return None,
            }
        }
        leader
    }

    /// Polls until the listed members stop serving (`srvr` answers "not currently serving").
    pub fn wait_not_serving(&self, which: &[usize], timeout: Duration) -> Duration {
        let t0 = Instant::now();
        loop {
            let states: Vec<Srvr> = which.iter().map(|i| self.srvr(*i)).collect();
            if states.iter().all(|s| *s == Srvr::NotServing) {
                return t0.elapsed();
            }
            assert!(
                t0.elapsed() < timeout,
                "{}: members {which:?} still serving after {timeout:?}: {states:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls until every running member serves at the same zxid (nothing is in flight); returns
    /// that zxid.
    pub fn wait_same_zxid(&self, timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        loop {
            let states: Vec<Srvr> = self.alive().into_iter().map(|i| self.srvr(i)).collect();
            let zxids: Vec<i64> = states
                .iter()
                .filter_map(|s| match s {
                    Srvr::Serving { zxid, .. } => Some(*zxid),
                    _ => None,
                })
                .collect();
            if zxids.len() == states.len() && zxids.windows(2).all(|w| w[0] == w[1]) {
                return zxids[0];
            }
            assert!(Instant::now() < deadline, "{}: members never agree on a zxid: {states:?}", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Members' logs, for a failure message.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for m in &self.members {
            let log = m.log();
            let all: Vec<&str> = log.lines().collect();
            let from = all.len().saturating_sub(lines);
            out.push_str(&format!("==== member {} ({} lines, last {}) ====\n", m.id, all.len(), lines));
            for l in &all[from..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Whole logs of every member, concatenated.
    pub fn logs(&self) -> Vec<(i64, String)> {
        self.members.iter().map(|m| (m.id, m.log())).collect()
    }
}

impl Drop for Ensemble {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}: test failed; member logs:\n{}", self.name, self.log_tails(60));
        }
        if let Some(dir) = std::env::var_os("RZK_ENSEMBLE_KEEP_LOGS") {
            let dir = Path::new(&dir).join(format!("{}-{}", self.name, std::process::id()));
            if std::fs::create_dir_all(&dir).is_ok() {
                for (id, log) in self.logs() {
                    let _ = std::fs::write(dir.join(format!("member{id}.log")), log);
                }
                eprintln!("{}: whole logs in {}", self.name, dir.display());
            }
        }
    }
}
