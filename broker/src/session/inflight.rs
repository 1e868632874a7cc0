//! Per-session packet-id state: the outbound inflight window (QoS 1/2 sent,
//! not yet completed) and the inbound QoS 2 ids (PUBREC sent, PUBREL awaited).

use std::collections::{HashMap, HashSet};

use courtier_proto::PacketId;

use super::queue::Outgoing;

/// Where an outbound QoS 1/2 delivery stands.
#[derive(Debug, Clone)]
pub enum InflightState {
    /// PUBLISH sent; PUBACK (QoS 1) or PUBREC (QoS 2) awaited. Kept whole so
    /// it can be re-sent with DUP on reconnect.
    AwaitAck(Outgoing),
    /// PUBREL sent; PUBCOMP awaited. The message itself is no longer
    /// needed, only its store id (to delete it at PUBCOMP).
    AwaitComp(Option<crate::store::StoredId>),
}

/// Outbound QoS 1/2 deliveries by packet id, remembering their send order.
#[derive(Debug, Default)]
pub struct InflightWindow {
    entries: HashMap<PacketId, (u64, InflightState)>,
    next_id: u16,
    next_seq: u64,
}

impl InflightWindow {
    /// Number of deliveries in flight (counts against the client's Receive Maximum).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Record a new delivery under a fresh packet id ([MQTT-2.2.1-3]: ids of
    /// unacknowledged packets are never reused). `None` if all 65,535 are taken.
    pub fn insert(&mut self, out: Outgoing) -> Option<PacketId> {
        if self.entries.len() >= usize::from(u16::MAX) {
            return None;
        }
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            let Some(id) = PacketId::new(self.next_id) else {
                continue;
            };
            if !self.entries.contains_key(&id) {
                self.entries
                    .insert(id, (self.next_seq, InflightState::AwaitAck(out)));
                self.next_seq += 1;
                return Some(id);
            }
        }
    }

    /// Put back a delivery loaded from the store under the packet id it was
    /// sent with; `released` when its PUBREC had arrived. Restored entries
    /// keep the order they are restored in. False if the id is taken.
    pub fn restore(&mut self, id: PacketId, out: Outgoing, released: bool) -> bool {
        if self.entries.contains_key(&id) {
            return false;
        }
        let state = if released {
            InflightState::AwaitComp(out.stored)
        } else {
            InflightState::AwaitAck(out)
        };
        self.entries.insert(id, (self.next_seq, state));
        self.next_seq += 1;
        self.next_id = self.next_id.max(id.get());
        true
    }

    /// The store id of the delivery with packet id `id`, if it is persisted.
    pub fn stored(&self, id: PacketId) -> Option<crate::store::StoredId> {
        match self.entries.get(&id)? {
            (_, InflightState::AwaitAck(o)) => o.stored,
            (_, InflightState::AwaitComp(stored)) => *stored,
        }
    }

    /// Forget an id that was allocated but never sent.
    pub fn cancel(&mut self, id: PacketId) {
        self.entries.remove(&id);
    }

    /// PUBACK received: true if it completed a QoS 1 delivery.
    pub fn puback(&mut self, id: PacketId) -> bool {
        match self.entries.get(&id) {
            Some((_, InflightState::AwaitAck(o))) if o.qos == courtier_proto::QoS::AtLeastOnce => {
                self.entries.remove(&id);
                true
            }
            _ => false,
        }
    }

    /// PUBREC received: true if a PUBREL must be sent. A failure code ends
    /// the delivery instead (4.3.3: the flow stops at a PUBREC >= 0x80).
    pub fn pubrec(&mut self, id: PacketId, failed: bool) -> bool {
        match self.entries.get_mut(&id) {
            Some((_, state @ InflightState::AwaitAck(_))) => {
                if failed {
                    self.entries.remove(&id);
                    false
                } else {
                    let stored = match state {
                        InflightState::AwaitAck(o) => o.stored,
                        InflightState::AwaitComp(s) => *s,
                    };
                    *state = InflightState::AwaitComp(stored);
                    true
                }
            }
            // A repeated PUBREC after our PUBREL was lost: answer again.
            Some((_, InflightState::AwaitComp(_))) => !failed,
            None => false,
        }
    }

    /// PUBCOMP received: true if it completed a QoS 2 delivery.
    pub fn pubcomp(&mut self, id: PacketId) -> bool {
        match self.entries.get(&id) {
            Some((_, InflightState::AwaitComp(_))) => {
                self.entries.remove(&id);
                true
            }
            _ => false,
        }
    }

    /// Everything in flight, oldest first: what to re-send on reconnect.
    pub fn in_send_order(&self) -> Vec<(PacketId, InflightState)> {
        let mut all: Vec<_> = self
            .entries
            .iter()
            .map(|(id, (seq, st))| (*seq, *id, st.clone()))
            .collect();
        all.sort_unstable_by_key(|(seq, _, _)| *seq);
        all.into_iter().map(|(_, id, st)| (id, st)).collect()
    }
}

/// Inbound QoS 2 packet ids whose PUBREL has not arrived. A PUBLISH re-sent
/// with one of these ids is acknowledged but not routed again: that is what
/// makes inbound QoS 2 exactly-once (4.3.3, method B).
pub type InboundQos2 = HashSet<PacketId>;

#[cfg(test)]
mod tests {
    use courtier_proto::QoS;

    use super::*;

    fn out(qos: QoS) -> Outgoing {
        crate::session::queue::sample(qos, "")
    }

    #[test]
    fn ids_are_unique_and_skip_those_in_use() {
        let mut w = InflightWindow {
            next_id: u16::MAX - 1,
            ..Default::default()
        };
        let a = w.insert(out(QoS::AtLeastOnce)).expect("id");
        let b = w.insert(out(QoS::AtLeastOnce)).expect("id");
        assert_eq!((a.get(), b.get()), (u16::MAX, 1), "wraps past zero");
        w.next_id = 0;
        let c = w.insert(out(QoS::AtLeastOnce)).expect("id");
        assert_eq!(c.get(), 2, "1 is still in flight");
    }

    #[test]
    fn qos1_completes_on_puback_only() {
        let mut w = InflightWindow::default();
        let id = w.insert(out(QoS::AtLeastOnce)).expect("id");
        assert!(!w.pubcomp(id));
        let mut w = InflightWindow::default();
        let id = w.insert(out(QoS::AtLeastOnce)).expect("id");
        assert!(w.puback(id));
        assert!(w.is_empty());
        assert!(!w.puback(id), "a second PUBACK is ignored");
    }

    #[test]
    fn qos2_runs_rec_rel_comp_and_resends_in_order() {
        let mut w = InflightWindow::default();
        let first = w.insert(out(QoS::ExactlyOnce)).expect("id");
        let second = w.insert(out(QoS::ExactlyOnce)).expect("id");
        assert!(!w.puback(first), "PUBACK does not complete QoS 2");
        assert!(w.pubrec(first, false));
        assert!(
            w.pubrec(first, false),
            "a repeated PUBREC is answered again"
        );
        let order: Vec<_> = w
            .in_send_order()
            .into_iter()
            .map(|(id, st)| (id, matches!(st, InflightState::AwaitComp(_))))
            .collect();
        assert_eq!(order, vec![(first, true), (second, false)]);
        assert!(w.pubcomp(first));
        assert!(!w.pubrec(second, true), "a failed PUBREC ends the flow");
        assert!(w.is_empty());
    }
}
