//! The outbox's two paths into the socket keep the queue's order: a flush writes directly only
//! when nothing is being written, and what the socket does not take stays ahead of later frames.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::{Outbox, Take, write_loop};
use crate::shared_write::SharedWrite;

const T: Duration = Duration::from_secs(10);

/// A connected pair: the server side's outbox (and its write half, for a writer), and the client.
async fn pair() -> (Arc<Outbox>, SharedWrite, TcpStream, tokio::net::tcp::OwnedReadHalf) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    let (rd, wr) = server.into_split();
    let wr = Arc::new(wr);
    // Let the runtime see the socket writable (a fresh registration is not yet known to be).
    wr.as_ref().as_ref().writable().await.expect("writable");
    (Arc::new(Outbox::new(Some(wr.clone()))), SharedWrite(wr), client, rd)
}

async fn read_exactly(client: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    tokio::time::timeout(T, client.read_exact(&mut buf)).await.expect("in time").expect("read");
    buf
}

fn frame(tag: u8, len: usize) -> Bytes {
    Bytes::from(vec![tag; len])
}

#[tokio::test]
async fn a_deferred_frame_is_flushed_straight_into_the_socket_without_a_writer() {
    let (outbox, _wr, mut client, _rd) = pair().await;
    assert_eq!(outbox.defer(frame(1, 40)), Ok(true));
    // A second frame rides on the flush already due.
    assert_eq!(outbox.defer(frame(2, 10)), Ok(false));
    outbox.flush();
    assert_eq!(outbox.queued_bytes(), 0);
    // No writer task exists: the core's flush wrote both, in order.
    let got = read_exactly(&mut client, 50).await;
    assert_eq!(got, [vec![1; 40], vec![2; 10]].concat());
}

#[tokio::test]
async fn no_direct_write_while_the_writer_is_mid_write() {
    let (outbox, wr, mut client, _rd) = pair().await;
    outbox.push(frame(1, 30)).expect("push");
    // The writer takes the reply and has not written it yet.
    let mut batch = BytesMut::new();
    assert!(matches!(outbox.take(&mut batch), Take::Frames));
    // A notification arrives meanwhile: it must wait for the writer, not overtake the reply.
    assert_eq!(outbox.defer(frame(2, 20)), Ok(false));
    outbox.flush();
    assert_eq!(outbox.queued_bytes(), 20, "the flush wrote while the writer was mid-write");
    // The writer finishes its batch and takes the notification next.
    let socket = wr.0.as_ref().as_ref();
    socket.try_write(&batch).expect("write the reply");
    batch.clear();
    assert!(matches!(outbox.take(&mut batch), Take::Frames));
    socket.try_write(&batch).expect("write the notification");
    assert_eq!(read_exactly(&mut client, 50).await, [vec![1; 30], vec![2; 20]].concat());
}

#[tokio::test]
async fn what_the_socket_does_not_take_stays_ahead_of_later_replies() {
    let (outbox, wr, mut client, _rd) = pair().await;
    socket2::SockRef::from(wr.0.as_ref().as_ref()).set_send_buffer_size(16 * 1024).expect("sndbuf");
    // Far more than the socket takes while the client reads nothing.
    let big: Bytes = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    assert_eq!(outbox.defer(big.clone()), Ok(true));
    outbox.flush();
    let left = outbox.queued_bytes();
    assert!(left > 0 && left < big.len(), "expected a partial direct write, {left} bytes left");
    // A reply routed now goes behind the rest of the notification.
    outbox.push(frame(9, 100)).expect("push");
    let writer = tokio::spawn(write_loop(wr, outbox.clone()));
    let got = read_exactly(&mut client, big.len() + 100).await;
    assert!(got[..big.len()] == big[..], "the notification's bytes were reordered");
    assert_eq!(got[big.len()..], vec![9; 100][..]);
    writer.abort();
}

#[tokio::test]
async fn a_close_sends_what_was_deferred_then_shuts_the_socket() {
    let (outbox, wr, mut client, _rd) = pair().await;
    assert_eq!(outbox.defer(frame(3, 12)), Ok(true));
    outbox.close();
    // Routed after the close: dropped.
    outbox.push(frame(4, 5)).expect("push");
    outbox.flush();
    let writer = tokio::spawn(write_loop(wr, outbox.clone()));
    let mut got = Vec::new();
    tokio::time::timeout(T, client.read_to_end(&mut got)).await.expect("in time").expect("read");
    assert_eq!(got, vec![3; 12]);
    tokio::time::timeout(T, writer).await.expect("writer ends").expect("writer");
}
