//! Key and trust stores, read as ZooKeeper's `X509Util.loadKeyStore`/`loadTrustStore` read
//! them: the type comes from `ssl.keyStore.type` (PEM, PKCS12, JKS; BCFKS is refused) or, when
//! unset, from the file name's extension (`KeyStoreFileType.fromFilename`: `.pem`, `.p12`,
//! `.jks`; rzk also takes `.pfx`). A PEM key store holds the private key (PKCS#8, possibly
//! encrypted with the store password, or PKCS#1/SEC1) and the certificate chain in one file.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::tls::jks;

/// Bytes of a store file read before it is refused as implausible.
pub const STORE_FILE_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// `KeyStoreFileType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    Pem,
    Pkcs12,
    Jks,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("Unable to auto-detect store file type from file name: {0}")]
    UnknownExtension(String),
    #[error("unsupported store type {0} (rzk reads PEM, PKCS12 and JKS)")]
    UnsupportedType(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is larger than {STORE_FILE_BYTES_MAX} bytes")]
    TooLarge { path: PathBuf },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl StoreType {
    /// `KeyStoreFileType.fromPropertyValueOrFileName`.
    pub fn from_property_or_name(property: Option<&str>, path: &str) -> Result<StoreType, StoreError> {
        match property.filter(|p| !p.is_empty()) {
            Some(p) => match p.to_uppercase().as_str() {
                "PEM" => Ok(StoreType::Pem),
                "PKCS12" => Ok(StoreType::Pkcs12),
                "JKS" => Ok(StoreType::Jks),
                _ => Err(StoreError::UnsupportedType(p.to_string())),
            },
            None => {
                let ext = path.rfind('.').map(|i| &path[i..]).unwrap_or("");
                match ext {
                    ".pem" => Ok(StoreType::Pem),
                    ".p12" | ".pfx" => Ok(StoreType::Pkcs12),
                    ".jks" => Ok(StoreType::Jks),
                    ".bcfks" => Err(StoreError::UnsupportedType("BCFKS".into())),
                    _ => Err(StoreError::UnknownExtension(path.to_string())),
                }
            }
        }
    }
}

/// A server identity: the certificate chain (leaf first) and its private key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

fn read(path: &Path) -> Result<Vec<u8>, StoreError> {
    let err = |source| StoreError::Read { path: path.to_owned(), source };
    let len = std::fs::metadata(path).map_err(err)?.len();
    if len > STORE_FILE_BYTES_MAX {
        return Err(StoreError::TooLarge { path: path.to_owned() });
    }
    std::fs::read(path).map_err(err)
}

fn invalid(path: &Path, reason: impl ToString) -> StoreError {
    StoreError::Invalid { path: path.to_owned(), reason: reason.to_string() }
}

/// `X509Util.createKeyManager`'s store: the first private key and its chain.
pub fn load_identity(path: &Path, password: &str, kind: StoreType) -> Result<Identity, StoreError> {
    let data = read(path)?;
    match kind {
        StoreType::Pem => pem_identity(path, &data, password),
        StoreType::Pkcs12 => {
            let ks = p12_keystore::KeyStore::from_pkcs12(
                &data,
                password,
                p12_keystore::Pkcs12ImportPolicy::Relaxed,
            )
            .map_err(|e| invalid(path, e))?;
            let (_, chain) = ks.private_key_chain().ok_or_else(|| invalid(path, "no private key entry"))?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
            let chain: Vec<_> =
                chain.certs().iter().map(|c| CertificateDer::from(c.as_der().to_vec())).collect();
            identity(path, chain, key)
        }
        StoreType::Jks => {
            let store = jks::parse(&data, password).map_err(|e| invalid(path, e))?;
            let (_, key, chain) =
                store.keys.into_iter().next().ok_or_else(|| invalid(path, "no private key entry"))?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
            identity(path, chain.into_iter().map(CertificateDer::from).collect(), key)
        }
    }
}

fn identity(
    path: &Path,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Identity, StoreError> {
    if chain.is_empty() {
        return Err(invalid(path, "no certificate for the private key"));
    }
    Ok(Identity { chain, key })
}

/// `PemReader.loadKeyStore`: the key (decrypted with the password when encrypted) and every
/// certificate in the file, in order.
fn pem_identity(path: &Path, data: &[u8], password: &str) -> Result<Identity, StoreError> {
    let mut chain = Vec::new();
    let mut key = None;
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(data) {
        let (kind, der) = item.map_err(|e| invalid(path, format!("bad PEM: {e:?}")))?;
        match kind {
            SectionKind::Certificate => chain.push(CertificateDer::from(der)),
            SectionKind::PrivateKey => key = key.or(Some(PrivateKeyDer::Pkcs8(der.into()))),
            SectionKind::RsaPrivateKey => key = key.or(Some(PrivateKeyDer::Pkcs1(der.into()))),
            SectionKind::EcPrivateKey => key = key.or(Some(PrivateKeyDer::Sec1(der.into()))),
            _ => {}
        }
    }
    // rustls's PEM reader skips sections it has no type for, encrypted keys among them.
    if key.is_none()
        && let Some(der) = pem_section(data, "ENCRYPTED PRIVATE KEY")
    {
        key = Some(PrivateKeyDer::Pkcs8(decrypt_pkcs8(path, &der, password)?.into()));
    }
    let key = key.ok_or_else(|| invalid(path, "no private key found"))?;
    identity(path, chain, key)
}

/// The contents of the first PEM section with this label, base64-decoded.
fn pem_section(data: &[u8], label: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let text = std::str::from_utf8(data).ok()?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let len = text[start..].find(&end)?;
    let body: String = text[start..start + len].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

fn decrypt_pkcs8(path: &Path, der: &[u8], password: &str) -> Result<Vec<u8>, StoreError> {
    if password.is_empty() {
        return Err(invalid(path, "the private key is encrypted and no key store password is set"));
    }
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| invalid(path, e))?;
    let doc =
        info.decrypt(password).map_err(|e| invalid(path, format!("cannot decrypt the private key: {e}")))?;
    Ok(doc.as_bytes().to_vec())
}

/// `X509Util.createTrustManager`'s store: every certificate in it is a trust anchor.
pub fn load_trusted(
    path: &Path,
    password: &str,
    kind: StoreType,
) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    let data = read(path)?;
    let certs: Vec<CertificateDer<'static>> = match kind {
        StoreType::Pem => CertificateDer::pem_slice_iter(&data)
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(path, format!("bad PEM: {e:?}")))?,
        StoreType::Pkcs12 => p12_keystore::Pkcs12Archive::from_pkcs12(&data, password)
            .map_err(|e| invalid(path, e))?
            .certs
            .into_iter()
            .map(|b| CertificateDer::from(b.cert.as_der().to_vec()))
            .collect(),
        StoreType::Jks => {
            let store = jks::parse(&data, password).map_err(|e| invalid(path, e))?;
            // A key entry's chain is trusted too (Java's KeyStore.getCertificate of any alias).
            let chains = store.keys.into_iter().filter_map(|(_, _, mut chain)| {
                if chain.is_empty() { None } else { Some(chain.swap_remove(0)) }
            });
            store.trusted.into_iter().map(|(_, der)| der).chain(chains).map(CertificateDer::from).collect()
        }
    };
    if certs.is_empty() {
        return Err(invalid(path, "no certificates in the trust store"));
    }
    Ok(certs)
}

/// A fixture of the unit tests (made by `testdata/tls/make.sh`).
#[cfg(test)]
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tls").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_from_property_or_extension() {
        let t = StoreType::from_property_or_name;
        assert_eq!(t(None, "/a/b.pem").ok(), Some(StoreType::Pem));
        assert_eq!(t(None, "/a/b.p12").ok(), Some(StoreType::Pkcs12));
        assert_eq!(t(None, "/a/b.pfx").ok(), Some(StoreType::Pkcs12));
        assert_eq!(t(None, "/a/b.jks").ok(), Some(StoreType::Jks));
        assert_eq!(t(Some(""), "/a/b.jks").ok(), Some(StoreType::Jks));
        assert_eq!(t(Some("pkcs12"), "/a/b.jks").ok(), Some(StoreType::Pkcs12));
        assert!(matches!(t(None, "/a/b.crt"), Err(StoreError::UnknownExtension(_))));
        assert!(matches!(t(Some("BCFKS"), "x"), Err(StoreError::UnsupportedType(_))));
        assert!(matches!(t(Some("JCEKS"), "x"), Err(StoreError::UnsupportedType(_))));
    }

    fn same_identity(a: &Identity, b: &Identity) {
        assert_eq!(a.chain[0], b.chain[0]);
        // openssl 3 writes PEM keys as PKCS#8, the form the other stores hold.
        assert_eq!(a.key.secret_der(), b.key.secret_der());
    }

    #[test]
    fn identities_in_every_format() {
        let pem = load_identity(&testdata("server.pem"), "", StoreType::Pem).expect("pem");
        assert_eq!(pem.chain.len(), 2);
        let enc =
            load_identity(&testdata("server-enc.pem"), "secret", StoreType::Pem).expect("encrypted pem");
        let p12 = load_identity(&testdata("server.p12"), "secret", StoreType::Pkcs12).expect("p12");
        let jks = load_identity(&testdata("server.jks"), "secret", StoreType::Jks).expect("jks");
        for other in [&enc, &p12, &jks] {
            same_identity(&pem, other);
        }
        // The three PKCS#8 forms decode to the same key.
        assert_eq!(enc.key.secret_der(), p12.key.secret_der());
        assert_eq!(p12.key.secret_der(), jks.key.secret_der());
    }

    #[test]
    fn wrong_passwords_are_errors() {
        assert!(load_identity(&testdata("server-enc.pem"), "", StoreType::Pem).is_err());
        assert!(load_identity(&testdata("server-enc.pem"), "nope", StoreType::Pem).is_err());
        assert!(load_identity(&testdata("server.p12"), "nope", StoreType::Pkcs12).is_err());
        assert!(load_identity(&testdata("server.jks"), "nope", StoreType::Jks).is_err());
        assert!(load_identity(&testdata("ca.pem"), "", StoreType::Pem).is_err(), "no key");
        assert!(load_identity(&testdata("missing.pem"), "", StoreType::Pem).is_err());
    }

    #[test]
    fn trust_stores_in_every_format() {
        let pem = load_trusted(&testdata("ca.pem"), "", StoreType::Pem).expect("pem");
        let p12 = load_trusted(&testdata("truststore.p12"), "secret", StoreType::Pkcs12).expect("p12");
        let jks = load_trusted(&testdata("truststore.jks"), "secret", StoreType::Jks).expect("jks");
        assert_eq!(pem.len(), 1);
        assert_eq!(pem, p12);
        assert_eq!(pem, jks);
    }
}
