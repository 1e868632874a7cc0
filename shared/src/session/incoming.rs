//! What each packet from the server does to the session.

use std::time::Duration;

use super::outbound::{Inflight, PendingKind, Queued, Stage};
use super::{ClientSession, ConnectionState, Event, ServerLimits, SessionError};
use crate::packet::{Ack, AckKind, ConnAck, Packet, PacketId, ProtocolVersion, Publish, QosPid};
use crate::packet::{SubAck, UnsubAck};
use crate::reason::ReasonCode;

impl ClientSession {
    /// Act on one decoded packet from the server.
    pub(super) fn handle_packet(&mut self, now: Duration, packet: Packet) {
        // Anything from the server proves the link alive.
        self.ping_sent_at = None;
        if self.state == ConnectionState::Connecting {
            match packet {
                Packet::ConnAck(ack) => self.on_connack(now, ack),
                other => self.fail(now, SessionError::ExpectedConnAck(other.name())),
            }
            return;
        }
        let result = match packet {
            Packet::Publish(p) => self.on_publish(now, p),
            Packet::Ack(ack) => {
                self.on_ack(now, ack);
                Ok(())
            }
            Packet::SubAck(ack) => {
                self.on_suback(ack);
                Ok(())
            }
            Packet::UnsubAck(ack) => {
                self.on_unsuback(ack);
                Ok(())
            }
            Packet::PingResp => Ok(()),
            Packet::Disconnect(d) => {
                self.close(d.reason, d.properties.reason_string, true);
                Ok(())
            }
            // We never announce an authentication method, so AUTH is as
            // unexpected as the packets only clients send.
            other => Err(SessionError::UnexpectedPacket(other.name())),
        };
        if let Err(e) = result {
            self.fail(now, e);
        }
    }

    /// CONNACK: refused, or connected with the server's limits; then resend
    /// or requeue what was unacknowledged (see the module documentation).
    fn on_connack(&mut self, now: Duration, ack: ConnAck) {
        if !ack.reason.is_success() {
            self.state = ConnectionState::Closed;
            self.events.push_back(Event::ConnectionRefused {
                reason: ack.reason,
                reason_string: ack.properties.reason_string,
            });
            return;
        }
        // MQTT 3.1 has no Session Present flag: a server that was asked to
        // keep the session is taken at its word, so unacknowledged messages
        // are resent with their ids rather than as new ones.
        let session_present = ack.session_present
            || (self.options.version == ProtocolVersion::V3_1 && !self.options.clean_start);
        if ack.session_present && self.options.clean_start {
            self.fail(now, SessionError::UnexpectedSessionPresent);
            return;
        }
        let props = ack.properties;
        self.server = ServerLimits::from_connack(&props);
        self.outgoing_aliases
            .reset(self.options.outbound_alias_maximum(&self.server));
        if let Some(seconds) = props.server_keep_alive {
            self.keep_alive = Duration::from_secs(u64::from(seconds));
        }
        if let Some(id) = &props.assigned_client_identifier {
            // Reconnects must use it to find the session again.
            self.options.client_id = id.clone();
        }
        self.state = ConnectionState::Connected;
        self.events.push_back(Event::Connected {
            session_present,
            properties: Box::new(props),
        });
        if session_present {
            self.resend_inflight(now);
        } else {
            self.inbound_qos2.clear();
            self.requeue_inflight();
        }
        self.pump(now);
    }

    /// Session resumed: resend every unacknowledged PUBLISH with DUP, and
    /// PUBREL for those already PUBREC'd, in order ([MQTT-4.4.0-1]).
    fn resend_inflight(&mut self, now: Duration) {
        let mut i = 0;
        while let Some(entry) = self.outbound.inflight.get_mut(i) {
            let sent = match (entry.stage, entry.packet_id()) {
                (Stage::Released, Some(pid)) => {
                    self.send(now, &Packet::Ack(Ack::new(AckKind::PubRel, pid)))
                }
                _ => {
                    entry.publish.dup = true;
                    let publish = entry.publish.clone();
                    self.send_publish(now, publish)
                }
            };
            match sent {
                Ok(()) => i += 1,
                // The new server takes smaller packets than the old one.
                Err(e) => {
                    if let Some(done) = self.outbound.complete(i) {
                        self.published(done.id, Err(e));
                    }
                }
            }
        }
    }

    /// Session lost: queue unacknowledged publishes again, in order, ahead
    /// of newer ones, to be sent as new messages; a QoS 2 publish already
    /// PUBREC'd is the server's now, so it is reported complete.
    fn requeue_inflight(&mut self) {
        let inflight = std::mem::take(&mut self.outbound.inflight);
        let mut again = Vec::with_capacity(inflight.len());
        for Inflight { id, publish, stage } in inflight {
            if let Some(pid) = publish.qos_pid.packet_id() {
                self.outbound.ids.release(pid);
            }
            if stage == Stage::Released {
                self.published(id, Ok(ReasonCode::Success));
                continue;
            }
            let qos = publish.qos_pid.qos();
            let publish = Publish {
                dup: false,
                ..publish
            };
            again.push(Queued { id, publish, qos });
        }
        for queued in again.into_iter().rev() {
            self.outbound.queue.push_front(queued);
        }
    }

    /// An application message: resolve its topic alias, acknowledge it,
    /// and deliver it unless it is a QoS 2 resend.
    fn on_publish(&mut self, now: Duration, mut p: Publish) -> Result<(), SessionError> {
        if let Some(alias) = p.properties.topic_alias {
            let max = self.options.inbound_alias_maximum();
            if alias.get() > max {
                return Err(SessionError::TopicAliasOutOfRange {
                    alias: alias.get(),
                    max,
                });
            }
            if p.topic.is_empty() {
                p.topic = self
                    .aliases
                    .get(&alias.get())
                    .cloned()
                    .ok_or(SessionError::TopicAliasUnknown(alias.get()))?;
            } else {
                self.aliases.insert(alias.get(), p.topic.clone());
            }
        }
        match p.qos_pid {
            QosPid::AtMostOnce => self.events.push_back(Event::Message(p)),
            QosPid::AtLeastOnce(pid) => {
                self.events.push_back(Event::Message(p));
                self.send_control(now, &Packet::Ack(Ack::new(AckKind::PubAck, pid)));
            }
            QosPid::ExactlyOnce(pid) => {
                if !self.inbound_qos2.contains(&pid) {
                    let max = self.options.inbound_receive_maximum();
                    if self.inbound_qos2.len() >= usize::from(max) {
                        return Err(SessionError::ReceiveMaximumExceeded(max));
                    }
                    self.inbound_qos2.insert(pid);
                    self.events.push_back(Event::Message(p));
                }
                self.send_control(now, &Packet::Ack(Ack::new(AckKind::PubRec, pid)));
            }
        }
        Ok(())
    }

    /// PUBACK, PUBREC, PUBCOMP for our publishes; PUBREL for the server's.
    /// Acknowledgements for ids we do not know (a late duplicate) are
    /// answered where the flow requires it and otherwise ignored.
    fn on_ack(&mut self, now: Duration, ack: Ack) {
        let pid = ack.packet_id;
        let found = self.outbound.find(pid);
        let stage = found
            .and_then(|i| self.outbound.inflight.get(i))
            .map(|f| f.stage);
        match (ack.kind, found, stage) {
            (AckKind::PubAck, Some(i), Some(Stage::Qos1Sent))
            | (AckKind::PubComp, Some(i), Some(Stage::Released)) => self.finish(now, i, ack),
            (AckKind::PubRec, Some(i), Some(Stage::Qos2Sent)) if is_error(ack.reason) => {
                // An error PUBREC ends the flow: no PUBREL (4.3.3).
                self.finish(now, i, ack);
            }
            (AckKind::PubRec, Some(i), Some(Stage::Qos2Sent | Stage::Released)) => {
                if let Some(entry) = self.outbound.inflight.get_mut(i) {
                    entry.stage = Stage::Released;
                }
                self.send_control(now, &Packet::Ack(Ack::new(AckKind::PubRel, pid)));
            }
            (AckKind::PubRec, None, _) => {
                let rel = self.ack_with(AckKind::PubRel, pid, ReasonCode::PacketIdentifierNotFound);
                self.send_control(now, &rel);
            }
            (AckKind::PubRel, ..) => {
                let reason = if self.inbound_qos2.remove(&pid) {
                    ReasonCode::Success
                } else {
                    ReasonCode::PacketIdentifierNotFound
                };
                let comp = self.ack_with(AckKind::PubComp, pid, reason);
                self.send_control(now, &comp);
            }
            _ => {}
        }
    }

    /// Complete the inflight publish at `index` with `ack`'s outcome, and
    /// let a queued publish into the freed slot.
    fn finish(&mut self, now: Duration, index: usize, ack: Ack) {
        if let Some(done) = self.outbound.complete(index) {
            let result = if is_error(ack.reason) {
                Err(SessionError::Refused {
                    packet: ack.kind.name(),
                    reason: ack.reason,
                    reason_string: ack.reason_string,
                })
            } else {
                Ok(ack.reason)
            };
            self.published(done.id, result);
        }
        self.pump(now);
    }

    /// An acknowledgement with `reason` (which only 5.0 carries).
    fn ack_with(&self, kind: AckKind, pid: PacketId, reason: ReasonCode) -> Packet {
        let mut ack = Ack::new(kind, pid);
        if self.options.version.is_v5() {
            ack.reason = reason;
        }
        Packet::Ack(ack)
    }

    fn on_suback(&mut self, ack: SubAck) {
        if let Some(id) = self.take_pending(ack.packet_id, |k| k == PendingKind::Subscribe) {
            self.events.push_back(Event::Subscribed {
                id,
                result: Ok(ack),
            });
        }
    }

    fn on_unsuback(&mut self, mut ack: UnsubAck) {
        let mut filters = 0;
        let is_unsubscribe = |k| match k {
            PendingKind::Unsubscribe(n) => {
                filters = n;
                true
            }
            PendingKind::Subscribe => false,
        };
        if let Some(id) = self.take_pending(ack.packet_id, is_unsubscribe) {
            if !self.options.version.is_v5() {
                // 3.x UNSUBACK has no payload: it means every filter is gone.
                ack.reason_codes = vec![ReasonCode::Success; filters];
            }
            self.events.push_back(Event::Unsubscribed {
                id,
                result: Ok(ack),
            });
        }
    }

    /// Remove the pending request with packet id `pid` if `kind_ok` accepts
    /// its kind, freeing the id.
    fn take_pending(
        &mut self,
        pid: PacketId,
        kind_ok: impl FnOnce(PendingKind) -> bool,
    ) -> Option<super::RequestId> {
        let &(id, kind) = self.outbound.pending.get(&pid)?;
        if !kind_ok(kind) {
            return None;
        }
        self.outbound.pending.remove(&pid);
        self.outbound.ids.release(pid);
        Some(id)
    }
}

/// Reason codes of 0x80 and above are failures (2.4).
fn is_error(reason: ReasonCode) -> bool {
    reason.as_u8() >= 0x80
}
