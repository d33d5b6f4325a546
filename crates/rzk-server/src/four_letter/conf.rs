//! `conf` (`ZooKeeperServer.dumpConf`) and `dirs` (`DirsCommand`).
//!
//! ZooKeeper's `getDataDirSize` measures the txn-log directory and `getLogDirSize` the snapshot
//! directory (each asks `FileTxnSnapLog` for the other's dir); rzk copies the swap so the numbers
//! mean what they mean on ZooKeeper. With the usual single data dir they are equal anyway.

use crate::four_letter::HostFacts;
use crate::settings::Settings;

pub fn conf(s: &Settings, f: &HostFacts) -> String {
    let lines: [(&str, String); 11] = [
        ("clientPort", s.client_addr.port().to_string()),
        ("secureClientPort", s.secure_client_port.map_or(-1, i32::from).to_string()),
        ("dataDir", f.snap_dir.display().to_string()),
        ("dataDirSize", f.log_dir_bytes.to_string()),
        ("dataLogDir", f.log_dir.display().to_string()),
        ("dataLogSize", f.snap_dir_bytes.to_string()),
        ("tickTime", s.node.tick_time_ms.to_string()),
        ("maxClientCnxns", s.max_client_cnxns.to_string()),
        ("minSessionTimeout", s.node.min_session_timeout_ms.to_string()),
        ("maxSessionTimeout", s.node.max_session_timeout_ms.to_string()),
        ("clientPortListenBacklog", s.listen_backlog.to_string()),
    ];
    let mut out: String = lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    match &s.quorum {
        // ZooKeeperServer.getServerId() is 0 for a standalone server (its sessions still use 1).
        None => out.push_str("serverId=0\n"),
        // QuorumZooKeeperServer.dumpConf.
        Some(q) => {
            let me = q.qv.members.get(&q.my_id);
            let observer = me.is_some_and(|m| m.observer);
            out.push_str(&format!("serverId={}\n", q.my_id));
            out.push_str(&format!("initLimit={}\nsyncLimit={}\nelectionAlg=3\n", q.init_limit, q.sync_limit));
            out.push_str(&format!(
                "electionPort={}\nquorumPort={}\npeerType={}\n",
                me.map(|m| m.election_port).unwrap_or(0),
                me.map(|m| m.quorum_port).unwrap_or(0),
                if observer { 1 } else { 0 }
            ));
            // The configuration text ends without a newline, as `print(qv.toString())` leaves it.
            out.push_str("membership: \n");
            out.push_str(&q.qv.config_text());
        }
    }
    out
}

pub fn dirs(f: &HostFacts) -> String {
    format!("datadir_size: {}\nlogdir_size: {}\n", f.log_dir_bytes, f.snap_dir_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_prints_dump_conf_keys() {
        let mut s = Settings::for_test("/data".into(), "127.0.0.1:2181".parse().unwrap());
        s.secure_client_port = Some(2281);
        let f = HostFacts {
            snap_dir: "/data/version-2".into(),
            log_dir: "/log/version-2".into(),
            snap_dir_bytes: 1,
            log_dir_bytes: 2,
            ..HostFacts::default()
        };
        assert_eq!(
            conf(&s, &f),
            "clientPort=2181\nsecureClientPort=2281\ndataDir=/data/version-2\ndataDirSize=2\n\
             dataLogDir=/log/version-2\ndataLogSize=1\ntickTime=2000\nmaxClientCnxns=60\n\
             minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n"
        );
        assert_eq!(dirs(&f), "datadir_size: 2\nlogdir_size: 1\n");
    }
}
