//! Unit tests of `rzk txnlog` on logs written by rzk-storage, then damaged on purpose.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rzk_proto::codes::op;
use rzk_proto::txn::{TxnBody, TxnEntry};
use rzk_proto::{
    Acl, CloseSessionTxn, CreateSessionTxn, CreateTxn, DeleteTxn, ErrorTxn, SetDataTxn, TxnHeader,
};
use rzk_storage::FileTxnLog;

use super::*;
use crate::javafmt::short_long;

const TIME_MS: i64 = 1_700_000_000_123;

fn entry(zxid: i64, txn_type: i32, body: TxnBody) -> TxnEntry {
    let header =
        TxnHeader { client_id: 0x1000_0000_0000_0abc, cxid: zxid as i32 - 1, zxid, time: TIME_MS, txn_type };
    TxnEntry { header, body, digest: Some(rzk_proto::TxnDigest { version: 2, tree_digest: 42 }) }
}

fn sample() -> Vec<TxnEntry> {
    vec![
        entry(1, op::CREATE_SESSION, TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 })),
        entry(
            2,
            op::CREATE,
            TxnBody::Create(CreateTxn {
                path: "/a".into(),
                data: Some(Bytes::from_static(b"hello")),
                acl: vec![Acl::new(31, "world", "anyone")],
                ephemeral: false,
                parent_cversion: 1,
            }),
        ),
        entry(3, op::SET_DATA, TxnBody::SetData(SetDataTxn { path: "/a".into(), data: None, version: 1 })),
        entry(4, op::ERROR, TxnBody::Error(ErrorTxn { err: -101 })),
        entry(5, op::DELETE, TxnBody::Delete(DeleteTxn { path: "/a".into() })),
        entry(
            6,
            op::CLOSE_SESSION,
            TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: vec!["/e1".into(), "/e,2".into()] })),
        ),
    ]
}

/// Writes the sample log; returns its path and each entry's offset.
fn write_log(dir: &Path, prealloc: u64) -> (PathBuf, Vec<u64>) {
    let mut log = FileTxnLog::open(dir, prealloc, false).unwrap();
    let mut offsets = Vec::new();
    let mut at = 16u64;
    for e in sample() {
        let bytes = e.to_bytes();
        offsets.push(at);
        at += 12 + bytes.len() as u64 + 1;
        log.append(e.header.zxid, &bytes).unwrap();
    }
    log.commit().unwrap();
    (dir.join("version-2").join("log.1"), offsets)
}

fn run_on(args: &[&str], stdin: &str) -> (Result<i32, ToolError>, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    let mut input = stdin.as_bytes();
    let r = run(&args, &mut out, &mut input);
    (r, String::from_utf8_lossy(&out).into_owned())
}

fn line_prefix(session_cxid_zxid: &str) -> String {
    format!("{} session 0x1000000000000abc {session_cxid_zxid}", short_long(TIME_MS))
}

#[test]
fn dump_prints_what_the_java_tool_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_log(dir.path(), 64 * 1024);
    let (r, out) = run_on(&["dump", path.to_str().unwrap()], "");
    assert_eq!(r.unwrap(), 0);
    let want = [
        "ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n".to_owned(),
        format!("{} createSession 30000\n", line_prefix("cxid 0x0 zxid 0x1")),
        format!("{} create /a,hello,[31,s{{'world,'anyone}}\n],false,1\n", line_prefix("cxid 0x1 zxid 0x2")),
        format!("{} setData /a,,1\n", line_prefix("cxid 0x2 zxid 0x3")),
        format!("{} error -101\n", line_prefix("cxid 0x3 zxid 0x4")),
        format!("{} delete '/a\n", line_prefix("cxid 0x4 zxid 0x5")),
        format!("{} closeSession v{{'/e1,'/e%2C2}}\n", line_prefix("cxid 0x5 zxid 0x6")),
        "EOF reached after 6 txns.\n".to_owned(),
    ]
    .concat();
    assert_eq!(out, want);
}

#[test]
fn java_flags_are_accepted() {
    let parsed = |a: &[&str]| parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap().unwrap();
    assert_eq!(parsed(&["-rv", "f"]).mode, Mode::Recover { yes: false, verbose: true });
    assert_eq!(parsed(&["-d", "f"]).mode, Mode::Text);
    assert_eq!(parsed(&["-r", "-y", "f"]).mode, Mode::Recover { yes: true, verbose: false });
    assert_eq!(parsed(&["dump", "f", "--json"]).mode, Mode::Json);
    assert_eq!(parsed(&["recover", "f", "-y"]).mode, Mode::Recover { yes: true, verbose: false });
    let bad = |a: &[&str]| parse(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).is_err();
    assert!(bad(&[]));
    assert!(bad(&["-q", "f"]));
    assert!(bad(&["recover", "f", "--json"]));
    assert!(bad(&["-c", "-z", "5", "f"]));
}

#[test]
fn a_bad_crc_is_flagged_and_the_dump_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (path, offsets) = write_log(dir.path(), 64 * 1024);
    let mut bytes = std::fs::read(&path).unwrap();
    // A byte of "hello" in the create.
    let hello = bytes.windows(5).position(|w| w == b"hello").unwrap();
    bytes[hello] = b'j';
    std::fs::write(&path, &bytes).unwrap();
    let (r, out) = run_on(&["dump", path.to_str().unwrap()], "");
    assert_eq!(r.unwrap(), 0);
    let create =
        format!("{} create /a,jello,[31,s{{'world,'anyone}}\n],false,1\n", line_prefix("cxid 0x1 zxid 0x2"));
    assert!(out.contains(&format!("CRC ERROR - {create}{create}")), "{out}");
    assert!(out.ends_with("EOF reached after 6 txns.\n"));
    let (_, json) = run_on(&["dump", path.to_str().unwrap(), "--json"], "");
    let objs: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objs.len(), 6);
    assert_eq!(objs[1]["crc_ok"], false);
    assert_eq!(objs[1]["offset"], offsets[1]);
    assert_eq!(objs[1]["data_text"], "jello");
    assert_eq!(objs[2]["data"], serde_json::Value::Null);
    assert_eq!(objs[5]["paths_to_delete"][1], "/e,2");
    assert_eq!(objs[0]["digest"]["tree_digest"], 42);
}

#[test]
fn recover_fixes_crcs_into_a_preallocated_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (path, offsets) = write_log(dir.path(), 64 * 1024);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[3] as usize] ^= 0x01; // the stored CRC of the error txn
    bytes[offsets[4] as usize + 3] ^= 0x10; // and of the delete
    std::fs::write(&path, &bytes).unwrap();
    let file = path.to_str().unwrap();

    // Interactive: fix the first, keep the second.
    let (r, out) = run_on(&["recover", file], "y\nn\n");
    assert_eq!(r.unwrap(), 0);
    assert_eq!(out.matches("CRC ERROR - ").count(), 2);
    assert_eq!(out.matches("Would you like to fix it (Yes/No/Abort) ? ").count(), 2);
    assert!(
        out.ends_with(&format!("Recovery file {file}.fixed has been written with 1 fixed CRC error(s)\n"))
    );
    // It never overwrites a recovery file.
    let (r, _) = run_on(&["recover", file, "-y"], "");
    assert_eq!(r.unwrap_err().exit_code(), 1);
    std::fs::remove_file(format!("{file}.fixed")).unwrap();

    let (r, out) = run_on(&["-r", "-y", file], "");
    assert_eq!(r.unwrap(), 0);
    assert_eq!(out.matches("CRC FIXED - ").count(), 2);
    assert!(!out.contains("createSession"), "not verbose: only the fixed entries are printed");
    let fixed = std::fs::read(format!("{file}.fixed")).unwrap();
    assert_eq!(fixed.len() as u64, 16 + rzk_storage::txnlog::PREALLOC_BYTES_DEFAULT, "preallocated");
    let check = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(check.path().join("version-2")).unwrap();
    std::fs::write(check.path().join("version-2/log.1"), &fixed).unwrap();
    let entries = rzk_storage::read_log_dir(check.path(), 0).unwrap();
    assert_eq!(entries.len(), 6);
}

#[test]
fn abort_stops_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let (path, offsets) = write_log(dir.path(), 0);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[0] as usize] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let (r, out) = run_on(&["-r", path.to_str().unwrap()], "x\nA\n");
    let e = r.unwrap_err();
    assert_eq!((e.exit_code(), e.to_string().as_str()), (0, "Recovery aborted."));
    assert_eq!(out.matches("Would you like").count(), 2);
    let (r, _) = run_on(&["-r", path.to_str().unwrap()], "");
    assert_eq!(r.unwrap_err().exit_code(), 1, "recovery file left by the abort");
}

#[test]
fn every_truncation_ends_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (path, offsets) = write_log(dir.path(), 0);
    let full = std::fs::read(&path).unwrap();
    for cut in 0..full.len() {
        std::fs::write(&path, &full[..cut]).unwrap();
        let (r, out) = run_on(&["dump", path.to_str().unwrap()], "");
        if cut < 16 {
            assert_eq!(r.unwrap_err().exit_code(), 1, "cut {cut}");
            continue;
        }
        let complete =
            offsets.iter().skip(1).chain([&(full.len() as u64)]).filter(|o| **o <= cut as u64).count();
        match r {
            Ok(0) => {
                assert!(out.ends_with(&format!("EOF reached after {complete} txns.\n")), "cut {cut}: {out}")
            }
            // Cut right before an end-of-record byte: the Java tool fails there too.
            Err(e) => assert!(e.to_string().starts_with("Last transaction was partial."), "cut {cut}: {e}"),
            Ok(code) => panic!("cut {cut}: exit {code}"),
        }
    }
}

#[test]
fn damaged_framing_is_reported_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (path, offsets) = write_log(dir.path(), 0);
    let full = std::fs::read(&path).unwrap();
    let file = path.to_str().unwrap();

    let mut b = full.clone();
    let end_of_first = offsets[1] as usize - 1;
    b[end_of_first] = b'X';
    std::fs::write(&path, &b).unwrap();
    let e = run_on(&["dump", file], "").0.unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(e.to_string().contains(&format!("{file}: the entry at offset 16 ends with 0x58")), "{e}");

    let mut b = full.clone();
    b[offsets[2] as usize + 8..offsets[2] as usize + 12].copy_from_slice(&0x7fff_fff0i32.to_be_bytes());
    std::fs::write(&path, &b).unwrap();
    let e = run_on(&["dump", file], "").0.unwrap_err();
    assert_eq!(e.to_string(), format!("{file} at offset {}: unreasonable txn length 2147483632", offsets[2]));

    let mut b = full.clone();
    b[0] = b'X';
    std::fs::write(&path, &b).unwrap();
    let e = run_on(&["dump", file], "").0.unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().starts_with("Invalid magic number for log.1"), "{e}");

    // An undecodable txn with a right checksum: the type of the first txn made unknown.
    let mut b = full.clone();
    let ty = offsets[0] as usize + 12 + 28;
    b[ty..ty + 4].copy_from_slice(&77i32.to_be_bytes());
    let payload_len = i32::from_be_bytes(b[24..28].try_into().unwrap()) as usize;
    let mut adler = adler2::Adler32::new();
    adler.write_slice(&b[28..28 + payload_len]);
    b[16..24].copy_from_slice(&i64::from(adler.checksum()).to_be_bytes());
    std::fs::write(&path, &b).unwrap();
    let e = run_on(&["dump", file], "").0.unwrap_err();
    assert!(e.to_string().starts_with(&format!("{file} at offset 16: cannot decode the txn")), "{e}");
    // Recovery copies it all the same (it decodes only what it prints).
    let (r, _) = run_on(&["recover", file, "-y"], "");
    assert_eq!(r.unwrap(), 0);

    let e = run_on(&["dump", "/nonexistent/log.1"], "").0.unwrap_err();
    assert_eq!(e.to_string(), "File doesn't exist or not readable: /nonexistent/log.1");
}
