//! `GET /metrics` on the HTTP listeners: the broker's counters in the
//! Prometheus text exposition format (version 0.0.4).
//!
//! The same relaxed atomics the `$SYS` topics read; rendering takes the
//! subscription-tree and retained-store read locks once each, only to count.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::broker::Broker;
use crate::metrics::Metrics;

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every metric, with its help line and type.
pub fn render(broker: &Broker) -> String {
    let m = &broker.metrics;
    let c = Metrics::get;
    let mut out = String::with_capacity(4096);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    metric(
        "courtier_uptime_seconds",
        "gauge",
        "Seconds since the broker started.",
        &[("", broker.started.elapsed().as_secs())],
    );
    metric(
        "courtier_clients_connected",
        "gauge",
        "Clients connected (CONNACK sent, connection still open).",
        &[("", c(&m.clients_connected))],
    );
    metric(
        "courtier_connections_total",
        "counter",
        "Network connections accepted.",
        &[("", c(&m.connections_total))],
    );
    metric(
        "courtier_connections_refused_total",
        "counter",
        "Connections refused because max_connections was reached.",
        &[("", c(&m.connections_refused))],
    );
    metric(
        "courtier_auth_failures_total",
        "counter",
        "CONNECTs refused by authentication, or by the ACL for their will's topic.",
        &[("", c(&m.auth_failures))],
    );
    metric(
        "courtier_messages_received_total",
        "counter",
        "PUBLISH packets received from clients.",
        &[("", c(&m.messages_received))],
    );
    metric(
        "courtier_messages_sent_total",
        "counter",
        "PUBLISH packets sent to clients.",
        &[("", c(&m.messages_sent))],
    );
    let by_qos = |counters: &[AtomicU64; 3]| {
        [
            ("{qos=\"0\"}", c(&counters[0])),
            ("{qos=\"1\"}", c(&counters[1])),
            ("{qos=\"2\"}", c(&counters[2])),
        ]
    };
    metric(
        "courtier_publish_received_total",
        "counter",
        "PUBLISH packets received from clients, by QoS.",
        &by_qos(&m.received_by_qos),
    );
    metric(
        "courtier_publish_sent_total",
        "counter",
        "PUBLISH packets sent to clients, by QoS.",
        &by_qos(&m.sent_by_qos),
    );
    metric(
        "courtier_payload_received_bytes_total",
        "counter",
        "Payload bytes of the PUBLISH packets received, by QoS.",
        &by_qos(&m.payload_received_by_qos),
    );
    metric(
        "courtier_payload_sent_bytes_total",
        "counter",
        "Payload bytes of the PUBLISH packets sent, by QoS.",
        &by_qos(&m.payload_sent_by_qos),
    );
    metric(
        "courtier_bytes_received_total",
        "counter",
        "Bytes read from clients.",
        &[("", c(&m.bytes_received))],
    );
    metric(
        "courtier_bytes_sent_total",
        "counter",
        "Bytes written to clients.",
        &[("", c(&m.bytes_sent))],
    );
    metric(
        "courtier_messages_dropped_total",
        "counter",
        "Messages meant for a subscriber and not delivered, by reason.",
        &[
            ("{reason=\"queue_full\"}", c(&m.dropped_queue_full)),
            ("{reason=\"offline_qos0\"}", c(&m.dropped_offline_qos0)),
            ("{reason=\"too_large\"}", c(&m.dropped_too_large)),
            ("{reason=\"expired\"}", c(&m.dropped_expired)),
        ],
    );
    metric(
        "courtier_publishes_refused_total",
        "counter",
        "PUBLISH packets refused: $SYS topics, or not granted by the ACL.",
        &[("", c(&m.publishes_refused))],
    );
    metric(
        "courtier_subscriptions_refused_total",
        "counter",
        "Subscriptions refused by the ACL.",
        &[("", c(&m.subscriptions_refused))],
    );
    metric(
        "courtier_reloads_total",
        "counter",
        "Reloads of the password file, ACL file and TLS certificate, by result.",
        &[
            ("{result=\"ok\"}", c(&m.reloads)),
            ("{result=\"failed\"}", c(&m.reload_failures)),
        ],
    );
    metric(
        "courtier_limit_refusals_total",
        "counter",
        "Requests refused by a limit, by limit (max_connections: courtier_connections_refused_total).",
        &[
            (
                "{limit=\"subscriptions\"}",
                c(&m.refused_subscription_quota),
            ),
            ("{limit=\"topic\"}", c(&m.refused_topic_limits)),
            ("{limit=\"connection_rate\"}", c(&m.refused_connection_rate)),
            (
                "{limit=\"listener_connections\"}",
                c(&m.refused_listener_full),
            ),
            ("{limit=\"publish_rate\"}", c(&m.throttled_publishers)),
        ],
    );
    metric(
        "courtier_slow_subscribers_disconnected_total",
        "counter",
        "Subscribers disconnected (0x97) for accepting nothing for slow_subscriber_timeout while publishers waited.",
        &[("", c(&m.slow_subscribers_disconnected))],
    );
    if let Some(store) = broker.store.stats() {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        metric(
            "courtier_store_commits_total",
            "counter",
            "Store transactions committed (group commit: many ops each).",
            &[("", get(&store.commits))],
        );
        metric(
            "courtier_store_ops_total",
            "counter",
            "Store operations committed.",
            &[("", get(&store.ops))],
        );
        metric(
            "courtier_store_commit_microseconds_total",
            "counter",
            "Time spent committing; divided by commits, the mean latency a durable acknowledgement waits.",
            &[("", get(&store.commit_micros))],
        );
        metric(
            "courtier_store_commit_max_microseconds",
            "gauge",
            "The longest single commit since start.",
            &[("", get(&store.max_commit_micros))],
        );
    }
    let listeners: Vec<(String, u64)> = broker
        .listener_connections
        .lock()
        .iter()
        .map(|(kind, addr, open)| {
            let labels = format!("{{listener=\"{kind}\",address=\"{addr}\"}}");
            (labels, open.load(Ordering::Relaxed))
        })
        .collect();
    if !listeners.is_empty() {
        let samples: Vec<(&str, u64)> = listeners.iter().map(|(l, n)| (l.as_str(), *n)).collect();
        metric(
            "courtier_connections",
            "gauge",
            "Connections open, by listener (on HTTP listeners: WebSocket connections).",
            &samples,
        );
    }
    let violations: Vec<(String, u64)> = m
        .violations
        .lock()
        .iter()
        .map(|(&code, &n)| {
            let reason = courtier_proto::ReasonCode::from_u8(code)
                .map_or("unknown", courtier_proto::ReasonCode::description);
            (format!("{{code=\"0x{code:02X}\",reason=\"{reason}\"}}"), n)
        })
        .collect();
    if !violations.is_empty() {
        let samples: Vec<(&str, u64)> = violations.iter().map(|(l, n)| (l.as_str(), *n)).collect();
        metric(
            "courtier_protocol_violations_total",
            "counter",
            "Connections closed for breaking the protocol or a limit, by v5 reason code.",
            &samples,
        );
    }
    let (online, offline, queued) = sessions(broker);
    metric(
        "courtier_sessions",
        "gauge",
        "Sessions, by whether a client is connected to them.",
        &[
            ("{state=\"online\"}", online),
            ("{state=\"offline\"}", offline),
        ],
    );
    metric(
        "courtier_queued_messages",
        "gauge",
        "Messages waiting in session queues (not yet sent, or offline).",
        &[("", queued)],
    );
    let subscriptions = broker.tree.read().len() as u64;
    metric(
        "courtier_subscriptions",
        "gauge",
        "Subscriptions in the subscription tree.",
        &[("", subscriptions)],
    );
    let retained = broker.retained.read().len() as u64;
    metric(
        "courtier_retained_messages",
        "gauge",
        "Retained messages stored.",
        &[("", retained)],
    );
    out
}

/// `(online, offline, queued messages)` over every session. The registry
/// lock is held only to copy the session list; each session's own lock
/// only to read two fields (the registry → session lock order is kept).
fn sessions(broker: &Broker) -> (u64, u64, u64) {
    let all: Vec<_> = broker.sessions.lock().values().cloned().collect();
    let (mut online, mut offline, mut queued) = (0, 0, 0);
    for session in all {
        let st = session.state.lock();
        if st.owner.is_some() {
            online += 1;
        } else {
            offline += 1;
        }
        queued += st.queue.len() as u64;
    }
    (online, offline, queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_metric_has_help_type_and_a_sample() {
        let broker = Broker::new(Config::default());
        Metrics::add(&broker.metrics.messages_received, 3);
        Metrics::add(&broker.metrics.dropped_expired, 2);
        let text = render(&broker);
        assert!(
            text.contains("\ncourtier_messages_received_total 3\n"),
            "{text}"
        );
        assert!(text.contains("courtier_messages_dropped_total{reason=\"expired\"} 2\n"));
        let mut names = 0;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("name and type");
                assert!(matches!(kind, "counter" | "gauge"), "{line}");
                assert!(
                    text.lines()
                        .any(|l| l.starts_with(name) && !l.starts_with('#')),
                    "{name} has a sample"
                );
                names += 1;
            } else if !line.starts_with("# HELP ") {
                let (series, value) = line.rsplit_once(' ').expect("series and value");
                assert!(series.starts_with("courtier_"), "{line}");
                value.parse::<u64>().expect("a number");
            }
        }
        assert_eq!(names, 23);
    }
}
