//! DataTree hot paths: applying create txns and answering getData.

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use rzk_proto::codes::op;
use rzk_proto::txn::TxnBody;
use rzk_proto::{Acl, CreateTxn, TxnHeader};
use rzk_tree::DataTree;

fn bench(c: &mut Criterion) {
    let acl = vec![Acl::new(31, "world", "anyone")];
    let data = Bytes::from(vec![1u8; 100]);
    c.bench_function("apply 10k creates (100 B)", |b| {
        b.iter(|| {
            let mut t = DataTree::new(false);
            let mut ev = Vec::new();
            for i in 0..10_000i64 {
                let body = TxnBody::Create(CreateTxn {
                    path: format!("/n{i}"),
                    data: Some(data.clone()),
                    acl: acl.clone(),
                    ephemeral: false,
                    parent_cversion: -1,
                });
                let hdr =
                    TxnHeader { client_id: 1, cxid: i as i32, zxid: i + 1, time: 0, txn_type: op::CREATE };
                t.process_txn(&hdr, &body, &mut ev);
            }
            t
        })
    });

    let mut t = DataTree::new(false);
    let mut ev = Vec::new();
    for i in 0..10_000i64 {
        let body = TxnBody::Create(CreateTxn {
            path: format!("/n{i}"),
            data: Some(data.clone()),
            acl: acl.clone(),
            ephemeral: false,
            parent_cversion: -1,
        });
        let hdr = TxnHeader { client_id: 1, cxid: 0, zxid: i + 1, time: 0, txn_type: op::CREATE };
        t.process_txn(&hdr, &body, &mut ev);
    }
    c.bench_function("getData on a 10k-node tree", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % 10_000;
            t.get_data(&format!("/n{i}"), None).unwrap()
        })
    });
}

/// A tree of `n` 100-byte nodes under 100 parents, built as the create workload builds it.
fn tree_of(n: i64) -> DataTree {
    let acl = vec![Acl::new(31, "world", "anyone")];
    let data = Bytes::from(vec![1u8; 100]);
    let mut t = DataTree::new(false);
    let mut ev = Vec::new();
    for i in 0..n {
        let body = TxnBody::Create(CreateTxn {
            path: format!("/n{}/c{i}", i % 100),
            data: Some(data.clone()),
            acl: acl.clone(),
            ephemeral: false,
            parent_cversion: -1,
        });
        if i < 100 {
            let parent = TxnBody::Create(CreateTxn {
                path: format!("/n{i}"),
                data: None,
                acl: acl.clone(),
                ephemeral: false,
                parent_cversion: -1,
            });
            let hdr = TxnHeader { client_id: 1, cxid: 0, zxid: i + 1, time: 0, txn_type: op::CREATE };
            t.process_txn(&hdr, &parent, &mut ev);
        }
        let hdr = TxnHeader { client_id: 1, cxid: 0, zxid: i + 1000, time: 0, txn_type: op::CREATE };
        t.process_txn(&hdr, &body, &mut ev);
    }
    t
}

/// A whole snapshot of `t`, walked in steps of 20,000 nodes as the snapshot thread walks it.
fn walk(t: &DataTree) -> rzk_tree::snapshot::SnapshotImage {
    let mut job = rzk_tree::snapshot::SnapshotJob::start(t);
    while !job.step(20_000) {}
    job.finish()
}

fn snapshots(c: &mut Criterion) {
    let t = tree_of(100_000);
    let mut g = c.benchmark_group("snapshot of 100k nodes");
    g.sample_size(10);
    g.bench_function("serialize", |b| b.iter(|| walk(&t).to_vec()));
    let stream = Bytes::from(walk(&t).to_vec());
    g.bench_function("load", |b| {
        b.iter(|| rzk_tree::snapshot::load_snapshot(stream.clone(), false).expect("load"))
    });
    g.finish();
    drop(t);
    // The walk over a tree far larger than the CPU's caches (what the snapshot thread does with
    // a big tree; the image stays in memory here), and what the core pays to start it: the
    // frozen view, then the first change of a node after it (a copy of the node's chunk).
    let mut big = tree_of(1_000_000);
    let mut g = c.benchmark_group("snapshot of 1M nodes");
    g.sample_size(10);
    g.bench_function("walk", |b| b.iter(|| walk(&big).nodes.len()));
    g.bench_function("freeze", |b| b.iter(|| rzk_tree::snapshot::SnapshotJob::start(&big).zxid));
    g.finish();
    let mut g = c.benchmark_group("set during a snapshot of 1M nodes");
    let value = Bytes::from(vec![2u8; 100]);
    let mut i = 0i64;
    g.bench_function("first change of a chunk", |b| {
        b.iter_custom(|iters| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iters {
                let job = rzk_tree::snapshot::SnapshotJob::start(&big);
                i += 1;
                let k = i * 64 % 1_000_000;
                let path = format!("/n{}/c{k}", k % 100);
                let started = std::time::Instant::now();
                set(&mut big, &path, &value, i);
                spent += started.elapsed();
                drop(job);
            }
            spent
        })
    });
    g.finish();
}

/// Applies a setData txn.
fn set(t: &mut DataTree, path: &str, value: &Bytes, i: i64) {
    let body = TxnBody::SetData(rzk_proto::SetDataTxn {
        path: path.to_owned(),
        data: Some(value.clone()),
        version: 1,
    });
    let hdr = TxnHeader { client_id: 1, cxid: 0, zxid: 2_000_000 + i, time: 0, txn_type: op::SET_DATA };
    let mut ev = Vec::new();
    t.process_txn(&hdr, &body, &mut ev);
    assert!(t.node(path).is_some_and(|n| n.data() == Some(&value[..])));
}

criterion_group!(benches, bench, snapshots);
criterion_main!(benches);
