//! Differential test: every scenario in `differential/scenarios.rs` is played against the
//! reference Apache ZooKeeper 3.8 (Debian's package) and against the rzk binary, started with the
//! same zoo.cfg and system properties, and every outcome must be identical.

#[path = "differential/build.rs"]
mod build;
#[path = "differential/harness.rs"]
mod harness;
#[path = "differential/scenarios.rs"]
mod scenarios;

use std::path::Path;

use harness::Target;
use rzk_testkit::{RefZk, RzkServer};

/// The settings both servers run with: short ticks so expiry and containers are quick.
const CFG: [&str; 2] = ["tickTime=200", "extendedTypesEnabled=true"];
const DEFINES: [&str; 3] = [
    "-Dznode.container.checkIntervalMs=100",
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
    "-Dzookeeper.extendedTypesEnabled=true",
];
/// The issue asks for at least this many scenarios.
const SCENARIOS_MIN: usize = 150;

#[test]
fn rzk_answers_like_zookeeper() {
    let Some(reference) = RefZk::start_or_skip("differential", &CFG, &DEFINES) else { return };
    let rzk = RzkServer::start(Path::new(env!("CARGO_BIN_EXE_rzk")), &CFG, &DEFINES).expect("rzk starts");
    let scenarios = scenarios::all();
    assert!(scenarios.len() >= SCENARIOS_MIN, "only {} scenarios", scenarios.len());
    let only = std::env::var("RZK_DIFF_ONLY").ok();

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let ref_target = Target { addr: reference.addr() };
    let rzk_target = Target { addr: rzk.addr() };
    let mut failures = Vec::new();
    let mut played = 0;
    for sc in &scenarios {
        if only.as_deref().is_some_and(|o| !sc.name.contains(o)) {
            continue;
        }
        played += 1;
        let want = rt.block_on(harness::play(&ref_target, sc));
        let got = rt.block_on(harness::play(&rzk_target, sc));
        if want != got {
            failures.push(diff(&sc.name, &want, &got));
        }
    }
    println!("{played} scenarios played, {} differ", failures.len());
    if !failures.is_empty() {
        for f in &failures {
            println!("{f}");
        }
        println!("rzk log tail:\n{}", tail(&rzk.log(), 40));
        panic!("{} of {played} scenarios differ from ZooKeeper", failures.len());
    }
}

fn diff(name: &str, want: &[String], got: &[String]) -> String {
    let mut s = format!("=== {name}\n");
    let n = want.len().max(got.len());
    for i in 0..n {
        let (w, g) = (
            want.get(i).map(String::as_str).unwrap_or("<none>"),
            got.get(i).map(String::as_str).unwrap_or("<none>"),
        );
        if w == g {
            s.push_str(&format!("    {w}\n"));
        } else {
            s.push_str(&format!("  - zookeeper: {w}\n  + rzk:       {g}\n"));
        }
    }
    s
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
