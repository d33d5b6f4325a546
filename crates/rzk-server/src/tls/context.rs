//! Builds the rustls server configuration from the TLS settings, as
//! `X509Util.createSSLContextAndOptions` builds ZooKeeper's `SSLContext`: the key store gives
//! the server's certificate, the trust store the CAs a client certificate must chain to, and
//! `ssl.clientAuth`, `ssl.enabledProtocols` and `ssl.ciphersuites` shape the handshake.
//!
//! Java names map onto rustls where rustls has the thing: TLSv1.2 and TLSv1.3, and the AEAD
//! suites (ECDHE with AES-GCM or ChaCha20-Poly1305; TLS 1.3's). Older protocols and CBC
//! suites are not in rustls; they are dropped with a warning, and a setting that leaves
//! nothing usable is an error at start-up.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, ServerConfig};

use crate::tls::settings::{ClientAuth, StoreSettings, TlsSettings};
use crate::tls::stores::{self, StoreError, StoreType};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("zookeeper.ssl.keyStore.location is not set: a TLS client port needs the server's key store")]
    NoKeyStore,
    #[error(
        "zookeeper.ssl.trustStore.location is not set: ssl.clientAuth={0} needs the CAs that sign client certificates"
    )]
    NoTrustStore(&'static str),
    #[error("zookeeper.ssl.{which}: {source}")]
    Store { which: &'static str, source: StoreError },
    #[error("zookeeper.ssl.enabledProtocols: none of {0:?} is TLSv1.2 or TLSv1.3")]
    NoProtocol(Vec<String>),
    #[error("zookeeper.ssl.ciphersuites: none of {0:?} is a suite rustls offers for the enabled protocols")]
    NoCipherSuite(Vec<String>),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The rustls configuration for the client port(s).
pub fn server_config(s: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(provider(s)?);
    let versions = versions(&s.protocols)?;
    let verifier = client_verifier(s, &provider)?;
    let key_store = s.key_store.as_ref().ok_or(TlsError::NoKeyStore)?;
    let kind = store_type(key_store, "keyStore.type")?;
    let identity = stores::load_identity(&key_store.location, &key_store.password, kind)
        .map_err(|source| TlsError::Store { which: "keyStore", source })?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain, identity.key)?;
    Ok(Arc::new(config))
}

/// The rustls configuration for dialing a peer that must show a certificate signed by a CA of
/// the trust store, and shows ours (the quorum's mutual authentication, `QuorumX509Util`).
/// Without `hostname_verification` the peer's certificate need not name the address dialed
/// (`ZKTrustManager` with `ssl.quorum.hostnameVerification=false`).
pub fn client_config(s: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(provider(s)?);
    let versions = versions(&s.protocols)?;
    let ts = s.trust_store.as_ref().ok_or(TlsError::NoTrustStore("need"))?;
    let roots = Arc::new(trusted_roots(ts)?);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
    let verifier: Arc<dyn ServerCertVerifier> =
        if s.hostname_verification { webpki } else { Arc::new(AnyName(webpki)) };
    let key_store = s.key_store.as_ref().ok_or(TlsError::NoKeyStore)?;
    let kind = store_type(key_store, "keyStore.type")?;
    let identity = stores::load_identity(&key_store.location, &key_store.password, kind)
        .map_err(|source| TlsError::Store { which: "keyStore", source })?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(identity.chain, identity.key)?;
    Ok(Arc::new(config))
}

/// A server verifier that checks the chain but not the name (hostname verification off).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Whether `cert` names `ip` in its subject alternative names, as `ZKHostnameVerifier` checks
/// a peer's address (rzk does no reverse DNS lookup for the host-name fallback).
pub fn names_ip(cert: &CertificateDer<'_>, ip: std::net::IpAddr) -> bool {
    let Ok(parsed) = ParsedCertificate::try_from(cert) else { return false };
    rustls::client::verify_server_name(&parsed, &ServerName::IpAddress(ip.into())).is_ok()
}

/// The warnings that the settings deserve (unsupported settings, names rustls lacks).
pub fn warnings(s: &TlsSettings) -> Vec<String> {
    let mut w = s.unsupported.clone();
    for p in &s.protocols {
        if version(p).is_none() {
            w.push(format!(
                "zookeeper.ssl.enabledProtocols: {p} is not supported (rustls has TLSv1.2 and TLSv1.3)"
            ));
        }
    }
    if let Some(names) = &s.cipher_suites {
        let all = rustls::crypto::ring::default_provider().cipher_suites;
        for n in names {
            if !all.iter().any(|cs| java_name(cs) == *n) {
                w.push(format!("zookeeper.ssl.ciphersuites: {n} is not offered by rustls; ignored"));
            }
        }
    }
    w
}

fn store_type(st: &StoreSettings, property: &'static str) -> Result<StoreType, TlsError> {
    let which = if property.starts_with("key") { "keyStore" } else { "trustStore" };
    StoreType::from_property_or_name(st.kind.as_deref(), &st.location.to_string_lossy())
        .map_err(|source| TlsError::Store { which, source })
}

/// ring's provider with only the configured cipher suites (all of them by default).
fn provider(s: &TlsSettings) -> Result<CryptoProvider, TlsError> {
    let mut p = rustls::crypto::ring::default_provider();
    if let Some(names) = &s.cipher_suites {
        p.cipher_suites.retain(|cs| names.iter().any(|n| *n == java_name(cs)));
        if p.cipher_suites.is_empty() {
            return Err(TlsError::NoCipherSuite(names.clone()));
        }
    }
    Ok(p)
}

/// A suite's IANA/Java name (rustls spells TLS 1.3 suites `TLS13_...`; Java `TLS_...`).
fn java_name(cs: &rustls::SupportedCipherSuite) -> String {
    let name = format!("{:?}", cs.suite());
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

fn version(java: &str) -> Option<&'static rustls::SupportedProtocolVersion> {
    match java {
        "TLSv1.2" => Some(&rustls::version::TLS12),
        "TLSv1.3" => Some(&rustls::version::TLS13),
        _ => None,
    }
}

fn versions(protocols: &[String]) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsError> {
    let mut v = Vec::new();
    for p in protocols {
        // Java's generic "TLS" context enables every version it has.
        let names = if p == "TLS" { vec!["TLSv1.2", "TLSv1.3"] } else { vec![p.as_str()] };
        for n in names {
            if let Some(ver) = version(n)
                && !v.iter().any(|x: &&rustls::SupportedProtocolVersion| x.version == ver.version)
            {
                v.push(ver);
            }
        }
    }
    if v.is_empty() {
        return Err(TlsError::NoProtocol(protocols.to_vec()));
    }
    Ok(v)
}

fn trusted_roots(ts: &StoreSettings) -> Result<rustls::RootCertStore, TlsError> {
    let kind = store_type(ts, "trustStore.type")?;
    let certs = stores::load_trusted(&ts.location, &ts.password, kind)
        .map_err(|source| TlsError::Store { which: "trustStore", source })?;
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c).map_err(|e| TlsError::Store {
            which: "trustStore",
            source: StoreError::Invalid { path: ts.location.clone(), reason: e.to_string() },
        })?;
    }
    Ok(roots)
}

fn client_verifier(
    s: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let label = match s.client_auth {
        ClientAuth::None => return Ok(WebPkiClientVerifier::no_client_auth()),
        ClientAuth::Want => "want",
        ClientAuth::Need => "need",
    };
    let ts = s.trust_store.as_ref().ok_or(TlsError::NoTrustStore(label))?;
    let roots = trusted_roots(ts)?;
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = if s.client_auth == ClientAuth::Want { builder.allow_unauthenticated() } else { builder };
    builder.build().map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::stores::testdata;

    fn settings(key: &str, trust: Option<&str>) -> TlsSettings {
        let st =
            |name: &str| StoreSettings { location: testdata(name), password: "secret".into(), kind: None };
        TlsSettings {
            key_store: Some(st(key)),
            trust_store: trust.map(st),
            client_auth: ClientAuth::Need,
            protocols: vec!["TLSv1.2".into()],
            cipher_suites: None,
            cert_reload: false,
            hostname_verification: true,
            unsupported: Vec::new(),
        }
    }

    #[test]
    fn builds_from_each_store_type() {
        for (key, trust) in
            [("server.pem", "ca.pem"), ("server.p12", "truststore.p12"), ("server.jks", "truststore.jks")]
        {
            server_config(&settings(key, Some(trust))).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
    }

    #[test]
    fn need_without_trust_store_and_bad_protocols_are_errors() {
        assert!(matches!(server_config(&settings("server.pem", None)), Err(TlsError::NoTrustStore("need"))));
        let mut s = settings("server.pem", None);
        s.client_auth = ClientAuth::None;
        assert!(server_config(&s).is_ok(), "no client auth needs no trust store");
        s.protocols = vec!["TLSv1".into(), "SSLv3".into()];
        assert!(matches!(server_config(&s), Err(TlsError::NoProtocol(_))));
        assert_eq!(warnings(&s).len(), 2);
    }

    #[test]
    fn cipher_suites_by_java_name() {
        let mut s = settings("server.pem", Some("ca.pem"));
        s.protocols = vec!["TLSv1.2".into(), "TLSv1.3".into()];
        s.cipher_suites = Some(vec![
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
            "TLS_AES_256_GCM_SHA384".into(),
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
        ]);
        assert_eq!(provider(&s).expect("provider").cipher_suites.len(), 2);
        assert_eq!(
            warnings(&s),
            [
                "zookeeper.ssl.ciphersuites: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA is not offered by rustls; ignored"
            ]
        );
        assert!(server_config(&s).is_ok());
        s.cipher_suites = Some(vec!["TLS_RSA_WITH_NULL_SHA".into()]);
        assert!(matches!(server_config(&s), Err(TlsError::NoCipherSuite(_))));
    }
}
