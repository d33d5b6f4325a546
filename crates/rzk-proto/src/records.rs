//! Every record of Apache ZooKeeper's `zookeeper.jute` (modules data, proto, quorum,
//! persistence and txn), declared once. Field order is the wire order. The two records with an
//! optional trailing field (ConnectRequest/ConnectResponse and their `readOnly` byte) are in
//! `connect.rs`; multi framing is in `multi.rs`.
//!
//! Field types: `String` is a ustring, `Bytes` a buffer, `Vec<T>` a vector; `Option<_>` where
//! ZooKeeper distinguishes null from empty (znode data, which a client may send as null and gets
//! back as null; reconfig's absent member lists).

use bytes::Bytes;

use crate::jute_record;

jute_record! {
    // ---- module org.apache.zookeeper.data ----

    /// An identity: `scheme:id` (world:anyone, digest:user:hash, ip:10.0.0.0/8, ...).
    pub struct Id { pub scheme: String, pub id: String }

    /// One ACL entry: permission bits for an identity.
    pub struct Acl { pub perms: i32, pub id: Id }

    /// The stat a client sees.
    pub struct Stat {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub data_length: i32,
        pub num_children: i32,
        pub pzxid: i64,
    }

    /// The stat as the server stores it (snapshots): no dataLength or numChildren.
    pub struct StatPersisted {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub pzxid: i64,
    }

    /// whoAmI's answer: one entry per authenticated identity.
    pub struct ClientInfo { pub auth_scheme: String, pub user: String }

    // ---- module org.apache.zookeeper.proto ----

    pub struct SetWatches {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
    pub struct SetWatches2 {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>,
        pub persistent_recursive_watches: Vec<String>,
    }
    pub struct RequestHeader { pub xid: i32, pub op_type: i32 }
    pub struct MultiHeader { pub op_type: i32, pub done: bool, pub err: i32 }
    pub struct AuthPacket { pub auth_type: i32, pub scheme: String, pub auth: Bytes }
    pub struct ReplyHeader { pub xid: i32, pub zxid: i64, pub err: i32 }
    pub struct GetDataRequest { pub path: String, pub watch: bool }
    pub struct SetDataRequest { pub path: String, pub data: Option<Bytes>, pub version: i32 }
    pub struct ReconfigRequest {
        pub joining_servers: Option<String>,
        pub leaving_servers: Option<String>,
        pub new_members: Option<String>,
        pub cur_config_id: i64,
    }
    pub struct SetDataResponse { pub stat: Stat }
    pub struct GetSaslRequest { pub token: Option<Bytes> }
    pub struct SetSaslRequest { pub token: Option<Bytes> }
    pub struct SetSaslResponse { pub token: Option<Bytes> }
    pub struct CreateRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub flags: i32,
    }
    pub struct CreateTtlRequest {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub flags: i32,
        pub ttl: i64,
    }
    pub struct DeleteRequest { pub path: String, pub version: i32 }
    pub struct GetChildrenRequest { pub path: String, pub watch: bool }
    pub struct GetAllChildrenNumberRequest { pub path: String }
    pub struct GetChildren2Request { pub path: String, pub watch: bool }
    pub struct CheckVersionRequest { pub path: String, pub version: i32 }
    pub struct GetMaxChildrenRequest { pub path: String }
    pub struct GetMaxChildrenResponse { pub max: i32 }
    pub struct SetMaxChildrenRequest { pub path: String, pub max: i32 }
    pub struct SyncRequest { pub path: String }
    pub struct SyncResponse { pub path: String }
    pub struct GetAclRequest { pub path: String }
    pub struct SetAclRequest { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
    pub struct SetAclResponse { pub stat: Stat }
    pub struct AddWatchRequest { pub path: String, pub mode: i32 }
    pub struct WatcherEvent { pub event_type: i32, pub state: i32, pub path: String }
    pub struct ErrorResponse { pub err: i32 }
    pub struct CreateResponse { pub path: String }
    pub struct Create2Response { pub path: String, pub stat: Stat }
    pub struct ExistsRequest { pub path: String, pub watch: bool }
    pub struct ExistsResponse { pub stat: Stat }
    pub struct GetDataResponse { pub data: Option<Bytes>, pub stat: Stat }
    pub struct GetChildrenResponse { pub children: Vec<String> }
    pub struct GetAllChildrenNumberResponse { pub total_number: i32 }
    pub struct GetChildren2Response { pub children: Vec<String>, pub stat: Stat }
    pub struct GetAclResponse { pub acl: Vec<Acl>, pub stat: Stat }
    pub struct CheckWatchesRequest { pub path: String, pub watcher_type: i32 }
    pub struct RemoveWatchesRequest { pub path: String, pub watcher_type: i32 }
    pub struct GetEphemeralsRequest { pub prefix_path: String }
    pub struct GetEphemeralsResponse { pub ephemerals: Vec<String> }
    pub struct WhoAmIResponse { pub client_info: Vec<ClientInfo> }

    // ---- module org.apache.zookeeper.server.quorum ----

    pub struct LearnerInfo { pub server_id: i64, pub protocol_version: i32, pub config_version: i64 }
    pub struct QuorumPacket {
        pub packet_type: i32,
        pub zxid: i64,
        pub data: Option<Bytes>,
        pub authinfo: Option<Vec<Id>>,
    }
    pub struct QuorumAuthPacket { pub magic: i64, pub status: i32, pub token: Bytes }

    // ---- module org.apache.zookeeper.server.persistence ----

    pub struct FileHeader { pub magic: i32, pub version: i32, pub dbid: i64 }

    // ---- module org.apache.zookeeper.txn ----

    pub struct TxnDigest { pub version: i32, pub tree_digest: i64 }
    pub struct TxnHeader {
        pub client_id: i64,
        pub cxid: i32,
        pub zxid: i64,
        pub time: i64,
        pub txn_type: i32,
    }
    pub struct CreateTxnV0 {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
    }
    pub struct CreateTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub ephemeral: bool,
        pub parent_cversion: i32,
    }
    pub struct CreateTtlTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
        pub ttl: i64,
    }
    pub struct CreateContainerTxn {
        pub path: String,
        pub data: Option<Bytes>,
        pub acl: Vec<Acl>,
        pub parent_cversion: i32,
    }
    pub struct DeleteTxn { pub path: String }
    pub struct SetDataTxn { pub path: String, pub data: Option<Bytes>, pub version: i32 }
    pub struct CheckVersionTxn { pub path: String, pub version: i32 }
    pub struct SetAclTxn { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
    pub struct SetMaxChildrenTxn { pub path: String, pub max: i32 }
    pub struct CreateSessionTxn { pub time_out: i32 }
    pub struct CloseSessionTxn { pub paths2_delete: Vec<String> }
    pub struct ErrorTxn { pub err: i32 }
    /// One sub-transaction of a multi: its type and its encoded txn record.
    pub struct Txn { pub txn_type: i32, pub data: Bytes }
    pub struct MultiTxn { pub txns: Vec<Txn> }
}

impl Stat {
    /// The stored part of the stat.
    pub fn persisted(&self) -> StatPersisted {
        StatPersisted {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion,
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            pzxid: self.pzxid,
        }
    }
}

impl Id {
    pub fn new(scheme: &str, id: &str) -> Id {
        Id { scheme: scheme.to_owned(), id: id.to_owned() }
    }
}

impl Acl {
    pub fn new(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl { perms, id: Id::new(scheme, id) }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every record of zookeeper.jute: round trip, and every truncation fails cleanly.
        #[test]
        fn every_record_round_trips_and_truncations_fail(seed in any::<u64>()) {
            let checks = super::record_checks();
            prop_assert!(checks.len() >= 60, "only {} records declared", checks.len());
            for (_name, check) in checks {
                check(seed);
            }
        }
    }
}
