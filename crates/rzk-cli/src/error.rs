//! `CliException` and its subclasses as one type: the message zkCli prints on stderr and the exit
//! code it leaves. `from_client` is `CliWrapperException.getMessage`: friendly text for the
//! common ZooKeeper errors, `KeeperErrorCode = ...` otherwise.

use rzk_client::{Error, ErrorCode};

/// `CliException.DEFAULT_EXCEPTION_EXIT_CODE`.
pub const EXIT_ERROR: i32 = 1;
/// `CommandNotFoundException`'s exit code.
pub const EXIT_COMMAND_NOT_FOUND: i32 = 127;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub exit_code: i32,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError { message: message.into(), exit_code: EXIT_ERROR }
    }

    /// `CliWrapperException` around a client error (or `MalformedPathException` for an argument
    /// the client refused before sending).
    pub fn from_client(e: &Error) -> CliError {
        let path = match e {
            Error::Keeper { path: Some(p), .. } => p.as_str(),
            _ => "null",
        };
        let message = match e.code() {
            Some(ErrorCode::NoNode) => format!("Node does not exist: {path}"),
            Some(ErrorCode::NoChildrenForEphemerals) => format!("Ephemerals cannot have children: {path}"),
            Some(ErrorCode::NodeExists) => format!("Node already exists: {path}"),
            Some(ErrorCode::NotEmpty) => format!("Node not empty: {path}"),
            Some(ErrorCode::NotReadOnly) => format!("Not a read-only call: {path}"),
            Some(ErrorCode::InvalidAcl) => format!("Acl is not valid : {path}"),
            Some(ErrorCode::NoAuth) => format!("Insufficient permission : {path}"),
            Some(ErrorCode::BadArguments) => format!("Arguments are not valid : {path}"),
            Some(ErrorCode::BadVersion) => format!("version No is not valid : {path}"),
            Some(ErrorCode::ReconfigInProgress) => {
                "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
                    .to_owned()
            }
            Some(ErrorCode::NewConfigNoQuorum) => {
                "No quorum of new config is connected and up-to-date with the \
                 leader of last commmitted config - try invoking reconfiguration after new servers are \
                 connected and synced"
                    .to_owned()
            }
            Some(ErrorCode::QuotaExceeded) => format!("Quota has exceeded : {path}"),
            _ => e.to_string(),
        };
        CliError::new(message)
    }

    /// A number that did not parse where Java's `Integer.parseInt` would have thrown. (zkCli dies
    /// with this uncaught exception; rzk reports it and carries on.)
    pub fn number_format(s: &str) -> CliError {
        CliError::new(format!("java.lang.NumberFormatException: For input string: \"{s}\""))
    }
}

impl From<&Error> for CliError {
    fn from(e: &Error) -> CliError {
        CliError::from_client(e)
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        CliError::from_client(&e)
    }
}

/// `Integer.parseInt`.
pub fn parse_int(s: &str) -> Result<i32, CliError> {
    s.parse().map_err(|_| CliError::number_format(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_messages() {
        let e = Error::keeper(ErrorCode::NoNode, Some("/a"));
        assert_eq!(CliError::from(e).message, "Node does not exist: /a");
        let e = Error::keeper(ErrorCode::InvalidAcl, None);
        assert_eq!(CliError::from(e).message, "Acl is not valid : null");
        let e = Error::keeper(ErrorCode::NoWatcher, Some("/q"));
        assert_eq!(CliError::from(e).message, "KeeperErrorCode = No such watcher for /q");
        let e = Error::BadArgument("Path must start with / character".into());
        assert_eq!(CliError::from(e).message, "Path must start with / character");
    }
}
