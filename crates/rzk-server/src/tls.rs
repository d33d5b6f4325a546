//! TLS for clients: the secure client port (`secureClientPort`) and TLS on the plain port
//! (`client.portUnification`), with rustls in place of ZooKeeper's Netty `SslHandler`.
//!
//! A connection's handshake runs in its own task before the connection is served; a client
//! certificate, when one was presented and verified, becomes the connection's `x509` id (its
//! subject in RFC 2253 form, see [`dn`]), as `NettyServerCnxnFactory.CertificateVerifier` and
//! `X509AuthenticationProvider` do at the end of the handshake. With `client.certReload` the
//! store files are watched and new connections get the configuration as it is on disk; live
//! connections keep theirs.
//!
//! - `settings`: the `zookeeper.ssl.*` / `zookeeper.client.*` properties, checked.
//! - `stores`, `jks`: PEM, PKCS12 and JKS key and trust stores.
//! - `context`: the rustls `ServerConfig` those make.
//! - `dn`: the x509 id of a certificate.

pub mod context;
pub mod dn;
pub mod jks;
pub mod settings;
pub mod stores;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rzk_proto::Id;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

pub use context::TlsError;
pub use settings::{ClientAuth, ClientTls, TlsSettings};

/// How long a client may take to finish the TLS handshake (Netty's `SslHandler` default).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the store files are checked for changes with `client.certReload`.
pub const CERT_RELOAD_POLL_MS: u64 = 500;
/// The first byte of a TLS record carrying a handshake (`NettyServerCnxnFactory.TLS_HANDSHAKE_RECORD_TYPE`).
pub const TLS_HANDSHAKE_RECORD_TYPE: u8 = 0x16;

/// The rustls configuration that new TLS connections use, replaced when the stores change.
pub struct TlsSource {
    current: RwLock<Arc<ServerConfig>>,
    settings: TlsSettings,
    /// `zookeeper.X509AuthenticationProvider.superUser`.
    super_user: Option<String>,
}

impl TlsSource {
    /// Reads the stores and builds the configuration; logs what rzk cannot honour.
    pub fn new(settings: TlsSettings, super_user: Option<String>) -> Result<Arc<TlsSource>, TlsError> {
        for w in context::warnings(&settings) {
            tracing::warn!(setting = %w, "TLS setting not supported by rzk");
        }
        let config = context::server_config(&settings)?;
        tracing::info!(
            client_auth = ?settings.client_auth,
            protocols = ?settings.protocols,
            cert_reload = settings.cert_reload,
            "client TLS configured"
        );
        let source = Arc::new(TlsSource { current: RwLock::new(config), settings, super_user });
        if source.settings.cert_reload {
            tokio::spawn(watch(Arc::downgrade(&source)));
        }
        Ok(source)
    }

    fn acceptor(&self) -> TlsAcceptor {
        // A poisoned lock still holds a whole Arc: a panicking writer cannot leave half of one.
        let config = match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        };
        TlsAcceptor::from(config)
    }

    fn replace(&self, config: Arc<ServerConfig>) {
        match self.current.write() {
            Ok(mut c) => *c = config,
            Err(p) => *p.into_inner() = config,
        }
    }

    /// The store files whose changes `client.certReload` watches.
    fn watched(&self) -> Vec<PathBuf> {
        let s = &self.settings;
        [&s.key_store, &s.trust_store].into_iter().flatten().map(|st| st.location.clone()).collect()
    }

    /// The ids a verified client certificate gives the connection: `super` first for the
    /// superUser, then `x509:<subject DN>`.
    fn ids_for(&self, stream: &TlsStream<TcpStream>) -> Result<Vec<Id>, String> {
        let Some(leaf) = stream.get_ref().1.peer_certificates().and_then(|c| c.first()) else {
            return Ok(Vec::new());
        };
        let dn = dn::subject_rfc2253(leaf).ok_or("the client certificate's subject does not parse")?;
        let mut ids = Vec::new();
        if self.super_user.as_deref() == Some(dn.as_str()) {
            tracing::info!(id = %dn, "Authenticated Id as super user");
            ids.push(Id::new("super", &dn));
        }
        tracing::info!(id = %dn, scheme = "x509", "Authenticated Id");
        ids.push(Id::new("x509", &dn));
        Ok(ids)
    }
}

/// Whether a connection on a port-unification port starts a TLS handshake: its first byte is
/// a TLS handshake record, as `DualModeSslHandler` decides. `None` if the peer closed first.
pub async fn starts_tls(stream: &TcpStream) -> std::io::Result<Option<bool>> {
    let mut first = [0u8; 1];
    match stream.peek(&mut first).await? {
        0 => Ok(None),
        _ => Ok(Some(first[0] == TLS_HANDSHAKE_RECORD_TYPE)),
    }
}

/// Runs the server side of the handshake; the stream and the ids its certificate proves, or
/// why the client was refused.
pub async fn handshake(
    src: &TlsSource,
    stream: TcpStream,
) -> Result<(TlsStream<TcpStream>, Vec<Id>), String> {
    let _ = stream.set_nodelay(true);
    let accept = src.acceptor().accept(stream);
    let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(format!("TLS handshake failed: {e}")),
        Err(_) => return Err(format!("TLS handshake not finished within {TLS_HANDSHAKE_TIMEOUT:?}")),
    };
    let ids = src.ids_for(&tls)?;
    Ok((tls, ids))
}

/// Logs a refused TLS client (ZooKeeper: "Unsuccessful handshake").
pub fn log_refused(conn: u64, remote: SocketAddr, reason: &str) {
    tracing::warn!(conn, %remote, %reason, "Unsuccessful TLS handshake; closing connection");
}

/// What identifies a file's contents cheaply: its modification time and length.
pub(crate) type Fingerprint = Vec<Option<(SystemTime, u64)>>;

pub(crate) fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len()))))
        .collect()
}

/// `client.certReload` (`X509Util.enableCertFileReloading`): polls the store files and rebuilds
/// the configuration when one changes. A store that does not load keeps the old configuration
/// (and is tried again when it changes again). Ends when the source is dropped.
async fn watch(source: Weak<TlsSource>) {
    let Some(paths) = source.upgrade().map(|s| s.watched()) else { return };
    let mut seen = fingerprint(&paths);
    let mut every = tokio::time::interval(Duration::from_millis(CERT_RELOAD_POLL_MS));
    loop {
        every.tick().await;
        let p = paths.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || fingerprint(&p)).await else { return };
        if now == seen {
            continue;
        }
        seen = now;
        let Some(src) = source.upgrade() else { return };
        let settings = src.settings.clone();
        match tokio::task::spawn_blocking(move || context::server_config(&settings)).await {
            Ok(Ok(config)) => {
                src.replace(config);
                tracing::info!("client TLS key and trust stores reloaded");
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot reload the client TLS stores; keeping the old ones")
            }
            Err(e) => tracing::warn!(error = %e, "TLS store reload task failed"),
        }
    }
}
