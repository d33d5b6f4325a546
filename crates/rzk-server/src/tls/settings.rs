//! The client-port TLS settings, from the `zookeeper.ssl.*` and `zookeeper.client.*` system
//! properties (zoo.cfg keys `K` arrive as `zookeeper.K`), named and defaulted as
//! `X509Util`/`ClientX509Util`, `SSLContextAndOptions` and `NettyServerCnxnFactory` in 3.8 read
//! them. Only checked here; the stores are read when the listener starts ([`super::context`]).

use std::path::PathBuf;

use rzk_config::Config;

/// Where the client port's settings are (`X509Util`'s `zookeeper.ssl.` properties).
pub const CLIENT_PREFIX: &str = "zookeeper.ssl.";
/// Where the quorum's are (`QuorumX509Util`: `zookeeper.ssl.quorum.`).
pub const QUORUM_PREFIX: &str = "zookeeper.ssl.quorum.";
/// `X509Util.DEFAULT_PROTOCOL` in 3.8.
pub const DEFAULT_PROTOCOL: &str = "TLSv1.2";
/// The class `zookeeper.authProvider.<scheme>` names for the built-in x509 provider.
pub const X509_PROVIDER_CLASS: &str = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

/// `X509Util.ClientAuth`: whether the server asks TLS clients for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Not asked for.
    None,
    /// Asked for; a client without one is admitted (and gets no x509 id).
    Want,
    /// Required (ZooKeeper's default).
    Need,
}

/// A key or trust store: where it is, its password, and its type property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub location: PathBuf,
    /// `.password`, or the contents of `.passwordPath` (which wins, as in ZooKeeper).
    pub password: String,
    /// `.type`; `None` infers it from the file name.
    pub kind: Option<String>,
}

/// TLS on the client port(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub key_store: Option<StoreSettings>,
    pub trust_store: Option<StoreSettings>,
    /// `ssl.clientAuth` (default need).
    pub client_auth: ClientAuth,
    /// `ssl.enabledProtocols`, or `[ssl.protocol]` (default TLSv1.2) when unset.
    pub protocols: Vec<String>,
    /// `ssl.ciphersuites` (Java names); `None` keeps rustls's defaults.
    pub cipher_suites: Option<Vec<String>>,
    /// `client.certReload`: new connections use the stores as they are on disk now.
    pub cert_reload: bool,
    /// `ssl.hostnameVerification` (accepted; a server never checks client host names in 3.8's
    /// `ClientX509Util`).
    pub hostname_verification: bool,
    /// Settings rzk accepts but cannot honour, each with the reason (logged at start-up).
    pub unsupported: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TlsSettingsError {
    #[error("{property}: '{value}' is not one of none, want, need")]
    ClientAuth { property: String, value: String },
    #[error("{property}: cannot read the password file {path}: {reason}")]
    PasswordFile { property: String, path: String, reason: String },
}

/// The TLS parts of the configuration that a client listener needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// `client.portUnification`: the plain client port also takes TLS clients.
    pub port_unification: bool,
    pub settings: TlsSettings,
}

impl TlsSettings {
    /// Reads the client TLS settings (`zookeeper.ssl.*`, not `zookeeper.ssl.quorum.*`).
    pub fn from_config(c: &Config) -> Result<TlsSettings, TlsSettingsError> {
        TlsSettings::with_prefix(c, CLIENT_PREFIX)
    }

    /// Reads the settings under `prefix`: [`CLIENT_PREFIX`] for the client port (`X509Util`),
    /// [`QUORUM_PREFIX`] for the quorum and election ports (`QuorumX509Util`).
    pub fn with_prefix(c: &Config, prefix: &str) -> Result<TlsSettings, TlsSettingsError> {
        let p = &c.system_props;
        let get = |k: &str| p.get(&format!("{prefix}{k}")).map(str::to_string);
        let mut unsupported = Vec::new();
        let client_auth = match get("clientAuth").as_deref().map(str::to_uppercase).as_deref() {
            None | Some("") | Some("NEED") => ClientAuth::Need,
            Some("WANT") => ClientAuth::Want,
            Some("NONE") => ClientAuth::None,
            Some(_) => {
                return Err(TlsSettingsError::ClientAuth {
                    property: format!("{prefix}clientAuth"),
                    value: get("clientAuth").unwrap_or_default(),
                });
            }
        };
        let protocol = get("protocol").unwrap_or_else(|| DEFAULT_PROTOCOL.to_string());
        let protocols = match get("enabledProtocols") {
            Some(list) => split_list(&list),
            None => vec![protocol],
        };
        let cipher_suites = get("ciphersuites").map(|l| split_list(&l));
        for (key, why) in
            [("crl", "certificate revocation lists are not checked"), ("ocsp", "OCSP is not checked")]
        {
            if get(key).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                unsupported.push(format!("{prefix}{key}=true: {why}"));
            }
        }
        if let Some(class) = get("context.supplier.class") {
            unsupported
                .push(format!("{prefix}context.supplier.class={class}: Java classes cannot be loaded"));
        }
        Ok(TlsSettings {
            key_store: store(c, prefix, "keyStore")?,
            trust_store: store(c, prefix, "trustStore")?,
            client_auth,
            protocols,
            cipher_suites,
            cert_reload: p.get_boolean("zookeeper.client.certReload"),
            hostname_verification: get("hostnameVerification")
                .is_none_or(|v| !v.eq_ignore_ascii_case("false")),
            unsupported,
        })
    }
}

impl ClientTls {
    /// `None` when neither a secure client port nor port unification asks for TLS.
    pub fn from_config(c: &Config) -> Result<Option<ClientTls>, TlsSettingsError> {
        let port_unification = c.system_props.get_boolean("zookeeper.client.portUnification");
        if c.secure_client_address.is_none() && !port_unification {
            return Ok(None);
        }
        Ok(Some(ClientTls { port_unification, settings: TlsSettings::from_config(c)? }))
    }
}

/// Whether the `x509` auth provider is registered: explicitly (`authProvider.N` naming its
/// class), or implicitly by `QuorumPeerConfig.configureSSLAuth`, which a secure client port
/// and client port unification call.
pub fn x509_provider_enabled(c: &Config) -> bool {
    c.system_props.get_boolean("zookeeper.client.portUnification")
        || c.system_props
            .with_prefix("zookeeper.authProvider.")
            .any(|(_, v)| v.value.trim() == X509_PROVIDER_CLASS)
}

/// `String.split(",")` as `SSLContextAndOptions` uses it, with blanks trimmed.
fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

/// `<prefix><which>.location/.password/.passwordPath/.type`; `None` without a location.
fn store(c: &Config, prefix: &str, which: &str) -> Result<Option<StoreSettings>, TlsSettingsError> {
    let p = &c.system_props;
    let key = |k: &str| format!("{prefix}{which}.{k}");
    let Some(location) = p.get(&key("location")).filter(|l| !l.is_empty()) else { return Ok(None) };
    let mut password = p.get(&key("password")).unwrap_or("").to_string();
    if let Some(path) = p.get(&key("passwordPath")).filter(|l| !l.is_empty()) {
        password = read_secret(path).map_err(|reason| TlsSettingsError::PasswordFile {
            property: key("passwordPath"),
            path: path.to_string(),
            reason,
        })?;
    }
    let kind = p.get(&key("type")).filter(|t| !t.is_empty()).map(str::to_string);
    Ok(Some(StoreSettings { location: PathBuf::from(location), password, kind }))
}

/// `SecretUtils.readSecret`: the file's text without one trailing line separator.
fn read_secret(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Ok(text.strip_suffix('\n').map(str::to_string).unwrap_or(text))
}

/// A configuration from zoo.cfg `lines` (plus a dataDir and clientPort), for tests.
#[cfg(test)]
pub(crate) fn test_config(lines: &[&str]) -> Config {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = format!("dataDir={}\nclientPort=2181\n", dir.path().display());
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(&cfg, text).expect("write");
    rzk_config::load(&cfg, std::iter::empty::<(&str, &str)>(), &[]).expect("config loads").config
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lines: &[&str]) -> Config {
        test_config(lines)
    }

    #[test]
    fn defaults_are_zookeepers() {
        let c =
            config(&["secureClientPort=2281", "ssl.keyStore.location=/k.p12", "ssl.keyStore.password=pw"]);
        let t = ClientTls::from_config(&c).expect("ok").expect("tls on");
        assert!(!t.port_unification);
        let s = t.settings;
        assert_eq!(s.client_auth, ClientAuth::Need);
        assert_eq!(s.protocols, ["TLSv1.2"]);
        assert_eq!(s.cipher_suites, None);
        assert!(!s.cert_reload);
        assert!(s.hostname_verification);
        let k = s.key_store.expect("key store");
        assert_eq!((k.location.to_str(), k.password.as_str(), k.kind), (Some("/k.p12"), "pw", None));
        assert_eq!(s.trust_store, None);
        assert!(x509_provider_enabled(&c), "a secure port registers x509");
    }

    #[test]
    fn everything_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "from-file\n").expect("write");
        let pw_line = format!("ssl.trustStore.passwordPath={}", pw.display());
        let c = config(&[
            "client.portUnification=true",
            "client.certReload=true",
            "ssl.clientAuth=want",
            "ssl.protocol=TLSv1.3",
            "ssl.enabledProtocols=TLSv1.2, TLSv1.3",
            "ssl.ciphersuites=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "ssl.trustStore.location=/t.jks",
            "ssl.trustStore.password=ignored",
            &pw_line,
            "ssl.trustStore.type=JKS",
            "ssl.hostnameVerification=false",
            "ssl.crl=true",
        ]);
        let t = ClientTls::from_config(&c).expect("ok").expect("tls on");
        assert!(t.port_unification);
        let s = t.settings;
        assert_eq!(s.client_auth, ClientAuth::Want);
        assert_eq!(s.protocols, ["TLSv1.2", "TLSv1.3"]);
        assert_eq!(s.cipher_suites.as_deref().map(<[String]>::len), Some(2));
        assert!(s.cert_reload);
        assert!(!s.hostname_verification);
        let ts = s.trust_store.expect("trust store");
        assert_eq!((ts.password.as_str(), ts.kind.as_deref()), ("from-file", Some("JKS")));
        assert_eq!(s.unsupported.len(), 1);
        assert!(x509_provider_enabled(&c));
    }

    #[test]
    fn off_without_a_secure_port_and_bad_client_auth() {
        assert_eq!(ClientTls::from_config(&config(&[])), Ok(None));
        assert!(!x509_provider_enabled(&config(&[])));
        let c = config(&["secureClientPort=2281", "ssl.clientAuth=maybe"]);
        assert!(matches!(ClientTls::from_config(&c), Err(TlsSettingsError::ClientAuth { .. })));
    }
}
