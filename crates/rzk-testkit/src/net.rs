//! Ports: a free one, waiting for one to accept, and asking a four-letter word.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How often readiness is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

/// Polls until `127.0.0.1:port` accepts a connection; false once `timeout` has passed.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, POLL_INTERVAL).is_ok() {
            return true;
        }
        thread::sleep(POLL_INTERVAL);
    }
    false
}

/// Sends a four-letter word (`ruok`, `srvr`, `mntr`, ...) and returns the whole answer.
pub fn four_letter_word(port: u16, word: &str, timeout: Duration) -> io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(word.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Polls `srvr` until the server says it serves (a `Mode:` line); false once `timeout` has
/// passed. (`ruok` is not enough: ZooKeeper answers `imok` before its ZooKeeperServer runs, and
/// closes sessions meanwhile.)
pub fn wait_for_serving(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if four_letter_word(port, "srvr", Duration::from_secs(1)).is_ok_and(|a| a.contains("Mode: ")) {
            return true;
        }
        thread::sleep(POLL_INTERVAL);
    }
    false
}
