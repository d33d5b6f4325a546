//! The few `java.lang` behaviours that decide whether ZooKeeper accepts a setting: `String.trim`,
//! `String.split` on one character, `Integer.parseInt`/`Long.parseLong`, `Integer.decode` (behind
//! `Integer.getInteger` and `Long.getLong`) and `Boolean.parseBoolean`. Copying them exactly keeps
//! rzk accepting the same files, and rejecting the same ones, as ZooKeeper.
//!
//! One known gap: Java's digit parsing also accepts non-ASCII Unicode decimal digits (which can only
//! reach a value through a `\uXXXX` escape); these helpers accept ASCII digits only.

use std::fmt;

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// Not a number at all (empty, stray characters, a lone sign).
    NotANumber,
    /// Digits only, but outside the range of the Java type.
    OutOfRange,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::NotANumber => f.write_str("not an integer"),
            NumberError::OutOfRange => f.write_str("integer out of range"),
        }
    }
}

/// `String.trim()`: strips every leading and trailing char at or below U+0020 (not just spaces).
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `String.split(String.valueOf(sep))`: like `str::split`, but trailing empty pieces are dropped,
/// and a string without `sep` gives itself (so `""` gives `[""]`, while `":"` gives `[]`).
pub fn split(s: &str, sep: char) -> Vec<&str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// `Boolean.parseBoolean`: true exactly when the text is "true" in any case.
pub fn parse_boolean(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

/// `Integer.parseInt(s)`.
pub fn parse_int(s: &str) -> Result<i32, NumberError> {
    let v = parse_radix(s, 10)?;
    i32::try_from(v).map_err(|_| NumberError::OutOfRange)
}

/// `Long.parseLong(s)`.
pub fn parse_long(s: &str) -> Result<i64, NumberError> {
    let v = parse_radix(s, 10)?;
    i64::try_from(v).map_err(|_| NumberError::OutOfRange)
}

/// `Long.parseLong(s, 16)`, used for the `version` of a dynamic configuration.
pub fn parse_long_hex(s: &str) -> Result<i64, NumberError> {
    let v = parse_radix(s, 16)?;
    i64::try_from(v).map_err(|_| NumberError::OutOfRange)
}

/// `Integer.decode(s)`: an optional sign, then `0x`/`0X`/`#` for hex, a leading `0` for octal,
/// or decimal. `Integer.getInteger` returns its default when this fails.
pub fn decode_int(s: &str) -> Result<i32, NumberError> {
    let v = decode(s)?;
    i32::try_from(v).map_err(|_| NumberError::OutOfRange)
}

/// `Long.decode(s)`, behind `Long.getLong`.
pub fn decode_long(s: &str) -> Result<i64, NumberError> {
    let v = decode(s)?;
    i64::try_from(v).map_err(|_| NumberError::OutOfRange)
}

fn decode(s: &str) -> Result<i128, NumberError> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err(NumberError::NotANumber),
    };
    let (radix, digits) = if let Some(d) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = rest.strip_prefix('#') {
        (16, d)
    } else if rest.len() > 1 && rest.starts_with('0') {
        (8, &rest[1..])
    } else {
        (10, rest)
    };
    // Java: "Sign character in wrong position".
    if digits.starts_with('-') || digits.starts_with('+') {
        return Err(NumberError::NotANumber);
    }
    let magnitude = parse_digits(digits, radix)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Sign and digits, with a magnitude kept in an i128 so that callers can range-check for their
/// Java type; anything longer than an i64 could hold is out of range for every caller.
fn parse_radix(s: &str, radix: u32) -> Result<i128, NumberError> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err(NumberError::NotANumber),
    };
    let magnitude = parse_digits(digits, radix)?;
    Ok(if negative { -magnitude } else { magnitude })
}

fn parse_digits(digits: &str, radix: u32) -> Result<i128, NumberError> {
    if digits.is_empty() {
        return Err(NumberError::NotANumber);
    }
    let mut value: i128 = 0;
    let mut too_big = false;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or(NumberError::NotANumber)?;
        if !too_big {
            value = value * i128::from(radix) + i128::from(d);
            // Well past i64 range: remember, but keep checking that the rest are digits, as Java
            // reports a stray character before an overflow only when it comes first; either way
            // it is a NumberFormatException, so the distinction is for the message only.
            too_big = value > i128::from(u64::MAX);
        }
    }
    if too_big {
        return Err(NumberError::OutOfRange);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_strips_control_characters_like_java() {
        assert_eq!(trim(" \t\u{1}a b\u{0}\r\n"), "a b");
        assert_eq!(trim("\u{a0}x\u{a0}"), "\u{a0}x\u{a0}"); // NBSP is above U+0020
    }

    #[test]
    fn split_drops_trailing_empties_like_java() {
        assert_eq!(split("a:b:c", ':'), ["a", "b", "c"]);
        assert_eq!(split("a:b::", ':'), ["a", "b"]);
        assert_eq!(split(":a", ':'), ["", "a"]);
        assert_eq!(split("a::b", ':'), ["a", "", "b"]);
        assert_eq!(split("", ':'), [""]);
        assert_eq!(split(":::", ':'), Vec::<&str>::new());
        assert_eq!(split("abc", ':'), ["abc"]);
    }

    #[test]
    fn parse_int_matches_integer_parse_int() {
        assert_eq!(parse_int("2181"), Ok(2181));
        assert_eq!(parse_int("+5"), Ok(5));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert_eq!(parse_int("007"), Ok(7));
        assert_eq!(parse_int("2147483647"), Ok(i32::MAX));
        assert_eq!(parse_int("-2147483648"), Ok(i32::MIN));
        assert_eq!(parse_int("2147483648"), Err(NumberError::OutOfRange));
        assert_eq!(parse_int("99999999999999999999999999"), Err(NumberError::OutOfRange));
        for bad in ["", "+", "-", "0x10", "1 ", " 1", "1_000", "1.0", "abc", "--1", "+-1"] {
            assert_eq!(parse_int(bad), Err(NumberError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn parse_long_matches_long_parse_long() {
        assert_eq!(parse_long("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_long("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_long("9223372036854775808"), Err(NumberError::OutOfRange));
        assert_eq!(parse_long_hex("100000000"), Ok(0x1_0000_0000));
        assert_eq!(parse_long_hex("ffFF"), Ok(0xffff));
        assert_eq!(parse_long_hex("0x10"), Err(NumberError::NotANumber));
    }

    #[test]
    fn decode_matches_integer_decode() {
        assert_eq!(decode_int("0xfffff"), Ok(0xfffff));
        assert_eq!(decode_int("0X10"), Ok(16));
        assert_eq!(decode_int("#10"), Ok(16));
        assert_eq!(decode_int("010"), Ok(8));
        assert_eq!(decode_int("0"), Ok(0));
        assert_eq!(decode_int("-0x10"), Ok(-16));
        assert_eq!(decode_int("+10"), Ok(10));
        assert_eq!(decode_int("-2147483648"), Ok(i32::MIN));
        assert_eq!(decode_int("0x80000000"), Err(NumberError::OutOfRange));
        for bad in ["", "08", "0x", "-", "0x-1", "- 1", " 1", "1 ", "1e3", "0b1"] {
            assert!(decode_int(bad).is_err(), "{bad:?}");
        }
        assert_eq!(decode_long("0x7fffffffffffffff"), Ok(i64::MAX));
    }

    #[test]
    fn parse_boolean_is_true_only_for_true() {
        assert!(parse_boolean("true"));
        assert!(parse_boolean("TRUE"));
        assert!(parse_boolean("tRuE"));
        for other in ["yes", "1", "on", " true", "", "false"] {
            assert!(!parse_boolean(other), "{other:?}");
        }
    }
}
