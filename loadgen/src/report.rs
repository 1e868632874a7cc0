//! One run's figures: a JSON line for the harness and a human-readable block.

use std::fmt::Write as _;

use serde::Serialize;

use crate::conn::Transport;
use crate::scenario::Scenario;
use crate::stats::Percentiles;

/// Everything measured in one run. `serde` gives the JSON line the harness reads.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// Which broker (a label given on the command line).
    pub(crate) broker: String,
    /// Which scenario.
    pub(crate) scenario: Scenario,
    /// TCP or WebSocket.
    pub(crate) transport: Transport,
    /// MQTT protocol level: 4 (3.1.1) or 5.
    pub(crate) mqtt: u8,
    /// QoS of the messages.
    pub(crate) qos: u8,
    /// Payload bytes per message.
    pub(crate) payload: usize,
    /// Publishing clients.
    pub(crate) publishers: usize,
    /// Subscribing clients.
    pub(crate) subscribers: usize,
    /// From the start of publishing to the last delivery.
    pub(crate) seconds: f64,
    /// Broker CPU time (user + system) during the run, if its PID was given.
    pub(crate) broker_cpu_ms: Option<f64>,
    /// Broker CPU per unique delivered message (or per connection for `idle`), microseconds.
    pub(crate) cpu_us_per_msg: Option<f64>,
    /// The generator's own CPU time during the run.
    pub(crate) loadgen_cpu_ms: f64,
    /// Figures of the message scenarios.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) messages: Option<MessageFigures>,
    /// Figures of the idle scenario.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) idle: Option<IdleFigures>,
    /// Figures of the retained scenario.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) retained: Option<RetainedFigures>,
}

/// Delivery figures of fan-in, fan-out, pairs and latency.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct MessageFigures {
    /// Messages written by publishers.
    pub(crate) sent: u64,
    /// QoS 1/2 messages the broker acknowledged.
    pub(crate) acked: u64,
    /// QoS 1/2 messages the broker refused (5.0 error reason codes).
    pub(crate) refused: u64,
    /// Acknowledgements for packet ids not in flight.
    pub(crate) stray_acks: u64,
    /// Deliveries the subscribers should get: messages sent times their subscribers.
    pub(crate) expected: u64,
    /// Every PUBLISH the subscribers received, duplicates included.
    pub(crate) deliveries: u64,
    /// Distinct messages received.
    pub(crate) unique: u64,
    /// Expected messages that never arrived.
    pub(crate) lost: u64,
    /// Messages received more than once.
    pub(crate) duplicated: u64,
    /// Deliveries without a readable stamp.
    pub(crate) malformed: u64,
    /// Distinct deliveries per second.
    pub(crate) msgs_per_sec: f64,
    /// Longest silence at any subscriber between two deliveries, milliseconds.
    pub(crate) max_gap_ms: f64,
    /// Send-to-receive latency.
    #[serde(flatten)]
    pub(crate) latency: Percentiles,
}

/// Figures of the idle-connections scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct IdleFigures {
    /// Connections opened (CONNECT answered by CONNACK).
    pub(crate) connections: u64,
    /// Time to open all of them.
    pub(crate) connect_secs: f64,
    /// Connections per second.
    pub(crate) connects_per_sec: f64,
    /// Broker VmRSS before connecting, KiB.
    pub(crate) rss_before_kib: Option<u64>,
    /// Broker VmRSS with every connection open, KiB.
    pub(crate) rss_after_kib: Option<u64>,
    /// (after − before) / connections, KiB.
    pub(crate) rss_per_conn_kib: Option<f64>,
}

/// Figures of the retained scenario (phases not run stay 0 / `None`).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct RetainedFigures {
    /// Retained messages loaded (or expected when reading).
    pub(crate) messages: u64,
    /// Time to retain them all, acknowledged.
    pub(crate) load_secs: f64,
    /// Messages retained per second.
    pub(crate) load_msgs_per_sec: f64,
    /// Broker VmRSS before the run, KiB.
    pub(crate) rss_before_kib: Option<u64>,
    /// Broker VmRSS with every message retained, KiB.
    pub(crate) rss_after_load_kib: Option<u64>,
    /// (after load − before) / messages, bytes.
    pub(crate) bytes_per_message: Option<f64>,
    /// Time from SUBSCRIBE to the last retained message read back.
    pub(crate) read_secs: f64,
    /// Retained messages read back per second.
    pub(crate) read_msgs_per_sec: f64,
    /// Retained messages read back.
    pub(crate) delivered: u64,
    /// Broker VmRSS after reading them back, KiB.
    pub(crate) rss_after_read_kib: Option<u64>,
}

impl Report {
    /// A few aligned lines for a person.
    pub(crate) fn human(&self) -> String {
        let mut out = format!(
            "{} {:?} {:?} mqtt{} qos{} {} B, {} pub → {} sub, {:.2} s\n",
            self.broker,
            self.scenario,
            self.transport,
            self.mqtt,
            self.qos,
            self.payload,
            self.publishers,
            self.subscribers,
            self.seconds
        );
        let cpu = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        if let Some(m) = &self.messages {
            let _ = writeln!(
                out,
                "  {:>12.0} msg/s  sent {}  acked {}  expected {}  unique {}  lost {}  dup {}  refused {}",
                m.msgs_per_sec,
                m.sent,
                m.acked,
                m.expected,
                m.unique,
                m.lost,
                m.duplicated,
                m.refused
            );
            let _ = writeln!(
                out,
                "  latency µs p50 {:.0}  p99 {:.0}  p99.9 {:.0}  max {:.0}  longest gap {:.1} ms",
                m.latency.p50_us,
                m.latency.p99_us,
                m.latency.p999_us,
                m.latency.max_us,
                m.max_gap_ms
            );
        }
        if let Some(i) = &self.idle {
            let _ = writeln!(
                out,
                "  {} connections in {:.2} s ({:.0}/s), RSS {:?} → {:?} KiB, {} KiB per connection",
                i.connections,
                i.connect_secs,
                i.connects_per_sec,
                i.rss_before_kib,
                i.rss_after_kib,
                cpu(i.rss_per_conn_kib)
            );
        }
        if let Some(r) = &self.retained {
            let _ = writeln!(
                out,
                "  {} retained in {:.2} s ({:.0}/s), RSS {:?} → {:?} KiB ({} B per message); \
                 read back {} in {:.2} s ({:.0}/s), RSS then {:?} KiB",
                r.messages,
                r.load_secs,
                r.load_msgs_per_sec,
                r.rss_before_kib,
                r.rss_after_load_kib,
                cpu(r.bytes_per_message),
                r.delivered,
                r.read_secs,
                r.read_msgs_per_sec,
                r.rss_after_read_kib
            );
        }
        let _ = writeln!(
            out,
            "  broker CPU {} ms, {} µs per message; generator CPU {:.0} ms",
            cpu(self.broker_cpu_ms),
            cpu(self.cpu_us_per_msg),
            self.loadgen_cpu_ms
        );
        out
    }
}
