//! Session state: what the broker remembers about a client id across
//! connections (subscriptions, queued and inflight messages, inbound QoS 2
//! ids, a delayed will), and the hand-off between publishers and the
//! connection task.
//!
//! Publishers never wait: [`SessionShared::deliver`] pushes onto the bounded
//! queue under the session's own short mutex and wakes the connection task
//! through [`SessionShared::wake`]. The connection task pulls with
//! [`SessionShared::take_sendable`] as far as the client's window allows.

pub mod inflight;
pub mod queue;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use courtier_proto::packet::LastWill;
use courtier_proto::{PacketId, QoS, TopicFilter};
use parking_lot::Mutex;
use tokio::sync::Notify;

use self::inflight::{InboundQos2, InflightWindow};
use self::queue::{OutboundQueue, Outgoing, PushOutcome};
use crate::metrics::{DropReason, Metrics};
use crate::router::SubscriptionEntry;

/// A session as the subscription tree knows it: compared and hashed by
/// identity, so a discarded session and its successor with the same client
/// id never share tree entries, and a delivery reaches its session without
/// a registry lookup.
#[derive(Clone)]
pub struct SessionKey(pub Arc<SessionShared>);

impl PartialEq for SessionKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SessionKey {}

impl std::hash::Hash for SessionKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(Arc::as_ptr(&self.0), state);
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey({})", self.0.client_id)
    }
}

/// The connection currently attached to a session.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    /// Unique per accepted connection.
    pub id: u64,
    /// Woken to tell that connection it was taken over.
    pub kick: Arc<Notify>,
}

/// A will waiting for its Will Delay Interval (or session end).
#[derive(Debug, Clone)]
pub struct PendingWill {
    /// The will.
    pub will: LastWill,
    /// When to publish it.
    pub at: Instant,
}

/// The mutable part of a session, behind [`SessionShared::state`].
#[derive(Debug)]
pub struct SessionState {
    /// Messages waiting to be sent.
    pub queue: OutboundQueue,
    /// Outbound QoS 1/2 deliveries in flight.
    pub inflight: InflightWindow,
    /// Inbound QoS 2 ids awaiting PUBREL.
    pub inbound_qos2: InboundQos2,
    /// This session's subscriptions, mirrored from the tree so they can be
    /// removed when the session ends (and persisted later).
    pub subscriptions: HashMap<TopicFilter, SubscriptionEntry>,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires.
    pub expiry_interval: u32,
    /// The attached connection, `None` while offline.
    pub owner: Option<ConnHandle>,
    /// Bumped on every attach and detach, so stale timers can tell they are stale.
    pub generation: u64,
    /// When this offline session expires; `None` while attached or never.
    pub expires_at: Option<Instant>,
    /// A delayed will, cancelled by a reconnect.
    pub pending_will: Option<Box<PendingWill>>,
    /// The client's Receive Maximum capped by `max_inflight`: the outbound window.
    pub window: usize,
    /// Set when the session has been discarded; late deliveries are ignored.
    pub ended: bool,
}

/// One session, shared by the registry, the router's deliveries and the
/// connection task.
#[derive(Debug)]
pub struct SessionShared {
    /// The client identifier.
    pub client_id: ByteString,
    /// The state; a short lock never held across `.await`.
    pub state: Mutex<SessionState>,
    /// Wakes the attached connection task when something was queued.
    pub wake: Notify,
}

impl SessionShared {
    /// A fresh, empty session.
    pub fn new(client_id: ByteString, queue_limit: usize, expiry_interval: u32) -> Self {
        Self {
            client_id,
            state: Mutex::new(SessionState {
                queue: OutboundQueue::new(queue_limit),
                inflight: InflightWindow::default(),
                inbound_qos2: InboundQos2::new(),
                subscriptions: HashMap::new(),
                expiry_interval,
                owner: None,
                generation: 0,
                pending_will: None,
                expires_at: None,
                window: 1,
                ended: false,
            }),
            wake: Notify::new(),
        }
    }

    /// Queue a message for this session. Never blocks on the client.
    ///
    /// Offline sessions queue QoS 1 and 2 only: QoS 0 promises no delivery,
    /// and queueing it for absent clients (Mosquitto's `queue_qos0_messages`)
    /// would let idle sessions fill up with stale data. Such drops are counted.
    pub fn deliver(&self, item: Outgoing, metrics: &Metrics) {
        let outcome = {
            let mut st = self.state.lock();
            if st.ended {
                return;
            }
            if st.owner.is_none() && item.qos == QoS::AtMostOnce {
                metrics.dropped(DropReason::OfflineQos0);
                return;
            }
            st.queue.push(item)
        };
        match outcome {
            PushOutcome::Queued => {}
            PushOutcome::QueuedDroppedOldest | PushOutcome::Refused => {
                metrics.dropped(DropReason::QueueFull);
            }
        }
        if outcome != PushOutcome::Refused {
            self.wake.notify_one();
        }
    }

    /// Move messages from the queue to `out`, in order, while the outbound
    /// window allows: QoS 1/2 get a packet id and enter the inflight window.
    /// Expired messages are dropped and counted. Stops at the first QoS 1/2
    /// message that does not fit, so order is kept for every topic.
    /// Returns false if `conn_id` no longer owns the session.
    pub fn take_sendable(
        &self,
        conn_id: u64,
        now: Instant,
        metrics: &Metrics,
        out: &mut Vec<(Option<PacketId>, Outgoing)>,
    ) -> bool {
        let mut st = self.state.lock();
        if st.owner.as_ref().map(|o| o.id) != Some(conn_id) {
            return false;
        }
        while let Some(front) = st.queue.front() {
            if front.msg.is_expired(now) {
                st.queue.pop();
                metrics.dropped(DropReason::Expired);
                continue;
            }
            if front.qos == QoS::AtMostOnce {
                if let Some(item) = st.queue.pop() {
                    out.push((None, item));
                }
                continue;
            }
            if st.inflight.len() >= st.window {
                break;
            }
            let Some(item) = st.queue.pop() else { break };
            match st.inflight.insert(item.clone()) {
                Some(id) => out.push((Some(id), item)),
                None => break,
            }
        }
        true
    }

    /// The filters and entries of every subscription, for removal at session end.
    pub fn subscriptions(&self) -> Vec<TopicFilter> {
        self.state.lock().subscriptions.keys().cloned().collect()
    }
}
