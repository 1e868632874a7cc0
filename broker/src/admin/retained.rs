//! Retained messages: `GET /api/v1/retained?filter=F&limit=N` browses them,
//! `DELETE /api/v1/retained/{topic}` clears one through
//! [`Broker::update_retained`], the path of an empty retained PUBLISH, so
//! the retained store and the durable store stay in step.
//!
//! Clearing does not send the empty message to subscribers: it is an
//! operator tidying the store, not a publication (a client that wants
//! subscribers told publishes the empty retained message itself).

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use bytes::Bytes;
use courtier_proto::packet::PublishProperties;
use courtier_proto::{QoS, TopicFilter, TopicName};
use serde::Serialize;

use super::error::ApiError;
use crate::broker::Broker;
use crate::message::Message;
use crate::store::Ticket;

/// Payload bytes shown per message: the listing stays bounded (1000
/// messages of up to the maximum packet size each would not be); `size`
/// gives the full length.
pub const PAYLOAD_PREVIEW: usize = 4096;

/// One retained message.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RetainedView {
    /// Its topic.
    pub topic: String,
    /// The payload (its first [`PAYLOAD_PREVIEW`] bytes), as text when it is
    /// UTF-8, else base64.
    pub payload: String,
    /// `utf8` or `base64`.
    pub encoding: &'static str,
    /// Whether `payload` is only the beginning.
    pub truncated: bool,
    /// The QoS it was published with.
    pub qos: u8,
    /// The payload size in bytes.
    pub size: usize,
}

/// A bounded sample of the retained messages matching a filter.
#[derive(Debug, Serialize)]
pub struct RetainedListing {
    /// The messages, by topic.
    pub items: Vec<RetainedView>,
    /// Whether more messages match than were returned.
    pub more: bool,
}

/// Up to `limit` unexpired retained messages matching `filter`, sorted by
/// topic. The store is walked only until `limit + 1` are found, so which
/// ones come back from a larger set is unspecified: narrow the filter.
pub fn browse(
    broker: &Broker,
    filter: &str,
    limit: usize,
    now: Instant,
) -> Result<RetainedListing, ApiError> {
    let filter = TopicFilter::new(filter.to_owned())
        .map_err(|e| ApiError::bad_request(format!("`filter` is not a topic filter: {e}")))?;
    let mut matched = broker.retained_matching(&filter, limit.saturating_add(1), now);
    let mut found = matched.messages;
    let on_disk = broker
        .read_retained(&matched.on_disk.take(usize::MAX), now)
        .map_err(|e| ApiError::internal(format!("the store failed: {e}")))?;
    found.extend(on_disk);
    let more = found.len() > limit;
    found.truncate(limit);
    found.sort_unstable_by(|a, b| a.topic.as_str().cmp(b.topic.as_str()));
    let items = found.iter().map(|m| view(m)).collect();
    Ok(RetainedListing { items, more })
}

fn view(m: &Message) -> RetainedView {
    let (payload, encoding, truncated) = preview(&m.payload);
    RetainedView {
        topic: m.topic.as_str().to_owned(),
        payload,
        encoding,
        truncated,
        qos: m.qos as u8,
        size: m.payload.len(),
    }
}

/// The payload's first [`PAYLOAD_PREVIEW`] bytes as text if they are UTF-8
/// (a character cut by the limit is left out), else base64.
fn preview(payload: &[u8]) -> (String, &'static str, bool) {
    let head = &payload[..payload.len().min(PAYLOAD_PREVIEW)];
    let cut = head.len() < payload.len();
    match std::str::from_utf8(head) {
        Ok(text) => (text.to_owned(), "utf8", cut),
        // Only the last character was cut in two: the rest is text.
        Err(e) if cut && e.error_len().is_none() => {
            let text = String::from_utf8_lossy(&head[..e.valid_up_to()]).into_owned();
            (text, "utf8", true)
        }
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(head),
            "base64",
            cut,
        ),
    }
}

/// Clear the retained message of `topic`. `Ok(None)` when it is cleared
/// and nothing needs to become durable; the ticket otherwise.
pub fn delete(broker: &Broker, topic: &str) -> Result<Option<Ticket>, ApiError> {
    let topic = TopicName::new(topic.to_owned())
        .map_err(|e| ApiError::bad_request(format!("not a topic name: {e}")))?;
    let empty = Arc::new(Message {
        topic,
        payload: Bytes::new(),
        qos: QoS::AtMostOnce,
        retain: true,
        properties: PublishProperties::default(),
        expires_at: None,
    });
    match broker.update_retained(&empty) {
        (true, ticket) => Ok(ticket),
        (false, _) => Err(ApiError::not_found(format!(
            "no retained message on `{}`",
            empty.topic.as_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn retain(broker: &Broker, topic: &str, payload: &'static [u8]) {
        broker.publish(
            Arc::new(Message {
                topic: TopicName::new(topic.to_owned()).expect("topic"),
                payload: Bytes::from_static(payload),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: PublishProperties::default(),
                expires_at: None,
            }),
            None,
        );
    }

    #[test]
    fn browse_filters_sorts_and_bounds() {
        let broker = Broker::new(Config::default());
        retain(&broker, "home/b", b"21.5");
        retain(&broker, "home/a", b"\xff\x00");
        retain(&broker, "other", b"x");
        let list = browse(&broker, "home/#", 10, Instant::now()).expect("valid");
        assert!(!list.more);
        let rows: Vec<_> = list
            .items
            .iter()
            .map(|r| {
                (
                    r.topic.as_str(),
                    r.payload.as_str(),
                    r.encoding,
                    r.qos,
                    r.size,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("home/a", "/wA=", "base64", 1, 2),
                ("home/b", "21.5", "utf8", 1, 4)
            ]
        );
        let one = browse(&broker, "#", 1, Instant::now()).expect("valid");
        assert_eq!((one.items.len(), one.more), (1, true));
        let err = browse(&broker, "a/#/b", 1, Instant::now()).expect_err("bad filter");
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn previews_are_bounded_and_keep_text_whole() {
        let long = "é".repeat(PAYLOAD_PREVIEW);
        let (text, encoding, truncated) = preview(long.as_bytes());
        assert_eq!((encoding, truncated), ("utf8", true));
        assert_eq!(text.len(), PAYLOAD_PREVIEW, "cut on a character boundary");
        let (_, encoding, truncated) = preview(&[0xff; 10]);
        assert_eq!((encoding, truncated), ("base64", false));
    }

    #[test]
    fn delete_clears_like_an_empty_retained_publish() {
        let broker = Broker::new(Config::default());
        retain(&broker, "a/b", b"1");
        assert!(delete(&broker, "a/b").is_ok());
        assert_eq!(broker.retained.read().len(), 0);
        let err = delete(&broker, "a/b").expect_err("gone");
        assert_eq!(err.status, axum::http::StatusCode::NOT_FOUND);
        let err = delete(&broker, "a/+").expect_err("not a topic");
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
    }
}
