//! Trie nodes of the subscription tree and the iterative insert, lookup and
//! pruning walks over them.

use super::children::{Children, LevelHasher, level_hash};
use super::subscribers::Subscribers;

/// One level of the trie.
#[derive(Debug)]
pub(super) struct Node<K> {
    /// Children by literal level (an empty level is the key `""`).
    pub(super) children: Children<K>,
    /// The `+` child, kept apart so that matching never hashes `"+"`.
    pub(super) plus: Option<Box<Node<K>>>,
    /// Subscribers of this node's filter followed by `/#` (or of `#` at the
    /// root). `#` is always the last level, so it needs no node of its own.
    pub(super) hash: Option<Box<Subscribers<K>>>,
    /// Subscribers of the filter that ends at this node. Boxed, like `hash`,
    /// because most interior nodes have none and should stay small.
    pub(super) subs: Option<Box<Subscribers<K>>>,
}

impl<K> Default for Node<K> {
    fn default() -> Self {
        Self {
            children: Children::default(),
            plus: None,
            hash: None,
            subs: None,
        }
    }
}

/// The levels of `filter` that lead to nodes, and whether it ends in `#`
/// (whose subscribers live in the `hash` slot of the last node).
fn node_levels(filter: &str) -> (impl Iterator<Item = &str> + Clone, bool) {
    let (prefix, hash) = if filter == "#" {
        (None, true)
    } else if let Some(prefix) = filter.strip_suffix("/#") {
        (Some(prefix), true)
    } else {
        (Some(filter), false)
    };
    (prefix.into_iter().flat_map(|p| p.split('/')), hash)
}

impl<K> Node<K> {
    /// The literal child for `level`, whose [`level_hash`] is `hash`.
    pub(super) fn literal(&self, level: &str, hash: u64) -> Option<&Node<K>> {
        self.children.get(level, hash)
    }

    /// The child for a filter level, `+` included.
    fn child(&self, hasher: &LevelHasher, level: &str) -> Option<&Node<K>> {
        if level == "+" {
            self.plus.as_deref()
        } else {
            self.literal(level, level_hash(hasher, level))
        }
    }

    fn child_mut(&mut self, hasher: &LevelHasher, level: &str) -> Option<&mut Node<K>> {
        if level == "+" {
            self.plus.as_deref_mut()
        } else {
            self.children.get_mut(level, level_hash(hasher, level))
        }
    }

    fn child_or_insert(&mut self, hasher: &LevelHasher, level: &str) -> &mut Node<K> {
        if level == "+" {
            return self.plus.get_or_insert_with(Box::default);
        }
        self.children
            .get_or_insert(level, level_hash(hasher, level))
    }

    /// The subscribers of `filter` (an ordinary or inner shared filter),
    /// creating the nodes on the way.
    pub(super) fn slot_or_insert(
        &mut self,
        hasher: &LevelHasher,
        filter: &str,
    ) -> &mut Subscribers<K> {
        let (levels, hash) = node_levels(filter);
        let node = levels.fold(self, |node, level| node.child_or_insert(hasher, level));
        if hash { &mut node.hash } else { &mut node.subs }.get_or_insert_with(Box::default)
    }

    /// The node at the end of `levels`, if there is one.
    fn find<'a>(
        &self,
        hasher: &LevelHasher,
        mut levels: impl Iterator<Item = &'a str>,
    ) -> Option<&Node<K>> {
        levels.try_fold(self, |node, level| node.child(hasher, level))
    }

    fn find_mut<'a>(
        &mut self,
        hasher: &LevelHasher,
        mut levels: impl Iterator<Item = &'a str>,
    ) -> Option<&mut Node<K>> {
        levels.try_fold(self, |node, level| node.child_mut(hasher, level))
    }

    /// The subscribers of `filter`, if any node holds them.
    pub(super) fn slot(&self, hasher: &LevelHasher, filter: &str) -> Option<&Subscribers<K>> {
        let (levels, hash) = node_levels(filter);
        let node = self.find(hasher, levels)?;
        if hash { &node.hash } else { &node.subs }.as_deref()
    }

    /// The subscribers of `filter`, mutably, if any node holds them.
    pub(super) fn slot_mut(
        &mut self,
        hasher: &LevelHasher,
        filter: &str,
    ) -> Option<&mut Subscribers<K>> {
        let (levels, hash) = node_levels(filter);
        let node = self.find_mut(hasher, levels)?;
        if hash { &mut node.hash } else { &mut node.subs }.as_deref_mut()
    }

    /// True when the node holds nothing and leads nowhere.
    pub(super) fn is_empty(&self) -> bool {
        self.children.is_empty()
            && self.plus.is_none()
            && self.hash.is_none()
            && self.subs.is_none()
    }

    /// True when the node holds no subscriber and has exactly one child.
    fn only_leads_on(&self) -> bool {
        self.hash.is_none()
            && self.subs.is_none()
            && self.children.len() + usize::from(self.plus.is_some()) == 1
    }

    /// After a removal emptied the subscribers of `filter`: drop that slot,
    /// then the trailing run of nodes on its path that only led to it.
    ///
    /// Two passes, because `&mut` borrows cannot be kept for every node on
    /// the path: the first finds the deepest node that must stay, the
    /// second cuts the edge below it. Linear in the depth, never recursive.
    pub(super) fn prune(&mut self, hasher: &LevelHasher, filter: &str) {
        let (levels, hash) = node_levels(filter);
        let Some(end) = self.find_mut(hasher, levels.clone()) else {
            return;
        };
        let slot = if hash { &mut end.hash } else { &mut end.subs };
        if slot.as_ref().is_some_and(|subs| subs.is_empty()) {
            *slot = None;
        }

        // The deepest node on the path that must stay (0: the root).
        let mut keep = 0usize;
        let mut path = levels.clone().enumerate().peekable();
        let mut node: &Node<K> = self;
        while let Some((index, level)) = path.next() {
            let Some(next) = node.child(hasher, level) else {
                return;
            };
            let needed = if path.peek().is_some() {
                !next.only_leads_on()
            } else {
                !next.is_empty()
            };
            if needed {
                keep = index + 1;
            }
            node = next;
        }

        // The edge from the kept node down the path, if any node below it
        // is left to drop.
        let edge = levels.clone().nth(keep);
        let Some(parent) = self.find_mut(hasher, levels.take(keep)) else {
            return;
        };
        match edge {
            Some("+") => parent.plus = None,
            Some(level) => parent.children.remove(level, level_hash(hasher, level)),
            None => {}
        }
    }

    /// Move this node's children into `pending`, leaving it a leaf.
    fn detach_children(&mut self, pending: &mut Vec<Node<K>>) {
        self.children.drain_into(pending);
        if let Some(plus) = self.plus.take() {
            pending.push(*plus);
        }
    }
}

impl<K> Drop for Node<K> {
    /// Dropping a deep chain of nodes recursively could overflow the stack
    /// (a filter may have ~32,000 levels), so children are dropped from a
    /// work list, each one a leaf by the time it is dropped.
    fn drop(&mut self) {
        if self.children.is_empty() && self.plus.is_none() {
            return;
        }
        let mut pending = Vec::new();
        self.detach_children(&mut pending);
        while let Some(mut node) = pending.pop() {
            node.detach_children(&mut pending);
        }
    }
}
