//! The raw API against the reference ZooKeeper: handshake with a hand-made ConnectRequest, any
//! xid, replies and events as received, malformed frames, and `Client::raw_request_with_xid`.

mod common;

use common::{WAIT, connect, refzk};
use rzk_client::{RawConnection, RawSocket, open_acl_unsafe};
use rzk_proto::codes::{op, xid};
use rzk_proto::{CreateRequest, GetDataRequest, Request, Response, SetDataRequest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_connection_sends_any_xid_and_sees_events_in_order() {
    let Some(zk_server) = refzk("raw_connection_sends_any_xid_and_sees_events_in_order", &[]) else { return };
    let req = RawConnection::new_session_request(10_000);
    let (resp, raw, mut c) = RawConnection::connect(&zk_server.addr(), &req, WAIT).await.unwrap();
    assert_eq!(resp.time_out, 10_000);
    assert_eq!(raw.len(), 37, "ConnectResponse with its readOnly byte");
    assert_ne!(resp.session_id, 0);

    let create = Request::Create {
        op: op::CREATE,
        req: CreateRequest { path: "/r".into(), data: None, acl: open_acl_unsafe(), flags: 0 },
    };
    c.send(77, &create).await.unwrap();
    let r = c.recv(WAIT).await.unwrap();
    assert_eq!((r.header.xid, r.header.err, r.op), (77, 0, op::CREATE));
    assert!(matches!(r.response().unwrap(), Some(Response::Create(ref cr)) if cr.path == "/r"));

    // An error reply has a header and no body.
    c.send(78, &create).await.unwrap();
    let r = c.recv(WAIT).await.unwrap();
    assert_eq!((r.header.xid, r.header.err, r.body.len()), (78, -110, 0));

    // A watch, then a change on the same session: the event comes before the setData reply.
    c.send(5, &Request::GetData(GetDataRequest { path: "/r".into(), watch: true })).await.unwrap();
    assert_eq!(c.recv(WAIT).await.unwrap().header.xid, 5);
    c.send(6, &Request::SetData(SetDataRequest { path: "/r".into(), data: None, version: -1 }))
        .await
        .unwrap();
    let first = c.recv(WAIT).await.unwrap();
    assert_eq!((first.header.xid, first.header.zxid, first.op), (xid::NOTIFICATION, -1, op::NOTIFICATION));
    let event = first.event().unwrap();
    assert_eq!((event.event_type, event.state, event.path.as_str()), (3, 3, "/r"));
    let second = c.recv(WAIT).await.unwrap();
    assert_eq!((second.header.xid, second.op), (6, op::SET_DATA));

    // Pings answer at xid -2.
    c.send(xid::PING, &Request::Ping).await.unwrap();
    assert_eq!(c.recv(WAIT).await.unwrap().header.xid, xid::PING);

    // A truncated getData body: ZooKeeper 3.8 answers MarshallingError and carries on.
    c.send_payload(&[0, 0, 0, 9, 0, 0, 0, 4, 1]).await.unwrap();
    let r = c.recv(WAIT).await.unwrap();
    assert_eq!((r.header.xid, r.header.err, r.body.len()), (9, -5, 0));
    c.send(xid::PING, &Request::Ping).await.unwrap();
    assert_eq!(c.recv(WAIT).await.unwrap().header.xid, xid::PING);

    // A frame longer than jute.maxbuffer: the connection is closed.
    c.socket().write_all(&[0x7f, 0, 0, 0]).await.unwrap();
    assert!(c.socket().closed_within(WAIT).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_socket_four_letter_words_and_bad_lengths() {
    let Some(zk_server) = refzk("raw_socket_four_letter_words_and_bad_lengths", &[]) else { return };
    let mut s = RawSocket::connect(&zk_server.addr()).await.unwrap();
    s.write_all(b"ruok").await.unwrap();
    assert_eq!(&s.read_to_end(WAIT).await.unwrap()[..], b"imok");

    // A negative frame length: closed without an answer.
    let mut s = RawSocket::connect(&zk_server.addr()).await.unwrap();
    s.write_all(&[0xff, 0xff, 0xff, 0xf0]).await.unwrap();
    assert!(s.read_to_end(WAIT).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_raw_requests_with_chosen_xids() {
    let Some(zk_server) = refzk("client_raw_requests_with_chosen_xids", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let r = zk
        .raw_request_with_xid(1000, Request::GetData(GetDataRequest { path: "/".into(), watch: false }))
        .await;
    let r = r.unwrap();
    assert_eq!((r.header.xid, r.op, r.header.err), (1000, op::GET_DATA, 0));
    assert!(matches!(r.response().unwrap(), Some(Response::GetData(_))));
    let r = zk
        .raw_request(Request::GetData(GetDataRequest { path: "/nope".into(), watch: false }))
        .await
        .unwrap();
    assert_eq!(r.header.err, -101);
    assert_eq!(r.response().unwrap(), None);
    // The session's own xids carry on after the chosen one.
    zk.sync("/").await.unwrap();
}
