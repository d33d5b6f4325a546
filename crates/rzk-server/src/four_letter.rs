//! The four-letter words, answered from the core with ZooKeeper 3.8's output formats (the
//! `server/command/*Command` classes as the NIO connection factory runs them). This file is the
//! dispatcher; each command or group is in `four_letter/`. Facts that need file-system reads
//! (directory sizes, descriptors, the environment) are gathered by the connection task before it
//! asks the core ([`host::HostFacts`]), so the core never blocks on the disk.
//!
//! The version they report keeps ZooKeeper's format and names the ZooKeeper release whose
//! behaviour rzk implements, so clients that parse it (kazoo) pick the right features.

use std::net::SocketAddr;

use rzk_node::Node;

use crate::core::Shell;

pub mod conf;
pub mod dump;
pub mod envi;
pub mod hash;
pub mod host;
pub mod java;
pub mod monitor;
pub mod stat;
pub mod watches;

pub use host::HostFacts;

/// The ZooKeeper release whose client-visible behaviour rzk implements.
pub const ZOOKEEPER_COMPAT_VERSION: &str = "3.8.0";

/// What `srvr`, `stat` and `mntr` report as the mode of a standalone server.
pub const SERVER_STATE: &str = "standalone";

/// The mode `srvr`, `stat` and `mntr` report: standalone, or the quorum role.
pub fn server_state(node: &Node) -> &'static str {
    if node.read_only() {
        return "read-only";
    }
    node.quorum_state().map(|s| s.mode_name()).unwrap_or(SERVER_STATE)
}

/// What the words that need a running server answer while none is (between quorum roles).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// `ZooTrace`'s initial text trace mask: client requests, server packets, sessions, warnings.
pub const TRACE_MASK_DEFAULT: i64 = 306;

/// Bytes ZooKeeper's `PrintWriter` → `BufferedWriter` chain hands over per socket write; each
/// write counts as a packet sent.
const REPLY_CHUNK_BYTES: usize = 8192;

/// `Version.getFullVersion()` as rzk reports it.
pub fn full_version() -> String {
    format!("{ZOOKEEPER_COMPAT_VERSION}-rzk-{}, built on 1970-01-01 00:00 UTC", env!("CARGO_PKG_VERSION"))
}

/// One four-letter word as a connection received it.
#[derive(Debug, Clone)]
pub struct FourLetterRequest {
    pub word: [u8; 4],
    /// `stmk`'s mask.
    pub arg: Option<i64>,
    /// The asking connection, which ZooKeeper lists among its connections while it answers.
    pub remote: SocketAddr,
    pub facts: HostFacts,
}

/// The reply to a four-letter word. The caller counts the word as a packet received before and
/// the reply's [`reply_packets`] as sent after, as ZooKeeper does.
pub fn render(req: &FourLetterRequest, node: &Node, shell: &mut Shell) -> String {
    let name = String::from_utf8_lossy(&req.word).into_owned();
    if !shell.settings.four_letter_words.allows(&name) {
        return format!("{name} is not executed because it is not in the whitelist.\n");
    }
    match &req.word {
        b"ruok" => "imok".to_owned(),
        b"isro" => if node.read_only() { "ro" } else { "rw" }.to_owned(),
        b"srvr" | b"stat" | b"mntr" | b"cons" | b"wchs" | b"wchc" | b"wchp" | b"dump" | b"crst" | b"srst"
        | b"hash"
            if !node.serving() && !node.read_only() =>
        {
            NOT_SERVING.to_owned()
        }
        b"srvr" => stat::server_stats(node, shell, None),
        b"stat" => stat::server_stats(node, shell, Some(&req.remote)),
        b"cons" => stat::connections(shell, &req.remote),
        b"srst" => {
            shell.stats.reset(&shell.shared);
            "Server stats reset.\n".to_owned()
        }
        b"crst" => {
            for c in shell.conns.values_mut() {
                c.stats.reset();
            }
            "Connection stats reset.\n".to_owned()
        }
        b"conf" => conf::conf(&shell.settings, &req.facts),
        b"dirs" => conf::dirs(&req.facts),
        b"envi" => envi::render(&req.facts),
        b"dump" => dump::dump(node, shell, &req.remote),
        b"wchs" => watches::summary(node),
        b"wchc" => watches::by_connection(node),
        b"wchp" => watches::by_path(node),
        b"mntr" => monitor::render(node, shell, &req.facts),
        b"hash" => hash::render(shell),
        b"gtmk" => shell.trace_mask.to_string(),
        b"stmk" => {
            if let Some(mask) = req.arg {
                shell.trace_mask = mask;
            }
            shell.trace_mask.to_string()
        }
        _ => String::new(),
    }
}

/// The socket writes (packets sent) ZooKeeper needs for a reply this long.
pub fn reply_packets(text: &str) -> u64 {
    text.len().div_ceil(REPLY_CHUNK_BYTES) as u64
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::time::Instant;

    use rzk_node::NodeConfig;
    use rzk_tree::DataTree;

    use super::*;
    use crate::settings::{FourLetterWhitelist, Settings};
    use crate::stats::ServerStats;

    fn shell(words: FourLetterWhitelist) -> Shell {
        let mut settings = Settings::for_test("/data".into(), "127.0.0.1:2181".parse().unwrap());
        settings.four_letter_words = words;
        Shell {
            settings,
            stats: ServerStats::default(),
            conns: HashMap::new(),
            started: Instant::now(),
            trace_mask: TRACE_MASK_DEFAULT,
            digest_log: VecDeque::new(),
            shared: Default::default(),
            last_snapshot: None,
        }
    }

    fn ask(word: &[u8; 4], arg: Option<i64>, shell: &mut Shell) -> String {
        let node = Node::new(NodeConfig::default(), DataTree::new(false), 0, 0);
        let req = FourLetterRequest {
            word: *word,
            arg,
            remote: "127.0.0.1:5".parse().unwrap(),
            facts: HostFacts::default(),
        };
        render(&req, &node, shell)
    }

    #[test]
    fn words_outside_the_whitelist_are_refused_in_zookeepers_words() {
        let mut s = shell(FourLetterWhitelist::Only(vec!["srvr".into()]));
        assert_eq!(ask(b"mntr", None, &mut s), "mntr is not executed because it is not in the whitelist.\n");
        assert!(ask(b"srvr", None, &mut s).starts_with("Zookeeper version: 3.8.0-rzk-"));
    }

    #[test]
    fn trace_masks_print_without_a_newline() {
        let mut s = shell(FourLetterWhitelist::All);
        assert_eq!(ask(b"gtmk", None, &mut s), "306");
        assert_eq!(ask(b"stmk", Some(511), &mut s), "511");
        assert_eq!(ask(b"gtmk", None, &mut s), "511");
        assert_eq!(ask(b"ruok", None, &mut s), "imok");
        assert_eq!(ask(b"isro", None, &mut s), "rw");
    }

    #[test]
    fn a_fresh_server_reports_as_zookeeper_does() {
        let mut s = shell(FourLetterWhitelist::All);
        let srvr = ask(b"srvr", None, &mut s);
        let expected = "Latency min/avg/max: 0/0.0/0\nReceived: 0\nSent: 0\nConnections: 1\nOutstanding: 0\n\
                        Zxid: 0x0\nMode: standalone\nNode count: 5\n";
        assert!(srvr.ends_with(expected), "{srvr}");
        assert_eq!(ask(b"wchs", None, &mut s), "0 connections watching 0 paths\nTotal watches:0\n");
        assert_eq!(ask(b"hash", None, &mut s), "");
        let dump = ask(b"dump", None, &mut s);
        assert!(dump.starts_with("SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\n\
                                  Sessions with Ephemerals (0):\nConnections dump:\nConnections Sets (1)/(1):\n"));
        assert!(dump.ends_with("\tip: /127.0.0.1:5 sessionId: 0x0\n"));
        let mntr = ask(b"mntr", None, &mut s);
        assert!(mntr.starts_with("zk_version\t3.8.0-rzk-"));
        assert!(mntr.contains(
            "\nzk_server_state\tstandalone\nzk_ephemerals_count\t0\nzk_num_alive_connections\t1\n"
        ));
        assert!(mntr.contains("\nzk_znode_count\t5\n") && mntr.contains("\nzk_approximate_data_size\t44\n"));
        assert!(mntr.contains("\nzk_last_client_response_size\t-1\n"));
        assert!(mntr.ends_with("zk_p999_write_commitproc_time_ms\t0\n"));
    }

    #[test]
    fn replies_count_one_packet_per_buffer() {
        assert_eq!(reply_packets(""), 0);
        assert_eq!(reply_packets("imok"), 1);
        assert_eq!(reply_packets(&"x".repeat(8192)), 1);
        assert_eq!(reply_packets(&"x".repeat(8193)), 2);
    }

    #[test]
    fn the_version_parses_as_kazoo_expects() {
        let v = full_version();
        let (release, _) = v.split_once('-').unwrap();
        assert_eq!(release.split('.').count(), 3);
        assert!(v.contains(", built on "));
    }
}
