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
