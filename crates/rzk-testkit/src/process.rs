//! A server run as a child process for a test: started from any `Command`, its output sent to
//! a log file, killed with SIGKILL on drop (so a failing test leaves nothing running).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::net;

/// A running server process.
#[derive(Debug)]
pub struct ServerProcess {
    name: String,
    command: Vec<String>,
    child: Option<Child>,
    /// The client port it serves (what readiness polls).
    pub port: u16,
    pub log_path: PathBuf,
}

impl ServerProcess {
    /// Starts `cmd` with stdout and stderr appended to `log_path`.
    pub fn spawn(name: &str, mut cmd: Command, port: u16, log_path: &Path) -> io::Result<ServerProcess> {
        let log = File::options().create(true).append(true).open(log_path)?;
        let command = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
        let child = cmd.spawn()?;
        Ok(ServerProcess {
            name: name.to_owned(),
            command,
            child: Some(child),
            port,
            log_path: log_path.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The command line it was started with.
    pub fn command(&self) -> &[String] {
        &self.command
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Polls the client port until it accepts connections (false on timeout or if the process
    /// exited; the log is then worth reading).
    pub fn wait_for_port(&mut self, timeout: Duration) -> bool {
        net::wait_for_port(self.port, timeout) && self.is_running()
    }

    /// kill -9, and reap it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`, `TERM`, ...) with kill(1).
    pub fn signal(&self, sig: &str) -> bool {
        let Some(pid) = self.pid() else { return false };
        Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().is_ok_and(|s| s.success())
    }

    /// Freezes the process (SIGSTOP): it keeps its sockets but answers nothing.
    pub fn pause(&self) -> bool {
        self.signal("STOP")
    }

    /// Thaws a paused process (SIGCONT).
    pub fn resume(&self) -> bool {
        self.signal("CONT")
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`.
    pub fn terminate(&mut self, grace: Duration) {
        let Some(mut c) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if matches!(c.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(net::POLL_INTERVAL);
        }
        let _ = c.kill();
        let _ = c.wait();
    }

    /// The log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
