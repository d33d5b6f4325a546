//! Shared helpers of the reference-server tests: start Apache ZooKeeper (or skip), connect,
//! and wait for events with a deadline.
#![allow(dead_code)]

use std::time::Duration;

use rzk_client::{Client, ClientBuilder, EventType, KeeperState, RecvError, WatchedEvent};
use rzk_testkit::RefZk;
use tokio::sync::broadcast::Receiver;

/// How long a test waits for anything the server should do promptly.
pub const WAIT: Duration = Duration::from_secs(20);
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// A reference server with TTL nodes enabled, or `None` (test skipped).
pub fn refzk(test: &str, extra_cfg: &[&str]) -> Option<RefZk> {
    RefZk::start_or_skip(test, extra_cfg, &["-Dzookeeper.extendedTypesEnabled=true"])
}

/// Every request is bounded too: a reply that never comes fails the test at that request
/// (RequestTimeout) instead of leaving it to the runner's 10-minute limit.
pub fn builder(addr: &str) -> ClientBuilder {
    Client::builder(addr, SESSION_TIMEOUT)
        .reconnect_delay_max(Duration::from_millis(100))
        .request_timeout(WAIT)
}

pub async fn connect(addr: &str) -> Client {
    builder(addr).connect().await.expect("connect to the reference server")
}

/// The next event, failing the test after `WAIT`.
pub async fn next_event(rx: &mut Receiver<WatchedEvent>) -> WatchedEvent {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Ok(e)) => e,
        Ok(Err(RecvError::Lagged(n))) => panic!("lagged {n} events"),
        Ok(Err(RecvError::Closed)) => panic!("event stream closed"),
        Err(_) => panic!("no event within {WAIT:?}"),
    }
}

/// The next node event (state events skipped).
pub async fn next_node_event(rx: &mut Receiver<WatchedEvent>) -> (EventType, String) {
    loop {
        let e = next_event(rx).await;
        if e.event_type != EventType::None {
            return (e.event_type, e.path.unwrap_or_default());
        }
    }
}

/// Waits for a state event, skipping node events.
pub async fn wait_state(rx: &mut Receiver<WatchedEvent>, state: KeeperState) {
    loop {
        let e = next_event(rx).await;
        if e.event_type == EventType::None && e.state == state {
            return;
        }
    }
}

/// Fails if an event is waiting. A round trip first: the server sends a session's events before
/// the replies of its later requests, and the client delivers them in that order.
pub async fn assert_no_event(zk: &Client, rx: &mut Receiver<WatchedEvent>) {
    zk.exists("/", false).await.expect("round trip");
    if let Ok(e) = rx.try_recv() {
        panic!("unexpected event {e}");
    }
}
