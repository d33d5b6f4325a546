//! Java KeyStore (`.jks`, magic `0xFEEDFEED`) files, read as `sun.security.provider.JavaKeyStore`
//! writes them: private-key entries (a PKCS#8 key under Sun's proprietary `KeyProtector`
//! scheme, with its certificate chain) and trusted-certificate entries, closed by a SHA-1
//! digest keyed with the store password. Only reading is needed: ZooKeeper deployments that
//! already have JKS stores must be able to point rzk at them unchanged.
//!
//! Every length is checked against the bytes that remain, so a truncated or hostile file fails
//! with an error instead of allocating or panicking.

use sha1::{Digest, Sha1};

/// `JavaKeyStore.MAGIC`.
const MAGIC: u32 = 0xfeed_feed;
/// JCEKS stores (`0xCECECECE`) are another format; named so the error can say so.
const JCEKS_MAGIC: u32 = 0xcece_cece;
const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
/// The salt (and each keystream block) of `KeyProtector`: one SHA-1 digest.
const SHA1_BYTES: usize = 20;
/// `KeyProtector.KEY_PROTECTOR_OID` (1.3.6.1.4.1.42.2.17.1.1), DER-encoded contents.
const KEY_PROTECTOR_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01];
/// Entries in one store before it is refused as implausible.
const ENTRIES_MAX: u32 = 10_000;
/// Certificates in one chain before it is refused as implausible.
const CHAIN_CERTS_MAX: u32 = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JksError {
    #[error("not a JKS key store (JCEKS stores are not supported)")]
    Jceks,
    #[error("not a JKS key store")]
    BadMagic,
    #[error("JKS key store truncated or malformed ({0})")]
    Malformed(&'static str),
    #[error("Keystore was tampered with, or password was incorrect")]
    BadPassword,
    #[error("cannot recover the key of JKS entry '{0}' (wrong password?)")]
    BadKeyPassword(String),
}

/// What a JKS file holds.
#[derive(Debug, Default)]
pub struct Jks {
    /// Private keys (PKCS#8 DER) with their certificate chains (DER, leaf first), by alias.
    pub keys: Vec<(String, Vec<u8>, Vec<Vec<u8>>)>,
    /// Trusted certificates (DER), by alias.
    pub trusted: Vec<(String, Vec<u8>)>,
}

/// Big-endian reads over a byte slice that never run past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], JksError> {
        let end =
            self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or(JksError::Malformed(what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, JksError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, JksError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// `DataInput.readUTF`: a u16 length and modified UTF-8 (read leniently as UTF-8).
    fn utf(&mut self, what: &'static str) -> Result<String, JksError> {
        let n = self.u16(what)? as usize;
        Ok(String::from_utf8_lossy(self.take(n, what)?).into_owned())
    }
    fn bytes(&mut self, what: &'static str) -> Result<Vec<u8>, JksError> {
        let n = self.u32(what)? as usize;
        Ok(self.take(n, what)?.to_vec())
    }
}

/// The password as Java feeds it to the digests: each UTF-16 unit big-endian.
fn password_bytes(password: &str) -> Vec<u8> {
    password.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

/// Parses a JKS store, checking its integrity digest with `password` (as `KeyStore.load` does
/// whenever a password is given; ZooKeeper always gives one, "" by default).
pub fn parse(data: &[u8], password: &str) -> Result<Jks, JksError> {
    if data.len() < SHA1_BYTES + 12 {
        return Err(JksError::Malformed("too short"));
    }
    let (body, digest) = data.split_at(data.len() - SHA1_BYTES);
    let mut c = Cursor { buf: body, pos: 0 };
    match c.u32("magic")? {
        MAGIC => {}
        JCEKS_MAGIC => return Err(JksError::Jceks),
        _ => return Err(JksError::BadMagic),
    }
    let version = c.u32("version")?;
    if version != 1 && version != 2 {
        return Err(JksError::Malformed("unknown version"));
    }
    let pw = password_bytes(password);
    let mut md = Sha1::new();
    md.update(&pw);
    md.update(b"Mighty Aphrodite");
    md.update(body);
    if md.finalize().as_slice() != digest {
        return Err(JksError::BadPassword);
    }
    let count = c.u32("entry count")?;
    if count > ENTRIES_MAX {
        return Err(JksError::Malformed("too many entries"));
    }
    let mut out = Jks::default();
    for _ in 0..count {
        let tag = c.u32("entry tag")?;
        let alias = c.utf("alias")?;
        c.take(8, "timestamp")?;
        match tag {
            TAG_PRIVATE_KEY => {
                let protected = c.bytes("protected key")?;
                let n = c.u32("chain length")?;
                if n > CHAIN_CERTS_MAX {
                    return Err(JksError::Malformed("chain too long"));
                }
                let mut chain = Vec::new();
                for _ in 0..n {
                    chain.push(cert(&mut c, version)?);
                }
                let key =
                    recover_key(&protected, &pw).ok_or_else(|| JksError::BadKeyPassword(alias.clone()))?;
                out.keys.push((alias, key, chain));
            }
            TAG_TRUSTED_CERT => {
                let der = cert(&mut c, version)?;
                out.trusted.push((alias, der));
            }
            _ => return Err(JksError::Malformed("unknown entry tag")),
        }
    }
    Ok(out)
}

fn cert(c: &mut Cursor<'_>, version: u32) -> Result<Vec<u8>, JksError> {
    if version == 2 {
        let kind = c.utf("certificate type")?;
        if kind != "X.509" {
            return Err(JksError::Malformed("certificate type is not X.509"));
        }
    }
    c.bytes("certificate")
}

/// `KeyProtector.recover`: the PKCS#8 key inside an `EncryptedPrivateKeyInfo` whose data is
/// salt ‖ (key ⊕ keystream) ‖ SHA-1(password ‖ key), the keystream being successive
/// SHA-1(password ‖ previous block) blocks starting from the salt.
fn recover_key(epki: &[u8], pw: &[u8]) -> Option<Vec<u8>> {
    let (seq, _) = der_tlv(epki, 0x30)?;
    let (alg, rest) = der_tlv(seq, 0x30)?;
    let (oid, _) = der_tlv(alg, 0x06)?;
    if oid != KEY_PROTECTOR_OID {
        return None;
    }
    let (data, _) = der_tlv(rest, 0x04)?;
    if data.len() < 2 * SHA1_BYTES {
        return None;
    }
    let (salt, rest) = data.split_at(SHA1_BYTES);
    let (encrypted, check) = rest.split_at(rest.len() - SHA1_BYTES);
    let mut key = Vec::with_capacity(encrypted.len());
    let mut block = salt.to_vec();
    for chunk in encrypted.chunks(SHA1_BYTES) {
        let mut md = Sha1::new();
        md.update(pw);
        md.update(&block);
        block = md.finalize().to_vec();
        key.extend(chunk.iter().zip(&block).map(|(a, b)| a ^ b));
    }
    let mut md = Sha1::new();
    md.update(pw);
    md.update(&key);
    (md.finalize().as_slice() == check).then_some(key)
}

/// One DER element with the expected tag: (contents, what follows it).
fn der_tlv(buf: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = buf.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::stores::testdata;

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(testdata(name)).expect("fixture")
    }

    #[test]
    fn key_store_written_by_keytool() {
        let jks = parse(&read("server.jks"), "secret").expect("parses");
        assert_eq!(jks.keys.len(), 1);
        let (alias, key, chain) = &jks.keys[0];
        assert_eq!(alias, "server");
        assert_eq!(chain.len(), 2, "leaf and CA");
        // The recovered key is the PKCS#8 form of the PEM key it was made from.
        let pem = std::fs::read(testdata("server.key")).expect("fixture");
        let (_, want) = rustls_pki_types::pem::from_buf(&mut pem.as_slice()).expect("pem").expect("key");
        assert_eq!(key, &want);
    }

    #[test]
    fn trust_store_written_by_keytool() {
        let jks = parse(&read("truststore.jks"), "secret").expect("parses");
        assert_eq!(jks.trusted.len(), 1);
        assert!(jks.keys.is_empty());
    }

    #[test]
    fn wrong_password_and_damage_are_errors() {
        let data = read("server.jks");
        assert_eq!(parse(&data, "wrong").err(), Some(JksError::BadPassword));
        for cut in [0, 10, 40, data.len() / 2, data.len() - 1] {
            assert!(parse(&data[..cut], "secret").is_err(), "truncated at {cut}");
        }
        let mut flipped = data.clone();
        flipped[100] ^= 1;
        assert_eq!(parse(&flipped, "secret").err(), Some(JksError::BadPassword));
        assert_eq!(parse(&read("server.p12"), "secret").err(), Some(JksError::BadMagic));
    }
}
