//! `rzk txnlog`: zkTxnLogToolkit (`TxnLogToolkit`). `dump` prints every txn of one log file in
//! the Java tool's exact format (or as JSON Lines); `recover` writes `<file>.fixed` with bad
//! checksums fixed. The Java tool's own flags (`-r -v -y -d FILE`) are accepted as well.

pub mod decode;
pub mod json;
pub mod reader;
pub mod recover;
pub mod text;

use std::io::{BufRead, Write};
use std::path::Path;

use crate::args::Args;
use crate::error::{EXIT_INVALID_INVOCATION, EXIT_UNEXPECTED_ERROR, ToolError};
use crate::progress::Progress;
use reader::{End, Entry, LogReader, Next, ReadError};
use recover::{Answers, RecoveryFile};

const USAGE: &str = "\
Usage:
  rzk txnlog dump FILE [--json]        print every txn of a txn log file (zkTxnLogToolkit's
                                       format; --json: one JSON object per txn and line)
  rzk txnlog recover FILE [-y] [-v]    copy the log to FILE.fixed with bad CRCs fixed, asking
                                       for each (-y: fix all without asking; -v: print all txns)
  rzk txnlog [-d] [-r] [-v] [-y] FILE  the same, with zkTxnLogToolkit's flags
";

/// What to do with the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Text,
    Json,
    Recover { yes: bool, verbose: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub file: String,
    pub mode: Mode,
}

/// Parses the arguments after `txnlog`; `Ok(None)` means help was asked for.
pub fn parse(items: &[String]) -> Result<Option<Options>, ToolError> {
    let mut args = Args::new(items, USAGE);
    let (mut recover, mut json, mut yes, mut verbose) = (false, false, false, false);
    let mut file = None;
    let mut first = true;
    while let Some(a) = args.next() {
        match a {
            "dump" if first => {}
            "recover" if first => recover = true,
            "-h" | "--help" | "help" => return Ok(None),
            "--json" | "-json" => json = true,
            "--recover" => recover = true,
            "--yes" => yes = true,
            "--verbose" => verbose = true,
            "--dump" => {}
            "-c" | "--chop" | "-z" | "--zxid" => {
                return Err(args.error("chop mode (-c -z) is not supported; use the Java tool"));
            }
            flags if flags.starts_with('-') && flags.len() > 1 && !flags.starts_with("--") => {
                for c in flags[1..].chars() {
                    match c {
                        'r' => recover = true,
                        'y' => yes = true,
                        'v' => verbose = true,
                        'd' => {}
                        'h' => return Ok(None),
                        other => return Err(args.error(format!("Unrecognized option: -{other}"))),
                    }
                }
            }
            other if other.starts_with("--") => {
                return Err(args.error(format!("Unrecognized option: {other}")));
            }
            path => {
                if file.replace(path.to_owned()).is_some() {
                    return Err(args.error(format!("one log file at a time (also got {path})")));
                }
            }
        }
        first = false;
    }
    let Some(file) = file else { return Err(args.error("Missing the txn log file")) };
    if json && recover {
        return Err(args.error("--json is for dump, not recover"));
    }
    let mode = match (recover, json) {
        (true, _) => Mode::Recover { yes, verbose },
        (false, true) => Mode::Json,
        (false, false) => Mode::Text,
    };
    Ok(Some(Options { file, mode }))
}

/// The `txnlog` command.
pub fn run(items: &[String], out: &mut dyn Write, input: &mut dyn BufRead) -> Result<i32, ToolError> {
    // TxnLogToolkit exits 1 (not 2) on a bad command line.
    let parsed = parse(items).map_err(|e| match e {
        ToolError::Usage { message, usage, .. } => {
            ToolError::Usage { message, usage, code: EXIT_UNEXPECTED_ERROR }
        }
        other => other,
    })?;
    match parsed {
        None => {
            out.write_all(USAGE.as_bytes())?;
            Ok(0)
        }
        Some(opts) => dump(&opts, out, input),
    }
}

fn read_failed(e: ReadError) -> ToolError {
    match e {
        ReadError::BadHeader { path, magic: Some(_), reason } => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            ToolError::failed(EXIT_INVALID_INVOCATION, format!("Invalid magic number for {name} ({reason})"))
        }
        other => ToolError::failed(EXIT_UNEXPECTED_ERROR, other.to_string()),
    }
}

/// `TxnLogToolkit.dump` in every mode: the header line, each txn, and how the log ended.
pub fn dump(opts: &Options, out: &mut dyn Write, input: &mut dyn BufRead) -> Result<i32, ToolError> {
    let path = Path::new(&opts.file);
    if !path.is_file() || std::fs::File::open(path).is_err() {
        let msg = format!("File doesn't exist or not readable: {}", opts.file);
        return Err(ToolError::failed(EXIT_UNEXPECTED_ERROR, msg));
    }
    let fixed_path = format!("{}.fixed", opts.file);
    let recovering = matches!(opts.mode, Mode::Recover { .. });
    if recovering && Path::new(&fixed_path).exists() {
        let msg = format!("Recovery file {fixed_path} already exists or not writable");
        return Err(ToolError::failed(EXIT_UNEXPECTED_ERROR, msg));
    }
    let mut reader = LogReader::open(path).map_err(read_failed)?;
    let header = reader.header().map_err(read_failed)?;
    if opts.mode != Mode::Json {
        writeln!(
            out,
            "ZooKeeper Transactional Log File with dbid {} txnlog format version {}",
            header.dbid, header.version
        )?;
    }
    let mut recovery =
        if recovering { Some(RecoveryFile::create(Path::new(&fixed_path), &header)?) } else { None };
    let interactive = matches!(opts.mode, Mode::Recover { yes: false, .. });
    let progress =
        if interactive { Progress::hidden() } else { Progress::bytes(reader.file_len(), &opts.file) };
    let mut answers = Answers::new(input);
    let (mut count, mut fixed) = (0u64, 0u64);
    loop {
        progress.set(reader.offset());
        let entry = match reader.next_entry().map_err(read_failed)? {
            Next::Entry(e) => e,
            Next::End(end) => {
                if let End::Truncated { offset, have, need } = end {
                    progress.suspend(|| {
                        eprintln!(
                            "warning: {} at offset {offset}: the last entry is cut short ({have} of \
                             {need} bytes); the log ends there",
                            opts.file
                        )
                    });
                }
                break;
            }
        };
        let crc = check_entry(opts, &entry, out, &mut answers, &mut fixed)?;
        reader.end_of_record(&entry).map_err(read_failed)?;
        if let Some(r) = recovery.as_mut() {
            r.append(crc, &entry.payload)?;
        }
        count += 1;
    }
    if opts.mode != Mode::Json {
        writeln!(out, "EOF reached after {count} txns.")?;
    }
    if let Some(r) = recovery {
        r.finish()?;
        writeln!(out, "Recovery file {fixed_path} has been written with {fixed} fixed CRC error(s)")?;
    }
    Ok(0)
}

/// Prints one entry as the mode wants, asking about a bad checksum when recovering; returns the
/// checksum to write to the recovery file. As in the Java tool, a txn is decoded only to be
/// printed, so recovery copies an entry it cannot decode as long as its checksum is right.
fn check_entry(
    opts: &Options,
    entry: &Entry,
    out: &mut dyn Write,
    answers: &mut Answers,
    fixed: &mut u64,
) -> Result<i64, ToolError> {
    let decoded = || {
        decode::decode(&entry.payload).map_err(|e| {
            let msg = format!("{} at offset {}: cannot decode the txn: {e}", opts.file, entry.offset);
            ToolError::failed(EXIT_UNEXPECTED_ERROR, msg)
        })
    };
    let print = |out: &mut dyn Write, prefix: &str| -> Result<(), ToolError> {
        out.write_all(text::txn_text(&decoded()?, prefix).as_bytes())?;
        Ok(())
    };
    let crc_ok = entry.crc_ok();
    let mut crc = entry.stored_crc;
    match opts.mode {
        Mode::Json => {
            writeln!(out, "{}", json::txn_json(&decoded()?, entry.offset, crc_ok))?;
            return Ok(crc);
        }
        Mode::Text if !crc_ok => print(out, "CRC ERROR")?,
        Mode::Recover { yes: false, .. } if !crc_ok => {
            print(out, "CRC ERROR")?;
            if answers.ask_for_fix(out)? {
                crc = entry.computed_crc();
                *fixed += 1;
            }
        }
        Mode::Recover { yes: true, .. } if !crc_ok => {
            crc = entry.computed_crc();
            print(out, "CRC FIXED")?;
            *fixed += 1;
        }
        _ => {}
    }
    if matches!(opts.mode, Mode::Text | Mode::Recover { verbose: true, .. }) {
        print(out, "")?;
    }
    Ok(crc)
}

#[cfg(test)]
mod tests;
