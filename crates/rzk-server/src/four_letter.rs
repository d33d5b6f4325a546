//! The four-letter words (`ruok`, `srvr`, `stat`, ...), answered from the core with ZooKeeper's
//! output formats. The version they report keeps ZooKeeper's format and names the ZooKeeper
//! release whose behaviour rzk implements, so clients that parse it (kazoo) pick the right
//! features.

use rzk_node::Node;

use crate::core::Shell;

/// The ZooKeeper release whose client-visible behaviour rzk implements.
pub const ZOOKEEPER_COMPAT_VERSION: &str = "3.8.0";

/// `Version.getFullVersion()` as rzk reports it.
pub fn full_version() -> String {
    format!("{ZOOKEEPER_COMPAT_VERSION}-rzk-{}, built on 1970-01-01 00:00 UTC", env!("CARGO_PKG_VERSION"))
}

/// Java's `Double.toString` for the values latency averages take.
pub fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 { format!("{v:.1}") } else { format!("{v}") }
}

pub fn render(word: &[u8; 4], arg: Option<i64>, node: &Node, shell: &mut Shell) -> String {
    match word {
        b"ruok" => "imok".to_owned(),
        b"isro" => "rw".to_owned(),
        b"srvr" => server_stats(node, shell, false),
        b"stat" => server_stats(node, shell, true),
        b"srst" => {
            shell.stats.reset();
            "Server stats reset.\n".to_owned()
        }
        b"crst" => {
            for c in shell.conns.values_mut() {
                c.stats.reset();
            }
            "Connection stats reset.\n".to_owned()
        }
        b"gtmk" => format!("{}\n", shell.trace_mask),
        b"stmk" => {
            if let Some(mask) = arg {
                shell.trace_mask = mask;
            }
            format!("{}\n", shell.trace_mask)
        }
        _ => String::new(),
    }
}

fn server_stats(node: &Node, shell: &Shell, with_clients: bool) -> String {
    let mut out = format!("Zookeeper version: {}\n", full_version());
    if with_clients {
        out.push_str("Clients:\n");
        let mut conns: Vec<_> = shell.conns.values().collect();
        conns.sort_by_key(|c| c.stats.established);
        for c in conns {
            out.push_str(&format!(
                " /{}[1](queued={},recved={},sent={})\n",
                c.stats.remote,
                c.stats.pending.len(),
                c.stats.received,
                c.stats.sent
            ));
        }
        out.push('\n');
    }
    let s = &shell.stats;
    out.push_str(&format!(
        "Latency min/avg/max: {}/{}/{}\n",
        s.latency.min_ms,
        java_double(s.latency.avg()),
        s.latency.max_ms
    ));
    out.push_str(&format!("Received: {}\n", s.packets_received));
    out.push_str(&format!("Sent: {}\n", s.packets_sent));
    out.push_str(&format!("Connections: {}\n", shell.conns.len()));
    out.push_str(&format!("Outstanding: {}\n", node.outstanding()));
    out.push_str(&format!("Zxid: 0x{:x}\n", node.tree().last_processed_zxid));
    out.push_str("Mode: standalone\n");
    // DataTree.getNodeCount counts the root twice ("" and "/").
    out.push_str(&format!("Node count: {}\n", node.tree().node_count() + 1));
    out
}
