//! `GET /api/v1/overview`: the numbers a live dashboard polls, read from the
//! same counters as `/metrics` and `$SYS` (rates are the client's job: two
//! polls and their difference).

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::broker::Broker;
use crate::metrics::Metrics;

/// The broker at a glance.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// `courtier` and its version.
    pub version: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Clients connected now.
    pub clients_connected: u64,
    /// Sessions held, connected or not.
    pub sessions: usize,
    /// Subscriptions in the tree.
    pub subscriptions: usize,
    /// Topics with a retained message.
    pub retained_messages: usize,
    /// Network connections accepted since start.
    pub connections_total: u64,
    /// Connections refused at `max_connections`.
    pub connections_refused: u64,
    /// CONNECTs refused by authentication (or the ACL, for the will).
    pub auth_failures: u64,
    /// PUBLISH packets received.
    pub messages_received: u64,
    /// PUBLISH packets sent.
    pub messages_sent: u64,
    /// Bytes read from clients.
    pub bytes_received: u64,
    /// Bytes written to clients.
    pub bytes_sent: u64,
    /// PUBLISH packets refused (`$SYS`, ACL).
    pub publishes_refused: u64,
    /// Subscriptions refused by the ACL.
    pub subscriptions_refused: u64,
    /// Messages not delivered, by reason.
    pub dropped: Dropped,
}

/// Drops by reason, as in `courtier_messages_dropped_total`.
#[derive(Debug, Serialize)]
pub struct Dropped {
    /// A session queue was full.
    pub queue_full: u64,
    /// QoS 0 for an offline session.
    pub offline_qos0: u64,
    /// Larger than the subscriber's Maximum Packet Size.
    pub too_large: u64,
    /// Expired before delivery.
    pub expired: u64,
}

/// Read every number once. Takes the registry, tree and retained locks one
/// after the other, each only to count.
pub fn overview(broker: &Broker) -> Overview {
    let m = &broker.metrics;
    let c = |counter: &AtomicU64| Metrics::get(counter);
    Overview {
        version: format!("courtier {}", env!("CARGO_PKG_VERSION")),
        uptime_seconds: broker.started.elapsed().as_secs(),
        clients_connected: c(&m.clients_connected),
        sessions: broker.sessions.lock().len(),
        subscriptions: broker.tree.read().len(),
        retained_messages: broker.retained.read().len(),
        connections_total: c(&m.connections_total),
        connections_refused: c(&m.connections_refused),
        auth_failures: c(&m.auth_failures),
        messages_received: c(&m.messages_received),
        messages_sent: c(&m.messages_sent),
        bytes_received: c(&m.bytes_received),
        bytes_sent: c(&m.bytes_sent),
        publishes_refused: c(&m.publishes_refused),
        subscriptions_refused: c(&m.subscriptions_refused),
        dropped: Dropped {
            queue_full: c(&m.dropped_queue_full),
            offline_qos0: c(&m.dropped_offline_qos0),
            too_large: c(&m.dropped_too_large),
            expired: c(&m.dropped_expired),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_overview_reads_the_counters() {
        let broker = Broker::new(Config::default());
        Metrics::add(&broker.metrics.messages_received, 4);
        Metrics::add(&broker.metrics.dropped_queue_full, 2);
        broker.publish_sys("$SYS/x", "1".into());
        let o = overview(&broker);
        assert_eq!(o.messages_received, 4);
        assert_eq!(o.dropped.queue_full, 2);
        assert_eq!(o.retained_messages, 1);
        assert!(o.version.starts_with("courtier "));
        let json = serde_json::to_value(&o).expect("serializes");
        assert_eq!(json["dropped"]["queue_full"], 2);
    }
}
