//! The watches a session has registered, by server path (Java's `ZKWatchManager` with one
//! default watcher): registered when a read that asked for a watch succeeds, dropped when a
//! one-shot watch fires (`materialize`), removed by removeWatches (`remove`), and replayed after a
//! reconnect as SetWatches/SetWatches2 batches (`ClientCnxn.primeConnection`).

use std::collections::BTreeSet;

use rzk_proto::{ErrorCode, Request, SetWatches, SetWatches2};

use crate::event::{EventType, WatcherType};

/// `ClientCnxn.SET_WATCHES_MAX_LENGTH`: path bytes per SetWatches packet (a batch may exceed it by
/// its last path, as in Java).
pub const SET_WATCHES_BATCH_BYTES_MAX: usize = 128 * 1024;

/// The kind of watch a request leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    Data,
    Exist,
    Child,
    Persistent,
    PersistentRecursive,
}

/// Registered watches by server path.
#[derive(Debug, Default, Clone)]
pub struct WatchRegistry {
    data: BTreeSet<String>,
    exist: BTreeSet<String>,
    child: BTreeSet<String>,
    persistent: BTreeSet<String>,
    recursive: BTreeSet<String>,
}

impl WatchRegistry {
    fn set_mut(&mut self, kind: WatchKind) -> &mut BTreeSet<String> {
        match kind {
            WatchKind::Data => &mut self.data,
            WatchKind::Exist => &mut self.exist,
            WatchKind::Child => &mut self.child,
            WatchKind::Persistent => &mut self.persistent,
            WatchKind::PersistentRecursive => &mut self.recursive,
        }
    }

    pub fn register(&mut self, kind: WatchKind, server_path: &str) {
        self.set_mut(kind).insert(server_path.to_owned());
    }

    pub fn contains_kind(&self, kind: WatchKind, server_path: &str) -> bool {
        match kind {
            WatchKind::Data => self.data.contains(server_path),
            WatchKind::Exist => self.exist.contains(server_path),
            WatchKind::Child => self.child.contains(server_path),
            WatchKind::Persistent => self.persistent.contains(server_path),
            WatchKind::PersistentRecursive => self.recursive.contains(server_path),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    /// Drops the one-shot watches an event fires and tells whether any watch wanted it
    /// (`ZKWatchManager.materialize`): Java delivers an event only to the watchers it finds.
    pub fn materialize(&mut self, event: EventType, server_path: &str) -> bool {
        let mut hit = false;
        match event {
            EventType::None => return true,
            EventType::NodeDataChanged | EventType::NodeCreated => {
                hit |= self.data.remove(server_path);
                hit |= self.exist.remove(server_path);
            }
            EventType::NodeChildrenChanged => {
                hit |= self.child.remove(server_path);
            }
            EventType::NodeDeleted => {
                hit |= self.data.remove(server_path);
                hit |= self.exist.remove(server_path);
                hit |= self.child.remove(server_path);
            }
            // Removal events are made by the client itself, never materialized from the server.
            EventType::DataWatchRemoved
            | EventType::ChildWatchRemoved
            | EventType::PersistentWatchRemoved => {
                return true;
            }
        }
        hit |= self.persistent.contains(server_path);
        hit |= self.ancestors_have_recursive(server_path);
        hit
    }

    fn ancestors_have_recursive(&self, server_path: &str) -> bool {
        let mut p = server_path;
        loop {
            if self.recursive.contains(p) {
                return true;
            }
            match rzk_proto::path::parent(p) {
                Some(parent) => p = parent,
                None => return false,
            }
        }
    }

    /// Java's `containsWatcher`: is there a watch of `wtype` on the path (persistent watches count
    /// for every type).
    pub fn contains(&self, wtype: WatcherType, server_path: &str) -> bool {
        let persistent = self.persistent.contains(server_path) || self.recursive.contains(server_path);
        persistent
            || match wtype {
                WatcherType::Children => self.child.contains(server_path),
                WatcherType::Data => self.data.contains(server_path) || self.exist.contains(server_path),
                WatcherType::Any => {
                    self.child.contains(server_path)
                        || self.data.contains(server_path)
                        || self.exist.contains(server_path)
                }
                WatcherType::Persistent | WatcherType::PersistentRecursive => false,
            }
    }

    /// `ZKWatchManager.removeWatcher` for all watchers of a path: after the server answered `rc`
    /// (or the request could not be sent, with `local` set), removes the watches of `wtype` and
    /// returns the removal events to deliver, or the error the call fails with.
    pub fn remove(
        &mut self,
        wtype: WatcherType,
        server_path: &str,
        local: bool,
        rc: i32,
    ) -> Result<Vec<EventType>, i32> {
        if !self.contains(wtype, server_path) {
            return Err(ErrorCode::NoWatcher.code());
        }
        if !local && rc != 0 {
            return Err(rc);
        }
        let (mut child, mut data, mut persistent) = (false, false, false);
        match wtype {
            WatcherType::Children => child = self.child.remove(server_path),
            WatcherType::Data => {
                data = self.data.remove(server_path);
                data |= self.exist.remove(server_path);
            }
            WatcherType::Any => {
                child = self.child.remove(server_path);
                data = self.data.remove(server_path);
                data |= self.exist.remove(server_path);
                persistent = self.persistent.remove(server_path);
                persistent |= self.recursive.remove(server_path);
            }
            // Java removes nothing for these types (only Children, Data and Any remove).
            WatcherType::Persistent | WatcherType::PersistentRecursive => {}
        }
        let mut events = Vec::new();
        if child {
            events.push(EventType::ChildWatchRemoved);
        }
        if data {
            events.push(EventType::DataWatchRemoved);
        }
        if persistent {
            events.push(EventType::PersistentWatchRemoved);
        }
        if events.is_empty() {
            return Err(ErrorCode::NoWatcher.code());
        }
        Ok(events)
    }

    /// The SetWatches (or, when persistent watches exist in a batch, SetWatches2) requests that
    /// re-register every watch after a reconnect, relative to `last_zxid`.
    pub fn set_watches_requests(&self, last_zxid: i64) -> Vec<Request> {
        let mut lists: [Vec<String>; 5] = Default::default();
        let sources = [&self.data, &self.exist, &self.child, &self.persistent, &self.recursive];
        let mut iters: Vec<_> = sources.iter().map(|s| s.iter()).collect();
        let mut out = Vec::new();
        let mut which = 0;
        loop {
            let mut batch_bytes = 0;
            while batch_bytes < SET_WATCHES_BATCH_BYTES_MAX {
                while which < iters.len() {
                    if let Some(p) = iters[which].next() {
                        lists[which].push(p.clone());
                        batch_bytes += p.len();
                        break;
                    }
                    which += 1;
                }
                if which == iters.len() {
                    break;
                }
            }
            if lists.iter().all(Vec::is_empty) {
                return out;
            }
            let [data, exist, child, persistent, recursive] = std::mem::take(&mut lists);
            out.push(if persistent.is_empty() && recursive.is_empty() {
                Request::SetWatches(SetWatches {
                    relative_zxid: last_zxid,
                    data_watches: data,
                    exist_watches: exist,
                    child_watches: child,
                })
            } else {
                Request::SetWatches2(SetWatches2 {
                    relative_zxid: last_zxid,
                    data_watches: data,
                    exist_watches: exist,
                    child_watches: child,
                    persistent_watches: persistent,
                    persistent_recursive_watches: recursive,
                })
            });
            if which == iters.len() {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_watches_fire_once_persistent_ones_stay() {
        let mut w = WatchRegistry::default();
        w.register(WatchKind::Data, "/a");
        w.register(WatchKind::PersistentRecursive, "/r");
        assert!(w.materialize(EventType::NodeDataChanged, "/a"));
        assert!(!w.materialize(EventType::NodeDataChanged, "/a"));
        assert!(w.materialize(EventType::NodeCreated, "/r/x/y"));
        assert!(w.materialize(EventType::NodeDeleted, "/r"));
        assert!(!w.materialize(EventType::NodeDeleted, "/other"));
    }

    #[test]
    fn remove_follows_zk_watch_manager() {
        let mut w = WatchRegistry::default();
        assert_eq!(w.remove(WatcherType::Any, "/a", false, 0), Err(-121));
        w.register(WatchKind::Child, "/a");
        w.register(WatchKind::Exist, "/a");
        assert_eq!(w.remove(WatcherType::Data, "/a", false, -4), Err(-4));
        assert_eq!(w.remove(WatcherType::Data, "/a", true, -4), Ok(vec![EventType::DataWatchRemoved]));
        assert_eq!(w.remove(WatcherType::Any, "/a", false, 0), Ok(vec![EventType::ChildWatchRemoved]));
        w.register(WatchKind::Persistent, "/p");
        // Children "contains" a persistent watch but removes only child watches: NoWatcher.
        assert_eq!(w.remove(WatcherType::Children, "/p", false, 0), Err(-121));
        assert_eq!(w.remove(WatcherType::Any, "/p", false, 0), Ok(vec![EventType::PersistentWatchRemoved]));
        assert!(w.is_empty());
    }

    #[test]
    fn set_watches_uses_v2_only_with_persistent_watches() {
        let mut w = WatchRegistry::default();
        assert!(w.set_watches_requests(5).is_empty());
        w.register(WatchKind::Data, "/a");
        w.register(WatchKind::Child, "/b");
        let reqs = w.set_watches_requests(5);
        assert!(matches!(&reqs[..], [Request::SetWatches(s)] if s.relative_zxid == 5
            && s.data_watches == ["/a"] && s.child_watches == ["/b"]));
        w.register(WatchKind::PersistentRecursive, "/r");
        assert!(matches!(&w.set_watches_requests(5)[..], [Request::SetWatches2(_)]));
    }

    #[test]
    fn set_watches_batches_big_lists() {
        let mut w = WatchRegistry::default();
        for i in 0..3000 {
            w.register(WatchKind::Data, &format!("/{i:0>100}"));
        }
        let reqs = w.set_watches_requests(0);
        assert_eq!(reqs.len(), 3);
        let total: usize =
            reqs.iter().map(|r| if let Request::SetWatches(s) = r { s.data_watches.len() } else { 0 }).sum();
        assert_eq!(total, 3000);
    }
}
