//! `rzk purge`: zkCleanup.sh (`PurgeTxnLog`). Keeps the newest N valid snapshots (N ≥ 3) and
//! the logs they need, deletes older ones, and prints `Removing file: <date>\t<path>` for each.
//! Both forms work: `rzk purge -n N --dataDir D [--dataLogDir L]` and PurgeTxnLog's own
//! positional `dataLogDir [dataDir] -n N` (what zkCleanup.sh passes). The rule itself is
//! rzk-storage's (`purge_plan`), which the server's autopurge uses too.

use std::io::Write;
use std::path::{Path, PathBuf};

use rzk_storage::purge::{PurgeError, SNAP_RETAIN_COUNT_MIN, purge_plan};

use crate::args::{Args, parse_java_int};
use crate::error::{EXIT_UNEXPECTED_ERROR, ToolError};
use crate::javafmt::medium;

const USAGE: &str = "\
Usage:
  rzk purge -n COUNT --dataDir DIR [--dataLogDir DIR]
  rzk purge dataLogDir [snapDir] -n COUNT          (PurgeTxnLog's form, as zkCleanup.sh runs it)
\tdataLogDir -- path to the txn log directory
\tsnapDir -- path to the snapshot directory
\tcount -- the number of old snaps/logs you want to keep, value should be greater than or equal to 3
";

/// `PurgeTxnLog.COUNT_ERR_MSG`.
const COUNT_ERR_MSG: &str = "count should be greater than or equal to 3";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub data_log_dir: PathBuf,
    pub data_dir: PathBuf,
    pub count: usize,
}

/// PurgeTxnLog exits 1 on every bad invocation, with the usage.
fn usage_error(message: impl Into<String>) -> ToolError {
    ToolError::Usage { message: message.into(), usage: USAGE, code: EXIT_UNEXPECTED_ERROR }
}

fn dir_value(args: &mut Args, flag: &str, inline: Option<&str>) -> Result<PathBuf, ToolError> {
    let v = match inline {
        Some(v) => v,
        None => args.value(flag).map_err(|e| usage_error(e.to_string()))?,
    };
    Ok(PathBuf::from(v))
}

/// Parses the arguments after `purge`; `Ok(None)` means help was asked for.
pub fn parse(items: &[String]) -> Result<Option<Options>, ToolError> {
    let mut args = Args::new(items, USAGE);
    let (mut data_dir, mut data_log_dir, mut count, mut positional) = (None, None, None, Vec::new());
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        match flag {
            "-h" | "--help" | "help" => return Ok(None),
            "-n" | "--count" => {
                let v = match inline {
                    Some(v) => v,
                    None => args.value(flag).map_err(|e| usage_error(e.to_string()))?,
                };
                let n = parse_java_int(v)
                    .ok_or_else(|| usage_error(format!("'{v}' can not be parsed to integer.")))?;
                if n < SNAP_RETAIN_COUNT_MIN as i32 {
                    return Err(usage_error(COUNT_ERR_MSG));
                }
                count = Some(n as usize);
            }
            "--dataDir" | "--snapDir" => data_dir = Some(dir_value(&mut args, flag, inline)?),
            "--dataLogDir" => data_log_dir = Some(dir_value(&mut args, flag, inline)?),
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(usage_error(format!("Unrecognized option: {other}")));
            }
            path => positional.push(PathBuf::from(path)),
        }
    }
    let count = count.ok_or_else(|| usage_error("Missing -n COUNT"))?;
    let (log, snap) = match (positional.len(), data_log_dir, data_dir) {
        (0, Some(l), Some(d)) => (l, d),
        (0, Some(one), None) | (0, None, Some(one)) => (one.clone(), one),
        (1, None, None) => (positional[0].clone(), positional[0].clone()),
        (2, None, None) => (positional[0].clone(), positional[1].clone()),
        (0, None, None) => return Err(usage_error("Missing the data directory")),
        _ => return Err(usage_error("Give the directories either as --dataDir/--dataLogDir or by position")),
    };
    for dir in [&log, &snap] {
        if !dir.exists() {
            let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
            return Err(usage_error(format!("Path '{}' does not exist. ", abs.display())));
        }
    }
    Ok(Some(Options { data_log_dir: log, data_dir: snap, count }))
}

/// The `purge` command.
pub fn run(items: &[String], out: &mut dyn Write) -> Result<i32, ToolError> {
    match parse(items)? {
        None => {
            out.write_all(USAGE.as_bytes())?;
            Ok(0)
        }
        Some(opts) => purge(&opts, out),
    }
}

fn modified_ms(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

/// `PurgeTxnLog.purge`: deletes what the newest `count` snapshots do not need.
pub fn purge(opts: &Options, out: &mut dyn Write) -> Result<i32, ToolError> {
    let doomed = purge_plan(&opts.data_dir, &opts.data_log_dir, opts.count).map_err(|e| match e {
        PurgeError::RetainTooSmall => usage_error(COUNT_ERR_MSG),
        other => ToolError::failed(EXIT_UNEXPECTED_ERROR, other.to_string()),
    })?;
    // PurgeTxnLog says which file it could not remove, and exits 0 all the same.
    for f in doomed {
        writeln!(out, "Removing file: {}\t{}", medium(modified_ms(&f)), f.display())?;
        if std::fs::remove_file(&f).is_err() {
            out.flush()?;
            eprintln!("Failed to remove {}", f.display());
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_storage::snapfile::{Compression, write_snapshot};

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn both_forms_parse_alike() {
        let dir = tempfile::tempdir().unwrap();
        let (d, l) = (dir.path().join("d"), dir.path().join("l"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::create_dir_all(&l).unwrap();
        let (ds, ls) = (d.to_str().unwrap(), l.to_str().unwrap());
        let want = Options { data_log_dir: l.clone(), data_dir: d.clone(), count: 3 };
        assert_eq!(parse(&args(&[ls, ds, "-n", "3"])).unwrap().unwrap(), want);
        assert_eq!(parse(&args(&["-n", "3", "--dataDir", ds, "--dataLogDir", ls])).unwrap().unwrap(), want);
        assert_eq!(
            parse(&args(&["-n", "3", &format!("--dataDir={ds}"), &format!("--dataLogDir={ls}")]))
                .unwrap()
                .unwrap(),
            want
        );
        let one = parse(&args(&[ds, "-n", "5"])).unwrap().unwrap();
        assert_eq!((one.data_dir, one.data_log_dir, one.count), (d.clone(), d.clone(), 5));
        let err = |a: &[&str]| parse(&args(a)).unwrap_err();
        assert_eq!(err(&[ds, "-n", "2"]).to_string(), COUNT_ERR_MSG);
        assert_eq!(err(&[ds, "-n", "x"]).to_string(), "'x' can not be parsed to integer.");
        assert_eq!(err(&[ds, "-n", "x"]).exit_code(), 1);
        assert!(
            err(&["/nonexistent", "-n", "3"]).to_string().starts_with("Path '/nonexistent' does not exist.")
        );
        assert!(err(&[ds]).to_string().contains("-n"));
    }

    #[test]
    fn removes_and_reports_what_the_retained_snapshots_do_not_need() {
        let dir = tempfile::tempdir().unwrap();
        let valid = [1u8, 2, 3, 4, 5, 0, 0, 0, 1, b'/'];
        for z in [0x10, 0x20, 0x30, 0x40] {
            write_snapshot(dir.path(), z, &valid, Compression::None).unwrap();
        }
        for z in [0x1, 0x15, 0x18, 0x25] {
            std::fs::write(dir.path().join(format!("version-2/log.{z:x}")), b"x").unwrap();
        }
        let mut out = Vec::new();
        let d = dir.path().to_str().unwrap();
        assert_eq!(run(&args(&[d, d, "-n", "3"]), &mut out).unwrap(), 0);
        let out = String::from_utf8(out).unwrap();
        let files: Vec<&str> = out.lines().map(|l| l.rsplit('\t').next().unwrap()).collect();
        assert_eq!(
            files,
            [
                format!("{d}/version-2/log.1"),
                format!("{d}/version-2/log.15"),
                format!("{d}/version-2/snapshot.10")
            ]
        );
        assert!(out.lines().all(|l| l.starts_with("Removing file: ")));
        assert!(!dir.path().join("version-2/log.15").exists());
        assert!(dir.path().join("version-2/log.18").exists());
    }
}
