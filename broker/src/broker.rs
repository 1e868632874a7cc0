//! The shared broker state: subscription tree, retained store, session
//! registry and metrics, and the operations that touch several of them.
//!
//! # Lock order
//! `sessions` (registry) → a session's `state` → `tree` / `retained`. Nobody
//! takes a session lock while holding the tree or retained lock: fan-out
//! collects its deliveries and releases the tree before queueing. No lock is
//! ever held across `.await`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use courtier_proto::packet::{LastWill, PublishProperties};
use courtier_proto::{QoS, TopicFilter, TopicName};
use parking_lot::{Mutex, RwLock};

use crate::config::Config;
use crate::message::Message;
use crate::metrics::{DropReason, Metrics};
use crate::retained::{Retained, RetainedStore, forget_committed};
use crate::router::{Delivery, SubscriptionTree};
use crate::session::queue::Outgoing;
use crate::session::registry::Registry;
use crate::session::{Blocked, ConnHandle, Offer, PendingWill, SessionKey, SessionShared};
use crate::store::{Op, StoreHandle, Ticket};

/// A session's key in the registry: the client identifier.
pub type ClientKey = ByteString;

/// Everything the connections share.
#[derive(Debug)]
pub struct Broker {
    /// The validated configuration.
    pub config: Config,
    /// Who is subscribed to what.
    pub tree: RwLock<SubscriptionTree<SessionKey>>,
    /// Retained messages by topic.
    /// Retained messages by topic: the messages themselves, or with a
    /// store, an index of those on disk (shared with the store's commit hook).
    pub retained: Arc<RwLock<RetainedStore<Retained>>>,
    /// Sessions by client id, connected or not.
    pub sessions: Mutex<Registry>,
    /// Counters.
    pub metrics: Metrics,
    /// Startup time, for `$SYS/broker/uptime`.
    pub started: Instant,
    /// Persistence; disabled with `--in-memory` and in unit tests.
    pub store: StoreHandle,
    /// Connections open per listener: (kind, address, count), for `/metrics`.
    pub listener_connections: Mutex<Vec<(&'static str, std::net::SocketAddr, Arc<AtomicU64>)>>,
    /// New connections per address, when `max_connection_rate` is set.
    pub connection_rate: Option<crate::limits::ConnectionRate>,
    next_conn_id: AtomicU64,
    /// Set by [`Broker::close_connections`] at shutdown.
    closing: AtomicBool,
}

/// What routing a client's message did, for its acknowledgement.
#[derive(Debug, Default)]
pub struct Routed {
    /// Sessions that queued it.
    pub accepted: usize,
    /// Sessions whose full queue refused it (offline: nobody drains it).
    pub refused: usize,
    /// Deliveries waiting for room in an online session's full queue.
    pub blocked: Vec<Blocked>,
}

/// The result of attaching a connection to a session.
#[derive(Debug)]
pub struct Attached {
    /// The session.
    pub session: Arc<SessionShared>,
    /// Whether it existed before (the CONNACK Session Present flag).
    pub present: bool,
}

impl Broker {
    /// Empty state for `config`, persisting nothing.
    pub fn new(config: Config) -> Self {
        Self::with_store(config, StoreHandle::disabled())
    }

    /// Empty state for `config` that records its changes in `store`
    /// (restore what the store held with [`Broker::restore`]).
    pub fn with_store(config: Config, store: StoreHandle) -> Self {
        let connection_rate = (config.max_connection_rate > 0)
            .then(|| crate::limits::ConnectionRate::new(config.max_connection_rate));
        let retained = Arc::new(RwLock::new(RetainedStore::default()));
        let on_disk = Arc::clone(&retained);
        store.on_commit(Box::new(move |ops| forget_committed(&on_disk, ops)));
        Self {
            store,
            retained,
            listener_connections: Mutex::new(Vec::new()),
            connection_rate,
            config,
            tree: RwLock::new(SubscriptionTree::default()),
            sessions: Mutex::new(Registry::default()),
            metrics: Metrics::default(),
            started: Instant::now(),
            next_conn_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
        }
    }

    /// Whether the broker is shutting down: attached connections end.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// At shutdown, tell every attached connection to end (with DISCONNECT
    /// 0x8B for v5). Each is woken through its takeover signal and, seeing
    /// [`Broker::is_closing`], ends as shut down. Through the session
    /// rather than a channel each connection listens on, because an idle
    /// connection's task should hold no more than it must. The flag is set
    /// before the registry is locked: a connection attached before this
    /// pass is woken by it, one attached after it sees the flag.
    pub fn close_connections(&self) {
        self.closing.store(true, Ordering::Release);
        let sessions = self.sessions.lock();
        for session in sessions.values() {
            if let Some(owner) = &session.state.lock().owner {
                owner.link.take_over();
            }
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Publish a message: update the retained store if it carries RETAIN,
    /// then route it to every matching session. `publisher` is the
    /// publishing session, for No Local. Returns how many sessions it was
    /// queued for.
    pub fn publish(&self, msg: Arc<Message>, publisher: Option<&SessionKey>) -> usize {
        self.publish_durable(msg, publisher, None).0
    }

    /// [`Broker::publish`], also returning the store ticket of what it
    /// recorded (a retained change, deliveries to persistent sessions):
    /// the publisher's acknowledgement waits for it. `flow` as in
    /// [`Broker::route`].
    pub fn publish_durable(
        &self,
        msg: Arc<Message>,
        publisher: Option<&SessionKey>,
        flow: Option<&mut Routed>,
    ) -> (usize, Option<Ticket>) {
        let ticket = if msg.retain {
            self.update_retained(&msg).1
        } else {
            None
        };
        let (n, routed) = self.route(&msg, publisher, flow);
        (n, routed.max(ticket))
    }

    /// Fan a message out to its subscribers: clones the `Arc`, never the payload.
    /// The tree lock is released before any session is touched. Returns the
    /// number of sessions and the latest store ticket of the deliveries.
    ///
    /// With `flow`, a publisher that can wait: QoS 1/2 deliveries that find
    /// an online session's queue full are handed back in `flow.blocked`
    /// instead of dropped, and `flow.accepted` counts the sessions that
    /// queued it (the queue's overflow policy).
    pub fn route(
        &self,
        msg: &Arc<Message>,
        publisher: Option<&SessionKey>,
        mut flow: Option<&mut Routed>,
    ) -> (usize, Option<Ticket>) {
        let mut deliveries: Vec<Delivery<SessionKey>> = Vec::new();
        self.tree
            .read()
            .matches(&msg.topic, publisher, &mut deliveries);
        let n = deliveries.len();
        let mut ticket = None;
        for d in deliveries {
            let item = Outgoing {
                msg: Arc::clone(msg),
                qos: msg.qos.min(d.qos),
                retain: msg.retain && d.retain_as_published,
                subscription_ids: d.subscription_identifiers.into_iter().collect(),
                stored: None,
            };
            let offer = d
                .key
                .0
                .offer(item, &self.metrics, &self.store, flow.is_some());
            match (offer, flow.as_deref_mut()) {
                (Offer::Queued(t), flow) => {
                    ticket = ticket.max(t);
                    if let Some(flow) = flow {
                        flow.accepted += 1;
                    }
                }
                (Offer::Full(item), Some(flow)) => flow.blocked.push(Blocked {
                    session: d.key.0,
                    item,
                }),
                (Offer::Refused, Some(flow)) => flow.refused += 1,
                (Offer::Dropped | Offer::Refused | Offer::Full(_), _) => {}
            }
        }
        (n, ticket)
    }

    /// Attach connection `conn` to the session of `client_id`, taking over
    /// any connection that holds it and creating or discarding the session
    /// as Clean Start asks. A will still pending on a resumed session is
    /// cancelled ([MQTT-3.1.3-9]); one on a discarded session is published.
    pub fn attach(
        &self,
        client_id: &ClientKey,
        clean_start: bool,
        expiry_interval: u32,
        window: u16,
        conn: ConnHandle,
    ) -> Attached {
        let mut discarded = None;
        let attached = {
            let mut sessions = self.sessions.lock();
            let existing = sessions.get(client_id).cloned();
            let resumable = existing.filter(|s| {
                if clean_start {
                    // Ended now, under the registry lock, so no delivery to it
                    // reaches the store after its deletion below.
                    let mut st = s.state.lock();
                    st.ended = true;
                    if std::mem::take(&mut st.in_store) {
                        self.store.append(Op::DeleteSession(client_id.clone()));
                    }
                    drop(st);
                    discarded = Some(Arc::clone(s));
                    false
                } else {
                    true
                }
            });
            match resumable {
                Some(session) => {
                    let mut st = session.state.lock();
                    if let Some(old) = st.owner.take() {
                        old.link.take_over();
                    }
                    st.owner = Some(conn);
                    st.generation += 1;
                    // The old connection's will, pending or not, is no
                    // longer this session's to persist ([MQTT-3.1.3-9]);
                    // the new connection records its own (`keep_will`).
                    st.pending_will = None;
                    st.will = None;
                    st.expires_at = None;
                    st.expiry_interval = expiry_interval;
                    st.window = window;
                    if st.in_store && !st.persistent() {
                        // Resumed with expiry 0: it now ends with this connection.
                        st.in_store = false;
                        self.store.append(Op::DeleteSession(client_id.clone()));
                    }
                    st.save(client_id, 0, &self.store);
                    drop(st);
                    Attached {
                        session,
                        present: true,
                    }
                }
                None => {
                    let session = Arc::new(SessionShared::new(
                        client_id.clone(),
                        self.config.queue_limits(),
                        expiry_interval,
                    ));
                    {
                        let mut st = session.state.lock();
                        st.owner = Some(conn);
                        st.window = window;
                        st.save(client_id, 0, &self.store);
                    }
                    sessions.insert(Arc::clone(&session));
                    Attached {
                        session,
                        present: false,
                    }
                }
            }
        };
        if let Some(old) = discarded {
            self.retire(&old);
        }
        attached
    }

    /// Detach connection `conn_id` from `session` at connection end. `will`
    /// is the will to publish (already `None` after a normal DISCONNECT).
    /// Schedules the delayed will and the session expiry on `timers`.
    pub fn detach(
        self: &Arc<Self>,
        session: &Arc<SessionShared>,
        conn_id: u64,
        will: Option<LastWill>,
    ) {
        let now = clock_now();
        let mut will = will;
        let (owned, expiry, generation, will_at) = {
            let mut st = session.state.lock();
            let owned = st.owner.as_ref().is_some_and(|o| o.id == conn_id);
            let mut will_at = None;
            if owned {
                st.owner = None;
                st.generation += 1;
                // Publishers waiting for room stop: offline, the queue refuses.
                session.release_waiters();
                st.will = None;
                let expiry = st.expiry_interval;
                // A delayed will waits for min(delay, session expiry); it is
                // made pending before the save so the store keeps its due time.
                if expiry != 0
                    && let Some(w) =
                        will.take_if(|w| w.properties.will_delay_interval.unwrap_or(0) != 0)
                {
                    let delay = w.properties.will_delay_interval.unwrap_or(0);
                    let at = now + Duration::from_secs(u64::from(delay.min(expiry)));
                    st.pending_will = Some(Box::new(PendingWill { will: w, at }));
                    will_at = Some(at);
                }
                st.save(&session.client_id, crate::store::wall_ms(), &self.store);
                // Offline, its queued messages live on disk only (they
                // are stored; QoS 0 is not kept for offline sessions).
                if self.store.is_enabled() && st.persistent() {
                    let dropped = st.queue.spill();
                    for _ in 0..dropped {
                        self.metrics.dropped(DropReason::OfflineQos0);
                    }
                    st.dropped = st
                        .dropped
                        .saturating_add(u32::try_from(dropped).unwrap_or(u32::MAX));
                }
            }
            (owned, st.expiry_interval, st.generation, will_at)
        };
        if !owned {
            // Taken over: the session lives on with the new connection, and
            // a will goes out unless delayed ([MQTT-3.1.4-3], 3.1.3.2.2).
            if let Some(will) = will
                && will.properties.will_delay_interval.unwrap_or(0) == 0
            {
                self.publish_will(session, will, now);
            }
            return;
        }
        // Left in `will` now: a will due at once.
        if let Some(will) = will {
            self.publish_will(session, will, now);
        }
        if expiry == 0 {
            self.end_session(session);
            return;
        }
        if expiry != u32::MAX {
            let end = now + Duration::from_secs(u64::from(expiry));
            session.state.lock().expires_at = Some(end);
            self.schedule(session, generation, end);
        }
        if let Some(at) = will_at {
            self.schedule(session, generation, at);
        }
    }

    /// Wake at `at` to publish a due will or end an expired session, unless
    /// the session was re-attached in between (its generation moved on).
    pub(crate) fn schedule(
        self: &Arc<Self>,
        session: &Arc<SessionShared>,
        generation: u64,
        at: Instant,
    ) {
        let broker = Arc::clone(self);
        let session = Arc::clone(session);
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            broker.on_timer(&session, generation, clock_now());
        });
    }

    /// Timer body, a plain function of `now`.
    fn on_timer(&self, session: &Arc<SessionShared>, generation: u64, now: Instant) {
        let (due_will, expired) = {
            let mut st = session.state.lock();
            if st.generation != generation || st.ended {
                return;
            }
            let due = st.pending_will.as_ref().is_some_and(|w| w.at <= now);
            let will = if due { st.pending_will.take() } else { None };
            if due {
                // Published: the store must not hold it for a later restart.
                let disconnected_at = st.disconnected_at;
                st.save(&session.client_id, disconnected_at, &self.store);
            }
            let expired = st.owner.is_none() && st.expires_at.is_some_and(|at| at <= now);
            (will, expired)
        };
        if let Some(w) = due_will {
            self.publish_will(session, w.will, now);
        }
        if expired {
            self.end_session(session);
        }
    }

    /// Remove an offline or discarded session: its subscriptions leave the
    /// tree and a pending will goes out now (session end comes first).
    pub fn end_session(&self, session: &Arc<SessionShared>) {
        {
            let mut sessions = self.sessions.lock();
            if sessions
                .get(&session.client_id)
                .is_some_and(|s| Arc::ptr_eq(s, session))
            {
                sessions.remove(&session.client_id);
                // Ended under the registry lock, before a successor can
                // attach, so the deletion is ordered before its records.
                let mut st = session.state.lock();
                st.ended = true;
                if std::mem::take(&mut st.in_store) {
                    self.store
                        .append(Op::DeleteSession(session.client_id.clone()));
                }
            }
        }
        self.retire(session);
    }

    /// Mark a session ended, unsubscribe it everywhere, publish its pending will.
    fn retire(&self, session: &Arc<SessionShared>) {
        let (filters, will, owner) = {
            let mut st = session.state.lock();
            st.ended = true;
            let filters: Vec<TopicFilter> = st.subscriptions.take_all().into_keys().collect();
            (filters, st.pending_will.take(), st.owner.take())
        };
        if let Some(owner) = owner {
            owner.link.take_over();
        }
        session.release_waiters();
        if !filters.is_empty() {
            let key = SessionKey(Arc::clone(session));
            let mut tree = self.tree.write();
            for f in &filters {
                tree.unsubscribe(&key, f);
            }
        }
        if let Some(w) = will {
            self.publish_will(session, w.will, clock_now());
        }
    }

    /// Publish a will message as if the client had sent it.
    pub fn publish_will(&self, session: &Arc<SessionShared>, will: LastWill, now: Instant) {
        let p = will.properties;
        let expires_at = p
            .message_expiry_interval
            .map(|s| now + Duration::from_secs(u64::from(s)));
        let msg = Message {
            topic: will.topic,
            payload: will.payload,
            qos: will.qos,
            retain: will.retain,
            properties: PublishProperties {
                payload_format_indicator: p.payload_format_indicator,
                message_expiry_interval: None,
                topic_alias: None,
                response_topic: p.response_topic,
                correlation_data: p.correlation_data,
                user_properties: p.user_properties,
                subscription_identifiers: Vec::new(),
                content_type: p.content_type,
            },
            expires_at,
        };
        tracing::debug!(client = %session.client_id, topic = %msg.topic, "publishing will");
        self.publish(Arc::new(msg), Some(&SessionKey(Arc::clone(session))));
    }

    /// A broker-made message (`$SYS`), retained, QoS 0.
    pub fn publish_sys(&self, topic: &str, value: String) {
        let Ok(topic) = TopicName::new(topic.to_owned()) else {
            return;
        };
        self.publish(
            Arc::new(Message {
                topic,
                payload: value.into(),
                qos: QoS::AtMostOnce,
                retain: true,
                properties: PublishProperties::default(),
                expires_at: None,
            }),
            None,
        );
    }
}

/// The current time on tokio's clock, so timers also work under
/// `tokio::time::pause()` in tests (it equals `Instant::now()` otherwise).
fn clock_now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[cfg(test)]
#[path = "broker_tests.rs"]
mod tests;
