//! Transactions: what a write becomes after PrepRequestProcessor. A txn is a `TxnHeader`, the
//! record for its type, and (since 3.6, with digests enabled) a `TxnDigest`: exactly the bytes
//! ZooKeeper logs, proposes and replicates. Failed writes are txns too (`ErrorTxn`, type −1).

use bytes::{BufMut, Bytes};

use crate::codes::op;
use crate::jute::{DecodeError, Jute, Reader};
use crate::records::*;

/// The record after a `TxnHeader`, chosen by the header's type (`SerializeUtils.deserializeTxn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxnBody {
    CreateSession(CreateSessionTxn),
    /// With `closeSessionTxn.enabled` (the default) the paths of the session's ephemerals;
    /// `None` for logs written without them.
    CloseSession(Option<CloseSessionTxn>),
    /// create (1) and create2 (15).
    Create(CreateTxn),
    /// A create from a pre-3.3 log, without parentCVersion.
    CreateV0(CreateTxnV0),
    CreateTtl(CreateTtlTxn),
    CreateContainer(CreateContainerTxn),
    /// delete (2) and deleteContainer (20).
    Delete(DeleteTxn),
    /// setData (5), and reconfig (16), which stores the new config in /zookeeper/config.
    SetData(SetDataTxn),
    SetAcl(SetAclTxn),
    Check(CheckVersionTxn),
    Error(ErrorTxn),
    Multi(Vec<(i32, TxnBody)>),
    SetMaxChildren(SetMaxChildrenTxn),
}

impl TxnBody {
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            TxnBody::CreateSession(t) => t.encode(out),
            TxnBody::CloseSession(Some(t)) => t.encode(out),
            TxnBody::CloseSession(None) => {}
            TxnBody::Create(t) => t.encode(out),
            TxnBody::CreateV0(t) => t.encode(out),
            TxnBody::CreateTtl(t) => t.encode(out),
            TxnBody::CreateContainer(t) => t.encode(out),
            TxnBody::Delete(t) => t.encode(out),
            TxnBody::SetData(t) => t.encode(out),
            TxnBody::SetAcl(t) => t.encode(out),
            TxnBody::Check(t) => t.encode(out),
            TxnBody::Error(t) => t.encode(out),
            TxnBody::SetMaxChildren(t) => t.encode(out),
            TxnBody::Multi(subs) => {
                let txns: Vec<Txn> = subs
                    .iter()
                    .map(|(ty, body)| {
                        let mut data = Vec::new();
                        body.encode(&mut data);
                        Txn { txn_type: *ty, data: Bytes::from(data) }
                    })
                    .collect();
                MultiTxn { txns }.encode(out)
            }
        }
    }

    /// Decodes the record for txn type `ty`. A create that ends early is retried as the
    /// pre-3.3 `CreateTxnV0`, as ZooKeeper does.
    pub fn decode(ty: i32, r: &mut Reader) -> Result<TxnBody, DecodeError> {
        Ok(match ty {
            op::CREATE_SESSION => TxnBody::CreateSession(CreateSessionTxn::decode(r)?),
            op::CLOSE_SESSION => {
                if r.is_empty() {
                    TxnBody::CloseSession(None)
                } else {
                    TxnBody::CloseSession(Some(CloseSessionTxn::decode(r)?))
                }
            }
            op::CREATE | op::CREATE2 => {
                let saved = r.clone();
                match CreateTxn::decode(r) {
                    Ok(t) => TxnBody::Create(t),
                    Err(DecodeError::Truncated { .. }) if ty == op::CREATE => {
                        *r = saved;
                        TxnBody::CreateV0(CreateTxnV0::decode(r)?)
                    }
                    Err(e) => return Err(e),
                }
            }
            op::CREATE_TTL => TxnBody::CreateTtl(CreateTtlTxn::decode(r)?),
            op::CREATE_CONTAINER => TxnBody::CreateContainer(CreateContainerTxn::decode(r)?),
            op::DELETE | op::DELETE_CONTAINER => TxnBody::Delete(DeleteTxn::decode(r)?),
            op::SET_DATA | op::RECONFIG => TxnBody::SetData(SetDataTxn::decode(r)?),
            op::SET_ACL => TxnBody::SetAcl(SetAclTxn::decode(r)?),
            op::CHECK => TxnBody::Check(CheckVersionTxn::decode(r)?),
            op::ERROR => TxnBody::Error(ErrorTxn::decode(r)?),
            op::MULTI => {
                let multi = MultiTxn::decode(r)?;
                let mut subs = Vec::with_capacity(multi.txns.len());
                for t in multi.txns {
                    let mut sub = Reader::new(t.data, usize::MAX);
                    subs.push((t.txn_type, TxnBody::decode(t.txn_type, &mut sub)?));
                }
                TxnBody::Multi(subs)
            }
            // SetMaxChildren (legacy, never produced since 3.x) has no opcode constant left.
            other => return Err(DecodeError::BadValue { what: "txn type", value: other as i64 }),
        })
    }
}

/// A whole txn as it is logged and proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub body: TxnBody,
    pub digest: Option<TxnDigest>,
}

impl TxnEntry {
    /// `Util.marshallTxnEntry`: header, body, then the digest if there is one.
    pub fn encode(&self, out: &mut impl BufMut) {
        self.header.encode(out);
        self.body.encode(out);
        if let Some(d) = &self.digest {
            d.encode(out);
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }

    /// Decodes a logged txn; a missing digest is allowed (logs of older servers).
    pub fn decode(buf: Bytes) -> Result<TxnEntry, DecodeError> {
        let mut r = Reader::new(buf, usize::MAX);
        let header = TxnHeader::decode(&mut r)?;
        let body = TxnBody::decode(header.txn_type, &mut r)?;
        let digest = if r.remaining() >= 12 { Some(TxnDigest::decode(&mut r)?) } else { None };
        Ok(TxnEntry { header, body, digest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_txn_round_trips() {
        let entry = TxnEntry {
            header: TxnHeader { client_id: 7, cxid: 3, zxid: 0x100000001, time: 1234, txn_type: op::MULTI },
            body: TxnBody::Multi(vec![
                (
                    op::CREATE,
                    TxnBody::Create(CreateTxn {
                        path: "/a".into(),
                        data: Some(Bytes::from_static(b"x")),
                        acl: vec![Acl::new(31, "world", "anyone")],
                        ephemeral: false,
                        parent_cversion: 1,
                    }),
                ),
                (op::ERROR, TxnBody::Error(ErrorTxn { err: -2 })),
            ]),
            digest: Some(TxnDigest { version: 2, tree_digest: 99 }),
        };
        let bytes = Bytes::from(entry.to_bytes());
        assert_eq!(TxnEntry::decode(bytes).unwrap(), entry);
    }

    #[test]
    fn v0_create_is_read_from_old_logs() {
        let v0 = CreateTxnV0 { path: "/old".into(), data: None, acl: vec![], ephemeral: true };
        let mut buf = Vec::new();
        TxnHeader { client_id: 1, cxid: 1, zxid: 1, time: 1, txn_type: op::CREATE }.encode(&mut buf);
        v0.encode(&mut buf);
        let e = TxnEntry::decode(Bytes::from(buf)).unwrap();
        assert_eq!(e.body, TxnBody::CreateV0(v0));
    }
}
