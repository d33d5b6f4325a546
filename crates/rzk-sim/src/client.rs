//! Simulated clients: each keeps one session on some server, creates uniquely named persistent
//! and ephemeral nodes, updates and reads a shared node, now and then closes its session, and
//! reconnects elsewhere (always with a new session) when its connection closes; an abandoned
//! session is left to expire. Once the fault window is over they only ping, so their sessions
//! live to the end. What they were told goes to the [`Checker`].

use bytes::Bytes;
use rzk_node::{ClientOut, Input};
use rzk_proto::codes::xid;
use rzk_proto::connect::ConnectRequest;
use rzk_proto::records::{CreateRequest, GetDataRequest, SetDataRequest};
use rzk_proto::{Acl, Request, Response};

use crate::check::{Checker, Write};
use crate::rng::Rng;

/// The node every client updates and reads.
pub const SHARED: &str = "/shared";
/// How long a client waits for a reply before it gives up on the connection.
const REPLY_WAIT_MS: i64 = 5_000;
/// The session timeout clients ask for (the servers' maximum is 20 ticks, 4 s).
const SESSION_TIMEOUT_MS: i32 = 4_000;
/// An idle client pings this often (well inside the session timeout).
const PING_INTERVAL_MS: i64 = 1_000;
/// `CreateMode.EPHEMERAL`.
const EPHEMERAL: i32 = 1;

#[derive(Debug, Clone)]
enum Op {
    Create { path: String, data: Bytes, ephemeral: bool },
    SetShared { data: Bytes },
    GetShared,
    CloseSession,
    Ping,
}

#[derive(Debug, Default)]
struct Client {
    server: usize,
    conn: Option<u64>,
    session: i64,
    established: bool,
    connect_sent_at: i64,
    /// (xid, op, sent at).
    waiting: Option<(i32, Op, i64)>,
    last_sent_at: i64,
    next_xid: i32,
    created: u64,
    /// The newest mzxid of SHARED this session has seen or written.
    seen_zxid: i64,
    /// SHARED does not exist yet: create it next.
    create_shared: bool,
    /// The ephemerals this session was told it created.
    ephemerals: Vec<String>,
}

/// A session a client holds at the end, and what it was told about its ephemerals.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub client: usize,
    pub session: i64,
    pub ephemerals: Vec<String>,
    /// An ephemeral create is still unanswered, so the session may own one more.
    pub create_pending: bool,
}

pub struct Clients {
    clients: Vec<Client>,
    next_conn: u64,
    /// Sessions given up on (closed or abandoned), with when.
    ended: Vec<(i64, i64)>,
}

impl Clients {
    pub fn new(n: usize) -> Clients {
        Clients { clients: (0..n).map(|_| Client::default()).collect(), next_conn: 1, ended: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Whether a client is still waiting on something.
    pub fn idle(&self) -> bool {
        self.clients.iter().all(|c| c.waiting.is_none())
    }

    /// Sessions the clients closed or abandoned: (session, when).
    pub fn ended(&self) -> &[(i64, i64)] {
        &self.ended
    }

    /// The sessions clients are attached to now.
    pub fn live(&self) -> Vec<LiveSession> {
        self.clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.conn.is_some() && c.established)
            .map(|(ci, c)| LiveSession {
                client: ci,
                session: c.session,
                ephemerals: c.ephemerals.clone(),
                create_pending: matches!(c.waiting, Some((_, Op::Create { ephemeral: true, .. }, _))),
            })
            .collect()
    }

    /// The client's connection is gone; its session (if it had one) is given up on.
    fn drop_conn(&mut self, ci: usize, now: i64) {
        let c = &mut self.clients[ci];
        c.conn = None;
        c.established = false;
        c.waiting = None;
        if c.session != 0 {
            self.ended.push((c.session, now));
            c.session = 0;
        }
    }

    pub fn server_died(&mut self, server: usize, now: i64) {
        for ci in 0..self.clients.len() {
            let c = &self.clients[ci];
            if c.conn.is_some() && c.server == server {
                self.drop_conn(ci, now);
            }
        }
    }

    /// The client acts: connect somewhere, or send its next request.
    pub fn wake(
        &mut self,
        ci: usize,
        live: &[usize],
        now: i64,
        accepting: bool,
        rng: &mut Rng,
    ) -> Vec<(usize, Input)> {
        let mut out = Vec::new();
        let c = &self.clients[ci];
        if let Some(conn) = c.conn {
            let stuck = (!c.established && now - c.connect_sent_at > REPLY_WAIT_MS)
                || c.waiting.as_ref().is_some_and(|(_, _, at)| now - at > REPLY_WAIT_MS);
            if stuck {
                out.push((c.server, Input::Closed { conn }));
                self.drop_conn(ci, now);
                return out;
            }
            if !c.established || c.waiting.is_some() {
                return out;
            }
            let c = &mut self.clients[ci];
            let (xid, op, req) = if accepting {
                c.next_xid += 1;
                let (op, req) = next_op(c, ci, now, rng);
                (c.next_xid, op, req)
            } else if now - c.last_sent_at >= PING_INTERVAL_MS {
                (xid::PING, Op::Ping, Request::Ping)
            } else {
                return out;
            };
            c.waiting = Some((xid, op, now));
            c.last_sent_at = now;
            out.push((c.server, Input::Request { conn, xid, req }));
            return out;
        }
        let Some(server) = rng.pick(live) else { return out };
        let conn = self.next_conn;
        self.next_conn += 1;
        let c = &mut self.clients[ci];
        *c = Client {
            server,
            conn: Some(conn),
            connect_sent_at: now,
            last_sent_at: now,
            next_xid: c.next_xid,
            created: c.created,
            create_shared: c.create_shared,
            ..Default::default()
        };
        out.push((server, Input::Accepted { conn, remote_ip: "127.0.0.1".into() }));
        let req = ConnectRequest {
            time_out: SESSION_TIMEOUT_MS,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
            ..Default::default()
        };
        out.push((server, Input::Connect { conn, req }));
        out
    }

    /// Output of server `server` for connection `conn`.
    pub fn deliver(&mut self, server: usize, conn: u64, o: ClientOut, now: i64, checker: &mut Checker) {
        let Some(ci) = self.clients.iter().position(|c| c.conn == Some(conn) && c.server == server) else {
            return;
        };
        let c = &mut self.clients[ci];
        match o {
            ClientOut::ConnectResponse(r) => {
                if r.session_id != 0 {
                    c.session = r.session_id;
                    c.established = true;
                    c.seen_zxid = 0;
                    c.ephemerals.clear();
                } else {
                    self.drop_conn(ci, now);
                }
            }
            ClientOut::Reply { header, body, .. } => {
                let Some((xid, op, sent_at)) = c.waiting.clone() else { return };
                if header.xid != xid {
                    return;
                }
                c.waiting = None;
                let zxid = header.zxid;
                let no_node = rzk_proto::ErrorCode::NoNode.code();
                match (op, header.err, body) {
                    (Op::Create { path, data, .. }, 0, _) if path == SHARED => {
                        checker.acked(Write::Shared { data, create: true }, zxid, sent_at, now);
                    }
                    (Op::Create { path, data, ephemeral }, 0, _) => {
                        let owner = ephemeral.then_some(c.session);
                        if ephemeral {
                            c.ephemerals.push(path.clone());
                        }
                        checker.acked(Write::Create { path, data, owner }, zxid, sent_at, now);
                    }
                    (Op::SetShared { .. } | Op::GetShared, e, _) if e == no_node => c.create_shared = true,
                    (Op::SetShared { data }, 0, Response::Stat(stat)) => {
                        checker.acked(Write::Shared { data, create: false }, stat.mzxid, sent_at, now);
                        c.seen_zxid = c.seen_zxid.max(stat.mzxid);
                    }
                    (Op::GetShared, 0, Response::GetData(r)) => {
                        checker.read(c.session, r.stat.mzxid, c.seen_zxid, r.data.unwrap_or_default());
                        c.seen_zxid = c.seen_zxid.max(r.stat.mzxid);
                    }
                    (Op::CloseSession, 0, _) => {
                        checker.acked(Write::Close { session: c.session }, zxid, sent_at, now);
                        // The server closes the connection next; the session is over now.
                        self.drop_conn(ci, now);
                    }
                    _ => {}
                }
            }
            ClientOut::Close { .. } => self.drop_conn(ci, now),
            ClientOut::Event(_) => {}
        }
    }
}

/// The next request of a client in the fault window.
fn next_op(c: &mut Client, ci: usize, now: i64, rng: &mut Rng) -> (Op, Request) {
    let choice = if c.create_shared { -1 } else { rng.range(0, 19) };
    c.create_shared = false;
    let create = |path: &str, data: &Bytes, flags| Request::Create {
        op: rzk_proto::codes::op::CREATE,
        req: CreateRequest {
            path: path.into(),
            data: Some(data.clone()),
            acl: vec![Acl::new(31, "world", "anyone")],
            flags,
        },
    };
    match choice {
        -1 => {
            let data = Bytes::from_static(b"init");
            let req = create(SHARED, &data, 0);
            (Op::Create { path: SHARED.into(), data, ephemeral: false }, req)
        }
        0..=9 => {
            c.created += 1;
            let ephemeral = choice >= 8;
            let path = format!("/{}{ci}-{}", if ephemeral { 'e' } else { 'c' }, c.created);
            let data = Bytes::from(format!("{ci}:{}", c.created));
            let req = create(&path, &data, if ephemeral { EPHEMERAL } else { 0 });
            (Op::Create { path, data, ephemeral }, req)
        }
        10..=13 => {
            let data = Bytes::from(format!("{ci}@{now}"));
            let req = Request::SetData(SetDataRequest {
                path: SHARED.into(),
                data: Some(data.clone()),
                version: -1,
            });
            (Op::SetShared { data }, req)
        }
        19 => (Op::CloseSession, Request::CloseSession),
        _ => (Op::GetShared, Request::GetData(GetDataRequest { path: SHARED.into(), watch: false })),
    }
}
