//! The admin server's HTTP side (`JettyAdminServer.CommandServlet`): the listener, routes, query
//! arguments, and the answers' status, headers and bodies (3.9's database commands are in
//! `http_db`, the probes in `probes`). It starts before the
//! database loads, as ZooKeeper's does; until the core runs, the commands that need the server
//! answer ZooKeeper's "not currently serving" error and `/ready` answers 503.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::admin::commands::{self, Cmd, Method};
use crate::admin::rate_limit::RateLimiter;
use crate::admin::response::Response;
use crate::admin::{AdminFacts, AdminMsg, AdminSettings, http_db, info_view, probes};
use crate::core::CoreMsg;
use crate::four_letter::host::DataDirs;

/// How long a command may take in the core before the request gives up.
pub(crate) const CORE_REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `/ready` and `/health` wait for the core.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// The core's inbox, once the core runs (the admin server starts before it).
#[derive(Default)]
pub struct CoreLink {
    core: OnceLock<mpsc::Sender<CoreMsg>>,
}

impl CoreLink {
    pub fn set(&self, core: mpsc::Sender<CoreMsg>) {
        let _ = self.core.set(core);
    }

    /// Whether the core has started (it may have stopped since).
    pub fn started(&self) -> bool {
        self.core.get().is_some()
    }

    fn get(&self) -> Option<&mpsc::Sender<CoreMsg>> {
        self.core.get()
    }

    /// Sends `msg` built around a reply channel and waits for the answer; `None` when the core
    /// does not run or does not answer in time.
    pub async fn ask<T>(
        &self,
        timeout: Duration,
        msg: impl FnOnce(oneshot::Sender<T>) -> AdminMsg,
    ) -> Option<T> {
        let core = self.get()?;
        let (tx, rx) = oneshot::channel();
        core.send(CoreMsg::Admin(Box::new(msg(tx)))).await.ok()?;
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }
}

/// A running HTTP server (admin or metrics); it stops when this is dropped.
#[derive(Debug)]
pub struct HttpServer {
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) struct AdminState {
    pub(crate) settings: AdminSettings,
    pub(crate) link: Arc<CoreLink>,
    pub(crate) dirs: DataDirs,
    pub(crate) extended_types: bool,
    pub(crate) snapshot_limiter: RateLimiter,
    pub(crate) restore_limiter: RateLimiter,
}

pub(crate) type Shared = State<Arc<AdminState>>;

/// The client's address, for the `ip` authentication scheme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Remote(pub(crate) SocketAddr);

/// Binds `admin.serverAddress`:`admin.serverPort` and serves the admin routes.
pub async fn start(
    settings: AdminSettings,
    link: Arc<CoreLink>,
    dirs: DataDirs,
    extended_types: bool,
) -> std::io::Result<HttpServer> {
    let url = normalized_url(&settings.command_url);
    // Jetty's idle timeout 0 means none.
    let idle = (settings.idle_timeout_ms > 0).then(|| Duration::from_millis(settings.idle_timeout_ms));
    let state = Arc::new(AdminState {
        snapshot_limiter: RateLimiter::new(settings.rate_limit_interval_ms),
        restore_limiter: RateLimiter::new(settings.rate_limit_interval_ms),
        settings,
        link,
        dirs,
        extended_types,
    });
    let mut router = Router::new()
        .route("/ready", get(probes::ready))
        .route("/health", get(probes::health))
        .route(&format!("{url}/{{*cmd}}"), get(run_get).post(http_db::restore));
    router = if url.is_empty() {
        router.route("/", get(list).post(list))
    } else {
        router.route(&url, get(list).post(list)).route(&format!("{url}/"), get(list).post(list))
    };
    let addr = state.settings.addr;
    let server = serve(addr, router.with_state(state), idle).await?;
    tracing::info!(addr = %server.local_addr, url = %url, "Started AdminServer");
    Ok(server)
}

/// `admin.commandURL` without a trailing slash, with a leading one.
fn normalized_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') { trimmed.to_owned() } else { format!("/{trimmed}") }
}

/// Binds `addr` and serves `router` over HTTP/1.1, one task per connection; a connection that
/// sends no request for `idle` is closed (`admin.idleTimeout`; `None`: never).
pub async fn serve(addr: SocketAddr, router: Router, idle: Option<Duration>) -> std::io::Result<HttpServer> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(128)?;
    let local_addr = listener.local_addr()?;
    let task = tokio::spawn(accept_loop(listener, router, idle));
    Ok(HttpServer { local_addr, task })
}

async fn accept_loop(listener: TcpListener, router: Router, idle: Option<Duration>) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(router.clone().layer(Extension(Remote(remote))));
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(idle).keep_alive(true);
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%remote, error = %e, "HTTP connection ended");
            }
        });
    }
}

// ---- answers ----

pub(crate) fn json_answer(r: &Response) -> axum::response::Response {
    let mut resp = axum::response::Response::new(Body::from(r.to_json().pretty()));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    add_headers(&mut resp, &r.headers);
    resp
}

pub(crate) fn add_headers(resp: &mut axum::response::Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str()))
        {
            resp.headers_mut().append(k, v);
        }
    }
}

/// `/commands`: the links to every command.
async fn list(State(s): Shared) -> axum::response::Response {
    let mut resp =
        axum::response::Response::new(Body::from(commands::links(&normalized_url(&s.settings.command_url))));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html;charset=utf-8"));
    resp
}

/// `Commands.runCommand`'s checks before the command runs.
pub(crate) fn resolve(name: &str, method: Method) -> Result<&'static commands::Command, Response> {
    let Some(c) = commands::lookup(name) else {
        return Err(Response::error(name, format!("Unknown command: {name}"), 200));
    };
    if c.method != method {
        let how = if c.method == Method::Post { "POST" } else { "GET" };
        return Err(Response::error(c.primary(), format!("{} must be sent with {how}", c.primary()), 405));
    }
    Ok(c)
}

async fn run_get(
    State(s): Shared,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    Extension(Remote(remote)): Extension<Remote>,
    headers: HeaderMap,
) -> axum::response::Response {
    let c = match resolve(&name, Method::Get) {
        Ok(c) => c,
        Err(r) => return json_answer(&r),
    };
    // kwargs: the first value of each parameter (getParameterMap().get(k)[0]).
    let mut kwargs: Vec<(String, String)> = Vec::new();
    for (k, v) in query {
        if !kwargs.iter().any(|(k2, _)| *k2 == k) {
            kwargs.push((k, v));
        }
    }
    match c.cmd {
        Cmd::Snapshot => http_db::snapshot(&s, &kwargs, authorization(&headers), remote).await,
        Cmd::Environment | Cmd::SystemProperties => json_answer(&without_core(&s, c.cmd).await),
        cmd => json_answer(&with_core(&s, c, cmd, kwargs).await),
    }
}

/// The commands that read only the process (they answer before the database is loaded).
async fn without_core(s: &AdminState, cmd: Cmd) -> Response {
    let facts = gather(s, cmd).await;
    let mut r = Response::ok(if cmd == Cmd::Environment { "environment" } else { "system_properties" });
    match cmd {
        Cmd::Environment => info_view::environment(&facts.host, &mut r),
        _ => info_view::system_properties(Some(&s.settings), &facts.host, &mut r),
    }
    r
}

async fn with_core(
    s: &AdminState,
    c: &commands::Command,
    cmd: Cmd,
    kwargs: Vec<(String, String)>,
) -> Response {
    if !s.link.started() {
        return Response::error(c.primary(), NOT_SERVING, 200);
    }
    let facts = Box::new(gather(s, cmd).await);
    let answer =
        s.link.ask(CORE_REPLY_TIMEOUT, |reply| AdminMsg::Command { cmd, kwargs, facts, reply }).await;
    answer.unwrap_or_else(|| Response::error(c.primary(), NOT_SERVING, 200))
}

async fn gather(s: &AdminState, cmd: Cmd) -> AdminFacts {
    let dirs = s.dirs.clone();
    tokio::task::spawn_blocking(move || AdminFacts::gather(cmd, &dirs)).await.unwrap_or_default()
}

pub(crate) fn authorization(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_urls_are_normalized() {
        assert_eq!(normalized_url("/commands"), "/commands");
        assert_eq!(normalized_url("/commands/"), "/commands");
        assert_eq!(normalized_url("admin"), "/admin");
        assert_eq!(normalized_url("/"), "");
    }

    #[test]
    fn unknown_commands_and_wrong_methods_answer_zookeepers_error() {
        let r = resolve("nope", Method::Get).unwrap_err();
        assert_eq!((r.status, r.error.as_deref()), (200, Some("Unknown command: nope")));
        let r = resolve("rest", Method::Get).unwrap_err();
        assert_eq!((r.status, r.command.as_str()), (405, "restore"));
        assert_eq!(resolve("mntr", Method::Get).unwrap().primary(), "monitor");
    }
}
