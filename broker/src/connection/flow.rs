//! Publisher back-pressure: a client's QoS 1/2 PUBLISH that finds an online
//! subscriber's queue full is acknowledged only once every such queue took
//! it (the overflow policy in `session/queue.rs`).
//!
//! While a PUBLISH is stalled, the connection keeps handling the client's
//! acknowledgements and PINGREQ, and keeps draining its own queue (the
//! serve loop does), so a client that publishes to itself, or two clients
//! publishing to each other, still make progress. Every other packet is
//! held, in order, and handled once the stall clears: the client's PUBLISH
//! order is kept, and a client stopped by its window or Receive Maximum
//! simply stops sending. Reading stops when `receive_maximum` QoS 1/2
//! PUBLISH packets (which a 5.0 client may not exceed while we withhold
//! their acknowledgements) or [`HOLD_BYTES`] are held: that bounds what a
//! client can pile up. A 3.1.1 client that pipelines more than that while
//! its own queue is full stops being read before its acknowledgements are,
//! and waits until it is disconnected: the price of the bound.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use courtier_proto::packet::{AckKind, QosPid};
use courtier_proto::{Packet, PacketId, ReasonCode};

use super::{Connection, ack};
use crate::broker::Routed;
use crate::connection::End;
use crate::session::{Blocked, Offer, SessionShared};

/// Reading pauses when the held packets' payloads reach this many bytes.
const HOLD_BYTES: usize = 1 << 20;

/// Bytes counted for a held packet other than PUBLISH.
const HELD_PACKET_COST: usize = 64;

/// The flow-control state of a connection that is, or was just, stalled.
#[derive(Debug, Default)]
pub(super) struct Backpressure {
    /// The PUBLISH whose acknowledgement waits for room.
    stall: Option<Stall>,
    /// Packets received since, handled once the stall clears.
    held: VecDeque<Packet>,
    /// QoS 1/2 PUBLISH packets in `held`.
    held_acked: usize,
    /// Approximate bytes in `held`.
    held_bytes: usize,
}

/// What a held packet counts against the limits: (QoS 1/2 PUBLISH, bytes).
fn held_cost(packet: &Packet) -> (usize, usize) {
    match packet {
        Packet::Publish(p) => (
            usize::from(p.qos_pid.packet_id().is_some()),
            p.payload.len() + p.topic.as_str().len(),
        ),
        _ => (0, HELD_PACKET_COST),
    }
}

/// A routed PUBLISH with deliveries still waiting for room.
#[derive(Debug)]
struct Stall {
    /// The acknowledgement to send when done (PUBACK or PUBREC and its id).
    ack: (AckKind, PacketId),
    /// Sessions that matched.
    matched: usize,
    /// What routing did so far.
    routed: Routed,
    /// Since when no waiting delivery was accepted: a subscriber that
    /// accepts none for `slow_subscriber_timeout` is disconnected.
    since: Instant,
}

impl Connection {
    /// Acknowledge a routed client PUBLISH, or stall it until the full
    /// queues in `routed.blocked` have room.
    pub(super) fn acknowledge_routed(
        &mut self,
        qos_pid: QosPid,
        matched: usize,
        routed: Routed,
        out: &mut BytesMut,
    ) {
        let ack = match qos_pid {
            QosPid::AtMostOnce => return,
            QosPid::AtLeastOnce(id) => (AckKind::PubAck, id),
            QosPid::ExactlyOnce(id) => (AckKind::PubRec, id),
        };
        let stall = Stall {
            ack,
            matched,
            routed,
            since: Instant::now(),
        };
        if stall.routed.blocked.is_empty() {
            self.write_routed_ack(&stall, out);
        } else {
            self.flow.get_or_insert_with(Box::default).stall = Some(stall);
        }
    }

    fn write_routed_ack(&self, stall: &Stall, out: &mut BytesMut) {
        let reason = if !self.version.is_v5() {
            ReasonCode::Success
        } else if stall.matched == 0 {
            ReasonCode::NoMatchingSubscribers
        } else if stall.routed.accepted == 0 && stall.routed.refused > 0 {
            // Every matching queue was full and offline: nobody has it.
            ReasonCode::QuotaExceeded
        } else {
            ReasonCode::Success
        };
        let (kind, id) = stall.ack;
        self.write(&ack(kind, id, reason), out);
    }

    /// Whether `packet` must wait behind a stalled PUBLISH; if so it is held.
    pub(super) fn hold_if_stalled(&mut self, packet: Packet) -> Option<Packet> {
        match self.flow.as_mut() {
            Some(flow)
                if flow.stall.is_some() && !matches!(packet, Packet::Ack(_) | Packet::PingReq) =>
            {
                let (acked, bytes) = held_cost(&packet);
                flow.held_acked += acked;
                flow.held_bytes += bytes;
                flow.held.push_back(packet);
                None
            }
            _ => Some(packet),
        }
    }

    /// Since when a stalled PUBLISH has made no progress, if one is stalled.
    pub(in crate::connection) fn stalled_since(&self) -> Option<Instant> {
        Some(self.flow.as_ref()?.stall.as_ref()?.since)
    }

    /// The session a stalled PUBLISH waits for, if any.
    pub(in crate::connection) fn waiting_on(&self) -> Option<Arc<SessionShared>> {
        let stall = self.flow.as_ref()?.stall.as_ref()?;
        stall.routed.blocked.first().map(|b| Arc::clone(&b.session))
    }

    /// Whether to stop reading from the client: enough packets are held.
    pub(in crate::connection) fn reads_paused(&self) -> bool {
        self.flow.as_ref().is_some_and(|f| {
            f.held_acked >= usize::from(self.broker.config.receive_maximum)
                || f.held_bytes >= HOLD_BYTES
        })
    }

    /// Offer stalled deliveries again; once all are queued, acknowledge and
    /// handle the held packets (which may stall again).
    pub(in crate::connection) fn resume(
        &mut self,
        now: Instant,
        out: &mut BytesMut,
    ) -> Option<End> {
        loop {
            let flow = self.flow.as_mut()?;
            if let Some(mut stall) = flow.stall.take() {
                let mut ticket = None;
                let routed = &mut stall.routed;
                let pending = std::mem::take(&mut routed.blocked);
                let mut pending = pending.into_iter();
                for Blocked { session, item } in pending.by_ref() {
                    let (metrics, store) = (&self.broker.metrics, &self.broker.store);
                    match session.offer(item, metrics, store, true) {
                        Offer::Queued(t) => {
                            ticket = ticket.max(t);
                            routed.accepted += 1;
                            stall.since = now;
                        }
                        Offer::Full(item) => {
                            routed.blocked.push(Blocked { session, item });
                            break;
                        }
                        Offer::Refused => routed.refused += 1,
                        Offer::Dropped => {}
                    }
                }
                routed.blocked.extend(pending);
                self.wait_for(ticket);
                if !stall.routed.blocked.is_empty() {
                    if let Some(flow) = self.flow.as_mut() {
                        flow.stall = Some(stall);
                    }
                    return None;
                }
                self.write_routed_ack(&stall, out);
                continue;
            }
            let Some(packet) = flow.held.pop_front() else {
                self.flow = None;
                return None;
            };
            let (acked, bytes) = held_cost(&packet);
            flow.held_acked -= acked;
            flow.held_bytes -= bytes;
            if let Some(end) = self.handle(packet, now, out) {
                return Some(end);
            }
        }
    }
}
