//! A varied workload for the storage tests: nodes of every type (persistent, sequential,
//! ephemeral, container, TTL), nested paths, ACLs of every scheme, null, empty and large data,
//! version bumps, deletes and multi, so a dataDir holds a bit of everything.

use rzk_client::{Acl, Client, CreateMode, Op, open_acl_unsafe};

fn acl_for(i: usize) -> Vec<Acl> {
    match i % 5 {
        0 => open_acl_unsafe(),
        1 => vec![Acl::new(1, "world", "anyone"), Acl::new(31, "digest", "bob:Y6dtDnJ0V1gNfJYVXE/Z3YBIIpk=")],
        2 => vec![Acl::new(31, "ip", "127.0.0.1")],
        3 => vec![Acl::new(31, "ip", "10.0.0.0/8"), Acl::new(3, "world", "anyone")],
        _ => vec![Acl::new(17, "world", "anyone")],
    }
}

/// Creates about `n` nodes under `root` with `zk` (a long-lived session owns the ephemerals).
pub async fn populate(zk: &Client, root: &str, n: usize) {
    let open = open_acl_unsafe();
    zk.create(root, b"root", &open, CreateMode::Persistent).await.expect("root");
    let groups = (n / 50).max(1);
    for g in 0..groups {
        let dir = format!("{root}/g{g}");
        zk.create(&dir, format!("group {g}").as_bytes(), &acl_for(0), CreateMode::Persistent)
            .await
            .expect("group");
        for i in 0..40 {
            let p = format!("{dir}/n{i}");
            let data: Vec<u8> = match i % 7 {
                0 => Vec::new(),
                1 => vec![b'x'; 4000],
                _ => format!("value {g}/{i}").into_bytes(),
            };
            zk.create(&p, &data, &acl_for(i), CreateMode::Persistent).await.expect("node");
        }
        for _ in 0..3 {
            zk.create(&format!("{dir}/seq-"), b"s", &open, CreateMode::PersistentSequential)
                .await
                .expect("seq");
        }
        zk.create(&format!("{dir}/eph"), b"e", &open, CreateMode::Ephemeral).await.expect("eph");
        zk.create(&format!("{dir}/eseq-"), b"e", &open, CreateMode::EphemeralSequential).await.expect("eseq");
        let (c, _) = zk.create_container(&format!("{dir}/box"), b"", &open).await.expect("container");
        zk.create(&format!("{c}/item"), b"i", &open, CreateMode::Persistent).await.expect("container item");
        zk.create_ttl(&format!("{dir}/ttl"), b"t", &open, CreateMode::PersistentWithTtl, 3_600_000)
            .await
            .expect("ttl");
        zk.create_nullable(&format!("{dir}/null"), None, &open, CreateMode::Persistent, None)
            .await
            .expect("null data");
        // Versions, ACL changes and deletes.
        zk.set_data(&format!("{dir}/n2"), b"changed once", -1).await.expect("set");
        zk.set_data(&format!("{dir}/n2"), b"changed twice", 1).await.expect("set again");
        zk.set_acl(&format!("{dir}/n3"), &acl_for(4), -1).await.expect("setAcl");
        zk.delete(&format!("{dir}/n5"), -1).await.expect("delete");
        let ops = [
            Op::create(&format!("{dir}/m1"), b"multi", &open, CreateMode::Persistent),
            Op::set_data(&format!("{dir}/n6"), b"by multi", -1),
            Op::delete(&format!("{dir}/n8"), -1),
        ];
        zk.multi(&ops).await.expect("multi");
    }
}
