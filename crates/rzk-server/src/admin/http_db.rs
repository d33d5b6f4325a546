//! The HTTP side of 3.9's database commands: `snapshot` (GET, streams the file) and `restore`
//! (POST, the snapshot as the body), after ZooKeeper's checks in its order: authorization
//! through the core, the feature switch (`admin.snapshot.enabled` / `admin.restore.enabled`),
//! the rate limit.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};

use crate::admin::AdminMsg;
use crate::admin::commands::Method;
use crate::admin::http::{
    AdminState, CORE_REPLY_TIMEOUT, NOT_SERVING, PROBE_TIMEOUT, Remote, Shared, add_headers, authorization,
    json_answer, resolve,
};
use crate::admin::rate_limit::RateLimiter;
use crate::admin::response::Response;
use crate::admin::restore;
use crate::admin::snapshot::{FileBody, Taken};

/// `snapshot` waits for the snapshot to be written.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `restore` waits for the server to have nothing in flight, and how often it asks.
const RESTORE_BUSY_WAIT: Duration = Duration::from_secs(10);
const RESTORE_BUSY_RETRY: Duration = Duration::from_millis(20);

/// 3.9's order: authorization, the feature switch, the rate limit; then the command.
async fn authorize(
    s: &AdminState,
    command: &'static str,
    auth: Option<String>,
    remote: SocketAddr,
    enabled: bool,
    limiter: &RateLimiter,
) -> Result<(), Response> {
    let remote_ip = remote.ip().to_string();
    let checked =
        s.link.ask(PROBE_TIMEOUT, |reply| AdminMsg::Authorize { command, auth, remote_ip, reply }).await;
    checked.unwrap_or_else(|| Err(Response::error(command, NOT_SERVING, 200)))?;
    if !enabled {
        tracing::warn!(command, "admin command is disabled");
        return Err(Response::ok(command).with_status(503));
    }
    if !limiter.allow() {
        tracing::warn!(command, "admin command was rate limited");
        return Err(Response::ok(command).with_status(429));
    }
    Ok(())
}

pub(crate) async fn snapshot(
    s: &AdminState,
    kwargs: &[(String, String)],
    auth: Option<String>,
    remote: SocketAddr,
) -> axum::response::Response {
    const CMD: &str = "snapshot";
    if let Err(r) = authorize(s, CMD, auth, remote, s.settings.snapshot_enabled, &s.snapshot_limiter).await {
        return json_answer(&r);
    }
    // Boolean.parseBoolean: only "true" (any case) streams; the default is to stream.
    let streaming =
        kwargs.iter().find(|(k, _)| k == "streaming").is_none_or(|(_, v)| v.eq_ignore_ascii_case("true"));
    let taken = s.link.ask(SNAPSHOT_TIMEOUT, |reply| AdminMsg::Snapshot { reply }).await;
    let taken = match taken {
        Some(Ok(t)) => t,
        Some(Err(r)) => return json_answer(&r),
        None => return json_answer(&Response::ok(CMD).with_status(500)),
    };
    let Taken { zxid, path } = taken;
    let opened = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path)?;
        let len = f.metadata()?.len();
        Ok::<_, std::io::Error>((f, len))
    })
    .await;
    let (file, size) = match opened {
        Ok(Ok(v)) => v,
        _ => return json_answer(&Response::ok(CMD).with_status(500)),
    };
    let mut r = Response::ok(CMD);
    r.headers.push(("last_zxid".into(), format!("0x{zxid:x}")));
    r.headers.push(("snapshot_size".into(), size.to_string()));
    if size == 0 {
        return json_answer(&r.with_status(500));
    }
    if !streaming {
        return json_answer(&r);
    }
    let mut resp = axum::response::Response::new(Body::new(FileBody::new(file)));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    add_headers(&mut resp, &r.headers);
    resp
}

pub(crate) async fn restore(
    State(s): Shared,
    Path(name): Path<String>,
    Extension(Remote(remote)): Extension<Remote>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    const CMD: &str = "restore";
    if let Err(r) = resolve(&name, Method::Post) {
        return json_answer(&r);
    }
    let auth = authorization(&headers);
    if let Err(r) = authorize(&s, CMD, auth, remote, s.settings.restore_enabled, &s.restore_limiter).await {
        return json_answer(&r);
    }
    let bytes = match axum::body::to_bytes(body, restore::RESTORE_BODY_BYTES_MAX).await {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => return json_answer(&Response::error(CMD, "the request has no snapshot", 400)),
        Err(e) => return json_answer(&Response::error(CMD, format!("cannot read the snapshot: {e}"), 400)),
    };
    let (ext, scratch) = (s.extended_types, s.dirs.data_dir.clone());
    let parsed = tokio::task::spawn_blocking(move || restore::parse(bytes, ext, &scratch)).await;
    let stream = match parsed.map_err(|e| e.to_string()).and_then(|r| r) {
        Ok(stream) => stream,
        Err(e) => {
            tracing::warn!(error = %e, "restore: the snapshot was refused");
            return json_answer(&Response::error(CMD, e, 500));
        }
    };
    let mut stream = Box::new(stream);
    let deadline = tokio::time::Instant::now() + RESTORE_BUSY_WAIT;
    loop {
        match s.link.ask(CORE_REPLY_TIMEOUT, |reply| AdminMsg::Restore { stream, reply }).await {
            Some(Ok(answer)) => return json_answer(&answer),
            None => return json_answer(&Response::error(CMD, NOT_SERVING, 500)),
            Some(Err(back)) if tokio::time::Instant::now() < deadline => {
                stream = back;
                tokio::time::sleep(RESTORE_BUSY_RETRY).await;
            }
            Some(Err(_)) => {
                let why = "the server is busy (requests or a snapshot in flight); retry";
                return json_answer(&Response::error(CMD, why, 503));
            }
        }
    }
}
