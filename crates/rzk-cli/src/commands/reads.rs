//! The reading commands: ls, get, stat, getEphemerals, getAllChildrenNumber, sync, config and
//! version (`LsCommand`, `GetCommand`, `StatCommand`, ...).

use rzk_client::ErrorCode;

use super::{Ctx, parse_words, tree, usage_error};
use crate::error::CliError;
use crate::format::{java_list, java_utf8, print_stat};
use crate::parse::{CommandLine, OptSpec, flag};

const LS_OPTS: [OptSpec; 4] =
    [flag('?', "help"), flag('s', "stat"), flag('w', "watch"), flag('R', "recurse")];
const GET_OPTS: [OptSpec; 2] = [flag('s', "stats"), flag('w', "watch")];
const STAT_OPTS: [OptSpec; 1] = [flag('w', "watch")];
const CONFIG_OPTS: [OptSpec; 3] =
    [flag('s', "stats"), flag('w', "watch"), flag('c', "client connection string")];

/// The old `cmd path watch` form: the third word becomes `-w` (whatever it was), as
/// `retainCompatibility` does in ls, get and stat.
fn retain_watch_compat(
    ctx: &Ctx<'_>,
    specs: &[OptSpec],
    words: &[String],
    cl: CommandLine,
    message: &str,
) -> Result<CommandLine, CliError> {
    if cl.args.len() <= 2 {
        return Ok(cl);
    }
    let mut words = words.to_vec();
    words[2] = "-w".to_owned();
    ctx.out.eprintln(message);
    parse_words(specs, &[], &words)
}

pub async fn ls(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&LS_OPTS, &[], words)?;
    if cl.has('?') {
        ctx.out.print("usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n");
    }
    let msg = "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.";
    let cl = retain_watch_compat(ctx, &LS_OPTS, words, cl, msg)?;
    if cl.args.len() < 2 {
        return Err(usage_error("ls"));
    }
    let path = &cl.args[1];
    let watch = cl.has('w');
    if cl.has('R') {
        let out = ctx.out;
        let mut print = async |p: String| -> Result<(), CliError> {
            out.println(&p);
            Ok(())
        };
        return tree::visit_subtree_dfs(ctx.zk, path, watch, &mut print).await;
    }
    let (mut children, stat) = if cl.has('s') {
        let (c, s) = ctx.zk.get_children2(path, watch).await?;
        (c, Some(s))
    } else {
        (ctx.zk.get_children(path, watch).await?, None)
    };
    children.sort();
    ctx.out.println(&java_list(&children));
    if let Some(s) = stat {
        print_stat(ctx.out, &s);
    }
    Ok(())
}

pub async fn get(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&GET_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("get"));
    }
    let msg = "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.";
    let cl = retain_watch_compat(ctx, &GET_OPTS, words, cl, msg)?;
    let (data, stat) = ctx.zk.get_data_nullable(&cl.args[1], cl.has('w')).await?;
    ctx.out.println(&data.map_or_else(|| "null".to_owned(), |d| java_utf8(&d)));
    if cl.has('s') {
        print_stat(ctx.out, &stat);
    }
    Ok(())
}

pub async fn stat(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&STAT_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("stat"));
    }
    let msg = "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.";
    let cl = retain_watch_compat(ctx, &STAT_OPTS, words, cl, msg)?;
    let path = &cl.args[1];
    match ctx.zk.exists(path, cl.has('w')).await? {
        Some(s) => {
            print_stat(ctx.out, &s);
            Ok(())
        }
        None => Err(CliError::new(format!("Node does not exist: {path}"))),
    }
}

pub async fn get_ephemerals(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    let prefix = cl.args.get(1).map_or("/", String::as_str);
    let list = ctx.zk.get_ephemerals(prefix).await?;
    ctx.out.println(&java_list(&list));
    Ok(())
}

pub async fn get_all_children_number(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("getAllChildrenNumber"));
    }
    let n = ctx.zk.get_all_children_number(&cl.args[1]).await?;
    ctx.out.println(&n.to_string());
    Ok(())
}

pub async fn sync(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("sync"));
    }
    match ctx.zk.sync(&cl.args[1]).await {
        Ok(()) => ctx.out.println("Sync is OK"),
        Err(rzk_client::Error::BadArgument(m)) => return Err(CliError::new(m)),
        Err(e) => {
            let rc = e.code().map_or(ErrorCode::SystemError.code(), ErrorCode::code);
            ctx.out.println(&format!("Sync has failed. rc={rc}"));
        }
    }
    Ok(())
}

pub async fn config(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&CONFIG_OPTS, &[], words)?;
    let (data, stat) = ctx.zk.get_config(cl.has('w')).await?;
    let text = data.map_or_else(|| "null".to_owned(), |d| java_utf8(&d));
    if cl.has('c') {
        ctx.out.println(&client_config_str(&text));
    } else {
        ctx.out.println(&text);
    }
    if cl.has('s') {
        print_stat(ctx.out, &stat);
    }
    Ok(())
}

/// `ConfigUtils.getClientConfigStr`: `version host:port,host:port` from the servers' client
/// addresses (in file order; Java's follows a hash table's).
fn client_config_str(config: &str) -> String {
    let mut version = "";
    let mut clients = Vec::new();
    for line in config.lines().map(str::trim) {
        let Some((k, v)) = line.split_once(['=', ':']) else { continue };
        let (k, v) = (k.trim(), v.trim());
        if k == "version" {
            version = v;
        }
        if k.starts_with("server.") {
            clients.push(client_addr(v).unwrap_or_default());
        }
    }
    format!("{version} {}", clients.join(","))
}

/// The client address of a `server.N` value: `host:p1:p2[:role];[clientHost:]clientPort`.
fn client_addr(v: &str) -> Option<String> {
    let (_, client) = v.split_once(';')?;
    Some(match client.rsplit_once(':') {
        Some((h, p)) => format!("{h}:{p}"),
        None => format!("0.0.0.0:{client}"),
    })
}

pub fn version(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    if cl.args.len() > 1 {
        return Err(usage_error("version"));
    }
    ctx.out.println(&format!("ZooKeeper CLI version: 3.8.0-rzk-{}, built on rzk", env!("CARGO_PKG_VERSION")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_config() {
        let cfg =
            "server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888;2182\nversion=100000000";
        assert_eq!(client_config_str(cfg), "100000000 0.0.0.0:2181,0.0.0.0:2182");
        assert_eq!(client_config_str(""), " ");
    }
}
