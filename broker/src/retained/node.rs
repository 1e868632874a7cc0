//! The retained trie's node and its children.
//!
//! Most nodes are leaves (the last level of a topic): a leaf costs its
//! [`Level`] key, an empty `Vec` and its message slot, with no allocation of
//! its own. Up to [`FEW`] children sit in a small unsorted vector scanned
//! linearly; past that they move to a hash table (std's, randomly keyed, so
//! publishers cannot pick topics that collide).

use std::collections::HashMap;

use super::level::Level;

/// Children kept in a vector before moving to a hash table.
const FEW: usize = 8;

/// One topic level: the message of the topic ending here, and the levels below.
#[derive(Debug)]
pub(super) struct Node<M> {
    pub(super) children: Children<M>,
    pub(super) message: Option<M>,
}

impl<M> Default for Node<M> {
    fn default() -> Self {
        Self {
            children: Children::Few(Vec::new()),
            message: None,
        }
    }
}

/// A node's children by level.
#[derive(Debug)]
pub(super) enum Children<M> {
    /// At most [`FEW`], unsorted.
    Few(Vec<(Level, Node<M>)>),
    /// More: boxed, as most nodes never need one (unboxed, the table's
    /// 48 bytes would be in every leaf).
    #[allow(clippy::box_collection)]
    Many(Box<HashMap<Level, Node<M>>>),
}

impl<M> Children<M> {
    pub(super) fn len(&self) -> usize {
        match self {
            Self::Few(v) => v.len(),
            Self::Many(m) => m.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn get(&self, level: &str) -> Option<&Node<M>> {
        match self {
            Self::Few(v) => v.iter().find(|(l, _)| l.as_str() == level).map(|(_, n)| n),
            Self::Many(m) => m.get(level),
        }
    }

    /// The child for `level`, with the level as the trie holds it.
    pub(super) fn get_entry(&self, level: &str) -> Option<(&str, &Node<M>)> {
        match self {
            Self::Few(v) => v
                .iter()
                .find(|(l, _)| l.as_str() == level)
                .map(|(l, n)| (l.as_str(), n)),
            Self::Many(m) => m.get_key_value(level).map(|(l, n)| (l.as_str(), n)),
        }
    }

    pub(super) fn get_mut(&mut self, level: &str) -> Option<&mut Node<M>> {
        match self {
            Self::Few(v) => v
                .iter_mut()
                .find(|(l, _)| l.as_str() == level)
                .map(|(_, n)| n),
            Self::Many(m) => m.get_mut(level),
        }
    }

    /// The child for `level`, made empty if missing.
    pub(super) fn get_or_insert(&mut self, level: &str) -> &mut Node<M> {
        if let Self::Few(v) = self
            && v.len() >= FEW
            && !v.iter().any(|(l, _)| l.as_str() == level)
        {
            let map: HashMap<Level, Node<M>> = v.drain(..).collect();
            *self = Self::Many(Box::new(map));
        }
        match self {
            Self::Few(v) => {
                let at = match v.iter().position(|(l, _)| l.as_str() == level) {
                    Some(at) => at,
                    None => {
                        v.push((Level::from(level), Node::default()));
                        v.len() - 1
                    }
                };
                &mut v[at].1
            }
            Self::Many(m) => m.entry(Level::from(level)).or_default(),
        }
    }

    pub(super) fn remove(&mut self, level: &str) -> Option<Node<M>> {
        match self {
            Self::Few(v) => {
                let at = v.iter().position(|(l, _)| l.as_str() == level)?;
                Some(v.swap_remove(at).1)
            }
            Self::Many(m) => m.remove(level),
        }
    }

    /// Every child with its level, in no particular order.
    pub(super) fn iter(&self) -> Iter<'_, M> {
        match self {
            Self::Few(v) => Iter::Few(v.iter()),
            Self::Many(m) => Iter::Many(m.iter()),
        }
    }

    /// Take every child out, leaving none.
    pub(super) fn take_all(&mut self) -> Vec<Node<M>> {
        match std::mem::replace(self, Self::Few(Vec::new())) {
            Self::Few(v) => v.into_iter().map(|(_, n)| n).collect(),
            Self::Many(m) => m.into_values().collect(),
        }
    }
}

/// [`Children::iter`].
pub(super) enum Iter<'a, M> {
    Few(std::slice::Iter<'a, (Level, Node<M>)>),
    Many(std::collections::hash_map::Iter<'a, Level, Node<M>>),
}

impl<'a, M> Iterator for Iter<'a, M> {
    type Item = (&'a str, &'a Node<M>);

    fn next(&mut self) -> Option<Self::Item> {
        let (level, node) = match self {
            Self::Few(it) => it.next().map(|(l, n)| (l, n))?,
            Self::Many(it) => it.next()?,
        };
        Some((level.as_str(), node))
    }
}

impl<M> Drop for Node<M> {
    /// Iterative, so that dropping a topic of ~32,000 levels cannot
    /// overflow the stack: each node is a leaf by the time it is dropped.
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        let mut pending = self.children.take_all();
        while let Some(mut node) = pending.pop() {
            pending.extend(node.children.take_all());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_small() {
        // Level (24) + children (24) + an `Option<Arc<_>>`-sized slot (8).
        assert!(std::mem::size_of::<(Level, Node<std::sync::Arc<u8>>)>() <= 56);
    }

    #[test]
    fn children_move_to_a_table_past_a_few_and_stay_found() {
        let mut children: Children<usize> = Children::Few(Vec::new());
        for i in 0..100 {
            children.get_or_insert(&i.to_string()).message = Some(i);
            assert_eq!(children.len(), i + 1);
            assert_eq!(matches!(children, Children::Many(_)), i >= FEW);
        }
        for i in 0..100 {
            assert_eq!(
                children.get(&i.to_string()).and_then(|n| n.message),
                Some(i)
            );
        }
        children.get_or_insert("7").message = Some(700);
        assert_eq!(children.len(), 100);
        assert_eq!(children.remove("7").and_then(|n| n.message), Some(700));
        assert!(children.get("7").is_none());
        assert_eq!(children.iter().count(), 99);
        assert_eq!(children.take_all().len(), 99);
        assert!(children.is_empty());
    }
}
