//! The audit log (`audit.enable`): ZooKeeper's `AuditHelper` and `ZKAuditProvider`. The server a
//! client is connected to writes one line per create, delete, setData, setAcl, failed multi and
//! reconfig once its txn is applied, and every server one line per ephemeral node removed with
//! its session. A line is ZooKeeper's `AuditEvent`: `key=value` pairs separated by tabs, in the
//! order session, user, ip, operation, znode, znode_type, acl (absent ones left out), then
//! `result=success|failure|invoked`.
//!
//! Lines are tracing events with target [`AUDIT_TARGET`] (the logger name ZooKeeper's logback
//! configuration routes to `zookeeper_audit.log`), at INFO, or ERROR for failures as
//! `Slf4jAuditLogger` logs them. The shell decides where they go.

use std::fmt;

use rzk_proto::codes::{CreateMode, op, perms};
use rzk_proto::records::{Acl, Id};
use rzk_proto::{ErrorCode, Request};
use rzk_tree::TxnResult;

/// The logger ZooKeeper's audit lines are written to.
pub const AUDIT_TARGET: &str = "org.apache.zookeeper.audit.Slf4jAuditLogger";

/// `AuditConstants`.
pub const OP_START: &str = "serverStart";
pub const OP_STOP: &str = "serverStop";
const OP_CREATE: &str = "create";
const OP_DELETE: &str = "delete";
const OP_SETDATA: &str = "setData";
const OP_SETACL: &str = "setAcl";
const OP_MULTI_OP: &str = "multiOperation";
const OP_RECONFIG: &str = "reconfig";
const OP_DEL_EZNODE_EXP: &str = "ephemeralZNodeDeletionOnSessionCloseOrExpire";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    Success,
    Failure,
    Invoked,
}

/// One audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub session: Option<String>,
    pub user: Option<String>,
    pub ip: Option<String>,
    pub operation: &'static str,
    pub znode: Option<String>,
    pub znode_type: Option<&'static str>,
    pub acl: Option<String>,
    pub result: AuditResult,
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            ("session", self.session.as_deref()),
            ("user", self.user.as_deref()),
            ("ip", self.ip.as_deref()),
            ("operation", Some(self.operation)),
            ("znode", self.znode.as_deref()),
            ("znode_type", self.znode_type),
            ("acl", self.acl.as_deref()),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                write!(f, "{k}={v}\t")?;
            }
        }
        let result = match self.result {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
            AuditResult::Invoked => "invoked",
        };
        write!(f, "result={result}")
    }
}

impl AuditEvent {
    /// Writes the line (ERROR for a failure, INFO otherwise).
    pub fn emit(&self) {
        if self.result == AuditResult::Failure {
            tracing::error!(target: AUDIT_TARGET, "{self}");
        } else {
            tracing::info!(target: AUDIT_TARGET, "{self}");
        }
    }

    /// `serverStart`/`serverStop` lines: only the user (who runs the server) and the operation.
    pub fn server(user: &str, operation: &'static str, result: AuditResult) -> AuditEvent {
        AuditEvent {
            session: None,
            user: Some(user.to_owned()),
            ip: None,
            operation,
            znode: None,
            znode_type: None,
            acl: None,
            result,
        }
    }
}

/// What the audit needs to know of a write request, kept until its txn is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    op: i32,
    path: String,
    create_mode: Option<&'static str>,
    acl: Option<String>,
    /// The create modes of a multi's plain creates, by the path asked for.
    multi_modes: Vec<(String, &'static str)>,
    session: String,
    user: Option<String>,
    ip: String,
}

impl AuditNote {
    /// The note for `req` from `session` on a connection from `ip` with `ids`; `None` for
    /// requests ZooKeeper does not audit.
    pub fn for_request(req: &Request, session: i64, ip: &str, ids: &[Id]) -> Option<AuditNote> {
        let mut note = AuditNote {
            op: req.op(),
            path: req.path().unwrap_or_default().to_owned(),
            create_mode: None,
            acl: None,
            multi_modes: Vec::new(),
            session: format!("0x{session:x}"),
            user: users(ids),
            ip: ip.to_owned(),
        };
        match req {
            Request::Create { req, .. } => note.create_mode = Some(create_mode_name(req.flags)?),
            Request::CreateTtl(r) => note.create_mode = Some(create_mode_name(r.flags)?),
            Request::Delete(_) | Request::SetData(_) | Request::Reconfig(_) => {}
            Request::SetAcl(r) => note.acl = Some(acl_string(&r.acl)),
            Request::Multi(ops) => {
                for o in ops {
                    if let Request::Create { req, .. } = o {
                        // ZooKeeper gives up on the whole line for a bad flag in a multi.
                        note.multi_modes.push((req.path.clone(), create_mode_name(req.flags)?));
                    }
                }
            }
            _ => return None,
        }
        Some(note)
    }

    fn event(&self, operation: &'static str, znode: Option<String>, result: AuditResult) -> AuditEvent {
        AuditEvent {
            session: Some(self.session.clone()),
            user: self.user.clone(),
            ip: Some(self.ip.clone()),
            operation,
            znode,
            znode_type: None,
            acl: None,
            result,
        }
    }

    /// The lines for the applied txn `rc` (`AuditHelper.addAuditLog`).
    pub fn events(&self, rc: &TxnResult) -> Vec<AuditEvent> {
        // An error txn: prep refused the request; the path is the one asked for.
        let failed_txn = rc.txn_type == op::ERROR;
        let path = if failed_txn { Some(self.path.clone()) } else { Some(rc.path.clone()) };
        let result = if !failed_txn && rc.err == ErrorCode::Ok.code() {
            AuditResult::Success
        } else {
            AuditResult::Failure
        };
        let operation = match self.op {
            op::CREATE | op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => OP_CREATE,
            op::DELETE | op::DELETE_CONTAINER => OP_DELETE,
            op::SET_DATA => OP_SETDATA,
            op::SET_ACL => OP_SETACL,
            op::RECONFIG => OP_RECONFIG,
            op::MULTI if failed_txn => OP_MULTI_OP,
            op::MULTI => return self.multi_events(rc),
            _ => return Vec::new(),
        };
        let mut e = self.event(operation, path, result);
        e.znode_type = self.create_mode;
        e.acl = self.acl.clone();
        vec![e]
    }

    /// `logMultiOperation`: a line per applied create, delete and setData, and one failure line
    /// for the multi when an op failed.
    fn multi_events(&self, rc: &TxnResult) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        let mut failed = false;
        for sub in &rc.multi {
            let operation = match sub.txn_type {
                op::CREATE | op::CREATE2 | op::CREATE_TTL | op::CREATE_CONTAINER => OP_CREATE,
                op::DELETE | op::DELETE_CONTAINER => OP_DELETE,
                op::SET_DATA => OP_SETDATA,
                op::ERROR => {
                    failed = true;
                    continue;
                }
                _ => continue,
            };
            let mut e = self.event(operation, Some(sub.path.clone()), AuditResult::Success);
            if operation == OP_CREATE {
                // Looked up by the created path: a sequential node's name differs from the
                // one asked for, and ZooKeeper then logs no type.
                e.znode_type = self.multi_modes.iter().find(|(p, _)| *p == sub.path).map(|(_, m)| *m);
            }
            out.push(e);
        }
        if failed {
            // A multi's own result has no path.
            out.push(self.event(OP_MULTI_OP, None, AuditResult::Failure));
        }
        out
    }
}

/// The line for an ephemeral node removed with its session (DataTree.killSession).
pub fn ephemeral_removed(server_user: &str, session: i64, path: &str, deleted: bool) -> AuditEvent {
    AuditEvent {
        session: Some(format!("0x{session:x}")),
        user: Some(server_user.to_owned()),
        ip: None,
        operation: OP_DEL_EZNODE_EXP,
        znode: Some(path.to_owned()),
        znode_type: None,
        acl: None,
        result: if deleted { AuditResult::Success } else { AuditResult::Failure },
    }
}

/// `CreateMode.fromFlag(flags).toString().toLowerCase()`.
pub fn create_mode_name(flags: i32) -> Option<&'static str> {
    Some(match CreateMode::from_flag(flags)? {
        CreateMode::Persistent => "persistent",
        CreateMode::Ephemeral => "ephemeral",
        CreateMode::PersistentSequential => "persistent_sequential",
        CreateMode::EphemeralSequential => "ephemeral_sequential",
        CreateMode::Container => "container",
        CreateMode::PersistentWithTtl => "persistent_with_ttl",
        CreateMode::PersistentSequentialWithTtl => "persistent_sequential_with_ttl",
    })
}

/// `AuthUtil.getUsers`: the user names of the connection's ids (the id itself, a digest id's
/// user part; schemes without a provider, such as `super` and `world`, have none), joined by
/// commas; `None` when there are none.
pub fn users(ids: &[Id]) -> Option<String> {
    let names: Vec<&str> = ids
        .iter()
        .filter_map(|id| match id.scheme.as_str() {
            "digest" => id.id.split(':').next(),
            "ip" | "sasl" | "x509" => Some(id.id.as_str()),
            _ => None,
        })
        .filter(|n| !n.trim().is_empty())
        .collect();
    (!names.is_empty()).then(|| names.join(","))
}

/// `ZKUtil.aclToString`: `scheme:id:perms` per entry, with nothing between entries (as 3.8
/// writes it); perms in the order c, d, r, w, a.
pub fn acl_string(acls: &[Acl]) -> String {
    let mut s = String::new();
    for a in acls {
        s.push_str(&a.id.scheme);
        s.push(':');
        s.push_str(&a.id.id);
        s.push(':');
        for (bit, c) in [
            (perms::CREATE, 'c'),
            (perms::DELETE, 'd'),
            (perms::READ, 'r'),
            (perms::WRITE, 'w'),
            (perms::ADMIN, 'a'),
        ] {
            if a.perms & bit != 0 {
                s.push(c);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::records::{CreateRequest, DeleteRequest, SetAclRequest};

    fn ids() -> Vec<Id> {
        vec![Id::new("ip", "127.0.0.1"), Id::new("digest", "bob:hash="), Id::new("super", "")]
    }

    fn create(path: &str, flags: i32) -> Request {
        Request::Create {
            op: op::CREATE,
            req: CreateRequest {
                path: path.into(),
                data: None,
                acl: vec![Acl::new(31, "world", "anyone")],
                flags,
            },
        }
    }

    fn result(txn_type: i32, err: i32, path: &str) -> TxnResult {
        TxnResult { txn_type, err, path: path.into(), stat: None, multi: Vec::new() }
    }

    #[test]
    fn a_create_line_has_zookeepers_fields_in_order() {
        let note = AuditNote::for_request(&create("/a", 1), 0x1000a, "127.0.0.1", &ids()).expect("audited");
        let lines: Vec<String> =
            note.events(&result(op::CREATE, 0, "/a")).iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "session=0x1000a\tuser=127.0.0.1,bob\tip=127.0.0.1\toperation=create\tznode=/a\tznode_type=ephemeral\tresult=success"
            ]
        );
    }

    #[test]
    fn a_refused_request_logs_the_path_asked_for_as_a_failure() {
        let del = Request::Delete(DeleteRequest { path: "/missing".into(), version: -1 });
        let note =
            AuditNote::for_request(&del, 1, "10.0.0.1", &[Id::new("ip", "10.0.0.1")]).expect("audited");
        let e = note.events(&result(op::ERROR, ErrorCode::NoNode.code(), ""));
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].to_string(),
            "session=0x1\tuser=10.0.0.1\tip=10.0.0.1\toperation=delete\tznode=/missing\tresult=failure"
        );
    }

    #[test]
    fn set_acl_lines_carry_the_acl_as_zookeeper_prints_it() {
        let req = Request::SetAcl(SetAclRequest {
            path: "/x".into(),
            acl: vec![Acl::new(perms::READ | perms::ADMIN, "world", "anyone"), Acl::new(31, "digest", "u:h")],
            version: -1,
        });
        let note = AuditNote::for_request(&req, 2, "::1", &[]).expect("audited");
        let e = &note.events(&result(op::SET_ACL, 0, "/x"))[0];
        assert_eq!(e.acl.as_deref(), Some("world:anyone:radigest:u:h:cdrwa"));
        assert_eq!(e.user, None);
    }

    #[test]
    fn reads_are_not_audited() {
        let get = Request::GetData(rzk_proto::records::GetDataRequest { path: "/".into(), watch: false });
        assert!(AuditNote::for_request(&get, 1, "1.2.3.4", &[]).is_none());
    }

    #[test]
    fn multis_log_their_ops_or_one_failure() {
        let multi = Request::Multi(vec![create("/m", 0), create("/s-", 2)]);
        let note = AuditNote::for_request(&multi, 3, "127.0.0.1", &[]).expect("audited");
        let ok = TxnResult {
            multi: vec![result(op::CREATE, 0, "/m"), result(op::CREATE, 0, "/s-0000000001")],
            ..result(op::MULTI, 0, "")
        };
        let lines: Vec<String> = note.events(&ok).iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "session=0x3\tip=127.0.0.1\toperation=create\tznode=/m\tznode_type=persistent\tresult=success",
                "session=0x3\tip=127.0.0.1\toperation=create\tznode=/s-0000000001\tresult=success",
            ]
        );
        let failed = TxnResult {
            multi: vec![result(op::ERROR, 0, ""), result(op::ERROR, ErrorCode::NodeExists.code(), "")],
            ..result(op::MULTI, 0, "")
        };
        let lines: Vec<String> = note.events(&failed).iter().map(|e| e.to_string()).collect();
        assert_eq!(lines, ["session=0x3\tip=127.0.0.1\toperation=multiOperation\tresult=failure"]);
    }

    #[test]
    fn ephemeral_removal_and_server_lines() {
        assert_eq!(
            ephemeral_removed("zookeeper", 0x1f, "/e", true).to_string(),
            "session=0x1f\tuser=zookeeper\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/e\tresult=success"
        );
        assert_eq!(
            AuditEvent::server("zookeeper", OP_START, AuditResult::Success).to_string(),
            "user=zookeeper\toperation=serverStart\tresult=success"
        );
    }
}
