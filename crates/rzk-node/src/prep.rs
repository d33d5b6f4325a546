//! The prep stage (`PrepRequestProcessor`): turns a write request into a txn against the tree
//! plus the outstanding changes, or into an error txn. The order of checks is ZooKeeper's, since
//! it decides which error a client sees when several apply.

use bytes::Bytes;
use rzk_proto::codes::{CreateMode, ephemeral_owner, op, perms};
use rzk_proto::records::*;
use rzk_proto::txn::TxnBody;
use rzk_proto::{ErrorCode, Request, path};
use rzk_tree::DataTree;
use rzk_tree::node::{NodeKind, create_stat, node_kind};
use rzk_tree::quota::{self, StatsTrack};

use crate::auth::{AuthConfig, check_acl, fixup_acl};
use crate::changes::{ChangeRecord, Outstanding, RecData};
use crate::sessions::SessionTracker;

/// What prep needs to see.
pub struct Prep<'a> {
    pub tree: &'a DataTree,
    pub changes: &'a mut Outstanding,
    pub sessions: &'a SessionTracker,
    pub auth: &'a AuthConfig,
    pub extended_types: bool,
    pub enforce_quota: bool,
    pub reconfig_enabled: bool,
    pub close_session_txn: bool,
    pub session_id: i64,
    pub ids: &'a [Id],
    pub zxid: i64,
    pub time: i64,
}

type PrepResult = Result<(i32, TxnBody), ErrorCode>;

impl Prep<'_> {
    /// Prepares a write. `Ok` is the txn type and body; `Err` becomes an `ErrorTxn`.
    pub fn write(&mut self, req: &Request) -> PrepResult {
        match req {
            Request::Multi(ops) => Ok((op::MULTI, self.multi(ops))),
            other => self.single(other),
        }
    }

    fn single(&mut self, req: &Request) -> PrepResult {
        match req {
            Request::Create { op, req } => {
                self.create(*op, &req.path, &req.data, &req.acl, req.flags, -1).map(|b| (*op, b))
            }
            Request::CreateTtl(r) => self
                .create(op::CREATE_TTL, &r.path, &r.data, &r.acl, r.flags, r.ttl)
                .map(|b| (op::CREATE_TTL, b)),
            Request::Delete(r) => self.delete(&r.path, r.version).map(|b| (op::DELETE, b)),
            Request::DeleteContainer(r) => self.delete_container(&r.path).map(|b| (op::DELETE_CONTAINER, b)),
            Request::SetData(r) => self.set_data(&r.path, &r.data, r.version).map(|b| (op::SET_DATA, b)),
            Request::SetAcl(r) => self.set_acl(&r.path, &r.acl, r.version).map(|b| (op::SET_ACL, b)),
            Request::Check(r) => self.check(&r.path, r.version).map(|b| (op::CHECK, b)),
            Request::Reconfig(_) => {
                // Standalone, or reconfigEnabled=false (the default): ZooKeeper refuses first.
                if !self.reconfig_enabled {
                    return Err(ErrorCode::ReconfigDisabled);
                }
                self.sessions.check(self.session_id)?;
                Err(ErrorCode::Unimplemented)
            }
            Request::CloseSession => Ok((op::CLOSE_SESSION, self.close_session())),
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    fn multi(&mut self, ops: &[Request]) -> TxnBody {
        self.changes.begin_multi();
        let mut subs = Vec::with_capacity(ops.len());
        let mut failed = false;
        for sub in ops {
            if failed {
                subs.push((
                    op::ERROR,
                    TxnBody::Error(ErrorTxn { err: ErrorCode::RuntimeInconsistency.code() }),
                ));
                continue;
            }
            match self.single(sub) {
                Ok(t) => subs.push(t),
                Err(e) => {
                    failed = true;
                    subs.push((op::ERROR, TxnBody::Error(ErrorTxn { err: e.code() })));
                }
            }
        }
        self.changes.end_multi(self.zxid, failed);
        TxnBody::Multi(subs)
    }

    fn record(&self, path: &str) -> Result<ChangeRecord, ErrorCode> {
        self.changes.record(self.tree, path)
    }

    fn add(&mut self, path: &str, rec: ChangeRecord) {
        self.changes.add(self.tree, path, rec);
    }

    fn acl(&self, acl: &[Acl], perm: i32) -> Result<(), ErrorCode> {
        check_acl(self.auth, acl, perm, self.ids)
    }

    fn validate_path(&self, p: &str) -> Result<(), ErrorCode> {
        path::validate_path(p).map_err(|reason| {
            tracing::info!(path = %p, session = %format!("0x{:x}", self.session_id), %reason, "invalid path");
            ErrorCode::BadArguments
        })
    }

    /// `getParentPathAndValidate`: no slash, a NUL or one of ZooKeeper's own nodes.
    fn parent_for_delete<'p>(&self, p: &'p str) -> Result<&'p str, ErrorCode> {
        let slash = p.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if p.contains('\0') || matches!(p, "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config") {
            return Err(ErrorCode::BadArguments);
        }
        Ok(if slash == 0 { "/" } else { &p[..slash] })
    }

    fn create(
        &mut self,
        ty: i32,
        req_path: &str,
        data: &Option<Bytes>,
        acl: &[Acl],
        flags: i32,
        ttl: i64,
    ) -> Result<TxnBody, ErrorCode> {
        let mode = CreateMode::from_flag(flags).ok_or(ErrorCode::BadArguments)?;
        // validateCreateRequest
        if mode.is_ttl() && !self.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        let ttl_ok = if mode.is_ttl() { ttl > 0 && ttl <= ephemeral_owner::TTL_MAX_MS } else { ttl < 0 };
        if !ttl_ok {
            return Err(ErrorCode::BadArguments);
        }
        self.sessions.check(self.session_id)?;
        // validatePathForCreate
        let slash = req_path.rfind('/').ok_or(ErrorCode::BadArguments)?;
        if req_path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = if slash == 0 { "/" } else { &req_path[..slash] };
        let acl = fixup_acl(self.auth, self.ids, acl)?;
        let node_acl = self.tree.acls.share(&acl);
        let parent = self.record(parent_path)?;
        self.acl(&parent.acl, perms::CREATE)?;
        let parent_stat = parent.stat.clone().unwrap_or_default();
        let p = if mode.is_sequential() {
            format!("{req_path}{:010}", parent_stat.cversion)
        } else {
            req_path.to_owned()
        };
        self.validate_path(&p)?;
        if self.changes.exists(self.tree, &p) {
            return Err(ErrorCode::NodeExists);
        }
        if matches!(node_kind(parent_stat.ephemeral_owner, self.extended_types), NodeKind::Ephemeral(_)) {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let new_cversion = parent_stat.cversion + 1;
        self.check_quota(&p, None, data.as_ref().map_or(0, |d| d.len()) as i64, 1)?;
        let body = match ty {
            op::CREATE_CONTAINER => TxnBody::CreateContainer(CreateContainerTxn {
                path: p.clone(),
                data: data.clone(),
                acl,
                parent_cversion: new_cversion,
            }),
            op::CREATE_TTL => TxnBody::CreateTtl(CreateTtlTxn {
                path: p.clone(),
                data: data.clone(),
                acl,
                parent_cversion: new_cversion,
                ttl,
            }),
            _ => TxnBody::Create(CreateTxn {
                path: p.clone(),
                data: data.clone(),
                acl,
                ephemeral: mode.is_ephemeral(),
                parent_cversion: new_cversion,
            }),
        };
        let owner = if mode.is_container() {
            ephemeral_owner::CONTAINER
        } else if mode.is_ttl() {
            ephemeral_owner::ttl(ttl)
        } else if mode.is_ephemeral() {
            self.session_id
        } else {
            0
        };
        let mut parent_rec = ChangeRecord { zxid: self.zxid, ..parent };
        parent_rec.child_count += 1;
        if let Some(s) = &mut parent_rec.stat {
            s.cversion = new_cversion;
            s.pzxid = self.zxid;
        }
        self.add(parent_path, parent_rec);
        let node = ChangeRecord {
            zxid: self.zxid,
            stat: Some(create_stat(self.zxid, self.time, owner)),
            child_count: 0,
            acl: node_acl,
            data: RecData::Value(data.clone()),
            node_digest: 0,
        };
        self.add(&p, node);
        Ok(body)
    }

    fn delete(&mut self, p: &str, version: i32) -> Result<TxnBody, ErrorCode> {
        self.sessions.check(self.session_id)?;
        let parent_path = self.parent_for_delete(p)?;
        let parent = self.record(parent_path)?;
        self.acl(&parent.acl, perms::DELETE)?;
        let node = self.record(p)?;
        check_version(node.stat.as_ref().map_or(0, |s| s.version), version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.remove_records(parent_path, parent, p);
        Ok(TxnBody::Delete(DeleteTxn { path: p.to_owned() }))
    }

    fn delete_container(&mut self, p: &str) -> Result<TxnBody, ErrorCode> {
        let parent_path = self.parent_for_delete(p)?;
        let node = self.record(p)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        let owner = node.stat.as_ref().map_or(0, |s| s.ephemeral_owner);
        if matches!(node_kind(owner, self.extended_types), NodeKind::Ephemeral(_)) {
            return Err(ErrorCode::BadVersion);
        }
        let parent = self.record(parent_path)?;
        self.remove_records(parent_path, parent, p);
        Ok(TxnBody::Delete(DeleteTxn { path: p.to_owned() }))
    }

    fn remove_records(&mut self, parent_path: &str, parent: ChangeRecord, p: &str) {
        let mut parent_rec = ChangeRecord { zxid: self.zxid, ..parent };
        parent_rec.child_count -= 1;
        if let Some(s) = &mut parent_rec.stat {
            s.pzxid = self.zxid;
        }
        self.add(parent_path, parent_rec);
        let gone = ChangeRecord {
            zxid: self.zxid,
            stat: None,
            child_count: -1,
            acl: Default::default(),
            data: RecData::Value(None),
            node_digest: 0,
        };
        self.add(p, gone);
    }

    fn set_data(&mut self, p: &str, data: &Option<Bytes>, version: i32) -> Result<TxnBody, ErrorCode> {
        self.sessions.check(self.session_id)?;
        self.validate_path(p)?;
        let node = self.record(p)?;
        self.acl(&node.acl, perms::WRITE)?;
        let old_len = node.data.get(self.tree, p).map_or(0, |d| d.len()) as i64;
        let new_len = data.as_ref().map_or(0, |d| d.len()) as i64;
        self.check_quota(p, Some(old_len), new_len, 0)?;
        let new_version = check_version(node.stat.as_ref().map_or(0, |s| s.version), version)?;
        let mut rec = ChangeRecord { zxid: self.zxid, data: RecData::Value(data.clone()), ..node };
        if let Some(s) = &mut rec.stat {
            s.version = new_version;
            s.mtime = self.time;
            s.mzxid = self.zxid;
        }
        self.add(p, rec);
        Ok(TxnBody::SetData(SetDataTxn { path: p.to_owned(), data: data.clone(), version: new_version }))
    }

    fn set_acl(&mut self, p: &str, acl: &[Acl], version: i32) -> Result<TxnBody, ErrorCode> {
        self.sessions.check(self.session_id)?;
        self.validate_path(p)?;
        let acl = fixup_acl(self.auth, self.ids, acl)?;
        let node = self.record(p)?;
        self.acl(&node.acl, perms::ADMIN)?;
        let new_version = check_version(node.stat.as_ref().map_or(0, |s| s.aversion), version)?;
        let mut rec = ChangeRecord { zxid: self.zxid, ..node };
        if let Some(s) = &mut rec.stat {
            s.aversion = new_version;
        }
        rec.acl = acl.as_slice().into();
        self.add(p, rec);
        Ok(TxnBody::SetAcl(SetAclTxn { path: p.to_owned(), acl, version: new_version }))
    }

    fn check(&mut self, p: &str, version: i32) -> Result<TxnBody, ErrorCode> {
        self.sessions.check(self.session_id)?;
        self.validate_path(p)?;
        let node = self.record(p)?;
        self.acl(&node.acl, perms::READ)?;
        let v = check_version(node.stat.as_ref().map_or(0, |s| s.version), version)?;
        Ok(TxnBody::Check(CheckVersionTxn { path: p.to_owned(), version: v }))
    }

    /// closeSession: the session's ephemerals (committed and pending) are listed in the txn and
    /// their deletions recorded.
    fn close_session(&mut self) -> TxnBody {
        // The order ZooKeeper lists them in: its HashSet clone, minus pending deletes, plus
        // pending creates.
        let mut es = self.tree.ephemerals_java_order(self.session_id);
        let (deleted, created) = self.changes.ephemeral_changes(self.session_id);
        es.retain(|p| !deleted.contains(p));
        for c in created {
            if !es.contains(&c) {
                es.push(c);
            }
        }
        for p in &es {
            if let Some(parent_path) = path::parent(p)
                && let Ok(parent) = self.record(parent_path)
            {
                let mut parent_rec = ChangeRecord { zxid: self.zxid, ..parent };
                if let Some(s) = &mut parent_rec.stat {
                    s.pzxid = self.zxid;
                }
                self.add(parent_path, parent_rec);
            }
            let gone = ChangeRecord {
                zxid: self.zxid,
                stat: None,
                child_count: 0,
                acl: Default::default(),
                data: RecData::Value(None),
                node_digest: 0,
            };
            self.add(p, gone);
        }
        if self.close_session_txn {
            TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: es.into_iter().collect() }))
        } else {
            TxnBody::CloseSession(None)
        }
    }

    /// `checkQuota`: soft limits are logged, hard limits refuse with QuotaExceeded (only with
    /// enforceQuota).
    fn check_quota(
        &self,
        p: &str,
        old_len: Option<i64>,
        new_len: i64,
        count_diff: i64,
    ) -> Result<(), ErrorCode> {
        if !self.enforce_quota {
            return Ok(());
        }
        let Some(prefix) = self.tree.max_quota_prefix(p) else { return Ok(()) };
        let bytes_diff = new_len - old_len.unwrap_or(0);
        let read = |qp: String| self.tree.node(&qp).map(|n| StatsTrack::parse(n.data().unwrap_or(&[])));
        let Some(limits) = read(quota::limit_path(prefix)) else { return Ok(()) };
        let check_count = count_diff != 0 && (limits.count() > -1 || limits.count_hard_limit() > -1);
        let check_bytes = bytes_diff != 0 && (limits.bytes() > -1 || limits.byte_hard_limit() > -1);
        if !check_count && !check_bytes {
            return Ok(());
        }
        let Some(current) = read(quota::stat_path(prefix)) else { return Ok(()) };
        let over = |now: i64, hard: i64, soft: i64, what: &str| -> Result<(), ErrorCode> {
            let is_hard = hard > -1;
            let limit = if is_hard { hard } else { soft };
            if now > limit {
                let kind = if is_hard { "hard" } else { "soft" };
                tracing::warn!("Quota exceeded: {prefix} [current {what}={now}, {kind}Limit={limit}]");
                if is_hard {
                    return Err(ErrorCode::QuotaExceeded);
                }
            }
            Ok(())
        };
        if check_count {
            over(current.count() + count_diff, limits.count_hard_limit(), limits.count(), "count")?;
        }
        if check_bytes {
            over(current.bytes() + bytes_diff, limits.byte_hard_limit(), limits.bytes(), "bytes")?;
        }
        Ok(())
    }
}

/// `checkAndIncVersion`: −1 matches any version.
fn check_version(current: i32, expected: i32) -> Result<i32, ErrorCode> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}
