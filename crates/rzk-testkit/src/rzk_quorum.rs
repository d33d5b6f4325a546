//! rzk servers as members of an ensemble: the same shape as [`RefQuorumPeer`](crate::RefQuorumPeer)
//! (a temp dir with zoo.cfg, `data/myid` and the log; ports chosen by the test with
//! [`QuorumPorts`]), so a test can mix rzk and Java members. A member can be killed (kill -9) and
//! started again on the same data directory.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::net;
use crate::process::ServerProcess;
use crate::ref_quorum::QuorumPorts;

/// How long a member may take to open its client port.
pub const RZK_PEER_START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub struct RzkQuorumPeer {
    pub id: i64,
    pub ports: QuorumPorts,
    pub cfg_path: PathBuf,
    bin: PathBuf,
    defines: Vec<String>,
    process: Option<ServerProcess>,
    dir: TempDir,
    /// Log files of earlier runs (each start gets a new one).
    runs: u32,
}

impl RzkQuorumPeer {
    /// Writes member `id`'s zoo.cfg (tickTime 500 ms, initLimit 10, syncLimit 5, every
    /// four-letter word, no admin server, then `server_lines` and `extra_cfg_lines`) and starts
    /// it; returns once its client port accepts (it serves once an election is over).
    pub fn start(
        bin: &Path,
        id: i64,
        ports: QuorumPorts,
        server_lines: &[String],
        extra_cfg_lines: &[&str],
    ) -> io::Result<RzkQuorumPeer> {
        Self::start_with_defines(bin, id, ports, server_lines, extra_cfg_lines, &[])
    }

    /// [`start`](Self::start) with `-Dname=value` arguments (ZooKeeper's system properties).
    pub fn start_with_defines(
        bin: &Path,
        id: i64,
        ports: QuorumPorts,
        server_lines: &[String],
        extra_cfg_lines: &[&str],
        defines: &[&str],
    ) -> io::Result<RzkQuorumPeer> {
        let (dir, cfg_path) =
            crate::ref_quorum::member_dir("rzkquorum", id, ports, server_lines, extra_cfg_lines)?;
        let defines = defines.iter().map(|d| d.to_string()).collect();
        let mut p =
            RzkQuorumPeer { id, ports, cfg_path, bin: bin.to_owned(), defines, process: None, dir, runs: 0 };
        p.start_again()?;
        Ok(p)
    }

    /// Starts the member again on its data directory (after [`kill`](Self::kill)).
    pub fn start_again(&mut self) -> io::Result<()> {
        self.runs += 1;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("server").arg(&self.cfg_path).args(&self.defines);
        cmd.env("RUST_LOG", std::env::var("RZK_TEST_LOG").unwrap_or_else(|_| "info".into()));
        let log = self.dir.path().join(format!("server.{}.log", self.runs));
        let mut p = ServerProcess::spawn(&format!("rzkquorum-{}", self.id), cmd, self.ports.client, &log)?;
        if !p.wait_for_port(RZK_PEER_START_TIMEOUT) {
            return Err(io::Error::other(format!("rzk member {} did not start; log:\n{}", self.id, p.log())));
        }
        self.process = Some(p);
        Ok(())
    }

    /// The mode `srvr` reports now (`leader`, `follower`, `observer`), if it serves.
    pub fn mode(&self) -> Option<String> {
        let answer = net::four_letter_word(self.ports.client, "srvr", Duration::from_secs(1)).ok()?;
        answer.lines().find_map(|l| l.strip_prefix("Mode: ")).map(|m| m.trim().to_owned())
    }

    /// Polls until the member serves; its mode, or `None` after `timeout`.
    pub fn wait_for_mode(&self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(m) = self.mode() {
                return Some(m);
            }
            std::thread::sleep(net::POLL_INTERVAL);
        }
        None
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

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.ports.client)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every run's log, oldest first.
    pub fn log(&self) -> String {
        (1..=self.runs)
            .map(|r| {
                std::fs::read_to_string(self.dir.path().join(format!("server.{r}.log"))).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n---- restart ----\n")
    }
}
