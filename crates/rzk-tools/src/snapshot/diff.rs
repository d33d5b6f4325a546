//! `rzk snapshot compare A B --exact`: every difference between two snapshots' trees and
//! sessions: paths on one side only, and paths whose data, stat or ACL differ (ACLs compared as
//! lists, since two servers may number their ACL caches differently). Meant for tests that check
//! rzk and ZooKeeper reach the same state; exits 0 when identical, 1 otherwise, like diff(1).

use std::collections::BTreeSet;
use std::fmt;

use rzk_proto::{Acl, StatPersisted};

use super::view::SnapshotView;
use crate::javafmt::hex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    OnlyLeft(String),
    OnlyRight(String),
    Data {
        path: String,
        left_len: Option<usize>,
        right_len: Option<usize>,
    },
    /// The stat fields that differ: (name, left, right).
    Stat {
        path: String,
        fields: Vec<(&'static str, i64, i64)>,
    },
    Acl {
        path: String,
        left: Vec<Acl>,
        right: Vec<Acl>,
    },
    SessionOnlyLeft(i64),
    SessionOnlyRight(i64),
    SessionTimeout {
        session: i64,
        left: i32,
        right: i32,
    },
}

fn acls(list: &[Acl]) -> String {
    let items: Vec<String> =
        list.iter().map(|a| format!("{}:{}:{}", a.id.scheme, a.id.id, a.perms)).collect();
    format!("[{}]", items.join(", "))
}

fn len(l: &Option<usize>) -> String {
    l.map_or("null".to_owned(), |n| format!("{n} bytes"))
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::OnlyLeft(p) => write!(f, "only in left: {p}"),
            Difference::OnlyRight(p) => write!(f, "only in right: {p}"),
            Difference::Data { path, left_len, right_len } => {
                write!(f, "data differs: {path} (left {}, right {})", len(left_len), len(right_len))
            }
            Difference::Stat { path, fields } => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, l, r)| {
                        if name.ends_with("zxid") || *name == "ephemeralOwner" {
                            format!("{name} 0x{} != 0x{}", hex(*l), hex(*r))
                        } else {
                            format!("{name} {l} != {r}")
                        }
                    })
                    .collect();
                write!(f, "stat differs: {path}: {}", parts.join(", "))
            }
            Difference::Acl { path, left, right } => {
                write!(f, "acl differs: {path}: {} != {}", acls(left), acls(right))
            }
            Difference::SessionOnlyLeft(s) => write!(f, "session only in left: 0x{}", hex(*s)),
            Difference::SessionOnlyRight(s) => write!(f, "session only in right: 0x{}", hex(*s)),
            Difference::SessionTimeout { session, left, right } => {
                write!(f, "session timeout differs: 0x{}: {left} != {right}", hex(*session))
            }
        }
    }
}

fn stat_fields(a: &StatPersisted, b: &StatPersisted) -> Vec<(&'static str, i64, i64)> {
    let pairs = [
        ("czxid", a.czxid, b.czxid),
        ("mzxid", a.mzxid, b.mzxid),
        ("pzxid", a.pzxid, b.pzxid),
        ("ctime", a.ctime, b.ctime),
        ("mtime", a.mtime, b.mtime),
        ("version", i64::from(a.version), i64::from(b.version)),
        ("cversion", i64::from(a.cversion), i64::from(b.cversion)),
        ("aversion", i64::from(a.aversion), i64::from(b.aversion)),
        ("ephemeralOwner", a.ephemeral_owner, b.ephemeral_owner),
    ];
    pairs.into_iter().filter(|(_, l, r)| l != r).collect()
}

/// Every difference, paths in byte order, then sessions by id.
pub fn exact_diff(left: &SnapshotView, right: &SnapshotView) -> Vec<Difference> {
    let display = |p: &str| if p.is_empty() { "/".to_owned() } else { p.to_owned() };
    let paths: BTreeSet<&str> = left.nodes().iter().chain(right.nodes()).map(|n| n.path.as_str()).collect();
    let mut diffs = Vec::new();
    for p in paths {
        match (left.node(p), right.node(p)) {
            (Some(_), None) => diffs.push(Difference::OnlyLeft(display(p))),
            (None, Some(_)) => diffs.push(Difference::OnlyRight(display(p))),
            (Some(a), Some(b)) => {
                if a.data != b.data {
                    let (left_len, right_len) =
                        (a.data.as_ref().map(|d| d.len()), b.data.as_ref().map(|d| d.len()));
                    diffs.push(Difference::Data { path: display(p), left_len, right_len });
                }
                let fields = stat_fields(&a.stat, &b.stat);
                if !fields.is_empty() {
                    diffs.push(Difference::Stat { path: display(p), fields });
                }
                let (la, ra) = (left.acl_of(a), right.acl_of(b));
                if la != ra {
                    diffs.push(Difference::Acl { path: display(p), left: la, right: ra });
                }
            }
            (None, None) => {}
        }
    }
    let ls: std::collections::BTreeMap<i64, i32> = left.sessions.iter().copied().collect();
    let rs: std::collections::BTreeMap<i64, i32> = right.sessions.iter().copied().collect();
    let ids: BTreeSet<i64> = ls.keys().chain(rs.keys()).copied().collect();
    for id in ids {
        match (ls.get(&id), rs.get(&id)) {
            (Some(_), None) => diffs.push(Difference::SessionOnlyLeft(id)),
            (None, Some(_)) => diffs.push(Difference::SessionOnlyRight(id)),
            (Some(&l), Some(&r)) if l != r => {
                diffs.push(Difference::SessionTimeout { session: id, left: l, right: r })
            }
            _ => {}
        }
    }
    diffs
}
