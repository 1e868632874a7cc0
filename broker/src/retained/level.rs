//! [`Level`]: one topic level as a trie key, kept inline when short.
//!
//! Most levels are short words (`maMaison`, `cuisine`, `capteur42`): stored
//! inline they cost no allocation of their own, which matters with a
//! million retained topics, each ending in a distinct leaf level.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Bytes kept inline; longer levels go to the heap.
const INLINE: usize = 22;

/// A topic level (UTF-8, possibly empty).
#[derive(Clone)]
pub(super) enum Level {
    /// Up to [`INLINE`] bytes, with their length.
    Inline(u8, [u8; INLINE]),
    /// Longer levels.
    Heap(Box<str>),
}

impl Level {
    /// The level as text.
    pub(super) fn as_str(&self) -> &str {
        match self {
            // The bytes were copied from a `&str` of this length, so they
            // are valid UTF-8; the fallback is never taken.
            Self::Inline(len, bytes) => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or("")
            }
            Self::Heap(s) => s,
        }
    }
}

impl From<&str> for Level {
    fn from(s: &str) -> Self {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Self::Inline(len, bytes)
            }
            _ => Self::Heap(s.into()),
        }
    }
}

impl Borrow<str> for Level {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Hashed and compared as its text, so maps keyed by `Level` are looked up
/// with a `&str`.
impl Hash for Level {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for Level {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Level {}

impl std::fmt::Debug for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn short_levels_are_inline_and_long_ones_on_the_heap() {
        assert_eq!(std::mem::size_of::<Level>(), 24);
        for s in [
            "",
            "a",
            "cuisine",
            &"x".repeat(INLINE),
            "é".repeat(11).as_str(),
        ] {
            let level = Level::from(s);
            assert!(matches!(level, Level::Inline(..)), "{s:?}");
            assert_eq!(level.as_str(), s);
        }
        let long = "y".repeat(INLINE + 1);
        let level = Level::from(long.as_str());
        assert!(matches!(level, Level::Heap(_)));
        assert_eq!(level.as_str(), long);
    }

    #[test]
    fn maps_are_looked_up_by_str() {
        let long = "z".repeat(100);
        let mut map = HashMap::new();
        map.insert(Level::from("cuisine"), 1);
        map.insert(Level::from(long.as_str()), 2);
        assert_eq!(map.get("cuisine"), Some(&1));
        assert_eq!(map.get(long.as_str()), Some(&2));
        assert_eq!(map.get("salon"), None);
    }
}
