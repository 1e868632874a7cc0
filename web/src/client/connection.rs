//! [`Connection`]: one MQTT session driven over a browser `WebSocket`.
//!
//! The session ([`ClientSession`]) decides everything; this file only moves bytes and time:
//! socket bytes go to `handle_bytes`, every call is followed by draining `poll_transmit` into
//! the socket and `poll_event` into the event queue, and the one timer is re-armed at
//! `poll_timeout` (or at the reconnect delay while waiting to reconnect).
//!
//! Events reach `on_event` from the browser's event loop only, never from inside a call such
//! as [`Connection::publish`]: a call queues them and a microtask delivers them. So the
//! `RequestId` a call returns is always known before its completion event arrives, and
//! `on_event` may call back into the connection freely.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::time::Duration;

use bytes::Bytes;
use courtier_proto::packet::{PublishProperties, SubscribeProperties, Subscription};
use courtier_proto::reason::ReasonCode;
use courtier_proto::session::{self, ClientOptions, ClientSession, Event, RequestId};
use courtier_proto::{QoS, TopicFilter, TopicName};
use wasm_bindgen::JsCast;

use super::backoff::{ReconnectPolicy, refusal_is_temporary};
use super::socket::{Socket, SocketHandlers, Timer, now};
use super::{ClientError, ClientEvent, ConnectionState, check_broker_url};

/// An MQTT connection over a browser WebSocket. Cheap to clone: clones share one session,
/// one socket and one timer. Dropping the last clone closes the socket without DISCONNECT
/// (call [`Connection::close`] for a clean end).
#[derive(Clone)]
pub struct Connection {
    shared: Rc<Shared>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

struct Shared {
    inner: RefCell<Inner>,
    /// Events not yet handed to `on_event`, oldest first.
    events: RefCell<VecDeque<ClientEvent>>,
    on_event: Box<dyn Fn(ClientEvent)>,
}

struct Inner {
    url: String,
    session: ClientSession,
    state: ConnectionState,
    socket: Option<Socket>,
    timer: Option<Timer>,
    /// `None`: a lost connection stays lost.
    reconnect: Option<ReconnectPolicy>,
    /// Attempts since the last accepted connection; sets the next backoff delay.
    attempt: u32,
    /// The application asked to close, or the broker refused us for good: no reconnect.
    stopped: bool,
    /// Whether a microtask to deliver events is already queued.
    dispatch_queued: bool,
}

impl Connection {
    /// Opens `url` (a `ws://` or `wss://` broker URL) and connects with `options` once the
    /// socket is open. A lost connection stays lost; see [`Connection::open_reconnecting`].
    pub fn open(
        url: &str,
        options: ClientOptions,
        on_event: impl Fn(ClientEvent) + 'static,
    ) -> Result<Connection, ClientError> {
        Self::open_with(url, options, None, on_event)
    }

    /// [`Connection::open`], and after a lost connection open a new socket on `policy`'s
    /// schedule, resuming the same session (unacknowledged QoS 1/2 publishes are resent).
    /// Subscriptions are not restored here: when the broker did not keep the session
    /// (`session_present: false` in the next `Connected` event) the application subscribes
    /// again, since it alone knows which subscriptions it still wants.
    pub fn open_reconnecting(
        url: &str,
        options: ClientOptions,
        policy: ReconnectPolicy,
        on_event: impl Fn(ClientEvent) + 'static,
    ) -> Result<Connection, ClientError> {
        Self::open_with(url, options, Some(policy), on_event)
    }

    fn open_with(
        url: &str,
        options: ClientOptions,
        reconnect: Option<ReconnectPolicy>,
        on_event: impl Fn(ClientEvent) + 'static,
    ) -> Result<Connection, ClientError> {
        let page_protocol = web_sys::window().and_then(|w| w.location().protocol().ok());
        check_broker_url(url, page_protocol.as_deref())?;
        // CONNECT is only built once the socket is open; build it now on a scratch session so
        // that invalid options fail this call instead of a later event.
        ClientSession::new(options.clone()).connect(Duration::ZERO)?;
        let shared = Rc::new(Shared {
            inner: RefCell::new(Inner {
                url: url.to_owned(),
                session: ClientSession::new(options),
                state: ConnectionState::Opening,
                socket: None,
                timer: None,
                reconnect,
                attempt: 0,
                stopped: false,
                dispatch_queued: false,
            }),
            events: RefCell::new(VecDeque::new()),
            on_event: Box::new(on_event),
        });
        let weak = Rc::downgrade(&shared);
        let timer = Timer::new(Box::new(move || with(&weak, Shared::on_timer)));
        let socket = Shared::new_socket(&shared, url)?;
        {
            let mut inner = shared.inner.borrow_mut();
            inner.timer = Some(timer);
            inner.socket = Some(socket);
        }
        Ok(Connection { shared })
    }

    /// Publishes an application message; its [`Event::Published`] carries the outcome.
    pub fn publish(
        &self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: PublishProperties,
    ) -> Result<RequestId, ClientError> {
        let topic =
            TopicName::new(topic.to_owned()).map_err(|error| ClientError::InvalidTopic {
                topic: topic.to_owned(),
                error,
            })?;
        self.call(|session| session.publish(now(), topic, payload, qos, retain, properties))
    }

    /// Subscribes; its [`Event::Subscribed`] carries the SUBACK.
    pub fn subscribe(
        &self,
        subscriptions: Vec<Subscription>,
        properties: SubscribeProperties,
    ) -> Result<RequestId, ClientError> {
        self.call(|session| session.subscribe(now(), subscriptions, properties))
    }

    /// Unsubscribes; its [`Event::Unsubscribed`] carries the UNSUBACK.
    pub fn unsubscribe(&self, filters: Vec<TopicFilter>) -> Result<RequestId, ClientError> {
        self.call(|session| session.unsubscribe(now(), filters, Vec::new()))
    }

    /// Ends the connection for good: DISCONNECT if connected, then the socket is closed and
    /// no reconnect follows. [`ClientEvent::Closed`] is the last event.
    pub fn close(&self) {
        let mut inner = self.shared.inner.borrow_mut();
        inner.stopped = true;
        match inner.state {
            ConnectionState::Connected => {
                // Cannot fail while connected except for a 1-byte-over-limit server; then the
                // socket is closed below without it.
                let _ = inner.session.disconnect(now(), ReasonCode::Success);
                self.shared.drive(&mut inner);
                if let Some(socket) = &inner.socket {
                    socket.close();
                }
            }
            ConnectionState::Opening | ConnectionState::Connecting => {
                if let Some(socket) = &inner.socket {
                    socket.close();
                }
            }
            ConnectionState::Reconnecting => {
                inner.state = ConnectionState::Closed;
                if let Some(timer) = &mut inner.timer {
                    timer.cancel();
                }
                self.shared.push(ClientEvent::Closed {
                    code: 1000,
                    reason: "closed while waiting to reconnect".to_owned(),
                    was_clean: true,
                });
            }
            ConnectionState::Closed => {}
        }
        drop(inner);
        Shared::queue_dispatch(&self.shared);
    }

    /// Where the connection stands.
    pub fn state(&self) -> ConnectionState {
        self.shared.inner.borrow().state
    }

    /// The client identifier in use (the broker's Assigned Client Identifier, if it gave one).
    pub fn client_id(&self) -> String {
        self.shared
            .inner
            .borrow()
            .session
            .options()
            .client_id
            .to_string()
    }

    /// Runs a session call, sends what it queued and schedules delivery of its events.
    fn call<T>(
        &self,
        f: impl FnOnce(&mut ClientSession) -> Result<T, session::SessionError>,
    ) -> Result<T, ClientError> {
        let result = {
            let mut inner = self.shared.inner.borrow_mut();
            let result = f(&mut inner.session);
            self.shared.drive(&mut inner);
            result
        };
        Shared::queue_dispatch(&self.shared);
        result.map_err(ClientError::from)
    }
}

/// Runs `f` on the connection if it still exists (browser callbacks hold it weakly, so that
/// dropping the last [`Connection`] frees everything), then delivers the queued events.
fn with(weak: &Weak<Shared>, f: impl FnOnce(&Rc<Shared>, &mut Inner)) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    {
        let mut inner = shared.inner.borrow_mut();
        f(&shared, &mut inner);
    }
    shared.dispatch();
}

impl Shared {
    fn new_socket(shared: &Rc<Self>, url: &str) -> Result<Socket, ClientError> {
        let (open, message, close, error) = (
            Rc::downgrade(shared),
            Rc::downgrade(shared),
            Rc::downgrade(shared),
            Rc::downgrade(shared),
        );
        Socket::open(
            url,
            SocketHandlers {
                on_open: Box::new(move || with(&open, |shared, inner| shared.on_open(inner))),
                on_message: Box::new(move |event| {
                    with(&message, |shared, inner| shared.on_message(inner, &event));
                }),
                on_close: Box::new(move |event| {
                    with(&close, |shared, inner| shared.on_close(inner, &event));
                }),
                on_error: Box::new(move |_| {
                    with(&error, |shared, _| {
                        // The browser deliberately says nothing more (it would leak details
                        // of other origins); `close` follows with a code.
                        shared.push(ClientEvent::TransportError(
                            "the WebSocket connection failed".to_owned(),
                        ));
                    });
                }),
            },
        )
    }

    fn on_open(&self, inner: &mut Inner) {
        inner.state = ConnectionState::Connecting;
        self.push(ClientEvent::Opened);
        if let Err(e) = inner.session.connect(now()) {
            // `open` built a CONNECT from the same options, so this is unreachable in
            // practice; report it rather than hang.
            self.push(ClientEvent::TransportError(e.to_string()));
            inner.stopped = true;
            if let Some(socket) = &inner.socket {
                socket.close();
            }
        }
        self.drive(inner);
    }

    fn on_message(&self, inner: &mut Inner, event: &web_sys::MessageEvent) {
        let data = event.data();
        if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            let bytes = js_sys::Uint8Array::new(buffer).to_vec();
            inner.session.handle_bytes(now(), &bytes);
            self.drive(inner);
        } else {
            self.push(ClientEvent::TransportError(
                "[MQTT-6.0.0-1] the server sent a text frame; MQTT uses binary frames only"
                    .to_owned(),
            ));
            if let Some(socket) = &inner.socket {
                socket.close();
            }
        }
    }

    fn on_close(&self, inner: &mut Inner, event: &web_sys::CloseEvent) {
        inner.socket = None;
        inner.session.connection_lost();
        self.drive(inner);
        self.push(ClientEvent::Closed {
            code: event.code(),
            reason: event.reason(),
            was_clean: event.was_clean(),
        });
        match inner.reconnect {
            Some(policy) if !inner.stopped => {
                let delay = policy.delay(inner.attempt, js_sys::Math::random());
                inner.attempt = inner.attempt.saturating_add(1);
                inner.state = ConnectionState::Reconnecting;
                if let Some(timer) = &mut inner.timer {
                    timer.arm(now() + delay);
                }
                self.push(ClientEvent::Reconnecting {
                    attempt: inner.attempt,
                    delay,
                });
            }
            _ => {
                inner.state = ConnectionState::Closed;
                if let Some(timer) = &mut inner.timer {
                    timer.cancel();
                }
            }
        }
    }

    fn on_timer(shared: &Rc<Self>, inner: &mut Inner) {
        if let Some(timer) = &mut inner.timer {
            timer.cancel();
        }
        if inner.state == ConnectionState::Reconnecting {
            inner.state = ConnectionState::Opening;
            match Self::new_socket(shared, &inner.url) {
                Ok(socket) => inner.socket = Some(socket),
                Err(e) => {
                    // The URL was accepted before, so the browser is out of sockets or
                    // similar: report it and stop rather than spin.
                    inner.state = ConnectionState::Closed;
                    shared.push(ClientEvent::TransportError(e.to_string()));
                }
            }
            return;
        }
        inner.session.handle_timeout(now());
        shared.drive(inner);
    }

    /// Sends what the session queued, moves its events to the queue, closes the socket when
    /// the session ended the connection, and re-arms the timer.
    fn drive(&self, inner: &mut Inner) {
        let mut ended = false;
        loop {
            while let Some(bytes) = inner.session.poll_transmit() {
                if let Some(socket) = &inner.socket
                    && let Err(e) = socket.send(&bytes)
                {
                    self.push(ClientEvent::TransportError(e.to_string()));
                }
            }
            let Some(event) = inner.session.poll_event() else {
                break;
            };
            match &event {
                Event::Connected { .. } => {
                    inner.state = ConnectionState::Connected;
                    inner.attempt = 0;
                }
                Event::ConnectionRefused { reason, .. } => {
                    ended = true;
                    inner.stopped |= !refusal_is_temporary(*reason);
                }
                Event::Disconnected { .. } => ended = true,
                _ => {}
            }
            self.push(ClientEvent::Session(event));
        }
        if ended && let Some(socket) = &inner.socket {
            socket.close();
        }
        if inner.state != ConnectionState::Reconnecting
            && let Some(timer) = &mut inner.timer
        {
            match inner.session.poll_timeout() {
                Some(deadline) => timer.arm(deadline),
                None => timer.cancel(),
            }
        }
    }

    fn push(&self, event: ClientEvent) {
        self.events.borrow_mut().push_back(event);
    }

    /// Hands queued events to `on_event` one at a time, holding no borrow while it runs.
    fn dispatch(&self) {
        loop {
            let next = self.events.borrow_mut().pop_front();
            match next {
                Some(event) => (self.on_event)(event),
                None => break,
            }
        }
    }

    /// Delivers queued events from a microtask, after the current call has returned.
    fn queue_dispatch(shared: &Rc<Self>) {
        {
            let mut inner = shared.inner.borrow_mut();
            if inner.dispatch_queued || shared.events.borrow().is_empty() {
                return;
            }
            inner.dispatch_queued = true;
        }
        let weak = Rc::downgrade(shared);
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(shared) = weak.upgrade() {
                shared.inner.borrow_mut().dispatch_queued = false;
                shared.dispatch();
            }
        });
    }
}
