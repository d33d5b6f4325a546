//! Who votes, what a quorum is, and the configuration text (`QuorumMaj`, `QuorumHierarchical`,
//! `QuorumPeer.QuorumServer.toString`). FLE notifications carry the text, and NEWLEADER sends it,
//! so it is built exactly as ZooKeeper builds it.

use std::collections::{BTreeMap, BTreeSet};

/// One `server.N` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    /// Host as written in the config (IPv6 literals without brackets).
    pub host: String,
    pub quorum_port: u16,
    pub election_port: u16,
    pub observer: bool,
    /// `;[host:]port` when the line gave one (ZooKeeper leaves out a client address that came
    /// from the static `clientPort`).
    pub client: Option<(String, u16)>,
}

impl Member {
    fn host_text(h: &str) -> String {
        if h.contains(':') { format!("[{h}]") } else { h.to_owned() }
    }

    /// `QuorumServer.toString`.
    pub fn config_text(&self) -> String {
        let mut s = format!("{}:{}:{}", Self::host_text(&self.host), self.quorum_port, self.election_port);
        s.push_str(if self.observer { ":observer" } else { ":participant" });
        if let Some((h, p)) = &self.client {
            s.push_str(&format!(";{}:{p}", Self::host_text(h)));
        }
        s
    }
}

/// `group.N` lines (group id → members) and `weight.N` lines (member → weight).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hierarchy {
    pub groups: BTreeMap<i64, Vec<i64>>,
    pub weights: BTreeMap<i64, u64>,
}

/// A quorum system: plain majority, or groups with weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumVerifier {
    pub members: BTreeMap<i64, Member>,
    /// `None` is a plain majority.
    pub hierarchy: Option<Hierarchy>,
    pub version: i64,
}

impl QuorumVerifier {
    pub fn majority(members: Vec<Member>, version: i64) -> QuorumVerifier {
        QuorumVerifier { members: members.into_iter().map(|m| (m.id, m)).collect(), hierarchy: None, version }
    }

    /// The voting members: participants (with a non-zero weight when hierarchical).
    pub fn voters(&self) -> BTreeSet<i64> {
        self.members.values().filter(|m| !m.observer && self.weight(m.id) > 0).map(|m| m.id).collect()
    }

    pub fn is_voter(&self, id: i64) -> bool {
        self.members.get(&id).is_some_and(|m| !m.observer) && self.weight(id) > 0
    }

    /// `getWeight`: 1 for everyone in a majority system (even non-members, as in QuorumMaj).
    pub fn weight(&self, id: i64) -> u64 {
        match &self.hierarchy {
            None => 1,
            Some(h) => h.weights.get(&id).copied().unwrap_or(0),
        }
    }

    /// `containsQuorum` over the votes of `ids` (non-voters are ignored).
    pub fn contains_quorum(&self, ids: &BTreeSet<i64>) -> bool {
        match &self.hierarchy {
            None => {
                let voters = self.voters();
                let n = ids.iter().filter(|i| voters.contains(i)).count();
                n > voters.len() / 2
            }
            Some(Hierarchy { groups, weights }) => {
                if ids.is_empty() {
                    return false;
                }
                let mut groups_with_weight = 0usize;
                let mut majorities = 0usize;
                for members in groups.values() {
                    let total: u64 = members.iter().map(|m| weights.get(m).copied().unwrap_or(0)).sum();
                    if total == 0 {
                        continue;
                    }
                    groups_with_weight += 1;
                    let got: u64 = members
                        .iter()
                        .filter(|m| ids.contains(m))
                        .map(|m| weights.get(m).copied().unwrap_or(0))
                        .sum();
                    if got > total / 2 {
                        majorities += 1;
                    }
                }
                majorities > groups_with_weight / 2
            }
        }
    }

    /// `QuorumVerifier.toString()`: `server.N=...` lines in id order, groups and weights for a
    /// hierarchy, then `version=<hex>` (no trailing newline).
    pub fn config_text(&self) -> String {
        let mut s = String::new();
        for m in self.members.values() {
            s.push_str(&format!("server.{}={}\n", m.id, m.config_text()));
        }
        if let Some(Hierarchy { groups, weights }) = &self.hierarchy {
            for (gid, members) in groups {
                let list: Vec<String> = members.iter().map(|m| m.to_string()).collect();
                s.push_str(&format!("group.{gid}={}\n", list.join(":")));
            }
            for (sid, w) in weights {
                s.push_str(&format!("weight.{sid}={w}\n"));
            }
        }
        s.push_str(&format!("version={:x}", self.version));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, observer: bool) -> Member {
        Member {
            id,
            host: "127.0.0.1".into(),
            quorum_port: 2000 + id as u16,
            election_port: 3000 + id as u16,
            observer,
            client: None,
        }
    }

    #[test]
    fn majorities_ignore_observers() {
        let qv = QuorumVerifier::majority(
            vec![member(1, false), member(2, false), member(3, false), member(4, true)],
            0,
        );
        assert!(qv.contains_quorum(&BTreeSet::from([1, 2])));
        assert!(!qv.contains_quorum(&BTreeSet::from([1, 4])));
        assert_eq!(
            qv.config_text(),
            "server.1=127.0.0.1:2001:3001:participant\nserver.2=127.0.0.1:2002:3002:participant\n\
             server.3=127.0.0.1:2003:3003:participant\nserver.4=127.0.0.1:2004:3004:observer\nversion=0"
        );
    }

    #[test]
    fn hierarchical_needs_a_majority_of_groups() {
        let mut qv = QuorumVerifier::majority((1..=6).map(|i| member(i, false)).collect(), 0x100000000);
        let groups = BTreeMap::from([(1, vec![1, 2, 3]), (2, vec![4, 5]), (3, vec![6])]);
        let weights = (1..=6).map(|i| (i, 1u64)).collect();
        qv.hierarchy = Some(Hierarchy { groups, weights });
        assert!(qv.contains_quorum(&BTreeSet::from([1, 2, 4, 5])));
        assert!(qv.contains_quorum(&BTreeSet::from([1, 2, 6])));
        assert!(!qv.contains_quorum(&BTreeSet::from([1, 2, 3])));
        assert!(qv.config_text().ends_with("weight.6=1\nversion=100000000"));
    }
}
