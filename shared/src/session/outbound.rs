//! Our side of the QoS flows: packet identifiers, the inflight window bounded by
//! the server's Receive Maximum, the bounded queue behind it, and the
//! SUBSCRIBE / UNSUBSCRIBE requests awaiting their acknowledgement.

use std::collections::{HashMap, VecDeque};

use super::RequestId;
use crate::packet::{PacketId, Publish, QoS};

/// The packet identifiers in use, as a 65,536-bit set (8 KiB), handed out
/// in increasing order with wrap-around so that a just-freed id is not
/// reused at once (a late duplicate acknowledgement then cannot complete
/// the wrong request).
pub(super) struct PacketIds {
    /// Bit `n` is set when id `n` is in use; bit 0 is never set.
    used: Box<[u64; 1024]>,
    /// Where the next search starts.
    next: u16,
    /// How many bits are set.
    in_use: u32,
}

impl PacketIds {
    pub(super) fn new() -> Self {
        Self {
            used: Box::new([0; 1024]),
            next: 1,
            in_use: 0,
        }
    }

    /// The next free id at or after the cursor ([MQTT-2.2.1-3]: unused and
    /// non-zero), or `None` when all 65,535 are taken.
    pub(super) fn allocate(&mut self) -> Option<PacketId> {
        if self.in_use >= u32::from(u16::MAX) {
            return None;
        }
        loop {
            let candidate = self.next;
            self.next = self.next.checked_add(1).unwrap_or(1);
            if let Some(id) = PacketId::new(candidate)
                && !self.contains(id)
            {
                self.set(id, true);
                return Some(id);
            }
        }
    }

    /// Make `id` available again (no-op if it was free).
    pub(super) fn release(&mut self, id: PacketId) {
        if self.contains(id) {
            self.set(id, false);
        }
    }

    fn contains(&self, id: PacketId) -> bool {
        let n = usize::from(id.get());
        self.used[n / 64] & (1 << (n % 64)) != 0
    }

    fn set(&mut self, id: PacketId, on: bool) {
        let n = usize::from(id.get());
        if on {
            self.used[n / 64] |= 1 << (n % 64);
            self.in_use += 1;
        } else {
            self.used[n / 64] &= !(1 << (n % 64));
            self.in_use -= 1;
        }
    }
}

/// Which acknowledgement an outbound QoS 1/2 publish awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// QoS 1 PUBLISH sent: awaits PUBACK.
    Qos1Sent,
    /// QoS 2 PUBLISH sent: awaits PUBREC.
    Qos2Sent,
    /// QoS 2 PUBREC received and PUBREL sent: awaits PUBCOMP.
    Released,
}

/// An unacknowledged outbound publish; `publish.qos_pid` holds its id.
pub(super) struct Inflight {
    pub(super) id: RequestId,
    pub(super) publish: Publish,
    pub(super) stage: Stage,
}

impl Inflight {
    pub(super) fn packet_id(&self) -> Option<PacketId> {
        self.publish.qos_pid.packet_id()
    }
}

/// A QoS 1/2 publish waiting for a packet id and room in the window. Its
/// `publish.qos_pid` is a placeholder until it is sent.
pub(super) struct Queued {
    pub(super) id: RequestId,
    pub(super) publish: Publish,
    pub(super) qos: QoS,
}

/// What a SUBSCRIBE or UNSUBSCRIBE waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PendingKind {
    /// SUBACK.
    Subscribe,
    /// UNSUBACK for this many filters.
    Unsubscribe(usize),
}

/// All of our unacknowledged requests.
pub(super) struct Outbound {
    pub(super) ids: PacketIds,
    /// Sent publishes in the order first sent, which is the order they are
    /// resent in ([MQTT-4.6.0-1]). Acknowledgements normally come in that
    /// order too, so the search by id usually stops at the front.
    pub(super) inflight: VecDeque<Inflight>,
    /// Publishes waiting to be sent, bounded by `ClientOptions::max_queued`
    /// when a publish is added (requeued publishes are never dropped).
    pub(super) queue: VecDeque<Queued>,
    /// SUBSCRIBE / UNSUBSCRIBE by packet id. Never resent: they fail when
    /// the connection closes.
    pub(super) pending: HashMap<PacketId, (RequestId, PendingKind)>,
}

impl Outbound {
    pub(super) fn new() -> Self {
        Self {
            ids: PacketIds::new(),
            inflight: VecDeque::new(),
            queue: VecDeque::new(),
            pending: HashMap::new(),
        }
    }

    /// The position of the inflight publish with packet id `pid`.
    pub(super) fn find(&self, pid: PacketId) -> Option<usize> {
        self.inflight
            .iter()
            .position(|f| f.packet_id() == Some(pid))
    }

    /// Remove the inflight publish at `index` and free its packet id.
    pub(super) fn complete(&mut self, index: usize) -> Option<Inflight> {
        let done = self.inflight.remove(index)?;
        if let Some(pid) = done.packet_id() {
            self.ids.release(pid);
        }
        Some(done)
    }

    /// Remove every pending SUBSCRIBE / UNSUBSCRIBE, freeing their ids.
    pub(super) fn take_pending(&mut self) -> Vec<(RequestId, PendingKind)> {
        let mut all: Vec<_> = self.pending.drain().collect();
        for (pid, _) in &all {
            self.ids.release(*pid);
        }
        // Report in request order, not hash order.
        all.sort_by_key(|(_, (id, _))| *id);
        all.into_iter().map(|(_, request)| request).collect()
    }
}

/// Placeholder packet id of a queued publish. The size of a PUBLISH does
/// not depend on the id's value, so it also serves to measure one.
pub(super) const PLACEHOLDER_ID: PacketId = PacketId::MAX;
