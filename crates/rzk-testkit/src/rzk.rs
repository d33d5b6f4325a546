//! An rzk server run as a child process from its binary, with a zoo.cfg in a temp dir on a free
//! 127.0.0.1 port, killed on drop: the same shape as `RefZk`, so tests can start both alike.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::net;
use crate::process::ServerProcess;

/// How long rzk may take to start serving.
pub const RZK_START_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct RzkServer {
    pub port: u16,
    pub data_dir: PathBuf,
    pub cfg_path: PathBuf,
    bin: PathBuf,
    defines: Vec<String>,
    process: Option<ServerProcess>,
    dir: TempDir,
}

impl RzkServer {
    /// Starts `bin server zoo.cfg -D...` with every four-letter word allowed and, as `RefZk`, the
    /// admin server off (its default port 8080 would collide between tests; a cfg line enables it).
    pub fn start(bin: &Path, extra_cfg_lines: &[&str], defines: &[&str]) -> io::Result<RzkServer> {
        let dir = tempfile::Builder::new().prefix("rzk-").tempdir()?;
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir)?;
        let port = net::free_port()?;
        let cfg_path = dir.path().join("zoo.cfg");
        let mut cfg = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n\
             admin.enableServer=false\n",
            data_dir.display()
        );
        for l in extra_cfg_lines {
            cfg.push_str(l);
            cfg.push('\n');
        }
        std::fs::write(&cfg_path, cfg)?;
        let defines = defines.iter().map(|s| s.to_string()).collect();
        let mut s = RzkServer { port, data_dir, cfg_path, bin: bin.to_owned(), defines, process: None, dir };
        s.start_again()?;
        Ok(s)
    }

    pub fn start_again(&mut self) -> io::Result<()> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("server").arg(&self.cfg_path).args(&self.defines);
        let log = self.dir.path().join("server.log");
        let mut p = ServerProcess::spawn("rzk", cmd, self.port, &log)?;
        // Poll for serving, giving up at once if the process exits (a refused start).
        let deadline = std::time::Instant::now() + RZK_START_TIMEOUT;
        let mut serving = false;
        while std::time::Instant::now() < deadline && p.is_running() {
            if net::wait_for_serving(self.port, std::time::Duration::from_millis(200)) {
                serving = true;
                break;
            }
        }
        if !serving || !p.is_running() {
            let log = p.log();
            return Err(io::Error::other(format!("rzk did not start; log:\n{log}")));
        }
        self.process = Some(p);
        Ok(())
    }

    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.start_again()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server process, while it runs (its pid, signals), as `RefZk::process`.
    pub fn process(&self) -> Option<&ServerProcess> {
        self.process.as_ref()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| p.is_running())
    }
}
