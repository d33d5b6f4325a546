//! Replies: a `ReplyHeader` and, when `err` is 0, the record for the request's opcode. ZooKeeper
//! omits the body of every failed request (FinalRequestProcessor leaves `rsp` null), except
//! multi, which always answers 0 with per-op results.

use bytes::{BufMut, Bytes};

use crate::codes::op;
use crate::jute::{DecodeError, Jute, Reader};
use crate::records::*;

/// The body of a successful reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Header only: delete, ping, setWatches, checkWatches, removeWatches, closeSession, auth.
    Empty,
    Create(CreateResponse),
    Create2(Create2Response),
    /// exists, setData and setACL (and check outside a multi) answer a bare stat.
    Stat(Stat),
    GetData(GetDataResponse),
    GetAcl(GetAclResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    Sync(SyncResponse),
    Multi(Vec<MultiResult>),
    /// addWatch answers an `ErrorResponse{0}` body, which clients read.
    ErrorBody(ErrorResponse),
    GetEphemerals(GetEphemeralsResponse),
    GetAllChildrenNumber(GetAllChildrenNumberResponse),
    WhoAmI(WhoAmIResponse),
    Sasl(SetSaslResponse),
}

/// One result of a multi or multiRead (`OpResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    Create(String),
    Create2 { path: String, stat: Stat },
    SetData(Stat),
    Delete,
    Check,
    GetData { data: Option<Bytes>, stat: Stat },
    GetChildren(Vec<String>),
    Error(i32),
}

impl Response {
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            Response::Empty => {}
            Response::Create(r) => r.encode(out),
            Response::Create2(r) => r.encode(out),
            Response::Stat(s) => s.encode(out),
            Response::GetData(r) => r.encode(out),
            Response::GetAcl(r) => r.encode(out),
            Response::GetChildren(r) => r.encode(out),
            Response::GetChildren2(r) => r.encode(out),
            Response::Sync(r) => r.encode(out),
            Response::Multi(results) => encode_multi_results(results, out),
            Response::ErrorBody(r) => r.encode(out),
            Response::GetEphemerals(r) => r.encode(out),
            Response::GetAllChildrenNumber(r) => r.encode(out),
            Response::WhoAmI(r) => r.encode(out),
            Response::Sasl(r) => r.encode(out),
        }
    }

    /// Decodes the body of a successful reply to a request with opcode `op` (client side).
    pub fn decode(op: i32, r: &mut Reader) -> Result<Response, DecodeError> {
        Ok(match op {
            op::CREATE => Response::Create(CreateResponse::decode(r)?),
            op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => {
                Response::Create2(Create2Response::decode(r)?)
            }
            op::EXISTS | op::SET_DATA | op::SET_ACL | op::CHECK => {
                if r.is_empty() {
                    Response::Empty
                } else {
                    Response::Stat(Stat::decode(r)?)
                }
            }
            op::GET_DATA => Response::GetData(GetDataResponse::decode(r)?),
            op::GET_ACL => Response::GetAcl(GetAclResponse::decode(r)?),
            op::GET_CHILDREN => Response::GetChildren(GetChildrenResponse::decode(r)?),
            op::GET_CHILDREN2 => Response::GetChildren2(GetChildren2Response::decode(r)?),
            op::SYNC => Response::Sync(SyncResponse::decode(r)?),
            op::MULTI | op::MULTI_READ => Response::Multi(decode_multi_results(r)?),
            op::ADD_WATCH => Response::ErrorBody(ErrorResponse::decode(r)?),
            op::GET_EPHEMERALS => Response::GetEphemerals(GetEphemeralsResponse::decode(r)?),
            op::GET_ALL_CHILDREN_NUMBER => {
                Response::GetAllChildrenNumber(GetAllChildrenNumberResponse::decode(r)?)
            }
            op::WHO_AM_I => Response::WhoAmI(WhoAmIResponse::decode(r)?),
            op::SASL => Response::Sasl(SetSaslResponse::decode(r)?),
            op::RECONFIG => Response::GetData(GetDataResponse::decode(r)?),
            _ => Response::Empty,
        })
    }
}

impl MultiResult {
    fn op_type(&self) -> i32 {
        match self {
            MultiResult::Create(_) => op::CREATE,
            MultiResult::Create2 { .. } => op::CREATE2,
            MultiResult::SetData(_) => op::SET_DATA,
            MultiResult::Delete => op::DELETE,
            MultiResult::Check => op::CHECK,
            MultiResult::GetData { .. } => op::GET_DATA,
            MultiResult::GetChildren(_) => op::GET_CHILDREN,
            MultiResult::Error(_) => op::ERROR,
        }
    }
}

/// `MultiResponse.serialize`: a header per result (err 0, or the error code for an error
/// result), the result's record, and a closing `{-1, true, -1}` header.
fn encode_multi_results(results: &[MultiResult], out: &mut impl BufMut) {
    for res in results {
        let err = if let MultiResult::Error(e) = res { *e } else { 0 };
        MultiHeader { op_type: res.op_type(), done: false, err }.encode(out);
        match res {
            MultiResult::Create(path) => CreateResponse { path: path.clone() }.encode(out),
            MultiResult::Create2 { path, stat } => {
                path.encode(out);
                stat.encode(out);
            }
            MultiResult::SetData(stat) => stat.encode(out),
            MultiResult::Delete | MultiResult::Check => {}
            MultiResult::GetData { data, stat } => {
                data.encode(out);
                stat.encode(out);
            }
            MultiResult::GetChildren(children) => children.encode(out),
            MultiResult::Error(e) => ErrorResponse { err: *e }.encode(out),
        }
    }
    MultiHeader { op_type: -1, done: true, err: -1 }.encode(out);
}

fn decode_multi_results(r: &mut Reader) -> Result<Vec<MultiResult>, DecodeError> {
    let mut results = Vec::new();
    loop {
        let h = MultiHeader::decode(r)?;
        if h.done {
            return Ok(results);
        }
        let res = match h.op_type {
            op::CREATE => MultiResult::Create(String::decode(r)?),
            op::CREATE2 => MultiResult::Create2 { path: String::decode(r)?, stat: Stat::decode(r)? },
            op::SET_DATA => MultiResult::SetData(Stat::decode(r)?),
            op::DELETE => MultiResult::Delete,
            op::CHECK => MultiResult::Check,
            op::GET_DATA => {
                MultiResult::GetData { data: Option::<Bytes>::decode(r)?, stat: Stat::decode(r)? }
            }
            op::GET_CHILDREN => MultiResult::GetChildren(Vec::<String>::decode(r)?),
            op::ERROR => MultiResult::Error(ErrorResponse::decode(r)?.err),
            other => return Err(DecodeError::BadValue { what: "multi result type", value: other as i64 }),
        };
        results.push(res);
    }
}

/// Encodes a whole reply payload (no length prefix): header, and the body when `err` is 0. A
/// SASL reply keeps its body after an error: `ZooKeeperServer.processSasl` sends a null
/// `SetSASLResponse` with AuthFailed, and the Java client, while its SASL exchange is in
/// progress, reads that token whatever the error code (`ClientCnxn.readResponse`).
pub fn encode_reply(header: &ReplyHeader, body: &Response, out: &mut impl BufMut) {
    header.encode(out);
    if header.err == 0 || matches!(body, Response::Sasl(_)) {
        body.encode(out);
    }
}
