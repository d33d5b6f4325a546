//! zkCli's commands (`org.apache.zookeeper.cli.*Command`): the table of names and option
//! strings (what `usage()` lists), and dispatch to one function per command. Each parses its
//! words as the Java class does and prints what it prints, to the same stream.

mod acl;
mod nodes;
mod quota;
mod reads;
mod tree;
mod watches;

use rzk_client::Client;

use crate::error::CliError;
use crate::output::Out;
use crate::parse::{CommandLine, Group, OptSpec, parse};

/// What a command needs.
pub struct Ctx<'a> {
    pub zk: &'a Client,
    pub out: &'a Out,
}

/// Every command name with its option string (`CliCommand.getOptionStr`, and the shell's own
/// commands from `ZooKeeperMain.commandMap`).
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "addWatch",
        "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    ),
    ("addauth", "scheme auth"),
    ("close", ""),
    ("config", "[-c] [-w] [-s]"),
    ("connect", "host:port"),
    ("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]"),
    ("delete", "[-v version] path"),
    ("deleteall", "path [-b batch size]"),
    ("delquota", "[-n|-b|-N|-B] path"),
    ("get", "[-s] [-w] path"),
    ("getAcl", "[-s] path"),
    ("getAllChildrenNumber", "path"),
    ("getEphemerals", "path"),
    ("history", ""),
    ("listquota", "path"),
    ("ls", "[-s] [-w] [-R] path"),
    ("printwatches", "on|off"),
    ("quit", ""),
    (
        "reconfig",
        "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
    ),
    ("redo", "cmdno"),
    ("removewatches", "path [-c|-d|-a] [-l]"),
    ("set", "[-s] [-v version] path data"),
    ("setAcl", "[-s] [-v version] [-R] path acl"),
    ("setquota", "-n|-b|-N|-B val path"),
    ("stat", "[-w] path"),
    ("sync", "path"),
    ("version", ""),
    ("whoami", ""),
];

/// Every command name, sorted (for completion).
pub fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|(n, _)| *n)
}

pub fn is_command(name: &str) -> bool {
    COMMANDS.iter().any(|(n, _)| *n == name)
}

/// `CliCommand.getUsageStr()`: `name options`.
pub fn usage_str(name: &str) -> String {
    let opts = COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, o)| *o).unwrap_or("");
    format!("{name} {opts}")
}

/// `ZooKeeperMain.usage()`, on stderr.
pub fn print_usage(out: &Out) {
    out.eprintln("ZooKeeper -server host:port -client-configuration properties-file cmd args");
    for (name, opts) in COMMANDS {
        out.eprintln(&format!("\t{name} {opts}"));
    }
}

/// Parses a command's words; a parse failure is a `CliParseException`.
pub fn parse_words(specs: &[OptSpec], groups: &[Group], words: &[String]) -> Result<CommandLine, CliError> {
    parse(specs, groups, words).map_err(CliError::new)
}

/// The usage error (`CliParseException(getUsageStr())`).
pub fn usage_error(name: &str) -> CliError {
    CliError::new(usage_str(name))
}

/// Runs a CLI command (not one of the shell's own); `None` if `name` is not one.
pub async fn exec(ctx: &Ctx<'_>, name: &str, words: &[String]) -> Option<Result<(), CliError>> {
    Some(match name {
        "ls" => reads::ls(ctx, words).await,
        "get" => reads::get(ctx, words).await,
        "stat" => reads::stat(ctx, words).await,
        "getEphemerals" => reads::get_ephemerals(ctx, words).await,
        "getAllChildrenNumber" => reads::get_all_children_number(ctx, words).await,
        "sync" => reads::sync(ctx, words).await,
        "config" => reads::config(ctx, words).await,
        "version" => reads::version(ctx, words),
        "create" => nodes::create(ctx, words).await,
        "set" => nodes::set(ctx, words).await,
        "delete" => nodes::delete(ctx, words).await,
        "deleteall" => nodes::delete_all(ctx, words).await,
        "getAcl" => acl::get_acl(ctx, words).await,
        "setAcl" => acl::set_acl(ctx, words).await,
        "addauth" => acl::add_auth(ctx, words).await,
        "whoami" => acl::who_am_i(ctx).await,
        "addWatch" => watches::add_watch(ctx, words).await,
        "removewatches" => watches::remove_watches(ctx, words).await,
        "setquota" => quota::set_quota(ctx, words).await,
        "listquota" => quota::list_quota(ctx, words).await,
        "delquota" => quota::del_quota(ctx, words).await,
        "close" => ctx.zk.close().await.map_err(CliError::from),
        "reconfig" => Err(CliError::new("reconfig is not supported by rzk cli")),
        _ => return None,
    })
}
