//! `WatchManager`: which watchers (client connections) wait on which paths, and in which mode.
//! The tree keeps two: data watches (exists, getData) and child watches (getChildren); persistent
//! watches sit in both. A watcher has one mode per path per manager, and a later registration
//! replaces the earlier mode, as in ZooKeeper's `WatcherModeManager`.
//!
//! Triggering follows `WatchManager.triggerWatch`: the path itself matches every mode, and if any
//! recursive watch exists, every ancestor is checked for recursive watches, which never receive
//! NodeChildrenChanged. Standard watches are removed when they fire. Each watcher gets at most one
//! event per trigger.
//!
//! A watched path is stored once (`Arc<str>`) and shared by every watcher's entry, so firing a
//! path that 10,000 sessions watch compares and drops one shared string, not 10,000 copies.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A watcher: the connection that registered it.
pub type WatcherId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchMode {
    Standard,
    Persistent,
    PersistentRecursive,
}

impl WatchMode {
    pub fn is_persistent(self) -> bool {
        self != WatchMode::Standard
    }
    pub fn is_recursive(self) -> bool {
        self == WatchMode::PersistentRecursive
    }
}

#[derive(Debug, Default, Clone)]
pub struct WatchManager {
    by_path: HashMap<Arc<str>, BTreeMap<WatcherId, WatchMode>>,
    by_watcher: HashMap<WatcherId, BTreeSet<Arc<str>>>,
    recursive: usize,
}

impl WatchManager {
    pub fn add(&mut self, path: &str, watcher: WatcherId, mode: WatchMode) {
        let key = match self.by_path.get_key_value(path) {
            Some((k, _)) => k.clone(),
            None => Arc::from(path),
        };
        let old = self.by_path.entry(key.clone()).or_default().insert(watcher, mode);
        if old.is_some_and(|m| m.is_recursive()) {
            self.recursive -= 1;
        }
        if mode.is_recursive() {
            self.recursive += 1;
        }
        self.by_watcher.entry(watcher).or_default().insert(key);
    }

    /// Fires `path`: returns the watchers to notify (in id order), removing one-shot watches.
    /// `children_changed` marks NodeChildrenChanged, which recursive watches ignore.
    pub fn trigger(&mut self, path: &str, children_changed: bool) -> BTreeSet<WatcherId> {
        let mut fired = BTreeSet::new();
        if self.by_path.is_empty() {
            // No watches at all (recursive ones are in `by_path` too): the common write.
            return fired;
        }
        if let Some(ws) = self.by_path.get(path)
            && !ws.values().any(|m| m.is_persistent())
        {
            // Only one-shot watches (the common case): all fire and the path is forgotten whole.
            if let Some(ws) = self.by_path.remove(path) {
                // In id order already: built in bulk.
                fired = ws.keys().copied().collect();
                for w in ws.into_keys() {
                    self.forget_path(w, path);
                }
            }
        } else if let Some(ws) = self.by_path.get_mut(path) {
            let mut removed = Vec::new();
            ws.retain(|w, mode| {
                if mode.is_recursive() {
                    if !children_changed {
                        fired.insert(*w);
                    }
                    true
                } else {
                    fired.insert(*w);
                    if !mode.is_persistent() {
                        removed.push(*w);
                    }
                    mode.is_persistent()
                }
            });
            if ws.is_empty() {
                self.by_path.remove(path);
            }
            for w in removed {
                self.forget_path(w, path);
            }
        }
        if self.recursive > 0 && !children_changed {
            let mut p = path;
            while let Some(parent) = rzk_proto::path::parent(p) {
                if let Some(ws) = self.by_path.get(parent) {
                    fired.extend(ws.iter().filter(|(_, m)| m.is_recursive()).map(|(w, _)| *w));
                }
                p = parent;
            }
        }
        fired
    }

    fn forget_path(&mut self, watcher: WatcherId, path: &str) {
        if let Some(paths) = self.by_watcher.get_mut(&watcher) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
    }

    /// Removes one watcher's watch on one path (removeWatches). False if it had none.
    pub fn remove(&mut self, path: &str, watcher: WatcherId) -> bool {
        let Some(ws) = self.by_path.get_mut(path) else { return false };
        let Some(mode) = ws.remove(&watcher) else { return false };
        if mode.is_recursive() {
            self.recursive -= 1;
        }
        if ws.is_empty() {
            self.by_path.remove(path);
        }
        self.forget_path(watcher, path);
        true
    }

    /// Removes every watch of a watcher (its connection closed).
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        let Some(paths) = self.by_watcher.remove(&watcher) else { return };
        for p in paths {
            if let Some(ws) = self.by_path.get_mut(&p) {
                if ws.remove(&watcher).is_some_and(|m| m.is_recursive()) {
                    self.recursive -= 1;
                }
                if ws.is_empty() {
                    self.by_path.remove(&p);
                }
            }
        }
    }

    /// `containsWatcher` as ZooKeeper 3.8 answers checkWatches: at the path itself any watcher
    /// counts (sic), and a recursive registration of this watcher on the path counts too.
    pub fn contains(&self, path: &str, watcher: WatcherId) -> bool {
        let ws = self.by_path.get(path);
        let mode = ws.and_then(|ws| ws.get(&watcher)).copied();
        ws.is_some() || mode.is_some_and(|m| m.is_recursive())
    }

    pub fn mode_of(&self, path: &str, watcher: WatcherId) -> Option<WatchMode> {
        self.by_path.get(path).and_then(|ws| ws.get(&watcher)).copied()
    }

    /// Number of (path, watcher) pairs.
    pub fn count(&self) -> usize {
        self.by_path.values().map(|w| w.len()).sum()
    }

    pub fn path_count(&self) -> usize {
        self.by_path.len()
    }

    pub fn watcher_count(&self) -> usize {
        self.by_watcher.len()
    }

    /// Paths by watcher (`wchc`).
    pub fn by_watcher(&self) -> &HashMap<WatcherId, BTreeSet<Arc<str>>> {
        &self.by_watcher
    }

    /// Watchers by path (`wchp`).
    pub fn by_path(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = &WatcherId>)> {
        self.by_path.iter().map(|(p, ws)| (&**p, ws.keys()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_watches_fire_once() {
        let mut m = WatchManager::default();
        m.add("/a", 1, WatchMode::Standard);
        assert_eq!(m.trigger("/a", false), BTreeSet::from([1]));
        assert!(m.trigger("/a", false).is_empty());
        assert_eq!(m.count(), 0);
        assert!(m.by_watcher().is_empty());
    }

    #[test]
    fn a_path_with_many_one_shot_watchers_fires_them_all_and_is_forgotten() {
        let mut m = WatchManager::default();
        for w in (1..=100).rev() {
            m.add("/a", w, WatchMode::Standard);
        }
        m.add("/b", 7, WatchMode::Standard);
        assert_eq!(m.trigger("/a", false), (1..=100).collect());
        assert_eq!((m.count(), m.path_count(), m.watcher_count()), (1, 1, 1));
        assert_eq!(m.by_watcher()[&7].iter().map(|p| &**p).collect::<Vec<_>>(), ["/b"]);
        // One persistent watcher among them: the one-shot ones go, it stays.
        m.add("/a", 1, WatchMode::Standard);
        m.add("/a", 2, WatchMode::Persistent);
        assert_eq!(m.trigger("/a", false), BTreeSet::from([1, 2]));
        assert_eq!(m.trigger("/a", false), BTreeSet::from([2]));
        assert_eq!((m.count(), m.watcher_count()), (2, 2));
    }

    #[test]
    fn recursive_watches_see_descendants_but_not_child_changes() {
        let mut m = WatchManager::default();
        m.add("/a", 1, WatchMode::PersistentRecursive);
        m.add("/a/b", 2, WatchMode::Persistent);
        assert_eq!(m.trigger("/a/b/c", false), BTreeSet::from([1]));
        assert_eq!(m.trigger("/a/b", false), BTreeSet::from([1, 2]));
        assert_eq!(m.trigger("/a/b", true), BTreeSet::from([2]));
        assert_eq!(m.trigger("/a", true), BTreeSet::new());
        assert_eq!(m.count(), 2);
    }

    #[test]
    fn later_registration_replaces_the_mode() {
        let mut m = WatchManager::default();
        m.add("/a", 1, WatchMode::PersistentRecursive);
        m.add("/a", 1, WatchMode::Standard);
        assert_eq!(m.mode_of("/a", 1), Some(WatchMode::Standard));
        assert!(m.trigger("/a/b", false).is_empty());
        m.remove_watcher(1);
        assert_eq!(m.count(), 0);
    }
}
