//! `rzk txnlog dump --json`: one JSON object per txn, one per line (JSON Lines). Fields:
//!
//! | field | meaning |
//! |---|---|
//! | `offset` | byte offset of the entry in the file |
//! | `crc_ok` | whether the stored Adler-32 matches the txn bytes |
//! | `session`, `zxid` | `"0x…"` hex strings, as ZooKeeper prints them |
//! | `cxid`, `time` | numbers (`time` in ms since the epoch) |
//! | `type`, `type_code` | the op name (`Request.op2String`) and number |
//! | `path`, `version`, `ephemeral`, `parent_cversion`, `ttl`, `timeout`, `err` | the record's fields, where it has them |
//! | `data` | base64 of the data (`null` when the client sent null) |
//! | `data_text` | the data as text, present only when it is valid UTF-8 |
//! | `acl` | `[{"perms": 31, "scheme": "world", "id": "anyone"}]` |
//! | `paths_to_delete` | a closeSession's ephemerals |
//! | `ops` | a multi's sub-txns, each an object with `type`, `type_code` and its fields (or `error`) |
//! | `digest` | `{"version": 2, "tree_digest": n}` when the txn carries one |

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use rzk_proto::Acl;
use rzk_proto::txn::TxnBody;
use serde_json::{Map, Value, json};

use super::decode::{Body, DecodedTxn};
use super::text::op_name;
use crate::javafmt::hex;

fn data(m: &mut Map<String, Value>, data: Option<&Bytes>) {
    match data {
        None => {
            m.insert("data".into(), Value::Null);
        }
        Some(d) => {
            m.insert("data".into(), Value::String(STANDARD.encode(d)));
            if let Ok(s) = std::str::from_utf8(d) {
                m.insert("data_text".into(), Value::String(s.to_owned()));
            }
        }
    }
}

fn acl(m: &mut Map<String, Value>, acl: &[Acl]) {
    let list = acl.iter().map(|a| json!({"perms": a.perms, "scheme": a.id.scheme, "id": a.id.id})).collect();
    m.insert("acl".into(), Value::Array(list));
}

fn put(m: &mut Map<String, Value>, key: &str, v: impl Into<Value>) {
    m.insert(key.into(), v.into());
}

/// The fields of one record.
fn record_fields(m: &mut Map<String, Value>, body: &TxnBody) {
    match body {
        TxnBody::CreateSession(t) => put(m, "timeout", t.time_out),
        TxnBody::CloseSession(Some(t)) => put(m, "paths_to_delete", t.paths2_delete.clone()),
        TxnBody::CloseSession(None) => {}
        TxnBody::Create(t) => {
            put(m, "path", t.path.clone());
            data(m, t.data.as_ref());
            acl(m, &t.acl);
            put(m, "ephemeral", t.ephemeral);
            put(m, "parent_cversion", t.parent_cversion);
        }
        TxnBody::CreateV0(t) => {
            put(m, "path", t.path.clone());
            data(m, t.data.as_ref());
            acl(m, &t.acl);
            put(m, "ephemeral", t.ephemeral);
        }
        TxnBody::CreateTtl(t) => {
            put(m, "path", t.path.clone());
            data(m, t.data.as_ref());
            acl(m, &t.acl);
            put(m, "parent_cversion", t.parent_cversion);
            put(m, "ttl", t.ttl);
        }
        TxnBody::CreateContainer(t) => {
            put(m, "path", t.path.clone());
            data(m, t.data.as_ref());
            acl(m, &t.acl);
            put(m, "parent_cversion", t.parent_cversion);
        }
        TxnBody::Delete(t) => put(m, "path", t.path.clone()),
        TxnBody::SetData(t) => {
            put(m, "path", t.path.clone());
            data(m, t.data.as_ref());
            put(m, "version", t.version);
        }
        TxnBody::SetAcl(t) => {
            put(m, "path", t.path.clone());
            acl(m, &t.acl);
            put(m, "version", t.version);
        }
        TxnBody::Check(t) => {
            put(m, "path", t.path.clone());
            put(m, "version", t.version);
        }
        TxnBody::Error(t) => put(m, "err", t.err),
        TxnBody::SetMaxChildren(t) => {
            put(m, "path", t.path.clone());
            put(m, "max", t.max);
        }
        TxnBody::Multi(subs) => {
            let ops = subs.iter().map(|(ty, b)| sub_op(*ty, Ok(b))).collect::<Vec<_>>();
            put(m, "ops", ops);
        }
    }
}

fn sub_op(ty: i32, body: Result<&TxnBody, String>) -> Value {
    let mut m = Map::new();
    put(&mut m, "type", op_name(ty));
    put(&mut m, "type_code", ty);
    match body {
        Ok(b) => record_fields(&mut m, b),
        Err(e) => put(&mut m, "error", e),
    }
    Value::Object(m)
}

/// The JSON object of one entry.
pub fn txn_json(t: &DecodedTxn, offset: u64, crc_ok: bool) -> Value {
    let h = &t.header;
    let mut m = Map::new();
    put(&mut m, "offset", offset);
    put(&mut m, "crc_ok", crc_ok);
    put(&mut m, "time", h.time);
    put(&mut m, "session", format!("0x{}", hex(h.client_id)));
    put(&mut m, "cxid", h.cxid);
    put(&mut m, "zxid", format!("0x{}", hex(h.zxid)));
    put(&mut m, "type", op_name(h.txn_type));
    put(&mut m, "type_code", h.txn_type);
    match &t.body {
        Body::Record(r) => record_fields(&mut m, r),
        Body::Multi(subs) => {
            let ops = subs
                .iter()
                .map(|(raw, body)| sub_op(raw.txn_type, body.as_ref().map_err(|e| e.to_string())))
                .collect::<Vec<_>>();
            put(&mut m, "ops", ops);
        }
    }
    if let Some(d) = &t.digest {
        put(&mut m, "digest", json!({"version": d.version, "tree_digest": d.tree_digest}));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::{CreateTxn, TxnDigest, TxnHeader};

    #[test]
    fn create_as_json() {
        let t = DecodedTxn {
            header: TxnHeader { client_id: 0x100, cxid: 1, zxid: 0x2, time: 5, txn_type: 1 },
            body: Body::Record(TxnBody::Create(CreateTxn {
                path: "/a".into(),
                data: Some(Bytes::from_static(b"hi")),
                acl: vec![Acl::new(31, "world", "anyone")],
                ephemeral: true,
                parent_cversion: 3,
            })),
            digest: Some(TxnDigest { version: 2, tree_digest: -5 }),
        };
        let v = txn_json(&t, 16, true);
        assert_eq!(
            v,
            json!({
                "offset": 16, "crc_ok": true, "time": 5, "session": "0x100", "cxid": 1, "zxid": "0x2",
                "type": "create", "type_code": 1, "path": "/a", "data": "aGk=", "data_text": "hi",
                "acl": [{"perms": 31, "scheme": "world", "id": "anyone"}], "ephemeral": true,
                "parent_cversion": 3, "digest": {"version": 2, "tree_digest": -5}
            })
        );
    }
}
