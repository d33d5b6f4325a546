//! The x509 id of a client certificate: its subject as Java's
//! `X500Principal.getName()` (RFC 2253) prints it, which is what ZooKeeper's
//! `X509AuthenticationProvider.getClientId` uses. ACLs written against ZooKeeper
//! (`x509:CN=client1,O=Acme,C=US`) must match the same certificate on rzk, so the
//! formatting follows `sun.security.x509.AVA.toRFC2253String` rule for rule:
//!
//! - RDNs in reverse order of the encoding (most specific first), joined by `,`; the
//!   attributes of a multi-valued RDN joined by `+` in encoded order;
//! - the RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID); any other type as its
//!   dotted OID, whose value is then `#` and the hex of its DER encoding, as is a value that
//!   is not a directory string;
//! - `, = + < > # ; " \` escaped with a backslash, NUL as `\00`, and leading and
//!   trailing spaces escaped.

use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The RFC 2253 keywords Java prints by name (`AVAKeyword`s marked rfc2253Compliant).
const KEYWORDS: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// Characters Java escapes anywhere in a value.
const ESCAPEES: &str = ",=+<>#;\"\\";

/// The subject of a DER certificate in RFC 2253 form, or `None` if it does not parse.
pub fn subject_rfc2253(cert_der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    Some(name_rfc2253(cert.subject()))
}

/// A distinguished name in RFC 2253 form (`X500Principal.getName()`).
pub fn name_rfc2253(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> =
        name.iter_rdn().map(|rdn| rdn.iter().map(ava_rfc2253).collect::<Vec<_>>().join("+")).collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn ava_rfc2253(ava: &AttributeTypeAndValue<'_>) -> String {
    let oid = ava.attr_type().to_id_string();
    let keyword = KEYWORDS.iter().find(|(o, _)| *o == oid).map(|(_, k)| *k);
    let value = ava.attr_value();
    match (keyword, directory_string(value)) {
        (Some(k), Some(text)) => format!("{k}={}", escape(&text)),
        (k, _) => format!("{}=#{}", k.unwrap_or(&oid), hex(&der_of(value))),
    }
}

/// The text of a value of one of the types Java's `isDerString(value, false)` accepts.
fn directory_string(v: &Any<'_>) -> Option<String> {
    if v.header.class() != Class::Universal || v.header.is_constructed() {
        return None;
    }
    let t = v.header.tag();
    if t == Tag::PrintableString || t == Tag::Utf8String || t == Tag::Ia5String {
        String::from_utf8(v.data.to_vec()).ok()
    } else if t == Tag::T61String || t == Tag::GeneralString {
        // Java reads these as ISO-8859-1.
        Some(v.data.iter().map(|&b| b as char).collect())
    } else if t == Tag::BmpString {
        if !v.data.len().is_multiple_of(2) {
            return None;
        }
        let units: Vec<u16> = v.data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).ok()
    } else {
        None
    }
}

fn escape(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if ESCAPEES.contains(c) {
            s.push('\\');
            s.push(c);
        } else if c == '\0' {
            s.push_str("\\00");
        } else {
            s.push(c);
        }
    }
    // Leading and trailing spaces (and CRs) are escaped, as Java does after the pass above.
    let chars: Vec<char> = s.chars().collect();
    let blank = |c: &char| *c == ' ' || *c == '\r';
    let lead = chars.iter().take_while(|c| blank(c)).count();
    let trail = chars.iter().rev().take_while(|c| blank(c)).count();
    if lead == 0 && trail == 0 {
        return s;
    }
    let mut out = String::with_capacity(s.len() + lead + trail);
    for (i, c) in chars.iter().enumerate() {
        if i < lead || i >= chars.len() - trail {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

/// The DER encoding of a value (identifier, length, contents), as `DerValue.toByteArray`.
fn der_of(v: &Any<'_>) -> Vec<u8> {
    let class_bits = match v.header.class() {
        Class::Universal => 0x00,
        Class::Application => 0x40,
        Class::ContextSpecific => 0x80,
        Class::Private => 0xc0,
    };
    let constructed = if v.header.is_constructed() { 0x20 } else { 0 };
    let tag = v.header.tag().0;
    let mut out = Vec::with_capacity(v.data.len() + 8);
    if tag < 31 {
        out.push(class_bits | constructed | tag as u8);
    } else {
        out.push(class_bits | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().enumerate().rev() {
            out.push(if i == 0 { *g } else { *g | 0x80 });
        }
    }
    let len = v.data.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(v.data);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> Vec<u8> {
        let pem = std::fs::read(crate::tls::stores::testdata(name)).expect("fixture");
        let mut rd = std::io::Cursor::new(pem);
        let (_, der) = rustls_pki_types::pem::from_buf(&mut rd).expect("pem").expect("one item");
        der
    }

    #[test]
    fn simple_subject_most_specific_first() {
        // openssl -subj "/C=US/O=Acme/CN=client1"
        assert_eq!(subject_rfc2253(&cert("client1.crt")).as_deref(), Some("CN=client1,O=Acme,C=US"));
    }

    #[test]
    fn tricky_subject_as_java_prints_it() {
        // openssl -subj "/DC=org/DC=example/O=Acme\, Inc./OU=a+OU=b/ST=Some State/emailAddress=x@y.z/CN= lead#"
        // -multivalue-rdn; Java 17's X500Principal.getName() prints the line below (checked by
        // the tls compat test, which asks Java for the fixtures' names).
        let want = "CN=\\ lead\\#,1.2.840.113549.1.9.1=#1605784079\
                    2e7a,ST=Some State,OU=a+OU=b,O=Acme\\, Inc.,DC=example,DC=org";
        assert_eq!(subject_rfc2253(&cert("tricky.crt")).as_deref(), Some(want));
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a,b=c"), "a\\,b\\=c");
        assert_eq!(escape("  x "), "\\ \\ x\\ ");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape("a\0b"), "a\\00b");
        assert_eq!(escape("héllo"), "héllo");
    }
}
