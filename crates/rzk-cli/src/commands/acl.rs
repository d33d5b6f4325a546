//! ACLs and identity: getAcl, setAcl, addauth, whoami, and `AclParser` (`scheme:id:perms`
//! lists, comma separated; bad entries are reported on stderr and skipped).

use rzk_client::Acl;
use rzk_proto::codes::perms;

use super::{Ctx, parse_words, tree, usage_error};
use crate::error::{CliError, parse_int};
use crate::format::{id_string, perm_string, print_stat};
use crate::output::Out;
use crate::parse::{OptSpec, flag, valued};

const GET_ACL_OPTS: [OptSpec; 1] = [flag('s', "stats")];
const SET_ACL_OPTS: [OptSpec; 3] = [flag('s', "stats"), valued('v', "version"), flag('R', "recursive")];

/// `AclParser.parse`.
pub fn parse_acl(out: &Out, s: &str) -> Vec<Acl> {
    let mut acl = Vec::new();
    for a in s.split(',') {
        let (Some(first), Some(last)) = (a.find(':'), a.rfind(':')) else {
            out.eprintln(&format!("{a} does not have the form scheme:id:perm"));
            continue;
        };
        if first == last {
            out.eprintln(&format!("{a} does not have the form scheme:id:perm"));
            continue;
        }
        acl.push(Acl::new(perm_from_string(out, &a[last + 1..]), &a[..first], &a[first + 1..last]));
    }
    acl
}

fn perm_from_string(out: &Out, s: &str) -> i32 {
    let mut p = 0;
    for c in s.chars() {
        match c {
            'r' => p |= perms::READ,
            'w' => p |= perms::WRITE,
            'c' => p |= perms::CREATE,
            'd' => p |= perms::DELETE,
            'a' => p |= perms::ADMIN,
            other => out.eprintln(&format!("Unknown perm type: {other}")),
        }
    }
    p
}

pub async fn get_acl(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&GET_ACL_OPTS, &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("getAcl"));
    }
    let (acl, stat) = ctx.zk.get_acl(&cl.args[1]).await?;
    for a in &acl {
        ctx.out.println(&format!("{}: {}", id_string(&a.id.scheme, &a.id.id), perm_string(a.perms)));
    }
    if cl.has('s') {
        print_stat(ctx.out, &stat);
    }
    Ok(())
}

pub async fn set_acl(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&SET_ACL_OPTS, &[], words)?;
    if cl.args.len() < 3 {
        return Err(usage_error("setAcl"));
    }
    let path = &cl.args[1];
    let acl = parse_acl(ctx.out, &cl.args[2]);
    let version = match cl.value('v') {
        Some(v) => parse_int(v)?,
        None => -1,
    };
    if cl.has('R') {
        let (zk, out) = (ctx.zk, ctx.out);
        let mut set = async |p: String| -> Result<(), CliError> {
            // Java prints the failure's message without a newline and goes on.
            if let Err(e) = zk.set_acl(&p, &acl, version).await {
                out.print(&e.to_string());
            }
            Ok(())
        };
        return tree::visit_subtree_dfs(ctx.zk, path, false, &mut set).await;
    }
    let stat = ctx.zk.set_acl(path, &acl, version).await?;
    if cl.has('s') {
        print_stat(ctx.out, &stat);
    }
    Ok(())
}

/// addauth: the answer is awaited, but, as in Java, a refusal is only seen as the AuthFailed
/// event (and the session ends).
pub async fn add_auth(ctx: &Ctx<'_>, words: &[String]) -> Result<(), CliError> {
    let cl = parse_words(&[], &[], words)?;
    if cl.args.len() < 2 {
        return Err(usage_error("addauth"));
    }
    let auth = cl.args.get(2).map(|a| a.as_bytes()).unwrap_or_default();
    let _ = ctx.zk.add_auth(&cl.args[1], auth).await;
    Ok(())
}

pub async fn who_am_i(ctx: &Ctx<'_>) -> Result<(), CliError> {
    let infos = ctx.zk.who_am_i().await?;
    ctx.out.println("Auth scheme: User");
    for i in infos {
        ctx.out.println(&format!("{}: {}", i.auth_scheme, i.user));
    }
    Ok(())
}
