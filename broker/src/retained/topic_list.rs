//! [`TopicList`]: the topics a walk found, in one string.
//!
//! A subscription to `#` may match a million retained messages on disk;
//! their topics wait until they are read. Kept as `TopicName`s they would
//! cost a million allocations and about 70 bytes each; here each costs its
//! bytes and a `\0` (MQTT strings cannot hold U+0000).

use courtier_proto::TopicName;

/// Topics, taken from the front in the order they were pushed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TopicList {
    /// Each topic followed by `\0`.
    text: String,
    /// How much of `text` was taken.
    taken: usize,
}

impl TopicList {
    /// Add a topic at the back.
    pub fn push(&mut self, topic: &str) {
        self.text.push_str(topic);
        self.text.push('\0');
    }

    /// Whether every topic was taken.
    pub fn is_empty(&self) -> bool {
        self.taken == self.text.len()
    }

    /// The topics not taken yet.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.text[self.taken..].split_terminator('\0')
    }

    /// Keep only the topics (not taken yet) for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let mut kept = Self::default();
        for topic in self.iter().filter(|t| keep(t)) {
            kept.push(topic);
        }
        *self = kept;
    }

    /// Take up to `n` topics from the front.
    pub fn take(&mut self, n: usize) -> Vec<TopicName> {
        let mut topics = Vec::new();
        while topics.len() < n && !self.is_empty() {
            let rest = &self.text[self.taken..];
            let end = rest.find('\0').unwrap_or(rest.len());
            // Only `TopicName`s' text is pushed: valid again.
            topics.extend(TopicName::new(&rest[..end]).ok());
            self.taken += end + 1;
        }
        if self.is_empty() {
            *self = Self::default();
        }
        topics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_come_back_in_order_and_in_chunks() {
        let mut list = TopicList::default();
        assert!(list.is_empty());
        for t in ["a/b", "/x", "maMaison/rez-de-chaussee/cuisine", "é"] {
            list.push(t);
        }
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            ["a/b", "/x", "maMaison/rez-de-chaussee/cuisine", "é"]
        );
        let first = list.take(3);
        assert_eq!(
            first.iter().map(TopicName::as_str).collect::<Vec<_>>(),
            ["a/b", "/x", "maMaison/rez-de-chaussee/cuisine"]
        );
        assert!(!list.is_empty());
        assert_eq!(list.take(3).len(), 1);
        assert!(list.is_empty());
        assert!(list.take(3).is_empty());
    }

    #[test]
    fn retain_filters_what_is_left() {
        let mut list = TopicList::default();
        for t in ["a", "b/secret", "c"] {
            list.push(t);
        }
        let _ = list.take(1);
        list.retain(|t| !t.contains("secret"));
        assert_eq!(list.iter().collect::<Vec<_>>(), ["c"]);
    }
}
