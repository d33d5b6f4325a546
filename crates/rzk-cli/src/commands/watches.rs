//! addWatch and removewatches (`AddWatchCommand`, `RemoveWatchesCommand`).

use rzk_client::{AddWatchMode, WatcherType};

use super::{Ctx, parse_words, usage_error};
use crate::error::CliError;
use crate::parse::{OptSpec, flag, valued};

const ADD_WATCH_OPTS: [OptSpec; 1] = [valued('m', "")];
const REMOVE_OPTS: [OptSpec; 4] = [
    flag('c', "child watcher type"),
    flag('d', "data watcher type"),
    flag('a', "any watcher type"),
    flag('l', "remove locally when there is no server connection"),
];

pub async fn add_watch(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&ADD_WATCH_OPTS, &[], words)?;
    if cl.args.len() != 2 {
        return Err(usage_error("addWatch"));
    }
    let mode = match cl.value('m').map(str::to_uppercase).as_deref() {
        None => AddWatchMode::PersistentRecursive,
        Some("PERSISTENT") => AddWatchMode::Persistent,
        Some("PERSISTENT_RECURSIVE") => AddWatchMode::PersistentRecursive,
        Some(_) => return Err(usage_error("addWatch")),
    };
    ctx.zk.add_watch(&cl.args[1], mode).await?;
    Ok(())
}

pub async fn remove_watches(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&REMOVE_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("removewatches"));
    }
    let wtype = if cl.has('c') {
        WatcherType::Children
    } else if cl.has('d') {
        WatcherType::Data
    } else {
        WatcherType::Any
    };
    ctx.zk.remove_watches(&cl.args[1], wtype, cl.has('l')).await?;
    Ok(())
}
