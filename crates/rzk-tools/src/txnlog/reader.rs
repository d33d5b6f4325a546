//! Reads a txn log file entry by entry, as `TxnLogToolkit` does (not `FileTxnLog`'s iterator):
//! `long crc, int len, byte[len], byte 'B'`, until a zero length (the preallocated padding) or
//! the end of the file. It streams, so a 64 MiB preallocated file costs one buffer, and it knows
//! every entry's offset for error messages.
//!
//! Like the Java tool, an entry cut short by the end of the file ends the log (a torn last
//! write); unlike it, this reader says so, and where. A length that cannot be right (negative,
//! or past the end of the file and above jute's limit) is an error naming file and offset.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use rzk_storage::txnlog::{ENTRY_END, TXNLOG_MAGIC};

/// Bytes of `FileHeader`.
pub const HEADER_BYTES: u64 = 16;
/// Bytes before an entry's payload: the checksum and the length.
const ENTRY_HEAD_BYTES: u64 = 12;
/// `BinaryInputArchive`'s default limit on a buffer: `jute.maxbuffer` plus its extra size.
pub const ENTRY_BYTES_JAVA_MAX: u64 = 2 * 0xfffff;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a txn log: {reason}")]
    BadHeader { path: PathBuf, reason: String, magic: Option<i32> },
    #[error("{path} at offset {offset}: unreasonable txn length {len}")]
    BadLength { path: PathBuf, offset: u64, len: i64 },
    #[error("Last transaction was partial. ({path}: the entry at offset {offset} {what})")]
    Partial { path: PathBuf, offset: u64, what: String },
}

/// The file header (`FileHeader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub magic: i32,
    pub version: i32,
    pub dbid: i64,
}

/// One entry as it is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the entry starts (its checksum).
    pub offset: u64,
    pub stored_crc: i64,
    /// The txn bytes the checksum covers.
    pub payload: Vec<u8>,
}

impl Entry {
    pub fn computed_crc(&self) -> i64 {
        let mut a = adler2::Adler32::new();
        a.write_slice(&self.payload);
        i64::from(a.checksum())
    }

    pub fn crc_ok(&self) -> bool {
        self.computed_crc() == self.stored_crc
    }
}

/// How the log ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A zero length (preallocated zeros) or the end of the file between entries.
    Clean,
    /// The file ends inside the entry at `offset`: `have` of its `need` bytes are there.
    Truncated { offset: u64, have: u64, need: u64 },
}

pub enum Next {
    Entry(Entry),
    End(End),
}

pub struct LogReader {
    input: BufReader<File>,
    path: PathBuf,
    offset: u64,
    len: u64,
}

impl LogReader {
    pub fn open(path: &Path) -> Result<LogReader, ReadError> {
        let io_err = |source| ReadError::Io { path: path.to_owned(), source };
        let file = File::open(path).map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        Ok(LogReader {
            input: BufReader::with_capacity(1 << 16, file),
            path: path.to_owned(),
            offset: 0,
            len,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The file's size.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// Reads into `buf` until it is full or the file ends; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, ReadError> {
        let mut n = 0;
        while n < buf.len() {
            match self.input.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ReadError::Io { path: self.path.clone(), source }),
            }
        }
        self.offset += n as u64;
        Ok(n)
    }

    /// The header; a wrong magic is an error (the version is printed, not checked, as Java does).
    pub fn header(&mut self) -> Result<Header, ReadError> {
        let mut b = [0u8; HEADER_BYTES as usize];
        let n = self.fill(&mut b)?;
        if n < b.len() {
            let reason = format!("the file has {n} bytes, less than a header");
            return Err(ReadError::BadHeader { path: self.path.clone(), reason, magic: None });
        }
        let magic = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let version = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let dbid = i64::from_be_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
        if magic != TXNLOG_MAGIC {
            let reason = format!("magic {magic:#x}, expected {TXNLOG_MAGIC:#x}");
            return Err(ReadError::BadHeader { path: self.path.clone(), reason, magic: Some(magic) });
        }
        Ok(Header { magic, version, dbid })
    }

    /// The next entry (its end-of-record byte is read by [`LogReader::end_of_record`]).
    pub fn next_entry(&mut self) -> Result<Next, ReadError> {
        let offset = self.offset;
        let mut head = [0u8; ENTRY_HEAD_BYTES as usize];
        let n = self.fill(&mut head)? as u64;
        if n == 0 {
            return Ok(Next::End(End::Clean));
        }
        if n < ENTRY_HEAD_BYTES {
            let clean = head[..n as usize].iter().all(|b| *b == 0);
            let end =
                if clean { End::Clean } else { End::Truncated { offset, have: n, need: ENTRY_HEAD_BYTES } };
            return Ok(Next::End(end));
        }
        let stored_crc =
            i64::from_be_bytes([head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7]]);
        let len = i64::from(i32::from_be_bytes([head[8], head[9], head[10], head[11]]));
        if len == 0 {
            return Ok(Next::End(End::Clean));
        }
        let left = self.len.saturating_sub(self.offset);
        if len < 0 || (len as u64 > left && len as u64 > ENTRY_BYTES_JAVA_MAX) {
            return Err(ReadError::BadLength { path: self.path.clone(), offset, len });
        }
        let len = len as u64;
        if len > left {
            let have = ENTRY_HEAD_BYTES + left;
            return Ok(Next::End(End::Truncated { offset, have, need: ENTRY_HEAD_BYTES + len + 1 }));
        }
        let mut payload = vec![0u8; len as usize];
        let got = self.fill(&mut payload)? as u64;
        if got < len {
            // The file shrank while being read.
            let have = ENTRY_HEAD_BYTES + got;
            return Ok(Next::End(End::Truncated { offset, have, need: ENTRY_HEAD_BYTES + len + 1 }));
        }
        Ok(Next::Entry(Entry { offset, stored_crc, payload }))
    }

    /// Reads and checks the end-of-record byte after `entry`.
    pub fn end_of_record(&mut self, entry: &Entry) -> Result<(), ReadError> {
        let mut b = [0u8; 1];
        let n = self.fill(&mut b)?;
        let partial =
            |what: String| ReadError::Partial { path: self.path.clone(), offset: entry.offset, what };
        if n == 0 {
            return Err(partial("has no end-of-record byte".into()));
        }
        if b[0] != ENTRY_END {
            return Err(partial(format!("ends with {:#04x} instead of {ENTRY_END:#04x}", b[0])));
        }
        Ok(())
    }
}
