use super::*;
use rzk_proto::codes::{CreateMode, event_type, perms};

/// Drives a node like the shell does, with a log that is durable at once unless held.
struct Harness {
    node: Node,
    out: Vec<(ConnId, ClientOut)>,
    pending_log: Vec<LogAppend>,
    hold_log: bool,
    now: i64,
}

impl Harness {
    fn new(cfg: NodeConfig) -> Harness {
        Harness {
            node: Node::new(cfg, DataTree::new(true), 0, 1_000_000),
            out: vec![],
            pending_log: vec![],
            hold_log: false,
            now: 0,
        }
    }

    fn step(&mut self, i: Input) {
        self.node.step(i);
        self.pump();
    }

    fn pump(&mut self) {
        loop {
            let r = self.node.ready();
            if r.is_empty() {
                return;
            }
            self.out.extend(r.client_out);
            self.pending_log.extend(r.log);
            if !self.hold_log {
                self.flush();
            }
        }
    }

    fn flush(&mut self) {
        if let Some(last) = self.pending_log.last().map(|l| l.zxid) {
            self.pending_log.clear();
            self.node.step(Input::Persisted { through: last });
        }
    }

    fn connect(&mut self, conn: ConnId) -> ConnectResponse {
        self.step(Input::Accepted { conn, remote_ip: "127.0.0.1".into() });
        let req = ConnectRequest {
            time_out: 30000,
            passwd: Bytes::from_static(&[0; 16]),
            read_only: Some(false),
            ..Default::default()
        };
        self.step(Input::Connect { conn, req });
        match self.take(conn).pop() {
            Some(ClientOut::ConnectResponse(r)) => r,
            other => panic!("expected a connect response, got {other:?}"),
        }
    }

    fn take(&mut self, conn: ConnId) -> Vec<ClientOut> {
        let (mine, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.out).into_iter().partition(|(c, _)| *c == conn);
        self.out = rest;
        mine.into_iter().map(|(_, o)| o).collect()
    }

    fn call(&mut self, conn: ConnId, xid: i32, req: Request) -> (ReplyHeader, Response) {
        self.step(Input::Request { conn, xid, req });
        let mut found = None;
        for o in self.take(conn) {
            match o {
                ClientOut::Reply { header, body, .. } if header.xid == xid && found.is_none() => {
                    found = Some((header, body))
                }
                other => self.out.push((conn, other)),
            }
        }
        found.unwrap_or_else(|| panic!("no reply for xid {xid}"))
    }
}

fn create(path: &str, data: &str, mode: CreateMode) -> Request {
    Request::Create {
        op: op::CREATE,
        req: CreateRequest {
            path: path.into(),
            data: Some(Bytes::from(data.to_owned())),
            acl: vec![Acl::new(perms::ALL, "world", "anyone")],
            flags: mode.flag(),
        },
    }
}

fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

#[test]
fn create_then_read_back_with_zxids() {
    let mut h = Harness::new(NodeConfig::default());
    let c = h.connect(1);
    assert_eq!(c.time_out, 30000);
    assert_eq!(&c.passwd[..], &session_password(c.session_id)[..]);
    let (hdr, body) = h.call(1, 1, create("/a", "x", CreateMode::Persistent));
    assert_eq!((hdr.err, hdr.zxid), (0, 2));
    assert_eq!(body, Response::Create(CreateResponse { path: "/a".into() }));
    let (hdr, body) = h.call(1, 2, get("/a", false));
    assert_eq!(hdr.zxid, 2);
    let Response::GetData(r) = body else { panic!() };
    assert_eq!(r.data.as_deref(), Some(&b"x"[..]));
    assert_eq!((r.stat.czxid, r.stat.version), (2, 0));
}

#[test]
fn failed_writes_consume_a_zxid() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    let (hdr, _) = h.call(1, 1, create("/a/b", "", CreateMode::Persistent));
    assert_eq!((hdr.err, hdr.zxid), (ErrorCode::NoNode.code(), 2));
    let (hdr, _) = h.call(1, 2, create("/a", "", CreateMode::Persistent));
    assert_eq!(hdr.zxid, 3);
}

#[test]
fn sequential_names_use_the_parents_cversion() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.call(1, 1, create("/q", "", CreateMode::Persistent));
    let (_, b) = h.call(1, 2, create("/q/n-", "", CreateMode::PersistentSequential));
    assert_eq!(b, Response::Create(CreateResponse { path: "/q/n-0000000000".into() }));
    let (_, b) = h.call(1, 3, create("/q/n-", "", CreateMode::PersistentSequential));
    assert_eq!(b, Response::Create(CreateResponse { path: "/q/n-0000000001".into() }));
}

#[test]
fn a_read_waits_behind_the_sessions_write() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.hold_log = true;
    h.step(Input::Request { conn: 1, xid: 1, req: create("/a", "v", CreateMode::Persistent) });
    h.step(Input::Request { conn: 1, xid: 2, req: get("/a", false) });
    assert!(h.take(1).is_empty(), "nothing may be answered before the write is durable");
    h.flush();
    h.pump();
    let xids: Vec<i32> = h
        .take(1)
        .into_iter()
        .filter_map(|o| if let ClientOut::Reply { header, .. } = o { Some(header.xid) } else { None })
        .collect();
    assert_eq!(xids, [1, 2]);
}

#[test]
fn pipelined_creates_see_each_other_before_commit() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.hold_log = true;
    h.step(Input::Request { conn: 1, xid: 1, req: create("/p", "", CreateMode::Persistent) });
    h.step(Input::Request { conn: 1, xid: 2, req: create("/p/c", "", CreateMode::Persistent) });
    h.flush();
    h.pump();
    let errs: Vec<i32> = h
        .take(1)
        .into_iter()
        .filter_map(|o| if let ClientOut::Reply { header, .. } = o { Some(header.err) } else { None })
        .collect();
    assert_eq!(errs, [0, 0]);
    assert!(h.node.tree().node("/p/c").is_some());
    // The digest each txn announced is the digest the tree reached.
    assert_eq!(h.node.changes.current_digest(&h.node.tree), h.node.tree().digest());
}

#[test]
fn expiry_removes_ephemerals_and_fires_watches() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.connect(2);
    h.call(1, 1, create("/e", "", CreateMode::Ephemeral));
    h.call(2, 1, get("/e", true));
    // Session 1's connection goes away; session 2 keeps pinging.
    h.step(Input::Closed { conn: 1 });
    for t in (0..=34_000).step_by(2000) {
        h.now = t;
        h.step(Input::Tick { elapsed_ms: t, wall_ms: 1_000_000 + t });
        h.call(2, xid::PING, Request::Ping);
    }
    assert!(h.node.tree().node("/e").is_none());
    let events: Vec<ClientOut> = h.take(2).into_iter().filter(|o| matches!(o, ClientOut::Event(_))).collect();
    assert_eq!(
        events,
        vec![ClientOut::Event(std::sync::Arc::new(WatcherEvent {
            event_type: event_type::NODE_DELETED,
            state: 3,
            path: "/e".into()
        }))]
    );
}

#[test]
fn reattach_needs_the_right_password() {
    let mut h = Harness::new(NodeConfig::default());
    let c = h.connect(1);
    h.step(Input::Accepted { conn: 2, remote_ip: "127.0.0.1".into() });
    let bad = ConnectRequest {
        session_id: c.session_id,
        time_out: 30000,
        passwd: Bytes::from_static(&[1; 16]),
        ..Default::default()
    };
    h.step(Input::Connect { conn: 2, req: bad });
    let outs = h.take(2);
    assert!(matches!(&outs[0], ClientOut::ConnectResponse(r) if r.time_out == 0 && r.session_id == 0));
    assert!(matches!(&outs[1], ClientOut::Close { .. }));
    h.step(Input::Accepted { conn: 3, remote_ip: "127.0.0.1".into() });
    let good = ConnectRequest {
        session_id: c.session_id,
        time_out: 30000,
        passwd: c.passwd.clone(),
        ..Default::default()
    };
    h.step(Input::Connect { conn: 3, req: good });
    assert!(matches!(&h.take(3)[0], ClientOut::ConnectResponse(r) if r.session_id == c.session_id));
    // The old connection is closed.
    assert!(matches!(&h.take(1)[..], [ClientOut::Close { .. }]));
}

#[test]
fn failed_multi_reports_per_op_results() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    let multi = Request::Multi(vec![
        create("/m1", "", CreateMode::Persistent),
        Request::Delete(DeleteRequest { path: "/nope".into(), version: -1 }),
        create("/m2", "", CreateMode::Persistent),
    ]);
    let (hdr, body) = h.call(1, 1, multi);
    assert_eq!(hdr.err, 0);
    assert_eq!(
        body,
        Response::Multi(vec![MultiResult::Error(0), MultiResult::Error(-101), MultiResult::Error(-2)])
    );
    assert!(h.node.tree().node("/m1").is_none());
    // The rolled-back create does not block a later one.
    let (hdr, _) = h.call(1, 2, create("/m1", "", CreateMode::Persistent));
    assert_eq!(hdr.err, 0);
}

#[test]
fn a_failed_log_write_fails_the_txns_and_prep_starts_over() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.hold_log = true;
    h.step(Input::Request { conn: 1, xid: 1, req: create("/a", "v", CreateMode::Persistent) });
    h.step(Input::Request { conn: 1, xid: 2, req: create("/a/b", "v", CreateMode::Persistent) });
    h.step(Input::Request { conn: 1, xid: 3, req: get("/a", false) });
    // The log reports that it could not store them.
    h.pending_log.clear();
    h.step(Input::LogFailed);
    let errs: Vec<(i32, i32)> = h
        .take(1)
        .into_iter()
        .filter_map(|o| {
            if let ClientOut::Reply { header, .. } = o { Some((header.xid, header.err)) } else { None }
        })
        .collect();
    assert_eq!(
        errs,
        [
            (1, ErrorCode::SystemError.code()),
            (2, ErrorCode::SystemError.code()),
            (3, ErrorCode::NoNode.code())
        ]
    );
    // Space is back: the same create succeeds and reuses the zxid the failed one had.
    h.hold_log = false;
    let (hdr, _) = h.call(1, 4, create("/a", "v", CreateMode::Persistent));
    assert_eq!((hdr.err, hdr.zxid), (0, 2));
    assert_eq!(h.node.tree().digest(), h.node.changes.current_digest(&h.node.tree));
}

#[test]
fn requests_sent_before_the_session_exists_wait_for_the_connect_response() {
    let mut h = Harness::new(NodeConfig::default());
    h.hold_log = true;
    h.step(Input::Accepted { conn: 1, remote_ip: "127.0.0.1".into() });
    let req = ConnectRequest { time_out: 30000, passwd: Bytes::from_static(&[0; 16]), ..Default::default() };
    h.step(Input::Connect { conn: 1, req });
    let auth = AuthPacket { auth_type: 0, scheme: "digest".into(), auth: Bytes::from_static(b"a:b") };
    h.step(Input::Request { conn: 1, xid: xid::AUTH, req: Request::Auth(auth) });
    h.step(Input::Request { conn: 1, xid: xid::PING, req: Request::Ping });
    assert!(h.take(1).is_empty(), "nothing before the session is durable");
    h.flush();
    h.pump();
    let order: Vec<String> = h
        .take(1)
        .into_iter()
        .map(|o| match o {
            ClientOut::ConnectResponse(_) => "connect".to_owned(),
            ClientOut::Reply { header, .. } => format!("reply {}", header.xid),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(order, ["connect", "reply -4", "reply -2"]);
}

#[test]
fn watch_events_need_read_permission_on_the_node() {
    let mut h = Harness::new(NodeConfig::default());
    h.connect(1);
    h.connect(2);
    h.call(1, 1, create("/r", "", CreateMode::Persistent));
    h.call(2, 1, Request::AddWatch(AddWatchRequest { path: "/r".into(), mode: 1 }));
    let secret = Request::Create {
        op: op::CREATE,
        req: CreateRequest {
            path: "/r/hidden".into(),
            data: None,
            acl: vec![Acl::new(perms::ALL, "digest", "bob:xyz")],
            flags: 0,
        },
    };
    h.call(1, 2, secret);
    h.call(1, 3, create("/r/visible", "", CreateMode::Persistent));
    let events: Vec<String> = h
        .take(2)
        .into_iter()
        .filter_map(|o| if let ClientOut::Event(e) = o { Some(e.path.clone()) } else { None })
        .collect();
    assert_eq!(events, ["/r/visible"]);
}
