//! SnapshotFormatter's `-json` form: the tree in ncdu's export format (`ncdu -f`), so that
//! `ncdu` can browse where the data is. Byte for byte as the Java tool writes it: no newline at
//! the end, `ino` counting from 1001, names escaped as Jackson's `JsonStringEncoder` does.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use super::view::SnapshotView;

/// Jackson's `quoteAsString`: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`.
pub fn quote_as_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

enum Step {
    Open(String),
    Close,
}

/// `printSnapshotJson`, with `timestamp_ms` for the header.
pub fn print_json(view: &SnapshotView, out: &mut dyn Write, timestamp_ms: u128) -> std::io::Result<()> {
    write!(
        out,
        "[1,0,{{\"progname\":\"SnapshotFormatter.java\",\"progver\":\"0.01\",\"timestamp\":{timestamp_ms}}}"
    )?;
    let mut inode = 1000u64;
    let mut stack = vec![Step::Open("/".to_owned())];
    while let Some(step) = stack.pop() {
        let path = match step {
            Step::Close => {
                write!(out, "]")?;
                continue;
            }
            Step::Open(p) => p,
        };
        let Some(n) = view.node(&path) else { continue };
        let name = if path == "/" { "/" } else { path.rsplit('/').next().unwrap_or_default() };
        inode += 1;
        let len = n.data_len();
        let obj = format!(
            "{{\"name\":\"{}\",\"asize\":{len},\"dsize\":{len},\"dev\":0,\"ino\":{inode}}}",
            quote_as_string(name)
        );
        write!(out, ",")?;
        if n.children.is_empty() {
            write!(out, "{obj}")?;
        } else {
            write!(out, "[{obj}")?;
            stack.push(Step::Close);
            let kids: Vec<String> = n.children.iter().map(|c| SnapshotView::child_path(&path, c)).collect();
            stack.extend(kids.into_iter().rev().map(Step::Open));
        }
    }
    write!(out, "]")
}

/// Now, in ms since the epoch (`System.currentTimeMillis()`).
pub fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_as_jackson_does() {
        assert_eq!(quote_as_string("a\"b\\c/d"), "a\\\"b\\\\c/d");
        assert_eq!(quote_as_string("\n\t\u{1}\u{7f}é"), "\\n\\t\\u0001\u{7f}é");
    }
}
