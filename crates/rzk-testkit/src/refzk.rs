//! The reference server: Apache ZooKeeper 3.8 from Debian's `zookeeper` package, standalone, in
//! a temp dir, on a free 127.0.0.1 port, with every four-letter word allowed and the admin
//! server off. Also the reference zkCli (`ZooKeeperMain`) as a command.
//!
//! When the package is missing, `start_or_skip` prints a SKIP line and returns `None`; with
//! `RZK_REQUIRE_REFZK=1` in the environment (CI) it panics instead, so a missing install cannot
//! pass unnoticed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::net;
use crate::process::ServerProcess;

/// Debian's ZooKeeper jar; its manifest names every dependency jar.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// A logger binding, so the server's log says something (it is optional).
pub const SLF4J_SIMPLE_JAR: &str = "/usr/share/java/slf4j-simple.jar";
/// The servlet API, which the AdminServer (Jetty) needs and Debian's jar manifest does not list;
/// without it `admin.enableServer=true` logs "Unable to load jetty" and serves no admin port.
pub const SERVLET_API_JAR: &str = "/usr/share/java/servlet-api.jar";
pub const JAVA: &str = "/usr/bin/java";
/// How long a JVM may take to start serving.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);
/// JVM options that make a test server start fast and stay small.
pub const JVM_DEFAULT_FLAGS: [&str; 3] = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];

/// Netty jars that TLS (NettyServerCnxnFactory, ClientCnxnSocketNetty) needs and Debian's jar
/// manifest does not list.
pub const NETTY_TLS_JARS: [&str; 2] =
    ["/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"];

/// The server's classpath: the jar, and the servlet API, slf4j-simple (logs on stderr) and the
/// Netty jars TLS needs, when installed.
pub(crate) fn server_classpath() -> String {
    let mut cp = ZOOKEEPER_JAR.to_owned();
    for jar in [SERVLET_API_JAR, SLF4J_SIMPLE_JAR].into_iter().chain(NETTY_TLS_JARS) {
        if Path::new(jar).exists() {
            cp.push(':');
            cp.push_str(jar);
        }
    }
    cp
}

/// A running (or stopped) reference ZooKeeper.
#[derive(Debug)]
pub struct RefZk {
    pub port: u16,
    pub data_dir: PathBuf,
    pub cfg_path: PathBuf,
    jvm_flags: Vec<String>,
    process: Option<ServerProcess>,
    dir: TempDir,
}

impl RefZk {
    /// Why the reference server cannot run here, if it cannot.
    pub fn missing() -> Option<String> {
        for p in [JAVA, ZOOKEEPER_JAR] {
            if !Path::new(p).exists() {
                return Some(format!("{p} not found (install Debian's zookeeper package and a JRE)"));
            }
        }
        None
    }

    /// Starts a server; `extra_cfg_lines` go after the defaults in zoo.cfg (a repeated key
    /// overrides), `jvm_flags` after the defaults on the java command line (for example
    /// `-Dzookeeper.extendedTypesEnabled=true`).
    pub fn start(extra_cfg_lines: &[&str], jvm_flags: &[&str]) -> io::Result<RefZk> {
        if let Some(why) = Self::missing() {
            return Err(io::Error::new(io::ErrorKind::NotFound, why));
        }
        let dir = tempfile::Builder::new().prefix("refzk-").tempdir()?;
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir)?;
        let port = net::free_port()?;
        let cfg_path = dir.path().join("zoo.cfg");
        let mut cfg = format!(
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
            data_dir.display()
        );
        for l in extra_cfg_lines {
            cfg.push_str(l);
            cfg.push('\n');
        }
        std::fs::write(&cfg_path, cfg)?;
        let jvm_flags = jvm_flags.iter().map(|s| s.to_string()).collect();
        let mut zk = RefZk { port, data_dir, cfg_path, jvm_flags, process: None, dir };
        zk.start_again()?;
        Ok(zk)
    }

    /// `start`, or `None` after printing why the test is skipped (see the module docs).
    pub fn start_or_skip(test: &str, extra_cfg_lines: &[&str], jvm_flags: &[&str]) -> Option<RefZk> {
        if let Some(why) = Self::missing() {
            assert!(
                std::env::var_os("RZK_REQUIRE_REFZK").is_none(),
                "{test}: reference ZooKeeper required (RZK_REQUIRE_REFZK is set) but {why}"
            );
            println!("SKIP {test}: reference Apache ZooKeeper not installed: {why}");
            return None;
        }
        match Self::start(extra_cfg_lines, jvm_flags) {
            Ok(zk) => Some(zk),
            Err(e) => panic!("{test}: starting the reference ZooKeeper failed: {e}"),
        }
    }

    /// Starts the (stopped) server again on the same port and data dir.
    pub fn start_again(&mut self) -> io::Result<()> {
        let mut cmd = Command::new(JAVA);
        cmd.args(JVM_DEFAULT_FLAGS)
            .args(&self.jvm_flags)
            .arg(format!("-Dzookeeper.log.dir={}", self.dir.path().display()))
            .arg("-cp")
            .arg(server_classpath())
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&self.cfg_path);
        let log = self.dir.path().join("server.log");
        let mut p = ServerProcess::spawn("refzk", cmd, self.port, &log)?;
        if !net::wait_for_serving(self.port, START_TIMEOUT) || !p.is_running() {
            let log = p.log();
            return Err(io::Error::other(format!("reference ZooKeeper did not start; log:\n{log}")));
        }
        self.process = Some(p);
        Ok(())
    }

    /// kill -9 (sessions and data survive in the data dir, as after a crash).
    pub fn kill(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill();
        }
    }

    /// kill -9 then start again.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill();
        self.start_again()
    }

    /// The server process, while it runs (for `pause()`/`resume()`, signals, its pid).
    pub fn process(&self) -> Option<&ServerProcess> {
        self.process.as_ref()
    }

    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(ServerProcess::is_running)
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The temp dir holding zoo.cfg, data/ and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The reference zkCli (`ZooKeeperMain`) with `args` (e.g. `-server 127.0.0.1:p`).
    pub fn zkcli_command(args: &[&str]) -> Command {
        let mut cmd = Command::new(JAVA);
        cmd.args(JVM_DEFAULT_FLAGS)
            .arg("-cp")
            .arg(ZOOKEEPER_JAR)
            .arg("org.apache.zookeeper.ZooKeeperMain")
            .args(args);
        cmd
    }
}
