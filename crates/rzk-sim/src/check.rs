//! The invariants and the history checker. Every check here holds for any correct ZooKeeper
//! run, whatever the faults; a failure is a bug (in rzk, or in the simulator's shell).
//!
//! After every tick, for every server (for the tree checks: every server that is up):
//!
//! - its durable log has strictly increasing zxids;
//! - servers that reached the same zxid have the same tree digest (committed prefixes agree);
//! - at most one established leader per epoch;
//! - a serving leader's session tracker has every session of its tree (else one would never
//!   expire, and its ephemerals would stay forever);
//! - every ephemeral node's owner is a session the tree still has (`sessionsWithTimeouts`): a
//!   closed or expired session owns nothing; every second, also that each node in the
//!   ephemerals index exists with that owner;
//! - no acknowledged write is lost: once a server's tree is at or past an acknowledged write's
//!   zxid, the write is in it — a create's node is there with its data (an ephemeral one unless
//!   its session has ended since), the shared node's mzxid is at least a set's zxid, a closed
//!   session is gone with its ephemerals. Checked for new acknowledgements, for txns a server
//!   newly applied, for all of them after a restart or a reload, and for all every second.
//!
//! The tree checks run on a server whose tree changed (zxid, digest or restart) since the last
//! tick, and on every server every second; so they cost little while nothing happens.
//!
//! As replies arrive (the history checker):
//!
//! - writes are linearizable: acknowledged writes (creates, sets, closeSession) have distinct
//!   zxids, and a write invoked after another's reply arrived has the larger zxid;
//! - reads are sequentially consistent per session: a session never reads the shared node at an
//!   older mzxid than it has seen or written, and a read at an acknowledged write's zxid returns
//!   that write's data (checked at the end, when every acknowledgement is known).
//!
//! At the end, after healing and a quiet period:
//!
//! - every server is up and serving, and all trees are equal (zxid and digest);
//! - every acknowledged create is there with its data; the shared node's mzxid is at least every
//!   acknowledged set's zxid, its version at least the number of acknowledged sets, and if its
//!   mzxid is an acknowledged set's, it holds that set's data;
//! - every session a client still holds exists on every server and owns exactly the ephemerals
//!   it was told it created; every session closed or abandoned well before the end has expired
//!   and owns nothing.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use bytes::Bytes;
use rzk_tree::DataTree;

use crate::client::{Clients, SHARED};
use crate::world::Server;

/// Every this many step checks (1 s), every acknowledged write is checked again on every server (a
/// snapshot sync replaces a tree without moving its zxid back).
const FULL_CHECK_STEPS: u64 = 100;
/// A session given up on this long before the end must have expired by then (session timeout
/// 4 s, plus an election and the expiry tick).
const EXPIRED_BY_END_MS: i64 = 10_000;

/// An acknowledged write and its effect.
#[derive(Debug, Clone)]
pub enum Write {
    /// A uniquely named node; `owner` is the session of an ephemeral.
    Create {
        path: String,
        data: Bytes,
        owner: Option<i64>,
    },
    /// The shared node was created (`create`) or set to `data`.
    Shared {
        data: Bytes,
        create: bool,
    },
    Close {
        session: i64,
    },
}

#[derive(Debug, Clone)]
struct Acked {
    write: Write,
    zxid: i64,
    invoked_ms: i64,
    replied_ms: i64,
}

/// What the checker knows of one server's tree.
#[derive(Debug, Clone, Copy, Default)]
struct Mark {
    incarnation: u64,
    zxid: i64,
    digest: i64,
    /// Every acknowledged write at or below this zxid was found in the tree.
    verified: i64,
}

#[derive(Debug, Default)]
pub struct Checker {
    violation: Option<String>,
    digests: HashMap<i64, (i64, i64)>,
    leaders: BTreeMap<i64, i64>,
    /// Acknowledged writes in the order their replies arrived.
    writes: Vec<Acked>,
    /// The index of the write with the largest zxid among `writes[..=i]`.
    max_zxid_upto: Vec<usize>,
    by_zxid: BTreeMap<i64, usize>,
    /// Acknowledged since the last step check.
    fresh: Vec<usize>,
    marks: Vec<Mark>,
    steps: u64,
    /// Reads of the shared node: (session, mzxid, data).
    shared_reads: Vec<(i64, i64, Bytes)>,
    pub reads: u64,
}

impl Checker {
    fn fail(&mut self, why: String) {
        self.violation.get_or_insert(why);
    }

    /// A write was acknowledged at `zxid`: it was sent at `invoked_ms`, its reply arrived at
    /// `replied_ms`. Replies arrive in time order, so every write that completed before this one
    /// was invoked is already known.
    pub fn acked(&mut self, write: Write, zxid: i64, invoked_ms: i64, replied_ms: i64) {
        if let Some(&other) = self.by_zxid.get(&zxid) {
            let o = &self.writes[other];
            return self
                .fail(format!("two acknowledged writes at zxid 0x{zxid:x}: {:?} and {write:?}", o.write));
        }
        let before = self.writes.partition_point(|w| w.replied_ms < invoked_ms);
        if before > 0 {
            let a = &self.writes[self.max_zxid_upto[before - 1]];
            if a.zxid >= zxid {
                return self.fail(format!(
                    "writes not linearizable: {:?} (sent at {} ms) answered at {} ms with zxid 0x{:x}, but \
                     {write:?} sent at {invoked_ms} ms got the older zxid 0x{zxid:x}",
                    a.write, a.invoked_ms, a.replied_ms, a.zxid
                ));
            }
        }
        let i = self.writes.len();
        let best = match self.max_zxid_upto.last() {
            Some(&m) if self.writes[m].zxid > zxid => m,
            _ => i,
        };
        self.writes.push(Acked { write, zxid, invoked_ms, replied_ms });
        self.max_zxid_upto.push(best);
        self.by_zxid.insert(zxid, i);
        self.fresh.push(i);
    }

    /// Epochs that had an established leader.
    pub fn epochs(&self) -> usize {
        self.leaders.len()
    }

    pub fn acked_writes(&self) -> usize {
        self.writes.len()
    }

    /// Acknowledged ephemeral creates and session closes.
    pub fn acked_ephemerals_and_closes(&self) -> (usize, usize) {
        let eph =
            self.writes.iter().filter(|a| matches!(a.write, Write::Create { owner: Some(_), .. })).count();
        let closes = self.writes.iter().filter(|a| matches!(a.write, Write::Close { .. })).count();
        (eph, closes)
    }

    /// A session read the shared node at `mzxid`, having seen or written `seen` before.
    pub fn read(&mut self, session: i64, mzxid: i64, seen: i64, data: Bytes) {
        self.reads += 1;
        if mzxid < seen {
            self.fail(format!(
                "session 0x{session:x} read {SHARED} at mzxid 0x{mzxid:x}, older than 0x{seen:x} it had seen"
            ));
        }
        self.shared_reads.push((session, mzxid, data));
    }

    pub fn check_step(&mut self, servers: &[Server]) -> Result<(), String> {
        if let Some(v) = &self.violation {
            return Err(v.clone());
        }
        self.steps += 1;
        let full = self.steps.is_multiple_of(FULL_CHECK_STEPS);
        self.marks.resize(servers.len(), Mark::default());
        for (i, s) in servers.iter().enumerate() {
            if let Some((prev, next)) = s.store.disorder {
                return Err(format!("server {}: log appended 0x{next:x} after 0x{prev:x}", s.id));
            }
            let Some(node) = s.node.as_ref() else { continue };
            let tree = node.tree();
            // A tree changes only with its zxid or its digest (or a restart); the tree checks
            // run when it did, and on all trees every FULL_CHECK_STEPS.
            let m = self.marks[i];
            if full
                || (m.incarnation, m.zxid, m.digest)
                    != (s.incarnation, tree.last_processed_zxid, tree.digest())
            {
                self.check_digest(s.id, tree)?;
                check_ephemeral_owners(s.id, tree, full)?;
                self.check_applied(i, s, tree, full)?;
            }
            let leading = node.quorum_state() == Some(rzk_zab::ServerState::Leading) && node.serving();
            if leading && let Some(id) = tree.sessions.keys().find(|id| node.sessions().get(**id).is_none()) {
                return Err(format!(
                    "leader {} (at 0x{:x}) does not track session 0x{id:x}, so it would never expire",
                    s.id, tree.last_processed_zxid
                ));
            }
            if leading && let Some((_, epoch)) = node.epochs() {
                let prev = *self.leaders.entry(epoch).or_insert(s.id);
                if prev != s.id {
                    return Err(format!("two leaders in epoch {epoch}: {prev} and {}", s.id));
                }
            }
        }
        for &w in &self.fresh {
            let a = &self.writes[w];
            for s in servers {
                if let Some(tree) = s.node.as_ref().map(|n| n.tree())
                    && tree.last_processed_zxid >= a.zxid
                {
                    check_write_in(s.id, tree, a)?;
                }
            }
        }
        self.fresh.clear();
        Ok(())
    }

    fn check_digest(&mut self, id: i64, tree: &DataTree) -> Result<(), String> {
        let (zxid, digest) = (tree.last_processed_zxid, tree.digest());
        match self.digests.get(&zxid) {
            Some((d, who)) if *d != digest => Err(format!(
                "digest mismatch at zxid 0x{zxid:x}: server {id} has {digest:x}, server {who} had {d:x}"
            )),
            Some(_) => Ok(()),
            None => {
                self.digests.insert(zxid, (digest, id));
                Ok(())
            }
        }
    }

    /// The acknowledged writes a server's tree has reached since it was last checked.
    fn check_applied(&mut self, i: usize, s: &Server, tree: &DataTree, full: bool) -> Result<(), String> {
        let zxid = tree.last_processed_zxid;
        let m = &mut self.marks[i];
        if full || m.incarnation != s.incarnation || zxid < m.zxid {
            m.verified = i64::MIN;
        }
        m.incarnation = s.incarnation;
        m.zxid = zxid;
        m.digest = tree.digest();
        let from = m.verified;
        m.verified = zxid;
        for (_, &w) in self.by_zxid.range((Bound::Excluded(from), Bound::Included(zxid))) {
            check_write_in(s.id, tree, &self.writes[w])?;
        }
        Ok(())
    }

    pub fn check_end(&self, servers: &[Server], clients: &Clients, now: i64) -> Result<(), String> {
        if let Some(v) = &self.violation {
            return Err(v.clone());
        }
        self.check_reads()?;
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
            for a in &self.writes {
                check_write_in(s.id, t, a)?;
            }
            self.check_shared_end(s.id, t)?;
            check_sessions_end(s.id, t, clients, now)?;
        }
        Ok(())
    }

    /// A read at an acknowledged write's zxid returned that write's data.
    fn check_reads(&self) -> Result<(), String> {
        for (session, mzxid, data) in &self.shared_reads {
            if let Some(&w) = self.by_zxid.get(mzxid)
                && let Write::Shared { data: written, .. } = &self.writes[w].write
                && written != data
            {
                return Err(format!(
                    "session 0x{session:x} read {data:?} from {SHARED} at mzxid 0x{mzxid:x}, where {written:?} was written"
                ));
            }
        }
        Ok(())
    }

    fn check_shared_end(&self, id: i64, t: &DataTree) -> Result<(), String> {
        let sets: Vec<&Acked> =
            self.writes.iter().filter(|a| matches!(a.write, Write::Shared { create: false, .. })).collect();
        let Some(n) = t.node(SHARED) else {
            return match sets.is_empty() {
                true => Ok(()),
                false => {
                    Err(format!("{SHARED} is missing on server {id}, though sets of it were acknowledged"))
                }
            };
        };
        let mzxid = n.stat.mzxid;
        if let Some(a) = sets.iter().max_by_key(|a| a.zxid)
            && mzxid < a.zxid
        {
            return Err(format!(
                "{SHARED} on server {id} was last set at 0x{mzxid:x}, before the acknowledged set at 0x{:x}",
                a.zxid
            ));
        }
        if (n.stat.version as usize) < sets.len() {
            return Err(format!(
                "{SHARED} on server {id} has version {}, but {} sets were acknowledged",
                n.stat.version,
                sets.len()
            ));
        }
        if let Some(&w) = self.by_zxid.get(&mzxid)
            && let Write::Shared { data, .. } = &self.writes[w].write
            && n.data().unwrap_or_default() != &data[..]
        {
            return Err(format!("{SHARED} at mzxid 0x{mzxid:x} on server {id} has data no client wrote"));
        }
        Ok(())
    }
}

/// The acknowledged write `a` is in a tree that has reached its zxid.
fn check_write_in(id: i64, t: &DataTree, a: &Acked) -> Result<(), String> {
    let zxid = a.zxid;
    match &a.write {
        Write::Create { path, data, owner } => match t.node(path) {
            Some(n) => {
                if n.data().unwrap_or_default() != &data[..] {
                    return Err(format!("{path} (zxid 0x{zxid:x}) has the wrong data on server {id}"));
                }
                if n.stat.ephemeral_owner != owner.unwrap_or(0) {
                    return Err(format!(
                        "{path} (zxid 0x{zxid:x}) on server {id} is owned by 0x{:x}, not {owner:x?}",
                        n.stat.ephemeral_owner
                    ));
                }
                Ok(())
            }
            // An ephemeral goes with its session.
            None if owner.is_some_and(|o| !t.sessions.contains_key(&o)) => Ok(()),
            None => Err(format!(
                "acknowledged create {path} (zxid 0x{zxid:x}) lost on server {id} (at 0x{:x})",
                t.last_processed_zxid
            )),
        },
        Write::Shared { .. } => match t.node(SHARED) {
            Some(n) if n.stat.mzxid >= zxid => Ok(()),
            Some(n) => Err(format!(
                "acknowledged write of {SHARED} at 0x{zxid:x} lost on server {id} (at 0x{:x}, mzxid 0x{:x})",
                t.last_processed_zxid, n.stat.mzxid
            )),
            None => Err(format!("{SHARED} (written at 0x{zxid:x}) lost on server {id}")),
        },
        Write::Close { session } => {
            let owns = t.ephemerals_by_session().get(session).is_some_and(|e| !e.is_empty());
            if t.sessions.contains_key(session) || owns {
                return Err(format!(
                    "session 0x{session:x}, closed at 0x{zxid:x}, is still live on server {id} (at 0x{:x})",
                    t.last_processed_zxid
                ));
            }
            Ok(())
        }
    }
}

/// Every ephemeral's owner is a live session; with `nodes`, the index matches the nodes too.
fn check_ephemeral_owners(id: i64, t: &DataTree, nodes: bool) -> Result<(), String> {
    for (session, paths) in t.ephemerals_by_session() {
        if paths.is_empty() {
            continue;
        }
        if !t.sessions.contains_key(session) {
            return Err(format!(
                "server {id} (at 0x{:x}): session 0x{session:x} is gone but owns {paths:?}",
                t.last_processed_zxid
            ));
        }
        if !nodes {
            continue;
        }
        for p in paths {
            let owner = t.node(p).map(|n| n.stat.ephemeral_owner);
            if owner != Some(*session) {
                return Err(format!(
                    "server {id}: ephemeral {p} of session 0x{session:x} has owner {owner:x?} in the tree"
                ));
            }
        }
    }
    Ok(())
}

/// At the end: sessions clients hold are live and own exactly their acknowledged ephemerals;
/// sessions given up on well before the end are gone.
fn check_sessions_end(id: i64, t: &DataTree, clients: &Clients, now: i64) -> Result<(), String> {
    for l in clients.live() {
        if !t.sessions.contains_key(&l.session) {
            return Err(format!(
                "client {}'s session 0x{:x} is connected but unknown to server {id}",
                l.client, l.session
            ));
        }
        let owned = t.ephemerals(l.session);
        let missing: Vec<&String> = l.ephemerals.iter().filter(|p| !owned.contains(*p)).collect();
        let extra = owned.len() + missing.len() - l.ephemerals.len();
        if !missing.is_empty() || (extra > 0 && !(extra == 1 && l.create_pending)) {
            return Err(format!(
                "session 0x{:x} on server {id} owns {owned:?}, but was told it created {:?}",
                l.session, l.ephemerals
            ));
        }
    }
    for &(session, at) in clients.ended() {
        if at + EXPIRED_BY_END_MS <= now
            && (t.sessions.contains_key(&session) || !t.ephemerals(session).is_empty())
        {
            return Err(format!("session 0x{session:x}, given up at {at} ms, is still live on server {id}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(data: &'static str) -> Write {
        Write::Shared { data: Bytes::from_static(data.as_bytes()), create: false }
    }

    fn violation(c: &Checker) -> String {
        c.violation.clone().unwrap_or_default()
    }

    #[test]
    fn concurrent_writes_may_commit_in_either_order() {
        let mut c = Checker::default();
        c.acked(set("a"), 0x102, 10, 20);
        c.acked(set("b"), 0x101, 15, 25);
        c.acked(set("c"), 0x103, 21, 30);
        assert_eq!(c.violation, None);
    }

    #[test]
    fn a_write_after_a_reply_needs_a_newer_zxid() {
        let mut c = Checker::default();
        c.acked(set("a"), 0x105, 10, 20);
        c.acked(set("b"), 0x101, 11, 21);
        c.acked(set("c"), 0x104, 22, 30);
        assert!(violation(&c).contains("not linearizable"), "{:?}", c.violation);
    }

    #[test]
    fn two_writes_cannot_share_a_zxid() {
        let mut c = Checker::default();
        c.acked(set("a"), 0x101, 10, 20);
        c.acked(set("b"), 0x101, 10, 20);
        assert!(violation(&c).contains("two acknowledged writes"), "{:?}", c.violation);
    }

    #[test]
    fn a_session_never_reads_back_in_time() {
        let mut c = Checker::default();
        c.read(7, 0x105, 0x100, Bytes::new());
        assert_eq!(c.violation, None);
        c.read(7, 0x101, 0x105, Bytes::new());
        assert!(violation(&c).contains("older than"), "{:?}", c.violation);
    }

    #[test]
    fn a_read_at_a_write_returns_its_data() {
        let mut c = Checker::default();
        c.acked(set("a"), 0x101, 10, 20);
        c.read(7, 0x101, 0, Bytes::from_static(b"a"));
        assert!(c.check_reads().is_ok());
        c.read(8, 0x101, 0, Bytes::from_static(b"b"));
        assert!(c.check_reads().is_err());
    }
}
