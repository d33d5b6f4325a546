//! `ContainerManager.getCandidates`: containers that had children and have none now (or were
//! never used for longer than `maxNeverUsedIntervalMs`, when set), and TTL nodes without children
//! whose last change is older than their TTL. Each becomes a deleteContainer request.

use rzk_tree::DataTree;
use rzk_tree::node::{NodeKind, node_kind};

pub fn candidates(tree: &DataTree, now_wall_ms: i64, max_never_used_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for p in tree.containers() {
        let Some(n) = tree.node(p) else { continue };
        if !n.children.is_empty() {
            continue;
        }
        let elapsed = now_wall_ms - n.stat.mtime;
        if n.stat.cversion > 0 || (max_never_used_ms != 0 && elapsed > max_never_used_ms) {
            out.push(p.clone());
        }
    }
    for p in tree.ttls() {
        let Some(n) = tree.node(p) else { continue };
        if !n.children.is_empty() {
            continue;
        }
        if let NodeKind::Ttl(ttl) = node_kind(n.stat.ephemeral_owner, tree.extended_types)
            && ttl != 0
            && now_wall_ms - n.stat.mtime > ttl
        {
            out.push(p.clone());
        }
    }
    out
}
