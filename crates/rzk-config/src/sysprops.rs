//! The Java system properties ZooKeeper would see, as one value instead of a global.
//!
//! ZooKeeper reads much of its configuration with `System.getProperty` and friends. Those come from
//! `-D` flags (see `jvmflags`) and from zoo.cfg, whose unknown keys `K` become `zookeeper.K`. Later
//! sets win, as `System.setProperty` does. The accessors copy `Boolean.getBoolean`,
//! `Integer.getInteger` and `Long.getLong`, so that rzk reads each property as ZooKeeper does.

use std::collections::BTreeMap;

use crate::error::Origin;
use crate::java;

/// One system property and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysProp {
    pub value: String,
    pub origin: Origin,
}

/// The system properties, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProps {
    map: BTreeMap<String, SysProp>,
}

impl SystemProps {
    pub fn new() -> SystemProps {
        SystemProps::default()
    }

    /// `System.setProperty`: replaces any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>, origin: Origin) {
        self.map.insert(name.into(), SysProp { value: value.into(), origin });
    }

    /// `System.getProperty(name)`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(|p| p.value.as_str())
    }

    /// The property with its origin.
    pub fn entry(&self, name: &str) -> Option<&SysProp> {
        self.map.get(name)
    }

    /// `Boolean.getBoolean(name)`: true only for "true" in any case.
    pub fn get_boolean(&self, name: &str) -> bool {
        self.get(name).is_some_and(java::parse_boolean)
    }

    /// `Integer.getInteger(name, default)`: `Integer.decode` of the value, or `default` if the
    /// property is unset or malformed.
    pub fn get_integer(&self, name: &str, default: i32) -> i32 {
        self.get(name).and_then(|v| java::decode_int(v).ok()).unwrap_or(default)
    }

    /// `Long.getLong(name, default)`.
    pub fn get_long(&self, name: &str, default: i64) -> i64 {
        self.get(name).and_then(|v| java::decode_long(v).ok()).unwrap_or(default)
    }

    /// All properties, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SysProp)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The properties whose names start with `prefix`, by name.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a SysProp)> {
        self.map
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> SystemProps {
        let mut p = SystemProps::new();
        for (k, v) in pairs {
            p.set(*k, *v, Origin::CommandLine);
        }
        p
    }

    #[test]
    fn later_set_wins() {
        let mut p = props(&[("a", "1")]);
        p.set("a", "2", Origin::file_line("zoo.cfg", 3));
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(p.entry("a").map(|e| &e.origin), Some(&Origin::file_line("zoo.cfg", 3)));
    }

    #[test]
    fn java_accessors() {
        let p = props(&[
            ("t", "TRUE"),
            ("y", "yes"),
            ("hex", "0x10"),
            ("oct", "010"),
            ("bad", "12 "),
            ("big", "0x1ffffffff"),
        ]);
        assert!(p.get_boolean("t"));
        assert!(!p.get_boolean("y"));
        assert!(!p.get_boolean("unset"));
        assert_eq!(p.get_integer("hex", 7), 16);
        assert_eq!(p.get_integer("oct", 7), 8);
        assert_eq!(p.get_integer("bad", 7), 7);
        assert_eq!(p.get_integer("big", 7), 7);
        assert_eq!(p.get_long("big", 7), 0x1_ffff_ffff);
        assert_eq!(p.get_integer("unset", 7), 7);
    }

    #[test]
    fn prefix_iteration() {
        let p = props(&[
            ("zookeeper.authProvider.1", "a"),
            ("zookeeper.authProvider.sasl", "b"),
            ("zookeeper.authProviderX", "c"),
            ("zookeeper.b", "d"),
        ]);
        let names: Vec<&str> = p.with_prefix("zookeeper.authProvider.").map(|(k, _)| k).collect();
        assert_eq!(names, ["zookeeper.authProvider.1", "zookeeper.authProvider.sasl"]);
    }
}
