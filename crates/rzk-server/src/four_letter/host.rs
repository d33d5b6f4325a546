//! Facts about the process and its disk that some four-letter words print (`conf`, `dirs`,
//! `mntr`, `envi`). The connection task gathers them on a blocking thread before it asks the
//! core, so the core never waits on the file system.

use std::path::{Path, PathBuf};

use rzk_storage::VERSION_DIR;

use crate::four_letter::envi;

/// Deepest directory nesting summed by [`dir_bytes`] (a guard against symlink loops).
const DIR_DEPTH_MAX: usize = 32;

/// The directories the server keeps its files in, as configured.
#[derive(Debug, Clone)]
pub struct DataDirs {
    pub data_dir: PathBuf,
    pub data_log_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct HostFacts {
    /// `<dataDir>/version-2` and `<dataLogDir>/version-2`, absolute (`File.getAbsolutePath`).
    pub snap_dir: PathBuf,
    pub log_dir: PathBuf,
    /// Bytes of the files under each.
    pub snap_dir_bytes: u64,
    pub log_dir_bytes: u64,
    /// Open and allowed file descriptors of the process; −1 when unknown.
    pub open_fds: i64,
    pub max_fds: i64,
    /// `envi`'s key/value list.
    pub env: Vec<(&'static str, String)>,
}

impl Default for HostFacts {
    fn default() -> Self {
        HostFacts {
            snap_dir: PathBuf::new(),
            log_dir: PathBuf::new(),
            snap_dir_bytes: 0,
            log_dir_bytes: 0,
            open_fds: -1,
            max_fds: -1,
            env: Vec::new(),
        }
    }
}

impl HostFacts {
    /// Whether `word` prints anything gathered here.
    pub fn needed(word: &[u8; 4]) -> bool {
        matches!(word, b"conf" | b"dirs" | b"mntr" | b"envi")
    }

    /// Gathers what `word` prints (blocking: reads directories and /proc).
    pub fn gather(word: &[u8; 4], dirs: &DataDirs) -> HostFacts {
        let mut f = HostFacts::default();
        match word {
            b"conf" | b"dirs" => {
                f.snap_dir = absolute(&dirs.data_dir.join(VERSION_DIR));
                f.log_dir = absolute(&dirs.data_log_dir.join(VERSION_DIR));
                f.snap_dir_bytes = dir_bytes(&f.snap_dir, 0);
                f.log_dir_bytes = dir_bytes(&f.log_dir, 0);
            }
            b"mntr" => {
                f.open_fds = open_fds();
                f.max_fds = max_fds();
            }
            b"envi" => f.env = envi::gather(),
            _ => {}
        }
        f
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// `ZooKeeperServer.getDirSize`: the lengths of all files below `p` (following symlinks).
pub fn dir_bytes(p: &Path, depth: usize) -> u64 {
    let Ok(meta) = std::fs::metadata(p) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    if depth >= DIR_DEPTH_MAX {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(p) else { return 0 };
    entries.filter_map(Result::ok).map(|e| dir_bytes(&e.path(), depth + 1)).sum()
}

/// Entries of /proc/self/fd, less the one reading it (as the JDK's `OperatingSystemMXBean`).
fn open_fds() -> i64 {
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries.count() as i64 - 1,
        Err(_) => -1,
    }
}

/// The soft `RLIMIT_NOFILE` from /proc/self/limits (−1 when unlimited or unknown).
fn max_fds() -> i64 {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else { return -1 };
    parse_max_open_files(&limits).unwrap_or(-1)
}

fn parse_max_open_files(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_sizes_sum_files_recursively() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_bytes(dir.path(), 0), 15);
        assert_eq!(dir_bytes(&dir.path().join("missing"), 0), 0);
    }

    #[test]
    fn open_file_limit_is_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
        let unlimited = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_open_files(unlimited), None);
    }

    #[test]
    fn conf_facts_name_the_version_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = DataDirs { data_dir: dir.path().to_owned(), data_log_dir: dir.path().join("log") };
        let f = HostFacts::gather(b"conf", &dirs);
        assert_eq!(f.snap_dir, dir.path().join("version-2"));
        assert_eq!(f.log_dir, dir.path().join("log/version-2"));
        assert_eq!(f.open_fds, -1);
        assert!(HostFacts::gather(b"mntr", &dirs).open_fds > 0);
    }
}
