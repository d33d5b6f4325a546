//! Client SASL and enforced authentication, read as ZooKeeper 3.8 reads them:
//! `ServerCnxnFactory.configureSaslLogin` (the JAAS file named by
//! `-Djava.security.auth.login.config`, its section `zookeeper.sasl.serverconfig`, default
//! `Server`), `SaslServerCallbackHandler` (the `user_<name>="password"` options of every module
//! in that section), `ProviderRegistry` (`authProvider.N=…SASLAuthenticationProvider` gives the
//! `sasl` scheme) and `AuthenticationHelper` (`sessionRequireClientSASLAuth`,
//! `enforce.auth.enabled`, `enforce.auth.schemes`).
//!
//! As in ZooKeeper: no JAAS file means no SASL (clients' SASL tokens are answered OK with a null
//! token); a JAAS file that cannot be read or parsed stops start-up; a file without the section
//! means no SASL either. Enforcement without schemes, or with a scheme no provider serves, stops
//! start-up. Where rzk differs: login modules other than `DigestLoginModule` in the section
//! (Kerberos' `Krb5LoginModule` above all) stop start-up, since rzk serves only DIGEST-MD5
//! (ZooKeeper would log in with them and, for Kerberos, offer GSSAPI).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, ConfigWarning, Origin, WarningKind};
use crate::files::ConfigFiles;
use crate::jaas::parse_jaas;
use crate::sysprops::SystemProps;

/// The JVM property that names the JAAS file.
pub const JAAS_CONFIG_PROPERTY: &str = "java.security.auth.login.config";
/// `ZooKeeperSaslServer.LOGIN_CONTEXT_NAME_KEY` and its default.
pub const SERVER_SECTION_PROPERTY: &str = "zookeeper.sasl.serverconfig";
pub const DEFAULT_SERVER_SECTION: &str = "Server";
/// The login module ZooKeeper's DIGEST-MD5 users are configured with.
pub const DIGEST_LOGIN_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";
pub const KRB5_LOGIN_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";
/// `SaslServerCallbackHandler.USER_PREFIX`.
const USER_PREFIX: &str = "user_";

/// The providers ZooKeeper ships, by class name, and the scheme each serves.
const KNOWN_PROVIDERS: [(&str, &str); 6] = [
    ("org.apache.zookeeper.server.auth.SASLAuthenticationProvider", "sasl"),
    ("org.apache.zookeeper.server.auth.DigestAuthenticationProvider", "digest"),
    ("org.apache.zookeeper.server.auth.IPAuthenticationProvider", "ip"),
    ("org.apache.zookeeper.server.auth.X509AuthenticationProvider", "x509"),
    ("org.apache.zookeeper.server.auth.KeyAuthenticationProvider", "key"),
    ("org.apache.zookeeper.server.auth.EnsembleAuthenticationProvider", "ensemble"),
];

/// The client SASL settings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientSaslConfig {
    /// The JAAS file (`java.security.auth.login.config`, `=`/`file:` prefixes removed).
    pub jaas_file: Option<PathBuf>,
    /// `zookeeper.sasl.serverconfig` (default `Server`).
    pub server_section: String,
    /// DIGEST-MD5 passwords by user name; `None` when no JAAS section is configured.
    pub users: Option<BTreeMap<String, String>>,
    /// `zookeeper.SASLAuthenticationProvider.superPassword`.
    pub super_password: Option<String>,
    /// `zookeeper.superUser` and `zookeeper.superUser.*` values.
    pub super_users: Vec<String>,
    /// `zookeeper.allowSaslFailedClients`.
    pub allow_failed_clients: bool,
    /// Whether the `sasl` scheme has a provider (`authProvider.N=…SASLAuthenticationProvider`).
    pub sasl_provider: bool,
    /// `zookeeper.letAnySaslUserDoX`.
    pub any_user_acl: Option<String>,
    /// The enforced schemes (`sessionRequireClientSASLAuth` → `sasl`; else `enforce.auth.schemes`
    /// when `enforce.auth.enabled`); empty when nothing is enforced.
    pub enforce_schemes: Vec<String>,
}

impl fmt::Debug for ClientSaslConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the passwords.
        f.debug_struct("ClientSaslConfig")
            .field("jaas_file", &self.jaas_file)
            .field("server_section", &self.server_section)
            .field("users", &self.users.as_ref().map(|u| u.keys().collect::<Vec<_>>()))
            .field("super_password", &self.super_password.as_ref().map(|_| "<set>"))
            .field("super_users", &self.super_users)
            .field("allow_failed_clients", &self.allow_failed_clients)
            .field("sasl_provider", &self.sasl_provider)
            .field("any_user_acl", &self.any_user_acl)
            .field("enforce_schemes", &self.enforce_schemes)
            .finish()
    }
}

/// The file a `java.security.auth.login.config` value names: `==path` (override) and `=path` are
/// paths, as are `file:` URLs.
fn jaas_path(value: &str) -> PathBuf {
    let v = value.trim_start_matches('=');
    let v = v.strip_prefix("file://").or_else(|| v.strip_prefix("file:")).unwrap_or(v);
    PathBuf::from(v)
}

/// Reads the client SASL settings. `auth_providers` are the `zookeeper.authProvider.*` classes;
/// `digest_enabled` is `DigestAuthenticationProvider.enabled`; `files` reads the JAAS file.
pub(crate) fn read_client_sasl(
    props: &SystemProps,
    auth_providers: &BTreeMap<String, String>,
    digest_enabled: bool,
    files: &dyn ConfigFiles,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<ClientSaslConfig, ConfigError> {
    let origin = |name: &str| props.entry(name).map_or(Origin::Derived, |p| p.origin.clone());
    let server_section = props.get(SERVER_SECTION_PROPERTY).unwrap_or(DEFAULT_SERVER_SECTION).to_owned();
    let jaas_file = props.get(JAAS_CONFIG_PROPERTY).map(jaas_path);
    let provider_schemes: Vec<&str> = auth_providers
        .values()
        .filter_map(|class| KNOWN_PROVIDERS.iter().find(|(c, _)| c == class).map(|(_, s)| *s))
        .collect();
    let sasl_provider = provider_schemes.contains(&"sasl");
    let users = match &jaas_file {
        Some(path) => read_jaas_users(path, &server_section, props, files, &origin(JAAS_CONFIG_PROPERTY))?,
        None => None,
    };
    if users.is_some() && !sasl_provider {
        let message = "a JAAS server section is configured but no authProvider is \
             org.apache.zookeeper.server.auth.SASLAuthenticationProvider: SASL logins succeed, \
             but ACLs with the sasl scheme are invalid";
        warnings.push(ConfigWarning::new(
            &origin(JAAS_CONFIG_PROPERTY),
            "authProvider",
            WarningKind::ValueIgnored,
            message,
        ));
    }
    let enforce_schemes = enforce_schemes(props)?;
    for scheme in &enforce_schemes {
        let available = scheme == "ip"
            || (scheme == "digest" && digest_enabled)
            || provider_schemes.contains(&scheme.as_str());
        if !available {
            let key = if props.get_boolean("zookeeper.sessionRequireClientSASLAuth") {
                "sessionRequireClientSASLAuth"
            } else {
                "enforce.auth.schemes"
            };
            let at = origin(&format!("zookeeper.{key}"));
            return Err(ConfigError::invalid(
                &at,
                key,
                format!("Authentication scheme {scheme} is not available."),
            ));
        }
    }
    let super_users = props
        .iter()
        .filter(|(k, _)| *k == "zookeeper.superUser" || k.starts_with("zookeeper.superUser."))
        .map(|(_, p)| p.value.clone())
        .filter(|v| !v.is_empty())
        .collect();
    Ok(ClientSaslConfig {
        jaas_file,
        server_section,
        users,
        super_password: props.get("zookeeper.SASLAuthenticationProvider.superPassword").map(str::to_owned),
        super_users,
        allow_failed_clients: props.get_boolean("zookeeper.allowSaslFailedClients"),
        sasl_provider,
        any_user_acl: props.get("zookeeper.letAnySaslUserDoX").map(str::to_owned),
        enforce_schemes,
    })
}

/// Quorum SASL's logins (`QuorumPeer.initialize` with `quorum.auth.enableSasl`): the server
/// section's `user_<name>` passwords (`SaslQuorumServerCallbackHandler`) and the learner
/// section's `username` / `password` (what `DigestLoginModule` puts in the subject). As in
/// ZooKeeper, a missing JAAS file or section stops start-up.
pub(crate) fn read_quorum_sasl_logins(
    props: &SystemProps,
    files: &dyn ConfigFiles,
    sasl: &mut crate::config::QuorumSaslConfig,
) -> Result<(), ConfigError> {
    let key = JAAS_CONFIG_PROPERTY;
    let at = props.entry(key).map_or(Origin::Derived, |p| p.origin.clone());
    let missing = |section: &str| {
        ConfigError::invalid(
            &at,
            key,
            format!(
                "SASL-authentication failed because the specified JAAS configuration section '{section}' could not be found."
            ),
        )
    };
    let Some(path) = props.get(key).map(jaas_path) else {
        return Err(missing(&sasl.server_login_context));
    };
    let bytes = files
        .read(&path)
        .map_err(|source| ConfigError::Read { path: path.clone(), source })?
        .ok_or_else(|| missing(&sasl.server_login_context))?;
    let text = String::from_utf8_lossy(&bytes);
    let jaas =
        parse_jaas(&text, |name| props.get(name).map(str::to_owned)).map_err(|e| ConfigError::Syntax {
            at: if e.line == 0 { Origin::file(&path) } else { Origin::file_line(&path, e.line) },
            message: format!("JAAS configuration error: {}", e.message),
        })?;
    let mut sections = Vec::new();
    for section in [&sasl.server_login_context, &sasl.learner_login_context] {
        let entry = jaas.entry(section).ok_or_else(|| missing(section))?;
        if let Some(m) = entry.modules.iter().find(|m| m.class != DIGEST_LOGIN_MODULE) {
            let message = format!(
                "section '{section}': the login module {} is not supported by rzk; only {DIGEST_LOGIN_MODULE} (SASL DIGEST-MD5) is",
                m.class
            );
            return Err(ConfigError::invalid(&Origin::file_line(&path, entry.line), key, message));
        }
        sections.push(entry);
    }
    sasl.server_users = sections[0]
        .modules
        .iter()
        .flat_map(|m| m.options.iter())
        .filter_map(|(k, v)| k.strip_prefix(USER_PREFIX).map(|u| (u.to_owned(), v.clone())))
        .collect();
    let learner = &sections[1].modules;
    let username = learner.iter().find_map(|m| m.option("username"));
    let password = learner.iter().find_map(|m| m.option("password"));
    sasl.learner_credentials = username.zip(password).map(|(u, p)| (u.to_owned(), p.to_owned()));
    Ok(())
}

/// `AuthenticationHelper.initConfigurations` and `validateConfiguredProperties` (the provider
/// check is the caller's).
fn enforce_schemes(props: &SystemProps) -> Result<Vec<String>, ConfigError> {
    if props.get_boolean("zookeeper.sessionRequireClientSASLAuth") {
        return Ok(vec!["sasl".to_owned()]);
    }
    if !props.get_boolean("zookeeper.enforce.auth.enabled") {
        return Ok(Vec::new());
    }
    let schemes = props.get("zookeeper.enforce.auth.schemes").map(java_split_trim).unwrap_or_default();
    if schemes.is_empty() {
        let at = props.entry("zookeeper.enforce.auth.enabled").map_or(Origin::Derived, |p| p.origin.clone());
        let message =
            "zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be  configured.";
        return Err(ConfigError::invalid(&at, "enforce.auth.schemes", message));
    }
    Ok(schemes)
}

/// `value.split(",")` (Java: trailing empty strings dropped), each part trimmed.
fn java_split_trim(value: &str) -> Vec<String> {
    let mut parts: Vec<&str> = value.split(',').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts == [""] && !value.is_empty() {
        parts.clear();
    }
    parts.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// The `user_<name>` options of the section, or `None` if the file has no such section.
fn read_jaas_users(
    path: &Path,
    section: &str,
    props: &SystemProps,
    files: &dyn ConfigFiles,
    at: &Origin,
) -> Result<Option<BTreeMap<String, String>>, ConfigError> {
    let key = JAAS_CONFIG_PROPERTY;
    let bytes = files
        .read(path)
        .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?
        .ok_or_else(|| {
            ConfigError::invalid(at, key, format!("No JAAS configuration section named '{section}' was found in '{}': the file does not exist", path.display()))
        })?;
    let text = String::from_utf8_lossy(&bytes);
    let jaas =
        parse_jaas(&text, |name| props.get(name).map(str::to_owned)).map_err(|e| ConfigError::Syntax {
            at: if e.line == 0 { Origin::file(path) } else { Origin::file_line(path, e.line) },
            message: format!("JAAS configuration error: {}", e.message),
        })?;
    let Some(entry) = jaas.entry(section) else { return Ok(None) };
    let mut users = BTreeMap::new();
    for m in &entry.modules {
        if m.class != DIGEST_LOGIN_MODULE {
            let why = if m.class == KRB5_LOGIN_MODULE {
                "Kerberos (GSSAPI) is not supported by rzk".to_owned()
            } else {
                format!("the login module {} is not supported by rzk", m.class)
            };
            let message =
                format!("section '{section}': {why}; only {DIGEST_LOGIN_MODULE} (SASL DIGEST-MD5) is");
            return Err(ConfigError::invalid(&Origin::file_line(path, entry.line), key, message));
        }
        for (k, v) in &m.options {
            if let Some(user) = k.strip_prefix(USER_PREFIX) {
                users.insert(user.to_owned(), v.clone());
            }
        }
    }
    Ok(Some(users))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::MemFiles;

    const JAAS: &str = "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n    \
                        user_super=\"adminsecret\" user_bob=\"bobsecret\";\n};\n";
    const SASL_CLASS: &str = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";

    fn props(pairs: &[(&str, &str)]) -> SystemProps {
        let mut p = SystemProps::new();
        for (k, v) in pairs {
            p.set(*k, *v, Origin::CommandLine);
        }
        p
    }

    fn read(pairs: &[(&str, &str)], files: &MemFiles) -> Result<ClientSaslConfig, ConfigError> {
        let p = props(pairs);
        let providers: BTreeMap<String, String> = p
            .with_prefix("zookeeper.authProvider.")
            .map(|(k, v)| (k["zookeeper.authProvider.".len()..].to_owned(), v.value.clone()))
            .collect();
        read_client_sasl(&p, &providers, true, files, &mut Vec::new())
    }

    #[test]
    fn users_from_the_server_section() {
        let files = MemFiles::new().with("/j.conf", JAAS);
        let c = read(&[(JAAS_CONFIG_PROPERTY, "/j.conf"), ("zookeeper.authProvider.1", SASL_CLASS)], &files)
            .unwrap();
        let users = c.users.clone().unwrap();
        assert_eq!(users.get("bob").map(String::as_str), Some("bobsecret"));
        assert_eq!(users.len(), 2);
        assert!(c.sasl_provider);
        assert!(c.enforce_schemes.is_empty());
        assert!(!format!("{c:?}").contains("bobsecret"));
        // `==path` and file: URLs name the same file.
        for v in ["==/j.conf", "=/j.conf", "file:/j.conf", "file:///j.conf"] {
            assert_eq!(read(&[(JAAS_CONFIG_PROPERTY, v)], &files).unwrap().users, Some(users.clone()), "{v}");
        }
    }

    #[test]
    fn section_name_and_absence() {
        let files = MemFiles::new().with("/j.conf", JAAS.replace("Server", "ZkServer"));
        let none = read(&[(JAAS_CONFIG_PROPERTY, "/j.conf")], &files).unwrap();
        assert_eq!(none.users, None);
        let named = read(&[(JAAS_CONFIG_PROPERTY, "/j.conf"), (SERVER_SECTION_PROPERTY, "ZkServer")], &files);
        assert_eq!(named.unwrap().users.map(|u| u.len()), Some(2));
        // No JAAS file at all: no SASL, even with the section property set.
        assert_eq!(read(&[(SERVER_SECTION_PROPERTY, "ZkServer")], &files).unwrap().users, None);
    }

    #[test]
    fn bad_jaas_files_stop_start_up() {
        let files = MemFiles::new().with("/bad.conf", "Server {\n M required user_a=123; };").with(
            "/krb.conf",
            "Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };",
        );
        let e = read(&[(JAAS_CONFIG_PROPERTY, "/bad.conf")], &files).unwrap_err();
        assert_eq!(e.origin(), Some(&Origin::file_line("/bad.conf", 2)));
        let e = read(&[(JAAS_CONFIG_PROPERTY, "/krb.conf")], &files).unwrap_err();
        assert!(e.to_string().contains("Kerberos"), "{e}");
        let e = read(&[(JAAS_CONFIG_PROPERTY, "/missing.conf")], &files).unwrap_err();
        assert_eq!(e.key(), JAAS_CONFIG_PROPERTY);
    }

    #[test]
    fn enforcement() {
        let files = MemFiles::new();
        let sasl = ("zookeeper.authProvider.1", SASL_CLASS);
        let c = read(&[("zookeeper.sessionRequireClientSASLAuth", "TRUE"), sasl], &files).unwrap();
        assert_eq!(c.enforce_schemes, ["sasl"]);
        // Without the provider, ZooKeeper refuses to start.
        let e = read(&[("zookeeper.sessionRequireClientSASLAuth", "true")], &files).unwrap_err();
        assert!(e.to_string().contains("Authentication scheme sasl is not available."), "{e}");
        let c = read(
            &[
                ("zookeeper.enforce.auth.enabled", "true"),
                ("zookeeper.enforce.auth.schemes", "sasl, digest,"),
                sasl,
            ],
            &files,
        )
        .unwrap();
        assert_eq!(c.enforce_schemes, ["sasl", "digest"]);
        assert!(read(&[("zookeeper.enforce.auth.enabled", "true")], &files).is_err());
        assert!(
            read(
                &[("zookeeper.enforce.auth.enabled", "true"), ("zookeeper.enforce.auth.schemes", "x")],
                &files
            )
            .is_err()
        );
        let off = read(&[("zookeeper.enforce.auth.schemes", "sasl")], &files).unwrap();
        assert!(off.enforce_schemes.is_empty());
    }

    #[test]
    fn super_users_and_options() {
        let c = read(
            &[
                ("zookeeper.superUser", "admin"),
                ("zookeeper.superUser.2", "ops"),
                ("zookeeper.superUserX", "no"),
                ("zookeeper.allowSaslFailedClients", "true"),
                ("zookeeper.SASLAuthenticationProvider.superPassword", "sp"),
            ],
            &MemFiles::new(),
        )
        .unwrap();
        assert_eq!(c.super_users, ["admin", "ops"]);
        assert!(c.allow_failed_clients);
        assert_eq!(c.super_password.as_deref(), Some("sp"));
    }

    #[test]
    fn split_like_java() {
        assert_eq!(java_split_trim("a, b,,"), ["a", "b"]);
        assert_eq!(java_split_trim(",a"), ["", "a"]);
        assert_eq!(java_split_trim(""), [""]);
    }

    /// The whole path: `SERVER_JVMFLAGS` names the JAAS file, zoo.cfg registers the provider and
    /// requires SASL (unknown keys become `zookeeper.<key>` properties).
    #[test]
    fn from_server_jvmflags_and_zoo_cfg() {
        let env = [(
            "SERVER_JVMFLAGS",
            "-Xmx1g -Djava.security.auth.login.config=/etc/zk/jaas.conf -Dzookeeper.superUser=ops",
        )];
        let (sysprops, _) = crate::jvmflags::system_props_from_launch(env, &[]);
        let cfg = format!(
            "dataDir=/d\nclientPort=2181\nauthProvider.1={SASL_CLASS}\nsessionRequireClientSASLAuth=true\n"
        );
        let files = MemFiles::new().with("/etc/zk/jaas.conf", JAAS);
        let loaded =
            crate::build::parse_config(Path::new("/zoo.cfg"), cfg.as_bytes(), sysprops, &files).unwrap();
        let c = loaded.config.client_sasl;
        assert_eq!(c.jaas_file.as_deref(), Some(Path::new("/etc/zk/jaas.conf")));
        assert_eq!(
            c.users.map(|u| u.into_keys().collect::<Vec<_>>()),
            Some(vec!["bob".to_owned(), "super".to_owned()])
        );
        assert_eq!(c.enforce_schemes, ["sasl"]);
        assert_eq!(c.super_users, ["ops"]);
        assert!(c.sasl_provider);
    }
}
