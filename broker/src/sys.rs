//! `$SYS/broker/...`: the Mosquitto-style status topics, published retained
//! every `sys_interval`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::broker::Broker;
use crate::metrics::Metrics;

/// Publish the status topics now and then every `every` until `stop`.
pub async fn publish_loop(broker: Arc<Broker>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => publish_once(&broker),
        }
    }
}

/// One round of `$SYS` updates.
pub fn publish_once(broker: &Broker) {
    let m = &broker.metrics;
    let subscriptions = broker.tree.read().len();
    let retained = broker.retained.read().len();
    let uptime = broker.started.elapsed().as_secs();
    let values: [(&str, String); 14] = [
        (
            "$SYS/broker/version",
            format!("courtier {}", env!("CARGO_PKG_VERSION")),
        ),
        ("$SYS/broker/uptime", format!("{uptime} seconds")),
        (
            "$SYS/broker/clients/connected",
            Metrics::get(&m.clients_connected).to_string(),
        ),
        (
            "$SYS/broker/messages/received",
            Metrics::get(&m.messages_received).to_string(),
        ),
        (
            "$SYS/broker/messages/sent",
            Metrics::get(&m.messages_sent).to_string(),
        ),
        (
            "$SYS/broker/bytes/received",
            Metrics::get(&m.bytes_received).to_string(),
        ),
        (
            "$SYS/broker/bytes/sent",
            Metrics::get(&m.bytes_sent).to_string(),
        ),
        ("$SYS/broker/subscriptions/count", subscriptions.to_string()),
        ("$SYS/broker/retained messages/count", retained.to_string()),
        ("$SYS/broker/messages/dropped", dropped(m).to_string()),
        (
            "$SYS/broker/messages/dropped/queue full",
            Metrics::get(&m.dropped_queue_full).to_string(),
        ),
        (
            "$SYS/broker/messages/dropped/offline qos0",
            Metrics::get(&m.dropped_offline_qos0).to_string(),
        ),
        (
            "$SYS/broker/messages/dropped/too large",
            Metrics::get(&m.dropped_too_large).to_string(),
        ),
        (
            "$SYS/broker/messages/dropped/expired",
            Metrics::get(&m.dropped_expired).to_string(),
        ),
    ];
    for (topic, value) in values {
        broker.publish_sys(topic, value);
    }
}

fn dropped(m: &Metrics) -> u64 {
    [
        &m.dropped_queue_full,
        &m.dropped_offline_qos0,
        &m.dropped_too_large,
        &m.dropped_expired,
    ]
    .into_iter()
    .map(Metrics::get)
    .sum()
}
