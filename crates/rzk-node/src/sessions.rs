//! `SessionTrackerImpl`: live sessions, their timeouts and the expiry queue. Expiry times are
//! rounded up to the next tick (`ExpiryQueue.roundToNextInterval`), so one tick expires a whole
//! bucket. Session ids are `(time << 24) >>> 8 | serverId << 56` plus a counter.

use std::collections::{BTreeMap, BTreeSet};

use rzk_proto::ErrorCode;
use rzk_proto::codes::ephemeral_owner;

use crate::ConnId;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub timeout_ms: i32,
    pub expires_at_ms: i64,
    /// Set once a closeSession is on its way; further requests get SessionExpired.
    pub closing: bool,
    /// The connection the session is attached to, if any.
    pub conn: Option<ConnId>,
    /// Which server the session's requests come through (`SessionImpl.owner`), set by the first
    /// request, a createSession or a revalidation; a request through another gets SessionMoved.
    pub owner: Option<Owner>,
}

/// Where a request entered the ensemble: a client of this server, or a learner's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Local,
    Learner(u64),
}

#[derive(Debug)]
pub struct SessionTracker {
    tick_ms: i64,
    sessions: BTreeMap<i64, Session>,
    buckets: BTreeMap<i64, BTreeSet<i64>>,
    next_id: i64,
}

/// `SessionTrackerImpl.initializeNextSessionId`.
pub fn initial_session_id(server_id: i64, time_ms: i64) -> i64 {
    let mut next = ((time_ms << 24) as u64 >> 8) as i64;
    next |= server_id << 56;
    if next == ephemeral_owner::CONTAINER {
        next += 1;
    }
    next
}

impl SessionTracker {
    pub fn new(tick_ms: i64, server_id: i64, time_ms: i64) -> SessionTracker {
        SessionTracker {
            tick_ms: tick_ms.max(1),
            sessions: BTreeMap::new(),
            buckets: BTreeMap::new(),
            next_id: initial_session_id(server_id, time_ms),
        }
    }

    fn round_up(&self, t: i64) -> i64 {
        (t / self.tick_ms + 1) * self.tick_ms
    }

    fn schedule(&mut self, id: i64, at: i64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            if s.expires_at_ms == at {
                return;
            }
            if let Some(b) = self.buckets.get_mut(&s.expires_at_ms) {
                b.remove(&id);
            }
            s.expires_at_ms = at;
            self.buckets.entry(at).or_default().insert(id);
        }
    }

    /// A new session id (`createSession`).
    pub fn next_session_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Starts tracking a session (new, or restored from disk).
    pub fn add(&mut self, id: i64, timeout_ms: i32, now_ms: i64) {
        self.sessions
            .entry(id)
            .or_insert(Session { id, timeout_ms, expires_at_ms: 0, closing: false, conn: None, owner: None })
            .timeout_ms = timeout_ms;
        let at = self.round_up(now_ms + timeout_ms as i64);
        self.schedule(id, at);
    }

    /// Extends a session's life; false if it is unknown or closing.
    pub fn touch(&mut self, id: i64, timeout_ms: i32, now_ms: i64) -> bool {
        match self.sessions.get_mut(&id) {
            Some(s) if !s.closing => s.timeout_ms = timeout_ms,
            _ => return false,
        }
        let at = self.round_up(now_ms + timeout_ms as i64);
        self.schedule(id, at);
        true
    }

    /// Touches with the session's own timeout (every request does this).
    pub fn touch_current(&mut self, id: i64, now_ms: i64) -> bool {
        match self.sessions.get(&id) {
            Some(s) => {
                let t = s.timeout_ms;
                self.touch(id, t, now_ms)
            }
            None => false,
        }
    }

    /// Sessions whose time has come; they are marked closing.
    pub fn poll_expired(&mut self, now_ms: i64) -> Vec<i64> {
        let mut out = Vec::new();
        while let Some((&at, _)) = self.buckets.first_key_value() {
            if at > now_ms {
                break;
            }
            if let Some((_, ids)) = self.buckets.pop_first() {
                for id in ids {
                    if let Some(s) = self.sessions.get_mut(&id)
                        && !s.closing
                    {
                        s.closing = true;
                        out.push(id);
                    }
                }
            }
        }
        out
    }

    /// `checkSession`: UnknownSession for a session never seen, SessionExpired once closing.
    pub fn check(&self, id: i64) -> Result<(), ErrorCode> {
        match self.sessions.get(&id) {
            None => Err(ErrorCode::UnknownSession),
            Some(s) if s.closing => Err(ErrorCode::SessionExpired),
            Some(_) => Ok(()),
        }
    }

    /// `checkSession(id, owner)`: [`check`](Self::check), then the owner is taken by the first
    /// request and must match afterwards.
    pub fn check_owner(&mut self, id: i64, owner: Owner) -> Result<(), ErrorCode> {
        self.check(id)?;
        let Some(s) = self.sessions.get_mut(&id) else { return Err(ErrorCode::UnknownSession) };
        match s.owner {
            None => {
                s.owner = Some(owner);
                Ok(())
            }
            Some(o) if o == owner => Ok(()),
            Some(_) => Err(ErrorCode::SessionMoved),
        }
    }

    /// `setOwner`: the session now comes through `owner` (createSession, reconnects).
    pub fn set_owner(&mut self, id: i64, owner: Owner) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.owner = Some(owner);
        }
    }

    /// Undoes `set_closing` (its closeSession could not be stored); the session expires again
    /// after one tick if its time is up.
    pub fn reopen(&mut self, id: i64, now_ms: i64) {
        let Some(s) = self.sessions.get_mut(&id) else { return };
        s.closing = false;
        let at = self.round_up(now_ms);
        self.schedule(id, at);
    }

    pub fn set_closing(&mut self, id: i64) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    pub fn remove(&mut self, id: i64) -> Option<Session> {
        let s = self.sessions.remove(&id)?;
        if let Some(b) = self.buckets.get_mut(&s.expires_at_ms) {
            b.remove(&id);
        }
        Some(s)
    }

    pub fn get(&self, id: i64) -> Option<&Session> {
        self.sessions.get(&id)
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut Session> {
        self.sessions.get_mut(&id)
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// The expiry buckets, for `dump` ("Sessions with Ephemerals" comes from the tree).
    pub fn buckets(&self) -> impl Iterator<Item = (i64, &BTreeSet<i64>)> {
        self.buckets.iter().filter(|(_, s)| !s.is_empty()).map(|(t, s)| (*t, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_rounded_to_ticks_and_touch_extends() {
        let mut t = SessionTracker::new(2000, 1, 0);
        let id = t.next_session_id();
        t.add(id, 4000, 100);
        // 100 + 4000 = 4100 → rounded up to 6000.
        assert!(t.poll_expired(5999).is_empty());
        assert!(t.touch(id, 4000, 3000)); // → 8000
        assert!(t.poll_expired(6000).is_empty());
        assert_eq!(t.poll_expired(8000), vec![id]);
        assert_eq!(t.check(id), Err(ErrorCode::SessionExpired));
        assert!(!t.touch(id, 4000, 8001));
    }

    #[test]
    fn session_ids_carry_the_server_id() {
        let id = initial_session_id(5, 1_700_000_000_000);
        assert_eq!(id >> 56, 5);
    }
}
