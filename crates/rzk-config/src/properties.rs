//! `java.util.Properties.load(InputStream)`, byte for byte: the format of `zoo.cfg`, of the
//! dynamic configuration file, and of `java.env`-style files.
//!
//! The reading follows the JDK's `Properties.LineReader` and `loadConvert`: bytes are ISO-8859-1
//! characters; a natural line ends at LF, CR or CRLF; leading spaces, tabs and form feeds of each
//! natural line are skipped; a line whose first such character is `#` or `!` is a comment; an odd
//! number of backslashes at the end of a line joins the next one (whose leading whitespace is
//! dropped); the key ends at the first unescaped `=`, `:`, space, tab or form feed; and escapes
//! `\t \n \r \f \uXXXX` are decoded while `\x` gives `x`. The only failure is a malformed `\uXXXX`,
//! which Java reports as an `IllegalArgumentException` (so ZooKeeper refuses the file).
//!
//! Beyond Java, each entry keeps the 1-based line where it started, for error messages, and
//! entries keep the order of first appearance (Java's `Properties` has none). A repeated key keeps
//! its first position and takes the last value and line, as Java's last `put` wins. A `\uXXXX`
//! escape that leaves a lone UTF-16 surrogate becomes U+FFFD, the only value Rust's `String` cannot
//! hold.

use std::collections::HashMap;
use std::fmt;

/// One `key=value` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The key, unescaped, exactly as Java's `Properties` holds it (not trimmed).
    pub key: String,
    /// The value, unescaped, with the trailing whitespace Java keeps.
    pub value: String,
    /// The 1-based line number where the entry started.
    pub line: u32,
}

/// A loaded properties file, in order of first appearance, keys unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<Property>,
    index: HashMap<String, usize>,
}

/// The one way `Properties.load` fails: a `\u` not followed by four hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertiesError {
    /// The 1-based line where the offending entry started.
    pub line: u32,
}

impl fmt::Display for PropertiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed \\uxxxx encoding")
    }
}

impl std::error::Error for PropertiesError {}

impl Properties {
    /// Parses the bytes of a properties file as `Properties.load(InputStream)` does.
    pub fn parse(bytes: &[u8]) -> Result<Properties, PropertiesError> {
        let mut props = Properties::default();
        let mut reader = LineReader { bytes, pos: 0, line: 1 };
        while let Some(logical) = reader.read_line() {
            let (key, value) =
                split_key_value(&logical.chars).map_err(|()| PropertiesError { line: logical.start_line })?;
            props.insert(key, value, logical.start_line);
        }
        Ok(props)
    }

    /// Sets `key` to `value` (as `Properties.put`): a new key goes last, an existing one keeps
    /// its place and takes the new value and line.
    pub fn insert(&mut self, key: String, value: String, line: u32) {
        if let Some(&i) = self.index.get(&key) {
            self.entries[i].value = value;
            self.entries[i].line = line;
        } else {
            self.index.insert(key.clone(), self.entries.len());
            self.entries.push(Property { key, value, line });
        }
    }

    /// The entry for `key` (exact, untrimmed match, like `Properties.getProperty`).
    pub fn get(&self, key: &str) -> Option<&Property> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    /// Whether `key` is present (exact match, like `Properties.containsKey`).
    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// The entries in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = &Property> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A logical line: its characters (ISO-8859-1, so one byte each) and where it started.
struct LogicalLine {
    chars: Vec<u8>,
    start_line: u32,
}

/// `Properties.LineReader.readLine`, over a byte slice instead of a refilled buffer.
struct LineReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The 1-based number of the natural line that `pos` is on.
    line: u32,
}

impl LineReader<'_> {
    /// Consumes one byte, counting line breaks (CRLF counts once, at the LF).
    fn next_byte(&mut self) -> Option<u8> {
        let c = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let crlf = c == b'\r' && self.bytes.get(self.pos) == Some(&b'\n');
        if c == b'\n' || (c == b'\r' && !crlf) {
            self.line += 1;
        }
        Some(c)
    }

    fn read_line(&mut self) -> Option<LogicalLine> {
        let mut chars: Vec<u8> = Vec::new();
        let mut start_line = self.line;
        let mut skip_white_space = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        loop {
            let Some(c) = self.next_byte() else {
                return self.end_of_input(chars, start_line, preceding_backslash);
            };
            if skip_white_space {
                if c == b' ' || c == b'\t' || c == 0x0c {
                    continue;
                }
                if !appended_line_begin && (c == b'\r' || c == b'\n') {
                    continue;
                }
                skip_white_space = false;
                appended_line_begin = false;
            }
            if chars.is_empty() && (c == b'#' || c == b'!') {
                if !self.skip_comment() {
                    return None; // Java returns "no more lines" when a comment meets EOF.
                }
                skip_white_space = true;
                continue;
            }
            if c != b'\n' && c != b'\r' {
                if chars.is_empty() {
                    // `c` is not a line break, so `line` is still the line it was on.
                    start_line = self.line;
                }
                chars.push(c);
                preceding_backslash = c == b'\\' && !preceding_backslash;
                continue;
            }
            // End of a natural line.
            if chars.is_empty() {
                skip_white_space = true;
                continue;
            }
            if self.pos >= self.bytes.len() {
                return self.end_of_input(chars, start_line, preceding_backslash);
            }
            if !preceding_backslash {
                return Some(LogicalLine { chars, start_line });
            }
            // A continuation: the backslash is not part of the line, the next line's leading
            // whitespace is skipped, and a CRLF counts as one break.
            chars.pop();
            skip_white_space = true;
            appended_line_begin = true;
            preceding_backslash = false;
            if c == b'\r' && self.bytes.get(self.pos) == Some(&b'\n') {
                self.next_byte();
            }
        }
    }

    /// At EOF: the pending line, minus a trailing continuation backslash, if anything is pending.
    fn end_of_input(
        &self,
        mut chars: Vec<u8>,
        start_line: u32,
        preceding_backslash: bool,
    ) -> Option<LogicalLine> {
        if chars.is_empty() {
            return None;
        }
        if preceding_backslash {
            chars.pop();
        }
        Some(LogicalLine { chars, start_line })
    }

    /// Consumes a comment through its line break; false if the input ended first.
    fn skip_comment(&mut self) -> bool {
        while let Some(c) = self.next_byte() {
            if c == b'\r' || c == b'\n' {
                return true;
            }
        }
        false
    }
}

/// `Properties.load0`'s split of a logical line into key and value, then `loadConvert` on each.
fn split_key_value(line: &[u8]) -> Result<(String, String), ()> {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == b'=' || c == b':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if (c == b' ' || c == b'\t' || c == 0x0c) && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = c == b'\\' && !preceding_backslash;
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if c != b' ' && c != b'\t' && c != 0x0c {
            if !has_sep && (c == b'=' || c == b':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    let key = load_convert(line, 0, key_len)?;
    let value = load_convert(line, value_start, limit)?;
    Ok((key, value))
}

/// `Properties.loadConvert`: decodes escapes in `line[off..end]`. Like Java, the character after a
/// backslash is read even at `end` (it can only be there when the line buffer holds it).
fn load_convert(line: &[u8], mut off: usize, end: usize) -> Result<String, ()> {
    let mut out: Vec<u16> = Vec::with_capacity(end.saturating_sub(off));
    while off < end {
        let c = line[off];
        off += 1;
        if c != b'\\' {
            out.push(u16::from(c));
            continue;
        }
        let Some(&e) = line.get(off) else { break };
        off += 1;
        if e == b'u' {
            if end < 4 || off > end - 4 {
                return Err(());
            }
            let mut value: u16 = 0;
            for &h in &line[off..off + 4] {
                let digit = char::from(h).to_digit(16).ok_or(())?;
                // Four hex digits fit a u16 exactly.
                value = (value << 4) | digit as u16;
            }
            off += 4;
            out.push(value);
        } else {
            let decoded = match e {
                b't' => b'\t',
                b'r' => b'\r',
                b'n' => b'\n',
                b'f' => 0x0c,
                other => other,
            };
            out.push(u16::from(decoded));
        }
    }
    Ok(String::from_utf16_lossy(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, String, u32)> {
        let bytes: Vec<u8> = text.chars().map(|c| c as u8).collect();
        Properties::parse(&bytes)
            .expect("test input is well formed")
            .iter()
            .map(|p| (p.key.clone(), p.value.clone(), p.line))
            .collect()
    }

    fn kv(k: &str, v: &str, line: u32) -> (String, String, u32) {
        (k.to_string(), v.to_string(), line)
    }

    #[test]
    fn separators() {
        assert_eq!(
            parse("a=1\nb:2\nc 3\nd\t4\ne = 5\nf := 6\ng\n"),
            [
                kv("a", "1", 1),
                kv("b", "2", 2),
                kv("c", "3", 3),
                kv("d", "4", 4),
                kv("e", "5", 5),
                kv("f", "= 6", 6),
                kv("g", "", 7)
            ]
        );
    }

    #[test]
    fn value_keeps_trailing_whitespace_and_key_skips_leading() {
        assert_eq!(parse("   key = value  \n"), [kv("key", "value  ", 1)]);
    }

    #[test]
    fn comments_and_blank_lines() {
        assert_eq!(
            parse("# c\n! c\n\n   \n  # indented\nk=v # not a comment\n"),
            [kv("k", "v # not a comment", 6)]
        );
    }

    #[test]
    fn continuation_drops_leading_whitespace_and_counts_lines() {
        assert_eq!(
            parse("a=one \\\n    two\\\r\n\tthree\nb=x\n"),
            [kv("a", "one twothree", 1), kv("b", "x", 4)]
        );
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        assert_eq!(parse("a=x\\\\\nb=y\n"), [kv("a", "x\\", 1), kv("b", "y", 2)]);
    }

    #[test]
    fn last_line_with_backslash_and_no_newline_is_kept() {
        assert_eq!(parse("a=1\nb=2\\"), [kv("a", "1", 1), kv("b", "2", 2)]);
    }

    #[test]
    fn escapes() {
        assert_eq!(parse("k\\=e\\ y=\\t\\n\\r\\f\\u0041\\z\\\\\n"), [kv("k=e y", "\t\n\r\u{c}Az\\", 1)]);
    }

    #[test]
    fn cr_and_crlf_line_endings() {
        assert_eq!(
            parse("a=1\rb=2\r\nc=3\n\rd=4"),
            [kv("a", "1", 1), kv("b", "2", 2), kv("c", "3", 3), kv("d", "4", 5)]
        );
    }

    #[test]
    fn duplicate_keys_last_value_wins_first_position_kept() {
        assert_eq!(parse("a=1\nb=2\na=3\n"), [kv("a", "3", 3), kv("b", "2", 2)]);
    }

    #[test]
    fn latin1_bytes_are_characters() {
        let props = Properties::parse(b"k=caf\xe9\xff\n").expect("well formed");
        assert_eq!(props.get("k").map(|p| p.value.as_str()), Some("caf\u{e9}\u{ff}"));
    }

    #[test]
    fn malformed_unicode_escape_is_an_error_with_line() {
        assert_eq!(Properties::parse(b"a=1\nb=\\u12\n"), Err(PropertiesError { line: 2 }));
        assert_eq!(Properties::parse(b"a=1\n\nb=\\u12zz\n"), Err(PropertiesError { line: 3 }));
    }

    #[test]
    fn comment_after_continuation_of_an_empty_line() {
        // "\" alone continues into an empty logical line, so '#' on the next line starts a comment.
        assert_eq!(parse("\\\n#x=y\nk=v"), [kv("k", "v", 3)]);
    }

    #[test]
    fn start_line_skips_blank_and_comment_lines() {
        assert_eq!(parse("\n\n# c\n   k=v\n"), [kv("k", "v", 4)]);
    }
}
