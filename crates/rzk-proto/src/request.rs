//! Client requests: a `RequestHeader` (xid, opcode) and the record the opcode names, decoded into
//! one enum. `multi` and `multiRead` carry their sub-requests in the same enum, framed by
//! `MultiHeader`s (ZooKeeper's `MultiOperationRecord`).

use bytes::{BufMut, Bytes};

use crate::codes::op;
use crate::jute::{DecodeError, Jute, Reader};
use crate::records::*;

/// One decoded client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create (1), create2 (15) and createContainer (19) share `CreateRequest`.
    Create {
        op: i32,
        req: CreateRequest,
    },
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    /// Only produced inside the server (ContainerManager); a client sending it gets an error.
    DeleteContainer(DeleteRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetAclRequest),
    SetAcl(SetAclRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    Sync(SyncRequest),
    Ping,
    Check(CheckVersionRequest),
    Multi(Vec<Request>),
    MultiRead(Vec<Request>),
    Reconfig(ReconfigRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Sasl(GetSaslRequest),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    WhoAmI,
    CloseSession,
}

/// Why a request could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("malformed request: {0}")]
    Malformed(#[from] DecodeError),
    #[error("unknown opcode {0}")]
    UnknownOp(i32),
    #[error("invalid type of op {0} in a multi")]
    BadMultiOp(i32),
}

impl Request {
    /// The opcode this request is sent with.
    pub fn op(&self) -> i32 {
        match self {
            Request::Create { op, .. } => *op,
            Request::CreateTtl(_) => op::CREATE_TTL,
            Request::Delete(_) => op::DELETE,
            Request::DeleteContainer(_) => op::DELETE_CONTAINER,
            Request::Exists(_) => op::EXISTS,
            Request::GetData(_) => op::GET_DATA,
            Request::SetData(_) => op::SET_DATA,
            Request::GetAcl(_) => op::GET_ACL,
            Request::SetAcl(_) => op::SET_ACL,
            Request::GetChildren(_) => op::GET_CHILDREN,
            Request::GetChildren2(_) => op::GET_CHILDREN2,
            Request::Sync(_) => op::SYNC,
            Request::Ping => op::PING,
            Request::Check(_) => op::CHECK,
            Request::Multi(_) => op::MULTI,
            Request::MultiRead(_) => op::MULTI_READ,
            Request::Reconfig(_) => op::RECONFIG,
            Request::CheckWatches(_) => op::CHECK_WATCHES,
            Request::RemoveWatches(_) => op::REMOVE_WATCHES,
            Request::Auth(_) => op::AUTH,
            Request::SetWatches(_) => op::SET_WATCHES,
            Request::SetWatches2(_) => op::SET_WATCHES2,
            Request::Sasl(_) => op::SASL,
            Request::GetEphemerals(_) => op::GET_EPHEMERALS,
            Request::GetAllChildrenNumber(_) => op::GET_ALL_CHILDREN_NUMBER,
            Request::AddWatch(_) => op::ADD_WATCH,
            Request::WhoAmI => op::WHO_AM_I,
            Request::CloseSession => op::CLOSE_SESSION,
        }
    }

    /// The path the request is about, if it has one.
    pub fn path(&self) -> Option<&str> {
        Some(match self {
            Request::Create { req, .. } => &req.path,
            Request::CreateTtl(r) => &r.path,
            Request::Delete(r) | Request::DeleteContainer(r) => &r.path,
            Request::Exists(r) => &r.path,
            Request::GetData(r) => &r.path,
            Request::SetData(r) => &r.path,
            Request::GetAcl(r) => &r.path,
            Request::SetAcl(r) => &r.path,
            Request::GetChildren(r) => &r.path,
            Request::GetChildren2(r) => &r.path,
            Request::Sync(r) => &r.path,
            Request::Check(r) => &r.path,
            Request::CheckWatches(r) => &r.path,
            Request::RemoveWatches(r) => &r.path,
            Request::GetEphemerals(r) => &r.prefix_path,
            Request::GetAllChildrenNumber(r) => &r.path,
            Request::AddWatch(r) => &r.path,
            _ => return None,
        })
    }

    /// Whether the request changes the tree (and so becomes a txn).
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::Create { .. }
                | Request::CreateTtl(_)
                | Request::Delete(_)
                | Request::DeleteContainer(_)
                | Request::SetData(_)
                | Request::SetAcl(_)
                | Request::Check(_)
                | Request::Multi(_)
                | Request::Reconfig(_)
                | Request::CloseSession
        )
    }

    /// Decodes the body of a request with opcode `op`.
    pub fn decode(op: i32, r: &mut Reader) -> Result<Request, RequestError> {
        let req = match op {
            op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                Request::Create { op, req: CreateRequest::decode(r)? }
            }
            op::CREATE_TTL => Request::CreateTtl(CreateTtlRequest::decode(r)?),
            op::DELETE => Request::Delete(DeleteRequest::decode(r)?),
            op::DELETE_CONTAINER => Request::DeleteContainer(DeleteRequest::decode(r)?),
            op::EXISTS => Request::Exists(ExistsRequest::decode(r)?),
            op::GET_DATA => Request::GetData(GetDataRequest::decode(r)?),
            op::SET_DATA => Request::SetData(SetDataRequest::decode(r)?),
            op::GET_ACL => Request::GetAcl(GetAclRequest::decode(r)?),
            op::SET_ACL => Request::SetAcl(SetAclRequest::decode(r)?),
            op::GET_CHILDREN => Request::GetChildren(GetChildrenRequest::decode(r)?),
            op::GET_CHILDREN2 => Request::GetChildren2(GetChildren2Request::decode(r)?),
            op::SYNC => Request::Sync(SyncRequest::decode(r)?),
            op::PING => Request::Ping,
            op::CHECK => Request::Check(CheckVersionRequest::decode(r)?),
            op::MULTI => Request::Multi(decode_multi(r)?),
            op::MULTI_READ => Request::MultiRead(decode_multi(r)?),
            op::RECONFIG => Request::Reconfig(ReconfigRequest::decode(r)?),
            op::CHECK_WATCHES => Request::CheckWatches(CheckWatchesRequest::decode(r)?),
            op::REMOVE_WATCHES => Request::RemoveWatches(RemoveWatchesRequest::decode(r)?),
            op::AUTH => Request::Auth(AuthPacket::decode(r)?),
            op::SET_WATCHES => Request::SetWatches(SetWatches::decode(r)?),
            op::SET_WATCHES2 => Request::SetWatches2(SetWatches2::decode(r)?),
            op::SASL => Request::Sasl(GetSaslRequest::decode(r)?),
            op::GET_EPHEMERALS => Request::GetEphemerals(GetEphemeralsRequest::decode(r)?),
            op::GET_ALL_CHILDREN_NUMBER => {
                Request::GetAllChildrenNumber(GetAllChildrenNumberRequest::decode(r)?)
            }
            op::ADD_WATCH => Request::AddWatch(AddWatchRequest::decode(r)?),
            op::WHO_AM_I => Request::WhoAmI,
            op::CLOSE_SESSION => Request::CloseSession,
            other => return Err(RequestError::UnknownOp(other)),
        };
        Ok(req)
    }

    /// Encodes the body (without the request header).
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            Request::Create { req, .. } => req.encode(out),
            Request::CreateTtl(r) => r.encode(out),
            Request::Delete(r) | Request::DeleteContainer(r) => r.encode(out),
            Request::Exists(r) => r.encode(out),
            Request::GetData(r) => r.encode(out),
            Request::SetData(r) => r.encode(out),
            Request::GetAcl(r) => r.encode(out),
            Request::SetAcl(r) => r.encode(out),
            Request::GetChildren(r) => r.encode(out),
            Request::GetChildren2(r) => r.encode(out),
            Request::Sync(r) => r.encode(out),
            Request::Check(r) => r.encode(out),
            Request::Multi(ops) | Request::MultiRead(ops) => encode_multi(ops, out),
            Request::Reconfig(r) => r.encode(out),
            Request::CheckWatches(r) => r.encode(out),
            Request::RemoveWatches(r) => r.encode(out),
            Request::Auth(r) => r.encode(out),
            Request::SetWatches(r) => r.encode(out),
            Request::SetWatches2(r) => r.encode(out),
            Request::Sasl(r) => r.encode(out),
            Request::GetEphemerals(r) => r.encode(out),
            Request::GetAllChildrenNumber(r) => r.encode(out),
            Request::AddWatch(r) => r.encode(out),
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
        }
    }

    /// A whole request frame payload: header then body.
    pub fn encode_with_header(&self, xid: i32, out: &mut impl BufMut) {
        RequestHeader { xid, op_type: self.op() }.encode(out);
        self.encode(out);
    }
}

/// `MultiOperationRecord.deserialize`: headers and ops until a header with `done` set.
fn decode_multi(r: &mut Reader) -> Result<Vec<Request>, RequestError> {
    let mut ops = Vec::new();
    loop {
        let h = MultiHeader::decode(r)?;
        if h.done {
            return Ok(ops);
        }
        let sub = match h.op_type {
            op::CREATE | op::CREATE2 | op::CREATE_CONTAINER => {
                Request::Create { op: h.op_type, req: CreateRequest::decode(r)? }
            }
            op::CREATE_TTL => Request::CreateTtl(CreateTtlRequest::decode(r)?),
            op::DELETE => Request::Delete(DeleteRequest::decode(r)?),
            op::DELETE_CONTAINER => Request::DeleteContainer(DeleteRequest::decode(r)?),
            op::SET_DATA => Request::SetData(SetDataRequest::decode(r)?),
            op::CHECK => Request::Check(CheckVersionRequest::decode(r)?),
            op::GET_CHILDREN => Request::GetChildren(GetChildrenRequest::decode(r)?),
            op::GET_DATA => Request::GetData(GetDataRequest::decode(r)?),
            other => return Err(RequestError::BadMultiOp(other)),
        };
        ops.push(sub);
    }
}

fn encode_multi(ops: &[Request], out: &mut impl BufMut) {
    for sub in ops {
        MultiHeader { op_type: sub.op(), done: false, err: -1 }.encode(out);
        sub.encode(out);
    }
    MultiHeader { op_type: -1, done: true, err: -1 }.encode(out);
}

/// Decodes a request frame payload (after the length): header, then body.
pub fn decode_request_frame(
    payload: Bytes,
    len_max: usize,
) -> Result<(RequestHeader, Request), RequestError> {
    let mut r = Reader::new(payload, len_max);
    let header = RequestHeader::decode(&mut r)?;
    let req = Request::decode(header.op_type, &mut r)?;
    Ok((header, req))
}
