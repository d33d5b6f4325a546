//! An in-process server on a temporary data dir and raw sessions to it, for the tests that speak
//! the wire protocol themselves (limits, watch ordering).

#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use rzk_client::raw::RawConnection;
use rzk_proto::Request;
use rzk_proto::codes::op;
use rzk_proto::records::{Acl, CreateRequest};
use rzk_server::{ServerHandle, Settings};

/// How long a raw session waits to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A server on 127.0.0.1 (a free port), its settings changed by `tweak` first.
pub async fn server(tweak: impl FnOnce(&mut Settings)) -> (ServerHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Settings::for_test(dir.path().to_owned(), "127.0.0.1:0".parse().expect("addr"));
    s.prealloc_bytes = 1024 * 1024;
    tweak(&mut s);
    (rzk_server::start(s).await.expect("server starts"), dir)
}

/// A new session (30 s timeout) on a raw connection.
pub async fn session(addr: &str) -> RawConnection {
    let (resp, _, conn) =
        RawConnection::connect(addr, &RawConnection::new_session_request(30000), CONNECT_TIMEOUT)
            .await
            .expect("connect");
    assert_ne!(resp.session_id, 0);
    conn
}

/// A create of a persistent node open to anyone.
pub fn create(path: &str, data: Vec<u8>) -> Request {
    Request::Create {
        op: op::CREATE,
        req: CreateRequest {
            path: path.into(),
            data: Some(Bytes::from(data)),
            acl: vec![Acl::new(31, "world", "anyone")],
            flags: 0,
        },
    }
}
