//! Retained messages: the latest retained PUBLISH per topic, found by filter
//! when a subscription is made (3.3.1.3).
//!
//! [`RetainedStore`] is a trie keyed by topic level, so a wildcard filter
//! visits only the topics it can match rather than every retained topic. It
//! is generic over the message `M` and does no I/O. The broker stores a
//! [`crate::broker::Retained`]: the message itself until the durable store
//! has it, then only a marker, so with a store the trie is an index of what
//! is on disk (issue 7: a million retained topics in well under 256 MiB).
//! Nodes are compact for that reason ([`node`], [`level`]), and walks
//! rebuild each topic from its levels instead of keeping it in the node.
//!
//! Walks are iterative, like the subscription tree's: a topic can have tens
//! of thousands of levels and any publisher can retain one.

mod level;
mod node;
mod slot;
mod topic_list;

use courtier_proto::{TopicFilter, TopicName};
use smallvec::SmallVec;

use self::node::Node;
pub(crate) use self::slot::forget_committed;
pub use self::slot::{Found, Retained};
pub use self::topic_list::TopicList;

/// The retained message of every topic that has one.
#[derive(Debug)]
pub struct RetainedStore<M> {
    /// The level before the first; it never holds a message itself.
    root: Node<M>,
    /// The number of topics with a retained message.
    len: usize,
}

impl<M> Default for RetainedStore<M> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }
}

/// Where a node sits: enough to write its topic into the walk's one path
/// buffer. Depth-first, a node's parent path is still the buffer's prefix
/// when the node is reached.
#[derive(Clone, Copy)]
struct Place<'t> {
    /// The length of the parent's topic in the buffer.
    parent_len: usize,
    /// Whether the parent is a topic level (not the root): a `/` follows it.
    under_level: bool,
    /// This node's level.
    level: &'t str,
}

/// Work left in a [`RetainedStore::for_each_matching`] walk.
enum Frame<'t, 'f, M> {
    /// Match the rest of the filter's levels (`None`: all consumed) here.
    Filter(&'t Node<M>, Option<Place<'t>>, Option<&'f str>),
    /// Everything at and below this node matches (under a `#`).
    Subtree(&'t Node<M>, Option<Place<'t>>),
}

impl<M> RetainedStore<M> {
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
            node.children.get_or_insert(level)
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

    /// The retained message of exactly `topic`, to change in place.
    pub fn get_mut(&mut self, topic: &TopicName) -> Option<&mut M> {
        if topic.is_empty() {
            return None;
        }
        topic
            .levels()
            .try_fold(&mut self.root, |node, level| node.children.get_mut(level))?
            .message
            .as_mut()
    }

    /// Call `f` with the topic and message of every topic `filter` matches,
    /// in no particular order, at most `limit` times, with the matching
    /// rules of [`TopicFilter::matches`] (the `$` rule included,
    /// [MQTT-4.7.2-1]). A `$share/` filter matches none: retained messages
    /// are not sent when a shared subscription is made (4.8.2).
    ///
    /// Topics are rebuilt from the trie's levels as the walk goes, so a
    /// message need not carry its own topic (the broker keeps only an index
    /// of messages that live on disk).
    pub fn for_each_matching(
        &self,
        filter: &TopicFilter,
        limit: usize,
        mut f: impl FnMut(&str, &M),
    ) {
        if filter.is_shared() || limit == 0 {
            return;
        }
        let root = &self.root;
        let mut found = 0usize;
        let mut path = String::new();
        let mut stack: SmallVec<[Frame<'_, '_, M>; 16]> = SmallVec::new();
        stack.push(Frame::Filter(root, None, Some(filter.as_str())));
        while let Some(frame) = stack.pop() {
            let (node, place) = match &frame {
                Frame::Filter(node, place, _) | Frame::Subtree(node, place) => (*node, *place),
            };
            if let Some(place) = place {
                path.truncate(place.parent_len);
                if place.under_level {
                    path.push('/');
                }
                path.push_str(place.level);
            }
            let here = path.len();
            let below = |level| {
                Some(Place {
                    parent_len: here,
                    under_level: place.is_some(),
                    level,
                })
            };
            let mut emit = |node: &Node<M>| {
                if let Some(m) = &node.message {
                    f(&path, m);
                    found += 1;
                }
                found >= limit
            };
            let rest = match frame {
                Frame::Subtree(..) => {
                    if emit(node) {
                        return;
                    }
                    stack.extend(
                        node.children
                            .iter()
                            .map(|(level, child)| Frame::Subtree(child, below(level))),
                    );
                    continue;
                }
                Frame::Filter(_, _, None) => {
                    if emit(node) {
                        return;
                    }
                    continue;
                }
                Frame::Filter(_, _, Some(rest)) => rest,
            };
            let (level, next) = match rest.split_once('/') {
                Some((level, next)) => (level, Some(next)),
                None => (rest, None),
            };
            // First-level wildcards skip `$` topics ([MQTT-4.7.2-1]).
            let at_root = place.is_none();
            let wildcard_children = node
                .children
                .iter()
                .filter(|(name, _)| !(at_root && name.starts_with('$')));
            match level {
                "#" => {
                    // `a/#` matches `a` itself; the root holds no message.
                    if emit(node) {
                        return;
                    }
                    stack.extend(
                        wildcard_children.map(|(level, child)| Frame::Subtree(child, below(level))),
                    );
                }
                "+" => stack.extend(
                    wildcard_children
                        .map(|(level, child)| Frame::Filter(child, below(level), next)),
                ),
                _ => {
                    if let Some((level, child)) = node.children.get_entry(level) {
                        stack.push(Frame::Filter(child, below(level), next));
                    }
                }
            }
        }
    }

    /// The messages of every topic `filter` matches, appended to `out`
    /// ([`Self::for_each_matching`] without a limit).
    pub fn matching(&self, filter: &TopicFilter, out: &mut Vec<M>)
    where
        M: Clone,
    {
        self.for_each_matching(filter, usize::MAX, |_, m| out.push(m.clone()));
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
        let filter_ = TopicFilter::new(filter).expect("valid filter");
        store.for_each_matching(&filter_, usize::MAX, |path, m| {
            assert_eq!(path, m, "the walk rebuilds each topic");
            out.push(m.clone());
        });
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
    fn walks_stop_at_the_limit() {
        let store = store_of(TOPICS);
        let all = TopicFilter::new("#").expect("valid");
        for limit in [0, 1, 3] {
            let mut n = 0;
            store.for_each_matching(&all, limit, |_, _| n += 1);
            assert_eq!(n, limit);
        }
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
        if let Some(m) = store.get_mut(&topic("a/b")) {
            *m = 5;
        }
        assert_eq!(store.set(&topic("a/b"), 2), Some(5));
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
        assert!(
            store
                .root
                .children
                .get("a")
                .and_then(|a| a.children.get("b"))
                .is_some_and(|b| b.children.is_empty())
        );
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
        assert_eq!(
            store.root.children.get("x").map(|x| x.children.len()),
            Some(0)
        );
        store.set(&topic(&deep), String::new());
        drop(store);
    }
}
