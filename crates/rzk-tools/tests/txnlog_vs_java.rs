//! `rzk txnlog` against ZooKeeper's `TxnLogToolkit` on logs the reference server wrote: the same
//! output byte for byte, and in recovery mode the same `.fixed` file.

mod common;

use common::{assert_same_output, java_tool, newest, oldest, populate, refzk, rzk_tool};
use rzk_tools::txnlog;

const TOOLKIT: &str = "org.apache.zookeeper.server.persistence.TxnLogToolkit";

/// Both tools on the same file: (java stdout, rzk stdout), exit codes checked equal.
fn both(args: &[&str], stdin: &str) -> (String, String) {
    let java = java_tool(TOOLKIT, args, stdin);
    let (code, rzk) = rzk_tool(txnlog::run, args, stdin);
    assert_eq!(code, java.code, "exit code of {args:?}; java stderr:\n{}", java.stderr);
    (java.stdout, rzk)
}

/// Offsets of the entries of a log file (header 16 bytes; crc, len, payload, 'B').
fn entry_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 16;
    while at + 12 <= bytes.len() {
        let len = i32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        offsets.push(at);
        at += 12 + len + 1;
    }
    offsets
}

#[test]
fn txnlog_dump_and_recovery_match_the_java_toolkit() {
    let Some(mut zk) =
        refzk("txnlog_dump_and_recovery_match_the_java_toolkit", &["-Dzookeeper.extendedTypesEnabled=true"])
    else {
        return;
    };
    let dir = populate(&mut zk, true, 3);
    let log = oldest(&dir, "log");
    let log_str = log.to_str().unwrap();

    // A clean log: every kind of txn.
    let (java, rzk) = both(&[log_str], "");
    assert!(java.contains(" multi create:"), "the workload has a multi:\n{java}");
    assert!(java.contains(" createTtl "), "{java}");
    assert!(java.contains(" error -101"), "{java}");
    assert_same_output("dump", &java, &rzk);
    if std::env::var_os("RZK_TOOLS_SHOW").is_some() {
        println!("{java}");
    }
    let (_, rzk_dump) = rzk_tool(txnlog::run, &["dump", log_str], "");
    assert_eq!(rzk_dump, rzk);

    // JSON: one object per txn.
    let (code, json) = rzk_tool(txnlog::run, &["dump", log_str, "--json"], "");
    assert_eq!(code, 0);
    let txns = java.matches(" session 0x").count();
    assert_eq!(json.lines().count(), txns);
    for line in json.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["crc_ok"], true);
    }

    // Damage: two stored CRCs and one payload byte; dump, then every recovery mode.
    let bytes = std::fs::read(&log).unwrap();
    let offsets = entry_offsets(&bytes);
    assert!(offsets.len() > 10);
    let mut damaged = bytes.clone();
    damaged[offsets[2]] ^= 0x01;
    damaged[offsets[5] + 7] ^= 0x80;
    let hello = damaged.windows(5).position(|w| w == b"hello").unwrap();
    damaged[hello] = b'j';
    for (case, args, stdin) in [
        ("dump", &["-d"][..], ""),
        ("recover -y", &["-r", "-y"][..], ""),
        ("recover -v -y", &["-r", "-v", "-y"][..], ""),
        ("recover interactive", &["-r"][..], "y\nwhat\nn\nYes\n"),
        ("recover abort", &["-r"][..], "n\na\n"),
    ] {
        let (jd, rd) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (jf, rf) = (jd.path().join("log.1"), rd.path().join("log.1"));
        std::fs::write(&jf, &damaged).unwrap();
        std::fs::write(&rf, &damaged).unwrap();
        let java = java_tool(TOOLKIT, &[args, &[jf.to_str().unwrap()]].concat(), stdin);
        let (code, rzk) = rzk_tool(txnlog::run, &[args, &[rf.to_str().unwrap()]].concat(), stdin);
        assert_eq!(code, java.code, "{case}: exit code; java stderr:\n{}", java.stderr);
        let rzk = rzk.replace(rd.path().to_str().unwrap(), jd.path().to_str().unwrap());
        assert_same_output(case, &java.stdout, &rzk);
        assert!(java.stdout.contains("CRC "), "{case}: {}", java.stdout);
        if case.starts_with("recover") && case != "recover abort" {
            let (jfixed, rfixed) = (
                std::fs::read(jd.path().join("log.1.fixed")).unwrap(),
                std::fs::read(rd.path().join("log.1.fixed")).unwrap(),
            );
            assert!(
                jfixed == rfixed,
                "{case}: the .fixed files differ ({} and {} bytes)",
                jfixed.len(),
                rfixed.len()
            );
        }
    }

    // Bad invocations and files that are not logs: the same exit codes.
    let snap = newest(&dir, "snapshot");
    for args in [&[][..], &["/nonexistent/log.1"][..], &[snap.to_str().unwrap()][..], &["-q", log_str][..]] {
        let java = java_tool(TOOLKIT, args, "");
        let (code, _) = rzk_tool(txnlog::run, args, "");
        assert_eq!(code, java.code, "{args:?}; java stderr:\n{}", java.stderr);
    }

    // A log cut inside an entry: both stop there.
    let cut = offsets[offsets.len() / 2] + 20;
    let td = tempfile::tempdir().unwrap();
    std::fs::write(td.path().join("log.1"), &bytes[..cut]).unwrap();
    let (java, rzk) = both(&[td.path().join("log.1").to_str().unwrap()], "");
    assert!(java.ends_with(&format!("EOF reached after {} txns.\n", offsets.len() / 2)), "{java}");
    assert_same_output("truncated", &java, &rzk);
}
