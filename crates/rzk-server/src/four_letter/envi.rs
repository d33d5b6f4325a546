//! `envi` (`EnvCommand`, `Environment.list`): the same keys in the same order as ZooKeeper,
//! with rzk's values. The `java.*` keys have no meaning for rzk and say so (`<NA (rzk)>`), except
//! `java.io.tmpdir`, which names the temp directory rzk would use. `os.memory.*` are the JVM's
//! heap figures in ZooKeeper; rzk has no heap and reports, in MB, the system's available memory
//! (free), its total memory (max) and rzk's resident set (total).

use crate::four_letter::full_version;

/// What rzk prints for a Java property it has no counterpart for.
pub const NOT_APPLICABLE: &str = "<NA (rzk)>";
/// What ZooKeeper prints for a value it cannot find.
const UNKNOWN: &str = "<NA>";

const MIB: u64 = 1024 * 1024;

/// The `Environment:` list (blocking: reads /proc and /etc/passwd).
pub fn gather() -> Vec<(&'static str, String)> {
    let user = user();
    let mem = memory();
    let na = || NOT_APPLICABLE.to_owned();
    vec![
        ("zookeeper.version", full_version()),
        ("host.name", host_name()),
        ("java.version", na()),
        ("java.vendor", na()),
        ("java.home", na()),
        ("java.class.path", na()),
        ("java.library.path", na()),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", na()),
        ("os.name", os_name().to_owned()),
        ("os.arch", os_arch().to_owned()),
        ("os.version", read_trimmed("/proc/sys/kernel/osrelease")),
        ("user.name", user.as_ref().map_or_else(|| UNKNOWN.to_owned(), |u| u.0.clone())),
        ("user.home", user.as_ref().map_or_else(|| UNKNOWN.to_owned(), |u| u.1.clone())),
        (
            "user.dir",
            std::env::current_dir().map_or_else(|_| UNKNOWN.to_owned(), |d| d.display().to_string()),
        ),
        ("os.memory.free", mb(mem.available)),
        ("os.memory.max", mb(mem.total)),
        ("os.memory.total", mb(mem.resident)),
    ]
}

/// `Environment:` then one `key=value` line each.
pub fn render(env: &super::HostFacts) -> String {
    let mut out = String::from("Environment:\n");
    for (k, v) in &env.env {
        out.push_str(&format!("{k}={v}\n"));
    }
    out
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| UNKNOWN.to_owned(), |b| format!("{}MB", b / MIB))
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| UNKNOWN.to_owned(), |s| s.trim().to_owned())
}

/// The host's name (ZooKeeper prints the canonical name of the local address; rzk does no
/// reverse lookup).
fn host_name() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
}

/// Java's `os.name` for the platforms rzk builds on.
fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Mac OS X",
        "freebsd" => "FreeBSD",
        "windows" => "Windows",
        other => other,
    }
}

/// Java's `os.arch` (`amd64` where Rust says `x86_64`).
fn os_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        other => other,
    }
}

/// (name, home) of the process's real user, from /proc/self/status and /etc/passwd.
fn user() -> Option<(String, String)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd_entry(&passwd, &uid)
}

fn passwd_entry(passwd: &str, uid: &str) -> Option<(String, String)> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[2] == uid).then(|| (f[0].to_owned(), f[5].to_owned()))
    })
}

struct Memory {
    available: Option<u64>,
    total: Option<u64>,
    resident: Option<u64>,
}

fn memory() -> Memory {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    Memory {
        available: kb_field(&meminfo, "MemAvailable:"),
        total: kb_field(&meminfo, "MemTotal:"),
        resident: kb_field(&status, "VmRSS:"),
    }
}

/// A `Key:   123 kB` line of /proc, in bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    let kb: u64 = text.lines().find_map(|l| l.strip_prefix(key))?.split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_are_zookeepers_in_order() {
        let keys: Vec<&str> = gather().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "zookeeper.version",
                "host.name",
                "java.version",
                "java.vendor",
                "java.home",
                "java.class.path",
                "java.library.path",
                "java.io.tmpdir",
                "java.compiler",
                "os.name",
                "os.arch",
                "os.version",
                "user.name",
                "user.home",
                "user.dir",
                "os.memory.free",
                "os.memory.max",
                "os.memory.total",
            ]
        );
    }

    #[test]
    fn proc_fields_parse() {
        assert_eq!(kb_field("MemTotal:       16384 kB\nMemFree: 1 kB\n", "MemTotal:"), Some(16384 * 1024));
        assert_eq!(kb_field("", "VmRSS:"), None);
        assert_eq!(mb(Some(5 * MIB + 3)), "5MB");
        let passwd = "root:x:0:0:root:/root:/bin/bash\nzk:x:1000:1000::/home/zk:/bin/sh\n";
        assert_eq!(passwd_entry(passwd, "1000"), Some(("zk".to_owned(), "/home/zk".to_owned())));
        assert_eq!(passwd_entry(passwd, "7"), None);
    }
}
