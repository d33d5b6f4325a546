//! `rzk snapshot` against ZooKeeper's `SnapshotFormatter` and `SnapshotComparer` on snapshots
//! the reference server wrote (plain, gz and snappy): the same output byte for byte, except the
//! JSON form's timestamp and the comparer's timings, which are clock readings.

mod common;

use std::path::Path;

use common::{assert_same_output, java_tool, newest, oldest, populate, refzk, rzk_tool};
use rzk_tools::snapshot;

const FORMATTER: &str = "org.apache.zookeeper.server.SnapshotFormatter";
const COMPARER: &str = "org.apache.zookeeper.server.SnapshotComparer";

/// Replaces the digits of `"timestamp":N` with 0.
fn without_timestamp(s: &str) -> String {
    match s.find("\"timestamp\":") {
        None => s.to_owned(),
        Some(i) => {
            let start = i + "\"timestamp\":".len();
            let end = start + s[start..].bytes().take_while(u8::is_ascii_digit).count();
            format!("{}0{}", &s[..start], &s[end..])
        }
    }
}

/// Replaces the `%f seconds` readings with 0.
fn without_timings(s: &str) -> String {
    s.lines()
        .map(|l| match (l.rfind(" in "), l.ends_with(" seconds")) {
            (Some(i), true) => format!("{} in 0 seconds", &l[..i]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Both formatters on one file, in every output form.
fn compare_dumps(file: &Path) {
    let f = file.to_str().unwrap();
    for flags in [&[][..], &["-d"][..], &["-json"][..]] {
        let args = [flags, &[f]].concat();
        let java = java_tool(FORMATTER, &args, "");
        let (code, rzk) = rzk_tool(snapshot::run, &args, "");
        assert_eq!(code, java.code, "{args:?}: exit code; java stderr:\n{}", java.stderr);
        assert_same_output(
            &format!("SnapshotFormatter {args:?}"),
            &without_timestamp(&java.stdout),
            &without_timestamp(&rzk),
        );
        if std::env::var_os("RZK_TOOLS_SHOW").is_some() {
            println!("{}", java.stdout);
        }
    }
    let (code, rzk_form) = rzk_tool(snapshot::run, &["dump", f], "");
    assert_eq!(code, 0);
    assert_eq!(rzk_form, rzk_tool(snapshot::run, &[f], "").1);
}

#[test]
fn snapshot_dump_and_compare_match_the_java_tools() {
    let Some(mut zk) =
        refzk("snapshot_dump_and_compare_match_the_java_tools", &["-Dzookeeper.extendedTypesEnabled=true"])
    else {
        return;
    };
    // Enough open sessions that Java's HashMap order is not the file order.
    let dir = populate(&mut zk, true, 20);
    let (first, last) = (oldest(&dir, "snapshot"), newest(&dir, "snapshot"));
    assert_ne!(first, last);
    compare_dumps(&last);
    compare_dumps(&first);

    for flags in
        [&["-b", "2", "-n", "1"][..], &["-b", "0", "-n", "0", "-d"][..], &["-b", "100", "-n", "100"][..]]
    {
        for (l, r) in [(&first, &last), (&last, &first), (&last, &last)] {
            let args = [&["-l", l.to_str().unwrap(), "-r", r.to_str().unwrap()][..], flags].concat();
            let java = java_tool(COMPARER, &args, "");
            let (code, rzk) = rzk_tool(snapshot::run, &[&["compare"][..], &args].concat(), "");
            assert_eq!(code, java.code, "{args:?}: java stderr:\n{}", java.stderr);
            assert_same_output(
                &format!("SnapshotComparer {args:?}"),
                &without_timings(&java.stdout),
                &without_timings(&rzk),
            );
        }
    }
    let args = ["-l", first.to_str().unwrap(), "-r", last.to_str().unwrap(), "-b", "1", "-n", "1", "-i"];
    let answers = "\n/a\n7\nx\n2\n/zookeeper\n/\n\n\n\n";
    let java = java_tool(COMPARER, &args, answers);
    let (_, rzk) = rzk_tool(snapshot::run, &[&["compare"][..], &args].concat(), answers);
    assert_same_output("SnapshotComparer -i", &without_timings(&java.stdout), &without_timings(&rzk));

    // Bad invocations and files that are not snapshots: the same exit codes.
    let log = oldest(&dir, "log");
    let (l, f) = (log.to_str().unwrap(), first.to_str().unwrap());
    for args in [&[][..], &["/nonexistent/snapshot.1"][..], &[l][..], &["-d", "-json", f][..]] {
        let java = java_tool(FORMATTER, args, "");
        let (code, _) = rzk_tool(snapshot::run, args, "");
        assert_eq!(code, java.code, "{args:?}; java stderr:\n{}", java.stderr);
    }
    let java = java_tool(COMPARER, &["-l", f], "");
    assert_eq!(rzk_tool(snapshot::run, &["compare", "-l", f], "").0, java.code);

    // The exact diff: a snapshot equals itself, and differs from the empty first one.
    let (code, out) =
        rzk_tool(snapshot::run, &["compare", last.to_str().unwrap(), last.to_str().unwrap(), "--exact"], "");
    assert_eq!((code, out.starts_with("The snapshots are identical")), (0, true), "{out}");
    let (code, out) =
        rzk_tool(snapshot::run, &["compare", first.to_str().unwrap(), last.to_str().unwrap(), "--exact"], "");
    assert_eq!(code, 1);
    assert!(out.contains("only in right: /a/b\n"), "{out}");
}

#[test]
fn compressed_snapshots_dump_like_the_java_tool() {
    for method in ["gz", "snappy"] {
        let flag = format!("-Dzookeeper.snapshot.compression.method={method}");
        let Some(mut zk) = refzk("compressed_snapshots_dump_like_the_java_tool", &[&flag]) else {
            return;
        };
        let dir = populate(&mut zk, false, 2);
        let last = newest(&dir, "snapshot");
        assert!(last.to_string_lossy().ends_with(&format!(".{method}")), "{}", last.display());
        compare_dumps(&last);
    }
}
