//! TLS between servers, on the election port and the quorum port: `sslQuorum`,
//! `portUnification` and the `ssl.quorum.*` stores, as `QuorumX509Util`, `QuorumCnxManager`,
//! `Learner.createSocket` and `UnifiedServerSocket` use them in 3.8.
//!
//! - With `sslQuorum=true` both ends present a certificate and check the other's against the
//!   trust store (`ssl.quorum.clientAuth` defaults to need), and every outgoing connection
//!   starts a handshake.
//! - With `portUnification=true` a listener takes both TLS and plaintext: a connection whose
//!   first byte is a TLS handshake record is served with TLS, any other in the clear. Outgoing
//!   connections still use TLS only with `sslQuorum`. This is the rolling upgrade from a
//!   plaintext ensemble to a TLS one (and back).
//! - `ssl.quorum.hostnameVerification` (default true): the dialer checks that the listener's
//!   certificate names the address dialed, and the listener that the dialer's names the address
//!   the connection comes from, as `ZKTrustManager` does for both sides of a quorum connection.
//!   rzk compares IP addresses only (ZooKeeper falls back to a reverse DNS lookup).
//! - `sslQuorumReloadCertFiles`: the store files are polled, and new connections use them as they
//!   are on disk; live connections keep theirs.
//!
//! A refused peer (bad certificate, wrong name, plaintext on a TLS-only port) only loses that
//! connection; the reason is logged and the peer may try again.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use rzk_config::Config;
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

use crate::tls::context::{self, TlsError};
use crate::tls::settings::{QUORUM_PREFIX, TlsSettings, TlsSettingsError};
use crate::tls::{CERT_RELOAD_POLL_MS, fingerprint, starts_tls};

/// The quorum's TLS settings, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumTlsSettings {
    /// `sslQuorum`: dial with TLS, and take only TLS unless `port_unification`.
    pub ssl_quorum: bool,
    /// `portUnification`: listeners take TLS and plaintext.
    pub port_unification: bool,
    /// `sslQuorumReloadCertFiles`.
    pub reload_cert_files: bool,
    /// The `zookeeper.ssl.quorum.*` properties.
    pub tls: TlsSettings,
}

impl QuorumTlsSettings {
    /// `None` when neither `sslQuorum` nor `portUnification` is set: the quorum is plaintext.
    pub fn from_config(c: &Config) -> Result<Option<QuorumTlsSettings>, TlsSettingsError> {
        if !c.ssl_quorum && !c.port_unification {
            return Ok(None);
        }
        Ok(Some(QuorumTlsSettings {
            ssl_quorum: c.ssl_quorum,
            port_unification: c.port_unification,
            reload_cert_files: c.ssl_quorum_reload_cert_files,
            tls: TlsSettings::with_prefix(c, QUORUM_PREFIX)?,
        }))
    }
}

/// A connection a quorum listener accepted.
pub enum Accepted {
    /// Plaintext, on a port-unification port.
    Plain(TcpStream),
    Tls(Box<server::TlsStream<TcpStream>>),
}

/// The two rustls configurations of a member.
struct Contexts {
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
}

fn contexts(s: &TlsSettings) -> Result<Arc<Contexts>, TlsError> {
    Ok(Arc::new(Contexts { server: context::server_config(s)?, client: context::client_config(s)? }))
}

/// A member's quorum TLS: what its listeners accept and how it dials.
pub struct QuorumTls {
    ssl_quorum: bool,
    port_unification: bool,
    hostname_verification: bool,
    settings: TlsSettings,
    current: RwLock<Arc<Contexts>>,
}

impl std::fmt::Debug for QuorumTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuorumTls")
            .field("ssl_quorum", &self.ssl_quorum)
            .field("port_unification", &self.port_unification)
            .finish()
    }
}

impl QuorumTls {
    /// Reads the stores; an unreadable store is an error at start-up, as in ZooKeeper.
    pub fn new(s: QuorumTlsSettings) -> Result<Arc<QuorumTls>, TlsError> {
        for w in context::warnings(&s.tls) {
            tracing::warn!(setting = %w, "quorum TLS setting not supported by rzk");
        }
        let current = RwLock::new(contexts(&s.tls)?);
        tracing::info!(
            ssl_quorum = s.ssl_quorum,
            port_unification = s.port_unification,
            client_auth = ?s.tls.client_auth,
            hostname_verification = s.tls.hostname_verification,
            protocols = ?s.tls.protocols,
            "quorum TLS configured"
        );
        let tls = Arc::new(QuorumTls {
            ssl_quorum: s.ssl_quorum,
            port_unification: s.port_unification,
            hostname_verification: s.tls.hostname_verification,
            settings: s.tls,
            current,
        });
        if s.reload_cert_files {
            let weak = Arc::downgrade(&tls);
            std::thread::Builder::new()
                .name("rzk-quorum-cert-reload".into())
                .spawn(move || watch(weak))
                .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
        }
        Ok(tls)
    }

    /// Whether outgoing quorum and election connections use TLS (`sslQuorum`).
    pub fn dials_tls(&self) -> bool {
        self.ssl_quorum
    }

    fn contexts(&self) -> Arc<Contexts> {
        // A poisoned lock still holds a whole Arc: a panicking writer cannot leave half of one.
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The listener's side: decides between TLS and plaintext (port unification), runs the
    /// handshake and checks the peer's address against its certificate. The caller bounds the
    /// time it may take. The error says why the peer was refused.
    pub async fn accept(&self, stream: TcpStream) -> Result<Accepted, String> {
        let tls = if self.port_unification {
            match starts_tls(&stream).await {
                Ok(Some(t)) => t,
                Ok(None) => return Err("the peer closed the connection before sending anything".into()),
                Err(e) => return Err(e.to_string()),
            }
        } else {
            true
        };
        if !tls {
            return Ok(Accepted::Plain(stream));
        }
        let remote = stream.peer_addr().map_err(|e| e.to_string())?;
        let acceptor = TlsAcceptor::from(self.contexts().server.clone());
        let tls = acceptor.accept(stream).await.map_err(|e| format!("TLS handshake failed: {e}"))?;
        if self.hostname_verification
            && let Some(leaf) = tls.get_ref().1.peer_certificates().and_then(|c| c.first())
            && !context::names_ip(leaf, remote.ip())
        {
            return Err(format!(
                "the peer's certificate does not name its address {} (ssl.quorum.hostnameVerification)",
                remote.ip()
            ));
        }
        Ok(Accepted::Tls(Box::new(tls)))
    }

    /// The dialer's side: the handshake on a connected stream, the listener's certificate checked
    /// against the address dialed. The caller bounds the time it may take.
    pub async fn connect(&self, stream: TcpStream) -> io::Result<client::TlsStream<TcpStream>> {
        let remote = stream.peer_addr()?;
        let connector = TlsConnector::from(self.contexts().client.clone());
        connector
            .connect(ServerName::IpAddress(remote.ip().into()), stream)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake with {remote} failed: {e}")))
    }

    fn watched(&self) -> Vec<PathBuf> {
        let s = &self.settings;
        [&s.key_store, &s.trust_store].into_iter().flatten().map(|st| st.location.clone()).collect()
    }
}

/// `sslQuorumReloadCertFiles`: polls the store files and rebuilds both configurations when one
/// changes; a store that does not load keeps the old ones. Ends when the member's TLS goes.
fn watch(tls: Weak<QuorumTls>) {
    let Some(paths) = tls.upgrade().map(|t| t.watched()) else { return };
    let mut seen = fingerprint(&paths);
    loop {
        std::thread::sleep(Duration::from_millis(CERT_RELOAD_POLL_MS));
        let Some(t) = tls.upgrade() else { return };
        let now = fingerprint(&paths);
        if now == seen {
            continue;
        }
        seen = now;
        match contexts(&t.settings) {
            Ok(c) => {
                match t.current.write() {
                    Ok(mut cur) => *cur = c,
                    Err(p) => *p.into_inner() = c,
                }
                tracing::info!("quorum TLS key and trust stores reloaded");
            }
            Err(e) => tracing::warn!(error = %e, "cannot reload the quorum TLS stores; keeping the old ones"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::settings::{ClientAuth, StoreSettings};
    use crate::tls::stores::testdata;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Both ends use the test server certificate (SAN `DNS:localhost, IP:127.0.0.1`).
    fn member(ssl_quorum: bool, port_unification: bool, hostname_verification: bool) -> Arc<QuorumTls> {
        let st =
            |name: &str| StoreSettings { location: testdata(name), password: "secret".into(), kind: None };
        let tls = TlsSettings {
            key_store: Some(st("server.pem")),
            trust_store: Some(st("ca.pem")),
            client_auth: ClientAuth::Need,
            protocols: vec!["TLSv1.2".into()],
            cipher_suites: None,
            cert_reload: false,
            hostname_verification,
            unsupported: Vec::new(),
        };
        QuorumTls::new(QuorumTlsSettings { ssl_quorum, port_unification, reload_cert_files: false, tls })
            .expect("stores load")
    }

    /// Listens on `ip`, dials it with `dialer`; what the listener made of the connection.
    async fn exchange(
        listener_tls: Arc<QuorumTls>,
        dialer: Arc<QuorumTls>,
        ip: &str,
        tls: bool,
    ) -> Result<bool, String> {
        let l = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = l.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.expect("accept");
            match listener_tls.accept(s).await? {
                Accepted::Plain(mut s) => {
                    let mut b = [0; 5];
                    s.read_exact(&mut b).await.map_err(|e| e.to_string())?;
                    Ok(false)
                }
                Accepted::Tls(mut s) => {
                    let mut b = [0; 5];
                    s.read_exact(&mut b).await.map_err(|e| e.to_string())?;
                    Ok(true)
                }
            }
        });
        let s = TcpStream::connect(addr).await.expect("connect");
        if tls {
            if let Ok(mut t) = dialer.connect(s).await {
                let _ = t.write_all(b"hello").await;
                let _ = t.flush().await;
            }
        } else {
            let mut s = s;
            let _ = s.write_all(b"hello").await;
        }
        server.await.expect("join")
    }

    #[tokio::test]
    async fn mutual_tls_and_port_unification() {
        let (tls_only, unified) = (member(true, false, true), member(true, true, true));
        assert_eq!(exchange(tls_only.clone(), tls_only.clone(), "127.0.0.1", true).await, Ok(true));
        assert_eq!(exchange(unified.clone(), tls_only.clone(), "127.0.0.1", true).await, Ok(true));
        assert_eq!(exchange(unified, tls_only.clone(), "127.0.0.1", false).await, Ok(false));
        let refused = exchange(tls_only.clone(), tls_only, "127.0.0.1", false).await;
        assert!(refused.is_err(), "plaintext on a TLS-only port: {refused:?}");
    }

    #[tokio::test]
    async fn hostname_verification_checks_the_peer_address() {
        // 127.0.0.2 is a loopback address the certificate does not name.
        let (on, off) = (member(true, false, true), member(true, false, false));
        let r = exchange(on.clone(), on, "127.0.0.2", true).await;
        assert!(r.is_err(), "a certificate without the peer's address was accepted: {r:?}");
        assert_eq!(exchange(off.clone(), off, "127.0.0.2", true).await, Ok(true));
    }

    fn config(lines: &[&str]) -> Config {
        crate::tls::settings::test_config(lines)
    }

    #[test]
    fn off_unless_ssl_quorum_or_port_unification() {
        assert_eq!(QuorumTlsSettings::from_config(&config(&[])), Ok(None));
        // The client port's settings do not turn the quorum's on.
        let c = config(&["secureClientPort=2281", "ssl.keyStore.location=/k.p12"]);
        assert_eq!(QuorumTlsSettings::from_config(&c), Ok(None));
    }

    #[test]
    fn ssl_quorum_reads_the_quorum_stores_with_zookeepers_defaults() {
        let c = config(&[
            "sslQuorum=true",
            "ssl.keyStore.location=/client-port.p12",
            "ssl.quorum.keyStore.location=/q.p12",
            "ssl.quorum.keyStore.password=kp",
            "ssl.quorum.trustStore.location=/t.jks",
            "ssl.quorum.trustStore.password=tp",
            "ssl.quorum.trustStore.type=JKS",
        ]);
        let q = QuorumTlsSettings::from_config(&c).expect("ok").expect("on");
        assert!(q.ssl_quorum && !q.port_unification && !q.reload_cert_files);
        let s = q.tls;
        let k = s.key_store.expect("key store");
        assert_eq!((k.location.to_str(), k.password.as_str()), (Some("/q.p12"), "kp"));
        let t = s.trust_store.expect("trust store");
        assert_eq!((t.location.to_str(), t.kind.as_deref()), (Some("/t.jks"), Some("JKS")));
        assert_eq!(s.client_auth, ClientAuth::Need);
        assert!(s.hostname_verification, "on by default for the quorum");
        assert_eq!(s.protocols, ["TLSv1.2"]);
    }

    #[test]
    fn port_unification_and_every_quorum_option() {
        let c = config(&[
            "portUnification=true",
            "sslQuorumReloadCertFiles=true",
            "ssl.quorum.hostnameVerification=false",
            "ssl.quorum.clientAuth=want",
            "ssl.quorum.enabledProtocols=TLSv1.3",
            "ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256",
            "ssl.hostnameVerification=true",
        ]);
        let q = QuorumTlsSettings::from_config(&c).expect("ok").expect("on");
        assert!(!q.ssl_quorum && q.port_unification && q.reload_cert_files);
        assert!(!q.tls.hostname_verification);
        assert_eq!(q.tls.client_auth, ClientAuth::Want);
        assert_eq!(q.tls.protocols, ["TLSv1.3"]);
        assert_eq!(q.tls.cipher_suites, Some(vec!["TLS_AES_128_GCM_SHA256".to_string()]));
        let bad = config(&["sslQuorum=true", "ssl.quorum.clientAuth=sometimes"]);
        assert!(matches!(
            QuorumTlsSettings::from_config(&bad),
            Err(TlsSettingsError::ClientAuth { property, .. }) if property == "zookeeper.ssl.quorum.clientAuth"
        ));
    }
}
