//! The message log: a bounded ring of received messages, with counts of what it dropped, a
//! topic filter, pause, and JSON / CSV export.
//!
//! Entries are `Rc`s so the reducer's copy-on-write state clones a 10,000-entry log as 10,000
//! pointer copies, and the topic tree's history shares the same entries.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;

use courtier_proto::packet::{PayloadFormat, Publish};

use super::payload;

/// How many messages the log keeps; older ones are dropped and counted.
pub const LOG_CAPACITY: usize = 10_000;

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Arrival order, from 1; never reused, so it keys rendered rows.
    pub seq: u64,
    /// Arrival time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The message as received.
    pub publish: Publish,
}

impl LogEntry {
    /// The topic name.
    pub fn topic(&self) -> &str {
        self.publish.topic.as_str()
    }
}

/// The bounded log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageLog {
    entries: VecDeque<Rc<LogEntry>>,
    /// Messages pushed out by newer ones since the last clear.
    pub evicted: u64,
    /// Messages that arrived while paused and were not logged.
    pub skipped_while_paused: u64,
    /// Whether new messages are kept out of the log (the tree still sees them).
    pub paused: bool,
    /// Only entries whose topic contains this text are shown; empty shows all.
    pub filter: String,
}

impl MessageLog {
    /// Adds a message, dropping the oldest past [`LOG_CAPACITY`]; skipped while paused.
    pub fn push(&mut self, entry: Rc<LogEntry>) {
        if self.paused {
            self.skipped_while_paused += 1;
            return;
        }
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
            self.evicted += 1;
        }
        self.entries.push_back(entry);
    }

    /// Empties the log and its counters (the filter and pause stay).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.evicted = 0;
        self.skipped_while_paused = 0;
    }

    /// Every kept entry, oldest first.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries that pass the filter, newest first (the order the log shows them in).
    pub fn visible(&self) -> Vec<&Rc<LogEntry>> {
        let filter = self.filter.trim();
        self.entries
            .iter()
            .rev()
            .filter(|entry| filter.is_empty() || entry.topic().contains(filter))
            .collect()
    }
}

/// The payload as export writes it: the text when it is UTF-8, else base64.
fn exported_payload(entry: &LogEntry) -> (&'static str, String) {
    match std::str::from_utf8(&entry.publish.payload) {
        Ok(text) => ("utf8", text.to_owned()),
        Err(_) => ("base64", payload::base64_encode(&entry.publish.payload)),
    }
}

/// The entries as a JSON array, oldest first.
pub fn export_json(entries: &[&Rc<LogEntry>]) -> String {
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            let p = &entry.publish;
            let (encoding, payload) = exported_payload(entry);
            let mut row = serde_json::json!({
                "seq": entry.seq,
                "time_ms": entry.time_ms,
                "topic": p.topic.as_str(),
                "qos": p.qos_pid.qos() as u8,
                "retain": p.retain,
                "dup": p.dup,
                "payload_encoding": encoding,
                "payload": payload,
            });
            let props = &p.properties;
            if let Some(content_type) = &props.content_type {
                row["content_type"] = content_type.to_string().into();
            }
            if props.payload_format_indicator == Some(PayloadFormat::Utf8) {
                row["payload_format"] = "utf8".into();
            }
            if !props.user_properties.is_empty() {
                row["user_properties"] = props
                    .user_properties
                    .iter()
                    .map(|u| serde_json::json!([u.name.to_string(), u.value.to_string()]))
                    .collect();
            }
            row
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// The entries as CSV (RFC 4180: CRLF line ends, fields quoted when they need it), oldest first.
pub fn export_csv(entries: &[&Rc<LogEntry>]) -> String {
    let mut out = String::from("seq,time_ms,topic,qos,retain,dup,payload_encoding,payload\r\n");
    for entry in entries {
        let p = &entry.publish;
        let (encoding, payload) = exported_payload(entry);
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{}\r\n",
            entry.seq,
            entry.time_ms,
            csv_field(p.topic.as_str()),
            p.qos_pid.qos() as u8,
            p.retain,
            p.dup,
            encoding,
            csv_field(&payload)
        );
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use bytes::Bytes;
    use courtier_proto::packet::PublishProperties;
    use courtier_proto::{QosPid, TopicName};

    use super::*;

    pub(crate) fn publish(topic: &str, payload: &[u8]) -> Publish {
        Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new(topic).unwrap(),
            properties: PublishProperties::default(),
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn entry(seq: u64, topic: &str, payload: &[u8]) -> Rc<LogEntry> {
        Rc::new(LogEntry {
            seq,
            time_ms: 1000 + seq,
            publish: publish(topic, payload),
        })
    }

    #[test]
    fn ring_drops_the_oldest_and_counts_them() {
        let mut log = MessageLog::default();
        for seq in 1..=(LOG_CAPACITY as u64 + 5) {
            log.push(entry(seq, "a", b"x"));
        }
        assert_eq!(log.len(), LOG_CAPACITY);
        assert_eq!(log.evicted, 5);
        let visible = log.visible();
        assert_eq!(
            visible.first().map(|e| e.seq),
            Some(LOG_CAPACITY as u64 + 5)
        );
        assert_eq!(visible.last().map(|e| e.seq), Some(6));
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.evicted, 0);
    }

    #[test]
    fn pause_skips_and_counts() {
        let mut log = MessageLog::default();
        log.push(entry(1, "a", b"x"));
        log.paused = true;
        log.push(entry(2, "a", b"y"));
        log.push(entry(3, "a", b"z"));
        log.paused = false;
        log.push(entry(4, "a", b"w"));
        let seqs: Vec<_> = log.visible().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 1]);
        assert_eq!(log.skipped_while_paused, 2);
    }

    #[test]
    fn filter_matches_topic_substrings() {
        let mut log = MessageLog::default();
        log.push(entry(1, "maMaison/rez-de-chaussee/cuisine", b"21.5"));
        log.push(entry(2, "maMaison/etage/chambre", b"19"));
        log.push(entry(3, "maMaison/rez-de-chaussee/salon", b"20"));
        for (filter, expected) in [
            ("", vec![3, 2, 1]),
            ("rez", vec![3, 1]),
            (" salon ", vec![3]),
            ("none", vec![]),
        ] {
            log.filter = filter.to_owned();
            let seqs: Vec<_> = log.visible().iter().map(|e| e.seq).collect();
            assert_eq!(seqs, expected, "filter {filter:?}");
        }
    }

    #[test]
    fn csv_export_quotes_and_encodes() {
        let a = entry(1, "a/b", b"21.5");
        let b = entry(2, "c", b"x,\"y\"\nz");
        let c = entry(3, "d", &[0xff, 0x00]);
        let csv = export_csv(&[&a, &b, &c]);
        assert_eq!(
            csv,
            "seq,time_ms,topic,qos,retain,dup,payload_encoding,payload\r\n\
             1,1001,a/b,0,false,false,utf8,21.5\r\n\
             2,1002,c,0,false,false,utf8,\"x,\"\"y\"\"\nz\"\r\n\
             3,1003,d,0,false,false,base64,/wA=\r\n"
        );
    }

    #[test]
    fn json_export_is_parseable_with_properties() {
        let mut p = publish("a", b"{\"t\":1}");
        p.properties.content_type = Some("application/json".into());
        p.properties
            .user_properties
            .push(courtier_proto::packet::UserProperty {
                name: "k".into(),
                value: "v".into(),
            });
        p.retain = true;
        let e = Rc::new(LogEntry {
            seq: 7,
            time_ms: 5,
            publish: p,
        });
        let json: serde_json::Value = serde_json::from_str(&export_json(&[&e])).unwrap();
        assert_eq!(json[0]["topic"], "a");
        assert_eq!(json[0]["retain"], true);
        assert_eq!(json[0]["payload"], "{\"t\":1}");
        assert_eq!(json[0]["content_type"], "application/json");
        assert_eq!(json[0]["user_properties"][0][1], "v");
    }
}
