//! Retained messages: the latest retained PUBLISH per topic, found by filter
//! when a subscription is made (3.3.1.3).
//!
//! [`RetainedStore`] is a trie keyed by topic level, so a wildcard filter
//! visits only the topics it can match rather than every retained topic. It
//! is generic over the message `M` (the broker stores an `Arc`'d PUBLISH)
//! and does no I/O. Durability (issue 7) sits behind the same narrow
//! interface: a persistent store writes through [`RetainedStore::set`] and
//! [`RetainedStore::remove`] and rebuilds the trie at start-up by calling
//! `set` for each stored message.
//!
//! Walks are iterative, like the subscription tree's: a topic can have tens
//! of thousands of levels and any publisher can retain one.

use std::collections::HashMap;

use courtier_proto::{TopicFilter, TopicName};
use smallvec::SmallVec;

/// The retained message of every topic that has one.
#[derive(Debug)]
pub struct RetainedStore<M> {
    /// The level before the first; it never holds a message itself.
    root: Node<M>,
    /// The number of topics with a retained message.
    len: usize,
}

#[derive(Debug)]
struct Node<M> {
    /// Children by level (an empty level is the key `""`).
    children: HashMap<Box<str>, Node<M>>,
    /// The retained message of the topic that ends here.
    message: Option<M>,
}

impl<M> Default for Node<M> {
    fn default() -> Self {
        Self {
            children: HashMap::new(),
            message: None,
        }
    }
}

impl<M> Default for RetainedStore<M> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }
}

/// Work left in a [`RetainedStore::matching`] walk.
enum Frame<'t, 'f, M> {
    /// Match the rest of the filter's levels (`None`: all consumed) here.
    Filter(&'t Node<M>, Option<&'f str>),
    /// Everything at and below this node matches (under a `#`).
    Subtree(&'t Node<M>),
}

impl<M: Clone> RetainedStore<M> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Retain `message` for `topic`, replacing and returning the previous
    /// one. The broker calls [`Self::remove`] instead for an empty payload
    /// ([MQTT-3.3.1-6], [MQTT-3.3.1-7]). The alias-only empty topic is not a
    /// topic: nothing is stored for it.
    pub fn set(&mut self, topic: &TopicName, message: M) -> Option<M> {
        if topic.is_empty() {
            return None;
        }
        let node = topic.levels().fold(&mut self.root, |node, level| {
            node.children.entry(level.into()).or_default()
        });
        let previous = node.message.replace(message);
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    /// Forget `topic`'s retained message, returning it, and drop the trie
    /// nodes that only existed for it.
    pub fn remove(&mut self, topic: &TopicName) -> Option<M> {
        if topic.is_empty() {
            return None;
        }
        let node = topic
            .levels()
            .try_fold(&mut self.root, |node, level| node.children.get_mut(level))?;
        let removed = node.message.take()?;
        self.len -= 1;
        if node.children.is_empty() {
            self.prune(topic);
        }
        Some(removed)
    }

    /// The retained message of exactly `topic`.
    pub fn get(&self, topic: &TopicName) -> Option<&M> {
        if topic.is_empty() {
            return None;
        }
        topic
            .levels()
            .try_fold(&self.root, |node, level| node.children.get(level))?
            .message
            .as_ref()
    }

    /// Append to `out` the retained messages of every topic `filter`
    /// matches, in no particular order, with the matching rules of
    /// [`TopicFilter::matches`] (the `$` rule included, [MQTT-4.7.2-1]).
    /// A `$share/` filter gets none: retained messages are not sent when a
    /// shared subscription is made (4.8.2).
    pub fn matching(&self, filter: &TopicFilter, out: &mut Vec<M>) {
        self.matching_up_to(filter, usize::MAX, out);
    }

    /// [`Self::matching`], stopping once `out` holds `limit` messages (the
    /// admin API browses a store that may hold millions).
    pub fn matching_up_to(&self, filter: &TopicFilter, limit: usize, out: &mut Vec<M>) {
        if filter.is_shared() {
            return;
        }
        let root = &self.root;
        let mut stack: SmallVec<[Frame<'_, '_, M>; 16]> = SmallVec::new();
        stack.push(Frame::Filter(root, Some(filter.as_str())));
        while let Some(frame) = stack.pop() {
            if out.len() >= limit {
                out.truncate(limit);
                return;
            }
            let (node, rest) = match frame {
                Frame::Subtree(node) => {
                    out.extend(node.message.iter().cloned());
                    stack.extend(node.children.values().map(Frame::Subtree));
                    continue;
                }
                Frame::Filter(node, None) => {
                    out.extend(node.message.iter().cloned());
                    continue;
                }
                Frame::Filter(node, Some(rest)) => (node, rest),
            };
            let (level, next) = match rest.split_once('/') {
                Some((level, next)) => (level, Some(next)),
                None => (rest, None),
            };
            // First-level wildcards skip `$` topics ([MQTT-4.7.2-1]).
            let at_root = std::ptr::eq(node, root);
            let wildcard_children = node
                .children
                .iter()
                .filter(|(name, _)| !(at_root && name.starts_with('$')))
                .map(|(_, child)| child);
            match level {
                "#" => {
                    // `a/#` matches `a` itself; the root holds no message.
                    out.extend(node.message.iter().cloned());
                    stack.extend(wildcard_children.map(Frame::Subtree));
                }
                "+" => stack.extend(wildcard_children.map(|child| Frame::Filter(child, next))),
                _ => {
                    if let Some(child) = node.children.get(level) {
                        stack.push(Frame::Filter(child, next));
                    }
                }
            }
        }
    }

    /// The number of topics with a retained message.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no message is retained.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// After `topic`'s node lost its message and has no children, drop the
    /// nodes at the end of its path that hold nothing else. Two passes
    /// (find the deepest node to keep, then cut the edge below it) because
    /// `&mut` borrows cannot be kept for every node on the path.
    fn prune(&mut self, topic: &TopicName) {
        // How many nodes below the root must stay: the path up to the
        // deepest one holding a message or leading elsewhere.
        let mut keep = 0usize;
        let mut node = &self.root;
        let mut levels = topic.levels().peekable();
        let mut depth = 0usize;
        while let Some(level) = levels.next() {
            let Some(next) = node.children.get(level) else {
                return;
            };
            depth += 1;
            let on_path = usize::from(levels.peek().is_some());
            if next.message.is_some() || next.children.len() > on_path {
                keep = depth;
            }
            node = next;
        }
        let Some(edge) = topic.levels().nth(keep) else {
            return;
        };
        let parent = topic
            .levels()
            .take(keep)
            .try_fold(&mut self.root, |node, level| node.children.get_mut(level));
        if let Some(parent) = parent {
            parent.children.remove(edge);
        }
    }
}

impl<M> Drop for Node<M> {
    /// Iterative, so that dropping a topic of ~32,000 levels cannot
    /// overflow the stack: each node is a leaf by the time it is dropped.
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        let mut pending: Vec<Node<M>> = self.children.drain().map(|(_, n)| n).collect();
        while let Some(mut node) = pending.pop() {
            pending.extend(node.children.drain().map(|(_, n)| n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(s: &str) -> TopicName {
        TopicName::new(s).expect("valid topic")
    }

    fn store_of(topics: &[&str]) -> RetainedStore<String> {
        let mut store = RetainedStore::new();
        for t in topics {
            store.set(&topic(t), (*t).to_owned());
        }
        store
    }

    /// One lookup case: with a message retained on each of `topics` (the
    /// message is its topic), `filter` finds exactly `expected`.
    #[track_caller]
    fn check(topics: &[&str], filter: &str, expected: &[&str]) {
        let store = store_of(topics);
        let mut out = Vec::new();
        store.matching(&TopicFilter::new(filter).expect("valid filter"), &mut out);
        out.sort();
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        expected.sort();
        assert_eq!(out, expected, "filter {filter:?}");
    }

    const TOPICS: &[&str] = &[
        "sport",
        "sport/tennis",
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "sport/golf",
        "/finance",
        "a//b",
        "$SYS/broker/uptime",
        "$SYS",
    ];

    #[test]
    fn matching_by_filter() {
        check(TOPICS, "sport/tennis", &["sport/tennis"]);
        check(
            TOPICS,
            "sport/tennis/#",
            &[
                "sport/tennis",
                "sport/tennis/player1",
                "sport/tennis/player1/ranking",
            ],
        );
        check(TOPICS, "sport/+", &["sport/tennis", "sport/golf"]);
        check(TOPICS, "sport/+/player1", &["sport/tennis/player1"]);
        check(TOPICS, "+", &["sport"]);
        check(TOPICS, "+/+", &["sport/tennis", "sport/golf", "/finance"]);
        check(TOPICS, "/+", &["/finance"]);
        check(TOPICS, "a/+/b", &["a//b"]);
        check(TOPICS, "a/#", &["a//b"]);
        check(TOPICS, "nothing/#", &[]);
        check(TOPICS, "sport/tennis/player1/ranking/x", &[]);
    }

    #[test]
    fn dollar_topics_need_a_literal_first_level() {
        let all: Vec<&str> = TOPICS
            .iter()
            .copied()
            .filter(|t| !t.starts_with('$'))
            .collect();
        check(TOPICS, "#", &all);
        check(TOPICS, "+/broker/+", &[]);
        check(TOPICS, "$SYS/#", &["$SYS", "$SYS/broker/uptime"]);
        check(TOPICS, "$SYS/+/uptime", &["$SYS/broker/uptime"]);
        check(TOPICS, "sport/$x/#", &[]);
    }

    #[test]
    fn shared_subscriptions_get_no_retained_messages() {
        check(TOPICS, "$share/g/#", &[]);
        check(TOPICS, "$share/g/sport", &[]);
    }

    #[test]
    fn set_replace_get_remove() {
        let mut store = RetainedStore::new();
        assert!(store.is_empty());
        assert_eq!(store.set(&topic("a/b"), 1), None);
        assert_eq!(store.set(&topic("a/b"), 2), Some(1));
        assert_eq!(store.set(&topic("a"), 3), None);
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(&topic("a/b")), Some(&2));
        assert_eq!(store.get(&topic("a/b/c")), None);
        assert_eq!(store.get(&topic("a/")), None);
        assert_eq!(store.remove(&topic("a/b/c")), None);
        assert_eq!(store.remove(&topic("a/b")), Some(2));
        assert_eq!(store.remove(&topic("a/b")), None);
        assert_eq!(store.get(&topic("a")), Some(&3));
        assert_eq!(store.len(), 1);
        assert_eq!(store.set(&TopicName::alias_only(), 4), None);
        assert_eq!(store.get(&TopicName::alias_only()), None);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn removal_prunes_only_unused_nodes() {
        let mut store = store_of(&["a/b/c/d", "a/b", "a/x/c/d"]);
        assert!(store.remove(&topic("a/b/c/d")).is_some());
        let mut out = Vec::new();
        store.matching(&TopicFilter::new("#").expect("valid"), &mut out);
        out.sort();
        assert_eq!(out, ["a/b", "a/x/c/d"]);
        assert!(store.root.children["a"].children["b"].children.is_empty());
        assert!(store.remove(&topic("a/b")).is_some());
        assert!(store.remove(&topic("a/x/c/d")).is_some());
        assert!(store.root.children.is_empty());
        assert!(store.is_empty());
    }

    #[test]
    fn deep_topics_do_not_overflow_the_stack() {
        let deep = "x/".repeat(30_000);
        let mut store = store_of(&[&deep, "x"]);
        let mut out = Vec::new();
        store.matching(&TopicFilter::new("x/#").expect("valid"), &mut out);
        assert_eq!(out.len(), 2);
        let deep_plus = "+/".repeat(30_000);
        out.clear();
        store.matching(&TopicFilter::new(deep_plus).expect("valid"), &mut out);
        assert_eq!(out, std::slice::from_ref(&deep));
        assert!(store.remove(&topic(&deep)).is_some());
        assert_eq!(store.root.children["x"].children.len(), 0);
        store.set(&topic(&deep), String::new());
        drop(store);
    }
}
