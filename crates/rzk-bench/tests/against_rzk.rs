//! `rzk bench` against a real rzk server (the `rzk` binary, started by the testkit): a one-second
//! `create` run must measure operations and print one JSON line that parses, and every other
//! workload must run once on a small scale.
//!
//! The binary is `CARGO_BIN_EXE_rzk` when this file is built as a test of the `rzk` package,
//! else `$RZK_BIN`, else `rzk` next to this test's directory in the target dir (built by any
//! workspace-wide `cargo test`); without one the tests print SKIP.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use rzk_testkit::RzkServer;
use serde_json::Value;

fn rzk_bin() -> Option<PathBuf> {
    if let Some(p) = option_env!("CARGO_BIN_EXE_rzk") {
        return Some(p.into());
    }
    if let Some(p) = std::env::var_os("RZK_BIN") {
        return Some(p.into());
    }
    // target/<profile>/deps/<this test> -> target/<profile>/rzk
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("rzk");
    candidate.exists().then_some(candidate)
}

fn start(test: &str) -> Result<Option<RzkServer>> {
    let Some(bin) = rzk_bin() else {
        println!("SKIP {test}: no rzk binary (cargo build -p rzk, or set RZK_BIN)");
        return Ok(None);
    };
    let cfg = ["maxClientCnxns=0"];
    Ok(Some(RzkServer::start(Path::new(&bin), &cfg, &[]).context("starting rzk")?))
}

/// Runs `rzk bench <args> --json` against `server`; returns the exit code and the JSON line.
fn bench(server: &RzkServer, args: &[&str]) -> Result<(i32, Value)> {
    let addr = server.addr();
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--server", &addr, "--json", "--threads", "2"].map(String::from));
    let mut out = Vec::new();
    let code = rzk_bench::main_with_output(&all, &mut out);
    let text = String::from_utf8(out)?;
    let lines: Vec<&str> = text.lines().collect();
    ensure!(lines.len() == 1, "expected one JSON line, got {text:?}");
    Ok((code, serde_json::from_str(lines[0]).with_context(|| format!("parsing {:?}", lines[0]))?))
}

fn number(v: &Value, field: &str) -> f64 {
    v[field].as_f64().unwrap_or(-1.0)
}

#[test]
fn create_for_one_second_measures_ops_and_prints_a_json_line() -> Result<()> {
    let Some(server) = start("create_for_one_second")? else { return Ok(()) };
    let args = [
        "create",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        "--sessions",
        "2",
        "--outstanding",
        "4",
        "--label",
        "t",
    ];
    let (code, v) = bench(&server, &args)?;
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (v["tool"].as_str(), v["workload"].as_str(), v["label"].as_str()),
        (Some("rzk-bench"), Some("create"), Some("t"))
    );
    assert!(number(&v, "ops") > 0.0, "{v}");
    assert_eq!(number(&v, "errors"), 0.0, "{v}");
    assert!((0.9..2.0).contains(&number(&v, "duration_s")), "{v}");
    assert!(number(&v, "ops_per_s") > 0.0, "{v}");
    let l = &v["latency_us"];
    assert!(
        number(l, "p50") >= 1.0
            && number(l, "p50") <= number(l, "p99")
            && number(l, "p99") <= number(l, "p999"),
        "{v}"
    );
    assert!(v["client_cpu_s"].is_number() || v["client_cpu_s"].is_null());
    Ok(())
}

#[test]
fn every_workload_runs_on_a_small_scale() -> Result<()> {
    let Some(server) = start("every_workload")? else { return Ok(()) };
    let small = ["--sessions", "2", "--outstanding", "3", "--warmup", "0", "--keys", "20"];
    let runs: [&[&str]; 6] = [
        &["get", "--ops", "200"],
        &["set", "--ops", "100"],
        &["mixed", "--read-percent", "50", "--duration", "0.3"],
        &["watch", "--watchers", "5", "--rounds", "2"],
        &["sessions", "--count", "20", "--parallel", "4", "--source-ips", "2"],
        &["load", "--nodes", "150", "--parent", "/it/load"],
    ];
    for run in runs {
        let args: Vec<&str> = run.iter().chain(small.iter()).copied().collect();
        let (code, v) = bench(&server, &args)?;
        assert_eq!((code, number(&v, "errors")), (0, 0.0), "{run:?}: {v}");
        assert!(number(&v, "ops") > 0.0, "{run:?}: {v}");
        match run[0] {
            "get" => assert_eq!(number(&v, "ops"), 200.0, "{v}"),
            "watch" => {
                assert_eq!(number(&v, "ops"), 10.0, "5 watchers x 2 rounds: {v}");
                assert_eq!(v["fanout_ms"]["rounds"].as_array().map(Vec::len), Some(2), "{v}");
            }
            "sessions" => {
                assert_eq!(number(&v, "ops"), 20.0, "{v}");
                assert!(v["server_sessions"].is_null(), "read only with --detach: {v}");
            }
            "load" => assert_eq!(number(&v, "ops"), 150.0, "{v}"),
            _ => {}
        }
    }
    // load's nodes are where it says; a second load of the same nodes fails on every create.
    let (code, v) = bench(&server, &["load", "--nodes", "150", "--parent", "/it/load", "--sessions", "1"])?;
    assert_eq!((code, number(&v, "ops"), number(&v, "errors")), (1, 0.0, 150.0), "{v}");
    assert!(v["first_error"].as_str().is_some_and(|e| e.contains("NodeExists")), "{v}");
    Ok(())
}

#[test]
fn detached_sessions_stay_on_the_server() -> Result<()> {
    let Some(server) = start("detached_sessions")? else { return Ok(()) };
    let args = ["sessions", "--count", "30", "--parallel", "4", "--detach", "--session-timeout-ms", "30000"];
    let (code, v) = bench(&server, &args)?;
    assert_eq!((code, number(&v, "ops"), number(&v, "errors")), (0, 30.0, 0.0), "{v}");
    // The connections are gone, the sessions are not (the server's own count, from mntr).
    assert_eq!(number(&v, "server_sessions"), 30.0, "{v}");
    Ok(())
}

#[test]
fn an_open_loop_run_offers_the_rate_asked_for() -> Result<()> {
    let Some(server) = start("open_loop_rate")? else { return Ok(()) };
    // 2,000 ops/s over 4 sessions for 1 s: far below what the server does, so the schedule
    // (not the server) sets the count.
    let args =
        ["get", "--rate", "2000", "--duration", "1", "--warmup", "0.2", "--sessions", "4", "--keys", "20"];
    let (code, v) = bench(&server, &args)?;
    assert_eq!(code, 0, "{v}");
    assert_eq!(number(&v, "rate_ops_per_s"), 2000.0, "{v}");
    let ops = number(&v, "ops");
    assert!((1800.0..=2100.0).contains(&ops), "offered 2000 ops in 1 s, measured {ops}: {v}");
    assert_eq!(number(&v, "errors"), 0.0, "{v}");
    // How late requests left is measured, and is part of their latency.
    let lag = &v["send_lag_us"];
    assert!(lag["p50"].as_u64().is_some_and(|p| p <= number(&v["latency_us"], "max") as u64), "{v}");
    // A closed-loop run reports no rate and no send lag.
    let (_, closed) = bench(&server, &["get", "--duration", "0.3", "--warmup", "0", "--keys", "20"])?;
    assert!(closed["rate_ops_per_s"].is_null(), "{closed}");
    assert!(closed["send_lag_us"].is_null(), "{closed}");
    Ok(())
}
