//! Session state: what the broker remembers about a client id across
//! connections (subscriptions, queued and inflight messages, inbound QoS 2
//! ids, a delayed will), and the hand-off between publishers and the
//! connection task.
//!
//! Publishers never block on a lock held across I/O: [`SessionShared::offer`]
//! pushes onto the bounded queue under the session's own short mutex and
//! wakes the connection task through [`SessionShared::wake`]; a QoS 1/2
//! message that finds an online session's queue full is handed back, and
//! the publisher's task waits for [`SessionShared::room`] (see `flow.rs`). The connection task pulls with
//! [`SessionShared::take_sendable`] as far as the client's window allows.

mod flow;
pub mod inflight;
pub mod link;
pub mod queue;
pub mod registry;
pub mod subscriptions;

use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use courtier_proto::packet::LastWill;
use courtier_proto::{PacketId, QoS, TopicFilter};
use parking_lot::Mutex;
use tokio::sync::Notify;

pub use self::flow::{Blocked, Offer};
use self::inflight::{InboundQos2, InflightWindow};
use self::link::ConnLink;
use self::queue::{OutboundQueue, Outgoing, PushOutcome, QueueLimits};
use self::subscriptions::Subscriptions;
use crate::metrics::{DropReason, Metrics};
use crate::store::{
    Op, OutboundState, SessionRecord, StoreHandle, StoredWill, Ticket, instant_to_wall, wall_ms,
};

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

/// What [`SessionShared::take_sendable`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sendable {
    /// Another connection owns the session now.
    NotOwner,
    /// Everything the window allowed was taken.
    Taken,
    /// That too, and the next messages in order are on disk: read them
    /// back (`Broker::read_back_spilled`) and take again.
    ReadBack,
}

/// The connection currently attached to a session.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    /// Unique per accepted connection.
    pub id: u64,
    /// Ends that connection (takeover, operator's kick) and describes it.
    pub link: Arc<ConnLink>,
}

/// A will waiting for its Will Delay Interval (or session end).
#[derive(Debug, Clone)]
pub struct PendingWill {
    /// The will.
    pub will: LastWill,
    /// When to publish it.
    pub at: Instant,
}

/// The packet ids of unfinished QoS 1/2 exchanges.
#[derive(Debug, Default)]
pub struct Acknowledgements {
    /// Outbound QoS 1/2 deliveries in flight.
    pub inflight: InflightWindow,
    /// Inbound QoS 2 ids awaiting PUBREL.
    pub inbound_qos2: InboundQos2,
}

/// The mutable part of a session, behind [`SessionShared::state`].
#[derive(Debug)]
pub struct SessionState {
    /// Messages waiting to be sent.
    pub queue: OutboundQueue,
    /// QoS 1/2 exchanges in both directions; see [`SessionState::acks`].
    acks: Option<Box<Acknowledgements>>,
    /// This session's subscriptions, mirrored from the tree so they can be
    /// removed when the session ends (and persisted later).
    pub subscriptions: Subscriptions,
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
    /// A copy of the attached connection's will, kept only so the store can
    /// publish it after a crash ([`SessionShared::keep_will`]); the
    /// connection owns the will it publishes.
    pub will: Option<Box<LastWill>>,
    /// When the client disconnected, Unix ms as last saved; 0 while connected.
    pub disconnected_at: u64,
    /// The client's Receive Maximum capped by `max_inflight`: the outbound window.
    pub window: u16,
    /// Set when the session has been discarded; late deliveries are ignored.
    pub ended: bool,
    /// Messages meant for this session and dropped (queue full, QoS 0
    /// while offline, expired): the per-client count the admin API shows.
    /// 32 bits, saturating: it packs beside `expiry_interval`.
    pub dropped: u32,
    /// Whether the store may hold this session (so ending it must delete it there).
    pub in_store: bool,
    /// A publisher waits for room in the queue ([`SessionShared::room`]).
    pub room_wanted: bool,
    /// Its spilled messages are being read back for a reconnecting
    /// client: new ones are held, not spilled, until that is done.
    pub resuming: bool,
}

impl SessionState {
    /// The QoS 1/2 exchanges, made on first use: boxed because a session
    /// is one allocation for as long as its client id is known, and idle
    /// or QoS 0 clients never need these (about 100 bytes each).
    pub fn acks(&mut self) -> &mut Acknowledgements {
        self.acks.get_or_insert_default()
    }

    /// Outbound QoS 1/2 deliveries in flight, without making the tables.
    pub fn inflight_len(&self) -> usize {
        self.acks.as_ref().map_or(0, |a| a.inflight.len())
    }

    /// Whether the session outlives its connection, so the store keeps it
    /// (and its QoS 1/2 messages) across a restart.
    pub fn persistent(&self) -> bool {
        self.expiry_interval > 0 && !self.ended
    }

    /// Record the session in `store` if it is persistent (subscriptions,
    /// expiry; `disconnected_at` in Unix ms, 0 while connected). Called under
    /// the session lock, so records reach the store in the order of changes.
    pub fn save(
        &mut self,
        client_id: &ByteString,
        disconnected_at: u64,
        store: &StoreHandle,
    ) -> Option<Ticket> {
        if !store.is_enabled() || !self.persistent() {
            return None;
        }
        self.in_store = true;
        self.disconnected_at = disconnected_at;
        store.append(Op::PutSession(client_id.clone(), self.record()))
    }

    /// The session as the store keeps it. A pending will is stored with its
    /// due time as Unix ms, the connection's will with 0.
    pub fn record(&self) -> SessionRecord {
        let will = match (&self.pending_will, &self.will) {
            (Some(p), _) => {
                let now = tokio::time::Instant::now().into_std();
                Some(Box::new(StoredWill {
                    will: p.will.clone(),
                    at: instant_to_wall(Some(p.at), now, wall_ms()),
                }))
            }
            (None, Some(w)) => Some(Box::new(StoredWill {
                will: (**w).clone(),
                at: 0,
            })),
            (None, None) => None,
        };
        SessionRecord {
            expiry_interval: self.expiry_interval,
            disconnected_at: self.disconnected_at,
            subscriptions: self
                .subscriptions
                .iter()
                .map(|(f, e)| (f.clone(), *e))
                .collect(),
            will,
        }
    }
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
    /// Wakes publishers waiting for room in the queue (flow control).
    pub room: Notify,
}

impl SessionShared {
    /// A fresh, empty session.
    pub fn new(client_id: ByteString, queue_limits: QueueLimits, expiry_interval: u32) -> Self {
        Self {
            client_id,
            state: Mutex::new(SessionState {
                queue: OutboundQueue::new(queue_limits),
                acks: None,
                subscriptions: Subscriptions::default(),
                expiry_interval,
                owner: None,
                generation: 0,
                pending_will: None,
                will: None,
                disconnected_at: 0,
                expires_at: None,
                window: 1,
                ended: false,
                dropped: 0,
                in_store: false,
                room_wanted: false,
                resuming: false,
            }),
            wake: Notify::new(),
            room: Notify::new(),
        }
    }

    /// Queue a message for this session. Never blocks on the client.
    ///
    /// Offline sessions queue QoS 1 and 2 only: QoS 0 promises no delivery,
    /// and queueing it for absent clients (Mosquitto's `queue_qos0_messages`)
    /// would let idle sessions fill up with stale data. Such drops are counted.
    ///
    /// A QoS 1/2 message for a persistent session is recorded in `store`
    /// under the session lock (so the store sees it before any later
    /// acknowledgement of it); the ticket says when it is durable.
    pub fn deliver(
        &self,
        item: Outgoing,
        metrics: &Metrics,
        store: &StoreHandle,
    ) -> Option<Ticket> {
        match self.offer(item, metrics, store, false) {
            Offer::Queued(ticket) => ticket,
            Offer::Dropped | Offer::Refused | Offer::Full(_) => None,
        }
    }

    /// How many messages the queue takes now without evicting one (see
    /// [`queue::OutboundQueue::room`]).
    pub fn queue_room(&self) -> usize {
        self.state.lock().queue.room()
    }

    /// [`SessionShared::deliver`] only if the queue takes it without
    /// evicting anything; otherwise the item comes back.
    pub fn deliver_if_room(
        &self,
        item: Outgoing,
        metrics: &Metrics,
        store: &StoreHandle,
    ) -> Result<Option<Ticket>, Outgoing> {
        if !self.state.lock().queue.has_room() {
            return Err(item);
        }
        Ok(self.deliver(item, metrics, store))
    }

    /// [`SessionShared::deliver`], except that with `may_wait` a QoS 1/2
    /// message that finds an online session's queue full is handed back as
    /// [`Offer::Full`] for the publisher to push again once there is room
    /// (the overflow policy in [`queue`]).
    pub fn offer(
        &self,
        mut item: Outgoing,
        metrics: &Metrics,
        store: &StoreHandle,
        may_wait: bool,
    ) -> Offer {
        let mut ticket = None;
        let outcome = {
            let mut st = self.state.lock();
            if st.ended {
                return Offer::Dropped;
            }
            if st.owner.is_none() && item.qos == QoS::AtMostOnce {
                st.dropped = st.dropped.saturating_add(1);
                metrics.dropped(DropReason::OfflineQos0);
                return Offer::Dropped;
            }
            if may_wait
                && st.owner.is_some()
                && item.qos != QoS::AtMostOnce
                && st.queue.refuses_acked()
            {
                st.room_wanted = true;
                return Offer::Full(item);
            }
            let persist = store.is_enabled() && st.persistent() && item.qos != QoS::AtMostOnce;
            if persist {
                item.stored = Some(store.next_id());
            }
            // Offline, a stored message lives on disk only: the op holds it
            // until it is committed, the queue keeps a marker.
            let spill = persist && st.owner.is_none() && !st.resuming && st.queue.may_spill();
            let (outcome, copy) = match item.stored {
                Some(id) if spill => (st.queue.push_spilled(&item, id), Some(item)),
                _ => {
                    let copy = persist.then(|| item.clone());
                    (st.queue.push(item), copy)
                }
            };
            if outcome != PushOutcome::Queued {
                st.dropped = st.dropped.saturating_add(1);
            }
            if let Some(copy) = copy
                && let Some(id) = copy.stored
                && outcome != PushOutcome::Refused
            {
                ticket = store.append(Op::PutOutbound(self.client_id.clone(), id, copy));
            }
            outcome
        };
        match outcome {
            PushOutcome::Queued => {}
            PushOutcome::QueuedDroppedOldest | PushOutcome::Refused => {
                metrics.dropped(DropReason::QueueFull);
            }
        }
        if outcome == PushOutcome::Refused {
            return Offer::Refused;
        }
        self.wake.notify_one();
        Offer::Queued(ticket)
    }

    /// Move messages from the queue to `out`, in order, while the outbound
    /// window allows: QoS 1/2 get a packet id and enter the inflight window.
    /// Expired messages are dropped and counted. Stops at the first QoS 1/2
    /// message that does not fit, so order is kept for every topic.
    /// Returns [`Sendable::NotOwner`] if `conn_id` no longer owns the
    /// session, [`Sendable::ReadBack`] if messages next in order are on
    /// disk (`queue_spill.rs`).
    ///
    /// Packet ids given to stored deliveries are recorded in `store`; for
    /// QoS 2 `qos2_ticket` is set, and the PUBLISH must not leave before it
    /// is durable: a restarted broker re-sending the message under another
    /// id would have the client deliver it twice.
    pub fn take_sendable(
        &self,
        conn_id: u64,
        now: Instant,
        metrics: &Metrics,
        store: &StoreHandle,
        out: &mut Vec<(Option<PacketId>, Outgoing)>,
        qos2_ticket: &mut Option<Ticket>,
    ) -> Sendable {
        let mut st = self.state.lock();
        if st.owner.as_ref().map(|o| o.id) != Some(conn_id) {
            return Sendable::NotOwner;
        }
        while let Some(front) = st.queue.front() {
            if front.msg.is_expired(now) {
                if let Some(id) = st.queue.pop().and_then(|o| o.stored) {
                    store.append(Op::DeleteOutbound(self.client_id.clone(), id));
                }
                metrics.dropped(DropReason::Expired);
                st.dropped = st.dropped.saturating_add(1);
                continue;
            }
            if front.qos == QoS::AtMostOnce {
                if let Some(item) = st.queue.pop() {
                    out.push((None, item));
                }
                continue;
            }
            if st.acks().inflight.len() >= usize::from(st.window) {
                break;
            }
            let Some(item) = st.queue.pop() else { break };
            match st.acks().inflight.insert(item.clone()) {
                Some(id) => {
                    if let Some(stored) = item.stored {
                        let state = OutboundState::Sent(id);
                        let op = Op::SetOutboundState(self.client_id.clone(), stored, state);
                        let ticket = store.append(op);
                        if item.qos == QoS::ExactlyOnce {
                            *qos2_ticket = ticket.or(*qos2_ticket);
                        }
                    }
                    out.push((Some(id), item));
                }
                None => break,
            }
        }
        let room = st.room_wanted && !st.queue.refuses_acked();
        if room {
            st.room_wanted = false;
        }
        let read_back = st.queue.wants_read_back();
        drop(st);
        if room {
            self.room.notify_waiters();
        }
        if read_back {
            Sendable::ReadBack
        } else {
            Sendable::Taken
        }
    }

    /// Keep a copy of the will of connection `conn_id` in the store record
    /// of this session, if it is persistent: a broker that crashes while the
    /// client is connected publishes it after the restart (the connection
    /// ended without DISCONNECT). The caller need not wait for the ticket:
    /// a will is not an acknowledged message.
    pub fn keep_will(&self, conn_id: u64, will: &LastWill, store: &StoreHandle) {
        let mut st = self.state.lock();
        if !store.is_enabled()
            || !st.persistent()
            || st.owner.as_ref().map(|o| o.id) != Some(conn_id)
        {
            return;
        }
        st.will = Some(Box::new(will.clone()));
        st.save(&self.client_id, 0, store);
    }

    /// The filters and entries of every subscription, for removal at session end.
    pub fn subscriptions(&self) -> Vec<TopicFilter> {
        self.state.lock().subscriptions.keys().cloned().collect()
    }
}
