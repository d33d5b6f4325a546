//! Which four-letter words the server answers (`FourLetterCommands.isEnabled`).
//!
//! The list comes from the system property `zookeeper.4lw.commands.whitelist` (zoo.cfg key
//! `4lw.commands.whitelist`): comma-separated, each name trimmed, `*` for all. `srvr` is always
//! enabled (zkServer.sh status uses it) and `isro` is added when the system property
//! `readonlymode.enabled` is exactly "true" (this check is case-sensitive, unlike the one that turns
//! read-only mode on).

use std::collections::BTreeSet;

/// Every four-letter word ZooKeeper 3.8 knows (`FourLetterCommands.cmd2String`).
pub const ALL_FOUR_LETTER_WORDS: [&str; 19] = [
    "conf",
    "cons",
    "crst",
    "dirs",
    "dump",
    "envi",
    "gtmk",
    "ruok",
    "stmk",
    "srst",
    "srvr",
    "stat",
    "wchc",
    "wchp",
    "wchs",
    "mntr",
    "isro",
    "telnet close",
    "hash",
];

/// The enabled four-letter words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWords {
    /// `*`: every command.
    All,
    /// The listed commands (unknown names are kept, as ZooKeeper keeps them; they match nothing).
    Only(BTreeSet<String>),
}

impl FourLetterWords {
    /// Resolves the whitelist property and the read-only flag as ZooKeeper does.
    pub fn from_whitelist(whitelist: Option<&str>, read_only_exactly_true: bool) -> FourLetterWords {
        let mut enabled = BTreeSet::new();
        if let Some(list) = whitelist {
            for cmd in list.split(',') {
                let cmd = crate::java::trim(cmd);
                if cmd == "*" {
                    return FourLetterWords::All;
                }
                if !cmd.is_empty() {
                    enabled.insert(cmd.to_string());
                }
            }
        }
        if read_only_exactly_true {
            enabled.insert("isro".to_string());
        }
        enabled.insert("srvr".to_string());
        FourLetterWords::Only(enabled)
    }

    /// Whether `command` (e.g. "ruok") is enabled.
    pub fn is_enabled(&self, command: &str) -> bool {
        match self {
            FourLetterWords::All => ALL_FOUR_LETTER_WORDS.contains(&command),
            FourLetterWords::Only(set) => set.contains(command),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(names: &[&str]) -> FourLetterWords {
        FourLetterWords::Only(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn default_is_srvr_only() {
        assert_eq!(FourLetterWords::from_whitelist(None, false), only(&["srvr"]));
        assert_eq!(FourLetterWords::from_whitelist(None, true), only(&["isro", "srvr"]));
    }

    #[test]
    fn list_is_trimmed_and_empty_items_skipped() {
        let w = FourLetterWords::from_whitelist(Some(" ruok , stat,,mntr "), false);
        assert_eq!(w, only(&["mntr", "ruok", "srvr", "stat"]));
        assert!(w.is_enabled("ruok"));
        assert!(!w.is_enabled("dump"));
    }

    #[test]
    fn star_enables_everything() {
        let w = FourLetterWords::from_whitelist(Some("ruok, * ,bogus"), false);
        assert_eq!(w, FourLetterWords::All);
        assert!(w.is_enabled("dump") && w.is_enabled("hash") && w.is_enabled("isro"));
        assert!(!w.is_enabled("xyzw"));
    }
}
