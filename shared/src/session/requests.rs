//! What the application asks of the session: publish, subscribe, unsubscribe,
//! disconnect, and the pump that moves queued publishes into the window.

use std::time::Duration;

use bytes::Bytes;

use super::aliases::AliasUse;
use super::outbound::{Inflight, PLACEHOLDER_ID, PendingKind, Queued, Stage};
use super::{ClientSession, RequestId, SessionError};
use crate::error::EncodeError;
use crate::packet::{Disconnect, Packet, PacketId, Publish, PublishProperties, QoS, QosPid};
use crate::packet::{Subscribe, SubscribeProperties, Subscription, Unsubscribe, UserProperty};
use crate::reason::ReasonCode;
use crate::topic::{TopicFilter, TopicName};

impl ClientSession {
    /// Publish an application message. `payload` is held by reference while
    /// queued and inflight: resends cost no copy.
    ///
    /// QoS 0 needs a connection and completes when handed over in a
    /// transmit. QoS 1/2 may be called while disconnected: the message waits
    /// in the bounded queue. Fails at once for a limit the server already
    /// announced (Maximum QoS, Retain Available, Maximum Packet Size), a full
    /// queue, an empty topic, a Topic Alias (the session sets those itself)
    /// or a Subscription Identifier ([MQTT-3.3.4-6]).
    pub fn publish(
        &mut self,
        now: Duration,
        topic: TopicName,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> Result<RequestId, SessionError> {
        if topic.is_empty() {
            return Err(SessionError::InvalidPublish(
                "[MQTT-3.3.2-1] the topic name must not be empty",
            ));
        }
        if properties.topic_alias.is_some() {
            return Err(SessionError::InvalidPublish(
                "the session assigns topic aliases itself (3.3.2.3.4): leave topic_alias empty",
            ));
        }
        if !properties.subscription_identifiers.is_empty() {
            return Err(SessionError::InvalidPublish(
                "[MQTT-3.3.4-6] a PUBLISH from a client must not carry a Subscription Identifier",
            ));
        }
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::new(qos, PLACEHOLDER_ID),
            retain,
            topic,
            properties,
            payload,
        };
        let connected = self.is_connected();
        if qos == QoS::AtMostOnce {
            if !connected {
                return Err(SessionError::NotConnected("a QoS 0 publish"));
            }
            self.check_limits(&publish)?;
            self.send_publish(now, publish)?;
            let id = self.next_request();
            self.qos0_in_out.push(id);
            return Ok(id);
        }
        if connected {
            self.check_limits(&publish)?;
            let size = Packet::Publish(publish.clone()).encoded_len(self.options.version);
            let max = self.server.maximum_packet_size;
            if size > max as usize {
                return Err(SessionError::PacketTooLarge { size, max });
            }
        }
        if self.outbound.queue.len() >= self.options.max_queued {
            return Err(SessionError::QueueFull {
                max: self.options.max_queued,
            });
        }
        let id = self.next_request();
        self.outbound.queue.push_back(Queued { id, publish, qos });
        self.pump(now);
        Ok(id)
    }

    /// Send SUBSCRIBE; [`Event::Subscribed`](super::Event::Subscribed) carries the SUBACK.
    pub fn subscribe(
        &mut self,
        now: Duration,
        subscriptions: Vec<Subscription>,
        properties: SubscribeProperties,
    ) -> Result<RequestId, SessionError> {
        if subscriptions.is_empty() {
            return Err(SessionError::Encode(EncodeError::Invalid(
                "[MQTT-3.8.3-2] SUBSCRIBE needs a topic filter",
            )));
        }
        self.request(now, PendingKind::Subscribe, |packet_id| {
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties,
            })
        })
    }

    /// Send UNSUBSCRIBE; [`Event::Unsubscribed`](super::Event::Unsubscribed) carries the UNSUBACK.
    pub fn unsubscribe(
        &mut self,
        now: Duration,
        filters: Vec<TopicFilter>,
        user_properties: Vec<UserProperty>,
    ) -> Result<RequestId, SessionError> {
        if filters.is_empty() {
            return Err(SessionError::Encode(EncodeError::Invalid(
                "[MQTT-3.10.3-2] UNSUBSCRIBE needs a topic filter",
            )));
        }
        self.request(now, PendingKind::Unsubscribe(filters.len()), |packet_id| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                user_properties,
            })
        })
    }

    /// End the connection normally: queues DISCONNECT with `reason` (5.0;
    /// 0x04 asks the server to publish our will) and emits
    /// [`Event::Disconnected`](super::Event::Disconnected). QoS 1/2 state is kept, for a later
    /// `connect` that resumes the session.
    pub fn disconnect(&mut self, now: Duration, reason: ReasonCode) -> Result<(), SessionError> {
        if !self.is_connected() {
            return Err(SessionError::NotConnected("DISCONNECT"));
        }
        let packet = Packet::Disconnect(Disconnect {
            reason,
            ..Disconnect::default()
        });
        self.send(now, &packet)?;
        self.close(reason, None, false);
        Ok(())
    }

    /// Allocate a packet id, encode a SUBSCRIBE or UNSUBSCRIBE with it and
    /// remember what its acknowledgement completes.
    fn request(
        &mut self,
        now: Duration,
        kind: PendingKind,
        build: impl FnOnce(PacketId) -> Packet,
    ) -> Result<RequestId, SessionError> {
        if !self.is_connected() {
            return Err(SessionError::NotConnected(match kind {
                PendingKind::Subscribe => "SUBSCRIBE",
                PendingKind::Unsubscribe(_) => "UNSUBSCRIBE",
            }));
        }
        let pid = self
            .outbound
            .ids
            .allocate()
            .ok_or(SessionError::PacketIdsExhausted)?;
        if let Err(e) = self.send(now, &build(pid)) {
            self.outbound.ids.release(pid);
            return Err(e);
        }
        let id = self.next_request();
        self.outbound.pending.insert(pid, (id, kind));
        Ok(id)
    }

    /// Send queued publishes while the server's Receive Maximum allows.
    pub(super) fn pump(&mut self, now: Duration) {
        if !self.is_connected() {
            return;
        }
        while self.outbound.inflight.len() < usize::from(self.server.receive_maximum) {
            let Some(queued) = self.outbound.queue.pop_front() else {
                break;
            };
            if let Err(e) = self.check_limits(&queued.publish) {
                self.published(queued.id, Err(e));
                continue;
            }
            let Some(pid) = self.outbound.ids.allocate() else {
                // Every id is held by a pending request: wait for one.
                self.outbound.queue.push_front(queued);
                break;
            };
            let mut publish = queued.publish;
            publish.qos_pid = QosPid::new(queued.qos, pid);
            if let Err(e) = self.send_publish(now, publish.clone()) {
                self.outbound.ids.release(pid);
                self.published(queued.id, Err(e));
                continue;
            }
            let stage = match queued.qos {
                QoS::ExactlyOnce => Stage::Qos2Sent,
                _ => Stage::Qos1Sent,
            };
            self.outbound.inflight.push_back(Inflight {
                id: queued.id,
                publish,
                stage,
            });
        }
    }

    /// Encode a PUBLISH with its topic aliased when the server allows it (see
    /// `aliases`). A resend (DUP) always carries its full topic and no alias:
    /// it must not depend on what this connection has learnt so far. A new
    /// alias adds three bytes: if that breaks the server's Maximum Packet
    /// Size, the topic goes without one.
    pub(super) fn send_publish(
        &mut self,
        now: Duration,
        mut publish: Publish,
    ) -> Result<(), SessionError> {
        let alias = if publish.dup {
            AliasUse::None
        } else {
            self.outgoing_aliases.lookup(&publish.topic)
        };
        match alias {
            AliasUse::None => self.send(now, &Packet::Publish(publish)),
            AliasUse::Reuse(alias) => {
                publish.topic = TopicName::alias_only();
                publish.properties.topic_alias = Some(alias);
                self.send(now, &Packet::Publish(publish))
            }
            AliasUse::Set(alias) => {
                let topic = publish.topic.clone();
                publish.properties.topic_alias = Some(alias);
                let mut packet = Packet::Publish(publish);
                let sent = self.send(now, &packet);
                if let (Err(SessionError::PacketTooLarge { .. }), Packet::Publish(p)) =
                    (&sent, &mut packet)
                {
                    p.properties.topic_alias = None;
                    return self.send(now, &packet);
                }
                sent?;
                self.outgoing_aliases.commit(topic, alias);
                Ok(())
            }
        }
    }

    /// The server's Maximum QoS and Retain Available ([MQTT-3.2.2-11],
    /// [MQTT-3.2.2-14]); the size is checked when encoding.
    fn check_limits(&self, publish: &Publish) -> Result<(), SessionError> {
        let qos = publish.qos_pid.qos();
        if qos > self.server.maximum_qos {
            return Err(SessionError::QoSNotSupported {
                requested: qos,
                max: self.server.maximum_qos,
            });
        }
        if publish.retain && !self.server.retain_available {
            return Err(SessionError::RetainNotSupported);
        }
        Ok(())
    }
}
