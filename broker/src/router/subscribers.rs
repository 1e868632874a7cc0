//! The subscribers of one exact filter: ordinary subscriptions by key, and
//! shared-subscription groups.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};

use smallvec::SmallVec;

use super::SubscriptionEntry;

/// Past this many subscriptions of one filter, a key index keeps subscribe
/// and unsubscribe O(1); below it a scan of the dense array is faster.
const INDEX_FROM: usize = 16;

/// Subscriptions by key in a dense array: matching iterates it without
/// hashing, and the first entry is inline, which spares matching a cache
/// miss on the most common filter, the one with a single subscriber.
#[derive(Debug)]
pub(super) struct Entries<K> {
    dense: SmallVec<[(K, SubscriptionEntry); 1]>,
    /// Position of each key in `dense`, only past [`INDEX_FROM`] entries.
    index: Option<HashMap<K, usize>>,
}

impl<K> Default for Entries<K> {
    fn default() -> Self {
        Self {
            dense: SmallVec::new(),
            index: None,
        }
    }
}

impl<K> Entries<K> {
    pub(super) fn is_empty(&self) -> bool {
        self.dense.is_empty()
    }

    pub(super) fn iter(&self) -> std::slice::Iter<'_, (K, SubscriptionEntry)> {
        self.dense.iter()
    }
}

impl<K: Clone + Eq + Hash> Entries<K> {
    fn position(&self, key: &K) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.dense.iter().position(|(k, _)| k == key),
        }
    }

    fn get(&self, key: &K) -> Option<&SubscriptionEntry> {
        self.position(key).map(|position| &self.dense[position].1)
    }

    /// Add or replace `key`'s entry; true if it replaced one.
    fn insert(&mut self, key: K, entry: SubscriptionEntry) -> bool {
        if let Some(position) = self.position(&key) {
            self.dense[position].1 = entry;
            return true;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.dense.len());
        }
        self.dense.push((key, entry));
        if self.index.is_none() && self.dense.len() > INDEX_FROM {
            let index = self.dense.iter().enumerate();
            self.index = Some(index.map(|(i, (k, _))| (k.clone(), i)).collect());
        }
        false
    }

    /// Remove `key`'s entry; true if there was one. O(1): the last entry
    /// moves into the gap, as order means nothing here.
    fn remove(&mut self, key: &K) -> bool {
        let Some(position) = self.position(key) else {
            return false;
        };
        self.dense.swap_remove(position);
        if let Some(index) = &mut self.index {
            index.remove(key);
            if let Some((moved, _)) = self.dense.get(position) {
                index.insert(moved.clone(), position);
            }
        }
        true
    }
}

/// The subscribers of one exact filter.
#[derive(Debug)]
pub(super) struct Subscribers<K> {
    /// Ordinary subscriptions by key.
    pub(super) direct: Entries<K>,
    /// `$share/{group}/...` groups at this filter; few per filter, so a
    /// vector searched by name.
    pub(super) shared: Vec<SharedGroup<K>>,
}

/// A shared-subscription group: each matching message goes to one member.
#[derive(Debug)]
pub(super) struct SharedGroup<K> {
    /// The ShareName.
    pub(super) name: Box<str>,
    /// The members; never empty (an emptied group is removed).
    pub(super) members: Entries<K>,
    /// Round-robin cursor. Atomic so that matching works through `&self`
    /// under a read lock; `Relaxed` is enough, as it only spreads load.
    pub(super) next: AtomicUsize,
}

impl<K> Default for Subscribers<K> {
    fn default() -> Self {
        Self {
            direct: Entries::default(),
            shared: Vec::new(),
        }
    }
}

impl<K> Subscribers<K> {
    /// True when no subscription is left.
    pub(super) fn is_empty(&self) -> bool {
        self.direct.is_empty() && self.shared.is_empty()
    }
}

impl<K: Clone + Eq + Hash> Subscribers<K> {
    pub(super) fn group(&self, name: &str) -> Option<&SharedGroup<K>> {
        self.shared.iter().find(|group| &*group.name == name)
    }

    /// `key`'s entry here, directly or in `group`.
    pub(super) fn get(&self, key: &K, group: Option<&str>) -> Option<&SubscriptionEntry> {
        match group {
            None => self.direct.get(key),
            Some(group) => self.group(group)?.members.get(key),
        }
    }

    /// Add or replace `key`'s entry; true if it replaced one.
    pub(super) fn insert(&mut self, key: K, group: Option<&str>, entry: SubscriptionEntry) -> bool {
        let members = match group {
            None => &mut self.direct,
            Some(name) => {
                let index = match self.shared.iter().position(|g| &*g.name == name) {
                    Some(index) => index,
                    None => {
                        self.shared.push(SharedGroup {
                            name: name.into(),
                            members: Entries::default(),
                            next: AtomicUsize::new(0),
                        });
                        self.shared.len() - 1
                    }
                };
                &mut self.shared[index].members
            }
        };
        members.insert(key, entry)
    }

    /// Remove `key`'s entry, directly or from `group` (dropping the group
    /// when it empties); true if there was one.
    pub(super) fn remove(&mut self, key: &K, group: Option<&str>) -> bool {
        match group {
            None => self.direct.remove(key),
            Some(name) => {
                let Some(index) = self.shared.iter().position(|g| &*g.name == name) else {
                    return false;
                };
                let removed = self.shared[index].members.remove(key);
                if self.shared[index].members.is_empty() {
                    self.shared.swap_remove(index);
                }
                removed
            }
        }
    }
}

impl<K> SharedGroup<K> {
    /// The member that gets the next message, round-robin.
    pub(super) fn pick(&self) -> Option<(&K, &SubscriptionEntry)> {
        let len = self.members.dense.len();
        if len == 0 {
            return None;
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.members
            .dense
            .get(turn % len)
            .map(|(key, entry)| (key, entry))
    }
}
