//! Every typed call against the reference Apache ZooKeeper 3.8.

mod common;

use common::{builder, connect, refzk};
use rzk_client::{
    Acl, CreateMode, Error, ErrorCode, MultiResult, Op, creator_all_acl, open_acl_unsafe, read_acl_unsafe,
};
use rzk_proto::codes::perms;

fn code(e: Error) -> ErrorCode {
    e.code().unwrap_or_else(|| panic!("expected a ZooKeeper error, got {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_reads_and_stats() {
    let Some(zk_server) = refzk("crud_reads_and_stats", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let acl = open_acl_unsafe();
    assert!(zk.negotiated_timeout().as_millis() > 0);
    assert_ne!(zk.session_id(), 0);
    assert_eq!(zk.session_password().len(), 16);

    assert_eq!(zk.create("/a", b"one", &acl, CreateMode::Persistent).await.unwrap(), "/a");
    assert!(zk.last_zxid() > 0);
    assert_eq!(
        code(zk.create("/a", b"", &acl, CreateMode::Persistent).await.unwrap_err()),
        ErrorCode::NodeExists
    );
    let err = zk.create("/x/y", b"", &acl, CreateMode::Persistent).await.unwrap_err();
    assert_eq!(err.to_string(), "KeeperErrorCode = NoNode for /x/y");
    // Checked before sending, with the Java client's messages.
    assert_eq!(
        zk.create("a", b"", &acl, CreateMode::Persistent).await.unwrap_err().to_string(),
        "Path must start with / character"
    );
    assert_eq!(
        code(zk.create("/b", b"", &[], CreateMode::Persistent).await.unwrap_err()),
        ErrorCode::InvalidAcl
    );

    let (path, stat) = zk.create2("/a/s-", b"", &acl, CreateMode::PersistentSequential).await.unwrap();
    assert_eq!(path, "/a/s-0000000000");
    assert_eq!(stat.version, 0);
    let (data, stat) = zk.get_data("/a", false).await.unwrap();
    assert_eq!((&data[..], stat.num_children, stat.data_length), (&b"one"[..], 1, 3));
    let stat = zk.set_data("/a", b"two", stat.version).await.unwrap();
    assert_eq!(stat.version, 1);
    assert_eq!(code(zk.set_data("/a", b"x", 0).await.unwrap_err()), ErrorCode::BadVersion);
    assert_eq!(zk.exists("/a", false).await.unwrap().map(|s| s.version), Some(1));
    assert_eq!(zk.exists("/nope", false).await.unwrap(), None);

    zk.create("/a/c", b"", &acl, CreateMode::Persistent).await.unwrap();
    let mut kids = zk.get_children("/a", false).await.unwrap();
    kids.sort();
    assert_eq!(kids, ["c", "s-0000000000"]);
    let (kids, stat) = zk.get_children2("/a", false).await.unwrap();
    assert_eq!((kids.len(), stat.num_children), (2, 2));
    zk.create("/a/c/d", b"", &acl, CreateMode::Persistent).await.unwrap();
    assert_eq!(zk.get_all_children_number("/a").await.unwrap(), 3);

    assert_eq!(code(zk.delete("/a", -1).await.unwrap_err()), ErrorCode::NotEmpty);
    assert_eq!(code(zk.delete("/a/c/d", 5).await.unwrap_err()), ErrorCode::BadVersion);
    zk.delete("/a/c/d", 0).await.unwrap();
    assert_eq!(code(zk.delete("/a/c/d", -1).await.unwrap_err()), ErrorCode::NoNode);
    zk.sync("/a").await.unwrap();

    // Null data stays apart from empty data.
    let mut req = rzk_proto::CreateRequest { path: "/null".into(), data: None, acl: acl.clone(), flags: 0 };
    let r = zk.raw_request(rzk_proto::Request::Create { op: 1, req: req.clone() }).await.unwrap();
    assert_eq!(r.header.err, 0);
    assert_eq!(zk.get_data_nullable("/null", false).await.unwrap().0, None);
    req.path = "/empty".into();
    req.data = Some(Default::default());
    zk.raw_request(rzk_proto::Request::Create { op: 1, req }).await.unwrap();
    assert_eq!(zk.get_data_nullable("/empty", false).await.unwrap().0, Some(Default::default()));

    // Ephemerals belong to the session.
    zk.create("/e1", b"", &acl, CreateMode::Ephemeral).await.unwrap();
    zk.create("/a/e2", b"", &acl, CreateMode::EphemeralSequential).await.unwrap();
    let mut eph = zk.get_ephemerals("/").await.unwrap();
    eph.sort();
    assert_eq!(eph, ["/a/e20000000002", "/e1"]);
    assert_eq!(zk.get_ephemerals("/a").await.unwrap(), ["/a/e20000000002"]);
    let stat = zk.exists("/e1", false).await.unwrap().unwrap();
    assert_eq!(stat.ephemeral_owner, zk.session_id());

    // Config node (standalone: empty), and whoami.
    let (_config, stat) = zk.get_config(false).await.unwrap();
    assert_eq!(stat.aversion, -1);
    let me = zk.who_am_i().await.unwrap();
    assert_eq!((me[0].auth_scheme.as_str(), me[0].user.as_str()), ("ip", "127.0.0.1"));

    zk.close().await.unwrap();
    assert!(!zk.state().is_alive());
    assert_eq!(code(zk.exists("/a", false).await.unwrap_err()), ErrorCode::SessionExpired);
    // The ephemerals went with the session.
    let other = connect(&zk_server.addr()).await;
    assert_eq!(other.exists("/e1", false).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_and_container_nodes() {
    let Some(zk_server) = refzk("ttl_and_container_nodes", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let acl = open_acl_unsafe();
    let (p, stat) = zk.create_ttl("/t", b"x", &acl, CreateMode::PersistentWithTtl, 5_000).await.unwrap();
    assert_eq!(p, "/t");
    // Clients see ephemeralOwner 0 for TTL and container nodes (DataNode.getClientEphemeralOwner).
    assert_eq!(stat.ephemeral_owner, 0);
    assert_eq!(zk.exists("/t", false).await.unwrap().unwrap().ephemeral_owner, 0);
    let (p, _) =
        zk.create_ttl("/ts", b"x", &acl, CreateMode::PersistentSequentialWithTtl, 100).await.unwrap();
    assert_eq!(p, "/ts0000000001");
    let e = zk.create_ttl("/t0", b"x", &acl, CreateMode::PersistentWithTtl, 0).await.unwrap_err();
    assert_eq!(e.to_string(), "ttl must be positive and cannot be larger than: 1099511627775");
    let e = zk.create("/t1", b"x", &acl, CreateMode::PersistentWithTtl).await.unwrap_err();
    assert!(matches!(e, Error::BadArgument(_)));

    let (p, stat) = zk.create_container("/c", b"", &acl).await.unwrap();
    assert_eq!(p, "/c");
    assert_eq!(stat.ephemeral_owner, 0);
    assert_eq!(zk.create("/c2", b"", &acl, CreateMode::Container).await.unwrap(), "/c2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_success_failure_and_read() {
    let Some(zk_server) = refzk("multi_success_failure_and_read", &[]) else { return };
    let zk = connect(&zk_server.addr()).await;
    let acl = open_acl_unsafe();
    let ops = [
        Op::create("/m", b"a", &acl, CreateMode::Persistent),
        Op::create("/m/s", b"", &acl, CreateMode::PersistentSequential),
        Op::set_data("/m", b"b", 0),
        Op::check("/m", 1),
        Op::create("/m/c", b"", &acl, CreateMode::Container),
        Op::create_ttl("/m/t", b"", &acl, CreateMode::PersistentWithTtl, 1000),
    ];
    let res = zk.multi_checked(&ops).await.unwrap();
    assert_eq!(res[0], MultiResult::Create("/m".into()));
    assert_eq!(res[1], MultiResult::Create("/m/s0000000000".into()));
    assert!(matches!(res[2], MultiResult::SetData(ref s) if s.version == 1));
    assert_eq!(res[3], MultiResult::Check);
    assert!(matches!(res[4], MultiResult::Create2 { ref path, .. } if path == "/m/c"));
    assert!(matches!(res[5], MultiResult::Create2 { ref path, .. } if path == "/m/t"));

    // A failing op: earlier ops report 0, the failing one its code, later ones
    // RuntimeInconsistency; nothing is applied.
    let ops = [
        Op::create("/m/x", b"", &acl, CreateMode::Persistent),
        Op::delete("/nope", -1),
        Op::delete("/m", -1),
    ];
    let res = zk.multi(&ops).await.unwrap();
    assert_eq!(res, [MultiResult::Error(0), MultiResult::Error(-101), MultiResult::Error(-2)]);
    match zk.multi_checked(&ops).await.unwrap_err() {
        Error::MultiFailed { code, index, results } => {
            assert_eq!((code, index, results.len()), (ErrorCode::NoNode, 1, 3));
        }
        e => panic!("expected MultiFailed, got {e}"),
    }
    assert_eq!(zk.exists("/m/x", false).await.unwrap(), None);
    assert_eq!(zk.multi(&[]).await.unwrap(), []);

    // multiRead answers each op on its own.
    let res =
        zk.multi_read(&[Op::get_data("/m"), Op::get_children("/m"), Op::get_data("/nope")]).await.unwrap();
    assert!(
        matches!(&res[0], MultiResult::GetData { data: Some(d), stat } if &d[..] == b"b" && stat.version == 1)
    );
    assert!(matches!(&res[1], MultiResult::GetChildren(c) if c.len() == 3));
    assert_eq!(res[2], MultiResult::Error(-101));
    assert!(zk.multi(&[Op::get_data("/m"), Op::delete("/m", -1)]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_digest_acls() {
    let Some(zk_server) = refzk("auth_and_digest_acls", &[]) else { return };
    let addr = zk_server.addr();
    let zk = connect(&addr).await;
    zk.add_auth("digest", b"alice:secret").await.unwrap();
    let me = zk.who_am_i().await.unwrap();
    assert!(me.iter().any(|c| c.auth_scheme == "digest" && c.user == "alice"));
    zk.create("/private", b"s", &creator_all_acl(), CreateMode::Persistent).await.unwrap();
    let (acl, _) = zk.get_acl("/private").await.unwrap();
    assert_eq!(acl, [Acl::new(perms::ALL, "digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")]);
    zk.create("/public", b"p", &open_acl_unsafe(), CreateMode::Persistent).await.unwrap();
    let stat = zk.set_acl("/public", &open_acl_unsafe(), 0).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!(code(zk.set_acl("/public", &read_acl_unsafe(), 0).await.unwrap_err()), ErrorCode::BadVersion);
    zk.set_acl("/public", &read_acl_unsafe(), 1).await.unwrap();
    // Now ADMIN is gone, and that is checked before the version.
    assert_eq!(code(zk.set_acl("/public", &read_acl_unsafe(), 0).await.unwrap_err()), ErrorCode::NoAuth);

    // Another session without the auth is refused; with it (given at connect), allowed.
    let anon = connect(&addr).await;
    assert_eq!(code(anon.get_data("/private", false).await.unwrap_err()), ErrorCode::NoAuth);
    assert_eq!(code(anon.set_data("/public", b"x", -1).await.unwrap_err()), ErrorCode::NoAuth);
    assert_eq!(
        code(anon.create("/c", b"", &creator_all_acl(), CreateMode::Persistent).await.unwrap_err()),
        ErrorCode::InvalidAcl
    );
    let alice = builder(&addr).auth("digest", b"alice:secret").connect().await.unwrap();
    assert_eq!(&alice.get_data("/private", false).await.unwrap().0[..], b"s");

    // An unknown scheme fails the session for good (AuthFailed).
    let bad = connect(&addr).await;
    assert_eq!(code(bad.add_auth("nosuchscheme", b"x").await.unwrap_err()), ErrorCode::AuthFailed);
    assert_eq!(bad.state(), rzk_client::States::AuthFailed);
    assert_eq!(code(bad.exists("/", false).await.unwrap_err()), ErrorCode::AuthFailed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chroot_maps_paths_both_ways() {
    let Some(zk_server) = refzk("chroot_maps_paths_both_ways", &[]) else { return };
    let root = connect(&zk_server.addr()).await;
    root.create("/app", b"", &open_acl_unsafe(), CreateMode::Persistent).await.unwrap();
    let zk = connect(&format!("{}/app", zk_server.addr())).await;
    assert_eq!(zk.chroot(), Some("/app"));
    let mut events = zk.watches();
    assert_eq!(
        zk.create("/a", b"x", &open_acl_unsafe(), CreateMode::PersistentSequential).await.unwrap(),
        "/a0000000000"
    );
    assert_eq!(root.get_children("/app", false).await.unwrap(), ["a0000000000"]);
    assert_eq!(zk.get_children("/", true).await.unwrap(), ["a0000000000"]);
    let res = zk.multi(&[Op::create("/b", b"", &open_acl_unsafe(), CreateMode::Persistent)]).await.unwrap();
    assert_eq!(res, [MultiResult::Create("/b".into())]);
    let (ev, path) = common::next_node_event(&mut events).await;
    assert_eq!((ev, path.as_str()), (rzk_client::EventType::NodeChildrenChanged, "/"));
    zk.create("/e", b"", &open_acl_unsafe(), CreateMode::Ephemeral).await.unwrap();
    assert_eq!(zk.get_ephemerals("/").await.unwrap(), ["/e"]);
    assert_eq!(code(zk.get_data("/nope", false).await.unwrap_err()), ErrorCode::NoNode);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reattach_a_session_by_id_and_password() {
    let Some(zk_server) = refzk("reattach_a_session_by_id_and_password", &[]) else { return };
    let addr = zk_server.addr();
    let first = connect(&addr).await;
    first.create("/eph", b"", &open_acl_unsafe(), CreateMode::Ephemeral).await.unwrap();
    let (id, pw) = (first.session_id(), first.session_password());
    // The first client goes away without closing the session (as a restarted process would).
    // Kept alive, it would reconnect to the session the second one took over, and the two would
    // take it from each other (each reattach closes the other's connection: ConnectionLoss).
    drop(first);
    let second = builder(&addr).session(id, &pw).connect().await.unwrap();
    assert_eq!(second.session_id(), id);
    assert_eq!(second.get_ephemerals("/").await.unwrap(), ["/eph"]);
    // A wrong password is an expired session to the server.
    let e = builder(&addr).session(id, &[1; 16]).connect().await.unwrap_err();
    assert_eq!(code(e), ErrorCode::SessionExpired);
    second.close().await.unwrap();
}
