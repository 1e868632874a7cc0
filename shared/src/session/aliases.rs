//! The topic aliases we set towards the server (3.3.2.3.4): a topic published
//! again on the same connection is sent as an empty topic and its alias.
//!
//! The table belongs to one connection ([MQTT-3.3.2-7]): it is emptied when
//! the connection ends and sized by each CONNACK, so a PUBLISH resent after a
//! reconnect always carries its full topic. It holds at most
//! `min(server's Topic Alias Maximum, ClientOptions::outgoing_topic_aliases)`
//! topics; when full, the least recently published topic gives up its alias
//! to the new one (sending topic and alias again redefines the mapping,
//! 3.3.2.3.4).

use std::collections::HashMap;
use std::num::NonZeroU16;

use crate::topic::TopicName;

/// How a PUBLISH names its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AliasUse {
    /// Full topic, no alias (aliases are off, or the packet would not fit).
    None,
    /// Full topic and this alias, which the server learns from it; call
    /// [`OutgoingAliases::commit`] once the packet is sent.
    Set(NonZeroU16),
    /// Empty topic and this alias, which the server already knows.
    Reuse(NonZeroU16),
}

/// Topic → alias for the current connection.
#[derive(Debug, Default)]
pub(super) struct OutgoingAliases {
    /// Each aliased topic with its alias and when it was last published
    /// (a counter of uses, for least-recently-used replacement).
    by_topic: HashMap<TopicName, (NonZeroU16, u64)>,
    /// How many aliases this connection may use; 0 sends none.
    capacity: u16,
    /// Uses so far on this connection.
    uses: u64,
}

impl OutgoingAliases {
    /// Forget every alias and allow `capacity` of them: on CONNACK with
    /// the negotiated maximum, and with 0 when the connection ends.
    pub(super) fn reset(&mut self, capacity: u16) {
        self.by_topic.clear();
        self.capacity = capacity;
        self.uses = 0;
    }

    /// How the next PUBLISH to `topic` should name it.
    pub(super) fn lookup(&mut self, topic: &TopicName) -> AliasUse {
        if self.capacity == 0 || topic.is_empty() {
            return AliasUse::None;
        }
        self.uses += 1;
        if let Some((alias, last_used)) = self.by_topic.get_mut(topic) {
            *last_used = self.uses;
            return AliasUse::Reuse(*alias);
        }
        let next = u16::try_from(self.by_topic.len())
            .ok()
            .filter(|&len| len < self.capacity)
            .and_then(|len| NonZeroU16::new(len + 1));
        match next {
            Some(alias) => AliasUse::Set(alias),
            // Full: take the alias of the topic published longest ago.
            None => self
                .by_topic
                .values()
                .min_by_key(|(_, last_used)| *last_used)
                .map_or(AliasUse::None, |(alias, _)| AliasUse::Set(*alias)),
        }
    }

    /// `topic` was sent with `alias` (from [`AliasUse::Set`]): the server now
    /// maps `alias` to it, and to no other topic.
    pub(super) fn commit(&mut self, topic: TopicName, alias: NonZeroU16) {
        self.by_topic.retain(|_, (a, _)| *a != alias);
        self.by_topic.insert(topic, (alias, self.uses));
    }

    /// How many topics have an alias.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_topic.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str) -> TopicName {
        TopicName::new(name.to_owned()).unwrap()
    }

    fn alias(n: u16) -> NonZeroU16 {
        NonZeroU16::new(n).unwrap()
    }

    /// Looks `name` up and, like a sent packet, commits a new alias.
    fn publish(table: &mut OutgoingAliases, name: &str) -> AliasUse {
        let used = table.lookup(&topic(name));
        if let AliasUse::Set(a) = used {
            table.commit(topic(name), a);
        }
        used
    }

    #[test]
    fn off_until_a_capacity_is_granted() {
        let mut table = OutgoingAliases::default();
        assert_eq!(publish(&mut table, "a"), AliasUse::None);
        table.reset(2);
        assert_eq!(publish(&mut table, "a"), AliasUse::Set(alias(1)));
        assert_eq!(publish(&mut table, "a"), AliasUse::Reuse(alias(1)));
        table.reset(0);
        assert_eq!(publish(&mut table, "a"), AliasUse::None);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn a_full_table_gives_the_least_recently_used_alias_away() {
        let mut table = OutgoingAliases::default();
        table.reset(2);
        assert_eq!(publish(&mut table, "a"), AliasUse::Set(alias(1)));
        assert_eq!(publish(&mut table, "b"), AliasUse::Set(alias(2)));
        assert_eq!(publish(&mut table, "a"), AliasUse::Reuse(alias(1)));
        // b was used longest ago: c takes its alias, and b has none now.
        assert_eq!(publish(&mut table, "c"), AliasUse::Set(alias(2)));
        assert_eq!(table.len(), 2);
        assert_eq!(publish(&mut table, "b"), AliasUse::Set(alias(1)));
        assert_eq!(publish(&mut table, "c"), AliasUse::Reuse(alias(2)));
        assert_eq!(publish(&mut table, "a"), AliasUse::Set(alias(1)));
    }

    #[test]
    fn an_alias_not_committed_is_not_known() {
        let mut table = OutgoingAliases::default();
        table.reset(1);
        // The packet did not go out with its alias: the next use sets it again.
        assert_eq!(table.lookup(&topic("a")), AliasUse::Set(alias(1)));
        assert_eq!(table.lookup(&topic("a")), AliasUse::Set(alias(1)));
        assert_eq!(table.len(), 0);
    }
}
