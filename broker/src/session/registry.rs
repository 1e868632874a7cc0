//! [`Registry`]: every session by client id, connected or not.
//!
//! The key is the session's own `client_id`, so an entry is one pointer:
//! a map keyed by a separate `ByteString` would spend 32 more bytes per
//! bucket on a copy of what the session already holds (issue 9: an idle
//! connection may cost at most 2 KiB, and the registry is part of it).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::SessionShared;

/// A registry entry: hashed and compared by client id.
#[derive(Debug, Clone)]
struct Entry(Arc<SessionShared>);

impl Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        &self.0.client_id
    }
}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Borrow::<str>::borrow(self).hash(state);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0.client_id == other.0.client_id
    }
}

impl Eq for Entry {}

/// Sessions by client id.
#[derive(Debug, Default)]
pub struct Registry(HashSet<Entry>);

impl Registry {
    /// The session of `client_id`.
    pub fn get(&self, client_id: &str) -> Option<&Arc<SessionShared>> {
        self.0.get(client_id).map(|e| &e.0)
    }

    /// Whether `client_id` has a session.
    pub fn contains_key(&self, client_id: &str) -> bool {
        self.0.contains(client_id)
    }

    /// Add `session` under its client id, replacing any other.
    pub fn insert(&mut self, session: Arc<SessionShared>) {
        self.0.replace(Entry(session));
    }

    /// Remove the session of `client_id`.
    pub fn remove(&mut self, client_id: &str) -> Option<Arc<SessionShared>> {
        self.0.take(client_id).map(|e| e.0)
    }

    /// Every session, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &Arc<SessionShared>> {
        self.0.iter().map(|e| &e.0)
    }

    /// Every client id with its session.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<SessionShared>)> {
        self.values().map(|s| (&*s.client_id, s))
    }

    /// How many sessions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::queue::QueueLimits;

    fn session(id: &str) -> Arc<SessionShared> {
        let limits = QueueLimits {
            messages: 10,
            bytes: 0,
        };
        Arc::new(SessionShared::new(id.into(), limits, 0))
    }

    #[test]
    fn sessions_are_found_by_their_own_client_id() {
        let mut r = Registry::default();
        let a = session("a");
        r.insert(Arc::clone(&a));
        r.insert(session("b"));
        assert_eq!(r.len(), 2);
        assert!(r.get("a").is_some_and(|s| Arc::ptr_eq(s, &a)));
        // A successor with the same client id replaces it.
        let a2 = session("a");
        r.insert(Arc::clone(&a2));
        assert_eq!(r.len(), 2);
        assert!(r.get("a").is_some_and(|s| Arc::ptr_eq(s, &a2)));
        assert!(r.remove("a").is_some_and(|s| Arc::ptr_eq(&s, &a2)));
        assert!(!r.contains_key("a") && r.contains_key("b"));
        assert_eq!(r.iter().map(|(id, _)| id).collect::<Vec<_>>(), ["b"]);
    }
}
