//! `rzk snapshot`: zkSnapShotToolkit (`SnapshotFormatter`: `dump`) and zkSnapshotComparer
//! (`SnapshotComparer`: `compare`), plus `compare --exact`, a full diff for tests. Plain, `.gz`
//! and `.snappy` snapshots are read alike (by file name, as ZooKeeper does).

pub mod compare;
pub mod diff;
pub mod format;
pub mod ncdu;
pub mod view;

use std::io::{BufRead, Write};
use std::path::Path;

use crate::args::{Args, parse_java_int};
use crate::error::{EXIT_INVALID_INVOCATION, EXIT_UNEXPECTED_ERROR, ToolError};
use compare::Thresholds;
use view::{Seal, SnapshotView};

const USAGE: &str = "\
Usage:
  rzk snapshot dump FILE [-d] [--json]     print a snapshot (zkSnapShotToolkit's format; -d: with
                                           data, base64; --json: ncdu's JSON)
  rzk snapshot [-d|-json] FILE             the same, with zkSnapShotToolkit's flags
  rzk snapshot compare A B [-b BYTES] [-n NODES] [-d] [-i]
                                           SnapshotComparer's report (thresholds default to 0;
                                           -d: debug output; -i: interactive)
  rzk snapshot compare A B --exact         every path whose data, stat or ACL differs, and every
                                           session difference (exit 0 if none, 1 otherwise)
  rzk snapshot compare -l A -r B -b BYTES -n NODES [-d] [-i]
                                           the same, with SnapshotComparer's flags
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Dump { file: String, data: bool, json: bool },
    Compare { left: String, right: String, thresholds: Thresholds },
    Exact { left: String, right: String },
    Help,
}

fn parse_dump(args: &mut Args, first: Option<&str>) -> Result<Command, ToolError> {
    let (mut data, mut json, mut file) = (false, false, None);
    let mut next = first;
    while let Some(a) = next.take().or_else(|| args.next()) {
        match a {
            "-d" | "--data" => data = true,
            "-json" | "--json" => json = true,
            "-h" | "--help" => return Ok(Command::Help),
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(args.error(format!("Unrecognized option: {other}")));
            }
            path if file.is_none() => file = Some(path.to_owned()),
            extra => return Err(args.error(format!("one snapshot file at a time (also got {extra})"))),
        }
    }
    let file = file.ok_or_else(|| args.error("USAGE: SnapshotFormatter [-d|-json] snapshot_file"))?;
    if data && json {
        return Err(args.error("Cannot specify both data dump (-d) and json mode (-json) in same call"));
    }
    Ok(Command::Dump { file, data, json })
}

fn threshold(args: &mut Args, flag: &str) -> Result<i64, ToolError> {
    let v = args.value(flag)?;
    parse_java_int(v).map(i64::from).ok_or_else(|| args.error(format!("For input string: \"{v}\"")))
}

fn parse_compare(args: &mut Args) -> Result<Command, ToolError> {
    let (mut left, mut right, mut exact) = (None, None, false);
    let mut th = Thresholds::default();
    let mut positional = Vec::new();
    while let Some(a) = args.next() {
        match a {
            "-l" | "--left" => left = Some(args.value(a)?.to_owned()),
            "-r" | "--right" => right = Some(args.value(a)?.to_owned()),
            "-b" | "--bytes" => th.bytes = threshold(args, a)?,
            "-n" | "--nodes" => th.nodes = threshold(args, a)?,
            "-d" | "--debug" => th.debug = true,
            "-i" | "--interactive" => th.interactive = true,
            "--exact" => exact = true,
            "-h" | "--help" => return Ok(Command::Help),
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(args.error(format!("Unrecognized option: {other}")));
            }
            path => positional.push(path.to_owned()),
        }
    }
    let mut positional = positional.into_iter();
    let left = left.or_else(|| positional.next()).ok_or_else(|| args.error("Missing required option: l"))?;
    let right =
        right.or_else(|| positional.next()).ok_or_else(|| args.error("Missing required option: r"))?;
    if let Some(extra) = positional.next() {
        return Err(args.error(format!("unexpected argument {extra}")));
    }
    Ok(if exact { Command::Exact { left, right } } else { Command::Compare { left, right, thresholds: th } })
}

/// Parses the arguments after `snapshot`.
pub fn parse(items: &[String]) -> Result<Command, ToolError> {
    let mut args = Args::new(items, USAGE);
    match args.next() {
        None => Err(args.error("")),
        Some("-h" | "--help" | "help") => Ok(Command::Help),
        Some("dump") => parse_dump(&mut args, None),
        Some("compare") => parse_compare(&mut args),
        Some(first) => parse_dump(&mut args, Some(first)),
    }
}

/// The `snapshot` command.
pub fn run(items: &[String], out: &mut dyn Write, input: &mut dyn BufRead) -> Result<i32, ToolError> {
    match parse(items)? {
        Command::Help => {
            out.write_all(USAGE.as_bytes())?;
            Ok(0)
        }
        Command::Dump { file, data, json } => dump(&file, data, json, out),
        Command::Compare { left, right, thresholds } => {
            writeln!(out, "Successfully parsed options!")?;
            let (_, l) = compare::load(Path::new(&left), out)?;
            let (_, r) = compare::load(Path::new(&right), out)?;
            writeln!(out, "{}", l.summary())?;
            writeln!(out, "{}", r.summary())?;
            compare::compare_trees(out, input, &l, &r, &thresholds)?;
            Ok(0)
        }
        Command::Exact { left, right } => exact(&left, &right, out),
    }
}

/// `ZKUtil.validateFileInput`.
fn validate_file(file: &str) -> Result<(), ToolError> {
    let path = Path::new(file);
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let abs = abs.display();
    let msg = if !path.exists() {
        format!("File '{abs}' does not exist.")
    } else if path.is_dir() {
        format!("'{abs}' is a directory. it must be a file.")
    } else if std::fs::File::open(path).is_err() {
        format!("Read permission is denied on the file '{abs}'")
    } else {
        return Ok(());
    };
    Err(ToolError::failed(EXIT_INVALID_INVOCATION, msg))
}

/// Loads a snapshot, warning on stderr about a bad or missing seal.
pub fn load(file: &str) -> Result<SnapshotView, ToolError> {
    validate_file(file)?;
    let view = SnapshotView::open(Path::new(file))
        .map_err(|e| ToolError::failed(EXIT_UNEXPECTED_ERROR, e.to_string()))?;
    for (what, seal) in [("checksum", Some(view.seal)), ("digest checksum", view.digest_seal)] {
        match seal {
            Some(Seal::Mismatch { offset, stored, computed }) => eprintln!(
                "warning: {file} at offset {offset}: snapshot {what} mismatch (stored {stored:#x}, \
                 computed {computed:#x}); the file is damaged"
            ),
            Some(Seal::Missing) => eprintln!("warning: {file}: the snapshot ends before its {what}"),
            _ => {}
        }
    }
    Ok(view)
}

fn dump(file: &str, data: bool, json: bool, out: &mut dyn Write) -> Result<i32, ToolError> {
    let view = load(file)?;
    if json {
        ncdu::print_json(&view, out, ncdu::now_ms())?;
    } else {
        format::print_details(&view, out, data)?;
    }
    Ok(0)
}

fn exact(left: &str, right: &str, out: &mut dyn Write) -> Result<i32, ToolError> {
    let (l, r) = (load(left)?, load(right)?);
    let diffs = diff::exact_diff(&l, &r);
    for d in &diffs {
        writeln!(out, "{d}")?;
    }
    if diffs.is_empty() {
        writeln!(
            out,
            "The snapshots are identical ({} znodes, {} sessions).",
            l.nodes().len(),
            l.sessions.len()
        )?;
        Ok(0)
    } else {
        writeln!(out, "{} difference(s).", diffs.len())?;
        Ok(1)
    }
}

#[cfg(test)]
mod tests;
