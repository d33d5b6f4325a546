//! How the pure configuration reader gets the other files it needs (`dataDir/myid` and the dynamic
//! configuration file), without doing I/O itself: the loader passes the file system, tests and the
//! simulator pass a map.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Reads a whole file. `Ok(None)` when there is no regular file at `path` (ZooKeeper checks
/// `File.isFile()` before reading `myid`, so a missing file and a directory are both "absent").
pub trait ConfigFiles {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>>;
}

/// Files held in memory, by path.
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemFiles {
    pub fn new() -> MemFiles {
        MemFiles::default()
    }

    /// Adds (or replaces) a file.
    pub fn with(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> MemFiles {
        self.files.insert(path.into(), contents.into());
        self
    }
}

impl ConfigFiles for MemFiles {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }
}

/// No files at all: for the built-in default configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl ConfigFiles for NoFiles {
    fn read(&self, _path: &Path) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}
