//! The sync stage (`SyncRequestProcessor`): a dedicated thread that appends txns to the log and
//! makes them durable with group commit. It takes every batch waiting in its channel, appends them
//! all, issues one fsync, and then reports the last zxid back to the core. A storage error stops
//! the server: it must not go on acknowledging after it may have lost data.

use std::sync::mpsc;
use std::time::Instant;

use rzk_node::LogAppend;
use rzk_storage::FileTxnLog;
use tokio::sync::mpsc as tmpsc;

use crate::core::CoreMsg;

/// Most txns one fsync covers (`maxBatchSize` is 1000 in ZooKeeper).
pub const BATCH_TXNS_MAX: usize = 1000;

pub fn spawn(
    mut log: FileTxnLog,
    rx: mpsc::Receiver<Vec<LogAppend>>,
    core: tmpsc::Sender<CoreMsg>,
    fsync_warning_ms: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("rzk-sync".into()).spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut batch = first;
            while batch.len() < BATCH_TXNS_MAX {
                match rx.try_recv() {
                    Ok(more) => batch.extend(more),
                    Err(_) => break,
                }
            }
            let Some(last) = batch.last().map(|a| a.zxid) else { continue };
            let result = batch.iter().try_for_each(|a| log.append(a.zxid, &a.bytes)).and_then(|_| {
                let t = Instant::now();
                let r = log.commit();
                let ms = t.elapsed().as_millis() as u64;
                if ms > fsync_warning_ms {
                    tracing::warn!(
                        fsync_ms = ms,
                        "fsync-ing the write ahead log took long; this adversely affects latency"
                    );
                }
                r.map(|_| ms)
            });
            match result {
                Ok(fsync_ms) => {
                    if core
                        .blocking_send(CoreMsg::Persisted { through: last, txns: batch.len(), fsync_ms })
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot write the transaction log; stopping the server");
                    let _ = core.blocking_send(CoreMsg::StorageFailed(e.to_string()));
                    return;
                }
            }
        }
    })
}
