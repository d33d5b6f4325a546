//! The server's own count of its sessions, read with the `mntr` four-letter word
//! (`zk_global_sessions`), which ZooKeeper and rzk both answer. `sessions --detach` reports it:
//! there the bench holds no connection, so only the server can say how many sessions it holds.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the whole exchange may take.
const MNTR_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read (a few KiB in practice).
const MNTR_ANSWER_BYTES_MAX: u64 = 1 << 20;

/// `zk_global_sessions` of the server at `addr`; `None` when it cannot be asked or does not say.
pub async fn global_sessions(addr: &str) -> Option<u64> {
    let ask = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"mntr").await.ok()?;
        let mut answer = String::new();
        s.take(MNTR_ANSWER_BYTES_MAX).read_to_string(&mut answer).await.ok()?;
        Some(answer)
    };
    let answer = tokio::time::timeout(MNTR_TIMEOUT, ask).await.ok()??;
    field(&answer, "zk_global_sessions")
}

/// The value of one `name<TAB>value` line.
fn field(answer: &str, name: &str) -> Option<u64> {
    answer.lines().find_map(|l| {
        let (k, v) = l.split_once('\t')?;
        (k.trim() == name).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field_among_the_others() {
        let answer = "zk_version\t3.8.0\nzk_global_sessions_extra\t9\nzk_global_sessions\t100000\n";
        assert_eq!(field(answer, "zk_global_sessions"), Some(100_000));
        assert_eq!(field(answer, "zk_local_sessions"), None);
        assert_eq!(field("zk_global_sessions\tmany\n", "zk_global_sessions"), None);
    }
}
