//! The typed ZooKeeper calls, as the Java `ZooKeeper` class offers them: arguments checked
//! before sending (same messages), client paths mapped under the chroot, the reply decoded, an
//! error reply turned into `Error::Keeper` with the client path.

use bytes::Bytes;
use rzk_proto::codes::op;
use rzk_proto::{
    Acl, AddWatchRequest, CheckWatchesRequest, ClientInfo, CreateMode, CreateRequest, CreateTtlRequest,
    DeleteRequest, ErrorCode, ExistsRequest, GetAclRequest, GetAllChildrenNumberRequest, GetChildren2Request,
    GetChildrenRequest, GetDataRequest, GetEphemeralsRequest, MultiResult, Request, Response, SetAclRequest,
    SetDataRequest, Stat, SyncRequest,
};

use crate::client::Client;
use crate::connect_string::to_client_path;
use crate::error::{Error, Result};
use crate::event::{AddWatchMode, WatcherType};
use crate::ops::{Op, validate_acl, validate_path, validate_ttl};
use crate::session::RawReply;

/// `ZooDefs.CONFIG_NODE`: where the ensemble configuration lives (read without the chroot).
pub const CONFIG_NODE: &str = "/zookeeper/config";

impl Client {
    /// Sends `req` about `client_path`; an error reply becomes `Error::Keeper` for that path.
    async fn request(&self, req: Request, client_path: Option<&str>) -> Result<Response> {
        let reply = self.call(req, None).await.map_err(|e| match client_path {
            Some(p) => e.with_path(p),
            None => e,
        })?;
        decoded(&reply, client_path)
    }

    fn strip_chroot(&self, server_path: &str) -> String {
        to_client_path(self.chroot(), server_path)
    }

    /// create: returns the created path (with its sequence suffix).
    pub async fn create(&self, path: &str, data: &[u8], acl: &[Acl], mode: CreateMode) -> Result<String> {
        validate_path(path, mode.is_sequential())?;
        validate_ttl(mode, -1)?;
        validate_acl(acl)?;
        let op = if mode.is_container() { op::CREATE_CONTAINER } else { op::CREATE };
        let req = CreateRequest {
            path: self.server_path(path),
            data: Some(Bytes::copy_from_slice(data)),
            acl: acl.to_vec(),
            flags: mode.flag(),
        };
        match self.request(Request::Create { op, req }, Some(path)).await? {
            Response::Create(r) => Ok(self.strip_chroot(&r.path)),
            Response::Create2(r) => Ok(self.strip_chroot(&r.path)),
            other => Err(unexpected(other)),
        }
    }

    /// create keeping null data (`None`) apart from empty data, with a TTL for the TTL modes
    /// (zkCli's `create`: createTTL for TTL modes, else create or createContainer).
    pub async fn create_nullable(
        &self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: Option<i64>,
    ) -> Result<String> {
        validate_path(path, mode.is_sequential())?;
        validate_ttl(mode, ttl_ms.unwrap_or(-1))?;
        validate_acl(acl)?;
        let data = data.map(Bytes::copy_from_slice);
        let sp = self.server_path(path);
        let req = match ttl_ms {
            Some(ttl) => Request::CreateTtl(CreateTtlRequest {
                path: sp,
                data,
                acl: acl.to_vec(),
                flags: mode.flag(),
                ttl,
            }),
            None => {
                let op = if mode.is_container() { op::CREATE_CONTAINER } else { op::CREATE };
                Request::Create {
                    op,
                    req: CreateRequest { path: sp, data, acl: acl.to_vec(), flags: mode.flag() },
                }
            }
        };
        match self.request(req, Some(path)).await? {
            Response::Create(r) => Ok(self.strip_chroot(&r.path)),
            Response::Create2(r) => Ok(self.strip_chroot(&r.path)),
            other => Err(unexpected(other)),
        }
    }

    /// create2: the created path and its stat.
    pub async fn create2(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
    ) -> Result<(String, Stat)> {
        validate_path(path, mode.is_sequential())?;
        validate_ttl(mode, -1)?;
        validate_acl(acl)?;
        let op = if mode.is_container() { op::CREATE_CONTAINER } else { op::CREATE2 };
        let req = CreateRequest {
            path: self.server_path(path),
            data: Some(Bytes::copy_from_slice(data)),
            acl: acl.to_vec(),
            flags: mode.flag(),
        };
        self.create2_reply(Request::Create { op, req }, path).await
    }

    /// A container node (deleted by the server once its last child goes).
    pub async fn create_container(&self, path: &str, data: &[u8], acl: &[Acl]) -> Result<(String, Stat)> {
        self.create2(path, data, acl, CreateMode::Container).await
    }

    /// A TTL node (`mode` is PersistentWithTtl or PersistentSequentialWithTtl); the server must
    /// have extended types enabled.
    pub async fn create_ttl(
        &self,
        path: &str,
        data: &[u8],
        acl: &[Acl],
        mode: CreateMode,
        ttl_ms: i64,
    ) -> Result<(String, Stat)> {
        validate_path(path, mode.is_sequential())?;
        validate_ttl(mode, ttl_ms)?;
        validate_acl(acl)?;
        let req = CreateTtlRequest {
            path: self.server_path(path),
            data: Some(Bytes::copy_from_slice(data)),
            acl: acl.to_vec(),
            flags: mode.flag(),
            ttl: ttl_ms,
        };
        self.create2_reply(Request::CreateTtl(req), path).await
    }

    async fn create2_reply(&self, req: Request, path: &str) -> Result<(String, Stat)> {
        match self.request(req, Some(path)).await? {
            Response::Create2(r) => Ok((self.strip_chroot(&r.path), r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// delete (`version` −1 matches any version). "/" is sent as "/" even under a chroot, as Java
    /// does, so it always fails.
    pub async fn delete(&self, path: &str, version: i32) -> Result<()> {
        validate_path(path, false)?;
        let sp = if path == "/" { path.to_owned() } else { self.server_path(path) };
        self.request(Request::Delete(DeleteRequest { path: sp, version }), Some(path)).await.map(drop)
    }

    /// exists: the stat, or `None` if there is no such node; `watch` leaves a watch either way.
    pub async fn exists(&self, path: &str, watch: bool) -> Result<Option<Stat>> {
        validate_path(path, false)?;
        let req = Request::Exists(ExistsRequest { path: self.server_path(path), watch });
        match self.request(req, Some(path)).await {
            Ok(Response::Stat(s)) => Ok(Some(s)),
            Ok(other) => Err(unexpected(other)),
            Err(e) if e.code() == Some(ErrorCode::NoNode) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// getData: the data (empty if the node's data is null) and stat.
    pub async fn get_data(&self, path: &str, watch: bool) -> Result<(Bytes, Stat)> {
        let (data, stat) = self.get_data_nullable(path, watch).await?;
        Ok((data.unwrap_or_default(), stat))
    }

    /// getData keeping null data apart from empty data (zkCli prints "null").
    pub async fn get_data_nullable(&self, path: &str, watch: bool) -> Result<(Option<Bytes>, Stat)> {
        validate_path(path, false)?;
        let req = Request::GetData(GetDataRequest { path: self.server_path(path), watch });
        match self.request(req, Some(path)).await? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// The ensemble configuration (`/zookeeper/config`, outside any chroot) and its stat.
    pub async fn get_config(&self, watch: bool) -> Result<(Option<Bytes>, Stat)> {
        let req = Request::GetData(GetDataRequest { path: CONFIG_NODE.to_owned(), watch });
        match self.request(req, Some(CONFIG_NODE)).await? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// setData (`version` −1 matches any version).
    pub async fn set_data(&self, path: &str, data: &[u8], version: i32) -> Result<Stat> {
        validate_path(path, false)?;
        let data = Some(Bytes::copy_from_slice(data));
        let req = Request::SetData(SetDataRequest { path: self.server_path(path), data, version });
        stat_of(self.request(req, Some(path)).await?)
    }

    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        validate_path(path, false)?;
        let req = Request::GetAcl(GetAclRequest { path: self.server_path(path) });
        match self.request(req, Some(path)).await? {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// setACL (`version` is the ACL version, −1 for any).
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: i32) -> Result<Stat> {
        validate_path(path, false)?;
        validate_acl(acl)?;
        let req = Request::SetAcl(SetAclRequest { path: self.server_path(path), acl: acl.to_vec(), version });
        stat_of(self.request(req, Some(path)).await?)
    }

    pub async fn get_children(&self, path: &str, watch: bool) -> Result<Vec<String>> {
        validate_path(path, false)?;
        let req = Request::GetChildren(GetChildrenRequest { path: self.server_path(path), watch });
        match self.request(req, Some(path)).await? {
            Response::GetChildren(r) => Ok(r.children),
            other => Err(unexpected(other)),
        }
    }

    /// getChildren2: the children and the node's stat.
    pub async fn get_children2(&self, path: &str, watch: bool) -> Result<(Vec<String>, Stat)> {
        validate_path(path, false)?;
        let req = Request::GetChildren2(GetChildren2Request { path: self.server_path(path), watch });
        match self.request(req, Some(path)).await? {
            Response::GetChildren2(r) => Ok((r.children, r.stat)),
            other => Err(unexpected(other)),
        }
    }

    /// The number of descendants of a node (not counting itself).
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        validate_path(path, false)?;
        let req = Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: self.server_path(path) });
        match self.request(req, Some(path)).await? {
            Response::GetAllChildrenNumber(r) => Ok(r.total_number),
            other => Err(unexpected(other)),
        }
    }

    /// This session's ephemeral nodes under `prefix_path` ("/" for all). Unlike Java, the prefix
    /// is put under the chroot and the chroot is removed from the answers.
    pub async fn get_ephemerals(&self, prefix_path: &str) -> Result<Vec<String>> {
        validate_path(prefix_path, false)?;
        let req = Request::GetEphemerals(GetEphemeralsRequest { prefix_path: self.server_path(prefix_path) });
        match self.request(req, None).await? {
            Response::GetEphemerals(r) => Ok(r.ephemerals.iter().map(|p| self.strip_chroot(p)).collect()),
            other => Err(unexpected(other)),
        }
    }

    /// sync: waits until the server has every write committed before it.
    pub async fn sync(&self, path: &str) -> Result<()> {
        validate_path(path, false)?;
        let req = Request::Sync(SyncRequest { path: self.server_path(path) });
        self.request(req, Some(path)).await.map(drop)
    }

    /// multi: all ops or none. The per-op results, errors included (ZooKeeper answers a failed
    /// multi with err 0 and an error result per op).
    pub async fn multi(&self, ops: &[Op]) -> Result<Vec<MultiResult>> {
        self.multi_kind(ops, false).await
    }

    /// multi, failing with `Error::MultiFailed` on the first error result, as Java's `multi`.
    pub async fn multi_checked(&self, ops: &[Op]) -> Result<Vec<MultiResult>> {
        let results = self.multi(ops).await?;
        match first_error(&results) {
            Some((index, code)) => match ErrorCode::from_code(code) {
                Some(code) => Err(Error::MultiFailed { code, index, results }),
                None => Err(Error::UnknownCode(code)),
            },
            None => Ok(results),
        }
    }

    /// multiRead: getData/getChildren ops, each answered on its own (an error for one does not
    /// fail the others).
    pub async fn multi_read(&self, ops: &[Op]) -> Result<Vec<MultiResult>> {
        self.multi_kind(ops, true).await
    }

    async fn multi_kind(&self, ops: &[Op], read: bool) -> Result<Vec<MultiResult>> {
        if ops.iter().any(|o| o.is_read() != read) {
            return Err(Error::BadArgument("Mixing read and write operations is not allowed".into()));
        }
        for o in ops {
            o.validate()?;
        }
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let subs: Vec<Request> = ops.iter().map(|o| o.to_request(self.chroot())).collect();
        let req = if read { Request::MultiRead(subs) } else { Request::Multi(subs) };
        match self.request(req, None).await? {
            Response::Multi(results) => Ok(results.into_iter().map(|r| self.strip_result(r)).collect()),
            other => Err(unexpected(other)),
        }
    }

    fn strip_result(&self, r: MultiResult) -> MultiResult {
        match r {
            MultiResult::Create(p) => MultiResult::Create(self.strip_chroot(&p)),
            MultiResult::Create2 { path, stat } => {
                MultiResult::Create2 { path: self.strip_chroot(&path), stat }
            }
            other => other,
        }
    }

    /// addWatch: a persistent (or persistent recursive) watch, kept until removed.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<()> {
        validate_path(path, false)?;
        let req = Request::AddWatch(AddWatchRequest { path: self.server_path(path), mode: mode.code() });
        self.request(req, Some(path)).await.map(drop)
    }

    /// Removes every watch of `wtype` on `path` (Java's `removeAllWatches`), delivering the
    /// `*WatchRemoved` events; with `local`, removes them even without a server.
    pub async fn remove_watches(&self, path: &str, wtype: WatcherType, local: bool) -> Result<()> {
        validate_path(path, false)?;
        let reply = self.remove_watches_cmd(path, wtype, local).await.map_err(|e| e.with_path(path))?;
        decoded(&reply, Some(path)).map(drop)
    }

    /// checkWatches: whether the server holds a watch of `wtype` on `path` (NoWatcher if not).
    pub async fn check_watches(&self, path: &str, wtype: WatcherType) -> Result<()> {
        validate_path(path, false)?;
        let req = Request::CheckWatches(CheckWatchesRequest {
            path: self.server_path(path),
            watcher_type: wtype.code(),
        });
        self.request(req, Some(path)).await.map(drop)
    }

    /// addauth: waits for the server's answer. A refused auth (AuthFailed) ends the session, as
    /// in Java; the auth is re-sent on every reconnect.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let reply = self.add_auth_cmd(scheme, auth).await?;
        decoded(&reply, None).map(drop)
    }

    /// whoAmI: the identities the server knows this session by.
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        match self.request(Request::WhoAmI, None).await? {
            Response::WhoAmI(r) => Ok(r.client_info),
            other => Err(unexpected(other)),
        }
    }
}

/// The first error result of a multi: its index and code.
pub fn first_error(results: &[MultiResult]) -> Option<(usize, i32)> {
    results.iter().enumerate().find_map(|(i, r)| match r {
        MultiResult::Error(code) if *code != 0 => Some((i, *code)),
        _ => None,
    })
}

fn decoded(reply: &RawReply, client_path: Option<&str>) -> Result<Response> {
    if reply.header.err != 0 {
        return Err(Error::from_code(reply.header.err, client_path));
    }
    Ok(reply.response()?.unwrap_or(Response::Empty))
}

fn stat_of(r: Response) -> Result<Stat> {
    match r {
        Response::Stat(s) => Ok(s),
        other => Err(unexpected(other)),
    }
}

fn unexpected(r: Response) -> Error {
    Error::Decode(rzk_proto::DecodeError::BadValue {
        what: "reply body for this request",
        value: match r {
            Response::Empty => 0,
            _ => -1,
        },
    })
}
