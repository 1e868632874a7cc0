//! Broker-wide counters, as relaxed atomics: cheap to bump on the hot path,
//! read by the `$SYS` publisher (and later `/metrics`).

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a message meant for a subscriber was not delivered. Every drop is
/// counted under one of these, never silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The session queue was full ([`crate::session::queue`] overflow policy).
    QueueFull,
    /// A QoS 0 message for an offline session: not queued, by design.
    OfflineQos0,
    /// Larger than the subscriber's Maximum Packet Size ([MQTT-3.1.2-25]).
    TooLarge,
    /// Its Message Expiry Interval ran out before delivery.
    Expired,
}

/// Counters since startup.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Clients currently connected (CONNACK sent, not yet closed).
    pub clients_connected: AtomicU64,
    /// Network connections accepted.
    pub connections_total: AtomicU64,
    /// Connections refused because `max_connections` was reached.
    pub connections_refused: AtomicU64,
    /// PUBLISH packets received from clients.
    pub messages_received: AtomicU64,
    /// PUBLISH packets sent to clients.
    pub messages_sent: AtomicU64,
    /// PUBLISH packets received, by QoS (0, 1, 2).
    pub received_by_qos: [AtomicU64; 3],
    /// PUBLISH packets sent, by QoS.
    pub sent_by_qos: [AtomicU64; 3],
    /// Payload bytes of the PUBLISH packets received, by QoS.
    pub payload_received_by_qos: [AtomicU64; 3],
    /// Payload bytes of the PUBLISH packets sent, by QoS.
    pub payload_sent_by_qos: [AtomicU64; 3],
    /// Bytes read from clients.
    pub bytes_received: AtomicU64,
    /// Bytes written to clients.
    pub bytes_sent: AtomicU64,
    /// Drops: session queue full.
    pub dropped_queue_full: AtomicU64,
    /// Drops: QoS 0 for an offline session.
    pub dropped_offline_qos0: AtomicU64,
    /// Drops: too large for the subscriber.
    pub dropped_too_large: AtomicU64,
    /// Drops: expired before delivery.
    pub dropped_expired: AtomicU64,
    /// PUBLISH packets refused: `$SYS` topics, or not granted by the ACL.
    pub publishes_refused: AtomicU64,
    /// Subscriptions refused by the ACL.
    pub subscriptions_refused: AtomicU64,
    /// CONNECTs refused by authentication or by the ACL (the will's topic).
    pub auth_failures: AtomicU64,
    /// Reloads (SIGHUP, file change) that put every file in force.
    pub reloads: AtomicU64,
    /// Reloads where a file failed to load (what was in force stayed).
    pub reload_failures: AtomicU64,
    /// Limits (`limits.rs`): subscriptions refused past `max_subscriptions`.
    pub refused_subscription_quota: AtomicU64,
    /// PUBLISH and SUBSCRIBE refused past `max_topic_length` / `max_topic_levels`.
    pub refused_topic_limits: AtomicU64,
    /// CONNECTs refused past `max_connection_rate`.
    pub refused_connection_rate: AtomicU64,
    /// Connections closed at accept past `max_connections_per_listener`.
    pub refused_listener_full: AtomicU64,
    /// Times a client's reading was paused past `max_publish_rate`.
    pub throttled_publishers: AtomicU64,
    /// Subscribers disconnected after `slow_subscriber_timeout` without progress.
    pub slow_subscribers_disconnected: AtomicU64,
    /// Connections closed for a protocol violation, by the v5 reason code
    /// they were closed with (0x95 past `max_packet_size`, 0x93 past our
    /// Receive Maximum, 0x81 malformed, ...). Rare: a lock is fine.
    pub violations: parking_lot::Mutex<std::collections::BTreeMap<u8, u64>>,
}

impl Metrics {
    /// Add `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Read a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Count one PUBLISH in (`sent` false) or out, of `qos` with `payload` bytes.
    pub fn publish(&self, sent: bool, qos: courtier_proto::QoS, payload: usize) {
        let (total, count, bytes) = if sent {
            (
                &self.messages_sent,
                &self.sent_by_qos,
                &self.payload_sent_by_qos,
            )
        } else {
            (
                &self.messages_received,
                &self.received_by_qos,
                &self.payload_received_by_qos,
            )
        };
        let q = qos as usize;
        Self::add(total, 1);
        Self::add(&count[q], 1);
        Self::add(&bytes[q], payload as u64);
    }

    /// Count one dropped message.
    pub fn dropped(&self, reason: DropReason) {
        let counter = match reason {
            DropReason::QueueFull => &self.dropped_queue_full,
            DropReason::OfflineQos0 => &self.dropped_offline_qos0,
            DropReason::TooLarge => &self.dropped_too_large,
            DropReason::Expired => &self.dropped_expired,
        };
        Self::add(counter, 1);
    }
}
