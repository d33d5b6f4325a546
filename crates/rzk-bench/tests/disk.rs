//! `rzk bench disk`: no server; paced writes made durable by group commit in a file of its own
//! in `--dir`, which it removes afterwards.

use anyhow::{Context, Result, ensure};
use serde_json::Value;

fn disk(args: &[&str]) -> Result<(i32, Value)> {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--json", "--threads", "2"].map(String::from));
    let mut out = Vec::new();
    let code = rzk_bench::main_with_output(&all, &mut out);
    let text = String::from_utf8(out)?;
    let lines: Vec<&str> = text.lines().collect();
    ensure!(lines.len() <= 1, "expected at most one JSON line, got {text:?}");
    let v = match lines.first() {
        Some(l) => serde_json::from_str(l).with_context(|| format!("parsing {l:?}"))?,
        None => Value::Null,
    };
    Ok((code, v))
}

#[test]
fn writes_at_the_rate_asked_for_and_leaves_no_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().to_str().context("utf-8 temp dir")?;
    let args = ["disk", "--dir", d, "--rate", "2000", "--ops", "300", "--warmup", "0.1"];
    let (code, v) = disk(&args)?;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["workload"], "disk", "{v}");
    assert_eq!(v["server"], d, "{v}");
    assert_eq!(v["ops"], 300, "{v}");
    assert_eq!(v["read_percent"], 0, "{v}");
    // Every op was a write: durable after its scheduled time, never before it was sent.
    let (lat, lag) = (&v["latency_us"], &v["send_lag_us"]);
    assert!(lat["p50"].as_u64().is_some_and(|p| p >= lag["p50"].as_u64().unwrap_or(u64::MAX)), "{v}");
    // 300 ops at 2,000/s take 0.15 s of schedule, whatever the disk.
    assert!(v["duration_s"].as_f64().is_some_and(|s| s >= 0.14), "{v}");
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0, "the file is removed");
    Ok(())
}

#[test]
fn reads_only_touch_no_disk_and_a_rate_is_required() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().to_str().context("utf-8 temp dir")?;
    let args =
        ["disk", "--dir", d, "--rate", "5000", "--ops", "200", "--warmup", "0", "--read-percent", "100"];
    let (code, v) = disk(&args)?;
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ops"], 200, "{v}");
    // A read costs its send lag and nothing else.
    assert_eq!(v["latency_us"]["max"], v["send_lag_us"]["max"], "{v}");
    let (code, v) = disk(&["disk", "--dir", d, "--ops", "10"])?;
    assert_eq!(code, 1, "no --rate: {v}");
    let (code, _) = disk(&["disk", "--dir", "/nonexistent/rzk-bench", "--rate", "100", "--ops", "1"])?;
    assert_eq!(code, 1, "a directory that does not exist");
    Ok(())
}
