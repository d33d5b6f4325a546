//! Unit tests of `rzk snapshot` on snapshots written by rzk-tree and rzk-storage.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rzk_proto::codes::op;
use rzk_proto::txn::TxnBody;
use rzk_proto::{Acl, CreateTxn, SetDataTxn, TxnHeader};
use rzk_storage::snapfile::{Compression, write_snapshot};
use rzk_tree::DataTree;
use rzk_tree::snapshot::SnapshotJob;

use super::*;
use crate::progress::Progress;

const SESSION: i64 = 0x1000_0a1b_2c3d_0000;

fn tree(n: usize) -> DataTree {
    let mut t = DataTree::new(false);
    let mut ev = Vec::new();
    let mut zxid = 0;
    let mut apply = |t: &mut DataTree, ty: i32, body: TxnBody| {
        zxid += 1;
        let hdr =
            TxnHeader { client_id: SESSION, cxid: 0, zxid, time: 1_700_000_000_000 + zxid, txn_type: ty };
        t.process_txn(&hdr, &body, &mut ev);
    };
    for i in 0..n {
        let body = TxnBody::Create(CreateTxn {
            path: format!("/n{i}"),
            data: Some(Bytes::from(format!("value {i}"))),
            acl: vec![Acl::new(31 - (i % 2) as i32, "world", "anyone")],
            ephemeral: i % 4 == 0,
            parent_cversion: -1,
        });
        apply(&mut t, op::CREATE, body);
    }
    let child = TxnBody::Create(CreateTxn {
        path: "/n1/child\"x".into(),
        data: None,
        acl: vec![Acl::new(31, "world", "anyone")],
        ephemeral: false,
        parent_cversion: -1,
    });
    apply(&mut t, op::CREATE, child);
    apply(&mut t, op::SET_DATA, TxnBody::SetData(SetDataTxn { path: "/n1".into(), data: None, version: 1 }));
    t.sessions.insert(SESSION, 30000);
    t.sessions.insert(SESSION + 1, 4000);
    t
}

fn snapshot_bytes(t: &DataTree) -> Vec<u8> {
    SnapshotJob::whole(t).to_vec()
}

fn write(dir: &Path, t: &DataTree, c: Compression) -> PathBuf {
    write_snapshot(dir, t.last_processed_zxid, &snapshot_bytes(t), c).unwrap()
}

fn run_on(args: &[&str]) -> (Result<i32, ToolError>, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let r = run(&args, &mut out, &mut &b""[..]);
    (r, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn the_view_agrees_with_rzk_tree() {
    let t = tree(20);
    let bytes = snapshot_bytes(&t);
    let loaded = rzk_tree::snapshot::load_snapshot(Bytes::from(bytes.clone()), false).unwrap();
    let view =
        SnapshotView::parse(Path::new("snapshot.16"), Bytes::from(bytes), &Progress::hidden()).unwrap();
    assert_eq!(view.seal, Seal::Ok);
    assert_eq!(view.digest_seal, Some(Seal::Ok));
    assert_eq!(view.digest.map(|d| d.digest), Some(t.digest()));
    assert_eq!(view.name_zxid, 0x16);
    assert_eq!(view.nodes().len(), loaded.tree.node_count());
    assert_eq!(view.java_node_count(), t.node_count() + 1);
    for n in view.nodes() {
        let path = if n.path.is_empty() { "/" } else { &n.path };
        let other = loaded.tree.node(path).unwrap();
        assert_eq!(n.stat, other.stat, "{path}");
        assert_eq!(n.data.as_deref(), other.data(), "{path}");
        assert_eq!(
            n.children.iter().collect::<Vec<_>>(),
            loaded.tree.child_names(other).collect::<Vec<_>>(),
            "{path}"
        );
        assert_eq!(view.acl_of(n), loaded.tree.acl_of(other), "{path}");
    }
    assert_eq!(view.ephemeral_count(SESSION), 5);
    assert_eq!(view.ephemeral_count(SESSION + 1), 0);
    let ids: Vec<i64> = view.sessions_java_order().iter().map(|s| s.0).collect();
    assert_eq!(ids.len(), 2);
}

#[test]
fn dump_text_json_and_every_compression() {
    let dir = tempfile::tempdir().unwrap();
    let t = tree(6);
    let plain = write(dir.path(), &t, Compression::None);
    let (r, text) = run_on(&["dump", plain.to_str().unwrap()]);
    assert_eq!(r.unwrap(), 0);
    assert!(text.starts_with(&format!(
        "ZNode Details (count={}):\n----\n/\n  cZxid = 0x00000000000000\n",
        t.node_count() + 1
    )));
    assert!(text.contains("----\n/n1/child\"x\n"));
    assert!(text.contains("Session Details (sid, timeout, ephemeralCount):\n"));
    assert!(text.contains("0x10000a1b2c3d0000, 30000, 2\n"), "{text}");
    assert!(text.ends_with("----\nLast zxid: 0x8\n"), "{text}");
    let (_, with_data) = run_on(&["-d", plain.to_str().unwrap()]);
    assert!(with_data.contains("  data = dmFsdWUgMA==\n"), "base64 of 'value 0'");
    for c in [Compression::Gzip, Compression::Snappy] {
        let other = tempfile::tempdir().unwrap();
        let p = write(other.path(), &t, c);
        assert_eq!(run_on(&["dump", p.to_str().unwrap()]).1, text, "{c:?}");
    }
    let view = SnapshotView::open(&plain).unwrap();
    let mut json = Vec::new();
    ncdu::print_json(&view, &mut json, 5).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v[2]["timestamp"], 5);
    assert_eq!(v[3][0]["name"], "/");
    assert_eq!(v[3][0]["ino"], 1001);
    assert!(!json.ends_with(b"\n"));
}

#[test]
fn compare_reports_as_snapshot_comparer_does() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let left = write(a.path(), &tree(3), Compression::None);
    let right = write(b.path(), &tree(6), Compression::None);
    let _ = dir;
    let (r, out) =
        run_on(&["compare", left.to_str().unwrap(), right.to_str().unwrap(), "-b", "2", "-n", "1"]);
    assert_eq!(r.unwrap(), 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Successfully parsed options!");
    assert!(lines[1].starts_with("Deserialized snapshot in snapshot.5 in "));
    assert!(lines[2].starts_with("Processed data tree in "));
    let rest = lines[5..].join("\n");
    assert!(
        rest.starts_with("Node count: 8\nTotal size: 14\nMax depth: 3\nCount of nodes at depth 0: 1\n"),
        "{rest}"
    );
    assert!(
        rest.contains("Node /n3 found only in right tree. Descendant size: 7. Descendant count: 0"),
        "{rest}"
    );
    assert!(rest.ends_with("All layers compared."));
    let (r, java_form) = run_on(&[
        "compare",
        "-l",
        left.to_str().unwrap(),
        "-r",
        right.to_str().unwrap(),
        "-b",
        "2",
        "-n",
        "1",
    ]);
    assert_eq!(r.unwrap(), 0);
    let skip_timings = |s: &str| s.lines().filter(|l| !l.contains(" seconds")).collect::<Vec<_>>().join("\n");
    assert_eq!(skip_timings(&java_form), skip_timings(&out));
    assert!(run_on(&["compare", "-l", "x", "-b", "z"]).0.is_err());
}

#[test]
fn exact_diff_lists_every_difference() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let left = write(a.path(), &tree(4), Compression::None);
    let same = write(b.path(), &tree(4), Compression::Gzip);
    let (r, out) = run_on(&["compare", left.to_str().unwrap(), same.to_str().unwrap(), "--exact"]);
    assert_eq!(r.unwrap(), 0, "{out}");
    assert!(out.starts_with("The snapshots are identical"));

    let mut t = tree(4);
    t.sessions.insert(SESSION, 5000);
    let mut ev = Vec::new();
    let hdr = TxnHeader { client_id: SESSION, cxid: 0, zxid: 99, time: 7, txn_type: op::SET_DATA };
    let body =
        TxnBody::SetData(SetDataTxn { path: "/n2".into(), data: Some(Bytes::from_static(b"x")), version: 1 });
    t.process_txn(&hdr, &body, &mut ev);
    let c = tempfile::tempdir().unwrap();
    let changed = write(c.path(), &t, Compression::None);
    let (r, out) = run_on(&["compare", left.to_str().unwrap(), changed.to_str().unwrap(), "--exact"]);
    assert_eq!(r.unwrap(), 1);
    assert_eq!(
        out,
        "data differs: /n2 (left 7 bytes, right 1 bytes)\n\
         stat differs: /n2: mzxid 0x3 != 0x63, mtime 1700000000003 != 7, version 0 != 1\n\
         session timeout differs: 0x10000a1b2c3d0000: 30000 != 5000\n\
         3 difference(s).\n"
    );
}

#[test]
fn damaged_snapshots_fail_cleanly() {
    let t = tree(5);
    let full = snapshot_bytes(&t);
    // (The last 5 bytes are the "/" after the last checksum, which the tools do not need.)
    for cut in 0..full.len() - 5 {
        let r =
            SnapshotView::parse(Path::new("s"), Bytes::copy_from_slice(&full[..cut]), &Progress::hidden());
        if let Ok(v) = r {
            assert!(v.seal != Seal::Ok || v.digest_seal != Some(Seal::Ok), "cut {cut} parsed as whole");
        }
    }
    let e = SnapshotView::parse(Path::new("s"), Bytes::copy_from_slice(&full[..40]), &Progress::hidden())
        .err()
        .unwrap();
    assert!(e.to_string().starts_with("s at offset "), "{e}");
    // A flipped bit in data: the dump goes on (as Java's does) and the seal says it is damaged.
    let mut flipped = full.clone();
    let at = flipped.windows(7).position(|w| w == b"value 2").unwrap();
    flipped[at] ^= 1;
    let v = SnapshotView::parse(Path::new("s"), Bytes::from(flipped), &Progress::hidden()).unwrap();
    assert!(matches!(v.seal, Seal::Mismatch { .. }));
    // Bytes of noise never panic.
    let mut noise = full.clone();
    for (i, b) in noise.iter_mut().enumerate().skip(16) {
        *b = b.wrapping_mul(31).wrapping_add(i as u8);
    }
    let _ = SnapshotView::parse(Path::new("s"), Bytes::from(noise), &Progress::hidden());
    let (r, _) = run_on(&["dump", "/nonexistent/snapshot.1"]);
    let e = r.unwrap_err();
    assert_eq!(
        (e.exit_code(), e.to_string()),
        (2, "File '/nonexistent/snapshot.1' does not exist.".to_owned())
    );
    assert_eq!(run_on(&["-d", "-json", "x"]).0.unwrap_err().exit_code(), 2);
}
