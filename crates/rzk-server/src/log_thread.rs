//! The sync stage (`SyncRequestProcessor`): a dedicated thread that appends txns to the log and
//! makes them durable with group commit. It takes every batch waiting in its channel, appends them
//! all, issues one fsync, and then reports the last zxid back to the core.
//!
//! When a write or fsync fails (a full disk, say), the batch is undone on disk (the file is cut
//! back, so nothing unacknowledged can come back on restart), the core is told, and every append
//! already queued behind it is dropped until the core answers `Resume`: those txns were prepared
//! on top of the failed ones and the core fails them too. The next batch after that tries again,
//! so the server recovers when space returns. Only if the undo itself fails does the server stop.

use std::sync::mpsc;
use std::time::Instant;

use rzk_node::LogAppend;
use rzk_storage::{FileTxnLog, LogError};
use tokio::sync::mpsc as tmpsc;

use crate::core::CoreMsg;

/// Most txns one fsync covers (`maxBatchSize` is 1000 in ZooKeeper).
pub const BATCH_TXNS_MAX: usize = 1000;

/// What the core asks of the log thread, in order.
#[derive(Debug)]
pub enum LogCmd {
    Append(Vec<LogAppend>),
    /// Start a new file with the next append (a snapshot is starting; `rollLog`).
    Roll,
    /// The core has failed the txns after a reported failure; appends are accepted again.
    Resume,
    /// Cut the log after `zxid` once every append before this command is written (TRUNC, and
    /// before a snapshot from the leader). Answers with the log's new generation: `Persisted`
    /// reports of older generations are about appends from before the cut.
    Truncate {
        zxid: i64,
        reply: mpsc::Sender<Result<u64, String>>,
    },
}

pub fn spawn(
    mut log: FileTxnLog,
    rx: mpsc::Receiver<LogCmd>,
    core: tmpsc::Sender<CoreMsg>,
    fsync_warning_ms: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rzk-sync".into()).spawn(move || {
        let mut failed = false;
        let mut generation = 0u64;
        let mut pending: Option<LogCmd> = None;
        loop {
            let cmd = match pending.take() {
                Some(c) => c,
                None => match rx.recv() {
                    Ok(c) => c,
                    Err(_) => return,
                },
            };
            let mut batch = match cmd {
                LogCmd::Resume => {
                    failed = false;
                    continue;
                }
                LogCmd::Roll => {
                    if let Err(e) = log.roll() {
                        tracing::warn!(error = %e, "cannot roll the log");
                    }
                    continue;
                }
                LogCmd::Truncate { zxid, reply } => {
                    generation += 1;
                    let r = log.truncate(zxid).map(|()| generation).map_err(|e| e.to_string());
                    let _ = reply.send(r);
                    continue;
                }
                LogCmd::Append(_) if failed => continue,
                LogCmd::Append(b) => b,
            };
            // Group commit: take what else is waiting, up to a Roll or Resume.
            while batch.len() < BATCH_TXNS_MAX {
                match rx.try_recv() {
                    Ok(LogCmd::Append(more)) => batch.extend(more),
                    Ok(other) => {
                        pending = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            let Some(last) = batch.last().map(|a| a.zxid) else { continue };
            let mark = log.mark();
            match write_batch(&mut log, &batch, fsync_warning_ms) {
                Ok(fsync_ms) => {
                    let msg = CoreMsg::Persisted { through: last, txns: batch.len(), fsync_ms, generation };
                    if core.blocking_send(msg).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot write the transaction log; failing the txns");
                    if let Err(undo) = log.discard_since(&mark) {
                        tracing::error!(error = %undo, "cannot undo a failed log write; stopping the server");
                        let _ = core.blocking_send(CoreMsg::StorageFailed(undo.to_string()));
                        return;
                    }
                    failed = true;
                    if core.blocking_send(CoreMsg::LogFailed { error: e.to_string() }).is_err() {
                        return;
                    }
                }
            }
        }
    })
}

fn write_batch(log: &mut FileTxnLog, batch: &[LogAppend], fsync_warning_ms: u64) -> Result<u64, LogError> {
    for a in batch {
        log.append(a.zxid, &a.bytes)?;
    }
    let t = Instant::now();
    log.commit()?;
    let ms = t.elapsed().as_millis() as u64;
    if ms > fsync_warning_ms {
        tracing::warn!(
            fsync_ms = ms,
            "fsync-ing the write ahead log took long; this adversely affects latency"
        );
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    /// A txn whose header carries `zxid` where the log reader looks for it.
    fn txn(zxid: i64) -> LogAppend {
        let mut b = Vec::new();
        b.extend_from_slice(&7i64.to_be_bytes()); // client id
        b.extend_from_slice(&1i32.to_be_bytes()); // cxid
        b.extend_from_slice(&zxid.to_be_bytes());
        b.extend_from_slice(&0i64.to_be_bytes()); // time
        b.extend_from_slice(&(-10i32).to_be_bytes()); // type
        b.extend_from_slice(&[0xab; 90]);
        LogAppend { zxid, bytes: Bytes::from(b) }
    }

    struct Stage {
        dir: tempfile::TempDir,
        tx: mpsc::Sender<LogCmd>,
        core_rx: tmpsc::Receiver<CoreMsg>,
    }

    fn start() -> Stage {
        let dir = tempfile::tempdir().unwrap();
        let log = FileTxnLog::open(dir.path(), 1 << 20, true).unwrap();
        let (tx, rx) = mpsc::channel();
        let (core_tx, core_rx) = tmpsc::channel(1024);
        spawn(log, rx, core_tx, 1000).unwrap();
        Stage { dir, tx, core_rx }
    }

    /// Collects `Persisted` reports until one covers `zxid`; returns (through, txns) of each.
    fn persisted_through(core_rx: &mut tmpsc::Receiver<CoreMsg>, zxid: i64) -> Vec<(i64, usize)> {
        let mut reports = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while reports.last().is_none_or(|(through, _)| *through < zxid) {
            assert!(Instant::now() < deadline, "no report through {zxid}: {reports:?}");
            match core_rx.try_recv() {
                Ok(CoreMsg::Persisted { through, txns, .. }) => reports.push((through, txns)),
                Ok(other) => panic!("unexpected {}", describe(&other)),
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        reports
    }

    fn describe(m: &CoreMsg) -> &'static str {
        match m {
            CoreMsg::LogFailed { .. } => "LogFailed",
            CoreMsg::StorageFailed(_) => "StorageFailed",
            _ => "another message",
        }
    }

    fn zxids_on_disk(dir: &std::path::Path) -> Vec<i64> {
        rzk_storage::read_log_dir(dir, 0).unwrap().iter().map(|e| e.zxid).collect()
    }

    #[test]
    fn reports_come_in_order_and_cover_every_txn_exactly_once() {
        let mut s = start();
        for z in 1..=500 {
            s.tx.send(LogCmd::Append(vec![txn(z)])).unwrap();
        }
        let reports = persisted_through(&mut s.core_rx, 500);
        assert!(reports.windows(2).all(|w| w[0].0 < w[1].0), "through goes up: {reports:?}");
        assert_eq!(reports.iter().map(|r| r.1).sum::<usize>(), 500, "{reports:?}");
        assert_eq!(zxids_on_disk(s.dir.path()), (1..=500).collect::<Vec<_>>());
    }

    #[test]
    fn roll_and_truncate_wait_for_the_syncs_in_flight() {
        let mut s = start();
        for z in 1..=60 {
            s.tx.send(LogCmd::Append(vec![txn(z)])).unwrap();
        }
        s.tx.send(LogCmd::Roll).unwrap();
        for z in 61..=100 {
            s.tx.send(LogCmd::Append(vec![txn(z)])).unwrap();
        }
        let (reply_tx, reply_rx) = mpsc::channel();
        s.tx.send(LogCmd::Truncate { zxid: 80, reply: reply_tx }).unwrap();
        let generation = reply_rx.recv_timeout(Duration::from_secs(20)).unwrap().unwrap();
        assert_eq!(generation, 1);
        // Everything before the truncation was reported durable before it ran.
        let reports = persisted_through(&mut s.core_rx, 100);
        assert_eq!(reports.iter().map(|r| r.1).sum::<usize>(), 100);
        assert_eq!(zxids_on_disk(s.dir.path()), (1..=80).collect::<Vec<_>>());
        let files = std::fs::read_dir(s.dir.path().join("version-2")).unwrap().count();
        assert_eq!(files, 2, "the roll started a second file");
        // Appends after the cut are in the new generation.
        s.tx.send(LogCmd::Append(vec![txn(81)])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline);
            match s.core_rx.try_recv() {
                Ok(CoreMsg::Persisted { through: 81, generation, .. }) => {
                    assert_eq!(generation, 1);
                    break;
                }
                Ok(other) => panic!("unexpected {}", describe(&other)),
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        assert_eq!(zxids_on_disk(s.dir.path()), (1..=81).collect::<Vec<_>>());
    }
}
