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
//! With a store, an offline persistent session keeps its queued messages
//! on disk, with a marker each in memory: see `queue_spill.rs`.
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

#[path = "queue_spill.rs"]
mod spill;
pub use self::spill::{READ_BACK, Spilled};

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
    /// Messages only on disk (boxed: offline persistent sessions only,
    /// and every session holds a queue); see `queue_spill.rs`.
    spilled: Option<Box<spill::Spill>>,
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
        self.spilled.as_ref().map_or(0, |s| s.markers.len())
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

    /// Whether a QoS 1/2 message pushed now would be refused: full, and no
    /// QoS 0 message whose eviction would make room.
    pub fn refuses_acked(&self) -> bool {
        self.full_at(self.len(), self.bytes)
            && self.full_at(
                self.len() - self.qos0 as usize,
                self.bytes - self.qos0_bytes,
            )
    }

    /// The next message to send: none while the next in order is only on
    /// disk (a marker; `queue_spill.rs`).
    pub fn front(&self) -> Option<&Outgoing> {
        if self.spilled.as_ref().is_some_and(|s| s.ahead == 0) {
            return None;
        }
        self.items.front()
    }

    /// Take the next message ([`Self::front`]).
    pub fn pop(&mut self) -> Option<Outgoing> {
        if let Some(spill) = self.spilled.as_mut() {
            if spill.ahead == 0 {
                return None;
            }
            spill.ahead -= 1;
        }
        self.take_front()
    }

    /// Take the first message held, markers or not.
    fn take_front(&mut self) -> Option<Outgoing> {
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

/// Limits of `n` messages and no byte limit, for tests.
#[cfg(test)]
fn messages(n: usize) -> QueueLimits {
    QueueLimits {
        messages: n,
        bytes: 0,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::sample as item;
    use super::*;

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
}
