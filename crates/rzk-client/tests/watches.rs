//! Watches against the reference ZooKeeper: one-shot (data, exists, children), persistent,
//! persistent recursive, removeWatches/checkWatches.

mod common;

use common::{assert_no_event, connect, next_event, next_node_event, refzk};
use rzk_client::{AddWatchMode, CreateMode, ErrorCode, EventType, KeeperState, WatcherType, open_acl_unsafe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_watches_fire_once() {
    let Some(zk_server) = refzk("one_shot_watches_fire_once", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let other = connect(&zk_server.addr()).await;
    let mut ev = zk.watches();
    let first = next_event(&mut ev).await;
    assert_eq!(first.to_string(), "WatchedEvent state:SyncConnected type:None path:null");
    let acl = open_acl_unsafe();

    // exists on a missing node, then created.
    assert_eq!(zk.exists("/w", true).await.unwrap(), None);
    other.create("/w", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeCreated, "/w".into()));

    // getData, changed twice: one event.
    zk.get_data("/w", true).await.unwrap();
    other.set_data("/w", b"1", -1).await.unwrap();
    other.set_data("/w", b"2", -1).await.unwrap();
    let e = next_event(&mut ev).await;
    assert_eq!(e.to_string(), "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w");
    assert_no_event(&zk, &mut ev).await;

    // getChildren, then a child created: NodeChildrenChanged on the parent.
    zk.get_children("/w", true).await.unwrap();
    other.create("/w/c", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeChildrenChanged, "/w".into()));

    // Data and child watches on a deleted node: one NodeDeleted.
    zk.get_data("/w/c", true).await.unwrap();
    zk.get_children2("/w/c", true).await.unwrap();
    other.delete("/w/c", -1).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeDeleted, "/w/c".into()));
    assert_no_event(&zk, &mut ev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_and_recursive_watches_stay() {
    let Some(zk_server) = refzk("persistent_and_recursive_watches_stay", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let other = connect(&zk_server.addr()).await;
    let mut ev = zk.watches();
    let acl = open_acl_unsafe();
    other.create("/p", b"", &acl, CreateMode::Persistent).await.unwrap();

    zk.add_watch("/p", AddWatchMode::Persistent).await.unwrap();
    for i in 0..3 {
        other.set_data("/p", format!("{i}").as_bytes(), -1).await.unwrap();
        assert_eq!(next_node_event(&mut ev).await, (EventType::NodeDataChanged, "/p".into()));
    }
    other.create("/p/k", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeChildrenChanged, "/p".into()));
    // A persistent (not recursive) watch does not see grandchildren.
    other.set_data("/p/k", b"x", -1).await.unwrap();
    assert_no_event(&zk, &mut ev).await;

    zk.add_watch("/r", AddWatchMode::PersistentRecursive).await.unwrap();
    other.create("/r", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(next_node_event(&mut ev).await, (EventType::NodeCreated, "/r".into()));
    other.create("/r/a", b"", &acl, CreateMode::Persistent).await.unwrap();
    other.create("/r/a/b", b"", &acl, CreateMode::Persistent).await.unwrap();
    other.set_data("/r/a/b", b"x", -1).await.unwrap();
    other.delete("/r/a/b", -1).await.unwrap();
    // Recursive watches get no NodeChildrenChanged.
    for expected in [
        (EventType::NodeCreated, "/r/a"),
        (EventType::NodeCreated, "/r/a/b"),
        (EventType::NodeDataChanged, "/r/a/b"),
        (EventType::NodeDeleted, "/r/a/b"),
    ] {
        assert_eq!(next_node_event(&mut ev).await, (expected.0, expected.1.to_owned()));
    }

    // checkWatches asks the server; removeWatches delivers the removal event.
    zk.check_watches("/r", WatcherType::Any).await.unwrap();
    assert_eq!(
        zk.check_watches("/nowatch", WatcherType::Any).await.unwrap_err().code(),
        Some(ErrorCode::NoWatcher)
    );
    zk.remove_watches("/r", WatcherType::Any, false).await.unwrap();
    let e = next_event(&mut ev).await;
    assert_eq!(e.to_string(), "WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/r");
    other.create("/r/z", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_no_event(&zk, &mut ev).await;
    let e = zk.remove_watches("/r", WatcherType::Any, false).await.unwrap_err();
    assert_eq!(e.to_string(), "KeeperErrorCode = No such watcher for /r");

    // Data and child watches removed by type.
    zk.get_data("/p/k", true).await.unwrap();
    zk.get_children("/p/k", true).await.unwrap();
    zk.remove_watches("/p/k", WatcherType::Data, false).await.unwrap();
    let e = next_event(&mut ev).await;
    assert_eq!((e.event_type, e.state), (EventType::DataWatchRemoved, KeeperState::SyncConnected));
    zk.remove_watches("/p/k", WatcherType::Children, false).await.unwrap();
    assert_eq!(next_event(&mut ev).await.event_type, EventType::ChildWatchRemoved);
}
