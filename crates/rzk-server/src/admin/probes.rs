//! `/ready` and `/health`: the core's [`readiness`](crate::admin::readiness) as JSON, with the
//! status a probe reads.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};

use crate::admin::AdminMsg;
use crate::admin::http::{AdminState, PROBE_TIMEOUT, Shared};
use crate::admin::readiness::Readiness;
use crate::four_letter::SERVER_STATE;

async fn probe(s: &AdminState) -> Option<Readiness> {
    s.link.ask(PROBE_TIMEOUT, |reply| AdminMsg::Readiness { reply }).await
}

fn readiness_answer(r: &Readiness, status: StatusCode) -> axum::response::Response {
    let mut resp = axum::response::Response::new(Body::from(r.to_json().pretty()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// `/ready`: 200 only while the server serves clients (and, in an ensemble, has a quorum).
pub(crate) async fn ready(State(s): Shared) -> axum::response::Response {
    let r = probe(&s).await.unwrap_or_else(|| Readiness::not_serving(SERVER_STATE));
    let status = if r.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    readiness_answer(&r, status)
}

/// `/health`: 200 while the process works (loading the database included); 503 once the core
/// has stopped or does not answer.
pub(crate) async fn health(State(s): Shared) -> axum::response::Response {
    if !s.link.started() {
        return readiness_answer(&Readiness::not_serving(SERVER_STATE), StatusCode::OK);
    }
    match probe(&s).await {
        Some(r) => readiness_answer(&r, StatusCode::OK),
        None => readiness_answer(&Readiness::not_serving(SERVER_STATE), StatusCode::SERVICE_UNAVAILABLE),
    }
}
