//! The read side of the final stage (`FinalRequestProcessor`): requests that do not change the
//! tree, answered from it, with watches registered for the asking connection.

use rzk_proto::codes::{add_watch_mode, perms, watcher_type};
use rzk_proto::records::*;
use rzk_proto::{ErrorCode, MultiResult, Request, Response};
use rzk_tree::{DataTree, Fired, WatchMode, WatcherId};

use crate::auth::{AuthConfig, check_acl, client_infos, redact_digests};

pub struct Reads<'a> {
    pub tree: &'a mut DataTree,
    pub auth: &'a AuthConfig,
    pub ids: &'a [Id],
    pub session_id: i64,
    pub watcher: WatcherId,
    pub events: &'a mut Vec<Fired>,
}

/// The 4-letter `lastOp` name ZooKeeper records per connection (`cons`).
pub fn last_op(req: &Request) -> &'static str {
    match req {
        Request::Ping => "PING",
        Request::Create { .. } | Request::CreateTtl(_) => "CREA",
        Request::Delete(_) | Request::DeleteContainer(_) => "DELE",
        Request::SetData(_) => "SETD",
        Request::SetAcl(_) => "SETA",
        Request::Check(_) => "CHEC",
        Request::Multi(_) => "MULT",
        Request::MultiRead(_) => "MLTR",
        Request::Reconfig(_) => "RECO",
        Request::CloseSession => "CLOS",
        Request::Sync(_) => "SYNC",
        Request::Exists(_) => "EXIS",
        Request::GetData(_) => "GETD",
        Request::SetWatches(_) => "SETW",
        Request::SetWatches2(_) => "STW2",
        Request::AddWatch(_) => "ADDW",
        Request::GetAcl(_) => "GETA",
        Request::GetChildren(_) | Request::GetChildren2(_) => "GETC",
        Request::GetAllChildrenNumber(_) => "GETACN",
        Request::CheckWatches(_) => "CHKW",
        Request::RemoveWatches(_) => "REMW",
        Request::WhoAmI => "HOMI",
        Request::GetEphemerals(_) => "GETE",
        Request::Auth(_) | Request::Sasl(_) => "NA",
    }
}

impl Reads<'_> {
    fn acl(&self, path: &str, perm: i32) -> Result<(), ErrorCode> {
        let node = self.tree.node(path).ok_or(ErrorCode::NoNode)?;
        self.tree.acls.with(node.acl, |acl| check_acl(self.auth, acl, perm, self.ids))
    }

    fn watcher_if(&self, watch: bool) -> Option<WatcherId> {
        watch.then_some(self.watcher)
    }

    pub fn answer(&mut self, req: &Request) -> Result<Response, ErrorCode> {
        match req {
            Request::Ping => Ok(Response::Empty),
            Request::Exists(r) => {
                if r.path.contains('\0') {
                    return Err(ErrorCode::BadArguments);
                }
                let stat = self.tree.stat_node(&r.path, self.watcher_if(r.watch))?;
                Ok(Response::Stat(stat))
            }
            Request::GetData(r) => {
                let (data, stat) = self.get_data(&r.path, r.watch)?;
                Ok(Response::GetData(GetDataResponse { data, stat }))
            }
            Request::GetChildren(r) => {
                let children = self.get_children(&r.path, r.watch)?;
                Ok(Response::GetChildren(GetChildrenResponse { children }))
            }
            Request::GetChildren2(r) => {
                self.acl(&r.path, perms::READ)?;
                let (children, stat) = self.tree.get_children(&r.path, self.watcher_if(r.watch))?;
                Ok(Response::GetChildren2(GetChildren2Response { children, stat }))
            }
            Request::GetAllChildrenNumber(r) => {
                self.acl(&r.path, perms::READ)?;
                let total_number = self.tree.all_children_number(&r.path) as i32;
                Ok(Response::GetAllChildrenNumber(GetAllChildrenNumberResponse { total_number }))
            }
            Request::GetAcl(r) => {
                self.acl(&r.path, perms::READ | perms::ADMIN)?;
                let node = self.tree.node(&r.path).ok_or(ErrorCode::NoNode)?;
                let stat = self.tree.client_stat(node);
                let acl = self.tree.acl_of(node);
                let acl = if check_acl(self.auth, &acl, perms::ADMIN, self.ids).is_ok() {
                    acl
                } else {
                    redact_digests(acl)
                };
                Ok(Response::GetAcl(GetAclResponse { acl, stat }))
            }
            Request::Sync(r) => Ok(Response::Sync(SyncResponse { path: r.path.clone() })),
            Request::SetWatches(r) => {
                self.tree.set_watches(
                    r.relative_zxid,
                    &r.data_watches,
                    &r.exist_watches,
                    &r.child_watches,
                    &[],
                    &[],
                    self.watcher,
                    self.events,
                );
                Ok(Response::Empty)
            }
            Request::SetWatches2(r) => {
                self.tree.set_watches(
                    r.relative_zxid,
                    &r.data_watches,
                    &r.exist_watches,
                    &r.child_watches,
                    &r.persistent_watches,
                    &r.persistent_recursive_watches,
                    self.watcher,
                    self.events,
                );
                Ok(Response::Empty)
            }
            Request::AddWatch(r) => {
                let mode = match r.mode {
                    add_watch_mode::PERSISTENT => WatchMode::Persistent,
                    add_watch_mode::PERSISTENT_RECURSIVE => WatchMode::PersistentRecursive,
                    // WatcherMode.fromZooDef throws; FinalRequestProcessor answers MarshallingError.
                    _ => return Err(ErrorCode::MarshallingError),
                };
                self.tree.add_watch(&r.path, self.watcher, mode);
                Ok(Response::ErrorBody(ErrorResponse { err: 0 }))
            }
            Request::CheckWatches(r) => {
                let t = valid_watcher_type(r.watcher_type)?;
                if self.tree.contains_watcher(&r.path, t, self.watcher) {
                    Ok(Response::Empty)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            Request::RemoveWatches(r) => {
                let t = valid_watcher_type(r.watcher_type)?;
                if self.tree.remove_watch(&r.path, t, self.watcher) {
                    Ok(Response::Empty)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            Request::WhoAmI => {
                let ids = crate::java_hash::chm_order(self.ids);
                Ok(Response::WhoAmI(WhoAmIResponse { client_info: client_infos(&ids) }))
            }
            Request::GetEphemerals(r) => {
                let all = self.tree.ephemerals_java_order(self.session_id);
                let prefix = r.prefix_path.trim();
                let ephemerals = if prefix.is_empty() || prefix == "/" {
                    all.into_iter().collect()
                } else {
                    all.into_iter().filter(|p| p.starts_with(&r.prefix_path)).collect()
                };
                Ok(Response::GetEphemerals(GetEphemeralsResponse { ephemerals }))
            }
            Request::MultiRead(ops) => {
                let mut results = Vec::with_capacity(ops.len());
                // MultiOperationRecord rebuilds these ops without their watch flag, so a multiRead
                // never sets watches (ZooKeeper 3.8).
                for sub in ops {
                    let res = match sub {
                        Request::GetChildren(r) => {
                            self.get_children(&r.path, false).map(MultiResult::GetChildren)
                        }
                        Request::GetData(r) => self
                            .get_data(&r.path, false)
                            .map(|(data, stat)| MultiResult::GetData { data, stat }),
                        // "Invalid type of readOp": the whole request fails to marshal.
                        _ => return Err(ErrorCode::MarshallingError),
                    };
                    results.push(res.unwrap_or_else(|e| MultiResult::Error(e.code())));
                }
                Ok(Response::Multi(results))
            }
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    fn get_data(&mut self, path: &str, watch: bool) -> Result<(Option<bytes::Bytes>, Stat), ErrorCode> {
        self.acl(path, perms::READ)?;
        self.tree.get_data(path, self.watcher_if(watch))
    }

    fn get_children(&mut self, path: &str, watch: bool) -> Result<Vec<String>, ErrorCode> {
        self.acl(path, perms::READ)?;
        Ok(self.tree.get_children(path, self.watcher_if(watch))?.0)
    }
}

/// `WatcherType.fromInt` for 3.8: Children, Data, Any; anything else fails to marshal.
fn valid_watcher_type(t: i32) -> Result<i32, ErrorCode> {
    match t {
        watcher_type::CHILDREN | watcher_type::DATA | watcher_type::ANY => Ok(t),
        _ => Err(ErrorCode::MarshallingError),
    }
}
