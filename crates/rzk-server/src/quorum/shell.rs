//! The core loop's quorum side: where the node's [`PeerOut`] messages go (the election
//! transport or the quorum port's connections), and the storage work a quorum member does
//! synchronously ([`StorageOp`]: epochs, cutting the log, snapshots, reloading after TRUNC).

use std::path::PathBuf;
use std::sync::mpsc as smpsc;
use std::time::Duration;

use rzk_node::{Input, Node, PeerInput, PeerOut, StorageOp};
use rzk_storage::epoch::{ACCEPTED_EPOCH, CURRENT_EPOCH, EpochStore};
use tokio::sync::mpsc;

use super::links::Links;
use super::qcm::Qcm;
use super::setup::QuorumSettings;
use crate::core::CoreMsg;
use crate::log_thread::LogCmd;
use crate::settings::StorageSettings;

pub struct QuorumShell {
    pub settings: QuorumSettings,
    pub qcm: Qcm,
    pub links: Links,
    pub tick_time_ms: i64,
    /// The txn log's generation: `Persisted` reports from before the last cut are stale.
    pub log_generation: u64,
    core_tx: mpsc::Sender<CoreMsg>,
}

/// What storage work needs from the shell.
pub struct StorageCtx<'a> {
    pub log_tx: &'a smpsc::Sender<LogCmd>,
    pub data_dir: &'a PathBuf,
    pub data_log_dir: &'a PathBuf,
    pub storage: &'a StorageSettings,
    pub extended_types: bool,
}

impl QuorumShell {
    pub fn new(
        settings: QuorumSettings,
        qcm: Qcm,
        links: Links,
        tick_time_ms: i64,
        core_tx: mpsc::Sender<CoreMsg>,
    ) -> QuorumShell {
        QuorumShell { settings, qcm, links, tick_time_ms, log_generation: 0, core_tx }
    }

    /// Sends one message of the node to the ensemble.
    pub fn route(&self, o: PeerOut) {
        match o {
            PeerOut::Notification { to, bytes } => self.qcm.send(to, bytes),
            PeerOut::ConnectLeader { sid } => match self.settings.quorum_addrs.get(&sid) {
                Some(addr) => {
                    let give_up =
                        Duration::from_millis((self.settings.init_limit * self.tick_time_ms).max(1) as u64);
                    let connect_timeout = self.settings.cnx_timeout.min(give_up);
                    self.links.connect_leader(*addr, give_up, connect_timeout);
                }
                None => {
                    tracing::error!(sid, "the elected leader has no quorum address in the configuration");
                    let generation = self.links.leader_generation();
                    let input = PeerInput::LeaderConnectFailed;
                    let _ = self.core_tx.try_send(CoreMsg::LeaderLink { generation, input });
                }
            },
            PeerOut::DisconnectLeader => self.links.disconnect_leader(),
            PeerOut::ToLeader(p) => self.links.to_leader(p),
            PeerOut::ToLearner { id, packet } => self.links.to_learner(id, packet),
            PeerOut::ToLearnerSnapshot { id, body } => self.links.to_learner_snapshot(id, body),
            PeerOut::CloseLearner { id } => self.links.close_learner(id),
        }
    }

    /// Carries out one storage operation before the rest of the node's output.
    pub fn storage_op(&mut self, op: StorageOp, node: &mut Node, ctx: &StorageCtx<'_>) -> Result<(), String> {
        let epochs = EpochStore::new(ctx.data_dir);
        match op {
            StorageOp::AcceptedEpoch(e) => {
                epochs.write(ACCEPTED_EPOCH, e).map_err(|err| format!("cannot write acceptedEpoch: {err}"))
            }
            StorageOp::CurrentEpoch(e) => {
                epochs.write(CURRENT_EPOCH, e).map_err(|err| format!("cannot write currentEpoch: {err}"))
            }
            StorageOp::Snapshot => {
                let path =
                    crate::snapshotter::snapshot_now(ctx.data_dir, node.tree(), ctx.storage.compression)
                        .map_err(|e| format!("cannot write the snapshot from the leader: {e}"))?;
                tracing::info!(file = %path.display(), "snapshot of the leader's tree written");
                Ok(())
            }
            StorageOp::TruncateLog { zxid, reload } => {
                let (tx, rx) = smpsc::channel();
                ctx.log_tx
                    .send(LogCmd::Truncate { zxid, reply: tx })
                    .map_err(|_| "the log thread is gone".to_owned())?;
                let generation = rx
                    .recv()
                    .map_err(|_| "the log thread is gone".to_owned())?
                    .map_err(|e| format!("cannot truncate the log: {e}"))?;
                self.log_generation = generation;
                tracing::warn!(zxid = %format!("0x{zxid:x}"), "transaction log truncated");
                remove_snapshots_after(ctx.data_dir, zxid)?;
                if reload {
                    let restored = crate::restore::restore(
                        ctx.data_dir,
                        ctx.data_log_dir,
                        ctx.storage,
                        ctx.extended_types,
                    )
                    .map_err(|e| format!("cannot reload the database after truncating: {e}"))?;
                    let loaded = restored.tree.last_processed_zxid;
                    if loaded > zxid {
                        return Err(format!(
                            "the database reloaded after truncating to 0x{zxid:x} ends at 0x{loaded:x}"
                        ));
                    }
                    node.step(Input::Reloaded { tree: Box::new(restored.tree), recent: restored.recent });
                }
                Ok(())
            }
        }
    }

    pub fn stop(&self) {
        self.qcm.shutdown();
        self.links.stop();
    }
}

/// Snapshots of a tree beyond `zxid` hold txns the leader has just cut off (a member's start-up
/// snapshot includes every txn it had logged, committed or not): loading one, now or at the next
/// start, would bring those txns back. They are deleted, durably, before the log is reloaded.
fn remove_snapshots_after(data_dir: &std::path::Path, zxid: i64) -> Result<(), String> {
    let files =
        rzk_storage::snapfile::snapshot_files(data_dir).map_err(|e| format!("cannot list snapshots: {e}"))?;
    let stale: Vec<_> = files.into_iter().filter(|(z, _)| *z > zxid).collect();
    if stale.is_empty() {
        return Ok(());
    }
    for (z, path) in &stale {
        std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        tracing::warn!(
            snapshot = %format!("0x{z:x}"),
            zxid = %format!("0x{zxid:x}"),
            "snapshot beyond the truncation point removed"
        );
    }
    let dir = data_dir.join(rzk_storage::VERSION_DIR);
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_beyond_the_truncation_point_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let v2 = dir.path().join(rzk_storage::VERSION_DIR);
        std::fs::create_dir_all(&v2).unwrap();
        for name in ["snapshot.100000005", "snapshot.10000000a", "snapshot.10000000b.snappy", "log.100000001"]
        {
            std::fs::write(v2.join(name), b"x").unwrap();
        }
        remove_snapshots_after(dir.path(), 0x1_0000_000a).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&v2)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["log.100000001", "snapshot.100000005", "snapshot.10000000a"]);
    }
}
