//! 3.9's `snapshot` command (`SnapshotCommand`): take a snapshot now and stream the file, with
//! the headers `last_zxid` (`0x` + hex) and `snapshot_size`; `?streaming=false` answers the
//! headers and the JSON only. rzk takes it the way it takes every snapshot (the [`Snapshotter`]
//! freezes the tree, the writer thread walks and writes it), so the core never stalls on it: the
//! request waits for the `SnapshotWritten` notice. If a snapshot is already running, the request gets
//! that one.

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Bytes, HttpBody};
use hyper::body::Frame;
use rzk_storage::VERSION_DIR;
use rzk_storage::snapfile::{Compression, snapshot_name};
use tokio::sync::{mpsc, oneshot};

use crate::admin::response::Response;
use crate::snapshotter::Snapshotter;

/// Bytes read from the snapshot file per chunk of the response.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks read ahead of the client.
const CHUNKS_QUEUED_MAX: usize = 8;

/// A snapshot written for the command.
#[derive(Debug, Clone)]
pub struct Taken {
    pub zxid: i64,
    pub path: PathBuf,
}

type Reply = oneshot::Sender<Result<Taken, Response>>;

/// Requests waiting for a snapshot to be on disk (held by the core).
#[derive(Default)]
pub struct Waiters {
    waiting: Vec<Reply>,
}

impl Waiters {
    /// Starts a snapshot unless one is under way, and waits for it.
    pub fn request(&mut self, snapshotter: &mut Snapshotter, tree: &rzk_tree::DataTree, reply: Reply) {
        if !snapshotter.busy() {
            snapshotter.start(tree);
        }
        self.waiting.push(reply);
    }

    /// The writer finished the snapshot of `zxid` (or failed): answers every waiting request.
    pub fn written(&mut self, data_dir: &std::path::Path, compression: Compression, zxid: i64, ok: bool) {
        for reply in self.waiting.drain(..) {
            let answer = if ok {
                let path = data_dir.join(VERSION_DIR).join(snapshot_name(zxid, compression));
                Ok(Taken { zxid, path })
            } else {
                Err(Response::ok("snapshot").with_status(500))
            };
            let _ = reply.send(answer);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// The response body: the file, read in chunks on a blocking thread.
pub struct FileBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
}

impl FileBody {
    /// Streams `file` (already open, so a purge cannot remove it under the reader).
    pub fn new(file: std::fs::File) -> FileBody {
        let (tx, rx) = mpsc::channel(CHUNKS_QUEUED_MAX);
        tokio::task::spawn_blocking(move || pump(file, tx));
        FileBody { rx }
    }
}

fn pump(mut file: std::fs::File, tx: mpsc::Sender<std::io::Result<Bytes>>) {
    use std::io::Read;
    loop {
        let mut buf = vec![0u8; CHUNK_BYTES];
        match file.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx.poll_recv(cx).map(|chunk| chunk.map(|r| r.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_get_the_written_file_or_an_error() {
        let mut w = Waiters::default();
        let (tx, rx) = oneshot::channel();
        w.waiting.push(tx);
        w.written(std::path::Path::new("/data"), Compression::Gzip, 0x1f, true);
        let taken = rx.await.unwrap().unwrap();
        assert_eq!(taken.path, PathBuf::from("/data/version-2/snapshot.1f.gz"));
        let (tx, rx) = oneshot::channel();
        w.waiting.push(tx);
        w.written(std::path::Path::new("/data"), Compression::None, 1, false);
        assert_eq!(rx.await.unwrap().unwrap_err().status, 500);
        assert!(w.is_empty());
    }

    #[tokio::test]
    async fn file_bodies_stream_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let body = axum::body::Body::new(FileBody::new(std::fs::File::open(&p).unwrap()));
        let got = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert_eq!(&got[..], &data[..]);
    }
}
