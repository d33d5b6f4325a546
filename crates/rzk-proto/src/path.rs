//! znode path rules (`PathUtils.validatePath`): absolute, no trailing slash, no empty or relative
//! segments, no NUL, and none of the control, surrogate, private-use or specials characters
//! ZooKeeper refuses. Invalid paths become BadArguments (or a refused request) at the server.

/// Checks a znode path; the error text is ZooKeeper's.
pub fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("Path length must be > 0".into());
    }
    if !path.starts_with('/') {
        return Err("Path must start with / character".into());
    }
    if path.len() == 1 {
        return Ok(());
    }
    if path.ends_with('/') {
        return Err("Path must not end with / character".into());
    }
    // Java walks UTF-16 units; index `i` in messages is the UTF-16 index.
    let units: Vec<u16> = path.encode_utf16().collect();
    let mut lastc = b'/' as u16;
    for i in 1..units.len() {
        let c = units[i];
        let reason = if c == 0 {
            Some("null character not allowed")
        } else if c == b'/' as u16 && lastc == b'/' as u16 {
            Some("empty node name specified")
        } else if c == b'.' as u16 && lastc == b'.' as u16 {
            let dot_dot_segment =
                units[i - 2] == b'/' as u16 && (i + 1 == units.len() || units[i + 1] == b'/' as u16);
            dot_dot_segment.then_some("relative paths not allowed")
        } else if c == b'.' as u16 {
            let dot_segment =
                units[i - 1] == b'/' as u16 && (i + 1 == units.len() || units[i + 1] == b'/' as u16);
            dot_segment.then_some("relative paths not allowed")
        } else if (c > 0 && c <= 0x1f)
            || (0x7f..=0x9f).contains(&c)
            || (0xd800..=0xf8ff).contains(&c)
            || c >= 0xfff0
        {
            Some("invalid character")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(format!("Invalid path string \"{path}\" caused by {reason} @{i}"));
        }
        lastc = c;
    }
    Ok(())
}

/// The parent of a path ("/" for top-level nodes); `None` for "/" itself.
pub fn parent(path: &str) -> Option<&str> {
    let slash = path.rfind('/')?;
    if path.len() == 1 {
        return None;
    }
    Some(if slash == 0 { "/" } else { &path[..slash] })
}

/// The last segment of a path ("" for "/").
pub fn basename(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// `parent + "/" + child`, without doubling the root's slash.
pub fn join(parent: &str, child: &str) -> String {
    if parent == "/" { format!("/{child}") } else { format!("{parent}/{child}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zookeeper_path_rules() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/..a", "/a/...", "/zookeeper", "/é"] {
            assert_eq!(validate_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a",
            "/a/",
            "//a",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0",
            "/a\u{1}",
            "/\u{1F600}",
            "/\u{E000}",
            "/\u{FFF0}",
        ] {
            assert!(validate_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_path("/a//b").unwrap_err(),
            "Invalid path string \"/a//b\" caused by empty node name specified @3"
        );
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/"), None);
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(basename("/a/b"), "b");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }
}
