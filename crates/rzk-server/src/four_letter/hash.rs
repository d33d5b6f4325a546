//! `hash` (`DigestCommand`): the tree digests logged every 128 zxids
//! (`DataTree.DIGEST_LOG_INTERVAL`), oldest first, as `<hex zxid>: <digest>`.

use crate::core::Shell;

/// Zxids between two logged digests.
pub const DIGEST_LOG_INTERVAL: i64 = rzk_node::DIGEST_LOG_INTERVAL;
/// Digests kept (`DataTree.DIGEST_LOG_LIMIT`).
pub const DIGEST_LOG_ENTRIES_MAX: usize = 1024;

pub fn render(shell: &Shell) -> String {
    shell.digest_log.iter().map(|(zxid, digest)| format!("{zxid:x}: {digest}\n")).collect()
}

/// `DataTree.logZxidDigest`: keeps `digest` if `zxid` is on the interval.
pub fn record(log: &mut std::collections::VecDeque<(i64, i64)>, zxid: i64, digest: i64) {
    if zxid % DIGEST_LOG_INTERVAL != 0 || log.back().is_some_and(|(z, _)| *z == zxid) {
        return;
    }
    log.push_back((zxid, digest));
    if log.len() > DIGEST_LOG_ENTRIES_MAX {
        log.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    #[test]
    fn only_interval_zxids_are_kept_and_the_log_is_bounded() {
        let mut log = VecDeque::new();
        record(&mut log, 127, 1);
        record(&mut log, 128, 2);
        record(&mut log, 128, 2);
        assert_eq!(log, [(128, 2)]);
        for i in 2..=(DIGEST_LOG_ENTRIES_MAX as i64 + 1) {
            record(&mut log, i * 128, i);
        }
        assert_eq!(log.len(), DIGEST_LOG_ENTRIES_MAX);
        assert_eq!(log.front(), Some(&(256, 2)));
    }
}
