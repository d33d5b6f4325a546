//! Reference ZooKeeper 3.8 servers as members of an ensemble (`QuorumPeerMain` with `server.N`
//! lines and a `myid` file), each in its own temp dir on 127.0.0.1, killed on drop. The test
//! chooses the ports (see [`QuorumPorts`]) so that it can mix Java members with rzk ones.
//!
//! Whether the reference server is installed is [`RefZk::missing`](crate::RefZk::missing), and
//! [`RefQuorumPeer::skip`] applies the same `RZK_REQUIRE_REFZK` rule as
//! [`RefZk::start_or_skip`](crate::RefZk::start_or_skip).

use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::net;
use crate::process::ServerProcess;
use crate::refzk::{JAVA, JVM_DEFAULT_FLAGS, RefZk, server_classpath};

/// How long a JVM may take to open its client port.
pub const PEER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// The ports of one member, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumPorts {
    pub client: u16,
    pub quorum: u16,
    pub election: u16,
}

impl QuorumPorts {
    /// Three ports that were free a moment ago.
    pub fn free() -> io::Result<QuorumPorts> {
        Ok(QuorumPorts { client: net::free_port()?, quorum: net::free_port()?, election: net::free_port()? })
    }

    /// `server.<id>=127.0.0.1:<quorum>:<election>` (a participant; the client port comes from
    /// each server's own `clientPort`).
    pub fn server_line(&self, id: i64) -> String {
        format!("server.{id}=127.0.0.1:{}:{}", self.quorum, self.election)
    }
}

/// A member's directory: `data/myid`, and a `zoo.cfg` with the settings every test member shares
/// (tickTime 500, limits, 127.0.0.1, four-letter words, no admin server), `server_lines` and
/// `extra_cfg_lines`. Returns the directory and the config's path.
pub(crate) fn member_dir(
    prefix: &str,
    id: i64,
    ports: QuorumPorts,
    server_lines: &[String],
    extra_cfg_lines: &[&str],
) -> io::Result<(TempDir, std::path::PathBuf)> {
    let dir = tempfile::Builder::new().prefix(&format!("{prefix}-{id}-")).tempdir()?;
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    std::fs::write(data_dir.join("myid"), format!("{id}\n"))?;
    let mut cfg = format!(
        "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\n\
         admin.enableServer=false\n4lw.commands.whitelist=*\n",
        data_dir.display(),
        ports.client
    );
    for l in server_lines.iter().map(String::as_str).chain(extra_cfg_lines.iter().copied()) {
        cfg.push_str(l);
        cfg.push('\n');
    }
    let cfg_path = dir.path().join("zoo.cfg");
    std::fs::write(&cfg_path, cfg)?;
    Ok((dir, cfg_path))
}

/// One running reference member.
#[derive(Debug)]
pub struct RefQuorumPeer {
    pub id: i64,
    pub ports: QuorumPorts,
    process: Option<ServerProcess>,
    dir: TempDir,
    jvm_flags: Vec<String>,
    /// How many times the member was started (each run logs to its own file).
    runs: u32,
}

impl RefQuorumPeer {
    /// `Some(reason)` when the test should be skipped (the reference server is not installed);
    /// panics instead when `RZK_REQUIRE_REFZK` is set. Prints the SKIP line.
    pub fn skip(test: &str) -> Option<String> {
        let why = RefZk::missing()?;
        assert!(
            std::env::var_os("RZK_REQUIRE_REFZK").is_none(),
            "{test}: reference ZooKeeper required (RZK_REQUIRE_REFZK is set) but {why}"
        );
        println!("SKIP {test}: reference Apache ZooKeeper not installed: {why}");
        Some(why)
    }

    /// Starts member `id` of the ensemble described by `server_lines` (every member's
    /// `server.N=...` line, this one's included) and waits until its client port accepts. It is
    /// not serving yet: that needs a quorum ([`wait_for_mode`](Self::wait_for_mode)).
    /// `extra_cfg_lines` go after the defaults in zoo.cfg; `jvm_flags` after the default flags.
    pub fn start(
        id: i64,
        ports: QuorumPorts,
        server_lines: &[String],
        extra_cfg_lines: &[&str],
        jvm_flags: &[&str],
    ) -> io::Result<RefQuorumPeer> {
        if let Some(why) = RefZk::missing() {
            return Err(io::Error::new(io::ErrorKind::NotFound, why));
        }
        let (dir, _) = member_dir("refquorum", id, ports, server_lines, extra_cfg_lines)?;
        let jvm_flags = jvm_flags.iter().map(|f| f.to_string()).collect();
        let mut peer = RefQuorumPeer { id, ports, process: None, dir, jvm_flags, runs: 0 };
        peer.start_again()?;
        Ok(peer)
    }

    /// Starts the member (again, after [`kill`](Self::kill)) on its directory; returns once its
    /// client port accepts.
    pub fn start_again(&mut self) -> io::Result<()> {
        self.runs += 1;
        // The Netty jars too: with sslQuorum, Debian's jar needs classes its manifest does not
        // list, and without them the election listener thread dies on its first connection.
        let classpath = server_classpath();
        let mut cmd = Command::new(JAVA);
        cmd.args(JVM_DEFAULT_FLAGS)
            .args(&self.jvm_flags)
            .arg(format!("-Dzookeeper.log.dir={}", self.dir.path().display()))
            .arg("-cp")
            .arg(classpath)
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(self.dir.path().join("zoo.cfg"));
        let log = self.log_path(self.runs);
        let mut p = ServerProcess::spawn(&format!("refquorum-{}", self.id), cmd, self.ports.client, &log)?;
        if !p.wait_for_port(PEER_START_TIMEOUT) {
            return Err(io::Error::other(format!(
                "reference member {} did not start; log:\n{}",
                self.id,
                p.log()
            )));
        }
        self.process = Some(p);
        Ok(())
    }

    fn log_path(&self, run: u32) -> std::path::PathBuf {
        if run <= 1 {
            self.dir.path().join("server.log")
        } else {
            self.dir.path().join(format!("server.{run}.log"))
        }
    }

    /// Polls `srvr` until it reports a mode (`leader`, `follower`, ...); `None` after `timeout`.
    pub fn wait_for_mode(&self, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(m) = self.mode() {
                return Some(m);
            }
            std::thread::sleep(net::POLL_INTERVAL);
        }
        None
    }

    /// The mode `srvr` reports now, if it serves.
    pub fn mode(&self) -> Option<String> {
        let answer = net::four_letter_word(self.ports.client, "srvr", Duration::from_secs(1)).ok()?;
        answer.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned())
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(ServerProcess::is_running)
    }

    /// The temp dir holding zoo.cfg, data/ (with myid) and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far, every run's, oldest first.
    pub fn log(&self) -> String {
        (1..=self.runs.max(1))
            .map(|r| std::fs::read_to_string(self.log_path(r)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---- restart ----\n")
    }
}
