//! What a client observes: watch events (`WatchedEvent`, with Java's `KeeperState` and
//! `EventType` names, so `Display` is `WatchedEvent.toString()`), the connection state
//! (`States`, Java's `ZooKeeper.States`, shown in zkCli's prompt), and the watcher kinds of
//! removeWatches/checkWatches and addWatch.

use std::fmt;

use rzk_proto::codes::{add_watch_mode, event_type, keeper_state, watcher_type};

/// `Watcher.Event.KeeperState`: the session state an event was delivered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeeperState {
    Unknown,
    Disconnected,
    NoSyncConnected,
    SyncConnected,
    AuthFailed,
    ConnectedReadOnly,
    SaslAuthenticated,
    Expired,
    Closed,
}

impl KeeperState {
    pub fn from_code(code: i32) -> Option<KeeperState> {
        Some(match code {
            keeper_state::UNKNOWN => KeeperState::Unknown,
            keeper_state::DISCONNECTED => KeeperState::Disconnected,
            1 => KeeperState::NoSyncConnected,
            keeper_state::SYNC_CONNECTED => KeeperState::SyncConnected,
            keeper_state::AUTH_FAILED => KeeperState::AuthFailed,
            keeper_state::CONNECTED_READ_ONLY => KeeperState::ConnectedReadOnly,
            keeper_state::SASL_AUTHENTICATED => KeeperState::SaslAuthenticated,
            keeper_state::CLOSED => KeeperState::Closed,
            keeper_state::EXPIRED => KeeperState::Expired,
            _ => return None,
        })
    }

    pub fn code(self) -> i32 {
        match self {
            KeeperState::Unknown => keeper_state::UNKNOWN,
            KeeperState::Disconnected => keeper_state::DISCONNECTED,
            KeeperState::NoSyncConnected => 1,
            KeeperState::SyncConnected => keeper_state::SYNC_CONNECTED,
            KeeperState::AuthFailed => keeper_state::AUTH_FAILED,
            KeeperState::ConnectedReadOnly => keeper_state::CONNECTED_READ_ONLY,
            KeeperState::SaslAuthenticated => keeper_state::SASL_AUTHENTICATED,
            KeeperState::Expired => keeper_state::EXPIRED,
            KeeperState::Closed => keeper_state::CLOSED,
        }
    }
}

impl fmt::Display for KeeperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `Watcher.Event.EventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    None,
    NodeCreated,
    NodeDeleted,
    NodeDataChanged,
    NodeChildrenChanged,
    DataWatchRemoved,
    ChildWatchRemoved,
    PersistentWatchRemoved,
}

impl EventType {
    pub fn from_code(code: i32) -> Option<EventType> {
        Some(match code {
            event_type::NONE => EventType::None,
            event_type::NODE_CREATED => EventType::NodeCreated,
            event_type::NODE_DELETED => EventType::NodeDeleted,
            event_type::NODE_DATA_CHANGED => EventType::NodeDataChanged,
            event_type::NODE_CHILDREN_CHANGED => EventType::NodeChildrenChanged,
            event_type::DATA_WATCH_REMOVED => EventType::DataWatchRemoved,
            event_type::CHILD_WATCH_REMOVED => EventType::ChildWatchRemoved,
            event_type::PERSISTENT_WATCH_REMOVED => EventType::PersistentWatchRemoved,
            _ => return None,
        })
    }

    pub fn code(self) -> i32 {
        match self {
            EventType::None => event_type::NONE,
            EventType::NodeCreated => event_type::NODE_CREATED,
            EventType::NodeDeleted => event_type::NODE_DELETED,
            EventType::NodeDataChanged => event_type::NODE_DATA_CHANGED,
            EventType::NodeChildrenChanged => event_type::NODE_CHILDREN_CHANGED,
            EventType::DataWatchRemoved => event_type::DATA_WATCH_REMOVED,
            EventType::ChildWatchRemoved => event_type::CHILD_WATCH_REMOVED,
            EventType::PersistentWatchRemoved => event_type::PERSISTENT_WATCH_REMOVED,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One event: a watch that fired (path set), or a session state change (type `None`, no path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    pub event_type: EventType,
    pub state: KeeperState,
    /// The client path (chroot removed); `None` for session state events.
    pub path: Option<String>,
}

impl WatchedEvent {
    /// A session state event (type `None`, no path).
    pub fn state(state: KeeperState) -> WatchedEvent {
        WatchedEvent { event_type: EventType::None, state, path: None }
    }
}

/// `WatchedEvent.toString()`: `WatchedEvent state:SyncConnected type:None path:null`.
impl fmt::Display for WatchedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WatchedEvent state:{} type:{} path:{}",
            self.state,
            self.event_type,
            self.path.as_deref().unwrap_or("null")
        )
    }
}

/// `ZooKeeper.States`: the client's connection state, as zkCli's prompt shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum States {
    /// Looking for a server, or waiting for its ConnectResponse.
    Connecting,
    Connected,
    ConnectedReadOnly,
    /// Closed by `close()`, or the session expired. Terminal.
    Closed,
    /// The server refused an `addauth`. Terminal.
    AuthFailed,
}

impl States {
    /// Java's `isAlive()`: neither closed nor failed.
    pub fn is_alive(self) -> bool {
        !matches!(self, States::Closed | States::AuthFailed)
    }

    /// Java's `isConnected()`.
    pub fn is_connected(self) -> bool {
        matches!(self, States::Connected | States::ConnectedReadOnly)
    }
}

impl fmt::Display for States {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            States::Connecting => "CONNECTING",
            States::Connected => "CONNECTED",
            States::ConnectedReadOnly => "CONNECTEDREADONLY",
            States::Closed => "CLOSED",
            States::AuthFailed => "AUTH_FAILED",
        })
    }
}

/// `Watcher.WatcherType`: which watches removeWatches/checkWatches are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherType {
    Children,
    Data,
    Any,
    Persistent,
    PersistentRecursive,
}

impl WatcherType {
    pub fn code(self) -> i32 {
        match self {
            WatcherType::Children => watcher_type::CHILDREN,
            WatcherType::Data => watcher_type::DATA,
            WatcherType::Any => watcher_type::ANY,
            WatcherType::Persistent => watcher_type::PERSISTENT,
            WatcherType::PersistentRecursive => watcher_type::PERSISTENT_RECURSIVE,
        }
    }
}

/// `AddWatchMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddWatchMode {
    Persistent,
    PersistentRecursive,
}

impl AddWatchMode {
    pub fn code(self) -> i32 {
        match self {
            AddWatchMode::Persistent => add_watch_mode::PERSISTENT,
            AddWatchMode::PersistentRecursive => add_watch_mode::PERSISTENT_RECURSIVE,
        }
    }

    /// The Java enum constant name (`PERSISTENT`, `PERSISTENT_RECURSIVE`).
    pub fn name(self) -> &'static str {
        match self {
            AddWatchMode::Persistent => "PERSISTENT",
            AddWatchMode::PersistentRecursive => "PERSISTENT_RECURSIVE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_java() {
        let e = WatchedEvent::state(KeeperState::SyncConnected);
        assert_eq!(e.to_string(), "WatchedEvent state:SyncConnected type:None path:null");
        let e = WatchedEvent {
            event_type: EventType::NodeDataChanged,
            state: KeeperState::SyncConnected,
            path: Some("/a".into()),
        };
        assert_eq!(e.to_string(), "WatchedEvent state:SyncConnected type:NodeDataChanged path:/a");
        assert_eq!(States::AuthFailed.to_string(), "AUTH_FAILED");
    }

    #[test]
    fn codes_round_trip() {
        for c in [-1, 1, 2, 3, 4, 5, 6, 7] {
            assert_eq!(EventType::from_code(c).map(EventType::code), Some(c));
        }
        for c in [-112, -1, 0, 1, 3, 4, 5, 6, 7] {
            assert_eq!(KeeperState::from_code(c).map(KeeperState::code), Some(c));
        }
    }
}
