//! ZooKeeper's ordering guarantee across a watch fan-out: a session sees a watch notification
//! after every reply to a request the server handled before the change, and before the reply to
//! any request it handled after (one that sees the new data). The server writes notifications
//! straight into the sockets when nothing is queued before them (`outbox`), the path this guards;
//! the fan-out reaches many sessions at once, more than `fanout::FANOUT_SPLIT_OUTBOXES_MIN`, so
//! the core writes the first half of them (in connection order) and the fan-out thread the rest.

use std::time::Duration;

use bytes::Bytes;
use rzk_client::raw::RawConnection;
use rzk_proto::codes::event_type;
use rzk_proto::records::*;
use rzk_proto::{ErrorCode, Request};

#[path = "common/raw.rs"]
mod raw;
use raw::{create, server, session};

const T: Duration = Duration::from_secs(20);
/// Watching sessions besides the ones whose streams are checked.
const WATCHERS: usize = 160;
// Enough idle watchers for the fan-out thread to take a share of the direct writes.
const _: () = assert!(WATCHERS >= rzk_server::fanout::FANOUT_SPLIT_OUTBOXES_MIN);
/// Reads the checked session pipelines around each change.
const READS_AROUND: usize = 300;

async fn call(c: &mut RawConnection, req: &Request) {
    let xid = c.send_auto(req).await.expect("send");
    let r = c.recv(T).await.expect("reply");
    assert_eq!((r.header.xid, r.header.err), (xid, 0), "{req:?}");
}

fn get(path: &str, watch: bool) -> Request {
    Request::GetData(GetDataRequest { path: path.into(), watch })
}

fn set(path: &str) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: Some(Bytes::from_static(b"new")),
        version: -1,
    })
}

fn exists(path: &str) -> Request {
    Request::Exists(ExistsRequest { path: path.into(), watch: false })
}

/// Reads `replies` replies and one notification, returning the replies' zxids before and after
/// the notification.
async fn read_around_event(c: &mut RawConnection, replies: usize, path: &str) -> (Vec<i64>, Vec<i64>) {
    let (mut before, mut after, mut seen) = (Vec::new(), Vec::new(), false);
    while before.len() + after.len() < replies || !seen {
        let r = c.recv(T).await.expect("frame");
        if let Some(ev) = r.event() {
            assert!(!seen, "a second notification");
            assert_eq!((ev.event_type, ev.path.as_str()), (event_type::NODE_DATA_CHANGED, path));
            seen = true;
        } else {
            assert_eq!(r.header.err, ErrorCode::Ok.code());
            if seen { after.push(r.header.zxid) } else { before.push(r.header.zxid) }
        }
    }
    (before, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_sits_between_the_replies_to_reads_before_and_after_the_change() {
    // Every session comes from 127.0.0.1.
    let (srv, _d) = server(|s| s.max_client_cnxns = 0).await;
    let addr = srv.local_addr.to_string();
    let mut setter = session(&addr).await;
    call(&mut setter, &create("/n", b"old".to_vec())).await;
    // Checked: the first session to connect and the last, so that when a notification of theirs
    // is written directly (their queue was empty at the change), one is in the core's half of the
    // fan-out and the other in the fan-out thread's, racing the writer that the replies queued
    // after the change wake.
    let first = session(&addr).await;
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        watchers.push(session(&addr).await);
    }
    let mut checked = [first, session(&addr).await];
    for round in 0..5 {
        for w in watchers.iter_mut().chain(&mut checked) {
            call(w, &get("/n", true)).await;
        }
        // Reads in flight on the checked sessions while the change is made and fans out.
        for c in &mut checked {
            for _ in 0..READS_AROUND {
                c.send_auto(&exists("/n")).await.expect("send");
            }
        }
        let set_xid = setter.send_auto(&set("/n")).await.expect("send");
        for c in &mut checked {
            for _ in 0..READS_AROUND {
                c.send_auto(&exists("/n")).await.expect("send");
            }
        }
        let r = setter.recv(T).await.expect("set reply");
        assert_eq!((r.header.xid, r.header.err), (set_xid, 0));
        let zxid = r.header.zxid;
        for (i, c) in checked.iter_mut().enumerate() {
            let (before, after) = read_around_event(c, 2 * READS_AROUND, "/n").await;
            assert!(
                before.iter().all(|z| *z < zxid),
                "round {round}, checked session {i}: a read of the new data came before its notification"
            );
            assert!(
                after.iter().all(|z| *z >= zxid),
                "round {round}, checked session {i}: a read of the old data came after the notification"
            );
        }
        for w in &mut watchers {
            let ev = w.recv(T).await.expect("notification").event().expect("a notification");
            assert_eq!((ev.event_type, ev.path.as_str()), (event_type::NODE_DATA_CHANGED, "/n"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_waits_behind_replies_still_queued_for_a_slow_reader() {
    // Every session comes from 127.0.0.1.
    let (srv, _d) = server(|s| s.max_client_cnxns = 0).await;
    let addr = srv.local_addr.to_string();
    let mut setter = session(&addr).await;
    call(&mut setter, &create("/n", b"old".to_vec())).await;
    call(&mut setter, &create("/big", vec![7; 512 * 1024])).await;
    let mut checked = session(&addr).await;
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let mut w = session(&addr).await;
        call(&mut w, &get("/n", true)).await;
        watchers.push(w);
    }
    call(&mut checked, &get("/n", true)).await;
    // 4 MiB of replies the checked session does not read yet: more than the socket holds, so
    // they are still queued (or being written) when the change fans out.
    const BIG_READS: usize = 8;
    for _ in 0..BIG_READS {
        checked.send_auto(&get("/big", false)).await.expect("send");
    }
    // And one more read handled before the change.
    checked.send_auto(&exists("/n")).await.expect("send");
    call(&mut setter, &set("/n")).await;
    for w in &mut watchers {
        w.recv(T).await.expect("notification").event().expect("a notification");
    }
    checked.send_auto(&exists("/n")).await.expect("send");
    let (before, after) = read_around_event(&mut checked, BIG_READS + 2, "/n").await;
    assert_eq!(before.len(), BIG_READS + 1, "the notification overtook a queued reply");
    assert_eq!(after.len(), 1);
}
