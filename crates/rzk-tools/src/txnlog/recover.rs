//! Recovery mode (`TxnLogToolkit -r`): every entry is copied to `<file>.fixed`, each bad checksum
//! replaced by the right one when the operator says so (or always, with `-y`). The copy is
//! preallocated as ZooKeeper's logs are (`FilePadding`, 64 MiB steps), so it can replace the
//! original file as it is.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rzk_storage::txnlog::{ENTRY_END, PREALLOC_BYTES_DEFAULT, padded_size};

use super::reader::{HEADER_BYTES, Header};
use crate::error::{EXIT_UNEXPECTED_ERROR, ToolError};

/// `ExitCode.EXECUTION_FINISHED`: what an abort exits with.
const EXIT_ABORTED: i32 = 0;

/// The `.fixed` copy being written.
pub struct RecoveryFile {
    file: File,
    path: PathBuf,
    position: u64,
    size: u64,
    buf: Vec<u8>,
}

fn write_failed(path: &Path, e: io::Error) -> ToolError {
    ToolError::failed(EXIT_UNEXPECTED_ERROR, format!("{}: {e}", path.display()))
}

impl RecoveryFile {
    /// Creates the file (never over an existing one) and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<RecoveryFile, ToolError> {
        let file = OpenOptions::new().write(true).create_new(true).open(path).map_err(|_| {
            ToolError::failed(
                EXIT_UNEXPECTED_ERROR,
                format!("Recovery file {} already exists or not writable", path.display()),
            )
        })?;
        let mut h = Vec::with_capacity(HEADER_BYTES as usize);
        h.extend_from_slice(&header.magic.to_be_bytes());
        h.extend_from_slice(&header.version.to_be_bytes());
        h.extend_from_slice(&header.dbid.to_be_bytes());
        file.write_all_at(&h, 0).map_err(|e| write_failed(path, e))?;
        Ok(RecoveryFile {
            file,
            path: path.to_owned(),
            position: HEADER_BYTES,
            size: HEADER_BYTES,
            buf: Vec::new(),
        })
    }

    /// Pads the file if the entry comes near its end, then writes the entry.
    pub fn append(&mut self, crc: i64, payload: &[u8]) -> Result<(), ToolError> {
        let new_size = padded_size(self.position, self.size, PREALLOC_BYTES_DEFAULT);
        if new_size != self.size {
            self.file.write_all_at(&[0], new_size - 1).map_err(|e| write_failed(&self.path, e))?;
            self.size = new_size;
        }
        self.buf.clear();
        self.buf.extend_from_slice(&crc.to_be_bytes());
        self.buf.extend_from_slice(&(payload.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.push(ENTRY_END);
        self.file.write_all_at(&self.buf, self.position).map_err(|e| write_failed(&self.path, e))?;
        self.position += self.buf.len() as u64;
        Ok(())
    }

    pub fn finish(self) -> Result<(), ToolError> {
        self.file.sync_all().map_err(|e| write_failed(&self.path, e))
    }
}

/// The operator's answers, read a word at a time as `Scanner.next()` does.
pub struct Answers<'a> {
    input: &'a mut dyn BufRead,
    words: VecDeque<String>,
}

impl<'a> Answers<'a> {
    pub fn new(input: &'a mut dyn BufRead) -> Answers<'a> {
        Answers { input, words: VecDeque::new() }
    }

    fn next_word(&mut self) -> Result<Option<String>, ToolError> {
        while self.words.is_empty() {
            let mut line = String::new();
            let n = self.input.read_line(&mut line).map_err(|e| {
                ToolError::failed(EXIT_UNEXPECTED_ERROR, format!("reading standard input: {e}"))
            })?;
            if n == 0 {
                return Ok(None);
            }
            self.words.extend(line.split_whitespace().map(str::to_owned));
        }
        Ok(self.words.pop_front())
    }

    /// `askForFix`: asks until the answer starts with Y, N or A (abort, which ends the tool).
    pub fn ask_for_fix(&mut self, out: &mut dyn Write) -> Result<bool, ToolError> {
        loop {
            write!(out, "Would you like to fix it (Yes/No/Abort) ? ")?;
            out.flush()?;
            let Some(word) = self.next_word()? else {
                return Err(ToolError::failed(
                    EXIT_UNEXPECTED_ERROR,
                    "Recovery aborted: no answer on standard input (use -y to fix every entry).",
                ));
            };
            match word.chars().next().map(|c| c.to_ascii_uppercase()) {
                Some('Y') => return Ok(true),
                Some('N') => return Ok(false),
                Some('A') => return Err(ToolError::failed(EXIT_ABORTED, "Recovery aborted.")),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_word_by_word() {
        let mut input: &[u8] = b"maybe yes\n\n  no\nabort\n";
        let mut answers = Answers::new(&mut input);
        let mut out = Vec::new();
        assert!(answers.ask_for_fix(&mut out).unwrap());
        assert!(!answers.ask_for_fix(&mut out).unwrap());
        let err = answers.ask_for_fix(&mut out).unwrap_err();
        assert_eq!((err.exit_code(), err.to_string().as_str()), (0, "Recovery aborted."));
        assert_eq!(String::from_utf8(out).unwrap().matches("Would you like").count(), 4);
        assert_eq!(answers.ask_for_fix(&mut Vec::new()).unwrap_err().exit_code(), 1);
    }

    #[test]
    fn the_copy_is_preallocated_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.1.fixed");
        let header = Header { magic: 0x5a4b4c47, version: 2, dbid: 0 };
        let mut f = RecoveryFile::create(&path, &header).unwrap();
        f.append(7, b"abc").unwrap();
        f.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, HEADER_BYTES + PREALLOC_BYTES_DEFAULT);
        assert_eq!(&bytes[16..32], &[0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, b'a', b'b', b'c', b'B']);
        assert!(RecoveryFile::create(&path, &header).is_err());
    }
}
