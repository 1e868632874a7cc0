//! [`Subscriptions`]: a session's subscriptions, mirrored from the tree.
//!
//! Every session carries one, and most idle clients (and every client
//! before its first SUBSCRIBE) have none: the map is boxed and made on
//! first insert, so an empty one costs a pointer, not a hash table's 48
//! bytes (issue 9: at most 2 KiB per idle connection).

use std::collections::HashMap;
use std::collections::hash_map::Iter;

use courtier_proto::TopicFilter;

use crate::router::SubscriptionEntry;

type Map = HashMap<TopicFilter, SubscriptionEntry>;

/// Filters with their options and identifier.
#[derive(Debug, Default)]
pub struct Subscriptions(Option<Box<Map>>);

impl Subscriptions {
    /// How many.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |m| m.len())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `filter` is held.
    pub fn contains_key(&self, filter: &TopicFilter) -> bool {
        self.0.as_ref().is_some_and(|m| m.contains_key(filter))
    }

    /// Add or replace `filter`'s entry, returning the previous one.
    pub fn insert(
        &mut self,
        filter: TopicFilter,
        entry: SubscriptionEntry,
    ) -> Option<SubscriptionEntry> {
        self.0.get_or_insert_default().insert(filter, entry)
    }

    /// Remove `filter`, returning its entry; the map goes with the last one.
    pub fn remove(&mut self, filter: &TopicFilter) -> Option<SubscriptionEntry> {
        let map = self.0.as_mut()?;
        let removed = map.remove(filter);
        if map.is_empty() {
            self.0 = None;
        }
        removed
    }

    /// Every filter with its entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&TopicFilter, &SubscriptionEntry)> {
        self.0.iter().flat_map(|m| m.iter())
    }

    /// Every filter.
    pub fn keys(&self) -> impl Iterator<Item = &TopicFilter> {
        self.iter().map(|(f, _)| f)
    }

    /// Take them all out.
    pub fn take_all(&mut self) -> Map {
        self.0.take().map_or_else(Map::new, |m| *m)
    }
}

impl<'a> IntoIterator for &'a Subscriptions {
    type Item = (&'a TopicFilter, &'a SubscriptionEntry);
    type IntoIter =
        std::iter::Flatten<std::option::IntoIter<Iter<'a, TopicFilter, SubscriptionEntry>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.as_deref().map(Map::iter).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_costs_a_pointer_and_the_map_comes_and_goes() {
        assert_eq!(std::mem::size_of::<Subscriptions>(), 8);
        let mut subs = Subscriptions::default();
        let f = TopicFilter::new("maMaison/#").expect("filter");
        let entry = SubscriptionEntry {
            options: Default::default(),
            identifier: None,
        };
        assert!(subs.is_empty() && !subs.contains_key(&f));
        assert!(subs.insert(f.clone(), entry).is_none());
        assert_eq!(subs.len(), 1);
        assert_eq!(subs.keys().collect::<Vec<_>>(), [&f]);
        assert_eq!((&subs).into_iter().count(), 1);
        assert!(subs.remove(&f).is_some());
        assert!(subs.0.is_none(), "the last removal frees the map");
        subs.insert(f.clone(), entry);
        assert_eq!(subs.take_all().len(), 1);
        assert!(subs.is_empty());
    }
}
