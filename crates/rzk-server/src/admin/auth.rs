//! 3.9's authorization of the admin commands that read or replace the whole database
//! (`Commands.handleAuthentication` / `handleAuthorization`): the `Authorization` header is
//! `<scheme> [<auth data>]` (`digest user:password`, or `ip` alone, whose id is the client's
//! address); the identities it yields must pass `checkACL(ALL)` on `/`, as a client's would.
//! (`checkACL` admits an ACL entry that grants any of the asked bits, so READ on `/` is enough:
//! ZooKeeper's behaviour, kept.)

use rzk_node::Node;
use rzk_node::auth::{authenticate, check_acl};

use crate::admin::response::Response;

/// `ZooDefs.Perms.ALL`.
const PERMS_ALL: i32 = 31;

const UNAUTHORIZED: u16 = 401;
const FORBIDDEN: u16 = 403;

/// Ok when `auth` may run `command`; otherwise ZooKeeper's error answer.
pub fn authorize(node: &Node, command: &str, auth: Option<&str>, remote_ip: &str) -> Result<(), Response> {
    let Some(auth) = auth else {
        return Err(Response::error(command, "Auth info is missing for the command", UNAUTHORIZED));
    };
    let not_authenticated = || Response::error(command, "Not authenticated", UNAUTHORIZED);
    let parts: Vec<&str> = auth.split(' ').collect();
    let (scheme, data) = match parts.as_slice() {
        [scheme] => (*scheme, None),
        [scheme, data] => (*scheme, Some(*data)),
        _ => return Err(not_authenticated()),
    };
    let cfg = &node.config().auth;
    let ids = match (scheme, data) {
        // DigestAuthenticationProvider needs the user:password.
        ("digest", None) => return Err(not_authenticated()),
        (scheme, data) => authenticate(cfg, scheme, data.unwrap_or("").as_bytes(), remote_ip),
    }
    .map_err(|_| not_authenticated())?;
    if ids.is_empty() {
        return Err(not_authenticated());
    }
    let tree = node.tree();
    let Some(root) = tree.node("/") else {
        return Err(Response::error(command, "Error occurred during auth", 500));
    };
    check_acl(cfg, &tree.acl_of(root), PERMS_ALL, &ids)
        .map_err(|_| Response::error(command, "Not authorized", FORBIDDEN))
}

#[cfg(test)]
mod tests {
    use rzk_node::NodeConfig;
    use rzk_node::auth::generate_digest;
    use rzk_proto::Acl;
    use rzk_tree::DataTree;

    use super::*;

    fn node_with_root_acl(acl: Vec<Acl>) -> Node {
        let mut tree = DataTree::new(false);
        tree.set_acl("/", &acl, 1).expect("set the root's ACL");
        Node::new(NodeConfig::default(), tree, 0, 0)
    }

    fn status(r: Result<(), Response>) -> (u16, String) {
        match r {
            Ok(()) => (200, String::new()),
            Err(e) => (e.status, e.error.unwrap_or_default()),
        }
    }

    #[test]
    fn digest_identities_need_all_on_the_root() {
        let admin = generate_digest("admin:secret");
        let node = node_with_root_acl(vec![Acl::new(31, "digest", &admin), Acl::new(1, "ip", "10.0.0.9")]);
        let ask = |auth: Option<&str>| status(authorize(&node, "snapshot", auth, "127.0.0.1"));
        assert_eq!(ask(Some("digest admin:secret")), (200, String::new()));
        assert_eq!(ask(Some("digest admin:wrong")), (403, "Not authorized".to_owned()));
        assert_eq!(ask(None), (401, "Auth info is missing for the command".to_owned()));
        assert_eq!(ask(Some("digest")), (401, "Not authenticated".to_owned()));
        assert_eq!(ask(Some("digest a b")), (401, "Not authenticated".to_owned()));
        assert_eq!(ask(Some("kerberos x")), (401, "Not authenticated".to_owned()));
        assert_eq!(ask(Some("ip")), (403, "Not authorized".to_owned()));
        // checkACL(perm = ALL) admits an entry with any of the bits: READ alone is enough.
        assert!(authorize(&node, "snapshot", Some("ip"), "10.0.0.9").is_ok());
    }

    #[test]
    fn an_open_root_admits_any_identity() {
        // The default root ACL is world:anyone with every permission.
        let node = Node::new(NodeConfig::default(), DataTree::new(false), 0, 0);
        assert!(authorize(&node, "snapshot", Some("ip"), "10.0.0.1").is_ok());
        assert!(authorize(&node, "snapshot", Some("digest u:p"), "10.0.0.1").is_ok());
    }
}
