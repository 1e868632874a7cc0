//! Protocol handling for an attached connection: every packet after CONNECT.
//!
//! [`Connection::handle`] takes a decoded packet and `now`, changes broker
//! and session state, and appends its answers to the write buffer. It does
//! no I/O and never awaits, so no lock can be held across an `.await` here.

use std::collections::HashMap;
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use bytestring::ByteString;
use courtier_proto::packet::{Ack, AckKind, LastWill, Publish, QosPid};
use courtier_proto::{Packet, PacketId, ProtocolVersion, QoS, ReasonCode, TopicName};

use super::{End, ProtocolViolation, disconnect_packet};
use crate::broker::{Broker, Routed};
use crate::message::Message;
use crate::metrics::{DropReason, Metrics};
use crate::session::inflight::{InflightState, InflightWindow};
use crate::session::link::ConnLink;
use crate::session::queue::Outgoing;
use crate::session::{Sendable, SessionKey, SessionShared};
use crate::store::{Op, OutboundState, Ticket};

#[path = "flow.rs"]
mod flow;
#[path = "retained.rs"]
mod retained;
#[path = "subscribe.rs"]
mod subscribe;

/// Bytes of a PUBLISH beyond its topic and payload, for reserving room
/// ahead: fixed header, lengths, packet id and a few properties (a
/// guess: more are simply written into the buffer as it grows).
const PUBLISH_OVERHEAD: usize = 16;

/// Per-connection limits negotiated in CONNECT.
#[derive(Debug, Clone)]
pub(super) struct Limits {
    /// Keep alive in force (after the Server Keep Alive cap); `None` = off.
    pub(super) keep_alive: Option<Duration>,
    /// The client's Maximum Packet Size.
    pub(super) client_max_packet: u32,
    /// Topic aliases the client accepts from us.
    pub(super) client_alias_max: u16,
    /// Request Problem Information: may we send reason strings?
    pub(super) problem_info: bool,
    /// CONNECT had Session Expiry 0 (DISCONNECT may then not raise it).
    pub(super) zero_expiry_at_connect: bool,
}

/// The topic aliases of one connection (MQTT 5.0 section 3.3.2.3.4).
#[derive(Debug, Default)]
struct TopicAliases {
    /// Set by the client, by alias - 1 (grown on demand up to our maximum).
    inbound: Vec<Option<TopicName>>,
    /// Set by us towards the client.
    outbound: HashMap<TopicName, NonZeroU16>,
}

/// An attached client connection's protocol state.
#[derive(Debug)]
pub struct Connection {
    broker: Arc<Broker>,
    session: Arc<SessionShared>,
    /// The session's identity in the subscription tree.
    key: SessionKey,
    conn_id: u64,
    /// The kick signal and what the admin API shows (the user name too).
    link: Arc<ConnLink>,
    client_id: ByteString,
    version: ProtocolVersion,
    /// Boxed: most clients have no will, and idle connections must stay small.
    will: Option<Box<LastWill>>,
    limits: Limits,
    /// Topic aliases in both directions, boxed and made on first use: most
    /// clients use none, and idle connections must stay small.
    aliases: Option<Box<TopicAliases>>,
    /// Scratch space reused by [`Connection::flush_queue`].
    sendable: Vec<(Option<PacketId>, Outgoing)>,
    /// The store ticket that must be durable before the write buffer may
    /// go out (an acknowledgement promising durability is in it).
    durable_before_write: Option<Ticket>,
    /// Set while a PUBLISH waits for room in a subscriber's queue (boxed:
    /// idle connections must stay small).
    flow: Option<Box<flow::Backpressure>>,
    /// Retained messages SUBSCRIBEs matched, not queued yet (boxed: rare).
    retained: Option<Box<retained::RetainedBacklog>>,
}

impl Connection {
    #[allow(clippy::too_many_arguments)] // one call site, in connect.rs; a builder would add nothing
    pub(super) fn new(
        broker: Arc<Broker>,
        session: Arc<SessionShared>,
        conn_id: u64,
        link: Arc<ConnLink>,
        client_id: ByteString,
        version: ProtocolVersion,
        will: Option<Box<LastWill>>,
        limits: Limits,
    ) -> Self {
        if let Some(w) = &will {
            session.keep_will(conn_id, w, &broker.store);
        }
        Self {
            broker,
            key: SessionKey(Arc::clone(&session)),
            session,
            conn_id,
            link,
            client_id,
            version,
            will,
            limits,
            aliases: None,
            sendable: Vec::new(),
            durable_before_write: None,
            flow: None,
            retained: None,
        }
    }

    /// The broker.
    pub(super) fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    /// The attached session.
    pub(super) fn session(&self) -> &Arc<SessionShared> {
        &self.session
    }

    /// The kick signal (takeover, operator).
    pub(super) fn link(&self) -> &Arc<ConnLink> {
        &self.link
    }

    /// The keep alive in force.
    pub(super) fn keep_alive(&self) -> Option<Duration> {
        self.limits.keep_alive
    }

    /// The client identifier.
    pub(super) fn client_id(&self) -> &ByteString {
        &self.client_id
    }

    /// The protocol version.
    pub(super) fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The identity authorization decides for, if any: the verified TLS
    /// client certificate's Common Name, else CONNECT's user name.
    pub fn username(&self) -> Option<&str> {
        self.link.info.user.as_deref()
    }

    /// The ticket to await before writing, if any: the acknowledgements in
    /// the write buffer promise durability, or the store is backlogged and
    /// this connection should slow down (its ops are then awaited too).
    pub(super) fn take_durable_wait(&mut self) -> Option<Ticket> {
        let wait = self.durable_before_write.take();
        if wait.is_none() && self.broker.store.backlogged() {
            return self.broker.store.barrier();
        }
        wait
    }

    /// The write buffer may go out only once `ticket` is durable.
    fn wait_for(&mut self, ticket: Option<Ticket>) {
        self.durable_before_write = self.durable_before_write.max(ticket);
    }

    fn write(&self, packet: &Packet, out: &mut BytesMut) {
        let start = out.len();
        if packet
            .encode_within(self.version, self.limits.client_max_packet, out)
            .is_err()
        {
            out.truncate(start);
        }
    }

    /// Handle one packet; `Some(end)` closes the connection.
    pub(super) fn handle(
        &mut self,
        packet: Packet,
        now: Instant,
        out: &mut BytesMut,
    ) -> Option<End> {
        let packet = self.hold_if_stalled(packet)?;
        let result = match packet {
            Packet::Publish(p) => self.on_publish(p, now, out),
            Packet::Ack(a) => {
                self.on_ack(&a, out);
                Ok(())
            }
            Packet::Subscribe(s) => self.on_subscribe(s, now, out),
            Packet::Unsubscribe(u) => {
                self.on_unsubscribe(u, out);
                Ok(())
            }
            Packet::PingReq => {
                self.write(&Packet::PingResp, out);
                Ok(())
            }
            Packet::Disconnect(d) => {
                if let Some(expiry) = d.properties.session_expiry_interval {
                    if self.limits.zero_expiry_at_connect && expiry != 0 {
                        return Some(End::Violation(ProtocolViolation::SessionExpiryAfterZero));
                    }
                    self.session.state.lock().expiry_interval =
                        expiry.min(self.broker.config.max_session_expiry);
                }
                return Some(End::ClientDisconnect {
                    will: d.reason != ReasonCode::Success,
                });
            }
            Packet::Connect(_) => Err(ProtocolViolation::SecondConnect),
            Packet::Auth(_) => Err(ProtocolViolation::UnexpectedAuth),
            Packet::ConnAck(_) | Packet::SubAck(_) | Packet::UnsubAck(_) | Packet::PingResp => {
                Err(ProtocolViolation::ServerPacket)
            }
        };
        result.err().map(End::Violation)
    }

    fn on_publish(
        &mut self,
        mut p: Publish,
        now: Instant,
        out: &mut BytesMut,
    ) -> Result<(), ProtocolViolation> {
        let metrics = &self.broker.metrics;
        metrics.publish(false, p.qos_pid.qos(), p.payload.len());
        if !p.properties.subscription_identifiers.is_empty() {
            return Err(ProtocolViolation::SubscriptionIdFromClient);
        }
        if let Some(alias) = p.properties.topic_alias.take() {
            let max = self.broker.config.topic_alias_maximum;
            if !self.version.is_v5() || alias.get() > max {
                return Err(ProtocolViolation::TopicAliasInvalid);
            }
            let slot = usize::from(alias.get() - 1);
            if p.topic.is_empty() {
                p.topic = self
                    .aliases
                    .as_ref()
                    .and_then(|a| a.inbound.get(slot).cloned().flatten())
                    .ok_or(ProtocolViolation::TopicAliasUnknown)?;
            } else {
                let inbound = &mut self.aliases.get_or_insert_default().inbound;
                if inbound.len() <= slot {
                    inbound.resize(slot + 1, None);
                }
                inbound[slot] = Some(p.topic.clone());
            }
        } else if p.topic.is_empty() {
            return Err(ProtocolViolation::TopicAliasUnknown);
        }

        // `$SYS` belongs to the broker: a client cannot spoof its status topics.
        // Neither may it publish where the ACL does not let it. The PUBLISH is
        // acknowledged (0x87 in v5; 3.x has no refusal, so success) so the
        // client's flow completes, and dropped.
        let refusal = if !self.broker.config.topic_limits.allow(p.topic.as_str()) {
            Metrics::add(&self.broker.metrics.refused_topic_limits, 1);
            Some(ReasonCode::TopicNameInvalid)
        } else if is_sys_topic(&p.topic) || !self.may_publish(&p.topic) {
            Metrics::add(&self.broker.metrics.publishes_refused, 1);
            Some(ReasonCode::NotAuthorized)
        } else {
            None
        };
        if let Some(reason) = refusal {
            let refused = if self.version.is_v5() {
                reason
            } else {
                ReasonCode::Success
            };
            match p.qos_pid {
                QosPid::AtMostOnce => {}
                QosPid::AtLeastOnce(id) => self.write(&ack(AckKind::PubAck, id, refused), out),
                QosPid::ExactlyOnce(id) => self.write(&ack(AckKind::PubRec, id, refused), out),
            }
            return Ok(());
        }

        let mut inbound_ticket = None;
        if let Some(id) = p.qos_pid.packet_id() {
            let mut st = self.session.state.lock();
            if p.qos_pid.qos() == QoS::ExactlyOnce && st.acks().inbound_qos2.contains(&id) {
                // A re-sent QoS 2 PUBLISH: acknowledge, do not route again;
                // but not before the first copy's records are durable.
                let persistent = st.persistent();
                drop(st);
                if persistent {
                    self.wait_for(self.broker.store.barrier());
                }
                self.write(&ack(AckKind::PubRec, id, ReasonCode::Success), out);
                return Ok(());
            }
            // QoS 1 is acknowledged at once, so only QoS 2 ids awaiting PUBREL
            // are unacknowledged when this one arrives.
            if st.acks().inbound_qos2.len() >= usize::from(self.broker.config.receive_maximum) {
                return Err(ProtocolViolation::ReceiveMaximumExceeded);
            }
            if p.qos_pid.qos() == QoS::ExactlyOnce {
                st.acks().inbound_qos2.insert(id);
                if st.persistent() {
                    // Exactly once across a restart: the id is durable with the message.
                    let op = Op::PutInbound(self.client_id.clone(), id);
                    inbound_ticket = self.broker.store.append(op);
                }
            }
        }

        let mut properties = p.properties;
        let expires_at = properties
            .message_expiry_interval
            .take()
            .map(|s| now + Duration::from_secs(u64::from(s)));
        let qos_pid = p.qos_pid;
        let msg = Arc::new(Message {
            topic: p.topic,
            payload: p.payload,
            qos: qos_pid.qos(),
            retain: p.retain,
            properties,
            expires_at,
        });
        // QoS 1/2 waits for room in full online queues rather than being
        // acknowledged and dropped (the overflow policy in session/queue.rs).
        let acked = qos_pid.qos() != QoS::AtMostOnce;
        let mut flow = Routed::default();
        let (matched, ticket) =
            self.broker
                .publish_durable(msg, Some(&self.key), acked.then_some(&mut flow));
        if acked {
            // The contract: the PUBACK/PUBREC leaves only once the message is
            // durable wherever it must survive (persistent sessions, retained).
            self.wait_for(ticket.max(inbound_ticket));
        }
        self.acknowledge_routed(qos_pid, matched, flow, out);
        Ok(())
    }

    fn on_ack(&mut self, a: &Ack, out: &mut BytesMut) {
        let id = a.packet_id;
        match a.kind {
            AckKind::PubAck => self.complete(id, InflightWindow::puback),
            AckKind::PubRec => {
                let release = {
                    let mut st = self.session.state.lock();
                    let stored = st.acks().inflight.stored(id);
                    let release = st.acks().inflight.pubrec(id, !a.reason.is_success());
                    if let Some(stored) = stored {
                        // Not awaited: a restarted broker re-sending the PUBLISH
                        // with DUP and the same id is still exactly once.
                        let op = if release {
                            Op::SetOutboundState(
                                self.client_id.clone(),
                                stored,
                                OutboundState::Released(id),
                            )
                        } else {
                            Op::DeleteOutbound(self.client_id.clone(), stored)
                        };
                        self.broker.store.append(op);
                    }
                    release
                };
                if release {
                    self.write(&ack(AckKind::PubRel, id, ReasonCode::Success), out);
                } else if a.reason.is_success() && self.version.is_v5() {
                    self.write(
                        &ack(AckKind::PubRel, id, ReasonCode::PacketIdentifierNotFound),
                        out,
                    );
                }
            }
            AckKind::PubRel => {
                let known = {
                    let mut st = self.session.state.lock();
                    let known = st.acks().inbound_qos2.remove(&id);
                    if known && st.persistent() {
                        // Durable before PUBCOMP: a forgotten deletion would make
                        // the publisher's next message with this id a "duplicate".
                        let op = Op::DeleteInbound(self.client_id.clone(), id);
                        let ticket = self.broker.store.append(op);
                        drop(st);
                        self.wait_for(ticket);
                    }
                    known
                };
                let reason = if known || !self.version.is_v5() {
                    ReasonCode::Success
                } else {
                    ReasonCode::PacketIdentifierNotFound
                };
                self.write(&ack(AckKind::PubComp, id, reason), out);
            }
            AckKind::PubComp => self.complete(id, InflightWindow::pubcomp),
        }
    }

    /// PUBACK or PUBCOMP from the client: `done` ends the delivery, and its
    /// store record is deleted. Not awaited: a lost deletion costs a QoS 1
    /// duplicate or a PUBREL sent again after a restart, never a loss.
    fn complete(&mut self, id: PacketId, done: fn(&mut InflightWindow, PacketId) -> bool) {
        let mut st = self.session.state.lock();
        let stored = st.acks().inflight.stored(id);
        if done(&mut st.acks().inflight, id)
            && let Some(stored) = stored
        {
            let op = Op::DeleteOutbound(self.client_id.clone(), stored);
            self.broker.store.append(op);
        }
    }

    /// Encode every queued message the outbound window allows. Returns false
    /// if this connection no longer owns its session (taken over).
    pub(super) fn flush_queue(&mut self, now: Instant, out: &mut BytesMut) -> Sendable {
        let mut batch = std::mem::take(&mut self.sendable);
        let mut qos2_ticket = None;
        let owned = self.session.take_sendable(
            self.conn_id,
            now,
            &self.broker.metrics,
            &self.broker.store,
            &mut batch,
            &mut qos2_ticket,
        );
        self.wait_for(qos2_ticket);
        // One allocation for the whole batch: grown a packet at a time, the
        // buffer would be reallocated (and its contents copied) about
        // log2(batch) times, which with large payloads was most of the copying.
        let estimate: usize = batch
            .iter()
            .map(|(_, o)| o.msg.payload.len() + o.msg.topic.as_str().len() + PUBLISH_OVERHEAD)
            .sum();
        out.reserve(estimate);
        for (id, item) in batch.drain(..) {
            self.write_publish(id, &item, false, now, out);
        }
        if batch.capacity() <= 64 {
            // Keep a small scratch vector; drop one grown by a burst (idle footprint).
            self.sendable = batch;
        }
        owned
    }

    /// Re-send unacknowledged deliveries after a session resumes: PUBLISH
    /// with DUP, or PUBREL where PUBREC was already received (4.4).
    pub(super) fn resend_inflight(&mut self, now: Instant, out: &mut BytesMut) {
        let pending = self.session.state.lock().acks().inflight.in_send_order();
        for (id, state) in pending {
            match state {
                InflightState::AwaitAck(item) => {
                    self.write_publish(Some(id), &item, true, now, out)
                }
                InflightState::AwaitComp(_) => {
                    self.write(&ack(AckKind::PubRel, id, ReasonCode::Success), out)
                }
            }
        }
    }

    fn write_publish(
        &mut self,
        id: Option<PacketId>,
        item: &Outgoing,
        dup: bool,
        now: Instant,
        out: &mut BytesMut,
    ) {
        let msg = &item.msg;
        let mut properties = msg.properties.clone();
        properties.message_expiry_interval = msg.remaining_expiry(now);
        properties
            .subscription_identifiers
            .clone_from(&item.subscription_ids);
        let mut topic = msg.topic.clone();
        let mut new_alias = None;
        if self.limits.client_alias_max > 0 && !dup {
            let outbound = self.aliases.as_ref().map(|a| &a.outbound);
            if let Some(alias) = outbound.and_then(|o| o.get(&msg.topic)) {
                properties.topic_alias = Some(*alias);
                topic = TopicName::alias_only();
            } else if let Ok(n) = u16::try_from(outbound.map_or(0, HashMap::len) + 1)
                && n <= self.limits.client_alias_max
                && let Some(alias) = NonZeroU16::new(n)
            {
                properties.topic_alias = Some(alias);
                new_alias = Some(alias);
            }
        }
        let qos_pid = match id {
            Some(id) => QosPid::new(item.qos, id),
            None => QosPid::AtMostOnce,
        };
        let publish = Packet::Publish(Publish {
            dup: dup && id.is_some(),
            qos_pid,
            retain: item.retain,
            topic,
            properties,
            payload: msg.payload.clone(),
        });
        let start = out.len();
        match publish.encode_within(self.version, self.limits.client_max_packet, out) {
            Ok(()) => {
                let payload = msg.payload.len();
                self.broker.metrics.publish(true, qos_pid.qos(), payload);
                if let Some(alias) = new_alias {
                    let aliases = self.aliases.get_or_insert_default();
                    aliases.outbound.insert(msg.topic.clone(), alias);
                }
            }
            Err(_) => {
                // Too large for the client: dropped, as [MQTT-3.1.2-25] requires.
                out.truncate(start);
                self.broker.metrics.dropped(DropReason::TooLarge);
                if let Some(id) = id {
                    self.session.state.lock().acks().inflight.cancel(id);
                }
            }
        }
    }

    /// The DISCONNECT we send at the end, with a reason string if allowed.
    pub(super) fn write_disconnect(&self, reason: ReasonCode, end: &End, out: &mut BytesMut) {
        let text = match end {
            End::Violation(v) if self.limits.problem_info => Some(v.to_string()),
            _ => None,
        };
        self.write(&disconnect_packet(reason, text), out);
    }

    /// Detach from the session; publish or schedule the will if `with_will`.
    pub(super) fn finish(mut self, with_will: bool) {
        let will = if with_will {
            self.will.take().map(|w| *w)
        } else {
            None
        };
        self.broker.detach(&self.session, self.conn_id, will);
    }
}

fn ack(kind: AckKind, packet_id: PacketId, reason: ReasonCode) -> Packet {
    Packet::Ack(Ack {
        kind,
        packet_id,
        reason,
        reason_string: None,
        user_properties: Vec::new(),
    })
}

/// Whether a topic is one of the broker's own `$SYS` topics.
fn is_sys_topic(topic: &TopicName) -> bool {
    topic.as_str() == "$SYS" || topic.as_str().starts_with("$SYS/")
}
