//! The Rust `zookeeper-client` crate (kezhuw's, async, here on tokio) runs a session against the
//! reference ZooKeeper and against rzk: every result is asserted, and the transcript of what
//! the client returned (times, zxids and session ids left out) must be the same on both.
//!
//! It covers the crate's whole API that a standalone server serves: CRUD, sequential and
//! ephemeral nodes, one-shot, persistent and persistent-recursive watches, multi and multiRead,
//! digest ACLs, TTL and container nodes, getEphemerals, getAllChildrenNumber and whoami.

#[path = "common.rs"]
mod common;

use std::future::Future;
use std::time::Duration;

use common::{ALICE, ALICE_DIGEST, BOB_DIGEST, PROCESS_TIMEOUT, STEP_TIMEOUT, Servers, Target};
use zk::{Acl, Acls, AddWatchMode, AuthId, CreateMode, Error, MultiReadResult, MultiWriteError, Permission};
use zookeeper_client as zk;

/// Awaits `f`, failing the test after `STEP_TIMEOUT`.
async fn step<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in {STEP_TIMEOUT:?}"))
}

/// The stat fields two correct servers agree on.
fn stat(s: &zk::Stat) -> String {
    format!(
        "version={} cversion={} aversion={} data_length={} num_children={} ephemeral={}",
        s.version,
        s.cversion,
        s.aversion,
        s.data_length,
        s.num_children,
        s.ephemeral_owner != 0
    )
}

struct Session {
    target: &'static str,
    t: Vec<String>,
}

impl Session {
    /// Records `got` and asserts that it is `want`.
    fn expect<T: std::fmt::Debug + PartialEq>(&mut self, what: &str, got: T, want: T) {
        self.t.push(format!("{what} => {got:?}"));
        assert_eq!(got, want, "{}: {what}", self.target);
    }

    /// Waits for the next event of a watcher and records it as `type path`.
    async fn event(&mut self, what: &str, f: impl Future<Output = zk::WatchedEvent>) -> String {
        let e = step(what, f).await;
        let s = format!("{:?} {}", e.event_type, e.path);
        self.t.push(format!("{what}: event {s}"));
        s
    }

    /// Polls until `path` is gone (the server reaps TTL and container nodes).
    async fn wait_gone(&mut self, c: &zk::Client, path: &str) {
        let deadline = tokio::time::Instant::now() + common::POLL_DEADLINE;
        while step("check_stat", c.check_stat(path)).await.expect("check_stat").is_some() {
            assert!(tokio::time::Instant::now() < deadline, "{}: {path} not deleted in time", self.target);
            tokio::time::sleep(common::POLL_INTERVAL).await;
        }
        self.t.push(format!("{path} is gone"));
    }
}

async fn connect(addr: &str) -> zk::Client {
    step("connect", zk::Client::connect(addr)).await.expect("connect")
}

async fn session(target: &Target) -> Vec<String> {
    let s = &mut Session { target: target.name, t: Vec::new() };
    let open = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let a = connect(&target.addr).await;
    let b = connect(&target.addr).await;

    // create / get / set / ls / delete, and their errors.
    let (st, _) = a.create("/rs", b"root", &open).await.expect("create /rs");
    s.expect(
        "create /rs",
        stat(&st),
        "version=0 cversion=0 aversion=0 data_length=4 num_children=0 ephemeral=false".into(),
    );
    a.create("/rs/a", b"hello", &open).await.expect("create /rs/a");
    s.expect("create /rs/a again", a.create("/rs/a", b"x", &open).await.err(), Some(Error::NodeExists));
    let (data, st) = a.get_data("/rs/a").await.expect("get /rs/a");
    s.expect("get /rs/a", (data, st.version), (b"hello".to_vec(), 0));
    s.expect("set /rs/a", a.set_data("/rs/a", b"world", None).await.map(|st| st.version), Ok(1));
    s.expect("set /rs/a version 0", a.set_data("/rs/a", b"x", Some(0)).await.err(), Some(Error::BadVersion));
    s.expect("ls /rs", a.list_children("/rs").await, Ok(vec!["a".to_owned()]));
    s.expect("delete /rs", a.delete("/rs", None).await, Err(Error::NotEmpty));
    s.expect("delete /rs/a version 1", a.delete("/rs/a", Some(1)).await, Ok(()));
    s.expect("exists /rs/a", a.check_stat("/rs/a").await, Ok(None));
    s.expect("get /rs/a", a.get_data("/rs/a").await.err(), Some(Error::NoNode));

    // Sequential nodes: the suffix is the parent's cversion.
    let seq = CreateMode::PersistentSequential.with_acls(Acls::anyone_all());
    let (_, n) = a.create("/rs/s-", b"", &seq).await.expect("create /rs/s-");
    s.expect("create /rs/s- sequential", n.to_string(), "0000000001".into());
    let (_, n) = a.create("/rs/s-", b"", &seq).await.expect("create /rs/s-");
    s.expect("create /rs/s- sequential", n.to_string(), "0000000002".into());

    // Ephemeral nodes belong to the session that made them.
    let eph = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    let (st, _) = a.create("/rs/e", b"", &eph).await.expect("create /rs/e");
    s.expect("ephemeralOwner of /rs/e is a", st.ephemeral_owner == a.session_id().0, true);
    let eseq = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
    let (_, n) = a.create("/rs/es-", b"", &eseq).await.expect("create /rs/es-");
    s.expect("create /rs/es- ephemeral sequential", n.to_string(), "0000000004".into());
    let mut ephemerals = a.list_ephemerals("/rs").await.expect("getEphemerals");
    ephemerals.sort();
    s.expect("a getEphemerals /rs", ephemerals, vec!["/rs/e".to_owned(), "/rs/es-0000000004".to_owned()]);
    s.expect("b getEphemerals /rs", b.list_ephemerals("/rs").await, Ok(vec![]));
    let owner = b.check_stat("/rs/e").await.map(|st| st.map(|st| st.ephemeral_owner == a.session_id().0));
    s.expect("b sees /rs/e, owned by a", owner, Ok(Some(true)));
    s.expect("getAllChildrenNumber /rs", a.count_descendants_number("/rs").await, Ok(4));

    // One-shot data, child and exists watches on a, fired by b.
    a.create("/rs/w", b"1", &open).await.expect("create /rs/w");
    let (_, _, w_data) = a.get_and_watch_data("/rs/w").await.expect("get -w");
    let (_, _, w_child) = a.get_and_watch_children("/rs/w").await.expect("ls -w");
    let (none, w_exists) = a.check_and_watch_stat("/rs/w/new").await.expect("stat -w");
    s.expect("exists /rs/w/new", none, None);
    b.set_data("/rs/w", b"2", None).await.expect("set /rs/w");
    let e = s.event("a data watch", w_data.changed()).await;
    s.expect("a data watch", e, "NodeDataChanged /rs/w".into());
    b.create("/rs/w/new", b"", &open).await.expect("create /rs/w/new");
    let e = s.event("a exists watch", w_exists.changed()).await;
    s.expect("a exists watch", e, "NodeCreated /rs/w/new".into());
    let e = s.event("a child watch", w_child.changed()).await;
    s.expect("a child watch", e, "NodeChildrenChanged /rs/w".into());

    // A persistent watch fires on every change of the node and of its child list.
    a.create("/rs/p", b"", &open).await.expect("create /rs/p");
    let mut pw = a.watch("/rs/p", AddWatchMode::Persistent).await.expect("addWatch PERSISTENT");
    b.set_data("/rs/p", b"1", None).await.expect("set");
    b.set_data("/rs/p", b"2", None).await.expect("set");
    b.create("/rs/p/c", b"", &open).await.expect("create");
    b.set_data("/rs/p/c", b"x", None).await.expect("set"); // not watched: a child's data
    b.delete("/rs/p/c", None).await.expect("delete");
    for want in [
        "NodeDataChanged /rs/p",
        "NodeDataChanged /rs/p",
        "NodeChildrenChanged /rs/p",
        "NodeChildrenChanged /rs/p",
    ] {
        let e = s.event("a persistent watch", pw.changed()).await;
        s.expect("a persistent watch", e.as_str(), want);
    }

    // A persistent recursive watch fires on the whole subtree (no child events).
    a.create("/rs/r", b"", &open).await.expect("create /rs/r");
    let mut rw =
        a.watch("/rs/r", AddWatchMode::PersistentRecursive).await.expect("addWatch PERSISTENT_RECURSIVE");
    b.create("/rs/r/x", b"", &open).await.expect("create");
    b.create("/rs/r/x/y", b"", &open).await.expect("create");
    b.set_data("/rs/r/x/y", b"d", None).await.expect("set");
    b.delete("/rs/r/x/y", None).await.expect("delete");
    for want in
        ["NodeCreated /rs/r/x", "NodeCreated /rs/r/x/y", "NodeDataChanged /rs/r/x/y", "NodeDeleted /rs/r/x/y"]
    {
        let e = s.event("a recursive watch", rw.changed()).await;
        s.expect("a recursive watch", e.as_str(), want);
    }

    // multi: all or nothing; a failure names the first failing operation and its error.
    let mut m = a.new_multi_writer();
    m.add_create("/rs/m", b"m", &open).expect("op");
    m.add_create("/rs/m/a", b"a", &open).expect("op");
    m.add_set_data("/rs/m/a", b"v1", Some(0)).expect("op");
    m.add_check_version("/rs/m", 0).expect("op");
    let results = step("multi", m.commit()).await.expect("multi");
    let results: Vec<String> = results
        .iter()
        .map(|r| match r {
            zk::MultiWriteResult::Create { path, .. } => format!("create {path}"),
            zk::MultiWriteResult::SetData { stat } => format!("setData version={}", stat.version),
            other => format!("{other:?}"),
        })
        .collect();
    s.expect(
        "multi",
        results,
        vec!["create /rs/m".into(), "create /rs/m/a".into(), "setData version=1".into(), "Check".into()],
    );
    let mut m = a.new_multi_writer();
    m.add_create("/rs/m/b", b"", &open).expect("op");
    m.add_delete("/rs/m/missing", None).expect("op");
    m.add_set_data("/rs/m/a", b"v2", Some(1)).expect("op");
    s.expect(
        "failing multi",
        step("multi", m.commit()).await.err(),
        Some(MultiWriteError::OperationFailed { index: 1, source: Error::NoNode }),
    );
    s.expect("exists /rs/m/b after the failed multi", a.check_stat("/rs/m/b").await, Ok(None));
    let mut m = a.new_multi_writer();
    m.add_check_version("/rs/m", 7).expect("op");
    m.add_delete("/rs/m/a", None).expect("op");
    s.expect(
        "failing check",
        step("multi", m.commit()).await.err(),
        Some(MultiWriteError::OperationFailed { index: 0, source: Error::BadVersion }),
    );
    let mut r = a.new_multi_reader();
    r.add_get_data("/rs/m/a").expect("op");
    r.add_get_children("/rs/m").expect("op");
    r.add_get_data("/rs/missing").expect("op");
    let results: Vec<String> = step("multiRead", r.commit())
        .await
        .expect("multiRead")
        .iter()
        .map(|r| match r {
            MultiReadResult::Data { data, stat: st } => {
                format!("data {:?} {}", String::from_utf8_lossy(data), stat(st))
            }
            MultiReadResult::Children { children } => format!("children {children:?}"),
            MultiReadResult::Error { err } => format!("error {err:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    s.expect(
        "multiRead",
        results,
        vec![
            "data \"v1\" version=1 cversion=0 aversion=0 data_length=2 num_children=0 ephemeral=false".into(),
            "children [\"a\"]".into(),
            "error NoNode".into(),
        ],
    );

    // Digest auth: alice's node is denied to b (unauthenticated, then with a wrong password)
    // and allowed to alice's sessions.
    step("addauth", a.auth("digest", ALICE.as_bytes())).await.expect("addauth");
    let alice = [Acl::new(Permission::ALL, AuthId::new("digest", ALICE_DIGEST))];
    a.create("/rs/acl", b"secret", &CreateMode::Persistent.with_acls(Acls::new(&alice)))
        .await
        .expect("create /rs/acl");
    let (acl, _) = a.get_acl("/rs/acl").await.expect("getAcl");
    s.expect("getAcl /rs/acl", acl, alice.to_vec());
    s.expect("a get /rs/acl", a.get_data("/rs/acl").await.map(|(d, _)| d), Ok(b"secret".to_vec()));
    let mut users: Vec<(String, String)> = a
        .list_auth_users()
        .await
        .expect("whoami")
        .iter()
        .map(|u| (u.scheme().to_owned(), u.user().to_owned()))
        .collect();
    users.sort();
    s.expect("a whoami", users, vec![("digest".into(), "alice".into()), ("ip".into(), "127.0.0.1".into())]);
    s.expect("b get /rs/acl", b.get_data("/rs/acl").await.err(), Some(Error::NoAuth));
    s.expect("b set /rs/acl", b.set_data("/rs/acl", b"x", None).await.err(), Some(Error::NoAuth));
    step("addauth", b.auth("digest", b"alice:wrong")).await.expect("addauth");
    s.expect("b get /rs/acl, wrong password", b.get_data("/rs/acl").await.err(), Some(Error::NoAuth));
    // The client sends its auth packet right behind ConnectRequest, before the answer: the
    // server must answer the connect first (ZooKeeper stops reading until the session is set up,
    // ZooKeeperServer.processConnectRequest's cnxn.disableRecv()).
    let c = step(
        "connect c",
        zk::Client::connector().with_auth("digest", ALICE.as_bytes()).connect(&target.addr),
    )
    .await
    .expect("connect c");
    s.expect(
        "c (alice at connect) get /rs/acl",
        c.get_data("/rs/acl").await.map(|(d, _)| d),
        Ok(b"secret".to_vec()),
    );
    drop(c);

    // A watch event is only sent to a session that may read the node (CVE-2024-23944,
    // ZOOKEEPER-4799; in Debian's 3.8.0-11+deb12u2): alice's recursive watch must not hear of
    // bob's node. Events come in order, so the next one must be for the visible node.
    let bob = [Acl::new(Permission::ALL, AuthId::new("digest", BOB_DIGEST))];
    b.create("/rs/r/hidden", b"", &CreateMode::Persistent.with_acls(Acls::new(&bob)))
        .await
        .expect("create hidden");
    b.create("/rs/r/visible", b"", &open).await.expect("create visible");
    let e = s.event("a recursive watch", rw.changed()).await;
    s.expect("a recursive watch, after a node it may not read", e.as_str(), "NodeCreated /rs/r/visible");

    // TTL and container nodes are reaped by the server.
    let ttl = CreateMode::Persistent.with_acls(Acls::anyone_all()).with_ttl(Duration::from_millis(200));
    a.create("/rs-ttl", b"t", &ttl).await.expect("create TTL");
    s.wait_gone(&a, "/rs-ttl").await;
    let container = CreateMode::Container.with_acls(Acls::anyone_all());
    a.create("/rs-cont", b"", &container).await.expect("create container");
    a.create("/rs-cont/child", b"", &open).await.expect("create child");
    a.delete("/rs-cont/child", None).await.expect("delete child");
    s.wait_gone(&a, "/rs-cont").await;

    // a's ephemerals go with its session; b's watches see them go.
    let (_, be) = b.check_and_watch_stat("/rs/e").await.expect("stat -w");
    let (_, _, bc) = b.get_and_watch_children("/rs").await.expect("ls -w");
    drop((pw, rw));
    drop(a);
    let e = s.event("b exists watch", be.changed()).await;
    s.expect("b exists watch", e, "NodeDeleted /rs/e".into());
    let e = s.event("b child watch", bc.changed()).await;
    s.expect("b child watch", e, "NodeChildrenChanged /rs".into());
    s.expect("exists /rs/e after a closed", b.check_stat("/rs/e").await, Ok(None));
    let mut children = b.list_children("/rs").await.expect("ls /rs");
    children.sort();
    s.expect(
        "ls /rs",
        children,
        ["acl", "m", "p", "r", "s-0000000001", "s-0000000002", "w"].map(String::from).to_vec(),
    );
    std::mem::take(&mut s.t)
}

#[test]
fn rust_client_session() {
    let servers = Servers::start("rust_client_session");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    servers.play("rust_client_session", |target| {
        rt.block_on(async {
            tokio::time::timeout(PROCESS_TIMEOUT, session(target))
                .await
                .unwrap_or_else(|_| panic!("{}: session not done in {PROCESS_TIMEOUT:?}", target.name))
        })
    });
}
