//! Scripted tests of the session core: frames in, frames and outputs out, time as a number.

use bytes::{BufMut, Bytes};
use rzk_proto::codes::{op, xid};
use rzk_proto::connect::{ConnectRequest, ConnectResponse};
use rzk_proto::{
    ErrorCode, GetDataRequest, Jute, Reader, ReplyHeader, Request, Stat, WatcherEvent,
    request::decode_request_frame,
};

use super::*;

fn cfg() -> SessionConfig {
    SessionConfig {
        session_timeout_ms: 30_000,
        read_only: false,
        session_id: 0,
        password: Bytes::new(),
        host_count: 1,
        chroot: None,
        frame_bytes_max: 1 << 20,
        requests_in_flight_max: 100,
    }
}

fn payload(frame: Bytes) -> Bytes {
    assert_eq!(u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize, frame.len() - 4);
    frame.slice(4..)
}

fn sent_requests(s: &mut Session) -> Vec<(i32, Request)> {
    let mut v = Vec::new();
    while let Some(f) = s.poll_transmit() {
        let (h, r) = decode_request_frame(payload(f), 1 << 20).unwrap();
        v.push((h.xid, r));
    }
    v
}

fn connect_response(timeout: i32, session_id: i64) -> Bytes {
    let mut v = Vec::new();
    ConnectResponse {
        protocol_version: 0,
        time_out: timeout,
        session_id,
        passwd: Bytes::from_static(&[7; 16]),
        read_only: Some(false),
    }
    .encode(&mut v);
    v.into()
}

fn reply(xid: i32, zxid: i64, err: i32, body: &[u8]) -> Bytes {
    let mut v = Vec::new();
    ReplyHeader { xid, zxid, err }.encode(&mut v);
    v.put_slice(body);
    v.into()
}

fn event_frame(t: i32, path: &str) -> Bytes {
    let mut v = Vec::new();
    ReplyHeader { xid: xid::NOTIFICATION, zxid: -1, err: 0 }.encode(&mut v);
    WatcherEvent { event_type: t, state: 3, path: path.into() }.encode(&mut v);
    v.into()
}

fn outputs(s: &mut Session) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

/// A session through its handshake, with the ConnectRequest checked.
fn connected(cfg: SessionConfig) -> Session {
    let mut s = Session::new(cfg);
    s.transport_up(0);
    let f = s.poll_transmit().unwrap();
    let req = ConnectRequest::decode(&mut Reader::with_default_limit(payload(f))).unwrap();
    assert_eq!(req.time_out, 30_000);
    assert_eq!(req.read_only, Some(false));
    s.frame(1, connect_response(30_000, 0x42)).unwrap();
    assert_eq!(s.state(), States::Connected);
    assert!(matches!(&outputs(&mut s)[..], [Output::Event(e)] if e.state == KeeperState::SyncConnected));
    s
}

fn get_data(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

fn stat_body() -> Vec<u8> {
    let mut v = Vec::new();
    Option::<Bytes>::Some(Bytes::from_static(b"x")).encode(&mut v);
    Stat::default().encode(&mut v);
    v
}

#[test]
fn replies_match_pending_xids_in_order_and_track_zxid() {
    let mut s = connected(cfg());
    s.submit(1, get_data("/a", false), None, 5);
    s.submit(2, get_data("/b", false), None, 5);
    let sent = sent_requests(&mut s);
    assert_eq!(sent.iter().map(|(x, _)| *x).collect::<Vec<_>>(), [1, 2]);
    s.frame(6, reply(1, 0x10, 0, &stat_body())).unwrap();
    s.frame(6, reply(2, 0x11, ErrorCode::NoNode.code(), &[])).unwrap();
    let out = outputs(&mut s);
    assert!(
        matches!(&out[0], Output::Reply { tag: 1, result: Ok(r) } if r.op == op::GET_DATA && r.header.err == 0)
    );
    assert!(matches!(&out[1], Output::Reply { tag: 2, result: Ok(r) } if r.header.err == -101));
    assert_eq!(s.last_zxid(), 0x11);
}

#[test]
fn an_out_of_order_xid_drops_the_connection() {
    let mut s = connected(cfg());
    s.submit(1, get_data("/a", false), None, 5);
    assert!(matches!(s.frame(6, reply(99, 1, 0, &[])), Err(Dropped::Protocol(_))));
    s.transport_down();
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Reply { tag: 1, result: Err(SessionError::Code(-4)) }));
    assert!(matches!(&out[1], Output::Event(e) if e.state == KeeperState::Disconnected));
    assert_eq!(s.state(), States::Connecting);
}

#[test]
fn pings_when_idle_and_gives_up_when_silent() {
    let mut s = connected(cfg());
    // readTimeout = 20 s; Java pings after readTimeout/2 - 1 s of not sending.
    assert_eq!(s.next_deadline_ms(), Some(9_000));
    s.tick(8_999).unwrap();
    assert!(s.poll_transmit().is_none());
    s.tick(9_000).unwrap();
    assert_eq!(sent_requests(&mut s), [(xid::PING, Request::Ping)]);
    s.frame(9_001, reply(xid::PING, 0, 0, &[])).unwrap();
    assert!(outputs(&mut s).is_empty());
    s.tick(29_000).unwrap();
    assert!(s.tick(29_001).is_err());
}

#[test]
fn watches_fire_once_and_are_replayed_after_reconnect() {
    let mut s = connected(cfg());
    s.submit(1, get_data("/a", true), None, 0);
    s.submit(2, Request::Exists(rzk_proto::ExistsRequest { path: "/n".into(), watch: true }), None, 0);
    sent_requests(&mut s);
    s.frame(1, reply(1, 5, 0, &stat_body())).unwrap();
    s.frame(1, reply(2, 6, ErrorCode::NoNode.code(), &[])).unwrap();
    outputs(&mut s);
    // Reconnect: connect with lastZxid 6 and the session id, then setWatches at xid -8.
    s.transport_down();
    outputs(&mut s);
    s.transport_up(10);
    let f = s.poll_transmit().unwrap();
    let req = ConnectRequest::decode(&mut Reader::with_default_limit(payload(f))).unwrap();
    assert_eq!((req.session_id, req.last_zxid_seen), (0x42, 6));
    assert_eq!(&req.passwd[..], &[7; 16]);
    s.frame(11, connect_response(30_000, 0x42)).unwrap();
    let sent = sent_requests(&mut s);
    assert!(matches!(&sent[..], [(xid::SET_WATCHES, Request::SetWatches(w))]
        if w.relative_zxid == 6 && w.data_watches == ["/a"] && w.exist_watches == ["/n"]));
    s.frame(12, reply(xid::SET_WATCHES, 6, 0, &[])).unwrap();
    // The data watch fires once.
    s.frame(13, event_frame(3, "/a")).unwrap();
    s.frame(13, event_frame(3, "/a")).unwrap();
    let events: Vec<_> = outputs(&mut s)
        .into_iter()
        .filter_map(|o| match o {
            Output::Event(e) if e.path.is_some() => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::NodeDataChanged);
}

#[test]
fn requests_wait_for_the_connection_and_follow_auth() {
    let mut s = Session::new(cfg());
    s.add_auth(7, "digest", Bytes::from_static(b"u:p"), 0);
    s.submit(1, get_data("/a", false), None, 0);
    s.transport_up(0);
    s.poll_transmit();
    s.frame(1, connect_response(30_000, 0x42)).unwrap();
    let sent = sent_requests(&mut s);
    assert!(matches!(&sent[0], (xid::AUTH, Request::Auth(a)) if a.scheme == "digest"));
    assert_eq!(sent[1].0, 1);
    s.frame(2, reply(xid::AUTH, 0, 0, &[])).unwrap();
    assert!(outputs(&mut s).iter().any(|o| matches!(o, Output::Reply { tag: 7, result: Ok(_) })));
}

#[test]
fn auth_failure_is_terminal() {
    let mut s = connected(cfg());
    s.add_auth(3, "digest", Bytes::from_static(b"bad"), 0);
    s.submit(4, get_data("/a", false), None, 0);
    sent_requests(&mut s);
    assert_eq!(s.frame(1, reply(xid::AUTH, 0, ErrorCode::AuthFailed.code(), &[])), Err(Dropped::AuthFailed));
    assert_eq!(s.state(), States::AuthFailed);
    let out = outputs(&mut s);
    assert!(out.iter().any(|o| matches!(o, Output::Reply { tag: 3, result: Err(SessionError::Code(-115)) })));
    assert!(out.iter().any(|o| matches!(o, Output::Reply { tag: 4, result: Err(SessionError::Code(-115)) })));
    assert!(out.iter().any(|o| matches!(o, Output::Event(e) if e.state == KeeperState::AuthFailed)));
    s.submit(5, get_data("/a", false), None, 0);
    assert!(matches!(
        &outputs(&mut s)[..],
        [Output::Reply { tag: 5, result: Err(SessionError::Code(-115)) }]
    ));
}

#[test]
fn a_zero_timeout_means_expired() {
    let mut s = connected(cfg());
    s.transport_down();
    outputs(&mut s);
    s.submit(9, get_data("/a", false), None, 0);
    s.transport_up(0);
    s.poll_transmit();
    assert_eq!(s.frame(1, connect_response(0, 0)), Err(Dropped::Expired));
    assert!(s.is_done());
    assert_eq!(s.state(), States::Closed);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Reply { tag: 9, result: Err(SessionError::Code(-112)) }));
    assert!(matches!(&out[1], Output::Event(e) if e.state == KeeperState::Expired));
}

#[test]
fn close_waits_for_the_close_session_reply() {
    let mut s = connected(cfg());
    s.close(1, 0);
    let sent = sent_requests(&mut s);
    assert!(matches!(&sent[..], [(1, Request::CloseSession)]));
    assert_eq!(s.frame(1, reply(1, 9, 0, &[])), Err(Dropped::Closed));
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Reply { tag: 1, result: Ok(_) }));
    assert!(matches!(&out[1], Output::Event(e) if e.state == KeeperState::Closed));
    assert_eq!(s.state(), States::Closed);
}

#[test]
fn remove_watches_emits_removal_events_and_local_works_offline() {
    let mut s = connected(cfg());
    s.submit(1, Request::AddWatch(rzk_proto::AddWatchRequest { path: "/p".into(), mode: 0 }), None, 0);
    s.submit(2, get_data("/d", true), None, 0);
    sent_requests(&mut s);
    s.frame(1, reply(1, 1, 0, &[0, 0, 0, 0])).unwrap();
    s.frame(1, reply(2, 1, 0, &stat_body())).unwrap();
    outputs(&mut s);
    s.remove_watches(3, "/p", "/p", WatcherType::Any, false, 0);
    assert!(matches!(&sent_requests(&mut s)[..], [(3, Request::RemoveWatches(_))]));
    s.frame(2, reply(3, 1, 0, &[])).unwrap();
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Event(e) if e.event_type == EventType::PersistentWatchRemoved));
    assert!(matches!(&out[1], Output::Reply { tag: 3, result: Ok(_) }));
    // Offline with local: removed without the server, the event says Disconnected.
    s.transport_down();
    outputs(&mut s);
    s.remove_watches(4, "/d", "/d", WatcherType::Data, true, 0);
    let out = outputs(&mut s);
    assert!(matches!(&out[0], Output::Event(e)
        if e.event_type == EventType::DataWatchRemoved && e.state == KeeperState::Disconnected));
    assert!(matches!(&out[1], Output::Reply { tag: 4, result: Ok(_) }));
    // Nothing left: NoWatcher.
    s.remove_watches(5, "/d", "/d", WatcherType::Data, true, 0);
    assert!(matches!(
        &outputs(&mut s)[..],
        [Output::Reply { tag: 5, result: Err(SessionError::Unwatch(-121)) }]
    ));
}

#[test]
fn chroot_is_removed_from_event_paths() {
    let mut s = connected(SessionConfig { chroot: Some("/app".into()), ..cfg() });
    s.submit(1, get_data("/app/a", true), None, 0);
    sent_requests(&mut s);
    s.frame(1, reply(1, 1, 0, &stat_body())).unwrap();
    outputs(&mut s);
    s.frame(2, event_frame(2, "/app/a")).unwrap();
    assert!(matches!(&outputs(&mut s)[..], [Output::Event(e)] if e.path.as_deref() == Some("/a")));
}

#[test]
fn backpressure_caps_requests_in_flight() {
    let mut s = Session::new(SessionConfig { requests_in_flight_max: 2, ..cfg() });
    s.submit(1, get_data("/a", false), None, 0);
    assert!(s.can_accept());
    s.submit(2, get_data("/a", false), None, 0);
    assert!(!s.can_accept());
    s.submit(3, get_data("/a", false), None, 0);
    assert!(matches!(&outputs(&mut s)[..], [Output::Reply { tag: 3, result: Err(SessionError::Code(-4)) }]));
}

#[test]
fn close_during_the_handshake_closes_the_new_session() {
    let mut s = Session::new(cfg());
    s.submit(1, get_data("/a", false), None, 0);
    s.transport_up(0);
    s.poll_transmit();
    s.close(2, 0);
    assert!(outputs(&mut s).is_empty());
    s.frame(1, connect_response(30_000, 0x42)).unwrap();
    let sent = sent_requests(&mut s);
    assert!(matches!(&sent[..], [(1, Request::GetData(_)), (2, Request::CloseSession)]));
    s.frame(2, reply(1, 1, 0, &stat_body())).unwrap();
    assert_eq!(s.frame(2, reply(2, 2, 0, &[])), Err(Dropped::Closed));
    let out = outputs(&mut s);
    assert!(out.iter().any(|o| matches!(o, Output::Reply { tag: 2, result: Ok(_) })));
    assert_eq!(s.state(), States::Closed);
}
