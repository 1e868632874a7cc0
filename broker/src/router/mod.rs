//! The subscription tree: which sessions a PUBLISH goes to, and with what.
//!
//! [`SubscriptionTree`] is a trie keyed by topic level. Each node has a map
//! of literal children plus separate `+` and `#` slots, and holds the
//! subscribers of the exact filter that leads to it, so matching a topic of
//! `n` levels visits at most the nodes whose filters can match it instead
//! of every subscription. It is generic over the subscriber key `K` (a
//! cheap session id or `Arc` handle) and knows nothing about sessions,
//! sockets or messages.
//!
//! Matching takes `&self` (shared-subscription round-robin uses an atomic
//! counter) so that publishers can route under a read lock while SUBSCRIBE
//! and UNSUBSCRIBE take the write lock.
//!
//! Every walk over the trie is iterative: filters and topics can have tens
//! of thousands of levels, and recursion that deep would overflow a task's
//! stack on peer input.

use std::hash::Hash;
use std::num::NonZeroU32;

use courtier_proto::packet::SubscriptionOptions;
use courtier_proto::{QoS, TopicFilter, TopicName};

mod children;
mod matching;
mod node;
mod subscribers;
#[cfg(test)]
mod tests;

use children::LevelHasher;
use node::Node;

/// One subscription as the tree stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionEntry {
    /// The options the subscriber asked for (maximum QoS, No Local, Retain
    /// As Published, Retain Handling).
    pub options: SubscriptionOptions,
    /// The v5 Subscription Identifier of the SUBSCRIBE that made it, which
    /// is carried on every matching PUBLISH (3.3.4).
    pub identifier: Option<NonZeroU32>,
}

/// Where one matching PUBLISH goes: one per subscriber key for its
/// ordinary subscriptions, plus one per matching shared-subscription group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<K> {
    /// The subscriber.
    pub key: K,
    /// The highest maximum QoS among the key's matching subscriptions; the
    /// broker delivers at the lower of this and the PUBLISH's QoS (3.3.4).
    pub qos: QoS,
    /// True if any of the matching subscriptions has Retain As Published.
    pub retain_as_published: bool,
    /// The identifiers of every matching subscription that has one, to be
    /// sent as repeated Subscription Identifier properties (3.3.4). Empty,
    /// and then not allocated, when none has one.
    pub subscription_identifiers: Vec<NonZeroU32>,
    /// True when this delivery comes from a shared-subscription group: it
    /// is never merged with the key's other subscriptions, because the spec
    /// delivers a shared and an ordinary match separately (4.8.2).
    pub shared: bool,
}

/// Every subscription of every session, organised for matching.
#[derive(Debug)]
pub struct SubscriptionTree<K> {
    /// The level before the first: its children are first levels.
    root: Node<K>,
    /// The number of subscriptions, shared memberships included.
    len: usize,
    /// Hashes the levels of every node's table (see [`LevelHasher`]).
    hasher: LevelHasher,
}

impl<K> Default for SubscriptionTree<K> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
            hasher: LevelHasher::default(),
        }
    }
}

/// The share group of a filter (if shared) and the filter it matches with.
fn split_shared(filter: &TopicFilter) -> (Option<&str>, &str) {
    match filter.shared() {
        Some(shared) => (Some(shared.group), shared.filter),
        None => (None, filter.as_str()),
    }
}

impl<K: Clone + Eq + Hash> SubscriptionTree<K> {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribe `key` to `filter`. A `$share/{group}/{f}` filter makes
    /// `key` a member of `group` at `f`. Returns true if `key` already had a
    /// subscription to this exact filter, which `entry` then replaces
    /// (3.8.4: a repeated SUBSCRIBE replaces, and Retain Handling 1 sends
    /// retained messages only when it did not).
    pub fn subscribe(&mut self, key: K, filter: &TopicFilter, entry: SubscriptionEntry) -> bool {
        let (group, matching) = split_shared(filter);
        let replaced = self
            .root
            .slot_or_insert(&self.hasher, matching)
            .insert(key, group, entry);
        if !replaced {
            self.len += 1;
        }
        replaced
    }

    /// Remove `key`'s subscription to exactly `filter`, and the trie nodes
    /// that only existed for it. Returns whether there was one (a v5
    /// UNSUBACK says 0x11 No subscription existed otherwise).
    pub fn unsubscribe(&mut self, key: &K, filter: &TopicFilter) -> bool {
        let (group, matching) = split_shared(filter);
        let Some(slot) = self.root.slot_mut(&self.hasher, matching) else {
            return false;
        };
        if !slot.remove(key, group) {
            return false;
        }
        self.len -= 1;
        if slot.is_empty() {
            self.root.prune(&self.hasher, matching);
        }
        true
    }

    /// Remove every subscription of `key` among `filters` (the session keeps
    /// its own list, so the tree needs no reverse index). Returns how many
    /// existed.
    pub fn unsubscribe_all<'f>(
        &mut self,
        key: &K,
        filters: impl IntoIterator<Item = &'f TopicFilter>,
    ) -> usize {
        filters
            .into_iter()
            .filter(|filter| self.unsubscribe(key, filter))
            .count()
    }

    /// `key`'s subscription to exactly `filter`, if it has one.
    pub fn get(&self, key: &K, filter: &TopicFilter) -> Option<&SubscriptionEntry> {
        let (group, matching) = split_shared(filter);
        self.root.slot(&self.hasher, matching)?.get(key, group)
    }

    /// Fill `out` (cleared first) with where a PUBLISH to `topic` goes.
    ///
    /// - One [`Delivery`] per key with matching ordinary subscriptions,
    ///   merging overlapping ones: the highest QoS, Retain As Published if
    ///   any has it, and every Subscription Identifier.
    /// - A subscription with No Local is skipped when its key is
    ///   `publisher` ([MQTT-3.8.3-3]).
    /// - One [`Delivery`] per matching shared group, to one member chosen
    ///   round-robin (4.8.2); a shared delivery is separate even if its key
    ///   also subscribes directly. No Local is not applied to shared
    ///   subscriptions: the broker refuses it on them ([MQTT-3.8.3-4]).
    /// - Topics starting with `$` are not matched by filters whose first
    ///   level is a wildcard ([MQTT-4.7.2-1]).
    /// - The alias-only empty topic matches nothing: resolve aliases first.
    ///
    /// Allocates nothing beyond `out`'s growth and the identifier vectors,
    /// except for a dedupe index when one key's matches must be merged
    /// across many deliveries, and for topics of more than 16 levels or
    /// more than 16 matching branches at one level (the walk's inline
    /// buffers then spill to the heap).
    pub fn matches(&self, topic: &TopicName, publisher: Option<&K>, out: &mut Vec<Delivery<K>>) {
        out.clear();
        matching::walk(&self.root, &self.hasher, topic.as_str(), publisher, out);
    }

    /// The number of subscriptions, shared-group memberships included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no subscription at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
