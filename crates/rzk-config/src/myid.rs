//! `dataDir/myid`: the server's id as ASCII decimal (`QuorumPeerConfig.setupMyId`).
//!
//! ZooKeeper reads the first line (up to LF, CR or CRLF) and gives it to `Long.parseLong` as is.
//! rzk also trims surrounding whitespace (so `" 1 "` is accepted, where ZooKeeper refuses it); it
//! accepts everything ZooKeeper accepts. An id of -1 is ZooKeeper's "unset" marker, so such a file
//! counts as no id at all.

use rzk_proto::ServerId;

use crate::java;

/// What a myid file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Myid {
    Id(ServerId),
    /// `-1`, which ZooKeeper treats as "no id".
    Unset,
}

/// Parses the bytes of a myid file; the error is the offending text.
pub fn parse_myid(bytes: &[u8]) -> Result<Myid, String> {
    let text = String::from_utf8_lossy(bytes);
    let first_line = text.split(['\n', '\r']).next().unwrap_or("");
    let trimmed = first_line.trim();
    match java::parse_long(trimmed) {
        Ok(-1) => Ok(Myid::Unset),
        Ok(id) => Ok(Myid::Id(ServerId(id))),
        Err(_) => Err(first_line.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        assert_eq!(parse_myid(b"1\n"), Ok(Myid::Id(ServerId(1))));
        assert_eq!(parse_myid(b"42"), Ok(Myid::Id(ServerId(42))));
        assert_eq!(parse_myid(b"7\r\n"), Ok(Myid::Id(ServerId(7))));
        assert_eq!(parse_myid(b" 3 \n"), Ok(Myid::Id(ServerId(3))));
        assert_eq!(parse_myid(b"+5\n"), Ok(Myid::Id(ServerId(5))));
        assert_eq!(parse_myid(b"2\ngarbage\n"), Ok(Myid::Id(ServerId(2))), "only the first line counts");
        assert_eq!(parse_myid(b"-1\n"), Ok(Myid::Unset));
    }

    #[test]
    fn rejected_forms() {
        assert_eq!(parse_myid(b""), Err(String::new()));
        assert_eq!(parse_myid(b"\n1\n"), Err(String::new()));
        assert_eq!(parse_myid(b"one\n"), Err("one".to_string()));
        assert_eq!(parse_myid(b"1.0"), Err("1.0".to_string()));
        assert_eq!(parse_myid(b"0x1"), Err("0x1".to_string()));
        assert_eq!(parse_myid(b"99999999999999999999"), Err("99999999999999999999".to_string()));
    }
}
