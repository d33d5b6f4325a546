//! The writing commands: create, set, delete, deleteall (`CreateCommand`, `SetCommand`,
//! `DeleteCommand`, `DeleteAllCommand`). zkCli prints `Created <path>` on stderr.

use rzk_client::{CreateMode, ErrorCode, open_acl_unsafe};
use rzk_proto::codes::ephemeral_owner;

use super::acl::parse_acl;
use super::{Ctx, parse_words, tree, usage_error};
use crate::error::{CliError, parse_int};
use crate::format::print_stat;
use crate::parse::{OptSpec, flag, valued};

const CREATE_OPTS: [OptSpec; 4] =
    [flag('e', "ephemeral"), flag('s', "sequential"), flag('c', "container"), valued('t', "ttl")];
const SET_OPTS: [OptSpec; 2] = [flag('s', "stats"), valued('v', "version")];
const DELETE_OPTS: [OptSpec; 1] = [valued('v', "version")];
const DELETE_ALL_OPTS: [OptSpec; 1] = [valued('b', "batch size")];

pub async fn create(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&CREATE_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("create"));
    }
    let (e, s, c, t) = (cl.has('e'), cl.has('s'), cl.has('c'), cl.has('t'));
    if c && (e || s) {
        return Err(CliError::new(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
        ));
    }
    let ttl: i64 = match cl.value('t') {
        Some(v) if t => v.parse().map_err(|_| CliError::new("-t argument must be a long value"))?,
        _ => 0,
    };
    if t && e {
        return Err(CliError::new("TTLs cannot be used with Ephemeral znodes"));
    }
    if t && c {
        return Err(CliError::new("TTLs cannot be used with Container znodes"));
    }
    let mode = match (e, s, c, t) {
        (true, true, _, _) => CreateMode::EphemeralSequential,
        (true, false, _, _) => CreateMode::Ephemeral,
        (false, true, _, true) => CreateMode::PersistentSequentialWithTtl,
        (false, true, _, false) => CreateMode::PersistentSequential,
        (false, false, true, _) => CreateMode::Container,
        (false, false, false, true) => CreateMode::PersistentWithTtl,
        (false, false, false, false) => CreateMode::Persistent,
    };
    if t && (ttl <= 0 || ttl > ephemeral_owner::TTL_MAX_MS) {
        return Err(CliError::new(format!(
            "ttl must be positive and cannot be larger than: {}",
            ephemeral_owner::TTL_MAX_MS
        )));
    }
    let path = &cl.args[1];
    let data = cl.args.get(2).map(|d| d.as_bytes().to_vec());
    let acl = match cl.args.get(3) {
        Some(a) => parse_acl(ctx.out, a),
        None => open_acl_unsafe(),
    };
    let ttl = t.then_some(ttl);
    let res = ctx.zk.create_nullable(path, data.as_deref(), &acl, mode, ttl).await;
    match res {
        Ok(p) => {
            ctx.out.eprintln(&format!("Created {p}"));
            Ok(())
        }
        Err(err) => {
            match err.code() {
                Some(ErrorCode::EphemeralOnLocalSession) => {
                    ctx.out.eprintln("Unable to create ephemeral node on a local session")
                }
                Some(ErrorCode::InvalidAcl) => ctx.out.eprintln(&err.to_string()),
                _ => {}
            }
            Err(err.into())
        }
    }
}

pub async fn set(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&SET_OPTS, &[], words)?;
    if cl.args.len() < 3 {
        return Err(usage_error("set"));
    }
    let version = match cl.value('v') {
        Some(v) => parse_int(v)?,
        None => -1,
    };
    let stat = ctx.zk.set_data(&cl.args[1], cl.args[2].as_bytes(), version).await?;
    if cl.has('s') {
        print_stat(ctx.out, &stat);
    }
    Ok(())
}

pub async fn delete(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&DELETE_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("delete"));
    }
    if cl.args.len() > 2 {
        ctx.out.eprintln(
            "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.",
        );
    }
    let version = match cl.value('v') {
        Some(v) => parse_int(v)?,
        None => -1,
    };
    ctx.zk.delete(&cl.args[1], version).await?;
    Ok(())
}

pub async fn delete_all(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&DELETE_ALL_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("deleteall"));
    }
    let batch = match cl.value('b') {
        Some(v) => v.parse::<i32>().map_err(|_| CliError::new("-b argument must be an int value"))?,
        None => 1000,
    };
    if !tree::delete_recursive(ctx.zk, &cl.args[1], batch).await? {
        ctx.out.eprintln("Failed to delete some node(s) in the subtree!");
    }
    Ok(())
}
