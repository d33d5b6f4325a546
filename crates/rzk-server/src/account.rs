//! How the traffic the core sees moves the counters, at the points where ZooKeeper counts:
//! `ServerCnxn.packetReceived`/`packetSent`, `updateStatsForResponse` and
//! `ServerStats.updateLatency` (from `FinalRequestProcessor`), `updateClientResponseSize`,
//! `ServerMetrics.RESPONSE_BYTES`, and the log's fsync metrics.

use std::time::Instant;

use rzk_proto::ReplyHeader;
use rzk_proto::codes::xid;

use crate::stats::{ConnStats, ServerStats};

/// A session handshake arrived; `new_session` when it asks for a new session (which ZooKeeper
/// then runs through its pipeline as a createSession request).
pub fn handshake_received(server: &mut ServerStats, conn: Option<&mut ConnStats>, new_session: bool) {
    server.packets_received += 1;
    server.metrics.connection_requests += 1;
    if let Some(c) = conn {
        let now = Instant::now();
        c.received += 1;
        c.last_touch = now;
        if new_session {
            c.new_session_since = Some(now);
        }
    }
}

/// A request arrived.
pub fn request_received(server: &mut ServerStats, conn: Option<&mut ConnStats>, xid: i32, write: bool) {
    server.packets_received += 1;
    if let Some(c) = conn {
        c.request_received(xid, write);
    }
}

/// The handshake's answer goes out. A new session's counts as the reply to createSession
/// (`lop=SESS`, cxid 0, the session txn's zxid), with its latency as an update.
pub fn handshake_answered(
    server: &mut ServerStats,
    c: &mut ConnStats,
    session_id: i64,
    timeout_ms: i32,
    zxid: i64,
    now_ms: i64,
) {
    c.session_id = Some(session_id);
    c.session_timeout_ms = timeout_ms;
    if let Some(at) = c.new_session_since.take()
        && timeout_ms > 0
    {
        let ms = at.elapsed().as_millis() as u64;
        c.replied("SESS", 0, zxid, ms, now_ms);
        server.latency.add(ms);
        server.metrics.update_latency.add(ms as i64);
        server.metrics.propagation_latency.add(ms as i64);
    }
}

/// A reply goes out. Auth replies are not request replies in ZooKeeper (the connection answers
/// them itself): they only count a failure.
pub fn replied(
    server: &mut ServerStats,
    c: &mut ConnStats,
    header: &ReplyHeader,
    op: &'static str,
    now_ms: i64,
) {
    let pending = c.take_pending(header.xid);
    if header.xid == xid::AUTH {
        if header.err == rzk_proto::ErrorCode::AuthFailed.code() {
            server.auth_failed += 1;
        }
        return;
    }
    let Some(p) = pending else { return };
    let ms = p.at.elapsed().as_millis() as u64;
    c.replied(op, header.xid, header.zxid, ms, now_ms);
    server.latency.add(ms);
    if p.write {
        server.metrics.update_latency.add(ms as i64);
        server.metrics.propagation_latency.add(ms as i64);
    } else {
        server.metrics.read_latency.add(ms as i64);
    }
}

/// What kind of frame went out, with its length without the 4-byte prefix.
#[derive(Debug, Clone, Copy)]
pub enum Sent {
    Handshake,
    Event(usize),
    Reply(usize),
}

/// A frame was handed to the connection's writer.
pub fn sent(server: &mut ServerStats, c: &mut ConnStats, what: Sent) {
    server.packets_sent += 1;
    c.sent += 1;
    c.last_touch = Instant::now();
    match what {
        Sent::Handshake => {}
        Sent::Event(len) => server.client_response.record(len as i64),
        Sent::Reply(len) => {
            server.client_response.record(len as i64);
            server.metrics.response_bytes += len as u64;
        }
    }
}

/// A snapshot was written.
pub fn snapshot_taken(server: &mut ServerStats, ms: u64) {
    server.metrics.snapshot_time.add(ms as i64);
}

/// The log made a batch durable.
pub fn persisted(server: &mut ServerStats, txns: usize, fsync_ms: u64, fsync_warning_ms: u64) {
    server.metrics.fsync_time.add(fsync_ms as i64);
    server.metrics.sync_batch_size.add(txns as i64);
    if fsync_ms > fsync_warning_ms {
        server.fsync_threshold_exceeded += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> ConnStats {
        ConnStats::new("127.0.0.1:1".parse().unwrap(), 0)
    }

    #[test]
    fn a_new_session_counts_as_an_update_named_sess() {
        let (mut s, mut c) = (ServerStats::default(), conn());
        handshake_received(&mut s, Some(&mut c), true);
        handshake_answered(&mut s, &mut c, 0x42, 30000, 5, 10);
        sent(&mut s, &mut c, Sent::Handshake);
        assert_eq!((s.packets_received, s.packets_sent, c.received, c.sent), (1, 1, 1, 1));
        assert_eq!((c.last_op, c.last_cxid, c.last_zxid, c.last_response_ms), ("SESS", 0, 5, 10));
        assert_eq!((s.latency.count, s.metrics.update_latency.summary.count), (1, 1));
        assert_eq!(s.metrics.connection_requests, 1);
        assert_eq!(s.client_response.last, -1, "the handshake is not a response record");
    }

    #[test]
    fn reads_and_writes_feed_their_latencies() {
        let (mut s, mut c) = (ServerStats::default(), conn());
        request_received(&mut s, Some(&mut c), 1, true);
        request_received(&mut s, Some(&mut c), 2, false);
        request_received(&mut s, Some(&mut c), -2, false);
        assert_eq!(c.pending.len(), 3);
        replied(&mut s, &mut c, &ReplyHeader { xid: 1, zxid: 7, err: 0 }, "CREA", 1);
        replied(&mut s, &mut c, &ReplyHeader { xid: 2, zxid: 7, err: 0 }, "GETD", 2);
        replied(&mut s, &mut c, &ReplyHeader { xid: -2, zxid: 7, err: 0 }, "PING", 3);
        assert!(c.pending.is_empty());
        assert_eq!(s.metrics.update_latency.summary.count, 1);
        assert_eq!(s.metrics.read_latency.summary.count, 2);
        assert_eq!((c.last_op, c.last_cxid), ("PING", 2), "pings keep the last real cxid");
        sent(&mut s, &mut c, Sent::Reply(16));
        sent(&mut s, &mut c, Sent::Event(30));
        assert_eq!((s.client_response.min, s.client_response.max, s.metrics.response_bytes), (16, 30, 16));
    }

    #[test]
    fn auth_replies_only_count_failures() {
        let (mut s, mut c) = (ServerStats::default(), conn());
        request_received(&mut s, Some(&mut c), xid::AUTH, false);
        let header = ReplyHeader { xid: xid::AUTH, zxid: 0, err: rzk_proto::ErrorCode::AuthFailed.code() };
        replied(&mut s, &mut c, &header, "NA", 1);
        assert_eq!((s.auth_failed, s.latency.count, c.last_op), (1, 0, "NA"));
    }
}
