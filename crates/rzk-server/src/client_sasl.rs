//! Client SASL in the shell: turns the validated settings ([`rzk_config::ClientSaslConfig`]) into
//! the core's [`SaslConfig`], with the one thing the pure core must not fetch itself: the secret
//! key its DIGEST-MD5 nonces are derived from, read from the operating system's random source.

use rzk_config::ClientSaslConfig;
use rzk_node::sasl::{NONCE_KEY_BYTES, SaslConfig};

use crate::from_config::SettingsError;

/// The core's SASL settings. Fails only if the OS has no random source to read the key from.
pub fn sasl_config(c: &ClientSaslConfig) -> Result<SaslConfig, SettingsError> {
    let mut nonce_key = [0u8; NONCE_KEY_BYTES];
    getrandom::fill(&mut nonce_key)
        .map_err(|e| SettingsError::Invalid(format!("cannot read random bytes for SASL nonces: {e}")))?;
    if let (Some(users), Some(file)) = (&c.users, &c.jaas_file) {
        tracing::info!(
            jaas = %file.display(),
            section = %c.server_section,
            users = users.len(),
            sasl_provider = c.sasl_provider,
            "client SASL: DIGEST-MD5"
        );
    }
    if !c.enforce_schemes.is_empty() {
        tracing::info!(schemes = ?c.enforce_schemes, "client authentication is enforced");
    }
    Ok(SaslConfig {
        users: c.users.clone(),
        super_password: c.super_password.clone(),
        super_users: c.super_users.clone(),
        allow_failed_clients: c.allow_failed_clients,
        nonce_key,
    })
}
