//! Reading a whole tree through a client (paths, data, stats and ACLs), to compare what two
//! servers hold. The walker authenticates as the super user so ACLs do not hide anything.

use std::collections::VecDeque;
use std::time::Duration;

use rzk_client::{Acl, Client, Stat};

/// One node as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub stat: Stat,
    pub acl: Vec<Acl>,
}

/// The super user's password in the tests' `superDigest`.
pub const SUPER_DIGEST_DEFINE: &str =
    "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

pub async fn walk(addr: &str) -> Vec<Seen> {
    let zk = Client::connect(addr, Duration::from_secs(30)).await.expect("connect for the walk");
    zk.add_auth("digest", b"super:test").await.expect("super auth");
    let mut out = Vec::new();
    let mut queue = VecDeque::from(["/".to_owned()]);
    while let Some(p) = queue.pop_front() {
        let (data, stat) = match zk.get_data_nullable(&p, false).await {
            Ok(x) => x,
            Err(e) => panic!("walk {p}: {e}"),
        };
        let (acl, _) = zk.get_acl(&p).await.unwrap_or_else(|e| panic!("acl {p}: {e}"));
        let mut children = zk.get_children(&p, false).await.unwrap_or_else(|e| panic!("ls {p}: {e}"));
        children.sort();
        for c in children {
            queue.push_back(if p == "/" { format!("/{c}") } else { format!("{p}/{c}") });
        }
        out.push(Seen { path: p, data: data.map(|d| d.to_vec()), stat, acl });
    }
    let _ = zk.close().await;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Explains the first differences between two walks.
pub fn diff(a_name: &str, a: &[Seen], b_name: &str, b: &[Seen]) -> Vec<String> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while (i < a.len() || j < b.len()) && out.len() < 20 {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.path == y.path => {
                if x != y {
                    out.push(format!("{}: {a_name} {x:?}\n    {b_name} {y:?}", x.path));
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.path < y.path => {
                out.push(format!("{} only in {a_name}", x.path));
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.push(format!("{} only in {b_name}", y.path));
                j += 1;
            }
            (Some(x), None) => {
                out.push(format!("{} only in {a_name}", x.path));
                i += 1;
            }
            (None, Some(y)) => {
                out.push(format!("{} only in {b_name}", y.path));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}
