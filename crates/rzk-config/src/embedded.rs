//! The configuration `rzk server` uses when given no zoo.cfg: one standalone server for local use,
//! on 127.0.0.1:2181 only, keeping its data in `./data` under the working directory, with every
//! four-letter word enabled. The text is a constant so that `rzk server --print-default-config` can
//! show it and an operator can start from it.

use std::path::Path;

use crate::build::{Loaded, parse_config};
use crate::config::Config;
use crate::error::ConfigError;
use crate::files::NoFiles;
use crate::jvmflags::system_props_from_launch;
use crate::sysprops::SystemProps;

/// The built-in zoo.cfg.
pub const EMBEDDED_DEFAULT_CONFIG: &str = "\
# rzk's built-in configuration, used by `rzk server` when no zoo.cfg is given:
# one standalone server for local use. Copy it to start your own zoo.cfg.

# The length of a tick, the unit of the other timeouts, in milliseconds.
tickTime=2000
# Snapshots and transaction logs, relative to the working directory.
dataDir=./data
# Clients connect here; only from this machine.
clientPort=2181
clientPortAddress=127.0.0.1
# Answer every four-letter word (ruok, stat, mntr, ...).
4lw.commands.whitelist=*
";

/// The name under which the built-in configuration appears in messages.
pub const EMBEDDED_DEFAULT_NAME: &str = "(built-in default config)";

impl Config {
    /// The built-in configuration, without any system properties from the launch.
    pub fn embedded_default() -> Config {
        match parse_config(
            Path::new(EMBEDDED_DEFAULT_NAME),
            EMBEDDED_DEFAULT_CONFIG.as_bytes(),
            SystemProps::new(),
            &NoFiles,
        ) {
            Ok(loaded) => Config { config_file: None, ..loaded.config },
            // A constant that the tests below parse; it cannot fail at run time.
            Err(e) => panic!("the built-in default config is invalid: {e}"),
        }
    }
}

/// The built-in configuration with the launch's `-D` flags (from `SERVER_JVMFLAGS`, `JVMFLAGS` and
/// `args`) applied, as `rzk server` without a zoo.cfg uses it.
pub fn load_embedded<I, K, V>(env: I, args: &[String]) -> Result<Loaded, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let (sysprops, mut warnings) = system_props_from_launch(env, args);
    let mut loaded = parse_config(
        Path::new(EMBEDDED_DEFAULT_NAME),
        EMBEDDED_DEFAULT_CONFIG.as_bytes(),
        sysprops,
        &NoFiles,
    )?;
    loaded.config.config_file = None;
    warnings.append(&mut loaded.warnings);
    loaded.warnings = warnings;
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::four_letter_words::FourLetterWords;
    use crate::server_entry::HostPort;

    #[test]
    fn embedded_default_is_a_local_standalone_server() {
        let c = Config::embedded_default();
        assert!(!c.is_distributed());
        assert_eq!(c.config_file, None);
        assert_eq!(c.tick_time_ms, 2000);
        assert_eq!(c.min_session_timeout_ms, 4000);
        assert_eq!(c.max_session_timeout_ms, 40000);
        assert_eq!(c.client_address, Some(HostPort::new("127.0.0.1", 2181)));
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.data_log_dir, PathBuf::from("./data"));
        assert_eq!(c.four_letter_words, FourLetterWords::All);
        assert!(c.admin.enabled);
        assert_eq!(c.admin.server_port, 8080);
        assert_eq!(c.server_id, None);
        assert_eq!(c.initial_config, EMBEDDED_DEFAULT_CONFIG);
    }

    #[test]
    fn embedded_default_has_no_warnings() {
        let loaded = load_embedded(Vec::<(String, String)>::new(), &[]).expect("valid");
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn embedded_default_takes_launch_flags() {
        let loaded = load_embedded(
            [("SERVER_JVMFLAGS", "-Dzookeeper.admin.enableServer=false")],
            &["-Djute.maxbuffer=4096".to_string()],
        )
        .expect("valid");
        assert!(!loaded.config.admin.enabled);
        assert_eq!(loaded.config.jute_maxbuffer_bytes, 4096);
    }
}
