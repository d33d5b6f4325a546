//! The transaction log (`FileTxnLog`): files `version-2/log.<hex zxid of first txn>`, each a
//! `FileHeader{ZKLG, 2, dbid 0}` and then entries `long adler32, int len, byte[len] txn, 0x42`.
//! Files are preallocated in `preAllocSize` steps (sparse zeros), so a zero length marks the end.
//! Appends are gathered in memory and written with one `pwrite` per batch
//! ([`FileTxnLog::write_out`]), then made durable by one `fdatasync` through the [`SyncTicket`]
//! that write hands out (or [`FileTxnLog::commit`], both at once). The first sync of a new file
//! also syncs the directory, so the file itself survives a crash. A ticket can be synced on
//! another thread while later batches are written: an `fdatasync` makes durable everything
//! written to the file before it was called, earlier batches included.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rzk_proto::{FileHeader, Jute};

use crate::VERSION_DIR;

/// `FileTxnLog.TXNLOG_MAGIC` ("ZKLG").
pub const TXNLOG_MAGIC: i32 = 0x5a4b4c47;
/// The entry terminator ('B').
pub const ENTRY_END: u8 = 0x42;
/// `zookeeper.preAllocSize` default: 64 MiB.
pub const PREALLOC_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;
/// Bytes of the file header.
const HEADER_BYTES: u64 = 16;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: bad txn log header (magic {magic:#x}, version {version})")]
    BadHeader { path: PathBuf, magic: i32, version: i32 },
    #[error("{path} at offset {offset}: CRC check failed")]
    Crc { path: PathBuf, offset: u64 },
    #[error("{path} at offset {offset}: {reason}")]
    Corrupt { path: PathBuf, offset: u64, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io { path: path.to_owned(), source }
}

/// The name of the log file starting at `zxid` (`Util.makeLogName`).
pub fn log_name(zxid: i64) -> String {
    format!("log.{zxid:x}")
}

/// The zxid in a `log.<hex>` or `snapshot.<hex>` file name.
pub fn zxid_of(name: &str, prefix: &str) -> Option<i64> {
    let hex = name.strip_prefix(prefix)?.strip_prefix('.')?;
    let hex = hex.split('.').next()?;
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

struct OpenLog {
    file: Arc<File>,
    path: PathBuf,
    /// Where the next entry goes (after what is still in `pending`).
    position: u64,
    /// The preallocated size.
    size: u64,
    needs_dir_sync: bool,
    /// Entries appended but not yet written to the file; they go at `pending_at`.
    pending: Vec<u8>,
    pending_at: u64,
}

/// What makes the entries written so far durable: the file's `fdatasync` (and, the first time
/// after the file was created, the directory's). Made by [`FileTxnLog::write_out`].
#[derive(Debug, Clone)]
pub struct SyncTicket {
    file: Arc<File>,
    path: PathBuf,
    /// The directory to sync too (the file is new).
    dir: Option<PathBuf>,
    force_sync: bool,
}

impl SyncTicket {
    /// Makes every entry written to the file before this call durable (forceSync=no: nothing).
    pub fn sync(&self) -> Result<(), LogError> {
        if !self.force_sync {
            return Ok(());
        }
        self.file.sync_data().map_err(io_err(&self.path))?;
        if let Some(dir) = &self.dir {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))?;
        }
        Ok(())
    }
}

/// A position in the log, from [`FileTxnLog::mark`].
#[derive(Debug, Clone)]
pub struct LogMark {
    file: Option<(PathBuf, u64)>,
}

/// The writer of the log directory.
pub struct FileTxnLog {
    dir: PathBuf,
    current: Option<OpenLog>,
    prealloc_bytes: u64,
    force_sync: bool,
    last_zxid: i64,
}

impl FileTxnLog {
    /// Opens `<data_log_dir>/version-2`, creating it if needed. Appends go to a new file.
    pub fn open(data_log_dir: &Path, prealloc_bytes: u64, force_sync: bool) -> Result<FileTxnLog, LogError> {
        let dir = data_log_dir.join(VERSION_DIR);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(FileTxnLog { dir, current: None, prealloc_bytes, force_sync, last_zxid: 0 })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one txn, in memory until [`write_out`](Self::write_out) (not yet durable).
    pub fn append(&mut self, zxid: i64, txn: &[u8]) -> Result<(), LogError> {
        if self.current.is_none() {
            self.create_file(zxid)?;
        }
        let Some(log) = self.current.as_mut() else { return Ok(()) };
        self.last_zxid = zxid;
        let mut adler = adler2::Adler32::new();
        adler.write_slice(txn);
        if log.pending.is_empty() {
            log.pending_at = log.position;
        }
        let entry_bytes = 8 + 4 + txn.len() as u64 + 1;
        let end = log.position + entry_bytes;
        let new_size = padded_size(log.position, log.size, self.prealloc_bytes).max(padded_size(
            end,
            log.size,
            self.prealloc_bytes,
        ));
        if new_size != log.size && new_size > end {
            log.file.write_all_at(&[0], new_size - 1).map_err(io_err(&log.path))?;
            log.size = new_size;
        }
        log.pending.extend_from_slice(&(adler.checksum() as i64).to_be_bytes());
        log.pending.extend_from_slice(&(txn.len() as i32).to_be_bytes());
        log.pending.extend_from_slice(txn);
        log.pending.push(ENTRY_END);
        log.position = end;
        Ok(())
    }

    /// Writes the appended entries to the file (one `pwrite`) and returns the ticket that makes
    /// them durable; `None` when no file is open (nothing was appended since the last roll).
    pub fn write_out(&mut self) -> Result<Option<SyncTicket>, LogError> {
        let Some(log) = self.current.as_mut() else { return Ok(None) };
        if !log.pending.is_empty() {
            log.file.write_all_at(&log.pending, log.pending_at).map_err(io_err(&log.path))?;
            log.pending.clear();
        }
        let dir = std::mem::take(&mut log.needs_dir_sync).then(|| self.dir.clone());
        Ok(Some(SyncTicket {
            file: log.file.clone(),
            path: log.path.clone(),
            dir,
            force_sync: self.force_sync,
        }))
    }

    fn create_file(&mut self, zxid: i64) -> Result<(), LogError> {
        let path = self.dir.join(log_name(zxid));
        tracing::info!(file = %path.display(), "creating new log file");
        let file =
            OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(io_err(&path))?;
        let header = FileHeader { magic: TXNLOG_MAGIC, version: 2, dbid: 0 };
        file.write_all_at(&header.to_bytes(), 0).map_err(io_err(&path))?;
        self.current = Some(OpenLog {
            file: Arc::new(file),
            path,
            position: HEADER_BYTES,
            size: HEADER_BYTES,
            needs_dir_sync: true,
            pending: Vec::new(),
            pending_at: HEADER_BYTES,
        });
        Ok(())
    }

    /// Makes every append so far durable: [`write_out`](Self::write_out) and its ticket's sync
    /// (one fdatasync; forceSync=no skips it).
    pub fn commit(&mut self) -> Result<(), LogError> {
        match self.write_out()? {
            Some(ticket) => ticket.sync(),
            None => Ok(()),
        }
    }

    /// Where the log stands now, to undo a batch that could not be made durable.
    pub fn mark(&self) -> LogMark {
        LogMark { file: self.current.as_ref().map(|l| (l.path.clone(), l.position)) }
    }

    /// Undoes everything appended since `mark` (after a failed write or fsync): the file is cut
    /// back (or removed, if the batch created it) so no unacknowledged txn survives, and the next
    /// append starts a new file on a fresh descriptor.
    pub fn discard_since(&mut self, mark: &LogMark) -> Result<(), LogError> {
        let Some(cur) = self.current.take() else { return Ok(()) };
        let cur_path = cur.path.clone();
        match &mark.file {
            Some((path, pos)) if *path == cur.path => {
                cur.file.set_len(*pos).map_err(io_err(&cur.path))?;
                cur.file.sync_all().map_err(io_err(&cur.path))?;
            }
            _ => {
                // The failed batch opened this file: nothing in it was acknowledged.
                drop(cur);
                std::fs::remove_file(&cur_path).map_err(io_err(&cur_path))?;
                if let Some((path, pos)) = &mark.file {
                    let f = OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
                    f.set_len(*pos).map_err(io_err(path))?;
                    f.sync_all().map_err(io_err(path))?;
                }
            }
        }
        Ok(())
    }

    /// Starts a new file with the next append (after a snapshot, `rollLog`).
    pub fn roll(&mut self) -> Result<(), LogError> {
        self.commit()?;
        self.current = None;
        Ok(())
    }

    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// `FileTxnLog.truncate`: keeps every txn up to and including `zxid` and removes the rest
    /// (the file holding later txns is cut, later files are deleted), durably. The next append
    /// starts a new file. A learner does this when the leader sends TRUNC, and before taking a
    /// snapshot a leader sent (SNAP), so no abandoned history stays in the log.
    pub fn truncate(&mut self, zxid: i64) -> Result<(), LogError> {
        self.commit()?;
        self.current = None;
        let files = log_files(&self.dir)?;
        for (i, (first, path)) in files.iter().enumerate() {
            if *first > zxid {
                tracing::info!(file = %path.display(), "removing a log file after the truncation point");
                fs::remove_file(path).map_err(io_err(path))?;
                continue;
            }
            // Only the file the next one starts after may hold txns beyond `zxid`.
            if files.get(i + 1).is_some_and(|(next, _)| *next <= zxid + 1) {
                continue;
            }
            let data = read_bytes(path)?;
            let mut cut = None;
            scan(path, &data, |pos, body| {
                let z = i64::from_be_bytes(body[12..20].try_into().unwrap_or([0; 8]));
                if z > zxid && cut.is_none() {
                    cut = Some(pos as u64);
                }
            })?;
            if let Some(pos) = cut {
                tracing::info!(file = %path.display(), offset = pos, "truncating the log");
                let f = OpenOptions::new().write(true).open(path).map_err(io_err(path))?;
                f.set_len(pos).map_err(io_err(path))?;
                f.sync_all().map_err(io_err(path))?;
            }
        }
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io_err(&self.dir))?;
        self.last_zxid = zxid;
        Ok(())
    }
}

/// `FilePadding.calculateFileSizeWithPadding`: grow by `prealloc` when within 4 KiB of the end.
pub fn padded_size(position: u64, size: u64, prealloc: u64) -> u64 {
    if prealloc == 0 || position + 4096 < size {
        return size;
    }
    if position > size {
        let s = position + prealloc;
        s - s % prealloc
    } else {
        size + prealloc
    }
}

/// One txn read back from a log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub zxid: i64,
    /// The txn bytes (TxnHeader + record + optional digest).
    pub txn: bytes::Bytes,
    /// The file it was read from (shared by the file's entries).
    pub file: std::sync::Arc<Path>,
    pub offset: u64,
}

/// The log files of a directory, oldest first.
pub fn log_files(dir: &Path) -> Result<Vec<(i64, PathBuf)>, LogError> {
    let mut files = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(LogError::Io { path: dir.to_owned(), source: e }),
    };
    for e in rd {
        let e = e.map_err(io_err(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(z) = zxid_of(&name, "log") {
            files.push((z, e.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every txn of `<data_log_dir>/version-2` with zxid > `after`, in order. A partial entry at
/// the very end of the newest file (a torn write) is cut off with a warning; damage anywhere else
/// is an error naming the file and offset.
pub fn read_log_dir(data_log_dir: &Path, after: i64) -> Result<Vec<LogEntry>, LogError> {
    Ok(read_log_dir_and_tail(data_log_dir, after)?.entries)
}

/// What [`read_log_dir_and_tail`] read.
#[derive(Debug)]
pub struct LogRead {
    pub entries: Vec<LogEntry>,
    /// The newest file and the length of its good prefix, when a partial txn (a torn write)
    /// follows it.
    pub torn_tail: Option<(PathBuf, u64)>,
}

/// [`read_log_dir`], and whether the newest file ends with a partial txn (start-up cuts it off;
/// the newest file is always read, whatever `after` is).
pub fn read_log_dir_and_tail(data_log_dir: &Path, after: i64) -> Result<LogRead, LogError> {
    let dir = data_log_dir.join(VERSION_DIR);
    let files = log_files(&dir)?;
    let mut read = LogRead { entries: Vec::new(), torn_tail: None };
    // Start from the newest file whose first zxid is <= after + 1 (older ones hold nothing new).
    let start = files.iter().rposition(|(z, _)| *z <= after + 1).unwrap_or(0);
    let n = files.len();
    for (i, (_, path)) in files.iter().enumerate().skip(start) {
        let newest = i + 1 == n;
        if let ScanEnd::Torn { offset, .. } = read_file(path, after, newest, &mut read.entries)?
            && newest
        {
            read.torn_tail = Some((path.clone(), offset as u64));
        }
    }
    Ok(read)
}

/// How a scan of one log file ended.
enum ScanEnd {
    /// At the preallocated zeros or the end of the file.
    Clean,
    /// A partial entry starts at this offset (a torn write).
    Torn { offset: usize, reason: &'static str },
}

/// Walks the entries of one file's bytes, handing each valid one to `f`.
fn scan(
    path: &Path,
    data: &bytes::Bytes,
    mut f: impl FnMut(usize, bytes::Bytes),
) -> Result<ScanEnd, LogError> {
    if data.len() < HEADER_BYTES as usize {
        return Ok(ScanEnd::Torn { offset: 0, reason: "file shorter than its header" });
    }
    let magic = i32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let version = i32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    if magic != TXNLOG_MAGIC || version != 2 {
        return Err(LogError::BadHeader { path: path.to_owned(), magic, version });
    }
    let mut pos = HEADER_BYTES as usize;
    loop {
        if pos + 12 > data.len() {
            if data[pos..].iter().any(|b| *b != 0) {
                return Ok(ScanEnd::Torn { offset: pos, reason: "truncated entry header" });
            }
            return Ok(ScanEnd::Clean);
        }
        let crc = i64::from_be_bytes(data[pos..pos + 8].try_into().unwrap_or([0; 8]));
        let len = i32::from_be_bytes(data[pos + 8..pos + 12].try_into().unwrap_or([0; 4]));
        if len == 0 {
            // Preallocated zeros (or a torn header followed by zeros): the end of this file.
            if crc != 0 {
                return Ok(ScanEnd::Torn { offset: pos, reason: "entry header without a length" });
            }
            return Ok(ScanEnd::Clean);
        }
        if len < 0 || pos + 12 + len as usize + 1 > data.len() {
            return Ok(ScanEnd::Torn { offset: pos, reason: "truncated entry" });
        }
        let body = data.slice(pos + 12..pos + 12 + len as usize);
        if data[pos + 12 + len as usize] != ENTRY_END {
            return Ok(ScanEnd::Torn { offset: pos, reason: "entry without its end marker" });
        }
        let mut adler = adler2::Adler32::new();
        adler.write_slice(&body);
        if adler.checksum() as i64 != crc {
            return Err(LogError::Crc { path: path.to_owned(), offset: pos as u64 });
        }
        if body.len() < 20 {
            return Err(LogError::Corrupt {
                path: path.to_owned(),
                offset: pos as u64,
                reason: "txn shorter than its header".into(),
            });
        }
        f(pos, body);
        pos += 12 + len as usize + 1;
    }
}

/// A log file's bytes up to the end of what was written: entries are read one by one and the
/// preallocated zeros after the last one are not (files grow in 64 MiB steps). A partial entry at
/// the end is included, for `scan` to judge.
fn read_bytes(path: &Path) -> Result<bytes::Bytes, LogError> {
    let f = File::open(path).map_err(io_err(path))?;
    // The file's length bounds what is read (files are preallocated): one allocation, no copies as
    // it would grow, and the pages past what is read are never touched.
    let file_bytes = f.metadata().map_err(io_err(path))?.len();
    let mut r = std::io::BufReader::with_capacity(READ_BUFFER_BYTES, f);
    let mut data = Vec::with_capacity(usize::try_from(file_bytes).unwrap_or(0));
    if !read_up_to(&mut r, &mut data, HEADER_BYTES as usize, path)? {
        return Ok(bytes::Bytes::from(data));
    }
    loop {
        let start = data.len();
        if !read_up_to(&mut r, &mut data, 12, path)? {
            break;
        }
        let len = i32::from_be_bytes(data[start + 8..start + 12].try_into().unwrap_or([0; 4]));
        if len <= 0 {
            break;
        }
        if !read_up_to(&mut r, &mut data, len as usize + 1, path)? {
            break;
        }
    }
    Ok(bytes::Bytes::from(data))
}

/// The read buffer of a log file being loaded.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// Appends up to `n` bytes (into spare capacity, without zeroing it first); false if the file
/// ended first.
fn read_up_to(r: &mut impl Read, data: &mut Vec<u8>, n: usize, path: &Path) -> Result<bool, LogError> {
    let start = data.len();
    r.take(n as u64).read_to_end(data).map_err(io_err(path))?;
    Ok(data.len() - start == n)
}

fn read_file(path: &Path, after: i64, newest: bool, out: &mut Vec<LogEntry>) -> Result<ScanEnd, LogError> {
    let data = read_bytes(path)?;
    let file: std::sync::Arc<Path> = path.into();
    let end = scan(path, &data, |pos, body| {
        let zxid = i64::from_be_bytes(body[12..20].try_into().unwrap_or([0; 8]));
        if zxid > after {
            out.push(LogEntry { zxid, txn: body, file: file.clone(), offset: pos as u64 });
        }
    })?;
    // ZooKeeper moves on to the next file after a partial entry (FileTxnIterator): only txns
    // never acknowledged can be there. The newest file's tail is cut at start-up.
    if let ScanEnd::Torn { offset, reason } = end
        && !newest
    {
        tracing::warn!(file = %path.display(), offset, reason, "partial txn in an older log file; moving on");
    }
    Ok(end)
}

/// The size a log file has been written to (for tests and tools).
pub fn file_len(path: &Path) -> io::Result<u64> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::End(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(z: i64) -> Vec<u8> {
        let mut t = vec![0u8; 20];
        t[12..20].copy_from_slice(&z.to_be_bytes());
        t.extend_from_slice(b"payload");
        t
    }

    #[test]
    fn truncate_keeps_the_prefix_and_drops_later_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = FileTxnLog::open(dir.path(), 64 * 1024, true).unwrap();
        for z in 1..=10 {
            log.append(z, &txn(z)).unwrap();
        }
        log.roll().unwrap();
        for z in 11..=20 {
            log.append(z, &txn(z)).unwrap();
        }
        log.commit().unwrap();
        log.truncate(7).unwrap();
        let zs: Vec<i64> = read_log_dir(dir.path(), 0).unwrap().iter().map(|e| e.zxid).collect();
        assert_eq!(zs, (1..=7).collect::<Vec<_>>());
        assert_eq!(log_files(&dir.path().join(VERSION_DIR)).unwrap().len(), 1);
        // Appends continue in a new file after the cut.
        log.append(8, &txn(8)).unwrap();
        log.commit().unwrap();
        let zs: Vec<i64> = read_log_dir(dir.path(), 0).unwrap().iter().map(|e| e.zxid).collect();
        assert_eq!(zs, (1..=8).collect::<Vec<_>>());
        // Truncating at or past the end changes nothing.
        log.truncate(100).unwrap();
        assert_eq!(read_log_dir(dir.path(), 0).unwrap().len(), 8);
    }

    #[test]
    fn append_commit_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = FileTxnLog::open(dir.path(), 64 * 1024, true).unwrap();
        for z in 1..=100i64 {
            let mut txn = vec![0u8; 20];
            txn[12..20].copy_from_slice(&z.to_be_bytes());
            txn.extend_from_slice(b"payload");
            log.append(z, &txn).unwrap();
        }
        log.commit().unwrap();
        let files = log_files(&dir.path().join(VERSION_DIR)).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].1.file_name().unwrap(), "log.1");
        // Preallocated one step past the header, as ZooKeeper's files are (64 MiB + 16 bytes).
        assert_eq!(file_len(&files[0].1).unwrap(), 16 + 64 * 1024);
        let entries = read_log_dir(dir.path(), 0).unwrap();
        assert_eq!(entries.len(), 100);
        assert_eq!(entries[99].zxid, 100);
        assert_eq!(read_log_dir(dir.path(), 90).unwrap().len(), 10);
    }

    #[test]
    fn torn_tail_is_ignored_and_a_bad_crc_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = FileTxnLog::open(dir.path(), 0, true).unwrap();
        for z in 1..=3i64 {
            let mut txn = vec![0u8; 20];
            txn[12..20].copy_from_slice(&z.to_be_bytes());
            log.append(z, &txn).unwrap();
        }
        log.commit().unwrap();
        let path = dir.path().join(VERSION_DIR).join("log.1");
        let full = fs::read(&path).unwrap();
        fs::write(&path, &full[..full.len() - 5]).unwrap();
        assert_eq!(read_log_dir(dir.path(), 0).unwrap().len(), 2);
        // The good prefix ends where the third entry starts (header, then two 12+20+1 byte entries),
        // whatever zxid the read starts after.
        let third = 16 + 2 * (12 + 20 + 1);
        for after in [0, 3] {
            let read = read_log_dir_and_tail(dir.path(), after).unwrap();
            assert_eq!(read.torn_tail, Some((path.clone(), third)));
        }
        fs::write(&path, &full).unwrap();
        assert_eq!(read_log_dir_and_tail(dir.path(), 0).unwrap().torn_tail, None);
        let mut flipped = full.clone();
        flipped[16 + 12 + 3] ^= 0xff;
        fs::write(&path, &flipped).unwrap();
        assert!(matches!(read_log_dir(dir.path(), 0), Err(LogError::Crc { .. })));
    }
}
