//! kazoo (Python, PyPI) runs a session against the reference ZooKeeper and against rzk:
//! `kazoo_session.py` asserts every result and prints its transcript, which must be the same on
//! both servers.
//!
//! The Python that has kazoo: `RZK_KAZOO_PYTHON` if set, else the workspace's `.venv` (which
//! `scripts/test.sh` creates with `pip install kazoo==2.11.0`). The test does not install
//! anything itself.

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Servers, Target};

fn python() -> PathBuf {
    match std::env::var_os("RZK_KAZOO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => common::workspace_root().join(".venv/bin/python"),
    }
}

fn missing() -> Option<String> {
    let py = python();
    if common::runs(&py.to_string_lossy(), &["-c", "import kazoo"]) {
        return None;
    }
    Some(format!(
        "kazoo: {} cannot import kazoo (run scripts/test.sh, or set RZK_KAZOO_PYTHON to a Python that has it)",
        py.display()
    ))
}

fn session(target: &Target) -> Vec<String> {
    let mut cmd = Command::new(python());
    cmd.arg(common::clients_dir().join("kazoo_session.py")).arg(&target.addr);
    let out = common::run_to_end("kazoo_session.py", cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: kazoo_session.py failed ({}):\n{}\ntranscript so far:\n{stdout}",
        target.name,
        out.status,
        String::from_utf8_lossy(&out.stderr),
    );
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    assert!(
        lines.iter().any(|l| l.starts_with("a: event count")),
        "{}: transcript incomplete:\n{stdout}",
        target.name
    );
    lines
}

#[test]
fn kazoo_session() {
    if !common::client_available("kazoo_session", missing()) {
        return;
    }
    let servers = Servers::start("kazoo_session");
    servers.play("kazoo_session", session);
}
