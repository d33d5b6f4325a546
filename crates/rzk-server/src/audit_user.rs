//! Who runs the server, for the audit log's server-side lines (ZooKeeper's
//! `ServerCnxnFactory.getUserName()`: the JVM's `user.name`, the name of the effective uid).

/// The name of the process's effective user from /etc/passwd; the `USER` variable or the
/// number when there is no entry.
pub fn server_user() -> String {
    let euid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().nth(1).map(str::to_owned))
    });
    if let Some(uid) = &euid
        && let Ok(passwd) = std::fs::read_to_string("/etc/passwd")
        && let Some(name) = user_of(&passwd, uid)
    {
        return name;
    }
    std::env::var("USER").ok().filter(|u| !u.is_empty()).or(euid).unwrap_or_else(|| "unknown".to_owned())
}

/// The name on the passwd line whose uid is `uid`.
fn user_of(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        (f.next()? == uid).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passwd_line_with_the_uid_names_the_user() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nzookeeper:x:107:112::/var/lib/zookeeper:/bin/false\n";
        assert_eq!(user_of(passwd, "107").as_deref(), Some("zookeeper"));
        assert_eq!(user_of(passwd, "0").as_deref(), Some("root"));
        assert_eq!(user_of(passwd, "5"), None);
    }

    #[test]
    fn this_process_has_a_user() {
        assert!(!server_user().is_empty());
    }
}
