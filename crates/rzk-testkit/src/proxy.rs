//! A TCP proxy on a free 127.0.0.1 port in front of a server, for tests that need a client
//! disconnected while the server keeps running. `cut()` closes every connection through it and
//! refuses new ones (accepted, then closed at once) until `restore()`. Threads and blocking
//! sockets only; each copy loop wakes at least every `POLL_INTERVAL` to notice a cut.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use crate::net::POLL_INTERVAL;

/// Copy buffer size.
const COPY_BUF_BYTES: usize = 16 * 1024;

#[derive(Debug)]
struct Shared {
    /// Incremented by every cut; a connection opened in an earlier generation closes.
    generation: AtomicU64,
    cut: AtomicBool,
    stop: AtomicBool,
    /// Bytes forwarded client → server and server → client.
    up_bytes: AtomicU64,
    down_bytes: AtomicU64,
}

/// The proxy; stops (and closes everything) on drop.
#[derive(Debug)]
pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free port and forwards to `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> io::Result<Proxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            generation: AtomicU64::new(0),
            cut: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            up_bytes: AtomicU64::new(0),
            down_bytes: AtomicU64::new(0),
        });
        let s = shared.clone();
        let target = SocketAddr::from((Ipv4Addr::LOCALHOST, target_port));
        thread::spawn(move || accept_loop(listener, target, s));
        Ok(Proxy { port, shared })
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Bytes forwarded from clients to the server so far (to see that a request went out).
    pub fn up_bytes(&self) -> u64 {
        self.shared.up_bytes.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from the server to clients so far.
    pub fn down_bytes(&self) -> u64 {
        self.shared.down_bytes.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                if shared.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else { continue };
                let generation = shared.generation.load(Ordering::SeqCst);
                for (from, to, up) in [(&client, &server, true), (&server, &client, false)] {
                    let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else { continue };
                    let s = shared.clone();
                    thread::spawn(move || copy_loop(from, to, up, generation, s));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL_INTERVAL),
            Err(_) => thread::sleep(POLL_INTERVAL),
        }
    }
}

fn copy_loop(mut from: TcpStream, mut to: TcpStream, up: bool, generation: u64, shared: Arc<Shared>) {
    let counter = if up { &shared.up_bytes } else { &shared.down_bytes };
    let _ = from.set_nonblocking(false);
    let _ = from.set_read_timeout(Some(POLL_INTERVAL));
    let mut buf = vec![0u8; COPY_BUF_BYTES];
    loop {
        if shared.generation.load(Ordering::SeqCst) != generation {
            break;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                counter.fetch_add(n as u64, Ordering::SeqCst);
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
