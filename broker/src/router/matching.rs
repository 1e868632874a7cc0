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

/// Pending branches of the walk, as (node, index of its next level). Each
/// level adds at most one (the `+` branch beside the literal one).
type Stack<'t, K> = SmallVec<[(&'t Node<K>, usize); 16]>;

/// Collect where `topic` goes into `out` (already cleared).
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
    let mut stack: Stack<'_, K> = SmallVec::new();
    // The root alone is subject to the `$` rule: first-level wildcards do
    // not match topics starting with `$` ([MQTT-4.7.2-1]).
    let dollar = topic.starts_with('$');
    let mut pending = Some((root, 0));
    while let Some((node, depth)) = pending.take().or_else(|| stack.pop()) {
        let wildcards = !(dollar && depth == 0);
        // `#` matches this level and everything below it, including
        // nothing below it (`a/#` matches `a`).
        if wildcards && let Some(hash) = &node.hash {
            collector.collect(hash);
        }
        let Some(&(level, hash)) = levels.get(depth) else {
            if let Some(subs) = &node.subs {
                collector.collect(subs);
            }
            continue;
        };
        if wildcards && let Some(plus) = &node.plus {
            stack.push((plus, depth + 1));
        }
        if let Some(child) = node.literal(level, hash) {
            pending = Some((child, depth + 1));
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
