//! The JSON the admin commands answer, written as ZooKeeper's `JsonOutputter` writes it: Jackson
//! with `INDENT_OUTPUT` (its `DefaultPrettyPrinter`: two-space indented objects, `"key" : value`,
//! arrays on one line as `[ a, b ]`, empty containers as `{ }` and `[ ]`), keys in insertion order
//! (the `LinkedHashMap` of `CommandResponse.toMap`), doubles as `Double.toString`.
//!
//! A small value type of its own rather than `serde_json::Value`: serde_json sorts object keys
//! unless its `preserve_order` feature is on, which would change every other JSON rzk prints.

use crate::four_letter::java;

/// A JSON value whose objects keep their keys in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// Jackson's pretty-printed text (no trailing newline, as `ObjectMapper.writeValue` leaves it).
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(v) => out.push_str(&v.to_string()),
            Json::Double(v) if v.is_finite() => out.push_str(&java::double(*v)),
            // Jackson quotes non-finite numbers (QUOTE_NON_NUMERIC_NUMBERS).
            Json::Double(v) => escape(&java::double(*v), out),
            Json::Str(s) => escape(s, out),
            Json::Arr(items) if items.is_empty() => out.push_str("[ ]"),
            Json::Arr(items) => {
                // Arrays do not indent (Jackson's FixedSpaceIndenter): `[ a, b ]`.
                out.push_str("[ ");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write(out, depth);
                }
                out.push_str(" ]");
            }
            Json::Obj(fields) if fields.is_empty() => out.push_str("{ }"),
            Json::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    escape(k, out);
                    out.push_str(" : ");
                    v.write(out, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

impl From<i64> for Json {
    fn from(v: i64) -> Json {
        Json::Int(v)
    }
}

impl From<bool> for Json {
    fn from(v: bool) -> Json {
        Json::Bool(v)
    }
}

impl From<&str> for Json {
    fn from(v: &str) -> Json {
        Json::Str(v.to_owned())
    }
}

impl From<String> for Json {
    fn from(v: String) -> Json {
        Json::Str(v)
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// A JSON string as Jackson escapes it: quotes, backslashes and control characters (short forms
/// for \b \t \n \f \r, `\u00XX` with upper-case hex otherwise); everything else as UTF-8.
fn escape(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(fields: Vec<(&str, Json)>) -> Json {
        Json::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn layout_matches_jacksons_default_pretty_printer() {
        // Shapes seen in ZooKeeper 3.8's `connections` and `dump` answers.
        let conn = obj(vec![("remote_socket_address", "127.0.0.1:39028".into()), ("interest_ops", 1.into())]);
        let v = obj(vec![
            ("connections", Json::Arr(vec![conn.clone(), conn])),
            ("secure_connections", Json::Arr(vec![])),
            ("expiry", obj(vec![("6944000", Json::Arr(vec![Json::Int(1), Json::Int(2)]))])),
            ("empty", obj(vec![])),
            ("avg", Json::Double(2.1111)),
            ("command", "connections".into()),
            ("error", Json::Null),
        ]);
        let expected = "{\n  \"connections\" : [ {\n    \"remote_socket_address\" : \"127.0.0.1:39028\",\n    \
                        \"interest_ops\" : 1\n  }, {\n    \"remote_socket_address\" : \"127.0.0.1:39028\",\n    \
                        \"interest_ops\" : 1\n  } ],\n  \"secure_connections\" : [ ],\n  \"expiry\" : {\n    \
                        \"6944000\" : [ 1, 2 ]\n  },\n  \"empty\" : { },\n  \"avg\" : 2.1111,\n  \
                        \"command\" : \"connections\",\n  \"error\" : null\n}";
        assert_eq!(v.pretty(), expected);
    }

    #[test]
    fn strings_escape_as_jackson_does() {
        let v = Json::str("a\"b\\c\nd\u{1}é");
        assert_eq!(v.pretty(), "\"a\\\"b\\\\c\\nd\\u0001é\"");
        assert_eq!(Json::Double(0.0).pretty(), "0.0");
        assert_eq!(Json::Double(f64::NAN).pretty(), "\"NaN\"");
    }

    #[test]
    fn the_output_parses_as_json() {
        let v = obj(vec![("a", Json::Arr(vec![obj(vec![("b", Json::Bool(true))])])), ("c", Json::Int(-1))]);
        let parsed: serde_json::Value = serde_json::from_str(&v.pretty()).unwrap();
        assert_eq!(parsed["a"][0]["b"], serde_json::Value::Bool(true));
        assert_eq!(parsed["c"], serde_json::json!(-1));
    }
}
