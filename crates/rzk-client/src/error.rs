//! The client's error type. A server's answer keeps its `ErrorCode` (and the client path it was
//! about, as Java's `KeeperException` does, so `Display` reads like `getMessage()`:
//! `KeeperErrorCode = NoNode for /a`). Arguments refused before anything is sent read like the
//! Java client's `IllegalArgumentException` messages.

use rzk_proto::{DecodeError, ErrorCode, MultiResult};

/// The result of a client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server answered with an error code, or the session did (ConnectionLoss, SessionExpired,
    /// AuthFailed, RequestTimeout are produced on the client side, as in Java).
    #[error("KeeperErrorCode = {code}{}", for_path(path))]
    Keeper { code: ErrorCode, path: Option<String> },
    /// A reply carried an error code this client does not know.
    #[error("KeeperErrorCode = unknown error code {0}")]
    UnknownCode(i32),
    /// A multi failed: `code` is the first non-zero sub-result, at `index`; `results` are all of them.
    #[error("KeeperErrorCode = {code}")]
    MultiFailed { code: ErrorCode, index: usize, results: Vec<MultiResult> },
    /// Refused before sending (bad path, bad TTL, ...); the text is the Java client's.
    #[error("{0}")]
    BadArgument(String),
    /// The connect string could not be parsed.
    #[error("invalid connect string: {0}")]
    ConnectString(String),
    /// A reply could not be decoded.
    #[error("malformed reply: {0}")]
    Decode(#[from] DecodeError),
}

fn for_path(path: &Option<String>) -> String {
    match path {
        Some(p) if !p.is_empty() => format!(" for {p}"),
        _ => String::new(),
    }
}

impl Error {
    /// An error for `code` about `path`.
    pub fn keeper(code: ErrorCode, path: Option<&str>) -> Error {
        Error::Keeper { code, path: path.map(str::to_owned) }
    }

    /// An error from a raw reply code (`code` ≠ 0).
    pub fn from_code(code: i32, path: Option<&str>) -> Error {
        match ErrorCode::from_code(code) {
            Some(c) => Error::keeper(c, path),
            None => Error::UnknownCode(code),
        }
    }

    /// The ZooKeeper error code, if this error has one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Keeper { code, .. } | Error::MultiFailed { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The error with its path set to `path` (used to report client paths under a chroot).
    pub fn with_path(self, path: &str) -> Error {
        match self {
            Error::Keeper { code, .. } => Error::keeper(code, Some(path)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_keeper_exception() {
        assert_eq!(
            Error::keeper(ErrorCode::NoNode, Some("/a")).to_string(),
            "KeeperErrorCode = NoNode for /a"
        );
        assert_eq!(Error::keeper(ErrorCode::InvalidAcl, None).to_string(), "KeeperErrorCode = InvalidACL");
        assert_eq!(
            Error::keeper(ErrorCode::NoWatcher, Some("/q")).to_string(),
            "KeeperErrorCode = No such watcher for /q"
        );
    }
}
