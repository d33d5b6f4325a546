//! Snapshot files (`FileSnap`, `SnapStream`): `version-2/snapshot.<hex zxid>` plain, `.gz`
//! (GZIP) or `.snappy` (xerial's SnappyOutputStream framing), chosen by
//! `snapshot.compression.method`. The Adler-32 seals inside are computed over the uncompressed
//! stream, so this module only moves bytes; `rzk_tree::snapshot` writes and checks the content.
//!
//! Validity before reading (`SnapStream.isValidSnapshot`): a plain snapshot must end with the
//! seal's "/" (a crash mid-write leaves it shorter); compressed ones must start with their magic.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::VERSION_DIR;
use crate::txnlog::zxid_of;

/// `snapshot.compression.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
}

impl Compression {
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Snappy => ".snappy",
        }
    }

    /// The compression a snapshot file's name says it has.
    fn of_path(path: &Path) -> Compression {
        Compression::of_file(&path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
    }

    fn of_file(name: &str) -> Compression {
        if name.ends_with(".gz") {
            Compression::Gzip
        } else if name.ends_with(".snappy") {
            Compression::Snappy
        } else {
            Compression::None
        }
    }
}

/// xerial `SnappyCodec.MAGIC_HEADER`, then version and compatible version (both 1).
const SNAPPY_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// `SnappyOutputStream`'s default block size.
const SNAPPY_BLOCK_BYTES: usize = 32 * 1024;

/// The name of the snapshot taken at `zxid`.
pub fn snapshot_name(zxid: i64, c: Compression) -> String {
    format!("snapshot.{zxid:x}{}", c.extension())
}

/// Writes a snapshot stream to `<data_dir>/version-2/snapshot.<zxid>[ext]` and makes it durable
/// (file and directory synced). It is written under a temporary name and renamed, so a crash
/// never leaves a torn file under a snapshot's name (ZooKeeper writes in place and relies on the
/// validity check; rzk does both).
pub fn write_snapshot(data_dir: &Path, zxid: i64, stream: &[u8], c: Compression) -> io::Result<PathBuf> {
    write_snapshot_parts(data_dir, zxid, &[stream], c)
}

/// [`write_snapshot`] for a stream given in consecutive parts (no copy to join them).
pub fn write_snapshot_parts(
    data_dir: &Path,
    zxid: i64,
    parts: &[&[u8]],
    c: Compression,
) -> io::Result<PathBuf> {
    let mut w = SnapshotFileWriter::create(data_dir, zxid, c)?;
    for p in parts {
        w.write(p)?;
    }
    w.finish()
}

/// A snapshot file written as its stream is produced, in pieces (a running snapshot hands its
/// nodes over a megabyte at a time, so the whole stream is never in memory at once). The bytes
/// go to a temporary file, compressed as asked; [`finish`](Self::finish) syncs it, renames it to
/// the snapshot's name and syncs the directory. Dropped unfinished, the temporary file is removed.
pub struct SnapshotFileWriter {
    dir: PathBuf,
    tmp: PathBuf,
    path: PathBuf,
    out: Option<Encoder>,
}

enum Encoder {
    Plain(io::BufWriter<PacedFile>),
    Gzip(flate2::write::GzEncoder<io::BufWriter<PacedFile>>),
    Snappy(Box<XerialSnappy<io::BufWriter<PacedFile>>>),
}

impl SnapshotFileWriter {
    /// Starts `version-2/snapshot.<zxid>[ext]` under `data_dir` (the directory is created if
    /// needed).
    pub fn create(data_dir: &Path, zxid: i64, c: Compression) -> io::Result<SnapshotFileWriter> {
        SnapshotFileWriter::create_paced(data_dir, zxid, c, None)
    }

    /// [`create`](Self::create), writing at most `bytes_per_sec` (see [`PacedFile`]).
    pub fn create_paced(
        data_dir: &Path,
        zxid: i64,
        c: Compression,
        bytes_per_sec: Option<u64>,
    ) -> io::Result<SnapshotFileWriter> {
        let dir = data_dir.join(VERSION_DIR);
        fs::create_dir_all(&dir)?;
        let path = dir.join(snapshot_name(zxid, c));
        let tmp = dir.join(format!(".tmp-{}", snapshot_name(zxid, c)));
        let file = io::BufWriter::with_capacity(
            1 << 20,
            PacedFile::new(File::create(&tmp)?, SNAPSHOT_SYNC_STEP_BYTES, bytes_per_sec),
        );
        let mut w = SnapshotFileWriter { dir, tmp, path, out: None };
        w.out = Some(match c {
            Compression::None => Encoder::Plain(file),
            Compression::Gzip => {
                Encoder::Gzip(flate2::write::GzEncoder::new(file, flate2::Compression::default()))
            }
            Compression::Snappy => Encoder::Snappy(Box::new(XerialSnappy::new(file)?)),
        });
        Ok(w)
    }

    /// Appends the next bytes of the stream.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.out {
            Some(Encoder::Plain(f)) => f.write_all(bytes),
            Some(Encoder::Gzip(gz)) => gz.write_all(bytes),
            Some(Encoder::Snappy(sn)) => sn.write_all(bytes),
            None => Err(io::Error::other("snapshot writer already finished")),
        }
    }

    /// Ends the stream: the file is synced, renamed to the snapshot's name, and the directory
    /// synced. Returns the snapshot's path.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        let file = match self.out.take() {
            Some(Encoder::Plain(f)) => f,
            Some(Encoder::Gzip(gz)) => gz.finish()?,
            Some(Encoder::Snappy(sn)) => sn.finish()?,
            None => return Err(io::Error::other("snapshot writer already finished")),
        };
        file.into_inner().map_err(|e| e.into_error())?.file.sync_all()?;
        fs::rename(&self.tmp, &self.path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(self.path.clone())
    }
}

impl Drop for SnapshotFileWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Bytes of a snapshot written between two syncs of the file (see [`PacedFile`]).
pub const SNAPSHOT_SYNC_STEP_BYTES: u64 = 1 << 20;

/// A file written in steps, each made durable before the next begins (`fdatasync` every
/// `step_bytes`). A snapshot is tens of megabytes written in a burst; left to the page cache, it
/// reaches the disk in one large flush at its final fsync, and every transaction-log fsync issued
/// meanwhile queues behind it (on this project's test VM, log fsyncs took 18–20 ms at p99 during
/// such a burst against 2.4–3.4 ms with 1 MiB steps: docs/performance.md). Syncing as it goes
/// keeps the disk's queue short, so the log's group commits, which clients wait for, stay fast.
/// The snapshot itself takes a little longer, which nobody waits for.
pub struct PacedFile {
    file: File,
    step_bytes: u64,
    unsynced_bytes: u64,
    /// At most this many bytes per second, if set: after each step the writer waits until the
    /// file's average rate is back under it.
    bytes_per_sec: Option<u64>,
    started: Instant,
    written_bytes: u64,
    /// Syncs issued so far (for tests).
    syncs: u64,
}

impl PacedFile {
    pub fn new(file: File, step_bytes: u64, bytes_per_sec: Option<u64>) -> PacedFile {
        PacedFile {
            file,
            step_bytes: step_bytes.max(1),
            unsynced_bytes: 0,
            bytes_per_sec: bytes_per_sec.filter(|r| *r > 0),
            started: Instant::now(),
            written_bytes: 0,
            syncs: 0,
        }
    }

    /// Waits until the bytes written so far are within the rate, if there is one.
    fn keep_rate(&self) {
        let Some(rate) = self.bytes_per_sec else { return };
        let due = Duration::from_secs_f64(self.written_bytes as f64 / rate as f64);
        if let Some(ahead) = due.checked_sub(self.started.elapsed()) {
            std::thread::sleep(ahead);
        }
    }
}

impl Write for PacedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A large write is cut at the step's end, so no single write outruns the pacing.
        let room = usize::try_from(self.step_bytes - self.unsynced_bytes).unwrap_or(usize::MAX);
        let n = self.file.write(&buf[..buf.len().min(room)])?;
        self.unsynced_bytes += n as u64;
        self.written_bytes += n as u64;
        if self.unsynced_bytes >= self.step_bytes {
            self.file.sync_data()?;
            self.syncs += 1;
            self.unsynced_bytes = 0;
            self.keep_rate();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// xerial's `SnappyOutputStream` framing, streamed: the magic and two version ints, then each
/// `SNAPPY_BLOCK_BYTES` of input as (int length, raw snappy block); the last block may be short.
struct XerialSnappy<W: Write> {
    inner: W,
    block: Vec<u8>,
    enc: snap::raw::Encoder,
}

impl<W: Write> XerialSnappy<W> {
    fn new(mut inner: W) -> io::Result<XerialSnappy<W>> {
        inner.write_all(&SNAPPY_MAGIC)?;
        inner.write_all(&1i32.to_be_bytes())?;
        inner.write_all(&1i32.to_be_bytes())?;
        Ok(XerialSnappy {
            inner,
            block: Vec::with_capacity(SNAPPY_BLOCK_BYTES),
            enc: snap::raw::Encoder::new(),
        })
    }

    fn emit_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let c = self.enc.compress_vec(&self.block).map_err(io::Error::other)?;
        self.inner.write_all(&(c.len() as i32).to_be_bytes())?;
        self.inner.write_all(&c)?;
        self.block.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.emit_block()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for XerialSnappy<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(SNAPPY_BLOCK_BYTES - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == SNAPPY_BLOCK_BYTES {
            self.emit_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn xerial_unsnappy(raw: &[u8]) -> io::Result<Vec<u8>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
    if raw.len() < 16 || raw[..8] != SNAPPY_MAGIC {
        return Err(bad("not a xerial snappy stream"));
    }
    let mut out = Vec::with_capacity(raw.len() * 2);
    let mut pos = 16;
    let mut dec = snap::raw::Decoder::new();
    while pos < raw.len() {
        if pos + 4 > raw.len() {
            return Err(bad("truncated snappy block header"));
        }
        let len = i32::from_be_bytes([raw[pos], raw[pos + 1], raw[pos + 2], raw[pos + 3]]);
        pos += 4;
        if len < 0 || pos + len as usize > raw.len() {
            return Err(bad("truncated snappy block"));
        }
        let block = &raw[pos..pos + len as usize];
        out.extend_from_slice(
            &dec.decompress_vec(block).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        );
        pos += len as usize;
    }
    Ok(out)
}

/// The snapshot files of a data dir, newest first.
pub fn snapshot_files(data_dir: &Path) -> io::Result<Vec<(i64, PathBuf)>> {
    let dir = data_dir.join(VERSION_DIR);
    let mut files = Vec::new();
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    for e in rd {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(z) = zxid_of(&name, "snapshot") {
            files.push((z, e.path()));
        }
    }
    files.sort_by(|a, b| b.cmp(a));
    Ok(files)
}

/// `isValidSnapshot`: the cheap check before a snapshot is read.
pub fn is_valid(path: &Path) -> bool {
    use std::io::{Seek, SeekFrom};
    let Ok(mut f) = File::open(path) else { return false };
    let Ok(len) = f.seek(SeekFrom::End(0)) else { return false };
    let mut head = [0u8; 8];
    let mut tail = [0u8; 5];
    let read_at = |f: &mut File, pos: u64, buf: &mut [u8]| {
        f.seek(SeekFrom::Start(pos)).and_then(|_| f.read_exact(buf)).is_ok()
    };
    match Compression::of_path(path) {
        Compression::Gzip => len >= 2 && read_at(&mut f, 0, &mut head[..2]) && head[..2] == [0x1f, 0x8b],
        Compression::Snappy => len >= 8 && read_at(&mut f, 0, &mut head) && head == SNAPPY_MAGIC,
        Compression::None => len >= 10 && read_at(&mut f, len - 5, &mut tail) && tail == [0, 0, 0, 1, b'/'],
    }
}

/// Up to `n` valid snapshots, newest first (`findNValidSnapshots`).
pub fn find_valid_snapshots(data_dir: &Path, n: usize) -> io::Result<Vec<(i64, PathBuf)>> {
    Ok(snapshot_files(data_dir)?.into_iter().filter(|(_, p)| is_valid(p)).take(n).collect())
}

/// A snapshot file's uncompressed stream, to be read a part at a time (start-up): a plain or
/// gzip file is read as it is consumed; a snappy one is decompressed whole first.
pub fn open_snapshot(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    Ok(match Compression::of_path(path) {
        Compression::None => Box::new(File::open(path)?),
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(io::BufReader::new(File::open(path)?))),
        Compression::Snappy => Box::new(io::Cursor::new(xerial_unsnappy(&fs::read(path)?)?)),
    })
}

/// The length of a snapshot file's stream when it is known without reading it: an uncompressed
/// file's length (`None` for a compressed one).
pub fn snapshot_stream_bytes(path: &Path) -> Option<u64> {
    match Compression::of_path(path) {
        Compression::None => fs::metadata(path).ok().map(|m| m.len()),
        Compression::Gzip | Compression::Snappy => None,
    }
}

/// A snapshot file's uncompressed stream.
pub fn read_snapshot(path: &Path) -> io::Result<Vec<u8>> {
    let raw = fs::read(path)?;
    match Compression::of_path(path) {
        Compression::None => Ok(raw),
        Compression::Gzip => {
            let mut out = Vec::with_capacity(raw.len() * 3);
            flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out)?;
            Ok(out)
        }
        Compression::Snappy => xerial_unsnappy(&raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_file_keeps_to_its_rate() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = PacedFile::new(File::create(dir.path().join("r")).unwrap(), 100_000, Some(1_000_000));
        let started = Instant::now();
        f.write_all(&vec![1u8; 300_000]).unwrap();
        // 300 kB at 1 MB/s: the last step waits until 0.3 s have passed since the start.
        assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
        assert_eq!(f.syncs, 3);
    }

    #[test]
    fn a_paced_file_syncs_at_every_step_even_within_one_large_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paced");
        let mut f = PacedFile::new(File::create(&path).unwrap(), 1000, None);
        let data: Vec<u8> = (0..3500u32).map(|i| (i % 253) as u8).collect();
        f.write_all(&data).unwrap();
        assert_eq!(f.syncs, 3, "one sync per full step of 1000 bytes");
        f.write_all(&data[..499]).unwrap();
        assert_eq!(f.syncs, 3, "999 bytes since the last sync");
        f.write_all(&data[..1]).unwrap();
        assert_eq!(f.syncs, 4);
        drop(f);
        let mut expected = data.clone();
        expected.extend_from_slice(&data[..499]);
        expected.extend_from_slice(&data[..1]);
        assert!(fs::read(&path).unwrap() == expected, "the file holds what was written, in order");
    }

    #[test]
    fn a_stream_written_in_pieces_makes_the_same_file_as_in_one() {
        let dir = tempfile::tempdir().unwrap();
        let stream: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for (z, c) in [(1, Compression::None), (2, Compression::Gzip), (3, Compression::Snappy)] {
            let whole = fs::read(write_snapshot(dir.path(), z, &stream, c).unwrap()).unwrap();
            let mut w = SnapshotFileWriter::create(dir.path(), z + 10, c).unwrap();
            for piece in stream.chunks(12_345) {
                w.write(piece).unwrap();
            }
            let pieces = fs::read(w.finish().unwrap()).unwrap();
            assert!(whole == pieces, "{c:?}: pieces and whole differ");
        }
    }

    #[test]
    fn an_unfinished_writer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SnapshotFileWriter::create(dir.path(), 5, Compression::None).unwrap();
        w.write(b"partial").unwrap();
        drop(w);
        let left: Vec<_> = fs::read_dir(dir.path().join(VERSION_DIR)).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn every_compression_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut stream: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_be_bytes()).collect();
        stream.extend_from_slice(&[0, 0, 0, 1, b'/']);
        for (z, c) in [(1, Compression::None), (2, Compression::Gzip), (3, Compression::Snappy)] {
            let p = write_snapshot(dir.path(), z, &stream, c).unwrap();
            assert!(is_valid(&p), "{c:?}");
            assert_eq!(read_snapshot(&p).unwrap(), stream, "{c:?}");
            let mut streamed = Vec::new();
            open_snapshot(&p).unwrap().read_to_end(&mut streamed).unwrap();
            assert_eq!(streamed, stream, "{c:?}, read as a stream");
        }
        let found = find_valid_snapshots(dir.path(), 100).unwrap();
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), [3, 2, 1]);
    }

    #[test]
    fn a_torn_plain_snapshot_is_not_valid() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_snapshot(
            dir.path(),
            5,
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 1, b'/'],
            Compression::None,
        )
        .unwrap();
        let bytes = fs::read(&p).unwrap();
        fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
        assert!(!is_valid(&p));
    }
}
