//! From the validated zoo.cfg to what a quorum member needs: the quorum verifier (with the
//! configuration text peers exchange), this server's election and quorum addresses and its
//! peers', the limits, and the epochs on disk (`QuorumPeer.loadDataBase`'s checks).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use rzk_config::{Config, LearnerType};
use rzk_storage::epoch::{ACCEPTED_EPOCH, CURRENT_EPOCH, EpochStore};
use rzk_zab::verifier::{Hierarchy, Member, QuorumVerifier};

use super::sasl::QuorumSasl;
use super::tls::QuorumTlsSettings;
use crate::tls::settings::TlsSettingsError;

/// The ensemble part of the settings.
#[derive(Debug, Clone)]
pub struct QuorumSettings {
    pub my_id: i64,
    pub qv: QuorumVerifier,
    pub init_limit: i64,
    pub sync_limit: i64,
    /// Where this server listens for elections and for learners.
    pub election_listen: SocketAddr,
    pub quorum_listen: SocketAddr,
    /// `host:port` of our election address, as sent in the connection header.
    pub election_text: String,
    /// Every other member's election address, and every member's quorum address.
    pub election_peers: BTreeMap<i64, SocketAddr>,
    pub quorum_addrs: BTreeMap<i64, SocketAddr>,
    /// `cnxTimeout`.
    pub cnx_timeout: Duration,
    /// `zookeeper.forceSnapshotSync`.
    pub force_snap_sync: bool,
    /// `zookeeper.commitLogCount`.
    pub commit_log_count: usize,
    /// `sslQuorum` / `portUnification` and the `ssl.quorum.*` stores; `None` for plaintext.
    pub tls: Option<QuorumTlsSettings>,
    /// `quorum.auth.enableSasl` and its logins; `None` without quorum SASL.
    pub sasl: Option<QuorumSasl>,
}

#[derive(Debug, thiserror::Error)]
pub enum QuorumSetupError {
    #[error("myid is missing: a member of an ensemble needs dataDir/myid")]
    NoMyid,
    #[error("this server (myid {0}) has no server.{0} line")]
    NotAMember(i64),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("quorum TLS: {0}")]
    Tls(#[from] TlsSettingsError),
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, QuorumSetupError> {
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| QuorumSetupError::Resolve(format!("{host}:{port}")))
}

impl QuorumSettings {
    pub fn from_config(c: &Config) -> Result<QuorumSettings, QuorumSetupError> {
        let my_id = c.server_id.ok_or(QuorumSetupError::NoMyid)?.0;
        let me = c.my_server().ok_or(QuorumSetupError::NotAMember(my_id))?;
        let mut members = Vec::new();
        let mut election_peers = BTreeMap::new();
        let mut quorum_addrs = BTreeMap::new();
        for s in c.quorum.servers.values() {
            let Some(a) = s.addresses.first() else { continue };
            let client =
                s.client_address.as_ref().filter(|_| !s.client_address_from_static).map(|hp| {
                    (if hp.host.is_empty() { "0.0.0.0".to_owned() } else { hp.host.clone() }, hp.port)
                });
            let id = s.id.0;
            members.push(Member {
                id,
                host: a.host.clone(),
                quorum_port: a.quorum_port,
                election_port: a.election_port,
                observer: s.learner_type == LearnerType::Observer,
                client,
            });
            quorum_addrs.insert(id, resolve(&a.host, a.quorum_port)?);
            if id != my_id {
                election_peers.insert(id, resolve(&a.host, a.election_port)?);
            }
        }
        let mut qv = QuorumVerifier::majority(members, c.quorum.version.unwrap_or(0));
        if let Some(h) = &c.quorum.hierarchy {
            qv.hierarchy = Some(Hierarchy {
                groups: h.groups.iter().map(|(g, ids)| (*g, ids.iter().map(|i| i.0).collect())).collect(),
                weights: h.weights.iter().map(|(k, v)| (k.0, (*v).max(0) as u64)).collect(),
            });
        }
        let a = me.addresses.first().ok_or(QuorumSetupError::NotAMember(my_id))?;
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let (election_listen, quorum_listen) = if c.quorum_listen_on_all_ips {
            (SocketAddr::new(any, a.election_port), SocketAddr::new(any, a.quorum_port))
        } else {
            (resolve(&a.host, a.election_port)?, resolve(&a.host, a.quorum_port)?)
        };
        let host_text = if a.host.contains(':') { format!("[{}]", a.host) } else { a.host.clone() };
        Ok(QuorumSettings {
            my_id,
            qv,
            init_limit: c.init_limit_ticks.max(1) as i64,
            sync_limit: c.sync_limit_ticks.max(1) as i64,
            election_listen,
            quorum_listen,
            election_text: format!("{host_text}:{}", a.election_port),
            election_peers,
            quorum_addrs,
            cnx_timeout: Duration::from_millis(c.cnx_timeout_ms.max(1) as u64),
            force_snap_sync: c.system_props.get_boolean("zookeeper.forceSnapshotSync"),
            commit_log_count: c
                .system_props
                .get("zookeeper.commitLogCount")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(rzk_zab::sync::COMMIT_LOG_COUNT_DEFAULT),
            tls: QuorumTlsSettings::from_config(c)?,
            sasl: QuorumSasl::from_config(&c.quorum_sasl),
        })
    }
}

/// `QuorumPeer.loadDataBase`'s epochs: missing files start at the epoch of the last zxid (and
/// are written); a current epoch older than the last zxid's is an error unless an interrupted
/// update left `currentEpoch.tmp` (ZOOKEEPER-1813); the accepted epoch may not be behind it.
pub fn load_epochs(data_dir: &Path, last_zxid: i64) -> std::io::Result<(i64, i64)> {
    let store = EpochStore::new(data_dir);
    let zxid_epoch = last_zxid >> 32;
    let mut current = match store.read(CURRENT_EPOCH)? {
        Some(e) => e,
        None => {
            tracing::info!(epoch = zxid_epoch, "currentEpoch not found; starting from the last zxid's epoch");
            store.write(CURRENT_EPOCH, zxid_epoch)?;
            zxid_epoch
        }
    };
    if zxid_epoch > current {
        let tmp = format!("{CURRENT_EPOCH}.tmp");
        match store.read(&tmp)? {
            Some(e) => {
                tracing::info!(epoch = e, "{tmp} found; setting the current epoch from it");
                store.write(CURRENT_EPOCH, e)?;
                current = e;
                let _ = std::fs::remove_file(data_dir.join(rzk_storage::VERSION_DIR).join(&tmp));
            }
            None => {
                return Err(std::io::Error::other(format!(
                    "The current epoch, 0x{current:x}, is older than the last zxid, 0x{last_zxid:x}"
                )));
            }
        }
    }
    let accepted = match store.read(ACCEPTED_EPOCH)? {
        Some(e) => e,
        None => {
            store.write(ACCEPTED_EPOCH, zxid_epoch)?;
            zxid_epoch
        }
    };
    if accepted < current {
        return Err(std::io::Error::other(format!(
            "The accepted epoch, 0x{accepted:x} is less than the current epoch, 0x{current:x}"
        )));
    }
    Ok((accepted, current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_start_from_the_last_zxid_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_epochs(dir.path(), 0x3_0000_0005).unwrap(), (3, 3));
        // Written, so a second start reads them.
        assert_eq!(load_epochs(dir.path(), 0x3_0000_0009).unwrap(), (3, 3));
        // A zxid from a later epoch than currentEpoch is refused.
        assert!(load_epochs(dir.path(), 0x4_0000_0001).is_err());
        let store = EpochStore::new(dir.path());
        store.write(ACCEPTED_EPOCH, 2).unwrap();
        assert!(load_epochs(dir.path(), 0x3_0000_0001).is_err());
    }
}
