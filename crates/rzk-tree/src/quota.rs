//! Quotas (`Quotas`, `StatsTrack`, the `PathTrie` of DataTree). A quota on `/p` is the pair of
//! nodes `/zookeeper/quota/p/zookeeper_limits` (limits) and `/zookeeper/quota/p/zookeeper_stats`
//! (current usage). The tree keeps the stats node's data current on every create, delete and
//! setData below `/p` without a txn (those nodes are outside the digest), exactly as ZooKeeper
//! does; soft limits are only logged, hard limits fail writes when `enforceQuota` is on.

use std::collections::BTreeSet;

pub const QUOTA_ROOT: &str = "/zookeeper/quota";
pub const LIMIT_NODE: &str = "zookeeper_limits";
pub const STAT_NODE: &str = "zookeeper_stats";

/// `/zookeeper/quota<path>/zookeeper_stats`.
pub fn stat_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{STAT_NODE}")
}

/// `/zookeeper/quota<path>/zookeeper_limits`.
pub fn limit_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}")
}

/// The quota'd path of a node under `/zookeeper/quota` (`trimQuotaPath`).
pub fn trim_quota_path(quota_path: &str) -> &str {
    quota_path.strip_prefix(QUOTA_ROOT).unwrap_or(quota_path)
}

/// The key/value text of a limits or stats node (`StatsTrack`): `count=N,bytes=M` and, for hard
/// limits, `=;byteHardLimit=..;countHardLimit=..` appended after an extra `=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    pairs: Vec<(String, i64)>,
}

impl StatsTrack {
    pub fn parse(text: &[u8]) -> StatsTrack {
        let s = String::from_utf8_lossy(text);
        let mut t = StatsTrack::default();
        for pair in s.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let key = kv.next().unwrap_or("");
            let value = kv.next().unwrap_or("");
            let v = if value.is_empty() { -1 } else { value.parse().unwrap_or(-1) };
            t.set(key, v);
        }
        t
    }

    pub fn get(&self, key: &str) -> i64 {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or(-1)
    }

    pub fn set(&mut self, key: &str, value: i64) {
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some(p) => p.1 = value,
            None => self.pairs.push((key.to_owned(), value)),
        }
    }

    pub fn count(&self) -> i64 {
        self.get("count")
    }
    pub fn bytes(&self) -> i64 {
        self.get("bytes")
    }
    pub fn count_hard_limit(&self) -> i64 {
        self.get("countHardLimit")
    }
    pub fn byte_hard_limit(&self) -> i64 {
        self.get("byteHardLimit")
    }

    /// `StatsTrack.toString`.
    pub fn render(&self) -> String {
        let mut out = format!("count={},bytes={}", self.count(), self.bytes());
        let mut extra: Vec<&(String, i64)> =
            self.pairs.iter().filter(|(k, _)| k != "count" && k != "bytes").collect();
        if !extra.is_empty() {
            out.push('=');
            extra.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in extra {
                out.push_str(&format!(";{k}={v}"));
            }
        }
        out
    }
}

/// The set of quota'd paths (ZooKeeper's `PathTrie`).
#[derive(Debug, Default, Clone)]
pub struct QuotaPaths {
    paths: BTreeSet<String>,
}

impl QuotaPaths {
    pub fn add(&mut self, path: &str) {
        self.paths.insert(path.to_owned());
    }
    pub fn remove(&mut self, path: &str) {
        self.paths.remove(path);
    }
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The deepest quota'd ancestor-or-self of `path` (`getMaxPrefixWithQuota`); never "/" or
    /// "/zookeeper".
    pub fn max_prefix(&self, path: &str) -> Option<&str> {
        if self.paths.is_empty() {
            return None;
        }
        let mut p = path;
        loop {
            if p != "/" && p != "/zookeeper" && self.paths.contains(p) {
                return self.paths.get(p).map(|s| s.as_str());
            }
            p = rzk_proto::path::parent(p)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_text() {
        let t = StatsTrack::parse(b"count=5,bytes=-1");
        assert_eq!((t.count(), t.bytes(), t.count_hard_limit()), (5, -1, -1));
        assert_eq!(t.render(), "count=5,bytes=-1");
        let mut h = StatsTrack::parse(b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=2");
        assert_eq!(h.count_hard_limit(), 2);
        h.set("count", 1);
        assert_eq!(h.render(), "count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=2");
    }

    #[test]
    fn deepest_prefix_wins() {
        let mut q = QuotaPaths::default();
        q.add("/a");
        q.add("/a/b");
        assert_eq!(q.max_prefix("/a/b/c"), Some("/a/b"));
        assert_eq!(q.max_prefix("/a/bc"), Some("/a"));
        assert_eq!(q.max_prefix("/x"), None);
    }
}
