//! Where a setting came from, the errors that stop start-up, and the warnings that do not.
//!
//! Errors are for what makes ZooKeeper 3.8 refuse to start (and a few things rzk cannot run with);
//! each names the key and the place it came from (`zoo.cfg:7`, `$SERVER_JVMFLAGS`, ...). Warnings
//! are for what ZooKeeper accepts but quietly ignores, adjusts or reads surprisingly; the server
//! logs them at start-up.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A configuration file; `line` is `None` for the file as a whole (e.g. a key that is missing).
    File { path: PathBuf, line: Option<u32> },
    /// A `-D` flag in an environment variable such as `SERVER_JVMFLAGS`.
    EnvVar(String),
    /// A `-D` argument on the server's command line.
    CommandLine,
    /// Set by the configuration reader itself, as ZooKeeper's code does (e.g. the x509 auth
    /// provider that a secure client port implies).
    Derived,
}

impl Origin {
    pub fn file_line(path: impl Into<PathBuf>, line: u32) -> Origin {
        Origin::File { path: path.into(), line: Some(line) }
    }

    pub fn file(path: impl Into<PathBuf>) -> Origin {
        Origin::File { path: path.into(), line: None }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line: Some(line) } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::EnvVar(name) => write!(f, "${name}"),
            Origin::CommandLine => f.write_str("command line"),
            Origin::Derived => f.write_str("(derived)"),
        }
    }
}

/// A configuration the server must not start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file (or the dynamic one, or `myid`) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The file is not a valid properties file (a malformed `\uXXXX` escape).
    #[error("{at}: {message}")]
    Syntax { at: Origin, message: String },
    /// A value that does not parse or is out of range.
    #[error("{at}: invalid value \"{value}\" for {key}: {reason}")]
    InvalidValue { at: Origin, key: String, value: String, reason: String },
    /// Settings that are each well formed but do not fit together, or a required one is missing.
    #[error("{at}: {message}")]
    Invalid { at: Origin, key: String, message: String },
}

impl ConfigError {
    /// The key the error is about ("" for read and syntax errors).
    pub fn key(&self) -> &str {
        match self {
            ConfigError::Read { .. } | ConfigError::Syntax { .. } => "",
            ConfigError::InvalidValue { key, .. } | ConfigError::Invalid { key, .. } => key,
        }
    }

    /// Where the offending setting came from, when there is one place.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Syntax { at, .. }
            | ConfigError::InvalidValue { at, .. }
            | ConfigError::Invalid { at, .. } => Some(at),
        }
    }

    pub(crate) fn invalid_value(at: &Origin, key: &str, value: &str, reason: impl ToString) -> ConfigError {
        ConfigError::InvalidValue {
            at: at.clone(),
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn invalid(at: &Origin, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid { at: at.clone(), key: key.to_string(), message: message.into() }
    }
}

/// What a warning is about, for callers that want to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A zoo.cfg key ZooKeeper does not know; it became the system property `zookeeper.<key>`.
    UnknownKey,
    /// A zoo.cfg key that ZooKeeper reads only as a system property under another name, so in
    /// zoo.cfg it has no effect (e.g. `jute.maxbuffer`, `readonlymode.enabled`).
    NoEffect,
    /// A malformed value that ZooKeeper silently replaces by its default.
    ValueIgnored,
    /// A value ZooKeeper accepts but changes (e.g. `autopurge.snapRetainCount` below 3), or reads
    /// in a way that may surprise (e.g. `yes` read as false).
    ValueAdjusted,
    /// A quorum shape ZooKeeper accepts with a warning (one server, an even number, ...).
    Quorum,
    /// A problem in the JVM flags taken from the environment or the command line.
    LaunchFlag,
    /// A relative `dataDir` or `dataLogDir` not starting with `./` (ZooKeeper's
    /// `VerifyingFileFactory` warns: "Prepend ./ to indicate that you're sure!").
    RelativePath,
    /// A setting rzk reads but does not act on (yet).
    Unsupported,
}

/// Something ZooKeeper would accept that an operator probably wants to know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub at: Origin,
    pub key: String,
    pub kind: WarningKind,
    pub message: String,
}

impl ConfigWarning {
    pub(crate) fn new(
        at: &Origin,
        key: &str,
        kind: WarningKind,
        message: impl Into<String>,
    ) -> ConfigWarning {
        ConfigWarning { at: at.clone(), key: key.to_string(), kind, message: message.into() }
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_file_line_key_and_value() {
        let e =
            ConfigError::invalid_value(&Origin::file_line("zoo.cfg", 7), "tickTime", "abc", "not an integer");
        assert_eq!(e.to_string(), "zoo.cfg:7: invalid value \"abc\" for tickTime: not an integer");
        assert_eq!(e.key(), "tickTime");
    }

    #[test]
    fn origin_display() {
        assert_eq!(Origin::file("/etc/zk/zoo.cfg").to_string(), "/etc/zk/zoo.cfg");
        assert_eq!(Origin::EnvVar("JVMFLAGS".into()).to_string(), "$JVMFLAGS");
        assert_eq!(Origin::CommandLine.to_string(), "command line");
    }
}
