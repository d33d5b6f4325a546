//! The `QuorumPacket` types of Zab (`Leader.java`), and helpers for their payloads.

pub const REQUEST: i32 = 1;
pub const PROPOSAL: i32 = 2;
pub const ACK: i32 = 3;
pub const COMMIT: i32 = 4;
pub const PING: i32 = 5;
pub const REVALIDATE: i32 = 6;
pub const SYNC: i32 = 7;
pub const INFORM: i32 = 8;
pub const COMMITANDACTIVATE: i32 = 9;
pub const NEWLEADER: i32 = 10;
pub const FOLLOWERINFO: i32 = 11;
pub const UPTODATE: i32 = 12;
pub const DIFF: i32 = 13;
pub const TRUNC: i32 = 14;
pub const SNAP: i32 = 15;
pub const OBSERVERINFO: i32 = 16;
pub const LEADERINFO: i32 = 17;
pub const ACKEPOCH: i32 = 18;
pub const INFORMANDACTIVATE: i32 = 19;

/// The protocol version learners and leaders announce (`0x10000`, Zab 1.0).
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// The signature after a SNAP body.
pub const SNAP_SIGNATURE: &str = "BenWasHere";

/// `Leader.getPacketType`'s names, for logs.
pub fn name(t: i32) -> &'static str {
    match t {
        REQUEST => "REQUEST",
        PROPOSAL => "PROPOSAL",
        ACK => "ACK",
        COMMIT => "COMMIT",
        PING => "PING",
        REVALIDATE => "REVALIDATE",
        SYNC => "SYNC",
        INFORM => "INFORM",
        COMMITANDACTIVATE => "COMMITANDACTIVATE",
        NEWLEADER => "NEWLEADER",
        FOLLOWERINFO => "FOLLOWERINFO",
        UPTODATE => "UPTODATE",
        DIFF => "DIFF",
        TRUNC => "TRUNC",
        SNAP => "SNAP",
        OBSERVERINFO => "OBSERVERINFO",
        LEADERINFO => "LEADERINFO",
        ACKEPOCH => "ACKEPOCH",
        INFORMANDACTIVATE => "INFORMANDACTIVATE",
        _ => "UNKNOWN",
    }
}

/// `ZxidUtils.makeZxid`.
pub fn make_zxid(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | (counter & 0xffff_ffff)
}

/// `ZxidUtils.getEpochFromZxid`.
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}
