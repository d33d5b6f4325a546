//! Quotas as zkCli keeps them: znodes under `/zookeeper/quota/<path>/` named
//! `zookeeper_limits` (the quota) and `zookeeper_stats` (the usage the server maintains), whose
//! data is a `StatsTrack` string (`count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1`).
//! setquota, listquota and delquota make the same requests in the same order as
//! `SetQuotaCommand`, `ListQuotaCommand` and `DelQuotaCommand`.

use std::collections::BTreeMap;

use rzk_client::{Client, CreateMode, ErrorCode, open_acl_unsafe, validate_path};

use super::{Ctx, parse_words, tree, usage_error};
use crate::error::CliError;
use crate::output::Out;
use crate::parse::{Group, OptSpec, flag, valued};

/// `Quotas.procZookeeper`, `quotaZookeeper`, `limitNode`, `statNode`.
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
pub const LIMIT_NODE: &str = "zookeeper_limits";
pub const STAT_NODE: &str = "zookeeper_stats";

const SET_OPTS: [OptSpec; 4] = [
    valued('n', "num soft quota"),
    valued('b', "bytes soft quota"),
    valued('N', "num hard quota"),
    valued('B', "bytes hard quota"),
];
const SET_GROUP: [Group; 1] = [Group { members: &['n', 'b', 'N', 'B'], required: true }];
const DEL_OPTS: [OptSpec; 4] = [
    flag('n', "num soft quota"),
    flag('b', "bytes soft quota"),
    flag('N', "num hard quota"),
    flag('B', "bytes hard quota"),
];
const DEL_GROUP: [Group; 1] = [Group { members: &['n', 'b', 'N', 'B'], required: false }];

fn quota_path(path: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{path}")
}
fn limit_path(path: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{path}/{LIMIT_NODE}")
}
fn stat_path(path: &str) -> String {
    format!("{QUOTA_ZOOKEEPER}{path}/{STAT_NODE}")
}
fn trim_quota_path(p: &str) -> &str {
    p.get(QUOTA_ZOOKEEPER.len()..).unwrap_or("")
}

/// `StatsTrack`: named counters, −1 when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack(BTreeMap<String, i64>);

impl StatsTrack {
    pub fn parse(s: &str) -> StatsTrack {
        let mut m = BTreeMap::new();
        for pair in s.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let k = kv.next().unwrap_or_default();
            let v = kv.next().filter(|v| !v.is_empty()).and_then(|v| v.parse().ok()).unwrap_or(-1);
            m.insert(k.to_owned(), v);
        }
        StatsTrack(m)
    }

    pub fn get(&self, k: &str) -> i64 {
        self.0.get(k).copied().unwrap_or(-1)
    }

    pub fn set(&mut self, k: &str, v: i64) {
        self.0.insert(k.to_owned(), v);
    }

    /// Java's `toString`: `count=..,bytes=..`, then `=` and `;key=value` for the others, sorted.
    pub fn render(&self) -> String {
        let mut s = format!("count={},bytes={}", self.get("count"), self.get("bytes"));
        let rest: Vec<_> = self.0.iter().filter(|(k, _)| *k != "count" && *k != "bytes").collect();
        if !rest.is_empty() {
            s.push('=');
            for (k, v) in rest {
                s.push_str(&format!(";{k}={v}"));
            }
        }
        s
    }
}

async fn get_stats(zk: &Client, path: &str) -> Result<StatsTrack, rzk_client::Error> {
    let (data, _) = zk.get_data(path, false).await?;
    Ok(StatsTrack::parse(&String::from_utf8_lossy(&data)))
}

pub async fn set_quota(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&SET_OPTS, &SET_GROUP, words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("setquota"));
    }
    let path = &cl.args[1];
    if path.starts_with(QUOTA_ZOOKEEPER) {
        ctx.out.eprintln(&format!("cannot set a quota under the path: {QUOTA_ZOOKEEPER}"));
        return Ok(());
    }
    let mut quota = StatsTrack::default();
    for k in ["count", "bytes", "countHardLimit", "byteHardLimit"] {
        quota.set(k, -1);
    }
    for (opt, key, counted) in [
        ('n', "count", true),
        ('b', "bytes", false),
        ('N', "countHardLimit", true),
        ('B', "byteHardLimit", false),
    ] {
        let Some(v) = cl.value(opt) else { continue };
        let Ok(n) = v.parse::<i64>() else {
            ctx.out.eprintln("NumberFormatException happens when parsing the option value");
            return Ok(());
        };
        if counted && n <= 0 {
            ctx.out.eprintln("the num quota must be greater than zero");
            return Ok(());
        }
        if !counted && n < 0 {
            ctx.out.eprintln("the bytes quota must be greater than or equal to zero");
            return Ok(());
        }
        quota.set(key, n);
    }
    create_quota(ctx.zk, ctx.out, path, &quota).await
}

/// `SetQuotaCommand.createQuota`.
async fn create_quota(zk: &Client, out: &Out, path: &str, quota: &StatsTrack) -> Result<(), CliError> {
    if zk.exists(path, false).await?.is_none() {
        return Err(CliError::new(format!("{path} does not exist.")));
    }
    check_if_child_quota(zk, path).await?;
    check_if_parent_quota(zk, path).await?;
    let acl = open_acl_unsafe();
    if zk.exists(QUOTA_ZOOKEEPER, false).await?.is_none() {
        // As Java: if /zookeeper exists, the NodeExists skips creating /zookeeper/quota too.
        let made = zk.create_nullable(PROC_ZOOKEEPER, None, &acl, CreateMode::Persistent, None).await;
        match made {
            Ok(_) => {
                zk.create_nullable(QUOTA_ZOOKEEPER, None, &acl, CreateMode::Persistent, None).await?;
            }
            Err(e) if e.code() == Some(ErrorCode::NodeExists) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut qpath = QUOTA_ZOOKEEPER.to_owned();
    for part in path.split('/').skip(1) {
        qpath = format!("{qpath}/{part}");
        if zk.exists(&qpath, false).await?.is_none() {
            match zk.create_nullable(&qpath, None, &acl, CreateMode::Persistent, None).await {
                Ok(_) => {}
                Err(e) if e.code() == Some(ErrorCode::NodeExists) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let stat_p = format!("{qpath}/{STAT_NODE}");
    let limit_p = format!("{qpath}/{LIMIT_NODE}");
    if zk.exists(&limit_p, false).await?.is_none() {
        zk.create(&limit_p, quota.render().as_bytes(), &acl, CreateMode::Persistent).await?;
        let mut stats = StatsTrack::default();
        stats.set("count", 0);
        stats.set("bytes", 0);
        zk.create(&stat_p, stats.render().as_bytes(), &acl, CreateMode::Persistent).await?;
        let q = get_stats(zk, &limit_p).await?;
        let s = get_stats(zk, &stat_p).await?;
        check_quota(out, &q, &s);
    } else {
        let mut q = get_stats(zk, &limit_p).await?;
        for k in ["count", "bytes", "countHardLimit", "byteHardLimit"] {
            if quota.get(k) > -1 {
                q.set(k, quota.get(k));
            }
        }
        let s = get_stats(zk, &stat_p).await?;
        check_quota(out, &q, &s);
        zk.set_data(&limit_p, q.render().as_bytes(), -1).await?;
    }
    Ok(())
}

/// `SetQuotaCommand.checkQuota`: warnings on stdout when the usage already exceeds the quota.
fn check_quota(out: &Out, q: &StatsTrack, s: &StatsTrack) {
    let over = |limit: i64, used: i64| limit > -1 && limit < used;
    if over(q.get("count"), s.get("count")) || over(q.get("countHardLimit"), s.get("count")) {
        out.println(&format!(
            "[Warning]: the count quota you create is less than the existing count:{}",
            s.get("count")
        ));
    }
    if over(q.get("bytes"), s.get("bytes")) || over(q.get("byteHardLimit"), s.get("bytes")) {
        out.println(&format!(
            "[Warning]: the bytes quota you create is less than the existing bytes:{}",
            s.get("bytes")
        ));
    }
}

async fn check_if_child_quota(zk: &Client, path: &str) -> Result<(), CliError> {
    let real = quota_path(path);
    validate_path(&real, false).map_err(CliError::from)?;
    let own = real.clone();
    let mut check = async |qp: String| -> Result<(), CliError> {
        let children = match zk.get_children(&qp, false).await {
            Ok(c) => c,
            Err(e) if e.code() == Some(ErrorCode::NoNode) => return Ok(()),
            Err(_) => Vec::new(),
        };
        if qp != own && children.iter().any(|c| c == LIMIT_NODE) {
            return Err(CliError::new(format!(
                "{path} has a child {} which has a quota",
                trim_quota_path(&qp)
            )));
        }
        Ok(())
    };
    match tree::visit_subtree_dfs(zk, &real, false, &mut check).await {
        Err(e) if e.message.starts_with("Node does not exist: ") => Ok(()),
        other => other,
    }
}

async fn check_if_parent_quota(zk: &Client, path: &str) -> Result<(), CliError> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut qp = QUOTA_ZOOKEEPER.to_owned();
    for part in parts.iter().take(parts.len().saturating_sub(1)).skip(1) {
        qp = format!("{qp}/{part}");
        let children = match zk.get_children(&qp, false).await {
            Ok(c) => c,
            Err(e) if e.code() == Some(ErrorCode::NoNode) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if children.is_empty() {
            return Ok(());
        }
        if qp != quota_path(path) && children.iter().any(|c| c == LIMIT_NODE) {
            return Err(CliError::new(format!(
                "{path} has a parent {} which has a quota",
                trim_quota_path(&qp)
            )));
        }
    }
    Ok(())
}

pub async fn list_quota(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("listquota"));
    }
    let path = &cl.args[1];
    ctx.out.eprintln(&format!("absolute path is {}", limit_path(path)));
    let res = async {
        let q = get_stats(ctx.zk, &limit_path(path)).await?;
        let s = get_stats(ctx.zk, &stat_path(path)).await?;
        Ok::<_, rzk_client::Error>((q, s))
    };
    match res.await {
        Ok((q, s)) => {
            ctx.out.println(&format!("Output quota for {path} {}", q.render()));
            ctx.out.println(&format!("Output stat for {path} {}", s.render()));
            Ok(())
        }
        Err(e) if e.code() == Some(ErrorCode::NoNode) => {
            ctx.out.eprintln(&format!("quota for {path} does not exist."));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn del_quota(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&DEL_OPTS, &DEL_GROUP, words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("delquota"));
    }
    let path = &cl.args[1];
    let which: Vec<&str> = [('n', "count"), ('b', "bytes"), ('N', "countHardLimit"), ('B', "byteHardLimit")]
        .iter()
        .filter(|(o, _)| cl.has(*o))
        .map(|(_, k)| *k)
        .collect();
    match del_quota_inner(ctx, path, &which).await {
        Err(e) if e.code() == Some(ErrorCode::NoNode) => {
            ctx.out.eprintln(&format!("quota for {path} does not exist."));
            Ok(())
        }
        other => other.map_err(CliError::from),
    }
}

/// `DelQuotaCommand.delQuota`: all of the quota (no option), or the given limits reset to −1.
async fn del_quota_inner(ctx: &Ctx<'_>, path: &str, which: &[&str]) -> Result<(), rzk_client::Error> {
    let zk = ctx.zk;
    let parent = quota_path(path);
    let limit = limit_path(path);
    if zk.exists(&limit, false).await?.is_none() {
        ctx.out.println(&format!("Quota does not exist for {path}"));
        return Ok(());
    }
    let mut q = get_stats(zk, &limit).await?;
    if which.is_empty() {
        for child in zk.get_children(&parent, false).await? {
            zk.delete(&format!("{parent}/{child}"), -1).await?;
        }
        trim_proc_quotas(zk, &parent).await
    } else {
        for k in which {
            q.set(k, -1);
        }
        zk.set_data(&limit, q.render().as_bytes(), -1).await.map(drop)
    }
}

/// Deletes now-empty quota nodes up to `/zookeeper/quota`.
async fn trim_proc_quotas(zk: &Client, path: &str) -> Result<(), rzk_client::Error> {
    let mut p = path.to_owned();
    while p != QUOTA_ZOOKEEPER {
        if !zk.get_children(&p, false).await?.is_empty() {
            return Ok(());
        }
        zk.delete(&p, -1).await?;
        p.truncate(p.rfind('/').unwrap_or(0));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_track_like_java() {
        let s = StatsTrack::parse("count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
        assert_eq!(s.get("count"), 10);
        assert_eq!(s.get("countHardLimit"), -1);
        assert_eq!(s.render(), "count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
        assert_eq!(StatsTrack::parse("count=2,bytes=2").render(), "count=2,bytes=2");
    }
}
