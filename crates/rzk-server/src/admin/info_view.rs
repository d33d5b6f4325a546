//! The commands that report configuration and the process: `configuration`
//! (`ZooKeeperServerConf.toMap`), `dirs`, `environment`, `system_properties`,
//! `initial_configuration`, `last_snapshot`, `monitor`, and the quorum commands as a standalone
//! ZooKeeper answers them (`leader`, `observers`, `voting_view`, `zabstate`, `is_read_only`).

use std::collections::BTreeMap;

use rzk_node::Node;

use crate::admin::AdminFacts;
use crate::admin::json::Json;
use crate::admin::response::Response;
use crate::core::Shell;
use crate::four_letter::host::HostFacts;
use crate::mntr::{self, Extras, Value};

pub fn configuration(shell: &Shell, f: &HostFacts, r: &mut Response) {
    let s = &shell.settings;
    r.put("client_port", i64::from(s.client_addr.port()));
    // ZooKeeperServer.getConf: the snapshot dir as data_dir, the txn-log dir as data_log_dir.
    r.put("data_dir", f.snap_dir.display().to_string());
    r.put("data_log_dir", f.log_dir.display().to_string());
    r.put("tick_time", s.node.tick_time_ms);
    r.put("max_client_cnxns", s.max_client_cnxns as i64);
    r.put("min_session_timeout", i64::from(s.node.min_session_timeout_ms));
    r.put("max_session_timeout", i64::from(s.node.max_session_timeout_ms));
    // ZooKeeperServer.getServerId() is 0 for a standalone server.
    r.put("server_id", 0i64);
    r.put("client_port_listen_backlog", i64::from(s.listen_backlog));
}

pub fn dirs(f: &HostFacts, r: &mut Response) {
    // getDataDirSize measures the txn-log dir and getLogDirSize the snapshot dir.
    r.put("datadir_size", f.log_dir_bytes as i64);
    r.put("logdir_size", f.snap_dir_bytes as i64);
}

pub fn environment(f: &HostFacts, r: &mut Response) {
    for (k, v) in &f.env {
        r.put(k, v.as_str());
    }
}

/// `System.getProperties()`, sorted: the `-D` flags and zoo.cfg keys rzk holds as system
/// properties, and the JVM's standard properties that have a meaning for rzk (the rest of the
/// `java.*` family print as the environment does, `<NA (rzk)>`).
pub fn system_properties(admin: Option<&crate::admin::AdminSettings>, f: &HostFacts, r: &mut Response) {
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &f.env {
        if k.starts_with("java.")
            || k.starts_with("os.") && !k.starts_with("os.memory")
            || k.starts_with("user.")
        {
            props.insert((*k).to_owned(), v.clone());
        }
    }
    for (k, v) in [("file.separator", "/"), ("line.separator", "\n"), ("path.separator", ":")] {
        props.insert(k.to_owned(), v.to_owned());
    }
    if let Some(a) = admin {
        for (k, v) in &a.system_properties {
            props.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in props {
        r.put(&k, v);
    }
}

pub fn initial_configuration(shell: &Shell, r: &mut Response) {
    let text = shell.settings.admin.as_ref().map_or("", |a| a.initial_config.as_str());
    r.put("initial_configuration", text);
}

/// `last_snapshot`: the zxid (hex, no `0x`) and time in seconds of the newest snapshot file;
/// `ffffffffffffffff` and −1 when there is none.
pub fn last_snapshot(f: &AdminFacts, r: &mut Response) {
    let (zxid, secs) = f.last_snapshot.unwrap_or((-1, -1));
    r.put("zxid", format!("{zxid:x}"));
    r.put("timestamp", secs);
}

/// `monitor`: every `mntr` value under its name without `zk_`.
pub fn monitor(node: &Node, shell: &Shell, f: &HostFacts, r: &mut Response) {
    // An admin request is not a client connection: none is added to num_alive_connections.
    let extras = Extras { extra_connections: 0, open_fds: f.open_fds, max_fds: f.max_fds };
    for (k, v) in mntr::collect(node, shell, extras) {
        let v = match v {
            Value::Text(s) => Json::Str(s),
            Value::Long(v) => Json::Int(v),
            Value::Double(v) => Json::Double(v),
        };
        r.put(&k, v);
    }
}

/// The quorum commands on a standalone server (no `QuorumZooKeeperServer`).
pub fn standalone_quorum_view(cmd: crate::admin::commands::Cmd, r: &mut Response) {
    use crate::admin::commands::Cmd;
    match cmd {
        Cmd::Leader => r.put("error", "server is not initialized"),
        Cmd::Observers => {
            r.put("synced_observers", 0i64);
            r.put("observers", Json::Arr(Vec::new()));
        }
        Cmd::VotingView => r.put("current_config", Json::Obj(Vec::new())),
        Cmd::ZabState => {
            r.put("voting", false);
            r.put("zabstate", "");
        }
        Cmd::IsReadOnly => r.put("read_only", false),
        _ => {}
    }
}
