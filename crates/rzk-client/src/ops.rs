//! Building blocks of the typed calls: the standard ACLs (`ZooDefs.Ids`), the operations of a
//! multi (`Op`, as Java's `Op` factory makes them), and the argument checks the Java client makes
//! before sending anything (`PathUtils.validatePath`, `EphemeralType.validateTTL`,
//! `validateACL`), with its messages.

use bytes::Bytes;
use rzk_proto::codes::{ephemeral_owner, op, perms};
use rzk_proto::{
    Acl, CheckVersionRequest, CreateMode, CreateRequest, CreateTtlRequest, DeleteRequest, ErrorCode,
    GetChildrenRequest, GetDataRequest, Request, SetDataRequest,
};

use crate::connect_string::to_server_path;
use crate::error::Error;

/// `Ids.OPEN_ACL_UNSAFE`: world:anyone with every permission.
pub fn open_acl_unsafe() -> Vec<Acl> {
    vec![Acl::new(perms::ALL, "world", "anyone")]
}

/// `Ids.READ_ACL_UNSAFE`: world:anyone may read.
pub fn read_acl_unsafe() -> Vec<Acl> {
    vec![Acl::new(perms::READ, "world", "anyone")]
}

/// `Ids.CREATOR_ALL_ACL`: every permission for the creator's authenticated ids.
pub fn creator_all_acl() -> Vec<Acl> {
    vec![Acl::new(perms::ALL, "auth", "")]
}

/// One operation of a multi (write ops) or multiRead (getData/getChildren).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Create { path: String, data: Option<Bytes>, acl: Vec<Acl>, mode: CreateMode, ttl_ms: Option<i64> },
    Delete { path: String, version: i32 },
    SetData { path: String, data: Option<Bytes>, version: i32 },
    Check { path: String, version: i32 },
    GetData { path: String },
    GetChildren { path: String },
}

impl Op {
    pub fn create(path: &str, data: &[u8], acl: &[Acl], mode: CreateMode) -> Op {
        let data = Some(Bytes::copy_from_slice(data));
        Op::Create { path: path.to_owned(), data, acl: acl.to_vec(), mode, ttl_ms: None }
    }
    pub fn create_ttl(path: &str, data: &[u8], acl: &[Acl], mode: CreateMode, ttl_ms: i64) -> Op {
        let data = Some(Bytes::copy_from_slice(data));
        Op::Create { path: path.to_owned(), data, acl: acl.to_vec(), mode, ttl_ms: Some(ttl_ms) }
    }
    pub fn delete(path: &str, version: i32) -> Op {
        Op::Delete { path: path.to_owned(), version }
    }
    pub fn set_data(path: &str, data: &[u8], version: i32) -> Op {
        Op::SetData { path: path.to_owned(), data: Some(Bytes::copy_from_slice(data)), version }
    }
    pub fn check(path: &str, version: i32) -> Op {
        Op::Check { path: path.to_owned(), version }
    }
    pub fn get_data(path: &str) -> Op {
        Op::GetData { path: path.to_owned() }
    }
    pub fn get_children(path: &str) -> Op {
        Op::GetChildren { path: path.to_owned() }
    }

    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::Delete { path, .. }
            | Op::SetData { path, .. }
            | Op::Check { path, .. }
            | Op::GetData { path }
            | Op::GetChildren { path } => path,
        }
    }

    /// Whether the op belongs in a multiRead rather than a multi.
    pub fn is_read(&self) -> bool {
        matches!(self, Op::GetData { .. } | Op::GetChildren { .. })
    }

    /// Java's `Op.validate()`.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            // No ACL check here: Java leaves an empty ACL in a multi to the server.
            Op::Create { path, mode, ttl_ms, .. } => {
                validate_path(path, mode.is_sequential())?;
                validate_ttl(*mode, ttl_ms.unwrap_or(-1))
            }
            other => validate_path(other.path(), false),
        }
    }

    /// The sub-request, with the server path under `chroot` (opcode as `Op.Create.getOpcode`).
    pub fn to_request(&self, chroot: Option<&str>) -> Request {
        let sp = to_server_path(chroot, self.path());
        match self {
            Op::Create { data, acl, mode, ttl_ms, .. } => match ttl_ms {
                Some(ttl) if mode.is_ttl() => Request::CreateTtl(CreateTtlRequest {
                    path: sp,
                    data: data.clone(),
                    acl: acl.clone(),
                    flags: mode.flag(),
                    ttl: *ttl,
                }),
                _ => Request::Create {
                    op: create_op(*mode),
                    req: CreateRequest { path: sp, data: data.clone(), acl: acl.clone(), flags: mode.flag() },
                },
            },
            Op::Delete { version, .. } => Request::Delete(DeleteRequest { path: sp, version: *version }),
            Op::SetData { data, version, .. } => {
                Request::SetData(SetDataRequest { path: sp, data: data.clone(), version: *version })
            }
            Op::Check { version, .. } => Request::Check(CheckVersionRequest { path: sp, version: *version }),
            Op::GetData { .. } => Request::GetData(GetDataRequest { path: sp, watch: false }),
            Op::GetChildren { .. } => Request::GetChildren(GetChildrenRequest { path: sp, watch: false }),
        }
    }
}

/// The create opcode of a mode inside a multi: createTTL, createContainer or create.
fn create_op(mode: CreateMode) -> i32 {
    if mode.is_ttl() {
        op::CREATE_TTL
    } else if mode.is_container() {
        op::CREATE_CONTAINER
    } else {
        op::CREATE
    }
}

/// `PathUtils.validatePath(path, isSequential)`: a sequential path is checked with a suffix.
pub fn validate_path(path: &str, sequential: bool) -> Result<(), Error> {
    let checked = if sequential { format!("{path}1") } else { path.to_owned() };
    rzk_proto::path::validate_path(&checked).map_err(Error::BadArgument)
}

/// `EphemeralType.validateTTL(mode, ttl)`: TTL modes need 0 < ttl ≤ MAX_TTL; other modes take no
/// TTL (−1).
pub fn validate_ttl(mode: CreateMode, ttl_ms: i64) -> Result<(), Error> {
    if mode.is_ttl() {
        if ttl_ms <= 0 || ttl_ms > ephemeral_owner::TTL_MAX_MS {
            return Err(Error::BadArgument(format!(
                "ttl must be positive and cannot be larger than: {}",
                ephemeral_owner::TTL_MAX_MS
            )));
        }
    } else if ttl_ms >= 0 {
        return Err(Error::BadArgument(format!("ttl not valid for mode: {}", mode_name(mode))));
    }
    Ok(())
}

/// `ZooKeeper.validateACL`: an empty ACL is InvalidACL, before anything is sent.
pub fn validate_acl(acl: &[Acl]) -> Result<(), Error> {
    if acl.is_empty() { Err(Error::keeper(ErrorCode::InvalidAcl, None)) } else { Ok(()) }
}

/// The Java enum constant name of a create mode.
pub fn mode_name(mode: CreateMode) -> &'static str {
    match mode {
        CreateMode::Persistent => "PERSISTENT",
        CreateMode::Ephemeral => "EPHEMERAL",
        CreateMode::PersistentSequential => "PERSISTENT_SEQUENTIAL",
        CreateMode::EphemeralSequential => "EPHEMERAL_SEQUENTIAL",
        CreateMode::Container => "CONTAINER",
        CreateMode::PersistentWithTtl => "PERSISTENT_WITH_TTL",
        CreateMode::PersistentSequentialWithTtl => "PERSISTENT_SEQUENTIAL_WITH_TTL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_argument_checks() {
        assert!(validate_path("/a", false).is_ok());
        assert_eq!(validate_path("a", false).unwrap_err().to_string(), "Path must start with / character");
        // "/a/" is refused, but as a sequential prefix it is fine ("/a/1").
        assert!(validate_path("/a/", false).is_err());
        assert!(validate_path("/a/", true).is_ok());
        assert!(validate_ttl(CreateMode::PersistentWithTtl, 0).is_err());
        assert!(validate_ttl(CreateMode::PersistentWithTtl, 1).is_ok());
        assert_eq!(
            validate_ttl(CreateMode::Persistent, 5).unwrap_err().to_string(),
            "ttl not valid for mode: PERSISTENT"
        );
        assert!(validate_acl(&[]).is_err());
    }

    #[test]
    fn multi_ops_use_javas_opcodes_and_chroot() {
        let acl = open_acl_unsafe();
        let r = Op::create("/a", b"", &acl, CreateMode::Container).to_request(Some("/app"));
        assert!(matches!(r, Request::Create { op: op::CREATE_CONTAINER, ref req } if req.path == "/app/a"));
        let r = Op::create_ttl("/t", b"", &acl, CreateMode::PersistentWithTtl, 10).to_request(None);
        assert!(matches!(r, Request::CreateTtl(ref t) if t.ttl == 10));
        assert!(
            matches!(Op::check("/", 1).to_request(Some("/app")), Request::Check(ref c) if c.path == "/app")
        );
    }
}
