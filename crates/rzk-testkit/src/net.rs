//! Ports: a free one, waiting for one to accept, and asking a four-letter word.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// How often readiness is polled.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Lowest port [`free_port`] hands out.
const TEST_PORT_MIN: u16 = 10_000;
/// Tries before [`free_port`] falls back to a port the kernel picks.
const TEST_PORT_TRIES: u32 = 500;

/// A port on 127.0.0.1 that was free a moment ago and that no other test process holds. It is
/// picked at random below the kernel's ephemeral range (`ip_local_port_range`), so that the
/// outgoing connections of tests running at the same time cannot take it between the check and
/// the server's bind; and it is reserved for this process with a file in
/// `$TMPDIR/rzk-test-ports/` (created exclusively, naming the pid; a dead pid's file is taken
/// over), so that two test processes never start servers on the same port.
pub fn free_port() -> io::Result<u16> {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::Mutex;
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<u16>().ok()))
        .unwrap_or(32_768);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    if ephemeral_low > TEST_PORT_MIN + 1_000 {
        let span = u64::from(ephemeral_low - TEST_PORT_MIN);
        let seed = std::collections::hash_map::RandomState::new();
        for i in 0..TEST_PORT_TRIES {
            let mut h = seed.build_hasher();
            h.write_u32(std::process::id());
            h.write_u32(i);
            let port = TEST_PORT_MIN + (h.finish() % span) as u16;
            if given.contains(&port) || !reserve(port) {
                continue;
            }
            given.insert(port);
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(port);
            }
        }
    }
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = l.local_addr()?.port();
    given.insert(port);
    Ok(port)
}

/// Claims `port` for this process (see [`free_port`]); false when a live process holds it.
fn reserve(port: u16) -> bool {
    let dir = std::env::temp_dir().join("rzk-test-ports");
    if std::fs::create_dir_all(&dir).is_err() {
        return true;
    }
    let path = dir.join(port.to_string());
    let me = std::process::id().to_string();
    for _ in 0..2 {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => return f.write_all(me.as_bytes()).is_ok(),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                // An empty file is being written by its creator right now.
                let alive =
                    holder.trim().is_empty() || std::path::Path::new("/proc").join(holder.trim()).exists();
                if holder.trim() == me {
                    return true;
                }
                if alive {
                    return false;
                }
                // The holder is gone: take the port over.
                let _ = std::fs::remove_file(&path);
            }
            Err(_) => return true,
        }
    }
    false
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
