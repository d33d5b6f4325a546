//! The invariants, checked after every tick, and the end-of-run checks:
//!
//! - every server's log has strictly increasing zxids;
//! - servers that reached the same zxid have the same tree digest (committed prefixes agree);
//! - at most one established leader per epoch;
//! - a session's reads of the shared node never go back in time, nor before its own writes
//!   (sequential consistency per session);
//! - at the end, after healing: every server serves, all trees are equal, every acknowledged
//!   create is there with its data, and the shared node holds an acknowledged value.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::client::{Clients, SHARED};
use crate::world::Server;

#[derive(Debug, Default)]
pub struct Checker {
    digests: HashMap<i64, (i64, i64)>,
    leaders: BTreeMap<i64, i64>,
    acked_creates: BTreeMap<String, (Bytes, i64)>,
    acked_sets: HashMap<i64, Bytes>,
    pub reads: u64,
}

impl Checker {
    pub fn acked_create(&mut self, path: String, data: Bytes, zxid: i64) {
        self.acked_creates.insert(path, (data, zxid));
    }

    pub fn acked_set(&mut self, data: Bytes, mzxid: i64) {
        self.acked_sets.insert(mzxid, data);
    }

    /// Epochs that had an established leader.
    pub fn epochs(&self) -> usize {
        self.leaders.keys().filter(|e| **e != i64::MIN).count()
    }

    pub fn acked_writes(&self) -> usize {
        self.acked_creates.len() + self.acked_sets.len()
    }

    pub fn read(&mut self, client: usize, session: i64, mzxid: i64, seen: i64, _data: Bytes) {
        self.reads += 1;
        if mzxid < seen {
            // Recorded as a violation at the next step check.
            self.leaders.insert(i64::MIN, client as i64);
            self.digests.insert(i64::MIN, (session, mzxid));
        }
    }

    pub fn check_step(&mut self, servers: &[Server]) -> Result<(), String> {
        if let Some((session, mzxid)) = self.digests.get(&i64::MIN) {
            return Err(format!(
                "session 0x{session:x} read the shared node at mzxid 0x{mzxid:x}, older than what it had seen"
            ));
        }
        for s in servers {
            if !s.store.log_is_ordered() {
                return Err(format!("server {}: log zxids out of order", s.id));
            }
            let Some(node) = s.node.as_ref() else { continue };
            let tree = node.tree();
            let (zxid, digest) = (tree.last_processed_zxid, tree.digest());
            match self.digests.get(&zxid) {
                Some((d, who)) if *d != digest => {
                    return Err(format!(
                        "digest mismatch at zxid 0x{zxid:x}: server {} has {digest:x}, server {who} had {d:x}",
                        s.id
                    ));
                }
                Some(_) => {}
                None => {
                    self.digests.insert(zxid, (digest, s.id));
                }
            }
            if node.quorum_state() == Some(rzk_zab::ServerState::Leading)
                && node.serving()
                && let Some((_, epoch)) = node.epochs()
            {
                let prev = *self.leaders.entry(epoch).or_insert(s.id);
                if prev != s.id {
                    return Err(format!("two leaders in epoch {epoch}: {prev} and {}", s.id));
                }
            }
        }
        Ok(())
    }

    pub fn check_end(&self, servers: &[Server], clients: &Clients) -> Result<(), String> {
        let _ = clients;
        let mut reference: Option<(i64, i64, i64)> = None;
        for s in servers {
            let Some(node) = s.node.as_ref() else {
                return Err(format!("server {} is down at the end", s.id));
            };
            if !node.serving() {
                return Err(format!("server {} is not serving at the end ({:?})", s.id, node.quorum_state()));
            }
            let t = node.tree();
            let me = (t.last_processed_zxid, t.digest(), s.id);
            match reference {
                None => reference = Some(me),
                Some((z, d, who)) => {
                    if (z, d) != (me.0, me.1) {
                        return Err(format!(
                            "servers disagree at the end: {who} at 0x{z:x}/{d:x}, {} at 0x{:x}/{:x}",
                            s.id, me.0, me.1
                        ));
                    }
                }
            }
            for (path, (data, zxid)) in &self.acked_creates {
                match t.node(path) {
                    None => {
                        return Err(format!(
                            "acknowledged create {path} (zxid 0x{zxid:x}) lost on server {}",
                            s.id
                        ));
                    }
                    Some(n) => {
                        if n.data.as_deref().unwrap_or_default() != &data[..] {
                            return Err(format!("{path} has the wrong data on server {}", s.id));
                        }
                    }
                }
            }
            if let Some(n) = t.node(SHARED) {
                let mzxid = n.stat.mzxid;
                if let Some(d) = self.acked_sets.get(&mzxid)
                    && n.data.as_deref().unwrap_or_default() != &d[..]
                {
                    return Err(format!("{SHARED} at mzxid 0x{mzxid:x} has data no client wrote"));
                }
            }
        }
        Ok(())
    }
}
