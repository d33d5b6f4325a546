//! Limits and bad input (issue: "a test for each"): a frame over jute.maxbuffer, a malformed
//! record, an unknown opcode, an invalid path, maxClientCnxns, and a client that stops reading.
//! Each must affect only the offending connection; other clients carry on.

use std::time::{Duration, Instant};

use rzk_client::raw::{RawConnection, RawSocket};
use rzk_proto::codes::op;
use rzk_proto::records::*;
use rzk_proto::{ErrorCode, Request};

#[path = "common/raw.rs"]
mod raw;
use raw::{create, server, session};

const T: Duration = Duration::from_secs(10);

/// A healthy client still gets answers.
async fn still_serves(addr: &str) {
    let mut c = session(addr).await;
    c.send(1, &Request::GetChildren(GetChildrenRequest { path: "/".into(), watch: false }))
        .await
        .expect("send");
    let r = c.recv(T).await.expect("reply");
    assert_eq!((r.header.xid, r.header.err), (1, 0));
}

#[tokio::test]
async fn a_frame_over_jute_maxbuffer_closes_only_that_connection() {
    let (srv, _d) = server(|s| s.frame_bytes_max = 1024).await;
    let addr = srv.local_addr.to_string();
    let mut big = session(&addr).await;
    big.send(1, &create("/big", vec![7; 4096])).await.expect("send");
    assert!(big.socket().closed_within(T).await, "the oversized frame must close the connection");
    // Just under the limit is fine.
    let mut ok = session(&addr).await;
    ok.send(1, &create("/small", vec![7; 900])).await.expect("send");
    assert_eq!(ok.recv(T).await.expect("reply").header.err, 0);
    still_serves(&addr).await;
}

#[tokio::test]
async fn a_malformed_record_gets_marshalling_error_and_the_session_goes_on() {
    let (srv, _d) = server(|_| {}).await;
    let addr = srv.local_addr.to_string();
    let mut c = session(&addr).await;
    // getData whose path length claims 10 bytes but carries 1.
    let mut frame = Vec::new();
    frame.extend_from_slice(&5i32.to_be_bytes());
    frame.extend_from_slice(&op::GET_DATA.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 10, b'/']);
    c.send_payload(&frame).await.expect("send");
    let r = c.recv(T).await.expect("reply");
    assert_eq!((r.header.xid, r.header.err), (5, ErrorCode::MarshallingError.code()));
    c.send(6, &Request::Exists(ExistsRequest { path: "/".into(), watch: false })).await.expect("send");
    assert_eq!(c.recv(T).await.expect("reply").header.err, 0);
}

#[tokio::test]
async fn an_unknown_opcode_is_unimplemented_then_closed() {
    let (srv, _d) = server(|_| {}).await;
    let addr = srv.local_addr.to_string();
    let mut c = session(&addr).await;
    let mut frame = Vec::new();
    frame.extend_from_slice(&9i32.to_be_bytes());
    frame.extend_from_slice(&4242i32.to_be_bytes());
    c.send_payload(&frame).await.expect("send");
    let r = c.recv(T).await.expect("reply");
    assert_eq!((r.header.xid, r.header.err), (9, ErrorCode::Unimplemented.code()));
    assert!(c.socket().closed_within(T).await);
    still_serves(&addr).await;
}

#[tokio::test]
async fn an_invalid_path_is_bad_arguments() {
    let (srv, _d) = server(|_| {}).await;
    let addr = srv.local_addr.to_string();
    let mut c = session(&addr).await;
    c.send(100, &create("/x", vec![])).await.expect("send");
    assert_eq!(c.recv(T).await.expect("reply").header.err, 0);
    // (A path whose parent is missing, like "/y/", is NoNode first, as in ZooKeeper.)
    for (i, p) in ["a", "/x/", "//", "/x\0y", "/x/.", "/x/.."].iter().enumerate() {
        c.send(i as i32 + 1, &create(p, vec![])).await.expect("send");
        assert_eq!(c.recv(T).await.expect("reply").header.err, ErrorCode::BadArguments.code(), "{p}");
    }
}

#[tokio::test]
async fn max_client_cnxns_per_address() {
    let (srv, _d) = server(|s| s.max_client_cnxns = 3).await;
    let addr = srv.local_addr.to_string();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(session(&addr).await);
    }
    let mut fourth = RawSocket::connect(&addr).await.expect("tcp connect");
    assert!(fourth.closed_within(T).await, "the fourth connection from one address is refused");
    drop(held.pop());
    // The slot frees once the server has seen the close; poll for it.
    let deadline = Instant::now() + T;
    loop {
        match RawConnection::connect(
            &addr,
            &RawConnection::new_session_request(30000),
            Duration::from_secs(1),
        )
        .await
        {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "no slot freed: {e}"),
        }
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_others_are_not_blocked() {
    let (srv, _d) = server(|_| {}).await;
    let addr = srv.local_addr.to_string();
    let mut setup = session(&addr).await;
    setup.send(1, &create("/big", vec![1; 512 * 1024])).await.expect("send");
    assert_eq!(setup.recv(T).await.expect("reply").header.err, 0);

    // The stalled client asks for 512 KiB again and again and never reads.
    let mut stalled = session(&addr).await;
    let get = Request::GetData(GetDataRequest { path: "/big".into(), watch: false });
    let started = Instant::now();
    let mut sent = 0;
    while sent < 400 {
        if stalled.send(sent + 1, &get).await.is_err() {
            break; // The server has closed it.
        }
        sent += 1;
    }
    // Meanwhile another client is answered promptly.
    let t0 = Instant::now();
    still_serves(&addr).await;
    assert!(t0.elapsed() < Duration::from_secs(5), "a stalled client delayed others by {:?}", t0.elapsed());
    // And the stalled one is eventually closed (its queued replies exceed the outbox limit).
    assert!(stalled.socket().closed_within(Duration::from_secs(30)).await, "stalled client not dropped");
    assert!(started.elapsed() < Duration::from_secs(60));
}
