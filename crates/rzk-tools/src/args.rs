//! A small command-line reader. The tools accept both rzk's flags and the Java tools' own
//! (`-json`, `-l A -r B`, PurgeTxnLog's positional `dataLogDir [snapDir] -n N`), which a
//! derive-based parser would not express without contortions.

use crate::error::ToolError;

/// The arguments of one command, consumed front to back.
pub struct Args<'a> {
    items: &'a [String],
    pos: usize,
    usage: &'static str,
}

impl<'a> Args<'a> {
    pub fn new(items: &'a [String], usage: &'static str) -> Args<'a> {
        Args { items, pos: 0, usage }
    }

    /// The next argument, if any.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'a str> {
        let item = self.items.get(self.pos)?;
        self.pos += 1;
        Some(item.as_str())
    }

    /// The value after `flag` (`-n 3`), or a usage error naming the flag.
    pub fn value(&mut self, flag: &str) -> Result<&'a str, ToolError> {
        self.next().ok_or_else(|| self.error(format!("Missing argument for option: {flag}")))
    }

    /// A usage error with this command's usage text.
    pub fn error(&self, message: impl Into<String>) -> ToolError {
        ToolError::usage(message, self.usage)
    }
}

/// `Integer.parseInt`: an optional sign and decimal digits, within `i32`.
pub fn parse_java_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_ints() {
        assert_eq!(parse_java_int("3"), Some(3));
        assert_eq!(parse_java_int("-12"), Some(-12));
        assert_eq!(parse_java_int("+7"), Some(7));
        assert_eq!(parse_java_int(""), None);
        assert_eq!(parse_java_int("3x"), None);
        assert_eq!(parse_java_int("99999999999"), None);
    }
}
