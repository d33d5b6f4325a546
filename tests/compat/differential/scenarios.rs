//! The scenarios of the differential test: every opcode and its error paths, sessions, watches,
//! ACLs, multi, containers and TTLs, and malformed input. Each is a short script whose outcomes
//! must be identical on the reference ZooKeeper and on rzk.

#![allow(unused_variables)]

use rzk_proto::Request;
use rzk_proto::codes::{op, perms};
use rzk_proto::records::*;

use super::build::*;
use super::harness::Scenario;

const NO_NODE: i32 = -101;

pub fn all() -> Vec<Scenario> {
    let mut v = Vec::new();
    creates(&mut v);
    deletes(&mut v);
    set_data(&mut v);
    reads(&mut v);
    acls(&mut v);
    multis(&mut v);
    watches(&mut v);
    sessions(&mut v);
    special_nodes(&mut v);
    containers_and_ttl(&mut v);
    misc(&mut v);
    malformed(&mut v);
    v
}

fn creates(v: &mut Vec<Scenario>) {
    let mut b = B::new("create and read back");
    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(create(&p, "hello")).r(get(&p, false)).r(exists(&p, false)).done());

    let mut b = B::new("create null data");

    let (at, base) = b.paths();
    let p = at("/n");
    v.push(b.r(create_full(&p, None, open(), 0)).r(get(&p, false)).done());

    let mut b = B::new("create empty data");

    let (at, base) = b.paths();
    let p = at("/e");
    v.push(b.r(create(&p, "")).r(get(&p, false)).done());

    let mut b = B::new("create existing");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(create(&p, "1")).r(create(&p, "2")).r(get(&p, false)).done());

    let mut b = B::new("create without parent");

    let (at, base) = b.paths();
    let p = at("/x/y");
    v.push(b.r(create(&p, "")).done());

    let mut b = B::new("create root");

    let (at, base) = b.paths();
    v.push(b.r(create("/", "")).done());

    for (i, bad) in [
        "a",
        "/a/",
        "//a",
        "/a//b",
        "/a/./b",
        "/a/../b",
        "/.",
        "/..",
        "/a\u{0}b",
        "/a\u{1}",
        "/\u{e000}",
        "/\u{fff0}",
        "",
    ]
    .iter()
    .enumerate()
    {
        let mut b = B::new(&format!("create invalid path {i}"));
        let (at, base) = b.paths();
        let path = if bad.starts_with('/') && bad.len() > 1 { at(bad) } else { bad.to_string() };
        v.push(b.r(create(&path, "")).done());
    }

    let mut b = B::new("create sequential");

    let (at, base) = b.paths();
    let (q, n) = (at("/q"), at("/q/n-"));
    v.push(
        b.r(create(&q, ""))
            .r(create_mode(&n, "", 2))
            .r(create_mode(&n, "", 2))
            .r(create(&at("/q/x"), ""))
            .r(create_mode(&n, "", 2))
            .r(ls2(&q, false))
            .done(),
    );

    let mut b = B::new("sequential after delete keeps counting");

    let (at, base) = b.paths();
    let (q, n) = (at("/q"), at("/q/n-"));
    v.push(
        b.r(create(&q, ""))
            .r(create_mode(&n, "", 2))
            .r(delete(&format!("{n}0000000000"), -1))
            .r(create_mode(&n, "", 2))
            .r(ls2(&q, false))
            .done(),
    );

    let mut b = B::new("sequential name ending in slash");

    let (at, base) = b.paths();
    let q = at("/q");
    v.push(b.r(create(&q, "")).r(create_mode(&format!("{q}/"), "", 2)).r(ls(&q, false)).done());

    let mut b = B::new("create ephemeral");

    let (at, base) = b.paths();
    let e = at("/e");
    v.push(b.r(create_mode(&e, "x", 1)).r(exists(&e, false)).r(ephemerals("/")).done());

    let mut b = B::new("no children for ephemerals");

    let (at, base) = b.paths();
    let e = at("/e");
    v.push(b.r(create_mode(&e, "", 1)).r(create(&at("/e/c"), "")).r(create_mode(&at("/e/s"), "", 2)).done());

    let mut b = B::new("ephemeral sequential");

    let (at, base) = b.paths();
    let e = at("/es-");
    v.push(b.r(create_mode(&e, "", 3)).r(create_mode(&e, "", 3)).r(ls(&base.clone(), false)).done());

    for (i, flags) in [7, -1, 100].iter().enumerate() {
        let mut b = B::new(&format!("create invalid flags {i}"));
        let (at, base) = b.paths();
        let p = at("/f");
        v.push(b.r(create_mode(&p, "", *flags)).r(exists(&p, false)).done());
    }

    let mut b = B::new("create2 returns the stat");

    let (at, base) = b.paths();
    let (p, s) = (at("/c2"), at("/c2s-"));
    v.push(b.r(create2(&p, "abc", 0)).r(create2(&s, "", 2)).r(create2(&p, "", 0)).done());

    let mut b = B::new("create empty acl");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(create_full(&p, Some(""), vec![], 0)).done());

    for (i, a) in [
        acl(perms::ALL, "world", "someone"),
        acl(perms::ALL, "digest", "nocolon"),
        acl(perms::ALL, "digest", "a:b:c"),
        acl(perms::ALL, "ip", "1.2.3"),
        acl(perms::ALL, "ip", "1.2.3.4/33"),
        acl(perms::ALL, "auth", ""),
        acl(perms::ALL, "sasl", "bob"),
        acl(perms::ALL, "nosuchscheme", "x"),
        acl(perms::ALL, "x509", "CN=a"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut b = B::new(&format!("create invalid acl {i}"));
        let (at, base) = b.paths();
        let p = at("/a");
        v.push(b.r(create_full(&p, Some(""), vec![a], 0)).r(exists(&p, false)).done());
    }

    let mut b = B::new("create valid ip and digest acls");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(
            &p,
            Some(""),
            vec![
                acl(perms::READ, "ip", "127.0.0.1"),
                acl(perms::ALL, "ip", "10.0.0.0/8"),
                acl(perms::ADMIN, "digest", "u:h"),
            ],
            0,
        ))
        .r(get_acl(&p))
        .done(),
    );

    let mut b = B::new("create duplicate acl entries");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some(""), vec![acl(31, "world", "anyone"), acl(31, "world", "anyone")], 0))
            .r(get_acl(&p))
            .done(),
    );

    let mut b = B::new("create with auth acl after addauth");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(auth("digest", "user:pw"))
            .r(create_full(&p, Some("s"), vec![acl(perms::ALL, "auth", "")], 0))
            .r(get_acl(&p))
            .r(get(&p, false))
            .done(),
    );

    let mut b = B::new("create in zookeeper subtree");

    let (at, base) = b.paths();
    v.push(
        b.r(create("/zookeeper/d_user_node", ""))
            .r(ls("/zookeeper", false))
            .r(delete("/zookeeper/d_user_node", -1))
            .done(),
    );

    let mut b = B::new("create many children and count");

    let (at, base) = b.paths();
    let base = base.clone();
    for i in 0..20 {
        let p = at(&format!("/c{i}"));
        b.r(create(&p, "x"));
    }
    v.push(b.r(count(&base)).r(ls2(&base, false)).done());
}

fn deletes(v: &mut Vec<Scenario>) {
    let mut b = B::new("delete");
    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(create(&p, "")).r(delete(&p, -1)).r(exists(&p, false)).r(ls2(&base.clone(), false)).done());

    let mut b = B::new("delete missing");

    let (at, base) = b.paths();
    v.push(b.r(delete(&at("/nope"), -1)).done());

    let mut b = B::new("delete versions");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create(&p, ""))
            .r(set(&p, Some("1"), -1))
            .r(delete(&p, 0))
            .r(delete(&p, 5))
            .r(delete(&p, 1))
            .done(),
    );

    let mut b = B::new("delete not empty");

    let (at, base) = b.paths();
    let (p, c) = (at("/a"), at("/a/c"));
    v.push(
        b.r(create(&p, "")).r(create(&c, "")).r(delete(&p, -1)).r(delete(&c, -1)).r(delete(&p, -1)).done(),
    );

    for (i, path) in
        ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "a", "/a\u{0}"].iter().enumerate()
    {
        let mut b = B::new(&format!("delete special or invalid {i}"));
        let (at, base) = b.paths();
        v.push(b.r(delete(path, -1)).done());
    }

    let mut b = B::new("delete needs delete permission on the parent");

    let (at, base) = b.paths();
    let (p, c) = (at("/a"), at("/a/c"));
    v.push(
        b.r(create_full(&p, Some(""), vec![acl(perms::ALL & !perms::DELETE, "world", "anyone")], 0))
            .r(create(&c, ""))
            .r(delete(&c, -1))
            .done(),
    );

    let mut b = B::new("delete trailing slash");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(create(&p, "")).r(delete(&format!("{p}/"), -1)).done());
}

fn set_data(v: &mut Vec<Scenario>) {
    let mut b = B::new("set data versions");
    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create(&p, "0"))
            .r(set(&p, Some("1"), -1))
            .r(set(&p, Some("2"), 1))
            .r(set(&p, Some("3"), 1))
            .r(get(&p, false))
            .done(),
    );

    let mut b = B::new("set missing");

    let (at, base) = b.paths();
    v.push(b.r(set(&at("/nope"), Some("x"), -1)).done());

    let mut b = B::new("set null and empty data");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create(&p, "x"))
            .r(set(&p, None, -1))
            .r(get(&p, false))
            .r(set(&p, Some(""), -1))
            .r(get(&p, false))
            .done(),
    );

    let mut b = B::new("set without write permission");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some(""), vec![acl(perms::READ, "world", "anyone")], 0))
            .r(set(&p, Some("x"), -1))
            .done(),
    );

    for (i, path) in ["a", "/a/", "//"].iter().enumerate() {
        let mut b = B::new(&format!("set invalid path {i}"));
        let (at, base) = b.paths();
        v.push(b.r(set(path, Some("x"), -1)).done());
    }

    let mut b = B::new("set zookeeper config");

    let (at, base) = b.paths();
    v.push(b.r(set("/zookeeper/config", Some("x"), -1)).r(get("/zookeeper/config", false)).done());

    let mut b = B::new("set bigger data");

    let (at, base) = b.paths();
    let p = at("/big");
    let big = "x".repeat(100_000);
    v.push(b.r(create(&p, "")).r(set(&p, Some(&big), -1)).r(exists(&p, false)).done());
}

fn reads(v: &mut Vec<Scenario>) {
    let mut b = B::new("exists missing and present");
    let (at, base) = b.paths();
    let p = at("/a");
    v.push(b.r(exists(&p, false)).r(create(&p, "d")).r(exists(&p, false)).done());

    for (i, path) in ["a", "", "/a/", "/a\u{0}", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "/"]
        .iter()
        .enumerate()
    {
        let mut b = B::new(&format!("reads on odd paths {i}"));
        let (at, base) = b.paths();
        v.push(b.r(exists(path, false)).r(get(path, false)).r(ls(path, false)).r(get_acl(path)).done());
    }

    let mut b = B::new("get without read permission");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some("secret"), vec![acl(perms::WRITE, "world", "anyone")], 0))
            .r(get(&p, false))
            .r(ls(&p, false))
            .r(ls2(&p, false))
            .r(exists(&p, false))
            .r(get_acl(&p))
            .r(count(&p))
            .done(),
    );

    let mut b = B::new("children stat cversion");

    let (at, base) = b.paths();
    let (p, c) = (at("/p"), at("/p/c"));
    v.push(
        b.r(create(&p, ""))
            .r(create(&c, ""))
            .r(delete(&c, -1))
            .r(create(&c, ""))
            .r(ls2(&p, false))
            .r(get(&p, false))
            .done(),
    );

    let mut b = B::new("get all children number");

    let (at, base) = b.paths();
    let base = base.clone();
    v.push(
        b.r(create(&at("/a"), ""))
            .r(create(&at("/a/b"), ""))
            .r(create(&at("/c"), ""))
            .r(count(&base))
            .r(count(&at("/a")))
            .r(count(&at("/nope")))
            .done(),
    );

    let mut b = B::new("sync");

    let (at, base) = b.paths();
    v.push(b.r(sync(&base.clone())).r(sync("/nope/never")).r(sync("")).done());

    let mut b = B::new("get ephemerals with prefix");

    let (at, base) = b.paths();
    v.push(
        b.r(create_mode(&at("/e1"), "", 1))
            .r(create(&at("/d"), ""))
            .r(create_mode(&at("/d/e2"), "", 1))
            .r(ephemerals(&at("/d")))
            .r(ephemerals(""))
            .r(ephemerals("/"))
            .r(ephemerals("/nomatch"))
            .done(),
    );
}

fn acls(v: &mut Vec<Scenario>) {
    let mut b = B::new("get acl digest redaction");
    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(
            &p,
            Some(""),
            vec![acl(perms::READ, "world", "anyone"), acl(perms::ALL, "digest", "u:hash")],
            0,
        ))
        .r(get_acl(&p))
        .done(),
    );

    let mut b = B::new("set acl versions");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create(&p, ""))
            .r(set_acl(&p, open(), 0))
            .r(set_acl(&p, open(), 0))
            .r(set_acl(&p, open(), -1))
            .r(get_acl(&p))
            .done(),
    );

    let mut b = B::new("set acl needs admin");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some(""), vec![acl(perms::READ | perms::WRITE, "world", "anyone")], 0))
            .r(set_acl(&p, open(), -1))
            .done(),
    );

    let mut b = B::new("set acl invalid");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create(&p, ""))
            .r(set_acl(&p, vec![], -1))
            .r(set_acl(&p, vec![acl(31, "digest", "x")], -1))
            .r(set_acl(&at("/nope"), open(), -1))
            .done(),
    );

    let mut b = B::new("digest auth grants access");

    let (at, base) = b.paths();
    let p = at("/a");
    let id = rzk_node::auth::generate_digest("alice:secret");
    b.r(create_full(&p, Some("x"), vec![acl(perms::ALL, "digest", &id)], 0));
    b.r(get(&p, false));
    b.connect(1)
        .req(1, get(&p, false))
        .req(1, auth("digest", "alice:wrong"))
        .req(1, get(&p, false))
        .req(1, auth("digest", "alice:secret"))
        .req(1, get(&p, false))
        .req(1, Request::WhoAmI);
    v.push(b.done());

    let mut b = B::new("ip acl");

    let (at, base) = b.paths();
    let (p, q) = (at("/local"), at("/remote"));
    v.push(
        b.r(create_full(&p, Some("x"), vec![acl(perms::ALL, "ip", "127.0.0.0/8")], 0))
            .r(create_full(&q, Some("x"), vec![acl(perms::ALL, "ip", "10.0.0.0/8")], 0))
            .r(get(&p, false))
            .r(get(&q, false))
            .r(auth("ip", ""))
            .r(Request::WhoAmI)
            .done(),
    );

    let mut b = B::new("super digest sees everything");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some("x"), vec![acl(perms::READ, "digest", "nobody:x")], 0))
            .r(get(&p, false))
            .r(auth("digest", "super:test"))
            .r(get(&p, false))
            .r(set(&p, Some("y"), -1))
            .r(get_acl(&p))
            .r(Request::WhoAmI)
            .done(),
    );

    let mut b = B::new("auth unknown scheme fails and closes");

    let (at, base) = b.paths();
    v.push(b.r(auth("kerberos", "x")).done());

    let mut b = B::new("whoami plain");

    let (at, base) = b.paths();
    v.push(b.r(Request::WhoAmI).done());

    let mut b = B::new("auth acl expands to all digest ids");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(auth("digest", "a:1"))
            .r(auth("digest", "b:2"))
            .r(create_full(&p, Some(""), vec![acl(perms::READ, "auth", "")], 0))
            .r(get_acl(&p))
            .done(),
    );

    let mut b = B::new("check needs read");

    let (at, base) = b.paths();
    let p = at("/a");
    v.push(
        b.r(create_full(&p, Some(""), vec![acl(perms::WRITE, "world", "anyone")], 0))
            .r(Request::Multi(vec![check(&p, 0)]))
            .done(),
    );
}

fn multis(v: &mut Vec<Scenario>) {
    let mut b = B::new("multi success");
    let (at, base) = b.paths();
    let (a, c) = (at("/a"), at("/a/c"));
    v.push(
        b.r(Request::Multi(vec![create(&a, "1"), create(&c, "2"), set(&a, Some("3"), 0), check(&c, 0)]))
            .r(get(&a, false))
            .r(ls2(&a, false))
            .done(),
    );

    let mut b = B::new("multi failure rolls back");

    let (at, base) = b.paths();
    let (a, x) = (at("/a"), at("/x/y"));
    v.push(
        b.r(Request::Multi(vec![create(&a, "1"), create(&x, "2"), set(&a, Some("3"), -1)]))
            .r(exists(&a, false))
            .r(create(&a, "again"))
            .done(),
    );

    let mut b = B::new("multi check fails");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create(&a, "")).r(Request::Multi(vec![check(&a, 5), delete(&a, -1)])).r(exists(&a, false)).done(),
    );

    let mut b = B::new("multi delete then create");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create(&a, "old"))
            .r(Request::Multi(vec![delete(&a, -1), create(&a, "new")]))
            .r(get(&a, false))
            .done(),
    );

    let mut b = B::new("multi empty");

    let (at, base) = b.paths();
    v.push(b.r(Request::Multi(vec![])).done());

    let mut b = B::new("multi sequential and ephemeral");

    let (at, base) = b.paths();
    let (q, e) = (at("/q-"), at("/e"));
    v.push(
        b.r(Request::Multi(vec![create_mode(&q, "", 2), create_mode(&q, "", 2), create_mode(&e, "", 1)]))
            .r(ephemerals("/"))
            .done(),
    );

    let mut b = B::new("multi invalid path");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(b.r(Request::Multi(vec![create(&a, ""), create("bad", "")])).r(exists(&a, false)).done());

    let mut b = B::new("multi last op fails");

    let (at, base) = b.paths();
    let (a, c) = (at("/a"), at("/c"));
    v.push(
        b.r(create(&c, ""))
            .r(Request::Multi(vec![create(&a, ""), set(&c, Some("x"), 0), create(&c, "")]))
            .r(get(&c, false))
            .done(),
    );

    let mut b = B::new("multi with container and ttl");

    let (at, base) = b.paths();
    let (c, t) = (at("/c"), at("/t"));
    v.push(
        b.r(Request::Multi(vec![container(&c), ttl(&t, 5, 100000)]))
            .r(exists(&c, false))
            .r(exists(&t, false))
            .done(),
    );

    let mut b = B::new("multi no auth");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create_full(&a, Some(""), vec![acl(perms::READ, "world", "anyone")], 0))
            .r(Request::Multi(vec![set(&a, Some("x"), -1)]))
            .done(),
    );

    let mut b = B::new("multi read");

    let (at, base) = b.paths();
    let (a, c) = (at("/a"), at("/a/c"));
    v.push(
        b.r(create(&a, "1"))
            .r(create(&c, "2"))
            .r(Request::MultiRead(vec![
                get(&a, false),
                ls(&a, false),
                get(&at("/nope"), false),
                ls(&at("/nope"), false),
                get(&c, false),
            ]))
            .done(),
    );

    let mut b = B::new("multi read no auth");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create_full(&a, Some("x"), vec![acl(perms::WRITE, "world", "anyone")], 0))
            .r(Request::MultiRead(vec![get(&a, false), ls(&a, false)]))
            .done(),
    );

    let mut b = B::new("multi read with watches");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create(&a, "1"))
            .r(Request::MultiRead(vec![get(&a, true), ls(&a, true)]))
            .r(create(&at("/a/c"), ""))
            .r(set(&a, Some("2"), -1))
            .done(),
    );

    let mut b = B::new("multi many ops");

    let (at, base) = b.paths();
    let mut ops = Vec::new();
    for i in 0..50 {
        ops.push(create(&at(&format!("/m{i}")), "v"));
    }
    let base = base.clone();
    v.push(b.r(Request::Multi(ops)).r(count(&base)).done());
}

fn watches(v: &mut Vec<Scenario>) {
    let mut b = B::new("data watch fires once");
    let (at, base) = b.paths();
    let a = at("/a");
    v.push(b.r(create(&a, "1")).r(get(&a, true)).r(set(&a, Some("2"), -1)).r(set(&a, Some("3"), -1)).done());

    let mut b = B::new("exists watch on missing node");

    let (at, base) = b.paths();
    let a = at("/a");
    b.connect(1);
    v.push(b.req(1, exists(&a, true)).r(create(&a, "")).r(delete(&a, -1)).done());

    let mut b = B::new("child watch");

    let (at, base) = b.paths();
    let (a, c) = (at("/a"), at("/a/c"));
    b.r(create(&a, ""));
    b.connect(1);
    v.push(
        b.req(1, ls(&a, true))
            .r(create(&c, ""))
            .req(1, ls2(&a, true))
            .r(delete(&c, -1))
            .req(1, ls(&a, true))
            .r(delete(&a, -1))
            .done(),
    );

    let mut b = B::new("delete fires data and child watches once");

    let (at, base) = b.paths();
    let a = at("/a");
    b.r(create(&a, ""));
    b.connect(1);
    v.push(b.req(1, get(&a, true)).req(1, ls(&a, true)).req(1, exists(&a, true)).r(delete(&a, -1)).done());

    let mut b = B::new("persistent watch");

    let (at, base) = b.paths();
    let (a, c) = (at("/a"), at("/a/c"));
    b.connect(1);
    v.push(
        b.req(1, add_watch(&a, 0))
            .r(create(&a, "1"))
            .r(set(&a, Some("2"), -1))
            .r(create(&c, ""))
            .r(set(&c, Some("x"), -1))
            .r(delete(&c, -1))
            .r(delete(&a, -1))
            .r(create(&a, "again"))
            .done(),
    );

    let mut b = B::new("persistent recursive watch");

    let (at, base) = b.paths();
    let (a, c, d) = (at("/a"), at("/a/c"), at("/a/c/d"));
    b.connect(1);
    v.push(
        b.req(1, add_watch(&a, 1))
            .r(create(&a, ""))
            .r(create(&c, ""))
            .r(create(&d, ""))
            .r(set(&d, Some("x"), -1))
            .r(delete(&d, -1))
            .r(delete(&c, -1))
            .done(),
    );

    let mut b = B::new("standard watch replaces persistent mode");

    let (at, base) = b.paths();
    let a = at("/a");
    b.connect(1);
    v.push(
        b.req(1, add_watch(&a, 0))
            .r(create(&a, ""))
            .req(1, get(&a, true))
            .r(set(&a, Some("1"), -1))
            .r(set(&a, Some("2"), -1))
            .done(),
    );

    let mut b = B::new("add watch bad mode");

    let (at, base) = b.paths();
    v.push(b.r(add_watch(&at("/a"), 2)).r(add_watch(&at("/a"), -1)).done());

    for t in [1, 2, 3] {
        let mut b = B::new(&format!("check and remove watches type {t}"));
        let (at, base) = b.paths();
        let a = at("/a");
        b.r(create(&a, ""));
        b.connect(1);
        v.push(
            b.req(1, check_watches(&a, t))
                .req(1, get(&a, true))
                .req(1, ls(&a, true))
                .req(1, check_watches(&a, t))
                .req(1, remove_watches(&a, t))
                .req(1, check_watches(&a, t))
                .req(1, remove_watches(&a, t))
                .r(set(&a, Some("x"), -1))
                .r(create(&at("/a/c"), ""))
                .done(),
        );
    }

    for t in [4, 5, 0, 9] {
        let mut b = B::new(&format!("remove watches odd type {t}"));
        let (at, base) = b.paths();
        let a = at("/a");
        v.push(
            b.r(create(&a, "")).r(add_watch(&a, 0)).r(remove_watches(&a, t)).r(check_watches(&a, t)).done(),
        );
    }

    let mut b = B::new("check watches sees other connections watches");

    let (at, base) = b.paths();
    let a = at("/a");
    b.r(create(&a, ""));
    b.connect(1);
    v.push(b.req(1, get(&a, true)).r(check_watches(&a, 2)).r(remove_watches(&a, 2)).done());

    let mut b = B::new("set watches replays");

    let (at, base) = b.paths();
    let (a, m, c) = (at("/a"), at("/missing"), at("/c"));
    b.r(create(&a, "1")).r(create(&c, ""));
    b.r(set(&a, Some("2"), -1));
    b.connect(1);
    v.push(
        b.req(
            1,
            Request::SetWatches(SetWatches {
                relative_zxid: 1,
                data_watches: vec![a.clone(), m.clone()],
                exist_watches: vec![a.clone(), m.clone()],
                child_watches: vec![c.clone(), m.clone()],
            }),
        )
        .r(create(&m, ""))
        .done(),
    );

    let mut b = B::new("set watches2 persistent");

    let (at, base) = b.paths();
    let (a, r) = (at("/a"), at("/r"));
    b.connect(1);
    v.push(
        b.req(
            1,
            Request::SetWatches2(SetWatches2 {
                relative_zxid: i64::MAX,
                data_watches: vec![],
                exist_watches: vec![a.clone()],
                child_watches: vec![],
                persistent_watches: vec![a.clone()],
                persistent_recursive_watches: vec![r.clone()],
            }),
        )
        .r(create(&a, ""))
        .r(create(&r, ""))
        .r(create(&at("/r/x"), ""))
        .r(set(&a, Some("1"), -1))
        .done(),
    );

    let mut b = B::new("watches die with the connection");

    let (at, base) = b.paths();
    let a = at("/a");
    b.r(create(&a, ""));
    b.connect(1).req(1, get(&a, true)).req(1, add_watch(&a, 1)).drop_conn(1);
    b.connect(2);
    v.push(b.req(2, check_watches(&a, 3)).r(set(&a, Some("x"), -1)).done());

    let mut b = B::new("watch events need read permission");
    let (at, base) = b.paths();
    let (r, h, vis) = (at("/r"), at("/r/hidden"), at("/r/visible"));
    b.r(create(&r, ""));
    b.connect(1).req(1, add_watch(&r, 1)).req(1, get(&r, true));
    b.r(create_full(&h, Some("s"), vec![acl(perms::ALL, "digest", "bob:xyz")], 0));
    b.r(create(&vis, ""));
    b.r(set_acl(&vis, vec![acl(perms::WRITE, "world", "anyone")], -1));
    b.r(set(&vis, Some("x"), -1));
    b.r(delete(&h, -1));
    v.push(b.done());

    let mut b = B::new("watch on root children");

    let (at, base) = b.paths();
    b.connect(1);
    v.push(b.req(1, exists(&at("/z"), true)).req(1, ls(&base.clone(), true)).r(create(&at("/z"), "")).done());
}

fn sessions(v: &mut Vec<Scenario>) {
    for (i, t) in [1, 400, 1000, 4000, 100_000, -5].iter().enumerate() {
        let mut b = B::bare(&format!("timeout negotiation {i}"));
        v.push(b.connect_timeout(0, *t).done());
    }

    let mut b = B::new("close session deletes ephemerals");

    let (at, base) = b.paths();
    let (e, f) = (at("/e"), at("/f"));
    b.connect(1).req(1, create_mode(&e, "", 1)).req(1, create_mode(&f, "", 3));
    v.push(
        b.r(get(&e, true))
            .r(ls(&base.clone(), true))
            .close(1)
            .r(exists(&e, false))
            .r(ls(&base.clone(), false))
            .done(),
    );

    let mut b = B::new("reattach with password");

    let (at, base) = b.paths();
    let e = at("/e");
    b.connect(1).req(1, create_mode(&e, "", 1)).req(1, get(&e, true));
    v.push(
        b.reattach(2, 1, true)
            .req(2, exists(&e, false))
            .req(2, ephemerals("/"))
            .r(set(&e, Some("x"), -1))
            .done(),
    );

    let mut b = B::new("reattach with wrong password");

    let (at, base) = b.paths();
    b.connect(1);
    v.push(b.reattach(2, 1, false).req(1, Request::Ping).done());

    let mut b = B::new("reattach after close");

    let (at, base) = b.paths();
    b.connect(1).close(1);
    v.push(b.reattach(2, 1, true).done());

    let mut b = B::new("requests after close session");

    let (at, base) = b.paths();
    b.connect(1);
    v.push(b.close(1).done());

    let mut b = B::new("session expiry removes ephemerals");

    let (at, base) = b.paths();
    let e = at("/e");
    b.connect_timeout(1, 400).req(1, create_mode(&e, "", 1)).r(exists(&e, true)).drop_conn(1);
    v.push(b.poll(0, exists(&e, false), NO_NODE).done());

    let mut b = B::new("connection drop keeps the session");

    let (at, base) = b.paths();
    let e = at("/e");
    b.connect(1).req(1, create_mode(&e, "", 1)).drop_conn(1);
    v.push(b.r(exists(&e, false)).done());

    let mut b = B::new("ping");

    let (at, base) = b.paths();
    v.push(b.r(Request::Ping).r(Request::Ping).done());
}

fn special_nodes(v: &mut Vec<Scenario>) {
    let mut b = B::new("zookeeper nodes");
    let (at, base) = b.paths();
    v.push(
        b.r(get("/zookeeper", false))
            .r(ls("/zookeeper", false))
            .r(get("/zookeeper/config", false))
            .r(get_acl("/zookeeper/config"))
            .r(get("/zookeeper/quota", false))
            .r(get_acl("/zookeeper"))
            .r(get_acl("/"))
            .done(),
    );

    let mut b = B::new("quota stats follow the subtree");

    let (at, base) = b.paths();
    let q = at("/q");
    let qroot = format!("/zookeeper/quota{q}");
    v.push(
        b.r(create(&q, "12"))
            .r(create(&at("/q/x"), "345"))
            .r(create(&format!("/zookeeper/quota{base}"), ""))
            .r(create(&qroot, ""))
            .r(create(&format!("{qroot}/zookeeper_limits"), "count=5,bytes=-1"))
            .r(create(&format!("{qroot}/zookeeper_stats"), "count=0,bytes=0"))
            .r(get(&format!("{qroot}/zookeeper_stats"), false))
            .r(create(&at("/q/y"), "6789"))
            .r(set(&at("/q/x"), Some("1"), -1))
            .r(get(&format!("{qroot}/zookeeper_stats"), false))
            .r(delete(&at("/q/y"), -1))
            .r(get(&format!("{qroot}/zookeeper_stats"), false))
            .done(),
    );

    let mut b = B::new("root stat and children of zookeeper");

    let (at, base) = b.paths();
    v.push(
        b.r(exists("/zookeeper", false))
            .r(ls2("/zookeeper", false))
            .r(exists("/zookeeper/quota", false))
            .done(),
    );
}

fn containers_and_ttl(v: &mut Vec<Scenario>) {
    let mut b = B::new("container deleted after last child");
    let (at, base) = b.paths();
    let (c, k) = (at("/c"), at("/c/k"));
    v.push(
        b.r(container(&c))
            .r(exists(&c, false))
            .r(create(&k, ""))
            .r(delete(&k, -1))
            .poll(0, exists(&c, false), NO_NODE)
            .done(),
    );

    let mut b = B::new("container create2 stat");

    let (at, base) = b.paths();
    let c = at("/c");
    v.push(b.r(container(&c)).r(create_mode(&at("/c/s-"), "", 2)).r(ls2(&c, false)).done());

    let mut b = B::new("container with wrong flags");

    let (at, base) = b.paths();
    let c = at("/c");
    v.push(
        b.r(Request::Create {
            op: op::CREATE_CONTAINER,
            req: CreateRequest { path: c.clone(), data: data(Some("")), acl: open(), flags: 0 },
        })
        .r(exists(&c, false))
        .done(),
    );

    let mut b = B::new("ttl node expires");

    let (at, base) = b.paths();
    let t = at("/t");
    v.push(b.r(ttl(&t, 5, 300)).r(exists(&t, false)).poll(0, exists(&t, false), NO_NODE).done());

    let mut b = B::new("ttl sequential");

    let (at, base) = b.paths();
    let t = at("/t-");
    v.push(b.r(ttl(&t, 6, 100_000)).r(ls(&base.clone(), false)).done());

    for (i, (flags, t)) in
        [(5, 0), (5, -1), (5, 0x10000000000), (0, 100), (1, 100), (4, 100), (6, -5)].iter().enumerate()
    {
        let mut b = B::new(&format!("ttl invalid {i}"));
        let (at, base) = b.paths();
        let p = at("/t");
        v.push(b.r(ttl(&p, *flags, *t)).r(exists(&p, false)).done());
    }

    let mut b = B::new("ttl flags through plain create");

    let (at, base) = b.paths();
    let p = at("/t");
    v.push(b.r(create_mode(&p, "", 5)).r(create_mode(&p, "", 6)).done());

    let mut b = B::new("ttl node with child stays");

    let (at, base) = b.paths();
    let t = at("/t");
    v.push(b.r(ttl(&t, 5, 200)).r(create(&at("/t/c"), "")).r(exists(&t, false)).done());
}

fn misc(v: &mut Vec<Scenario>) {
    let mut b = B::new("reconfig is disabled");
    let (at, base) = b.paths();
    v.push(
        b.r(Request::Reconfig(ReconfigRequest {
            joining_servers: None,
            leaving_servers: None,
            new_members: Some("server.1=x".into()),
            cur_config_id: -1,
        }))
        .done(),
    );

    let mut b = B::new("sasl without sasl configured");

    let (at, base) = b.paths();
    v.push(
        b.r(Request::Sasl(GetSaslRequest { token: Some(bytes::Bytes::from_static(b"x")) }))
            .r(Request::Ping)
            .done(),
    );

    let mut b = B::new("check outside multi");
    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create(&a, ""))
            .r(check(&a, 3))
            .r(check(&at("/nope"), -1))
            .r(check("bad", -1))
            .r(check(&a, 0))
            .done(),
    );

    let mut b = B::new("pipelined writes and reads keep order");

    let (at, base) = b.paths();
    let a = at("/a");
    v.push(
        b.r(create(&a, "1"))
            .r(set(&a, Some("2"), -1))
            .r(get(&a, false))
            .r(set(&a, Some("3"), -1))
            .r(get(&a, false))
            .done(),
    );

    let mut b = B::new("unicode path and data");

    let (at, base) = b.paths();
    let p = at("/ünï-çødé");
    v.push(b.r(create(&p, "δάτα")).r(get(&p, false)).r(ls(&base.clone(), false)).done());

    let mut b = B::new("long path");

    let (at, base) = b.paths();
    let p = at(&format!("/{}", "x".repeat(2000)));
    v.push(b.r(create(&p, "")).r(exists(&p, false)).done());

    let mut b = B::new("deep tree");

    let (at, base) = b.paths();
    let mut p = base.clone();
    for i in 0..30 {
        p = format!("{p}/l{i}");
        b.r(create(&p, ""));
    }
    v.push(b.r(count(&base.clone())).r(get(&p, false)).done());
}

fn malformed(v: &mut Vec<Scenario>) {
    let frame = |xid: i32, opcode: i32, body: &[u8]| {
        let mut f = Vec::new();
        f.extend_from_slice(&xid.to_be_bytes());
        f.extend_from_slice(&opcode.to_be_bytes());
        f.extend_from_slice(body);
        f
    };
    for (i, opcode) in [10, 23, 99, 108, 500, -7].iter().enumerate() {
        let mut b = B::new(&format!("unknown opcode {i}"));
        let (at, base) = b.paths();
        v.push(b.raw(0, frame(7, *opcode, &[])).done());
    }

    let mut b = B::new("truncated request body");

    let (at, base) = b.paths();
    v.push(b.raw(0, frame(7, op::GET_DATA, &[0, 0, 0, 10, b'/'])).done());

    let mut b = B::new("bad string length");

    let (at, base) = b.paths();
    v.push(b.raw(0, frame(7, op::EXISTS, &[0xff, 0xff, 0xff, 0xf0, 0])).done());

    let mut b = B::new("create body truncated");

    let (at, base) = b.paths();
    v.push(b.raw(0, frame(7, op::CREATE, &[0, 0, 0, 2, b'/', b'x'])).done());

    let mut b = B::new("other sessions survive a bad client");

    let (at, base) = b.paths();
    let a = at("/a");
    b.connect(1).raw(1, frame(7, 12345, &[]));
    v.push(b.r(create(&a, "ok")).r(get(&a, false)).done());
}
