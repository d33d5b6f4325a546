//! The requests of the throughput workloads, made by each worker in turn: creates at unique
//! paths (no sequential flag, so the server does no counter work the other workloads lack),
//! setData and getData over a fixed set of existing nodes picked at random, a mix of both, and
//! the numbered nodes of `load` (also how the key nodes are made before `set`/`get`/`mixed`).

use bytes::Bytes;
use rzk_client::open_acl_unsafe;
use rzk_proto::codes::op;
use rzk_proto::{Acl, CreateRequest, GetDataRequest, Request, SetDataRequest};

/// What a worker sends.
#[derive(Debug, Clone)]
pub enum Gen {
    /// create `<parent>/s<session>-w<worker>-<n>`.
    Create {
        parent: String,
        value: Bytes,
        acl: Vec<Acl>,
    },
    /// create `<parent>/n<ticket>` (ticket = the measured op's number, zero-padded).
    Numbered {
        parent: String,
        value: Bytes,
        acl: Vec<Acl>,
    },
    Set {
        keys: Keys,
        value: Bytes,
    },
    Get {
        keys: Keys,
    },
    /// getData with `read_percent`% chance, else setData.
    Mixed {
        keys: Keys,
        value: Bytes,
        read_percent: u8,
    },
}

/// The nodes `set`/`get`/`mixed` use: `<parent>/n0000000000` .. (made by [`Gen::Numbered`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub parent: String,
    pub count: u32,
}

impl Keys {
    pub fn path(&self, i: u64) -> String {
        numbered(&self.parent, i)
    }

    fn pick(&self, st: &mut WorkerState) -> String {
        self.path(st.next_random() % u64::from(self.count.max(1)))
    }
}

fn numbered(parent: &str, i: u64) -> String {
    format!("{parent}/n{i:010}")
}

/// A worker's identity and counters.
#[derive(Debug, Clone)]
pub struct WorkerState {
    pub session: u32,
    pub worker: u32,
    /// Requests this worker made so far.
    pub seq: u64,
    rng: u64,
}

impl WorkerState {
    pub fn new(session: u32, worker: u32) -> WorkerState {
        // Any non-zero seed works for xorshift; spread the workers apart.
        let seed = (u64::from(session) << 32 | u64::from(worker)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        WorkerState { session, worker, seq: 0, rng: seed }
    }

    /// xorshift64*: cheap and good enough to spread keys.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Gen {
    /// A value of `bytes` bytes (printable, so dumps stay readable).
    pub fn value(bytes: usize) -> Bytes {
        Bytes::from((0..bytes).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>())
    }

    pub fn create(parent: &str, value_bytes: usize) -> Gen {
        Gen::Create { parent: parent.to_owned(), value: Gen::value(value_bytes), acl: open_acl_unsafe() }
    }

    pub fn numbered(parent: &str, value_bytes: usize) -> Gen {
        Gen::Numbered { parent: parent.to_owned(), value: Gen::value(value_bytes), acl: open_acl_unsafe() }
    }

    /// The next request of worker `st`; `ticket` is the measured op's number, if measured.
    pub fn request(&self, st: &mut WorkerState, ticket: Option<u64>) -> Request {
        st.seq += 1;
        match self {
            Gen::Create { parent, value, acl } => {
                let path = format!("{parent}/s{}-w{}-{}", st.session, st.worker, st.seq);
                create(path, value, acl)
            }
            Gen::Numbered { parent, value, acl } => {
                let path = match ticket {
                    Some(t) => numbered(parent, t),
                    None => format!("{parent}/s{}-w{}-{}", st.session, st.worker, st.seq),
                };
                create(path, value, acl)
            }
            Gen::Set { keys, value } => set(keys.pick(st), value),
            Gen::Get { keys } => get(keys.pick(st)),
            Gen::Mixed { keys, value, read_percent } => {
                let read = st.next_random() % 100 < u64::from(*read_percent);
                let path = keys.pick(st);
                if read { get(path) } else { set(path, value) }
            }
        }
    }
}

fn create(path: String, value: &Bytes, acl: &[Acl]) -> Request {
    let req = CreateRequest { path, data: Some(value.clone()), acl: acl.to_vec(), flags: 0 };
    Request::Create { op: op::CREATE, req }
}

fn set(path: String, value: &Bytes) -> Request {
    Request::SetData(SetDataRequest { path, data: Some(value.clone()), version: -1 })
}

fn get(path: String) -> Request {
    Request::GetData(GetDataRequest { path, watch: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(r: &Request) -> (&str, i32) {
        match r {
            Request::Create { req, .. } => (&req.path, r.op()),
            Request::SetData(s) => (&s.path, r.op()),
            Request::GetData(g) => (&g.path, r.op()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn creates_are_unique_and_numbered_follow_tickets() {
        let g = Gen::create("/b", 3);
        let mut a = WorkerState::new(1, 2);
        let r1 = g.request(&mut a, None);
        let r2 = g.request(&mut a, Some(7));
        assert_eq!(path_of(&r1), ("/b/s1-w2-1", op::CREATE));
        assert_eq!(path_of(&r2).0, "/b/s1-w2-2");
        let n = Gen::numbered("/l", 0);
        assert_eq!(path_of(&n.request(&mut a, Some(42))).0, "/l/n0000000042");
        assert_eq!(Gen::value(30).as_ref(), b"abcdefghijklmnopqrstuvwxyzabcd");
    }

    #[test]
    fn keys_stay_in_range_and_mix_follows_the_percentage() {
        let keys = Keys { parent: "/k".into(), count: 10 };
        let g = Gen::Mixed { keys: keys.clone(), value: Gen::value(1), read_percent: 90 };
        let mut st = WorkerState::new(0, 0);
        let mut reads = 0;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..10_000 {
            let r = g.request(&mut st, None);
            let (p, op) = path_of(&r);
            seen.insert(p.to_owned());
            reads += usize::from(op == op::GET_DATA);
        }
        assert_eq!(seen.len(), 10);
        assert!(seen.contains(&keys.path(9)) && !seen.contains(&keys.path(10)));
        assert!((8_700..=9_300).contains(&reads), "{reads} reads of 10000");
        let only_get = Gen::Mixed { keys, value: Gen::value(1), read_percent: 100 };
        assert!((0..100).all(|_| only_get.request(&mut st, None).op() == op::GET_DATA));
    }
}
