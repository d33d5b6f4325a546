//! `Record.toString()` of jute records: jute's `ToStringOutputArchive` (CSV-like), which
//! TxnLogToolkit prints for most txns. Its quirks are kept on purpose: a string is a quote and
//! the escaped text with no closing quote (`'/a`), a buffer is `#` and `Integer.toHexString` of
//! each signed byte (`#ffffff80` for 0x80), nested records are `s{...}`, vectors `v{...}`, and a
//! top-level record ends with a newline.

use rzk_proto::{Acl, Id};

/// A `ToStringOutputArchive` writing into a string.
pub struct ToStringArchive {
    out: String,
    first: bool,
}

impl Default for ToStringArchive {
    fn default() -> Self {
        ToStringArchive { out: String::new(), first: true }
    }
}

impl ToStringArchive {
    fn comma_unless_first(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    pub fn long(&mut self, v: i64) {
        self.comma_unless_first();
        self.out.push_str(&v.to_string());
    }

    pub fn int(&mut self, v: i32) {
        self.long(i64::from(v));
    }

    pub fn bool(&mut self, v: bool) {
        self.comma_unless_first();
        self.out.push(if v { 'T' } else { 'F' });
    }

    /// `writeString`: a null string prints nothing at all.
    pub fn string(&mut self, s: Option<&str>) {
        self.comma_unless_first();
        if let Some(s) = s {
            self.out.push('\'');
            for c in s.chars() {
                match c {
                    '\0' => self.out.push_str("%00"),
                    '\n' => self.out.push_str("%0A"),
                    '\r' => self.out.push_str("%0D"),
                    ',' => self.out.push_str("%2C"),
                    '}' => self.out.push_str("%7D"),
                    '%' => self.out.push_str("%25"),
                    c => self.out.push(c),
                }
            }
        }
    }

    pub fn buffer(&mut self, b: Option<&[u8]>) {
        self.comma_unless_first();
        if let Some(b) = b.filter(|b| !b.is_empty()) {
            self.out.push('#');
            for byte in b {
                // Integer.toHexString(byte): the sign-extended int.
                self.out.push_str(&format!("{:x}", i32::from(*byte as i8) as u32));
            }
        }
    }

    /// `startRecord`: only a nested record (non-empty tag) opens `s{`.
    pub fn start_record(&mut self, tag: &str) {
        if !tag.is_empty() {
            self.comma_unless_first();
            self.out.push_str("s{");
            self.first = true;
        }
    }

    /// `endRecord`: a nested record closes `}`, the top-level one ends the line.
    pub fn end_record(&mut self, tag: &str) {
        if tag.is_empty() {
            self.out.push('\n');
            self.first = true;
        } else {
            self.out.push('}');
            self.first = false;
        }
    }

    pub fn start_vector(&mut self) {
        self.comma_unless_first();
        self.out.push_str("v{");
        self.first = true;
    }

    pub fn end_vector(&mut self) {
        self.out.push('}');
        self.first = false;
    }

    pub fn id(&mut self, id: &Id, tag: &str) {
        self.start_record(tag);
        self.string(Some(&id.scheme));
        self.string(Some(&id.id));
        self.end_record(tag);
    }

    pub fn acl(&mut self, acl: &Acl, tag: &str) {
        self.start_record(tag);
        self.int(acl.perms);
        self.id(&acl.id, "id");
        self.end_record(tag);
    }

    /// A `vector<ACL>` field (its elements are written with the tag `e1`).
    pub fn acl_vector(&mut self, acls: &[Acl]) {
        self.start_vector();
        for a in acls {
            self.acl(a, "e1");
        }
        self.end_vector();
    }

    pub fn string_vector(&mut self, items: &[String]) {
        self.start_vector();
        for s in items {
            self.string(Some(s));
        }
        self.end_vector();
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A top-level record's `toString()`: `fields` writes the fields, then the line ends.
pub fn record(fields: impl FnOnce(&mut ToStringArchive)) -> String {
    let mut a = ToStringArchive::default();
    a.start_record("");
    fields(&mut a);
    a.end_record("");
    a.finish()
}

/// `List<ACL>.toString()`: each ACL's own `toString()` (newline included), `, ` between.
pub fn acl_list(acls: &[Acl]) -> String {
    let items: Vec<String> = acls
        .iter()
        .map(|a| {
            record(|r| {
                r.int(a.perms);
                r.id(&a.id, "id");
            })
        })
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_left_open() {
        let s = record(|r| {
            r.string(Some("/a,b}c%d\ne"));
            r.int(-1);
        });
        assert_eq!(s, "'/a%2Cb%7Dc%25d%0Ae,-1\n");
    }

    #[test]
    fn acls_nest_as_java_prints_them() {
        let acls = vec![Acl::new(1, "world", "anyone"), Acl::new(31, "digest", "u:h=")];
        assert_eq!(record(|r| r.acl_vector(&acls)), "v{s{1,s{'world,'anyone}},s{31,s{'digest,'u:h=}}}\n");
        assert_eq!(acl_list(&acls), "[1,s{'world,'anyone}\n, 31,s{'digest,'u:h=}\n]");
        assert_eq!(acl_list(&[]), "[]");
    }

    #[test]
    fn buffers_print_signed_hex_bytes() {
        assert_eq!(record(|r| r.buffer(Some(&[5, 0x80, 0xff]))), "#5ffffff80ffffffff\n");
        assert_eq!(record(|r| r.buffer(Some(&[]))), "\n");
        assert_eq!(record(|r| r.bool(true)), "T\n");
    }
}
