//! The hot path: walking the trie for one topic and merging the matches
//! into one delivery per subscriber.

use std::collections::HashMap;
use std::hash::Hash;

use smallvec::SmallVec;

use super::children::{LevelHasher, level_hash};
use super::node::Node;
use super::subscribers::Subscribers;
use super::{Delivery, SubscriptionEntry};

/// Up to this many deliveries, a key is looked up by a linear scan of the
/// output; past it, a hash index is built once for the rest of the call.
/// Small fan-outs are the common case and a scan of a few cache lines beats
/// hashing.
const LINEAR_SCAN_LIMIT: usize = 32;

/// Topic levels with their hashes, computed once per call. 16 inline slots
/// cover realistic topics; deeper ones spill to the heap.
type Levels<'p> = SmallVec<[(&'p str, u64); 16]>;

/// The nodes reached at one depth of the walk. Usually a handful (the
/// literal path and a few `+` branches), so they stay inline.
type Frontier<'t, K> = SmallVec<[&'t Node<K>; 16]>;

/// Collect where `topic` goes into `out` (already cleared).
///
/// Breadth-first, one topic level at a time: the lookups of one level are
/// independent of each other, so the processor overlaps their cache misses,
/// which is where matching spends its time.
pub(super) fn walk<K: Clone + Eq + Hash>(
    root: &Node<K>,
    hasher: &LevelHasher,
    topic: &str,
    publisher: Option<&K>,
    out: &mut Vec<Delivery<K>>,
) {
    if topic.is_empty() {
        return;
    }
    // Hashed once here, then every node's table is probed with the hash.
    let levels: Levels<'_> = topic
        .split('/')
        .map(|level| (level, level_hash(hasher, level)))
        .collect();
    let mut collector = Collector {
        out,
        publisher,
        direct_nodes: 0,
        index: None,
    };
    // The root alone is subject to the `$` rule: first-level wildcards do
    // not match topics starting with `$` ([MQTT-4.7.2-1]).
    let dollar = topic.starts_with('$');
    let mut a: Frontier<'_, K> = SmallVec::new();
    let mut b: Frontier<'_, K> = SmallVec::new();
    // Swapping the references, not the vectors, which are 144 bytes each.
    let (mut frontier, mut next) = (&mut a, &mut b);
    frontier.push(root);
    for (depth, &(level, hash)) in levels.iter().enumerate() {
        let wildcards = !(dollar && depth == 0);
        for &node in frontier.iter() {
            if wildcards {
                // `#` matches this level and everything below it.
                if let Some(hash) = &node.hash {
                    collector.collect(hash);
                }
                if let Some(plus) = &node.plus {
                    next.push(plus);
                }
            }
            if let Some(child) = node.literal(level, hash) {
                next.push(child);
            }
        }
        if next.is_empty() {
            return;
        }
        frontier.clear();
        std::mem::swap(&mut frontier, &mut next);
    }
    // Every level consumed: the filters ending here match, and so do those
    // ending in `#` here, which also matches its parent (`a/#` matches `a`).
    for &node in frontier.iter() {
        if let Some(hash) = &node.hash {
            collector.collect(hash);
        }
        if let Some(subs) = &node.subs {
            collector.collect(subs);
        }
    }
}

/// Turns matched subscribers into deliveries, merging per key.
struct Collector<'o, 'p, K> {
    out: &'o mut Vec<Delivery<K>>,
    publisher: Option<&'p K>,
    /// How many nodes' ordinary subscribers are in `out`. While it is 0 no
    /// key can repeat (a node holds each key once), so the first node's
    /// subscribers — often the whole fan-out — are pushed without lookups.
    direct_nodes: usize,
    /// Key to position in `out` of its ordinary delivery, built lazily past
    /// [`LINEAR_SCAN_LIMIT`].
    index: Option<HashMap<K, usize>>,
}

impl<K: Clone + Eq + Hash> Collector<'_, '_, K> {
    fn collect(&mut self, subs: &Subscribers<K>) {
        if !subs.direct.is_empty() {
            let merge = self.direct_nodes > 0;
            self.direct_nodes += 1;
            for (key, entry) in subs.direct.iter() {
                if entry.options.no_local && self.publisher == Some(key) {
                    continue;
                }
                if merge {
                    self.merge(key, entry);
                } else {
                    self.out.push(delivery(key, entry, false));
                }
            }
        }
        for group in &subs.shared {
            if let Some((key, entry)) = group.pick() {
                self.out.push(delivery(key, entry, true));
            }
        }
    }

    /// Fold `entry` into `key`'s ordinary delivery, or start one.
    fn merge(&mut self, key: &K, entry: &SubscriptionEntry) {
        if self.index.is_none() && self.out.len() > LINEAR_SCAN_LIMIT {
            let index = self
                .out
                .iter()
                .enumerate()
                .filter(|(_, d)| !d.shared)
                .map(|(position, d)| (d.key.clone(), position))
                .collect();
            self.index = Some(index);
        }
        let found = match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.out.iter().position(|d| !d.shared && d.key == *key),
        };
        match found {
            Some(position) => {
                let d = &mut self.out[position];
                d.qos = d.qos.max(entry.options.qos);
                d.retain_as_published |= entry.options.retain_as_published;
                d.subscription_identifiers.extend(entry.identifier);
            }
            None => {
                if let Some(index) = &mut self.index {
                    index.insert(key.clone(), self.out.len());
                }
                self.out.push(delivery(key, entry, false));
            }
        }
    }
}

fn delivery<K: Clone>(key: &K, entry: &SubscriptionEntry, shared: bool) -> Delivery<K> {
    Delivery {
        key: key.clone(),
        qos: entry.options.qos,
        retain_as_published: entry.options.retain_as_published,
        subscription_identifiers: match entry.identifier {
            Some(id) => vec![id],
            None => Vec::new(),
        },
        shared,
    }
}
