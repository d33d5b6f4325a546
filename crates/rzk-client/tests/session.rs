//! Session life against the reference ZooKeeper: reconnect after a server restart (session
//! re-attached, auth re-sent, watches re-registered), SetWatches with lastZxidSeen after a
//! disconnect while others write, expiry, and several servers in the connect string.

mod common;

use std::time::Duration;

use common::{assert_no_event, builder, connect, next_node_event, refzk, wait_state};
use rzk_client::{AddWatchMode, CreateMode, ErrorCode, EventType, KeeperState, States, open_acl_unsafe};
use rzk_testkit::Proxy;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_after_restart_keeps_session_auth_and_watches() {
    let Some(mut zk_server) = refzk("reconnect_after_restart_keeps_session_auth_and_watches", &[]) else {
        return;
    };
    let addr = zk_server.addr();
    let zk = connect(&addr).await;
    let mut ev = zk.watches();
    let acl = open_acl_unsafe();
    zk.add_auth("digest", b"bob:pw").await.unwrap();
    zk.create("/d", b"", &acl, CreateMode::Persistent).await.unwrap();
    zk.create("/eph", b"", &acl, CreateMode::Ephemeral).await.unwrap();
    zk.get_data("/d", true).await.unwrap();
    zk.exists("/n", true).await.unwrap();
    zk.get_children("/d", true).await.unwrap();
    zk.add_watch("/rec", AddWatchMode::PersistentRecursive).await.unwrap();
    let id = zk.session_id();

    zk_server.restart().expect("restart the reference server");
    wait_state(&mut ev, KeeperState::Disconnected).await;
    wait_state(&mut ev, KeeperState::SyncConnected).await;
    assert_eq!(zk.session_id(), id);
    assert_eq!(zk.state(), States::Connected);
    assert_eq!(zk.get_ephemerals("/").await.unwrap(), ["/eph"]);
    let me = zk.who_am_i().await.unwrap();
    assert!(me.iter().any(|c| c.auth_scheme == "digest" && c.user == "bob"), "{me:?}");

    // Every watch kind was re-registered (SetWatches2, as there is a recursive one).
    let other = connect(&addr).await;
    other.set_data("/d", b"x", -1).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeDataChanged, "/d".into()));
    other.create("/n", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeCreated, "/n".into()));
    other.create("/d/k", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeChildrenChanged, "/d".into()));
    other.create("/rec", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeCreated, "/rec".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_watches_catches_up_on_changes_missed_while_disconnected() {
    let Some(zk_server) = refzk("set_watches_catches_up_on_changes_missed_while_disconnected", &[]) else {
        return;
    };
    let proxy = Proxy::start(zk_server.port).unwrap();
    let zk = connect(&proxy.addr()).await;
    let other = connect(&zk_server.addr()).await;
    let mut ev = zk.watches();
    let acl = open_acl_unsafe();
    zk.create("/a", b"", &acl, CreateMode::Persistent).await.unwrap();
    zk.get_data("/a", true).await.unwrap();
    zk.exists("/b", true).await.unwrap();

    proxy.cut();
    wait_state(&mut ev, KeeperState::Disconnected).await;
    // A request made while disconnected waits for the session to come back.
    let pending = tokio::spawn({
        let zk = zk.clone();
        async move { zk.exists("/a", false).await }
    });
    other.set_data("/a", b"changed", -1).await.unwrap();
    other.create("/b", b"", &acl, CreateMode::Persistent).await.unwrap();
    proxy.restore();
    wait_state(&mut ev, KeeperState::SyncConnected).await;
    // The server compares the watches with lastZxidSeen and fires them at once.
    let mut got = vec![next_node_event(&mut ev).await, next_node_event(&mut ev).await];
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(got, [(EventType::NodeDataChanged, "/a".into()), (EventType::NodeCreated, "/b".into())]);
    assert_eq!(pending.await.unwrap().unwrap().map(|s| s.version), Some(1));
    assert_no_event(&zk, &mut ev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_fail_with_connection_loss() {
    let Some(zk_server) = refzk("in_flight_requests_fail_with_connection_loss", &[]) else { return };
    let proxy = Proxy::start(zk_server.port).unwrap();
    let zk = builder(&proxy.addr()).connect().await.unwrap();
    // Freeze the server so the sync stays unanswered, see it pass the proxy, then cut.
    let server = zk_server.process().expect("running");
    assert!(server.pause());
    let before = proxy.up_bytes();
    let sync = tokio::spawn({
        let zk = zk.clone();
        async move { zk.sync("/").await }
    });
    let deadline = std::time::Instant::now() + common::WAIT;
    while proxy.up_bytes() == before {
        assert!(std::time::Instant::now() < deadline, "the sync never reached the proxy");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.cut();
    let e = sync.await.unwrap().unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::ConnectionLoss));
    assert_eq!(e.to_string(), "KeeperErrorCode = ConnectionLoss for /");
    assert!(server.resume());
    proxy.restore();
    assert!(zk.wait_for(States::is_connected, common::WAIT).await.is_some());
    zk.sync("/").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_expires_while_disconnected() {
    // tickTime 500 ms allows a 1.5 s session (the minimum is two ticks).
    let Some(zk_server) = refzk("session_expires_while_disconnected", &["tickTime=500"]) else { return };
    let proxy = Proxy::start(zk_server.port).unwrap();
    let zk = rzk_client::Client::builder(&proxy.addr(), Duration::from_millis(1500))
        .reconnect_delay_max(Duration::from_millis(50))
        .connect()
        .await
        .unwrap();
    let mut ev = zk.watches();
    let acl = open_acl_unsafe();
    zk.create("/eph", b"", &acl, CreateMode::Ephemeral).await.unwrap();
    let observer = connect(&zk_server.addr()).await;
    observer.exists("/eph", true).await.unwrap();
    let mut obs_ev = observer.watches();

    proxy.cut();
    wait_state(&mut ev, KeeperState::Disconnected).await;
    // The server expires the session: its ephemeral node goes.
    assert_eq!(next_node_event(&mut obs_ev).await, (EventType::NodeDeleted, "/eph".into()));
    proxy.restore();
    wait_state(&mut ev, KeeperState::Expired).await;
    assert_eq!(zk.state(), States::Closed);
    assert_eq!(zk.exists("/", false).await.unwrap_err().code(), Some(ErrorCode::SessionExpired));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_string_with_a_dead_server_first() {
    let Some(zk_server) = refzk("connect_string_with_a_dead_server_first", &[]) else { return };
    let dead = rzk_testkit::free_port().unwrap();
    let cs = format!("127.0.0.1:{dead},{}", zk_server.addr());
    let zk = builder(&cs).connect().await.unwrap();
    assert_eq!(zk.info().server.as_deref(), Some(zk_server.addr().as_str()));
    zk.create("/x", b"", &open_acl_unsafe(), CreateMode::Persistent).await.unwrap();
    zk.close().await.unwrap();
    assert_eq!(zk.state(), States::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_delivers_closed_and_the_session_is_gone() {
    let Some(zk_server) = refzk("close_delivers_closed_and_the_session_is_gone", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let mut ev = zk.watches();
    let (id, pw) = (zk.session_id(), zk.session_password());
    zk.close().await.unwrap();
    wait_state(&mut ev, KeeperState::Closed).await;
    let e = builder(&zk_server.addr()).session(id, &pw).connect().await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::SessionExpired));
    // Closing twice is fine.
    zk.close().await.unwrap();
}
