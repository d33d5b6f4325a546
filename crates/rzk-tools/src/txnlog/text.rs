//! TxnLogToolkit's line for a txn (`printTxn`):
//! `<date> session 0x<id> cxid 0x<cxid> zxid 0x<zxid> <op> <txn>`, where `<txn>` is a hand-made
//! CSV for creates, setData and multi, and `Record.toString()` for the rest (which ends with a
//! newline, so the line gets no second one). Creates print `List<ACL>.toString()`, whose ACLs
//! each end with a newline too: a create spans two lines, exactly as in the Java tool.

use bytes::Bytes;
use rzk_proto::txn::TxnBody;

use super::decode::{Body, DecodedTxn};
use crate::javafmt::{hex, java_utf8_lossy, short_long};
use crate::tostring::{acl_list, record};

/// `Request.op2String` of ZooKeeper 3.8.
pub fn op_name(op: i32) -> String {
    let name = match op {
        0 => "notification",
        1 => "create",
        2 => "delete",
        3 => "exists",
        4 => "getData",
        5 => "setData",
        6 => "getACL",
        7 => "setACL",
        8 => "getChildren",
        9 => "sync",
        11 => "ping",
        12 => "getChildren2",
        13 => "check",
        14 => "multi",
        15 => "create2",
        16 => "reconfig",
        17 => "checkWatches",
        18 => "removeWatches",
        19 => "createContainer",
        20 => "deleteContainer",
        21 => "createTtl",
        22 => "multiRead",
        100 => "auth",
        101 => "setWatches",
        105 => "setWatches2",
        102 => "sasl",
        103 => "getEphemerals",
        104 => "getAllChildrenNumber",
        -10 => "createSession",
        -11 => "closeSession",
        -1 => "error",
        107 => "whoAmI",
        other => return format!("unknown {other}"),
    };
    name.to_owned()
}

/// `checkNullToEmpty`: data as UTF-8 text, null and empty both "".
fn text(data: Option<&Bytes>) -> String {
    data.map(|d| java_utf8_lossy(d)).unwrap_or_default()
}

/// `getFormattedTxnStr`.
pub fn txn_str(body: &Body) -> String {
    match body {
        Body::Multi(subs) => {
            let parts: Vec<String> = subs
                .iter()
                .map(|(t, _)| format!("{}:{}", op_name(t.txn_type), java_utf8_lossy(&t.data)))
                .collect();
            parts.join(";")
        }
        Body::Record(r) => record_str(r),
    }
}

fn record_str(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(c) => format!(
            "{},{},{},{},{}",
            c.path,
            text(c.data.as_ref()),
            acl_list(&c.acl),
            c.ephemeral,
            c.parent_cversion
        ),
        // SerializeUtils turns a pre-3.3 create into a CreateTxn with parentCVersion -1.
        TxnBody::CreateV0(c) => {
            format!("{},{},{},{},-1", c.path, text(c.data.as_ref()), acl_list(&c.acl), c.ephemeral)
        }
        TxnBody::SetData(s) => format!("{},{},{}", s.path, text(s.data.as_ref()), s.version),
        TxnBody::CreateContainer(c) => {
            format!("{},{},{},{}", c.path, text(c.data.as_ref()), acl_list(&c.acl), c.parent_cversion)
        }
        TxnBody::CreateTtl(c) => format!(
            "{},{},{},{},{}",
            c.path,
            text(c.data.as_ref()),
            acl_list(&c.acl),
            c.parent_cversion,
            c.ttl
        ),
        TxnBody::CloseSession(None) => String::new(),
        other => to_string(other),
    }
}

/// `Record.toString()` of the records the toolkit prints that way.
fn to_string(body: &TxnBody) -> String {
    match body {
        TxnBody::CreateSession(t) => record(|r| r.int(t.time_out)),
        TxnBody::CloseSession(Some(t)) => record(|r| r.string_vector(&t.paths2_delete)),
        TxnBody::CloseSession(None) => String::new(),
        TxnBody::Delete(t) => record(|r| r.string(Some(&t.path))),
        TxnBody::SetAcl(t) => record(|r| {
            r.string(Some(&t.path));
            r.acl_vector(&t.acl);
            r.int(t.version);
        }),
        TxnBody::Error(t) => record(|r| r.int(t.err)),
        TxnBody::Check(t) => record(|r| {
            r.string(Some(&t.path));
            r.int(t.version);
        }),
        TxnBody::SetMaxChildren(t) => record(|r| {
            r.string(Some(&t.path));
            r.int(t.max);
        }),
        TxnBody::Create(t) => record(|r| {
            r.string(Some(&t.path));
            r.buffer(t.data.as_deref());
            r.acl_vector(&t.acl);
            r.bool(t.ephemeral);
            r.int(t.parent_cversion);
        }),
        TxnBody::CreateV0(t) => record(|r| {
            r.string(Some(&t.path));
            r.buffer(t.data.as_deref());
            r.acl_vector(&t.acl);
            r.bool(t.ephemeral);
        }),
        TxnBody::CreateTtl(t) => record(|r| {
            r.string(Some(&t.path));
            r.buffer(t.data.as_deref());
            r.acl_vector(&t.acl);
            r.int(t.parent_cversion);
            r.long(t.ttl);
        }),
        TxnBody::CreateContainer(t) => record(|r| {
            r.string(Some(&t.path));
            r.buffer(t.data.as_deref());
            r.acl_vector(&t.acl);
            r.int(t.parent_cversion);
        }),
        TxnBody::SetData(t) => record(|r| {
            r.string(Some(&t.path));
            r.buffer(t.data.as_deref());
            r.int(t.version);
        }),
        TxnBody::Multi(_) => String::new(),
    }
}

/// The whole printed text for a txn, newline included; `prefix` is "CRC ERROR" or "CRC FIXED".
pub fn txn_text(t: &DecodedTxn, prefix: &str) -> String {
    let h = &t.header;
    let mut s = String::new();
    if !prefix.trim().is_empty() {
        s.push_str(prefix);
        s.push_str(" - ");
    }
    s.push_str(&format!(
        "{} session 0x{} cxid 0x{} zxid 0x{} {} {}",
        short_long(h.time),
        hex(h.client_id),
        hex(i64::from(h.cxid)),
        hex(h.zxid),
        op_name(h.txn_type),
        txn_str(&t.body)
    ));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rzk_proto::{Acl, CloseSessionTxn, CreateTxn, ErrorTxn, SetAclTxn, Txn};

    #[test]
    fn records_print_as_the_toolkit_does() {
        let create = TxnBody::Create(CreateTxn {
            path: "/a/b".into(),
            data: Some(Bytes::from_static(b"with,comma}and%pct")),
            acl: vec![Acl::new(31, "world", "anyone")],
            ephemeral: false,
            parent_cversion: 1,
        });
        assert_eq!(record_str(&create), "/a/b,with,comma}and%pct,[31,s{'world,'anyone}\n],false,1");
        let acl = TxnBody::SetAcl(SetAclTxn {
            path: "/a/b".into(),
            acl: vec![Acl::new(1, "world", "anyone")],
            version: 1,
        });
        assert_eq!(record_str(&acl), "'/a/b,v{s{1,s{'world,'anyone}}},1\n");
        let close = TxnBody::CloseSession(Some(CloseSessionTxn { paths2_delete: vec!["/eph".into()] }));
        assert_eq!(record_str(&close), "v{'/eph}\n");
        assert_eq!(record_str(&TxnBody::Error(ErrorTxn { err: -101 })), "-101\n");
    }

    #[test]
    fn multi_prints_raw_sub_records() {
        let subs = vec![
            (
                Txn { txn_type: 2, data: Bytes::from_static(&[0, 0, 0, 2, b'/', b'x']) },
                Ok(TxnBody::Check(Default::default())),
            ),
            (
                Txn { txn_type: -1, data: Bytes::from_static(&[0xff, 0xff, 0xff, 0x9b]) },
                Ok(TxnBody::Check(Default::default())),
            ),
        ];
        assert_eq!(
            txn_str(&Body::Multi(subs)),
            "delete:\0\0\0\u{2}/x;error:\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(op_name(106), "unknown 106");
    }
}
