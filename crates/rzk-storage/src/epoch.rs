//! `currentEpoch` and `acceptedEpoch` (`QuorumPeer.writeLongToFile` / `readLongFromFile`): one
//! ASCII decimal number each, in `dataDir/version-2`, written atomically the way ZooKeeper's
//! `AtomicFileOutputStream` does: to `<name>.tmp`, fsynced, renamed over the old file, and then
//! the directory synced (which ZooKeeper omits, and without which a crash may lose the rename).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::VERSION_DIR;

pub const CURRENT_EPOCH: &str = "currentEpoch";
pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";

/// The epoch files of a data directory.
#[derive(Debug, Clone)]
pub struct EpochStore {
    dir: PathBuf,
}

impl EpochStore {
    pub fn new(data_dir: &Path) -> EpochStore {
        EpochStore { dir: data_dir.join(VERSION_DIR) }
    }

    /// The value in `name`, or `None` if the file does not exist. A malformed file is an error
    /// ("Found <text> in <file>", as ZooKeeper words it).
    pub fn read(&self, name: &str) -> io::Result<Option<i64>> {
        let path = self.dir.join(name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let line = text.lines().next().unwrap_or("");
        line.parse::<i64>().map(Some).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidData, format!("Found {line} in {}", path.display()))
        })
    }

    /// Writes `value` to `name` atomically and durably.
    pub fn write(&self, name: &str, value: i64) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!("{name}.tmp"));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(value.to_string().as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_round_trip_and_bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = EpochStore::new(dir.path());
        assert_eq!(s.read(CURRENT_EPOCH).unwrap(), None);
        s.write(CURRENT_EPOCH, 7).unwrap();
        s.write(ACCEPTED_EPOCH, 8).unwrap();
        assert_eq!(s.read(CURRENT_EPOCH).unwrap(), Some(7));
        assert_eq!(s.read(ACCEPTED_EPOCH).unwrap(), Some(8));
        assert_eq!(fs::read_to_string(dir.path().join("version-2/currentEpoch")).unwrap(), "7");
        assert!(!dir.path().join("version-2/currentEpoch.tmp").exists());
        fs::write(dir.path().join("version-2/acceptedEpoch"), "x").unwrap();
        let e = s.read(ACCEPTED_EPOCH).unwrap_err();
        assert!(e.to_string().starts_with("Found x in"), "{e}");
    }
}
