//! The loader: the one place that touches the file system. It reads zoo.cfg, gives `parse_config`
//! the file system for `myid` and the dynamic configuration file, and takes the environment and the
//! command-line arguments as parameters (the binary passes `std::env::vars()`), so nothing below
//! `main` looks anything up globally.

use std::fs;
use std::io;
use std::path::Path;

use crate::build::{Loaded, parse_config};
use crate::error::ConfigError;
use crate::files::ConfigFiles;
use crate::jvmflags::system_props_from_launch;

/// Reads files from the file system; a path that is not a regular file counts as absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsFiles;

impl ConfigFiles for FsFiles {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
            Ok(meta) if !meta.is_file() => Ok(None),
            Ok(_) => fs::read(path).map(Some),
        }
    }
}

/// Loads `path` as ZooKeeper 3.8's `QuorumPeerMain` would, with the system properties that `env`
/// (`SERVER_JVMFLAGS`, `JVMFLAGS`, `ZOO_DATADIR_AUTOCREATE_DISABLE`) and the `-D` words of `args`
/// define. Launch warnings come first in `Loaded::warnings`.
pub fn load<I, K, V>(path: &Path, env: I, args: &[String]) -> Result<Loaded, ConfigError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let bytes = fs::read(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let (sysprops, mut warnings) = system_props_from_launch(env, args);
    let mut loaded = parse_config(path, &bytes, sysprops, &FsFiles)?;
    warnings.append(&mut loaded.warnings);
    loaded.warnings = warnings;
    Ok(loaded)
}
