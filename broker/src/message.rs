//! The application message as the broker stores and fans it out.
//!
//! A [`Message`] is built once per inbound PUBLISH (or will, or `$SYS`
//! update) and shared as `Arc<Message>` by every session queue and by the
//! retained store: fan-out clones a pointer, never the payload.

use std::time::Instant;

use bytes::Bytes;
use courtier_proto::packet::PublishProperties;
use courtier_proto::{QoS, TopicName};

/// One application message, immutable once routed.
#[derive(Debug)]
pub struct Message {
    /// Where it was published (never empty: aliases are resolved first).
    pub topic: TopicName,
    /// The payload, a zero-copy slice of the publisher's read buffer.
    pub payload: Bytes,
    /// The QoS it was published with; deliveries use the minimum with the
    /// subscription's granted QoS.
    pub qos: QoS,
    /// The RETAIN flag as published (kept only for Retain As Published).
    pub retain: bool,
    /// v5 properties forwarded unchanged, except Topic Alias and Subscription
    /// Identifier (per connection / per subscription, so cleared here) and
    /// Message Expiry Interval (recomputed from `expires_at` on forward).
    pub properties: PublishProperties,
    /// When the Message Expiry Interval runs out, if one was given.
    pub expires_at: Option<Instant>,
}

impl Message {
    /// True once the Message Expiry Interval has passed.
    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The Message Expiry Interval to forward: what remains of the original,
    /// rounded up so an unexpired message never goes out as 0 seconds.
    pub fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        self.expires_at.map(|at| {
            let left = at.saturating_duration_since(now);
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            u32::try_from(secs).unwrap_or(u32::MAX).max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn msg(expires_at: Option<Instant>) -> Message {
        Message {
            topic: TopicName::new("a").expect("valid"),
            payload: Bytes::new(),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: PublishProperties::default(),
            expires_at,
        }
    }

    #[test]
    fn expiry_is_decremented_and_rounded_up() {
        let now = Instant::now();
        let m = msg(Some(now + Duration::from_millis(2500)));
        assert_eq!(m.remaining_expiry(now), Some(3));
        assert_eq!(m.remaining_expiry(now + Duration::from_secs(2)), Some(1));
        assert!(!m.is_expired(now + Duration::from_secs(2)));
        assert!(m.is_expired(now + Duration::from_secs(3)));
        assert_eq!(msg(None).remaining_expiry(now), None);
    }
}
