//! Offline queues on disk: [`Spilled`] markers in an [`OutboundQueue`].
//!
//! With a store, an offline persistent session keeps its queued QoS 1/2
//! messages on disk only (they are all stored): the queue holds a marker
//! per message (its stored id and size, 16 bytes) instead of the message,
//! so thousands of offline sessions with full queues cost their markers,
//! not their payloads. Markers count against both queue limits like the
//! messages they stand for.
//!
//! # Order
//! In queue order the messages are: `ahead` messages held (read back
//! already), then the markers, then the other messages held (newer ones).
//! [`OutboundQueue::front`] and [`OutboundQueue::pop`] stop when `ahead`
//! is spent while markers remain: what comes next is on disk. The
//! connection then reads the next [`READ_BACK`] markers' messages and puts
//! them in place ([`OutboundQueue::unspill`]), so a returning client's
//! backlog is read a chunk at a time, never all at once.
//!
//! New messages become markers only while no message is held
//! ([`OutboundQueue::may_spill`]), and a session going offline turns every
//! stored message it holds back into a marker, in place
//! ([`OutboundQueue::spill`]): the order above always holds.

use std::collections::{HashMap, HashSet, VecDeque};

use courtier_proto::QoS;

use super::{OutboundQueue, Outgoing, PushOutcome, size};
use crate::store::StoredId;

/// Markers read back at a time.
pub const READ_BACK: usize = 512;

/// A queued message whose body is only in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spilled {
    /// Its id in the store.
    pub id: StoredId,
    /// What it counts against `max_queued_bytes`.
    pub size: u32,
}

/// The markers of a queue.
#[derive(Debug, Default)]
pub(super) struct Spill {
    /// Oldest first.
    pub(super) markers: VecDeque<Spilled>,
    /// How many messages held come before the markers.
    pub(super) ahead: usize,
}

fn marker(item: &Outgoing, id: StoredId) -> Spilled {
    Spilled {
        id,
        size: u32::try_from(size(item)).unwrap_or(u32::MAX),
    }
}

impl OutboundQueue {
    /// Add a stored QoS 1/2 message of an offline session as a marker
    /// only, applying the overflow policy. Only while [`Self::may_spill`].
    pub fn push_spilled(&mut self, item: &Outgoing, id: StoredId) -> PushOutcome {
        let outcome = self.make_room();
        if outcome != PushOutcome::Refused {
            self.add_marker(marker(item, id));
        }
        outcome
    }

    /// Put a marker read from the store at start-up behind the others,
    /// within the limits. `false` if the queue is full.
    pub fn restore_spilled(&mut self, marker: Spilled) -> bool {
        if self.make_room() == PushOutcome::Refused {
            return false;
        }
        self.add_marker(marker);
        true
    }

    fn add_marker(&mut self, marker: Spilled) {
        self.bytes += u64::from(marker.size);
        self.spilled
            .get_or_insert_default()
            .markers
            .push_back(marker);
    }

    /// Whether a new stored message may become a marker: only while no
    /// message is held, so it is the newest in the queue.
    pub fn may_spill(&self) -> bool {
        self.items.is_empty()
    }

    /// As the session goes offline: every stored QoS 1/2 message held
    /// becomes a marker in its place, and the rest (QoS 0, which offline
    /// sessions do not keep, and anything not stored) is dropped. Returns
    /// how many were dropped.
    pub fn spill(&mut self) -> usize {
        let ahead = self.spilled.as_ref().map_or(0, |s| s.ahead);
        let mut dropped = 0;
        let mut front = Vec::new();
        let mut back = Vec::new();
        let mut n = 0;
        while let Some(item) = self.take_front() {
            match item.stored {
                Some(id) if item.qos != QoS::AtMostOnce => {
                    let m = marker(&item, id);
                    self.bytes += u64::from(m.size);
                    if n < ahead { &mut front } else { &mut back }.push(m);
                }
                _ => dropped += 1,
            }
            n += 1;
        }
        if front.is_empty() && back.is_empty() {
            return dropped;
        }
        let spill = self.spilled.get_or_insert_default();
        for m in front.into_iter().rev() {
            spill.markers.push_front(m);
        }
        spill.markers.extend(back);
        spill.ahead = 0;
        dropped
    }

    /// Whether the next message in order is on disk, or soon will be: the
    /// connection should read the next markers back.
    pub fn wants_read_back(&self) -> bool {
        self.spilled
            .as_ref()
            .is_some_and(|s| s.ahead < READ_BACK / 2 && !s.markers.is_empty())
    }

    /// Whether some queued messages are only on disk.
    pub fn has_spilled(&self) -> bool {
        self.spilled.as_ref().is_some_and(|s| !s.markers.is_empty())
    }

    /// The ids of the next `n` markers, oldest first.
    pub fn spilled_ids(&self, n: usize) -> Vec<StoredId> {
        self.spilled.as_ref().map_or_else(Vec::new, |s| {
            s.markers.iter().take(n).map(|m| m.id).collect()
        })
    }

    /// Put the messages read back from the store in place of the markers
    /// of `ids` (from [`Self::spilled_ids`]; markers already replaced by a
    /// racing read are skipped). A marker whose message is not in `read`
    /// (expired and removed meanwhile) is dropped.
    pub fn unspill(&mut self, ids: &[StoredId], read: Vec<Outgoing>) {
        let Some(spill) = self.spilled.as_mut() else {
            return;
        };
        let wanted: HashSet<StoredId> = ids.iter().copied().collect();
        let mut read: HashMap<StoredId, Outgoing> = read
            .into_iter()
            .filter_map(|o| Some((o.stored?, o)))
            .collect();
        let mut back = Vec::new();
        while let Some(m) = spill.markers.front().copied()
            && wanted.contains(&m.id)
        {
            spill.markers.pop_front();
            self.bytes -= u64::from(m.size);
            back.extend(read.remove(&m.id));
        }
        let at = spill.ahead;
        spill.ahead += back.len();
        if spill.markers.is_empty() {
            self.spilled = None;
        }
        for (i, item) in back.into_iter().enumerate() {
            self.count(&item);
            self.items.insert(at + i, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::sample as item;
    use super::super::{QueueLimits, StoredId, messages};
    use super::*;

    fn stored(qos: QoS, payload: &'static str, id: u64) -> Outgoing {
        Outgoing {
            stored: StoredId::new(id),
            ..item(qos, payload)
        }
    }

    fn payloads(q: &mut OutboundQueue) -> Vec<Bytes> {
        std::iter::from_fn(|| q.pop().map(|o| o.msg.payload.clone())).collect()
    }

    fn id(n: u64) -> StoredId {
        StoredId::new(n).expect("non-zero")
    }

    /// Reads back what `ids` stand for from `all`, like the store would.
    fn read_back(q: &mut OutboundQueue, n: usize, all: &[Outgoing]) {
        let ids = q.spilled_ids(n);
        let read = all
            .iter()
            .filter(|o| o.stored.is_some_and(|s| ids.contains(&s)))
            .cloned()
            .collect();
        q.unspill(&ids, read);
    }

    #[test]
    fn going_offline_turns_stored_messages_into_markers_that_still_count() {
        let mut q = OutboundQueue::new(messages(3));
        q.push(stored(QoS::AtLeastOnce, "a", 1));
        q.push(item(QoS::AtMostOnce, "b"));
        q.push(stored(QoS::ExactlyOnce, "c", 2));
        assert_eq!(q.spill(), 1, "QoS 0 is not kept offline");
        assert!(
            q.front().is_none() && q.pop().is_none(),
            "the next is on disk"
        );
        assert_eq!((q.len(), q.room()), (2, 1));
        assert_eq!(q.spilled_ids(10), [id(1), id(2)]);
        assert!(q.may_spill());
        let d = item(QoS::AtLeastOnce, "d");
        assert_eq!(q.push_spilled(&d, id(3)), PushOutcome::Queued);
        assert_eq!(q.push_spilled(&d, id(4)), PushOutcome::Refused);
        assert!(q.refuses_acked());
    }

    #[test]
    fn messages_read_back_take_their_markers_places_before_newer_ones() {
        let mut q = OutboundQueue::new(messages(10));
        let all: Vec<_> = [(1, "a"), (2, "b"), (3, "c")]
            .into_iter()
            .map(|(n, p)| stored(QoS::AtLeastOnce, p, n))
            .collect();
        for o in &all {
            q.push(o.clone());
        }
        q.spill();
        // Held while reading (the client is resuming): newer than the markers.
        q.push(stored(QoS::AtLeastOnce, "d", 5));
        assert!(!q.may_spill(), "markers must stay older than held messages");
        // "b" expired and was removed from the store meanwhile.
        let without_b = [all[0].clone(), all[2].clone()];
        read_back(&mut q, 10, &without_b);
        assert!(!q.has_spilled());
        assert_eq!(q.len(), 3);
        assert_eq!(payloads(&mut q), ["a", "c", "d"]);
    }

    #[test]
    fn a_backlog_is_read_back_a_chunk_at_a_time_in_order() {
        let mut q = OutboundQueue::new(messages(10_000));
        let mut all: Vec<_> = (1..=2000)
            .map(|n| stored(QoS::AtLeastOnce, "m", n))
            .collect();
        for o in &all {
            q.push_spilled(o, o.stored.expect("stored"));
        }
        // Held behind the markers (it arrived while the client was resuming).
        let newer = stored(QoS::AtLeastOnce, "new", 5000);
        q.push(newer.clone());
        // The store has it too (spilled again when the client goes away).
        all.push(newer);
        let mut sent = Vec::new();
        while !q.is_empty() {
            if q.wants_read_back() {
                read_back(&mut q, READ_BACK, &all);
                assert!(q.len() - q.spilled_ids(usize::MAX).len() <= 2 * READ_BACK);
            }
            // A client that takes a few at a time, then goes away and back.
            for _ in 0..100 {
                match q.pop() {
                    Some(o) => sent.push(o.stored.expect("stored").get()),
                    None => break,
                }
            }
            if sent.len() == 1000 {
                q.spill();
            }
        }
        let expected: Vec<u64> = (1..=2000).chain([5000]).collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn only_the_markers_read_are_replaced() {
        let mut q = OutboundQueue::new(messages(10));
        let a = stored(QoS::AtLeastOnce, "a", 1);
        q.push_spilled(&a, id(1));
        let ids = q.spilled_ids(10);
        q.push_spilled(&item(QoS::AtLeastOnce, "b"), id(2));
        q.unspill(&ids, vec![a.clone()]);
        assert_eq!(q.spilled_ids(10), [id(2)]);
        assert_eq!(q.len(), 2);
        // A second read of the same markers (a racing client) changes nothing.
        q.unspill(&ids, vec![a]);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn markers_count_bytes_until_read_back() {
        let mut q = OutboundQueue::new(QueueLimits {
            messages: 100,
            bytes: 10,
        });
        // A marker restored at start-up counts its record size.
        assert!(q.restore_spilled(Spilled { id: id(1), size: 9 }));
        assert!(q.has_room());
        assert!(q.restore_spilled(Spilled { id: id(2), size: 9 }));
        assert!(!q.has_room());
        assert!(!q.restore_spilled(Spilled { id: id(3), size: 1 }));
        // Read back, they count their topic and payload ("t" + "ab" each).
        let both = [
            stored(QoS::AtLeastOnce, "ab", 1),
            stored(QoS::AtLeastOnce, "ab", 2),
        ];
        read_back(&mut q, 10, &both);
        assert!(q.has_room());
        assert_eq!(payloads(&mut q), ["ab", "ab"]);
        assert!(q.has_room() && q.is_empty());
    }
}
