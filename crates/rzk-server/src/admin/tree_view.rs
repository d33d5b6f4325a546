//! The commands that report the tree and its sessions: `dump` (`getSessionExpiryMap`,
//! `getEphemerals`), `watches`, `watches_by_path`, `watch_summary` (the data-watch manager, as
//! the four-letter words report it) and `hash` (`getDigestLog`). Maps keyed by longs print their
//! keys as strings, as Jackson does; sets and hash maps in Java's iteration order where rzk can
//! reproduce it (see `four_letter::java`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rzk_node::Node;

use crate::admin::json::Json;
use crate::admin::response::Response;
use crate::core::Shell;
use crate::four_letter::java::{self, JavaMap};

/// `dump`: expiry time → session ids (a `TreeMap`), and session id → ephemeral paths.
pub fn dump(node: &Node, r: &mut Response) {
    let expiry: Vec<(String, Json)> = node
        .sessions()
        .buckets()
        .map(|(at, ids)| (at.to_string(), session_ids(ids.iter().copied())))
        .collect();
    let by_session = node.tree().ephemerals_by_session();
    let ephemerals: Vec<(String, Json)> = java::long_order(by_session.keys().copied(), JavaMap::DEFAULT)
        .into_iter()
        .map(|s| {
            let paths = by_session.get(&s).map(|p| paths_json(p.iter().map(|p| &**p)));
            (s.to_string(), paths.unwrap_or(Json::Arr(Vec::new())))
        })
        .collect();
    r.put("expiry_time_to_session_ids", Json::Obj(expiry));
    r.put("session_id_to_ephemeral_paths", Json::Obj(ephemerals));
}

/// `watches`: session id → watched paths. Java keys the map by the watcher's session id, so
/// watchers without a session (id 0) share one entry (the last one put wins).
pub fn watches(node: &Node, r: &mut Response) {
    let mut by_session: HashMap<i64, &BTreeSet<Arc<str>>> = HashMap::new();
    let mut watchers: Vec<_> = node.tree().data_watches().by_watcher().iter().collect();
    watchers.sort_by_key(|(w, _)| **w);
    for (w, paths) in watchers {
        by_session.insert(node.conn_session(*w).unwrap_or(0), paths);
    }
    let fields = java::long_order(by_session.keys().copied(), JavaMap::DEFAULT)
        .into_iter()
        .filter_map(|s| by_session.get(&s).map(|p| (s.to_string(), paths_json(p.iter().map(|p| &**p)))))
        .collect();
    r.put("session_id_to_watched_paths", Json::Obj(fields));
}

/// `watches_by_path`: path → session ids of its watchers.
pub fn watches_by_path(node: &Node, r: &mut Response) {
    let table: BTreeMap<&str, Vec<i64>> = node
        .tree()
        .data_watches()
        .by_path()
        .map(|(p, ws)| (p, ws.map(|w| node.conn_session(*w).unwrap_or(0)).collect()))
        .collect();
    let fields = java::string_order(table.keys().copied(), JavaMap::DEFAULT)
        .into_iter()
        .filter_map(|p| table.get(p).map(|ids| (p.to_owned(), session_ids(ids.iter().copied()))))
        .collect();
    r.put("path_to_session_ids", Json::Obj(fields));
}

/// `watch_summary` (`WatchesSummary.toMap`).
pub fn watch_summary(node: &Node, r: &mut Response) {
    let w = node.tree().data_watches();
    r.put("num_connections", w.watcher_count() as i64);
    r.put("num_paths", w.path_count() as i64);
    r.put("num_total_watches", w.count() as i64);
}

/// `hash`: the digests logged every 128 zxids, as `ZxidDigest` beans.
pub fn hash(shell: &Shell, r: &mut Response) {
    let digests = shell
        .digest_log
        .iter()
        .map(|(zxid, digest)| {
            Json::Obj(vec![
                ("zxid".into(), Json::Int(*zxid)),
                ("digest".into(), Json::Int(*digest)),
                ("digest_version".into(), Json::Int(i64::from(rzk_tree::digest::DIGEST_VERSION))),
            ])
        })
        .collect();
    r.put("digests", Json::Arr(digests));
}

/// A `HashSet<Long>` of session ids.
fn session_ids(ids: impl IntoIterator<Item = i64>) -> Json {
    let unique: BTreeSet<i64> = ids.into_iter().collect();
    Json::Arr(java::long_order(unique, JavaMap::DEFAULT).into_iter().map(Json::Int).collect())
}

/// A `HashSet<String>` of paths.
fn paths_json<'a>(paths: impl IntoIterator<Item = &'a str>) -> Json {
    Json::Arr(java::string_order(paths, JavaMap::DEFAULT).into_iter().map(Json::str).collect())
}

#[cfg(test)]
mod tests {
    use rzk_node::NodeConfig;
    use rzk_tree::DataTree;

    use super::*;

    #[test]
    fn watches_list_data_watches_by_path_and_session() {
        let mut tree = DataTree::new(false);
        for (path, watcher) in [("/nope", 1), ("/a", 1), ("/a", 2)] {
            let _ = tree.stat_node(path, Some(watcher));
        }
        let node = Node::new(NodeConfig::default(), tree, 0, 0);
        let mut r = Response::ok("watches_by_path");
        watches_by_path(&node, &mut r);
        assert_eq!(
            r.data[0].1,
            Json::Obj(vec![
                ("/a".into(), Json::Arr(vec![Json::Int(0)])),
                ("/nope".into(), Json::Arr(vec![Json::Int(0)]))
            ])
        );
        let mut r = Response::ok("watch_summary");
        watch_summary(&node, &mut r);
        let values: Vec<&Json> = r.data.iter().map(|(_, v)| v).collect();
        assert_eq!(values, [&Json::Int(2), &Json::Int(2), &Json::Int(3)]);
    }
}
