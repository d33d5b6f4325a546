//! `disk`: the floor the disk puts under write latency at an offered load, with no server at all.
//! Ops are scheduled as in a `--rate` run (the same per-session pacer, one session); each write
//! is a record of a setData txn's size (`--value-bytes` + [`TXN_OVERHEAD_BYTES`]) handed to a
//! group-commit thread, which appends everything waiting in one `pwrite`, issues one
//! `fdatasync` and stamps each record durable. A write's latency runs from its scheduled time to
//! that stamp; a read (`--read-percent`) costs nothing but the pacer's lateness. The file is
//! preallocated sparse in 64 MiB steps, as ZooKeeper and rzk preallocate their logs, so the
//! fsyncs that fill a new block pay for its allocation as theirs do.
//!
//! No server can acknowledge writes on that disk at that rate sooner than this loop, so a
//! server's `--rate` latencies read against it show how much of them is the disk (see
//! `scripts/compare-zookeeper.sh --disk-floor`).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rzk_storage::txnlog::{PREALLOC_BYTES_DEFAULT, padded_size};

use super::{round1, round3};
use crate::args::{Bench, Stop};
use crate::error::BenchError;
use crate::pacer::Pacer;
use crate::procstat::CpuMeter;
use crate::report::Report;
use crate::stats::{Latency, Recorder};

/// Bytes a setData txn's log entry adds to its value (entry framing, txn header, path, version).
pub const TXN_OVERHEAD_BYTES: usize = 100;

/// One scheduled write, on its way to the group-commit thread.
struct Write {
    /// When it was scheduled to leave.
    at: Instant,
    measured: bool,
}

pub async fn run(b: &Bench, dir: &Path, read_percent: u8) -> Result<Report, BenchError> {
    let Some(rate) = b.rate else {
        return Err(BenchError::Failed("disk needs --rate (the offered load, ops/s)".into()));
    };
    let path = dir.join(format!("rzk-bench-disk-{}.log", std::process::id()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| BenchError::Failed(format!("cannot create {}: {e}", path.display())))?;
    let res = measured(b, file, rate, read_percent).await;
    let _ = std::fs::remove_file(&path);
    res
}

async fn measured(b: &Bench, file: File, rate: u64, read_percent: u8) -> Result<Report, BenchError> {
    let recorder = std::sync::Arc::new(Recorder::new()?);
    let lag = Recorder::new()?;
    let record_bytes = b.value_bytes + TXN_OVERHEAD_BYTES;
    let (tx, rx) = mpsc::channel::<Write>();
    let sync = {
        let recorder = recorder.clone();
        std::thread::Builder::new()
            .name("bench-disk-sync".into())
            .spawn(move || group_commit(&file, &rx, record_bytes, &recorder))?
    };
    let mut pacer = Pacer::new()?;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let write_percent = u64::from(100 - read_percent);
    let start = Instant::now();
    let measure_from = start + b.warmup;
    let mut meter = None;
    let mut next = start;
    let mut measured_ops = 0u64;
    let mut local = recorder.local();
    let mut lag_local = lag.local();
    for i in 0u64.. {
        if pacer.until(next).await.is_err() {
            return Err(BenchError::Failed("the send timer failed".into()));
        }
        let now = Instant::now();
        let measuring = next >= measure_from;
        if measuring && meter.is_none() {
            meter = Some(CpuMeter::start(None));
        }
        let done = match b.stop {
            Stop::After(d) => measuring && next >= measure_from + d,
            Stop::Ops(n) => measured_ops >= n,
        };
        if done {
            break;
        }
        if measuring {
            measured_ops += 1;
            lag_local.record(now.saturating_duration_since(next));
        }
        if (i * write_percent) % 100 < write_percent {
            if tx.send(Write { at: next, measured: measuring }).is_err() {
                break;
            }
        } else if measuring {
            local.record(now.saturating_duration_since(next));
        }
        next += period;
    }
    drop((tx, local, lag_local));
    let cpu = meter.unwrap_or_else(|| CpuMeter::start(None)).stop();
    let synced = tokio::task::spawn_blocking(move || sync.join())
        .await
        .map_err(|e| BenchError::Failed(format!("the sync thread: {e}")))?;
    match synced {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(BenchError::Failed(format!("writing the file: {e}"))),
        Err(_) => return Err(BenchError::Failed("the sync thread panicked".into())),
    }
    let mut r = Report::new(b);
    let elapsed = Duration::from_secs_f64(cpu.wall_s);
    r.duration_s = round3(cpu.wall_s);
    r.ops = recorder.ops();
    r.ops_per_s = round1(crate::stats::rate(r.ops, elapsed));
    r.latency_us = Latency::of(&recorder.histogram()?);
    r.send_lag_us = Latency::of(&lag.histogram()?);
    r.wall_s = cpu.wall_s;
    r.client_cpu_s = cpu.client_s;
    Ok(r)
}

/// The sync thread: everything waiting, one write, one fdatasync, every record stamped.
fn group_commit(
    file: &File,
    rx: &mpsc::Receiver<Write>,
    record_bytes: usize,
    recorder: &Recorder,
) -> std::io::Result<()> {
    let mut local = recorder.local();
    let (mut position, mut size) = (0u64, 0u64);
    let mut buf = Vec::new();
    let mut batch = Vec::new();
    while let Ok(first) = rx.recv() {
        batch.clear();
        batch.push(first);
        batch.extend(rx.try_iter());
        buf.clear();
        buf.resize(batch.len() * record_bytes, 0xab);
        let end = position + buf.len() as u64;
        // Grow as the logs do (`FileTxnLog::append`): a zero byte at the new end (sparse).
        let grown = padded_size(position, size, PREALLOC_BYTES_DEFAULT).max(padded_size(
            end,
            size,
            PREALLOC_BYTES_DEFAULT,
        ));
        if grown != size && grown > end {
            file.write_all_at(&[0], grown - 1)?;
            size = grown;
        }
        file.write_all_at(&buf, position)?;
        file.sync_data()?;
        position = end;
        let durable = Instant::now();
        for w in batch.iter().filter(|w| w.measured) {
            local.record(durable.saturating_duration_since(w.at));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_land_in_a_file_preallocated_as_the_logs_are() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("disk.log");
        let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path).expect("file");
        let recorder = Recorder::new().expect("recorder");
        let (tx, rx) = mpsc::channel();
        let at = Instant::now();
        for measured in [false, true, true] {
            tx.send(Write { at, measured }).expect("send");
        }
        drop(tx);
        group_commit(&file, &rx, 150, &recorder).expect("written");
        // One preallocation step, as FileTxnLog grows its files; the records at the start.
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), PREALLOC_BYTES_DEFAULT);
        let mut head = vec![0u8; 3 * 150 + 16];
        file.read_exact_at(&mut head, 0).expect("read");
        assert!(head[..450].iter().all(|&b| b == 0xab) && head[450..].iter().all(|&b| b == 0));
        assert_eq!(recorder.ops(), 2, "only the measured writes are recorded");
    }
}
