//! rzk's zkServer.sh, zkCli.sh and zkCleanup.sh (bin/) used the way init scripts use ZooKeeper's:
//! `--config <dir>`, ZOO_LOG_DIR, the pid file in dataDir, start/status/stop/restart/print-cmd,
//! the log file rotated by size, a bad configuration reported as FAILED TO START, and the messages
//! ZooKeeper's script prints (which init scripts grep for).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rzk_testkit::free_port;

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bin")
}

struct Install {
    dir: tempfile::TempDir,
    port: u16,
}

impl Install {
    fn new(extra: &str) -> Install {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port().expect("port");
        std::fs::create_dir_all(dir.path().join("conf")).expect("conf dir");
        let cfg = format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\n4lw.commands.whitelist=*\nadmin.enableServer=false\n{extra}",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("conf/zoo.cfg"), cfg).expect("zoo.cfg");
        Install { dir, port }
    }

    fn script(&self, name: &str, args: &[&str]) -> Output {
        self.script_env(name, args, &[])
    }

    fn script_env(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(bin_dir().join(name))
            .arg("--config")
            .arg(self.dir.path().join("conf"))
            .args(args)
            .env("RZK", env!("CARGO_BIN_EXE_rzk"))
            .env("ZOO_LOG_DIR", self.dir.path().join("logs"))
            .env_remove("ZOOCFGDIR")
            .env_remove("ZOOCFG")
            .env_remove("ZOOPIDFILE")
            .env_remove("SERVER_JVMFLAGS")
            .env_remove("JVMFLAGS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run the script")
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.path().join("data/zookeeper_server.pid")
    }

    fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

/// Kills a server a failed test left behind.
struct Reaper(Option<i32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    }
}

#[test]
fn start_status_stop_as_zookeepers_script() {
    let i = Install::new("");
    let out = i.script("zkServer.sh", &["start"]);
    assert!(out.status.success(), "start: {}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout(&out), "Starting zookeeper ... STARTED\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Using config: "), "the config is named on stderr");
    let pid = i.pid().expect("the pid file is in dataDir");
    let _reaper = Reaper(Some(pid));
    assert!(alive(pid));
    assert!(rzk_testkit::wait_for_serving(i.port, Duration::from_secs(20)), "the server serves");

    let out = i.script("zkServer.sh", &["status"]);
    assert!(out.status.success(), "status: {}", stdout(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "Client port found: {}. Client address: localhost. Client SSL: false.\nMode: standalone\n",
            i.port
        )
    );

    // A second start refuses, naming the running process.
    let out = i.script("zkServer.sh", &["start"]);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), format!("Starting zookeeper ... already running as process {pid}.\n"));

    // zkCli.sh talks to it (and says what it did on stderr, as ZooKeeper's does).
    let out = Command::new("bash")
        .arg(bin_dir().join("zkCli.sh"))
        .args(["-server", &format!("127.0.0.1:{}", i.port), "create", "/from-script", "x"])
        .env("RZK", env!("CARGO_BIN_EXE_rzk"))
        .output()
        .expect("zkCli.sh");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Created /from-script"), "{said}");

    // The log file is where ZooKeeper's would be, named the same way.
    let logs: Vec<String> = std::fs::read_dir(i.dir.path().join("logs"))
        .expect("log dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let log = logs.iter().find(|n| n.starts_with("zookeeper-") && n.ends_with(".log")).expect("a .log file");
    assert!(logs.iter().any(|n| n.ends_with(".out")), "{logs:?}");
    let text = std::fs::read_to_string(i.dir.path().join("logs").join(log)).expect("read the log");
    assert!(text.contains("database loaded"), "{text}");

    let out = i.script("zkServer.sh", &["restart"]);
    assert_eq!(stdout(&out), "Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n");
    let pid2 = i.pid().expect("a new pid file");
    let _reaper2 = Reaper(Some(pid2));
    assert_ne!(pid, pid2);
    assert!(!alive(pid), "the old server is gone after restart");
    assert!(rzk_testkit::wait_for_serving(i.port, Duration::from_secs(20)));
    let out = Command::new(env!("CARGO_BIN_EXE_rzk"))
        .args(["cli", "-server", &format!("127.0.0.1:{}", i.port), "get", "/from-script"])
        .output()
        .expect("rzk cli");
    assert!(stdout(&out).lines().any(|l| l == "x"), "the znode survived the restart: {}", stdout(&out));

    let out = i.script("zkServer.sh", &["stop"]);
    assert_eq!(stdout(&out), "Stopping zookeeper ... STOPPED\n");
    assert!(!alive(pid2), "stopped means gone");
    assert!(!i.pid_file().exists(), "stop removes the pid file");
    let out = i.script("zkServer.sh", &["stop"]);
    assert_eq!(
        stdout(&out),
        format!(
            "Stopping zookeeper ... no zookeeper to stop (could not find file {})\n",
            i.pid_file().display()
        )
    );
    let out = i.script("zkServer.sh", &["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).ends_with("Error contacting service. It is probably not running.\n"));
}

#[test]
fn a_bad_configuration_fails_to_start() {
    let i = Install::new("tickTime=soon\n");
    let out = i.script("zkServer.sh", &["start"]);
    let _reaper = Reaper(i.pid());
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(stdout(&out), "Starting zookeeper ... FAILED TO START\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("tickTime"), "the reason is shown");
    assert!(!i.pid_file().exists());
}

#[test]
fn the_log_rolls_over_and_print_cmd_shows_the_command() {
    let i = Install::new("");
    let flags = "-Dzookeeper.log.maxfilesize=1KB -Dzookeeper.log.maxbackupindex=2";
    let out = i.script_env("zkServer.sh", &["print-cmd"], &[("SERVER_JVMFLAGS", flags)]);
    let cmd = stdout(&out);
    assert!(
        cmd.contains(" server ") && cmd.contains("zoo.cfg") && cmd.contains("-Dzookeeper.log.dir="),
        "{cmd}"
    );

    let out = i.script_env("zkServer.sh", &["start"], &[("SERVER_JVMFLAGS", flags)]);
    assert!(out.status.success(), "{}", stdout(&out));
    let _reaper = Reaper(i.pid());
    assert!(rzk_testkit::wait_for_serving(i.port, Duration::from_secs(20)));
    // A failed create logs a line ("user-level error", as ZooKeeper's PrepRequestProcessor):
    // enough of them pass 1 KB several times.
    let logs = i.dir.path().join("logs");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let rolled = |n: u32| {
        std::fs::read_dir(&logs)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .any(|e| e.file_name().to_string_lossy().ends_with(&format!(".log.{n}")))
            })
            .unwrap_or(false)
    };
    while !rolled(2) && std::time::Instant::now() < deadline {
        let _ = Command::new(env!("CARGO_BIN_EXE_rzk"))
            .args(["cli", "-server", &format!("127.0.0.1:{}", i.port), "create", "/zookeeper", "x"])
            .output();
    }
    assert!(rolled(1) && rolled(2), "the log rolled over twice");
    assert!(!rolled(3), "only maxbackupindex backups are kept");
    for e in std::fs::read_dir(&logs).expect("logs").filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let len = e.metadata().map(|m| m.len()).unwrap_or(0);
        if name.contains(".log") {
            assert!(len <= 1024, "{name} is {len} bytes, over the 1KB limit");
        }
    }
    let out = i.script("zkServer.sh", &["stop"]);
    assert_eq!(stdout(&out), "Stopping zookeeper ... STOPPED\n");
}

#[test]
fn zkcleanup_keeps_the_newest_snapshots() {
    // snapCount=2: a snapshot every few txns, so that a handful of sessions leave many.
    let i = Install::new("snapCount=2\n");
    let out = i.script("zkServer.sh", &["start"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let _reaper = Reaper(i.pid());
    assert!(rzk_testkit::wait_for_serving(i.port, Duration::from_secs(20)));
    let server = format!("127.0.0.1:{}", i.port);
    for n in 0..12 {
        let out = Command::new(env!("CARGO_BIN_EXE_rzk"))
            .args(["cli", "-server", &server, "create", &format!("/n{n}"), "v"])
            .output()
            .expect("rzk cli");
        assert!(String::from_utf8_lossy(&out.stderr).contains("Created"), "{}", stdout(&out));
    }
    let out = i.script("zkServer.sh", &["stop"]);
    assert_eq!(stdout(&out), "Stopping zookeeper ... STOPPED\n");
    let v2 = i.dir.path().join("data/version-2");
    let files = |prefix: &str| -> Vec<i64> {
        let mut v: Vec<i64> = std::fs::read_dir(&v2)
            .expect("read version-2")
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                i64::from_str_radix(name.strip_prefix(prefix)?, 16).ok()
            })
            .collect();
        v.sort();
        v
    };
    let snaps_before = files("snapshot.");
    assert!(snaps_before.len() > 3, "snapCount=2 left only {snaps_before:?}");

    let out = i.script("zkCleanup.sh", &["-n", "3"]);
    assert!(out.status.success(), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    let snaps = files("snapshot.");
    assert_eq!(snaps, snaps_before[snaps_before.len() - 3..], "the newest three snapshots are kept");
    // Logs: everything after the oldest kept snapshot, and the one log holding it.
    let logs = files("log.");
    assert_eq!(logs.iter().filter(|z| **z <= snaps[0]).count(), 1, "{logs:?} vs snapshots {snaps:?}");

    // The purged data directory still holds everything.
    let out = i.script("zkServer.sh", &["start"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let _reaper2 = Reaper(i.pid());
    assert!(rzk_testkit::wait_for_serving(i.port, Duration::from_secs(20)));
    let out = Command::new(env!("CARGO_BIN_EXE_rzk"))
        .args(["cli", "-server", &server, "ls", "/"])
        .output()
        .expect("ls");
    for n in 0..12 {
        assert!(stdout(&out).contains(&format!("n{n}")), "/n{n} lost after the purge: {}", stdout(&out));
    }
    let out = i.script("zkServer.sh", &["stop"]);
    assert_eq!(stdout(&out), "Stopping zookeeper ... STOPPED\n");
}
