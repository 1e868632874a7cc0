//! Retained messages sent on subscribe, paced by the subscriber's queue.
//!
//! One SUBSCRIBE to `#` may match millions of retained messages: pushed
//! into the session's bounded queue at once, most would be dropped, and
//! with a store every one would be read from disk into memory first.
//! Instead the matches wait in a [`RetainedBacklog`] owned by the
//! connection: messages still in memory as `Arc`s, topics of messages on
//! disk as a [`TopicList`] (one string: a million topics cost their bytes,
//! not a million allocations).
//! Each turn of the I/O loop that finds room in the queue moves up to
//! [`CHUNK`] of them into it, reading those on disk on the blocking pool;
//! the client is read between turns. Nothing is dropped for want of room,
//! and memory holds at most one chunk of messages read from disk.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use courtier_proto::QoS;

use super::Connection;
use crate::message::Message;
use crate::retained::{Found, TopicList};
use crate::session::queue::Outgoing;

/// Messages moved into the queue per turn of the I/O loop, at most.
const CHUNK: usize = 256;

/// The retained messages of the last SUBSCRIBEs not queued yet.
#[derive(Debug, Default)]
pub(in crate::connection) struct RetainedBacklog {
    parts: VecDeque<Part>,
}

/// What one granted subscription still has to send.
#[derive(Debug)]
struct Part {
    /// Messages held in memory.
    held: Vec<Arc<Message>>,
    /// Topics of messages on disk.
    on_disk: TopicList,
    /// The QoS granted.
    granted: QoS,
    /// The subscription's identifier.
    identifier: Option<NonZeroU32>,
}

impl Part {
    fn is_done(&self) -> bool {
        self.held.is_empty() && self.on_disk.is_empty()
    }
}

impl Connection {
    /// Queue-paced delivery of what a granted subscription matched; each
    /// message must already be readable by this client.
    pub(super) fn add_retained(
        &mut self,
        found: Found,
        granted: QoS,
        identifier: Option<NonZeroU32>,
    ) {
        if found.is_empty() {
            return;
        }
        let part = Part {
            held: found.messages,
            on_disk: found.on_disk,
            granted,
            identifier,
        };
        self.retained.get_or_insert_default().parts.push_back(part);
    }

    /// Whether retained messages wait and the queue has room for them.
    pub(in crate::connection) fn retained_ready(&self) -> bool {
        self.retained.is_some() && self.session.queue_room() > 0
    }

    /// Move the next chunk of retained messages into the queue, reading
    /// those on disk on the blocking pool. A store that cannot be read
    /// costs those messages, not the connection (the error is logged).
    pub(in crate::connection) async fn send_retained(&mut self) {
        let Some(part) = self.retained.as_mut().and_then(|b| b.parts.front_mut()) else {
            self.retained = None;
            return;
        };
        let (granted, identifier) = (part.granted, part.identifier);
        let room = self.session.queue_room().min(CHUNK);
        let held_n = part.held.len().min(room);
        let held: Vec<_> = part.held.drain(part.held.len() - held_n..).collect();
        let mut topics = part.on_disk.take(room - held_n);
        if part.is_done()
            && let Some(backlog) = self.retained.as_mut()
        {
            backlog.parts.pop_front();
            if backlog.parts.is_empty() {
                self.retained = None;
            }
        }
        let mut messages = self.broker.still_retained(held, &mut topics);
        if !topics.is_empty() {
            let broker = Arc::clone(&self.broker);
            let read =
                tokio::task::spawn_blocking(move || broker.read_retained(&topics, Instant::now()))
                    .await;
            match read {
                Ok(Ok(read)) => messages.extend(read),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, client = %self.client_id, "retained messages could not be read");
                }
                Err(e) => tracing::error!(error = %e, "retained read task failed"),
            }
        }
        let mut messages = messages.into_iter();
        for msg in messages.by_ref() {
            let item = Outgoing {
                qos: msg.qos.min(granted),
                msg,
                // Retained on subscribe always carries RETAIN ([MQTT-3.3.1-8]).
                retain: true,
                subscription_ids: identifier.into_iter().collect(),
                stored: None,
            };
            // The byte limit can be reached before the message count: what
            // does not fit waits for the next turn.
            if let Err(item) =
                self.session
                    .deliver_if_room(item, &self.broker.metrics, &self.broker.store)
            {
                let mut held: Vec<_> = messages.collect();
                held.push(item.msg);
                let part = Part {
                    held,
                    on_disk: TopicList::default(),
                    granted,
                    identifier,
                };
                self.retained.get_or_insert_default().parts.push_front(part);
                break;
            }
        }
        // Come back for the rest without waiting for the client (each
        // message queued set this signal too; a turn may have queued none).
        if self.retained.is_some() {
            self.session.wake.notify_one();
        }
    }
}
