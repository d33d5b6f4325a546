//! Simulated clients: each keeps one session on some server, creates uniquely named nodes,
//! updates and reads a shared node, and reconnects elsewhere (with a new session) when its
//! connection closes. What they were told goes to the [`Checker`].

use bytes::Bytes;
use rzk_node::{ClientOut, Input};
use rzk_proto::connect::ConnectRequest;
use rzk_proto::records::{CreateRequest, GetDataRequest, SetDataRequest};
use rzk_proto::{Acl, Request, Response};

use crate::check::Checker;
use crate::rng::Rng;

/// The node every client updates and reads.
pub const SHARED: &str = "/shared";
/// How long a client waits for a reply before it gives up on the connection.
const REPLY_WAIT_MS: i64 = 5_000;

#[derive(Debug, Clone)]
enum Op {
    Create { path: String, data: Bytes },
    SetShared { data: Bytes },
    GetShared,
}

#[derive(Debug, Default)]
struct Client {
    server: usize,
    conn: Option<u64>,
    session: i64,
    established: bool,
    connect_sent_at: i64,
    waiting: Option<(i32, Op, i64)>,
    next_xid: i32,
    created: u64,
    /// The newest mzxid of SHARED this session has seen or written.
    seen_zxid: i64,
    /// SHARED does not exist yet: create it next.
    create_shared: bool,
}

pub struct Clients {
    clients: Vec<Client>,
    next_conn: u64,
    id: usize,
}

impl Clients {
    pub fn new(n: usize) -> Clients {
        Clients { clients: (0..n).map(|_| Client::default()).collect(), next_conn: 1, id: 0 }
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

    pub fn server_died(&mut self, server: usize) {
        for c in &mut self.clients {
            if c.conn.is_some() && c.server == server {
                c.conn = None;
                c.established = false;
                c.waiting = None;
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
        let c = &mut self.clients[ci];
        if let Some(conn) = c.conn {
            let stuck = (!c.established && now - c.connect_sent_at > REPLY_WAIT_MS)
                || c.waiting.as_ref().is_some_and(|(_, _, at)| now - at > REPLY_WAIT_MS);
            if stuck {
                out.push((c.server, Input::Closed { conn }));
                c.conn = None;
                c.established = false;
                c.waiting = None;
            }
            if !c.established || c.waiting.is_some() || !accepting {
                return out;
            }
            c.next_xid += 1;
            let xid = c.next_xid;
            let choice = if c.create_shared { 10 } else { rng.range(0, 9) };
            c.create_shared = false;
            let (op, req) = match choice {
                10 => {
                    let data = Bytes::from_static(b"init");
                    let req = Request::Create {
                        op: rzk_proto::codes::op::CREATE,
                        req: CreateRequest {
                            path: SHARED.into(),
                            data: Some(data.clone()),
                            acl: vec![Acl::new(31, "world", "anyone")],
                            flags: 0,
                        },
                    };
                    (Op::Create { path: SHARED.into(), data }, req)
                }
                0..=4 => {
                    c.created += 1;
                    let path = format!("/c{ci}-{}", c.created);
                    let data = Bytes::from(format!("{ci}:{}", c.created));
                    let req = Request::Create {
                        op: rzk_proto::codes::op::CREATE,
                        req: CreateRequest {
                            path: path.clone(),
                            data: Some(data.clone()),
                            acl: vec![Acl::new(31, "world", "anyone")],
                            flags: 0,
                        },
                    };
                    (Op::Create { path, data }, req)
                }
                5..=6 => {
                    let data = Bytes::from(format!("{ci}@{now}"));
                    let req = Request::SetData(SetDataRequest {
                        path: SHARED.into(),
                        data: Some(data.clone()),
                        version: -1,
                    });
                    (Op::SetShared { data }, req)
                }
                _ => (Op::GetShared, Request::GetData(GetDataRequest { path: SHARED.into(), watch: false })),
            };
            c.waiting = Some((xid, op, now));
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
            next_xid: c.next_xid,
            created: c.created,
            create_shared: c.create_shared,
            ..Default::default()
        };
        out.push((server, Input::Accepted { conn, remote_ip: "127.0.0.1".into() }));
        let req = ConnectRequest {
            time_out: 4_000,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
            ..Default::default()
        };
        out.push((server, Input::Connect { conn, req }));
        self.id += 1;
        out
    }

    /// Output of server `server` for connection `conn`.
    pub fn deliver(&mut self, server: usize, conn: u64, o: ClientOut, _now: i64, checker: &mut Checker) {
        let Some((ci, c)) =
            self.clients.iter_mut().enumerate().find(|(_, c)| c.conn == Some(conn) && c.server == server)
        else {
            return;
        };
        match o {
            ClientOut::ConnectResponse(r) => {
                if r.session_id != 0 {
                    c.session = r.session_id;
                    c.established = true;
                    c.seen_zxid = 0;
                } else {
                    c.conn = None;
                }
            }
            ClientOut::Reply { header, body, .. } => {
                let Some((xid, op, _)) = c.waiting.clone() else { return };
                if header.xid != xid {
                    return;
                }
                c.waiting = None;
                let no_node = rzk_proto::ErrorCode::NoNode.code();
                match (op, header.err, body) {
                    (Op::Create { path, .. }, 0, _) if path == SHARED => {}
                    (Op::Create { path, data }, 0, _) => checker.acked_create(path, data, header.zxid),
                    (Op::SetShared { .. } | Op::GetShared, e, _) if e == no_node => c.create_shared = true,
                    (Op::SetShared { data }, 0, Response::Stat(stat)) => {
                        checker.acked_set(data, stat.mzxid);
                        c.seen_zxid = c.seen_zxid.max(stat.mzxid);
                    }
                    (Op::GetShared, 0, Response::GetData(r)) => {
                        checker.read(ci, c.session, r.stat.mzxid, c.seen_zxid, r.data.unwrap_or_default());
                        c.seen_zxid = c.seen_zxid.max(r.stat.mzxid);
                    }
                    _ => {}
                }
            }
            ClientOut::Close { .. } => {
                c.conn = None;
                c.established = false;
                c.waiting = None;
            }
            ClientOut::Event(_) => {}
        }
    }
}
