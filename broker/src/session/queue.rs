//! The bounded outbound queue of one session, with its overflow policy.
//!
//! # Overflow policy
//! The queue holds at most `limit` messages (`max_queued_messages`) and,
//! when `max_queued_bytes` is set, stops taking messages once their topics
//! and payloads reach that many bytes (a message is taken while the queue
//! is below it, so the bound is `max_queued_bytes` plus one message, and a
//! message larger than the budget can still pass an empty queue). When a
//! message arrives at a full queue:
//! 1. the oldest queued QoS 0 message is dropped to make room (QoS 0 promises
//!    nothing, and the newest data is usually the most useful); a QoS 0
//!    message never makes anyone wait;
//! 2. if none is queued and the new message is QoS 1 or 2 for an **online**
//!    session, it is not dropped: the push is refused with the message handed
//!    back ([`crate::session::Offer::Full`]), and the publisher's connection
//!    withholds its PUBACK/PUBREC and stops handling that client's packets
//!    (acknowledgements excepted) until this queue has room, then pushes
//!    again. The publisher is slowed to the subscriber's pace (its Receive
//!    Maximum / window stops it) instead of a message being acknowledged and
//!    then lost. A disconnect or takeover of the subscriber wakes it too.
//! 3. for an **offline** session (nobody drains it, so waiting could last
//!    until it expires) and for broker-made messages (wills, retained on
//!    subscribe: no publisher to slow down) the new message is refused:
//!    it is not queued for that session and the drop is counted. A 5.0
//!    publisher learns it: its PUBACK/PUBREC carries 0x97 Quota exceeded
//!    when no matching session took the message. A 3.1.1 publisher cannot
//!    be told; the drop shows only in the counter. Older QoS 1/2 messages
//!    are never evicted for newer ones.
//!
//! # Spilled messages
//! With a store, an **offline** persistent session keeps its queued QoS 1/2
//! messages on disk only: the queue holds a [`Spilled`] marker per message
//! (its stored id, QoS and size, 16 bytes) instead of the message, so
//! thousands of offline sessions with full queues cost their markers, not
//! their payloads. Markers are always older than the messages held: they
//! form the front of the queue, and are read back and put in place of
//! their markers before the session is attached again
//! ([`OutboundQueue::unspill`]). They count against both limits like the
//! messages they stand for.
//!
//! Every drop is reported to the caller, which counts it in
//! [`crate::metrics::Metrics`] as [`crate::metrics::DropReason::QueueFull`].
//! The queue counts its QoS 0 messages, so a full queue of QoS 1/2 refuses
//! in O(1) (a scan for a QoS 0 message to evict, per push into a full queue
//! of 100,000, was 93 % of the broker's CPU in fan-in overload).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;

use courtier_proto::QoS;

use crate::message::Message;
use crate::store::StoredId;

/// A message on its way to one subscriber, with the per-subscription choices
/// already made.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The shared message.
    pub msg: Arc<Message>,
    /// Delivery QoS: min(published, granted).
    pub qos: QoS,
    /// RETAIN flag to send (retained-on-subscribe, or Retain As Published).
    pub retain: bool,
    /// v5 Subscription Identifiers of the matching subscriptions.
    pub subscription_ids: Vec<NonZeroU32>,
    /// Its id in the store when it is persisted for a persistent session.
    pub stored: Option<StoredId>,
}

/// A queued message whose body is only in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spilled {
    /// Its id in the store.
    pub id: StoredId,
    /// What it counts against `max_queued_bytes`.
    pub size: u32,
}

/// What happened to a pushed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued without loss.
    Queued,
    /// Queued, and the oldest QoS 0 message was dropped for it.
    QueuedDroppedOldest,
    /// Not queued: the queue is full of QoS 1/2 messages.
    Refused,
}

impl PushOutcome {
    /// Whether the pushed message is in the queue.
    pub fn is_kept(self) -> bool {
        self != Self::Refused
    }
}

/// How much one session's queue may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// Messages (`max_queued_messages`).
    pub messages: usize,
    /// Bytes of topics and payloads (`max_queued_bytes`); 0: no byte limit.
    pub bytes: usize,
}

/// A FIFO of [`Outgoing`] messages bounded by [`QueueLimits`].
#[derive(Debug)]
pub struct OutboundQueue {
    items: VecDeque<Outgoing>,
    /// `limits.messages`, narrowed: one per session, so every byte counts.
    limit: u32,
    /// How many of `items` are QoS 0: none means nothing can be evicted.
    qos0: u32,
    /// `limits.bytes` (0: none).
    byte_limit: u64,
    /// Bytes of all of `items`, and of the QoS 0 ones ([`size`]).
    bytes: u64,
    qos0_bytes: u64,
    /// Messages only on disk, older than every one in `items` (boxed:
    /// offline persistent sessions only, and every session holds a queue).
    #[allow(clippy::box_collection)]
    spilled: Option<Box<VecDeque<Spilled>>>,
}

/// What a queued message counts against `max_queued_bytes`.
fn size(item: &Outgoing) -> u64 {
    (item.msg.payload.len() + item.msg.topic.as_str().len()) as u64
}

impl OutboundQueue {
    /// An empty queue within `limits`. Allocation grows on demand, so idle
    /// sessions cost nothing.
    pub fn new(limits: QueueLimits) -> Self {
        Self {
            items: VecDeque::new(),
            limit: u32::try_from(limits.messages).unwrap_or(u32::MAX),
            qos0: 0,
            byte_limit: limits.bytes as u64,
            bytes: 0,
            qos0_bytes: 0,
            spilled: None,
        }
    }

    /// Messages only on disk.
    fn spilled_len(&self) -> usize {
        self.spilled.as_ref().map_or(0, |s| s.len())
    }

    /// Whether `count` messages of `bytes` bytes fill the queue.
    fn full_at(&self, count: usize, bytes: u64) -> bool {
        count >= self.limit as usize || (self.byte_limit > 0 && bytes >= self.byte_limit)
    }

    /// Make room for one more message by the overflow policy above:
    /// `Queued` if there was room, `QueuedDroppedOldest` if QoS 0 messages
    /// were evicted for it, `Refused` if there is none.
    fn make_room(&mut self) -> PushOutcome {
        if !self.full_at(self.len(), self.bytes) {
            return PushOutcome::Queued;
        }
        // Room only by evicting QoS 0 messages, and only if evicting
        // them all would make enough: never evict in vain.
        let without_qos0 = (
            self.len() - self.qos0 as usize,
            self.bytes - self.qos0_bytes,
        );
        if self.full_at(without_qos0.0, without_qos0.1) {
            return PushOutcome::Refused;
        }
        while self.full_at(self.len(), self.bytes) {
            let Some(pos) = self.items.iter().position(|o| o.qos == QoS::AtMostOnce) else {
                break;
            };
            if let Some(old) = self.items.remove(pos) {
                self.forget(&old);
            }
        }
        PushOutcome::QueuedDroppedOldest
    }

    /// Add a message, applying the overflow policy above.
    pub fn push(&mut self, item: Outgoing) -> PushOutcome {
        let outcome = self.make_room();
        if outcome == PushOutcome::Refused {
            return outcome;
        }
        self.count(&item);
        self.items.push_back(item);
        outcome
    }

    /// Take `item`, about to be added, into the counts.
    fn count(&mut self, item: &Outgoing) {
        let n = size(item);
        self.bytes += n;
        if item.qos == QoS::AtMostOnce {
            self.qos0 += 1;
            self.qos0_bytes += n;
        }
    }

    /// Take `item`, just removed, out of the counts.
    fn forget(&mut self, item: &Outgoing) {
        let n = size(item);
        self.bytes -= n;
        if item.qos == QoS::AtMostOnce {
            self.qos0 -= 1;
            self.qos0_bytes -= n;
        }
    }

    /// How many messages could be pushed now without evicting or refusing
    /// anything, counting messages only: past `max_queued_bytes` it is 0,
    /// below it each push must be checked with [`Self::has_room`].
    pub fn room(&self) -> usize {
        if self.has_room() {
            (self.limit as usize).saturating_sub(self.len())
        } else {
            0
        }
    }

    /// Whether a message pushed now would be taken without evicting or
    /// refusing anything.
    pub fn has_room(&self) -> bool {
        !self.full_at(self.len(), self.bytes)
    }

    /// Add a stored QoS 1/2 message of an offline session as a marker
    /// only, applying the overflow policy above. `item` must be newer than
    /// every message queued (it is, while the session is offline: nothing
    /// else is pushed then).
    pub fn push_spilled(&mut self, item: &Outgoing, id: StoredId) -> PushOutcome {
        let outcome = self.make_room();
        if outcome == PushOutcome::Refused {
            return outcome;
        }
        self.add_spilled(Spilled {
            id,
            size: u32::try_from(size(item)).unwrap_or(u32::MAX),
        });
        outcome
    }

    fn add_spilled(&mut self, marker: Spilled) {
        self.bytes += u64::from(marker.size);
        self.spilled.get_or_insert_default().push_back(marker);
    }

    /// Replace the messages held by markers, oldest first: every stored
    /// QoS 1/2 message becomes a [`Spilled`] marker, and the rest (QoS 0,
    /// which offline sessions do not keep, and anything not stored) is
    /// dropped. Returns how many were dropped. Called as the session goes
    /// offline.
    pub fn spill(&mut self) -> usize {
        let mut dropped = 0;
        while let Some(item) = self.pop() {
            match item.stored {
                Some(id) if item.qos != QoS::AtMostOnce => self.add_spilled(Spilled {
                    id,
                    size: u32::try_from(size(&item)).unwrap_or(u32::MAX),
                }),
                _ => dropped += 1,
            }
        }
        dropped
    }

    /// The ids of the messages only on disk, oldest first.
    pub fn spilled_ids(&self) -> Vec<StoredId> {
        self.spilled
            .as_ref()
            .map_or_else(Vec::new, |s| s.iter().map(|m| m.id).collect())
    }

    /// Put the messages read back from the store in place of the markers
    /// of `ids` (a snapshot of [`Self::spilled_ids`]: a prefix of the
    /// markers, as newer ones are only ever added behind), in queue order,
    /// before the messages held. A marker whose message is not in `read`
    /// (expired and removed meanwhile) is dropped.
    pub fn unspill(&mut self, ids: &[StoredId], read: Vec<Outgoing>) {
        let Some(markers) = self.spilled.as_mut() else {
            return;
        };
        let wanted: std::collections::HashSet<StoredId> = ids.iter().copied().collect();
        let mut read: std::collections::HashMap<StoredId, Outgoing> = read
            .into_iter()
            .filter_map(|o| Some((o.stored?, o)))
            .collect();
        let mut back = Vec::new();
        while let Some(marker) = markers.front().copied()
            && wanted.contains(&marker.id)
        {
            markers.pop_front();
            self.bytes -= u64::from(marker.size);
            back.extend(read.remove(&marker.id));
        }
        if markers.is_empty() {
            self.spilled = None;
        }
        for item in back.into_iter().rev() {
            self.count(&item);
            self.items.push_front(item);
        }
    }

    /// Put a marker read from the store at start-up behind the others,
    /// within the limits. `false` if the queue is full.
    pub fn restore_spilled(&mut self, marker: Spilled) -> bool {
        if self.make_room() == PushOutcome::Refused {
            return false;
        }
        self.add_spilled(marker);
        true
    }

    /// Whether a new stored message may become a marker: only while no
    /// message is held, so markers stay older than every held one.
    pub fn may_spill(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether a QoS 1/2 message pushed now would be refused: full, and no
    /// QoS 0 message whose eviction would make room.
    pub fn refuses_acked(&self) -> bool {
        self.full_at(self.len(), self.bytes)
            && self.full_at(
                self.len() - self.qos0 as usize,
                self.bytes - self.qos0_bytes,
            )
    }

    /// The next message to send (markers aside: a session is attached
    /// only once its markers are replaced).
    pub fn front(&self) -> Option<&Outgoing> {
        self.items.front()
    }

    /// Take the next message.
    pub fn pop(&mut self) -> Option<Outgoing> {
        let item = self.items.pop_front();
        if let Some(item) = &item {
            self.forget(item);
        }
        if self.items.is_empty() && self.items.capacity() > 64 {
            // A burst is over: give the memory back (idle footprint).
            self.items = VecDeque::new();
        }
        item
    }

    /// Number of queued messages, markers included.
    pub fn len(&self) -> usize {
        self.items.len() + self.spilled_len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some queued messages are only on disk.
    pub fn has_spilled(&self) -> bool {
        self.spilled_len() > 0
    }
}

/// A delivery of a small message on topic `t`, for tests.
#[cfg(test)]
pub(crate) fn sample(qos: QoS, payload: &'static str) -> Outgoing {
    Outgoing {
        msg: Arc::new(Message {
            topic: courtier_proto::TopicName::new("t").expect("valid"),
            payload: bytes::Bytes::from_static(payload.as_bytes()),
            qos,
            retain: false,
            properties: courtier_proto::packet::PublishProperties::default(),
            expires_at: None,
        }),
        qos,
        retain: false,
        subscription_ids: Vec::new(),
        stored: None,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::sample as item;
    use super::*;

    fn messages(n: usize) -> QueueLimits {
        QueueLimits {
            messages: n,
            bytes: 0,
        }
    }

    #[test]
    fn full_queue_drops_oldest_qos0_then_refuses() {
        let mut q = OutboundQueue::new(messages(2));
        assert_eq!(q.push(item(QoS::AtMostOnce, "a")), PushOutcome::Queued);
        assert_eq!(q.push(item(QoS::AtLeastOnce, "b")), PushOutcome::Queued);
        assert_eq!(
            q.push(item(QoS::AtLeastOnce, "c")),
            PushOutcome::QueuedDroppedOldest
        );
        assert_eq!(q.push(item(QoS::ExactlyOnce, "d")), PushOutcome::Refused);
        assert!(q.refuses_acked(), "full of QoS 1/2: nothing to evict");
        let order: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|o| o.msg.payload.clone())
            .collect();
        assert_eq!(
            order,
            vec![Bytes::from_static(b"b"), Bytes::from_static(b"c")]
        );
        assert!(!q.refuses_acked());
    }

    #[test]
    fn a_queued_qos0_message_makes_room_for_qos1() {
        let mut q = OutboundQueue::new(messages(2));
        q.push(item(QoS::AtLeastOnce, "a"));
        q.push(item(QoS::AtMostOnce, "b"));
        assert!(!q.refuses_acked(), "b can be evicted");
        assert_eq!(
            q.push(item(QoS::AtLeastOnce, "c")),
            PushOutcome::QueuedDroppedOldest
        );
        assert!(q.refuses_acked());
        q.pop();
        assert_eq!(q.push(item(QoS::AtMostOnce, "d")), PushOutcome::Queued);
        q.pop();
        q.pop();
        assert!(q.is_empty() && !q.refuses_acked());
    }

    /// Topic `t` (1 byte) and a 9-byte payload: 10 bytes a message.
    const TEN: &str = "123456789";

    #[test]
    fn the_byte_budget_fills_the_queue_too() {
        let mut q = OutboundQueue::new(QueueLimits {
            messages: 100,
            bytes: 25,
        });
        assert_eq!(q.push(item(QoS::AtLeastOnce, TEN)), PushOutcome::Queued);
        assert_eq!(q.push(item(QoS::AtMostOnce, TEN)), PushOutcome::Queued);
        // 20 bytes, below 25: taken, over the budget by less than a message.
        assert_eq!(q.push(item(QoS::AtLeastOnce, TEN)), PushOutcome::Queued);
        assert!(!q.refuses_acked(), "evicting the QoS 0 one makes room");
        assert_eq!(
            q.push(item(QoS::AtLeastOnce, TEN)),
            PushOutcome::QueuedDroppedOldest
        );
        // 30 bytes of QoS 1: nothing to evict.
        assert!(q.refuses_acked());
        assert_eq!(q.push(item(QoS::AtMostOnce, TEN)), PushOutcome::Refused);
        q.pop();
        q.pop();
        assert!(!q.refuses_acked(), "10 bytes left");
        // A message larger than the whole budget passes a queue below it.
        let mut big = OutboundQueue::new(QueueLimits {
            messages: 10,
            bytes: 5,
        });
        assert_eq!(big.push(item(QoS::AtLeastOnce, TEN)), PushOutcome::Queued);
        assert!(big.refuses_acked());
    }

    #[test]
    fn the_byte_count_follows_pushes_evictions_and_pops() {
        let mut q = OutboundQueue::new(QueueLimits {
            messages: 2,
            bytes: 0,
        });
        q.push(item(QoS::AtMostOnce, TEN));
        q.push(item(QoS::AtLeastOnce, TEN));
        q.push(item(QoS::AtLeastOnce, TEN));
        assert_eq!((q.bytes, q.qos0_bytes), (20, 0));
        q.pop();
        q.pop();
        assert_eq!((q.bytes, q.qos0, q.qos0_bytes), (0, 0, 0));
    }

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

    #[test]
    fn going_offline_turns_stored_messages_into_markers_that_still_count() {
        let mut q = OutboundQueue::new(QueueLimits {
            messages: 3,
            bytes: 0,
        });
        q.push(stored(QoS::AtLeastOnce, "a", 1));
        q.push(item(QoS::AtMostOnce, "b"));
        q.push(stored(QoS::ExactlyOnce, "c", 2));
        assert_eq!(q.spill(), 1, "QoS 0 is not kept offline");
        assert!(q.front().is_none());
        assert_eq!((q.len(), q.room()), (2, 1));
        assert_eq!(q.spilled_ids(), [id(1), id(2)]);
        // New stored messages become markers too, within the limit.
        assert!(q.may_spill());
        assert_eq!(
            q.push_spilled(&item(QoS::AtLeastOnce, "d"), id(3)),
            PushOutcome::Queued
        );
        assert_eq!(
            q.push_spilled(&item(QoS::AtLeastOnce, "e"), id(4)),
            PushOutcome::Refused
        );
        assert!(q.refuses_acked());
    }

    #[test]
    fn messages_read_back_take_their_markers_places_before_the_held_ones() {
        let mut q = OutboundQueue::new(messages(10));
        for (n, p) in [(1, "a"), (2, "b"), (3, "c")] {
            q.push(stored(QoS::AtLeastOnce, p, n));
        }
        q.spill();
        let ids = q.spilled_ids();
        // Held while reading (the client is resuming): newer than the markers.
        q.push(stored(QoS::AtLeastOnce, "d", 5));
        assert!(!q.may_spill(), "markers must stay older than held messages");
        // "b" expired and was removed from the store meanwhile.
        q.unspill(
            &ids,
            vec![
                stored(QoS::AtLeastOnce, "c", 3),
                stored(QoS::AtLeastOnce, "a", 1),
            ],
        );
        assert!(!q.has_spilled());
        assert_eq!(q.len(), 3);
        assert_eq!(payloads(&mut q), ["a", "c", "d"]);
    }

    #[test]
    fn only_the_markers_read_are_replaced() {
        let mut q = OutboundQueue::new(messages(10));
        q.push_spilled(&item(QoS::AtLeastOnce, "a"), id(1));
        let ids = q.spilled_ids();
        q.push_spilled(&item(QoS::AtLeastOnce, "b"), id(2));
        q.unspill(&ids, vec![stored(QoS::AtLeastOnce, "a", 1)]);
        assert_eq!(q.spilled_ids(), [id(2)]);
        assert_eq!(q.len(), 2);
        // A second resume of the same snapshot (a racing client) changes nothing.
        q.unspill(&ids, vec![stored(QoS::AtLeastOnce, "a", 1)]);
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
        let ids = q.spilled_ids();
        q.unspill(
            &ids,
            vec![
                stored(QoS::AtLeastOnce, "ab", 1),
                stored(QoS::AtLeastOnce, "ab", 2),
            ],
        );
        assert!(q.has_room());
        assert_eq!(payloads(&mut q), ["ab", "ab"]);
        assert!(q.has_room() && q.is_empty());
    }
}
