//! Qcm instances on 127.0.0.1 talking to each other and to raw sockets. Every wait polls with a
//! deadline; nothing sleeps to let time pass.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{encode_frame, encode_initial};
use super::*;

/// The most any single wait in these tests may take.
const T: Duration = Duration::from_secs(10);
/// A short cnxTimeout, so that a silent client is dropped quickly.
const CNX_SHORT: Duration = Duration::from_millis(500);
/// Between polls of a condition.
const POLL: Duration = Duration::from_millis(2);

type Rx = Inbox;

fn localhost_any() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Listeners for `n` members, bound before any starts so that every address is known.
fn listeners(n: usize) -> Vec<(std::net::TcpListener, SocketAddr)> {
    (0..n)
        .map(|_| {
            let l = listen::bind(localhost_any()).expect("bind");
            let a = l.local_addr().expect("addr");
            (l, a)
        })
        .collect()
}

fn config(my_id: i64, addr: SocketAddr, all: &BTreeMap<i64, SocketAddr>) -> QcmConfig {
    QcmConfig {
        my_id,
        listen: addr,
        my_addr_text: addr.to_string(),
        peers: all.iter().filter(|(id, _)| **id != my_id).map(|(id, a)| (*id, *a)).collect(),
        cnx_timeout: CNX_SHORT,
        tls: None,
        sasl: None,
    }
}

/// Members `ids` on fresh ports, each knowing all the others.
fn cluster(ids: &[i64]) -> Vec<(Qcm, Rx)> {
    let ls = listeners(ids.len());
    let all: BTreeMap<i64, SocketAddr> = ids.iter().zip(&ls).map(|(id, (_, a))| (*id, *a)).collect();
    ids.iter().zip(ls).map(|(id, (l, a))| Qcm::start_on(config(*id, a, &all), l).expect("start")).collect()
}

/// Polls `f` until it holds; false after `T`.
async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + T;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    f()
}

/// Receives until a message `want` from `from` arrives; returns every message before it.
async fn recv_until(rx: &mut Rx, from: i64, want: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let mut before = Vec::new();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((sid, msg))) if sid == from && msg == want => return before,
            Ok(Some(m)) => before.push(m),
            Ok(None) => panic!("receiver ended waiting for {:?} from {from}", String::from_utf8_lossy(want)),
            Err(_) => {
                panic!("no {:?} from {from} within {T:?}; got {before:?}", String::from_utf8_lossy(want))
            }
        }
    }
}

/// The (local, remote) addresses of `q`'s link to `sid`.
fn link_addrs(q: &Qcm, sid: i64) -> Option<(SocketAddr, SocketAddr)> {
    q.shared.lock().peers.get(&sid).and_then(|p| p.link.as_ref()).map(|l| (l.local, l.remote))
}

/// Both ends name the same TCP connection: one connection for the pair.
fn one_link_between(a: &Qcm, a_id: i64, b: &Qcm, b_id: i64) -> bool {
    match (link_addrs(a, b_id), link_addrs(b, a_id)) {
        (Some((al, ar)), Some((bl, br))) => al == br && ar == bl,
        _ => false,
    }
}

fn links_opened(q: &Qcm) -> u64 {
    q.shared.lock().links_opened
}

/// The transport's bookkeeping, for failure messages.
fn dump(q: &Qcm) -> String {
    let st = q.shared.lock();
    let peers: Vec<String> = st
        .peers
        .iter()
        .map(|(sid, p)| {
            format!(
                "{sid}: link={:?} pending={} dialing={} dial_back={:?}",
                p.link.as_ref().map(|l| (l.id, l.local, l.remote)),
                p.pending.is_some(),
                p.dialer.running,
                p.dialer.dial_back,
            )
        })
        .collect();
    format!(
        "me={} dials={} headers={} opened={} in_flight={} peers=[{}]",
        q.shared.my_id,
        st.dials_completed,
        st.headers_read,
        st.links_opened,
        q.shared.handshakes_in_flight.load(std::sync::atomic::Ordering::Acquire),
        peers.join("; ")
    )
}

/// Nothing left in flight between `a` and `b`: no dialer runs, no header is being read, and
/// every connection either side dialed has been read by the other.
fn settled(a: &Qcm, b: &Qcm) -> bool {
    let quiet = |q: &Qcm| {
        let st = q.shared.lock();
        let dialing = st.peers.values().any(|p| p.dialer.running);
        (!dialing && q.shared.handshakes_in_flight.load(std::sync::atomic::Ordering::Acquire) == 0)
            .then_some((st.dials_completed, st.headers_read))
    };
    match (quiet(a), quiet(b)) {
        (Some((a_dials, a_read)), Some((b_dials, b_read))) => a_dials == b_read && b_dials == a_read,
        _ => false,
    }
}

/// Reads until the peer closes (EOF or reset); false if it is still open after `T`.
async fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Reserves a port without listening on it (connections are refused until `listen`).
fn reserved_port() -> (socket2::Socket, SocketAddr) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    s.set_reuse_address(true).expect("reuseaddr");
    s.bind(&localhost_any().into()).expect("bind");
    let a = s.local_addr().expect("addr").as_socket().expect("inet");
    (s, a)
}

/// Binds `addr` again, polling until the previous owner's listener is gone.
async fn rebind(addr: SocketAddr) -> std::net::TcpListener {
    let deadline = Instant::now() + T;
    loop {
        match listen::bind(addr) {
            Ok(l) => return l,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(POLL).await;
            }
            Err(e) => panic!("cannot bind {addr} again: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_exchange_messages_both_ways() {
    let mut c = cluster(&[1, 2]);
    let (b, mut rx_b) = c.pop().expect("b");
    let (a, mut rx_a) = c.pop().expect("a");
    a.send(2, b"a1".to_vec());
    b.send(1, b"b1".to_vec());
    recv_until(&mut rx_b, 1, b"a1").await;
    recv_until(&mut rx_a, 2, b"b1").await;
    assert!(eventually(|| a.connected() == [2] && b.connected() == [1]).await);
    for i in 0..20 {
        let (ma, mb) = (format!("a-{i}").into_bytes(), format!("b-{i}").into_bytes());
        a.send(2, ma.clone());
        recv_until(&mut rx_b, 1, &ma).await;
        b.send(1, mb.clone());
        recv_until(&mut rx_a, 2, &mb).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_talk_pairwise_over_one_connection_each() {
    let ids = [1, 2, 3];
    let mut c = cluster(&ids);
    for (from, (q, _)) in ids.iter().zip(&c) {
        for to in ids.iter().filter(|t| *t != from) {
            q.send(*to, format!("{from}->{to}").into_bytes());
        }
    }
    for (to, (_, rx)) in ids.iter().zip(c.iter_mut()) {
        // Latest-wins per peer, and one message per peer: both must arrive (in either order).
        let mut missing: Vec<i64> = ids.iter().copied().filter(|f| f != to).collect();
        let deadline = tokio::time::Instant::now() + T;
        while !missing.is_empty() {
            let (sid, msg) =
                tokio::time::timeout_at(deadline, rx.recv()).await.expect("in time").expect("open");
            assert_eq!(msg, format!("{sid}->{to}").into_bytes());
            missing.retain(|m| *m != sid);
        }
    }
    for (i, (qi, _)) in c.iter().enumerate() {
        for (j, (qj, _)) in c.iter().enumerate().skip(i + 1) {
            let (si, sj) = (ids[i], ids[j]);
            assert!(
                eventually(|| one_link_between(qi, si, qj, sj)).await,
                "one connection between {si} and {sj}"
            );
        }
        let others: Vec<i64> = ids.iter().copied().filter(|x| *x != ids[i]).collect();
        assert_eq!(qi.connected(), others);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_dialing_ends_with_one_connection_and_the_latest_messages() {
    for round in 0..10 {
        let mut c = cluster(&[1, 2]);
        let (b, mut rx_b) = c.pop().expect("b");
        let (a, mut rx_a) = c.pop().expect("a");
        // Both dial at once; the first message of each side is replaced before it can go out
        // or right after (either way the latest must arrive).
        let (ja, jb) = (a.clone(), b.clone());
        let t1 = tokio::spawn(async move {
            ja.send(2, b"a-old".to_vec());
            ja.send(2, b"a-new".to_vec());
        });
        let t2 = tokio::spawn(async move {
            jb.send(1, b"b-old".to_vec());
            jb.send(1, b"b-new".to_vec());
        });
        t1.await.expect("send task");
        t2.await.expect("send task");
        recv_until(&mut rx_b, 1, b"a-new").await;
        recv_until(&mut rx_a, 2, b"b-new").await;
        assert!(
            eventually(|| settled(&a, &b) && one_link_between(&a, 1, &b, 2)).await,
            "round {round}: settles on one connection\n{}\n{}",
            dump(&a),
            dump(&b)
        );
        // Settled: more traffic opens no connection.
        let opened = (links_opened(&a), links_opened(&b));
        for i in 0..5 {
            let m = format!("more-{i}").into_bytes();
            a.send(2, m.clone());
            b.send(1, m.clone());
            recv_until(&mut rx_b, 1, &m).await;
            recv_until(&mut rx_a, 2, &m).await;
        }
        assert_eq!((links_opened(&a), links_opened(&b)), opened, "round {round}: no new connections");
        assert!(one_link_between(&a, 1, &b, 2));
    }
}

/// Only the newest of the messages queued while the peer was unreachable is delivered, whichever
/// side has the larger sid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_message_wins_while_the_peer_is_away() {
    for (a_id, b_id) in [(1, 2), (2, 1)] {
        let (la, aa) = {
            let l = listen::bind(localhost_any()).expect("bind");
            let a = l.local_addr().expect("addr");
            (l, a)
        };
        let (reserved, ab) = reserved_port();
        let all = BTreeMap::from([(a_id, aa), (b_id, ab)]);
        let (a, _rx_a) = Qcm::start_on(config(a_id, aa, &all), la).expect("start a");
        for i in 0..10 {
            a.send(b_id, format!("m{i}").into_bytes());
        }
        reserved.listen(50).expect("listen");
        let (_b, mut rx_b) = Qcm::start_on(config(b_id, ab, &all), reserved.into()).expect("start b");
        let before = recv_until(&mut rx_b, a_id, b"m9").await;
        assert!(before.is_empty(), "{a_id}->{b_id}: only m9 may arrive, got {before:?} first");
        a.send(b_id, b"end".to_vec());
        let before = recv_until(&mut rx_b, a_id, b"end").await;
        // m9 again is allowed (a re-sent lastMessageSent after a reconnection), nothing older.
        assert!(before.iter().all(|(_, m)| m == b"m9"), "{a_id}->{b_id}: {before:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_peer_is_reconnected_and_gets_the_latest_message() {
    // Restart the larger sid (the survivor dials, is refused, and is dialed back), then the
    // smaller one (the survivor keeps its own dial).
    for (stay_id, restart_id) in [(1, 2), (2, 1)] {
        let ls = listeners(2);
        let all = BTreeMap::from([(stay_id, ls[0].1), (restart_id, ls[1].1)]);
        let mut ls = ls.into_iter();
        let (l_stay, a_stay) = ls.next().expect("listener");
        let (l_re, a_re) = ls.next().expect("listener");
        let (stay, mut rx_stay) = Qcm::start_on(config(stay_id, a_stay, &all), l_stay).expect("start");
        let (re, mut rx_re) = Qcm::start_on(config(restart_id, a_re, &all), l_re).expect("start");
        stay.send(restart_id, b"hello".to_vec());
        recv_until(&mut rx_re, stay_id, b"hello").await;
        re.send(stay_id, b"hi".to_vec());
        recv_until(&mut rx_stay, restart_id, b"hi").await;

        re.shutdown();
        drop((re, rx_re));
        assert!(eventually(|| stay.connected().is_empty()).await, "the survivor notices");
        stay.send(restart_id, b"x1".to_vec());
        stay.send(restart_id, b"x2".to_vec());
        let l = rebind(a_re).await;
        let (re, mut rx_re) = Qcm::start_on(config(restart_id, a_re, &all), l).expect("restart");
        let before = recv_until(&mut rx_re, stay_id, b"x2").await;
        assert!(before.is_empty(), "{before:?}");
        assert!(eventually(|| one_link_between(&stay, stay_id, &re, restart_id)).await);
        re.send(stay_id, b"back".to_vec());
        recv_until(&mut rx_stay, restart_id, b"back").await;
    }
}

/// With nothing queued, a new connection re-sends the last message (`lastMessageSent`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_resends_the_last_message() {
    let mut c = cluster(&[1, 2]);
    let (b, mut rx_b) = c.pop().expect("b");
    let (a, mut rx_a) = c.pop().expect("a");
    b.send(1, b"vote".to_vec());
    recv_until(&mut rx_a, 2, b"vote").await;
    // Cut the connection from a's side: b (the larger) dials again (it has nothing queued, so
    // only because a's dial is refused and b dials back) and re-sends "vote".
    a.send(2, b"ping".to_vec());
    recv_until(&mut rx_b, 1, b"ping").await;
    {
        let mut st = a.shared.lock();
        a.shared.drop_link(&mut st, 2, "test");
    }
    a.send(2, b"ping2".to_vec());
    recv_until(&mut rx_b, 1, b"ping2").await;
    recv_until(&mut rx_a, 2, b"vote").await;
}

/// A consumer that does not read holds the peer's messages back (at most
/// `RECV_QUEUE_MESSAGES` wait in the receiver, the rest in the socket) and loses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_gets_backpressure_not_losses() {
    const N: usize = 3 * RECV_QUEUE_MESSAGES;
    let mut c = cluster(&[1, 2]);
    let (b, _rx_b) = c.pop().expect("b");
    let (_a, mut rx_a) = c.pop().expect("a");
    let taken = |q: &Qcm| q.shared.lock().peers.get(&1).is_some_and(|p| p.pending.is_none());
    for i in 0..N {
        b.send(1, format!("m{i}").into_bytes());
        // Wait until the writer has taken it, so that none is replaced (latest-wins).
        assert!(eventually(|| taken(&b)).await, "message {i} written");
    }
    assert!(eventually(|| rx_a.len() == RECV_QUEUE_MESSAGES).await, "the receiver fills up");
    for i in 0..N {
        let (sid, msg) = tokio::time::timeout(T, rx_a.recv()).await.expect("in time").expect("open");
        assert_eq!((sid, msg), (2, format!("m{i}").into_bytes()));
        assert!(rx_a.len() <= RECV_QUEUE_MESSAGES);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_self_loops_back() {
    let mut c = cluster(&[4]);
    let (q, mut rx) = c.pop().expect("q");
    q.send(4, b"me".to_vec());
    recv_until(&mut rx, 4, b"me").await;
    assert!(q.connected().is_empty());
}

fn raw_header(version: i64, sid: i64, text: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&sid.to_be_bytes());
    b.extend_from_slice(&(text.len() as i32).to_be_bytes());
    b.extend_from_slice(text);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_headers_are_refused_and_the_listener_carries_on() {
    let mut c = cluster(&[5, 6]);
    let (good, mut rx_good) = c.pop().expect("6");
    let (q, mut rx) = c.pop().expect("5");
    let addr = q.local_addr();
    let mut too_long = raw_header(PROTOCOL_VERSION_V1, 9, &[b'a'; 10]);
    too_long[16..20].copy_from_slice(&3000i32.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unknown version", raw_header(-2, 9, b"127.0.0.1:1")),
        ("address length 0", raw_header(PROTOCOL_VERSION_V1, 9, b"")),
        ("address length 3000", too_long),
        ("badly formed address", raw_header(PROTOCOL_VERSION_V1, 9, b"no-port-here")),
        ("garbage", vec![0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
        ("a partial header, then silence", PROTOCOL_VERSION_V1.to_be_bytes()[..5].to_vec()),
        ("our own sid", raw_header(PROTOCOL_VERSION_V1, 5, b"127.0.0.1:1")),
    ];
    for (what, bytes) in cases {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(&bytes).await.expect("write");
        assert!(closed_by_peer(&mut s).await, "{what}: the connection must be closed");
        assert!(q.connected().is_empty(), "{what}: no connection registered");
    }
    // The listener still works for a real member, both ways.
    good.send(5, b"after".to_vec());
    recv_until(&mut rx, 6, b"after").await;
    q.send(6, b"reply".to_vec());
    recv_until(&mut rx_good, 5, b"reply").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_close_the_connection_only() {
    let mut c = cluster(&[1]);
    let (q, mut rx) = c.pop().expect("q");
    let addr = q.local_addr();
    for (what, len) in [("oversized", (FRAME_BYTES_MAX + 1) as i32), ("empty", 0), ("negative", -7)] {
        // sid 9 > 1, so the connection is kept; the legacy header (a bare sid) is accepted too.
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(&raw_header(PROTOCOL_VERSION_V1, 9, b"127.0.0.1:9")).await.expect("header");
        s.write_all(&encode_frame(b"first")).await.expect("frame");
        recv_until(&mut rx, 9, b"first").await;
        assert_eq!(q.connected(), [9]);
        let mut bad = len.to_be_bytes().to_vec();
        bad.extend_from_slice(&[0; 64]);
        s.write_all(&bad).await.expect("bad frame");
        assert!(closed_by_peer(&mut s).await, "{what}: the connection must be closed");
        assert!(eventually(|| q.connected().is_empty()).await, "{what}: link dropped");
    }
    let mut legacy = TcpStream::connect(addr).await.expect("connect");
    legacy.write_all(&7i64.to_be_bytes()).await.expect("legacy header");
    let mut max = encode_frame(&vec![1; FRAME_BYTES_MAX]);
    max.extend_from_slice(&encode_frame(b"after max"));
    legacy.write_all(&max).await.expect("frames");
    let (sid, msg) = tokio::time::timeout(T, rx.recv()).await.expect("in time").expect("open");
    assert_eq!((sid, msg.len()), (7, FRAME_BYTES_MAX));
    recv_until(&mut rx, 7, b"after max").await;
}

/// `Long.MAX_VALUE` is an anonymous observer: it gets id -1, its connection (from a "smaller"
/// sid) is closed and we dial back to the address in its header, with our own V1 header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_observer_gets_a_negative_id_and_a_dial_back() {
    let mut c = cluster(&[1]);
    let (q, mut rx) = c.pop().expect("q");
    let observer = tokio::net::TcpListener::bind(localhost_any()).await.expect("bind");
    let obs_addr = observer.local_addr().expect("addr");
    let mut s = TcpStream::connect(q.local_addr()).await.expect("connect");
    s.write_all(&raw_header(PROTOCOL_VERSION_V1, OBSERVER_ID, obs_addr.to_string().as_bytes()))
        .await
        .expect("hdr");
    assert!(closed_by_peer(&mut s).await, "refused: -1 is smaller than 1");
    let (mut back, _) =
        tokio::time::timeout(T, observer.accept()).await.expect("dialed back in time").expect("accept");
    let want = encode_initial(1, &q.local_addr().to_string());
    let mut got = vec![0; want.len()];
    tokio::time::timeout(T, back.read_exact(&mut got)).await.expect("header in time").expect("read");
    assert_eq!(got, want, "our header: V1, sid 1, len, host:port");
    assert!(eventually(|| q.connected() == [-1]).await);
    q.send(-1, b"to observer".to_vec());
    let mut frame = vec![0; 4 + 11];
    tokio::time::timeout(T, back.read_exact(&mut frame)).await.expect("frame in time").expect("read");
    assert_eq!(frame, encode_frame(b"to observer"));
    back.write_all(&encode_frame(b"from observer")).await.expect("write");
    recv_until(&mut rx, -1, b"from observer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_port_and_every_connection() {
    let mut c = cluster(&[1, 2]);
    let (b, mut rx_b) = c.pop().expect("b");
    let (a, mut rx_a) = c.pop().expect("a");
    a.send(2, b"x".to_vec());
    recv_until(&mut rx_b, 1, b"x").await;
    let addr = a.local_addr();
    a.shutdown();
    assert!(eventually(|| b.connected().is_empty()).await, "the peer sees the connection go");
    let end = tokio::time::timeout(T, async { while rx_a.recv().await.is_some() {} }).await;
    assert!(end.is_ok(), "the receiver ends");
    drop(rebind(addr).await);
    a.send(2, b"ignored".to_vec());
    assert!(a.connected().is_empty());
    // The peer's dials to the closed port fail quietly; it can still shut down.
    b.send(1, b"nobody".to_vec());
    b.shutdown();
}

#[test]
fn listen_on_all_ips_keeps_the_port() {
    let a: SocketAddr = "10.1.2.3:3888".parse().expect("addr");
    assert_eq!(QcmConfig::listen_addr(a, false), a);
    assert_eq!(QcmConfig::listen_addr(a, true), "0.0.0.0:3888".parse().expect("addr"));
    let v6: SocketAddr = "[fe80::1]:3888".parse().expect("addr");
    assert_eq!(QcmConfig::listen_addr(v6, true), "[::]:3888".parse().expect("addr"));
}

#[tokio::test]
async fn start_checks_the_address_text() {
    let mut cfg = config(1, localhost_any(), &BTreeMap::new());
    cfg.my_addr_text = String::new();
    assert!(Qcm::start(cfg.clone()).await.is_err());
    cfg.my_addr_text = "h".repeat(HEADER_ADDR_BYTES_MAX + 1);
    assert!(Qcm::start(cfg).await.is_err());
}
