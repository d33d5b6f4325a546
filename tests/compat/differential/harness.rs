//! The differential harness: the same scenario of client requests is played against the
//! reference Apache ZooKeeper and against rzk, and every observable outcome is compared: reply
//! headers, reply bodies (byte for byte after masking what legitimately differs: times, session
//! ids, and zxids relative to the scenario's start), watch events, connect responses and whether
//! the server closed the connection.
//!
//! Masked: ctime/mtime (wall clock), session ids (mapped to the scenario's session slots) and
//! zxids (relative to the last zxid before the scenario; older ones print as `old`). Lists of
//! children and ephemerals are compared in the order the server sent them (rzk reproduces Java's
//! HashSet order).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rzk_client::raw::{RawConnection, RawError};
use rzk_proto::codes::{op, xid};
use rzk_proto::connect::ConnectRequest;
use rzk_proto::{Jute, MultiResult, Reader, Request, Response, Stat};

/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a poll step may wait for its condition (session expiry, container cleanup).
const POLL_DEADLINE: Duration = Duration::from_secs(20);

/// One step of a scenario.
#[derive(Debug, Clone)]
pub enum Step {
    /// Opens a new session in slot `s` with the requested timeout.
    Connect { s: usize, timeout_ms: i32 },
    /// Sends a request on slot `s` and compares its reply.
    Req { s: usize, req: Request },
    /// Sends closeSession on slot `s`; the server answers and closes.
    Close { s: usize },
    /// Drops slot `s`'s TCP connection without closing the session.
    Drop { s: usize },
    /// Opens slot `s` re-attaching the session of slot `from` (with a wrong password if asked).
    Reattach { s: usize, from: usize, good_password: bool, timeout_ms: i32 },
    /// Sends a frame payload as given on slot `s` (malformed input); compares what comes back.
    Raw { s: usize, payload: Vec<u8> },
    /// Re-sends `req` on slot `s` until its reply's error is `until_err` (or the deadline).
    Poll { s: usize, req: Request, until_err: i32 },
}

pub struct Scenario {
    pub name: String,
    pub steps: Vec<Step>,
}

struct Slot {
    conn: RawConnection,
    session_id: i64,
    passwd: Bytes,
    xid: i32,
}

/// One server under test.
pub struct Target {
    pub addr: String,
}

/// Plays a scenario against one server; returns one line per observable outcome.
pub async fn play(target: &Target, sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    let mut slots: HashMap<usize, Slot> = HashMap::new();
    let mut sessions: HashMap<i64, usize> = HashMap::new();
    let mut base: Option<i64> = None;
    for (i, step) in sc.steps.iter().enumerate() {
        let lines = run_step(target, step, &mut slots, &mut sessions, &mut base).await;
        for l in lines {
            out.push(format!("#{i} {l}"));
        }
        // Barrier: a ping on every live session collects the watch events of this step.
        let mut ids: Vec<usize> = slots.keys().copied().collect();
        ids.sort();
        for s in ids {
            for l in barrier(&mut slots, s, &sessions, base.unwrap_or(0)).await {
                out.push(format!("#{i} {l}"));
            }
        }
    }
    cleanup(target, slots, &sessions).await;
    out
}

/// Closes every session the scenario opened, so none expires later and shifts the zxids of the
/// scenarios after it.
async fn cleanup(t: &Target, slots: HashMap<usize, Slot>, sessions: &HashMap<i64, usize>) {
    drop(slots);
    for &id in sessions.keys() {
        let mut req = RawConnection::new_session_request(30000);
        req.session_id = id;
        req.passwd = Bytes::copy_from_slice(&rzk_password(id));
        let Ok((resp, _, mut conn)) = RawConnection::connect(&t.addr, &req, REPLY_TIMEOUT).await else {
            continue;
        };
        if resp.time_out == 0 {
            continue;
        }
        if conn.send(1, &Request::CloseSession).await.is_ok() {
            let _ = conn.recv(REPLY_TIMEOUT).await;
        }
    }
}

async fn run_step(
    t: &Target,
    step: &Step,
    slots: &mut HashMap<usize, Slot>,
    sessions: &mut HashMap<i64, usize>,
    base: &mut Option<i64>,
) -> Vec<String> {
    match step {
        Step::Connect { s, timeout_ms } => {
            let req = RawConnection::new_session_request(*timeout_ms);
            connect(t, *s, &req, slots, sessions, base).await
        }
        Step::Reattach { s, from, good_password, timeout_ms } => {
            let Some(src) = slots.get(from) else { return vec!["reattach: no such slot".into()] };
            let mut req = RawConnection::new_session_request(*timeout_ms);
            req.session_id = src.session_id;
            req.passwd = if *good_password { src.passwd.clone() } else { Bytes::from_static(&[7; 16]) };
            connect(t, *s, &req, slots, sessions, base).await
        }
        Step::Req { s, req } => request(slots, *s, req, sessions, base.unwrap_or(0)).await,
        Step::Close { s } => {
            let mut lines = request(slots, *s, &Request::CloseSession, sessions, base.unwrap_or(0)).await;
            if let Some(mut slot) = slots.remove(s) {
                let closed = slot.conn.socket().closed_within(REPLY_TIMEOUT).await;
                lines.push(format!("s{s} closed by server: {closed}"));
            }
            lines
        }
        Step::Drop { s } => {
            slots.remove(s);
            vec![]
        }
        Step::Raw { s, payload } => {
            let Some(slot) = slots.get_mut(s) else { return vec!["raw: no such slot".into()] };
            if let Err(e) = slot.conn.send_payload(payload).await {
                return vec![format!("s{s} raw send failed: {e}")];
            }
            let mut lines = Vec::new();
            match slot.conn.recv(Duration::from_secs(3)).await {
                Ok(r) => lines.push(format!("s{s} raw reply xid={} err={}", r.header.xid, r.header.err)),
                Err(RawError::Closed) => lines.push(format!("s{s} closed by server")),
                Err(e) => lines.push(format!("s{s} raw: {}", short_err(&e))),
            }
            let closed = slot.conn.socket().closed_within(Duration::from_secs(3)).await;
            lines.push(format!("s{s} connection closed: {closed}"));
            slots.remove(s);
            lines
        }
        Step::Poll { s, req, until_err } => {
            let deadline = Instant::now() + POLL_DEADLINE;
            loop {
                let lines = request(slots, *s, req, sessions, base.unwrap_or(0)).await;
                let done = lines.iter().any(|l| l.contains(&format!(" err={until_err} ")));
                if done || Instant::now() > deadline {
                    // How many polls it took is timing; drop the xid from the outcome.
                    return lines.into_iter().map(|l| strip_xid(&l)).collect();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn strip_xid(line: &str) -> String {
    line.split(' ').filter(|w| !w.starts_with("xid=")).collect::<Vec<_>>().join(" ")
}

fn short_err(e: &RawError) -> String {
    match e {
        RawError::Timeout => "timeout".into(),
        RawError::Closed => "closed".into(),
        other => format!("{other}"),
    }
}

async fn connect(
    t: &Target,
    s: usize,
    req: &ConnectRequest,
    slots: &mut HashMap<usize, Slot>,
    sessions: &mut HashMap<i64, usize>,
    base: &mut Option<i64>,
) -> Vec<String> {
    let (resp, raw, mut conn) = match RawConnection::connect(&t.addr, req, REPLY_TIMEOUT).await {
        Ok(x) => x,
        Err(e) => return vec![format!("s{s} connect failed: {}", short_err(&e))],
    };
    let mut lines = Vec::new();
    let expected_pw = rzk_password(resp.session_id);
    let pw = if resp.session_id == 0 {
        format!("{:?}", &resp.passwd[..])
    } else if resp.passwd[..] == expected_pw[..] {
        "java-random".to_owned()
    } else {
        "other".to_owned()
    };
    if resp.session_id != 0 && req.session_id == 0 {
        sessions.insert(resp.session_id, s);
    }
    let sid = session_name(resp.session_id, sessions);
    lines.push(format!(
        "s{s} connected proto={} timeout={} session={sid} passwd={pw} ro={:?} len={}",
        resp.protocol_version,
        resp.time_out,
        resp.read_only,
        raw.len()
    ));
    if resp.time_out == 0 {
        let closed = conn.socket().closed_within(REPLY_TIMEOUT).await;
        lines.push(format!("s{s} closed by server: {closed}"));
        return lines;
    }
    if base.is_none() {
        // The zxid before this scenario: the ping reply carries the last processed zxid.
        let _ = conn.send(xid::PING, &Request::Ping).await;
        if let Ok(r) = conn.recv(REPLY_TIMEOUT).await {
            *base = Some(r.header.zxid - 1);
        }
    }
    slots.insert(s, Slot { conn, session_id: resp.session_id, passwd: resp.passwd.clone(), xid: 1 });
    lines
}

/// The password ZooKeeper derives for a session (java.util.Random(id ^ 0xB3415C00)).
fn rzk_password(id: i64) -> [u8; 16] {
    rzk_node::java_random::session_password(id)
}

fn session_name(id: i64, sessions: &HashMap<i64, usize>) -> String {
    match sessions.get(&id) {
        Some(s) => format!("S{s}"),
        None if id == 0 => "0".into(),
        None => "unknown".into(),
    }
}

async fn request(
    slots: &mut HashMap<usize, Slot>,
    s: usize,
    req: &Request,
    sessions: &HashMap<i64, usize>,
    base: i64,
) -> Vec<String> {
    let Some(slot) = slots.get_mut(&s) else { return vec![format!("s{s}: no connection")] };
    let x = match req {
        Request::Ping => xid::PING,
        Request::Auth(_) => xid::AUTH,
        Request::SetWatches(_) | Request::SetWatches2(_) => xid::SET_WATCHES,
        _ => {
            slot.xid += 1;
            slot.xid
        }
    };
    if let Err(e) = slot.conn.send(x, req).await {
        return vec![format!("s{s} send failed: {}", short_err(&e))];
    }
    let mut lines = Vec::new();
    loop {
        match slot.conn.recv(REPLY_TIMEOUT).await {
            Ok(r) if r.header.xid == xid::NOTIFICATION => {
                lines.push(format!("s{s} event {}", event_line(&r.body)));
            }
            Ok(r) => {
                let zxid = rel_zxid(r.header.zxid, base);
                let body = describe_body(req.op(), r.header.err, &r.body, sessions, base);
                lines
                    .push(format!("s{s} reply xid={} zxid={zxid} err={} {body}", r.header.xid, r.header.err));
                if r.header.err == rzk_proto::ErrorCode::AuthFailed.code()
                    || matches!(req, Request::CloseSession)
                {
                    break;
                }
                break;
            }
            Err(RawError::Closed) => {
                lines.push(format!("s{s} closed by server"));
                slots.remove(&s);
                break;
            }
            Err(e) => {
                lines.push(format!("s{s} recv: {}", short_err(&e)));
                break;
            }
        }
    }
    lines
}

async fn barrier(
    slots: &mut HashMap<usize, Slot>,
    s: usize,
    sessions: &HashMap<i64, usize>,
    base: i64,
) -> Vec<String> {
    let _ = sessions;
    let _ = base;
    let Some(slot) = slots.get_mut(&s) else { return vec![] };
    if slot.conn.send(xid::PING, &Request::Ping).await.is_err() {
        slots.remove(&s);
        return vec![format!("s{s} closed by server")];
    }
    let mut lines = Vec::new();
    loop {
        match slot.conn.recv(REPLY_TIMEOUT).await {
            Ok(r) if r.header.xid == xid::NOTIFICATION => {
                lines.push(format!("s{s} event {}", event_line(&r.body)))
            }
            Ok(r) if r.header.xid == xid::PING => break,
            Ok(r) => lines.push(format!("s{s} unexpected reply xid={} err={}", r.header.xid, r.header.err)),
            Err(_) => {
                lines.push(format!("s{s} closed by server"));
                slots.remove(&s);
                break;
            }
        }
    }
    lines
}

fn event_line(body: &Bytes) -> String {
    match rzk_proto::WatcherEvent::decode(&mut Reader::with_default_limit(body.clone())) {
        Ok(e) => format!("type={} state={} path={}", e.event_type, e.state, e.path),
        Err(e) => format!("undecodable event: {e}"),
    }
}

fn rel_zxid(z: i64, base: i64) -> String {
    if z > base {
        format!("+{}", z - base)
    } else if z <= 0 {
        format!("{z}")
    } else {
        "old".into()
    }
}

fn norm_stat(st: &Stat, sessions: &HashMap<i64, usize>, base: i64) -> String {
    let owner =
        if st.ephemeral_owner == 0 { "0".to_owned() } else { session_name(st.ephemeral_owner, sessions) };
    format!(
        "Stat(cz={} mz={} pz={} ct={} mt={} v={} cv={} av={} owner={} len={} nc={})",
        rel_zxid(st.czxid, base),
        rel_zxid(st.mzxid, base),
        rel_zxid(st.pzxid, base),
        st.ctime > 0,
        st.mtime > 0,
        st.version,
        st.cversion,
        st.aversion,
        owner,
        st.data_length,
        st.num_children
    )
}

/// Decodes a reply body for the request's opcode and prints it with the masks applied. The body
/// must also re-encode to exactly the bytes received (our codec against the server's bytes).
fn describe_body(req_op: i32, err: i32, body: &Bytes, sessions: &HashMap<i64, usize>, base: i64) -> String {
    if body.is_empty() {
        return "body=none".into();
    }
    let decode_op = if req_op == op::CLOSE_SESSION { op::ERROR } else { req_op };
    let mut r = Reader::with_default_limit(body.clone());
    let resp = match Response::decode(decode_op, &mut r) {
        Ok(resp) if r.is_empty() => resp,
        Ok(_) => return format!("body=trailing-bytes len={} err={err}", body.len()),
        Err(e) => return format!("body=undecodable({e}) len={}", body.len()),
    };
    let mut again = Vec::new();
    resp.encode(&mut again);
    let exact = if again[..] == body[..] { "" } else { " CODEC-MISMATCH" };
    let s = |st: &Stat| norm_stat(st, sessions, base);
    let text = match &resp {
        Response::Empty => "empty".to_owned(),
        Response::Create(c) => format!("create path={}", c.path),
        Response::Create2(c) => format!("create2 path={} {}", c.path, s(&c.stat)),
        Response::Stat(st) => s(st),
        Response::GetData(g) => {
            format!("data={:?} {}", g.data.as_deref().map(String::from_utf8_lossy), s(&g.stat))
        }
        Response::GetAcl(g) => format!("acl={:?} {}", g.acl, s(&g.stat)),
        Response::GetChildren(g) => format!("children={:?}", g.children),
        Response::GetChildren2(g) => format!("children={:?} {}", g.children, s(&g.stat)),
        Response::Sync(p) => format!("sync path={}", p.path),
        Response::Multi(results) => {
            let parts: Vec<String> = results
                .iter()
                .map(|m| match m {
                    MultiResult::Create(p) => format!("create({p})"),
                    MultiResult::Create2 { path, stat } => format!("create2({path}, {})", s(stat)),
                    MultiResult::SetData(st) => format!("setData({})", s(st)),
                    MultiResult::Delete => "delete".into(),
                    MultiResult::Check => "check".into(),
                    MultiResult::GetData { data, stat } => {
                        format!("getData({:?}, {})", data.as_deref().map(String::from_utf8_lossy), s(stat))
                    }
                    MultiResult::GetChildren(c) => format!("getChildren({:?})", c),
                    MultiResult::Error(e) => format!("error({e})"),
                })
                .collect();
            format!("multi[{}]", parts.join(", "))
        }
        Response::ErrorBody(e) => format!("errorBody({})", e.err),
        Response::GetEphemerals(e) => format!("ephemerals={:?}", e.ephemerals),
        Response::GetAllChildrenNumber(n) => format!("count={}", n.total_number),
        Response::WhoAmI(w) => format!("whoami={:?}", w.client_info),
        Response::Sasl(t) => format!("sasl token={:?}", t.token.as_deref()),
    };
    format!("body={text}{exact}")
}
