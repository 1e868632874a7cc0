//! The literal children of a trie node, keyed by level and probed with a
//! hash computed once per topic level.
//!
//! Matching is bound by cache misses, one or more per node visited, so the
//! layout matters more than the algorithm: most nodes have one or a few
//! children and keep them in one small array (one miss to find a child and
//! reach it), and only wide nodes pay for a hash table. Short levels are
//! stored inline rather than behind a pointer for the same reason.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::node::Node;

/// The hasher of every level in one tree. One seeded instance for the whole
/// tree lets matching hash each topic level once and probe every node with
/// that hash; foldhash is several times faster than SipHash on short
/// levels and still randomly seeded against crafted collisions.
pub(super) type LevelHasher = DefaultHashBuilder;

/// The hash of one level, as every node stores it.
pub(super) fn level_hash(hasher: &LevelHasher, level: &str) -> u64 {
    hasher.hash_one(level.as_bytes())
}

/// Up to this many children are searched linearly; more get a hash table.
const FEW: usize = 8;

/// Levels up to this many bytes are stored inline.
const INLINE_LEVEL: usize = 22;

/// A literal level as a key: inline when short (`site`, `17`, `temp`).
#[derive(Debug)]
enum LevelKey {
    Inline { len: u8, bytes: [u8; INLINE_LEVEL] },
    Heap(Box<[u8]>),
}

impl LevelKey {
    fn new(level: &str) -> Self {
        let level = level.as_bytes();
        match u8::try_from(level.len()) {
            Ok(len) if level.len() <= INLINE_LEVEL => {
                let mut bytes = [0; INLINE_LEVEL];
                bytes[..level.len()].copy_from_slice(level);
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(level.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(bytes) => bytes,
        }
    }
}

/// One child with its level and that level's hash (kept so that a table
/// can grow without rehashing and a scan can skip most keys by hash).
type Entry<K> = (u64, LevelKey, Node<K>);

fn is<K>(level: &str, hash: u64) -> impl Fn(&Entry<K>) -> bool {
    move |(h, key, _)| *h == hash && key.as_bytes() == level.as_bytes()
}

/// The literal children of a node.
#[derive(Debug)]
pub(super) struct Children<K>(Repr<K>);

#[derive(Debug)]
enum Repr<K> {
    /// At most [`FEW`] children, searched linearly.
    Few(Vec<Entry<K>>),
    /// More, in a table.
    Many(HashTable<Entry<K>>),
}

impl<K> Default for Children<K> {
    fn default() -> Self {
        Self(Repr::Few(Vec::new()))
    }
}

impl<K> Children<K> {
    pub(super) fn len(&self) -> usize {
        match &self.0 {
            Repr::Few(few) => few.len(),
            Repr::Many(many) => many.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The child for `level`, whose [`level_hash`] is `hash`.
    pub(super) fn get(&self, level: &str, hash: u64) -> Option<&Node<K>> {
        match &self.0 {
            Repr::Few(few) => {
                let is = is(level, hash);
                few.iter().find(|e| is(e))
            }
            Repr::Many(many) => many.find(hash, is(level, hash)),
        }
        .map(|(_, _, node)| node)
    }

    pub(super) fn get_mut(&mut self, level: &str, hash: u64) -> Option<&mut Node<K>> {
        match &mut self.0 {
            Repr::Few(few) => {
                let is = is(level, hash);
                few.iter_mut().find(|e| is(e))
            }
            Repr::Many(many) => many.find_mut(hash, is(level, hash)),
        }
        .map(|(_, _, node)| node)
    }

    /// The child for `level`, created empty if missing.
    pub(super) fn get_or_insert(&mut self, level: &str, hash: u64) -> &mut Node<K> {
        if let Repr::Few(few) = &mut self.0
            && few.len() == FEW
            && !few.iter().any(is(level, hash))
        {
            let mut many = HashTable::with_capacity(FEW * 2);
            for entry in few.drain(..) {
                many.insert_unique(entry.0, entry, |e| e.0);
            }
            self.0 = Repr::Many(many);
        }
        let entry = match &mut self.0 {
            Repr::Few(few) => match few.iter().position(is(level, hash)) {
                Some(position) => &mut few[position],
                None => {
                    few.push((hash, LevelKey::new(level), Node::default()));
                    let last = few.len() - 1;
                    &mut few[last]
                }
            },
            Repr::Many(many) => many
                .entry(hash, is(level, hash), |e| e.0)
                .or_insert_with(|| (hash, LevelKey::new(level), Node::default()))
                .into_mut(),
        };
        &mut entry.2
    }

    /// Remove the child for `level`. A table stays a table: a node that was
    /// once wide is likely to be wide again.
    pub(super) fn remove(&mut self, level: &str, hash: u64) {
        match &mut self.0 {
            Repr::Few(few) => {
                if let Some(position) = few.iter().position(is(level, hash)) {
                    few.swap_remove(position);
                }
            }
            Repr::Many(many) => {
                if let Ok(entry) = many.find_entry(hash, is(level, hash)) {
                    entry.remove();
                }
            }
        }
    }

    /// Move every child into `pending`.
    pub(super) fn drain_into(&mut self, pending: &mut Vec<Node<K>>) {
        match &mut self.0 {
            Repr::Few(few) => pending.extend(few.drain(..).map(|(_, _, node)| node)),
            Repr::Many(many) => pending.extend(many.drain().map(|(_, _, node)| node)),
        }
    }
}
