//! `wchs`, `wchc`, `wchp` (`WatchCommand`): ZooKeeper reports the data-watch manager only
//! (`DataTree.dumpWatchesSummary` / `dumpWatches`), naming each watcher by its connection's
//! session id. Paths are listed in Java's `HashMap`/`HashSet` order; watchers, which Java orders
//! by identity hash, by session id.

use rzk_node::Node;
use rzk_tree::WatcherId;

use crate::four_letter::java::{self, JavaMap};

/// `WatchManager.toString` then a newline.
pub fn summary(node: &Node) -> String {
    let w = node.tree().data_watches();
    format!(
        "{} connections watching {} paths\nTotal watches:{}\n",
        w.watcher_count(),
        w.path_count(),
        w.count()
    )
}

/// `wchc`: per connection (its session id), the paths it watches; then an empty line.
pub fn by_connection(node: &Node) -> String {
    let mut watchers: Vec<(i64, WatcherId)> =
        node.tree().data_watches().by_watcher().keys().map(|w| (session_of(node, *w), *w)).collect();
    watchers.sort_unstable();
    let mut out = String::new();
    for (session, watcher) in watchers {
        out.push_str(&format!("0x{session:x}\n"));
        let Some(paths) = node.tree().data_watches().by_watcher().get(&watcher) else { continue };
        for path in java::string_order(paths.iter().map(|p| &**p), JavaMap::DEFAULT) {
            out.push_str(&format!("\t{path}\n"));
        }
    }
    out.push('\n');
    out
}

/// `wchp`: per path, the session ids of its watchers; then an empty line.
pub fn by_path(node: &Node) -> String {
    let mut table: Vec<(&str, Vec<i64>)> = node
        .tree()
        .data_watches()
        .by_path()
        .map(|(p, ws)| {
            let mut sessions: Vec<i64> = ws.map(|w| session_of(node, *w)).collect();
            sessions.sort_unstable();
            (p, sessions)
        })
        .collect();
    // Java keeps insertion order within a bucket; rzk does not know it and sorts instead.
    table.sort_by(|a, b| a.0.cmp(b.0));
    let keyed = table.into_iter().map(|(p, s)| (java::string_hash(p), (p, s))).collect();
    let mut out = String::new();
    for (path, sessions) in java::hash_order(keyed, JavaMap::DEFAULT) {
        out.push_str(path);
        out.push('\n');
        for s in sessions {
            out.push_str(&format!("\t0x{s:x}\n"));
        }
    }
    out.push('\n');
    out
}

/// The session of the connection a watcher is (0 before the session exists, as Java prints).
fn session_of(node: &Node, watcher: WatcherId) -> i64 {
    node.conn_session(watcher).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use rzk_node::NodeConfig;
    use rzk_tree::DataTree;

    use super::*;

    fn node_with_watches() -> Node {
        let mut tree = DataTree::new(false);
        for (path, watcher) in [("/nope", 1), ("/a", 1), ("/a", 2), ("/b", 2)] {
            let _ = tree.stat_node(path, Some(watcher));
        }
        // Child watches are not reported.
        let _ = tree.get_children("/", Some(1));
        Node::new(NodeConfig::default(), tree, 0, 0)
    }

    #[test]
    fn summary_counts_data_watches() {
        assert_eq!(summary(&node_with_watches()), "2 connections watching 3 paths\nTotal watches:4\n");
    }

    #[test]
    fn listings_end_with_an_empty_line() {
        let n = node_with_watches();
        // Watchers without a session print as 0x0; paths in Java's HashMap order.
        assert_eq!(by_path(&n), "/a\n\t0x0\n\t0x0\n/b\n\t0x0\n/nope\n\t0x0\n\n");
        assert_eq!(by_connection(&n), "0x0\n\t/a\n\t/nope\n0x0\n\t/a\n\t/b\n\n");
    }
}
