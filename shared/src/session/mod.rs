//! The sans-IO MQTT client session shared by every Courtier client driver.
//!
//! [`ClientSession`] is a deterministic state machine in the manner of
//! quinn-proto: it does no I/O and reads no clock. A driver (the browser
//! app over `web_sys::WebSocket`, the embeddable wasm client, `courtier
//! pub`/`sub` over tokio) only moves bytes and time:
//!
//! ```text
//! on transport open:   session.connect(now)?
//! on bytes received:   session.handle_bytes(now, &bytes)
//! on transport closed: session.connection_lost()
//! on timer expiry:     session.handle_timeout(now)
//! after any call:      while let Some(b) = session.poll_transmit() { send b }
//!                      while let Some(e) = session.poll_event() { handle e }
//!                      re-arm the timer at session.poll_timeout()
//! ```
//!
//! `now` is a [`Duration`] since any epoch the driver picks, as long as it
//! never goes backwards (`std::time::Instant` does not exist on
//! `wasm32-unknown-unknown`; a browser driver uses `performance.now()`).
//!
//! # Behaviour
//! - **Keep alive.** When nothing was sent for the keep alive (the server's
//!   Server Keep Alive wins, [MQTT-3.2.2-21]), a PINGREQ is sent. If nothing
//!   at all arrives within [`ClientOptions::ping_timeout`] (default: half
//!   the keep alive) the connection is reported dead with
//!   [`SessionError::KeepAliveTimeout`]. No CONNACK within
//!   [`ClientOptions::connect_timeout`] is reported the same way.
//! - **Outbound QoS 1/2.** At most the server's Receive Maximum publishes
//!   are unacknowledged ([MQTT-3.3.4-7]); the rest wait in a queue of at most
//!   [`ClientOptions::max_queued`], after which `publish` fails with
//!   [`SessionError::QueueFull`]. QoS 1/2 publishes made while disconnected
//!   wait in that queue too; a QoS 0 publish needs a connection. Limits
//!   known at call time (Maximum QoS, Retain Available, Maximum Packet
//!   Size) make `publish` fail; limits learnt later (a publish queued before
//!   CONNACK) fail that request's [`Event::Published`] instead.
//! - **Reconnect.** The inflight state outlives the transport. With Session
//!   Present, unacknowledged PUBLISHes are resent with DUP and PUBRELs for
//!   PUBREC'd ones, in their original order ([MQTT-4.4.0-1]). Without it
//!   (the server lost or discarded the session), unacknowledged publishes are
//!   queued again in order and sent as new messages with new packet ids, as
//!   mqtt.js does: the application asked for at-least-once and gets it
//!   across a lost session; a QoS 2 publish the server already PUBREC'd is
//!   reported complete instead, since the server owns it from then on
//!   (4.3.3) and sending it again could deliver it twice. SUBSCRIBE and
//!   UNSUBSCRIBE are never resent: they fail with
//!   [`SessionError::ConnectionClosed`] when the connection ends.
//! - **Inbound.** QoS 1 is acknowledged at once; QoS 2 is delivered on the
//!   first PUBLISH and its packet id kept until PUBREL, so a resent PUBLISH
//!   is acknowledged but not delivered again. More unreleased QoS 2 messages
//!   than our Receive Maximum is a protocol error ([MQTT-3.3.4-9]).
//! - **Topic aliases.** The server's are resolved (an alias above our
//!   maximum or never set closes with 0x94). Ours: when the server's Topic
//!   Alias Maximum is above 0, a topic's first PUBLISH on a connection
//!   carries the topic and a new alias, later ones an empty topic and the
//!   alias, for up to [`ClientOptions::outgoing_topic_aliases`] topics (the
//!   least recently used gives its alias up when the table is full). Only
//!   the wire form is aliased: queued and inflight publishes keep their
//!   topic, and the table is emptied with the connection; a PUBLISH resent
//!   after a reconnect (DUP) carries its full topic and no alias.
//! - **Closing on errors.** A malformed packet or a protocol violation by the
//!   server gives [`Event::ProtocolError`], then a 5.0 DISCONNECT with the
//!   matching reason code is queued (never in 3.x, where DISCONNECT means
//!   a normal disconnection and would suppress our will), then
//!   [`Event::Disconnected`].
//!
//! # Layout
//! - `options`: [`ClientOptions`] and the [`ServerLimits`] from CONNACK.
//! - `event`: [`Event`] and [`RequestId`].
//! - `error`: [`SessionError`].
//! - `outbound`: packet ids, the inflight window and the queue behind it.
//! - `aliases`: the topic aliases we set towards the server.
//! - `requests`: publish, subscribe, unsubscribe, disconnect, and the pump
//!   that moves queued publishes into the window.
//! - `incoming`: what each packet from the server does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::error::EncodeError;
use crate::framing::Decoder;
use crate::packet::{Disconnect, Packet, PacketId, ProtocolVersion};
use crate::reason::ReasonCode;
use crate::topic::TopicName;

mod aliases;
mod error;
mod event;
mod incoming;
mod options;
mod outbound;
mod requests;

pub use error::SessionError;
pub use event::{Event, RequestId};
pub use options::{ClientOptions, DEFAULT_MAX_PACKET_SIZE, DEFAULT_MAX_QUEUED};
pub use options::{PROTOCOL_MAX_PACKET_SIZE, ServerLimits};

use aliases::OutgoingAliases;
use outbound::{Outbound, PendingKind};

/// Where the current connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// No transport: before the first `connect`, or after `connection_lost`.
    Idle,
    /// CONNECT queued, waiting for CONNACK.
    Connecting,
    /// CONNACK accepted the connection.
    Connected,
    /// The session ended the connection (refusal, DISCONNECT, error): the
    /// driver sends what is left to transmit and closes the transport.
    Closed,
}

/// The MQTT client state machine. See the module documentation.
pub struct ClientSession {
    /// What we ask for; `client_id` is replaced by an Assigned Client Identifier.
    options: ClientOptions,
    state: ConnectionState,
    /// Decodes the server's bytes with our Maximum Packet Size.
    decoder: Decoder,
    /// Received bytes not yet forming a whole packet.
    read_buf: BytesMut,
    /// Encoded packets not yet handed to the driver.
    out: BytesMut,
    /// Events not yet handed to the driver.
    events: VecDeque<Event>,
    /// QoS 0 publishes in `out`: complete once `poll_transmit` hands them over.
    qos0_in_out: Vec<RequestId>,
    /// The last [`RequestId`] handed out.
    last_request: u64,
    /// What the server granted in its last CONNACK.
    server: ServerLimits,
    /// The keep alive in force: ours, or the server's override.
    keep_alive: Duration,
    /// When CONNECT was queued.
    connect_sent_at: Duration,
    /// When we last queued a packet; the keep alive counts from there.
    last_sent_at: Duration,
    /// When the unanswered PINGREQ was sent; cleared by any packet received.
    ping_sent_at: Option<Duration>,
    /// Our QoS 1/2 publishes and our SUBSCRIBE / UNSUBSCRIBE requests.
    outbound: Outbound,
    /// Packet ids of inbound QoS 2 messages delivered but not yet released
    /// by PUBREL: part of the session state, kept across reconnects.
    inbound_qos2: HashSet<PacketId>,
    /// The server's topic aliases on this connection ([MQTT-3.3.2-7]: they
    /// do not outlive it).
    aliases: HashMap<u16, TopicName>,
    /// Our topic aliases on this connection (same rule).
    outgoing_aliases: OutgoingAliases,
}

impl std::fmt::Debug for ClientSession {
    /// The state and the queue lengths; not the buffers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSession")
            .field("client_id", &self.options.client_id)
            .field("version", &self.options.version)
            .field("state", &self.state)
            .field("inflight", &self.outbound.inflight.len())
            .field("queued", &self.outbound.queue.len())
            .field("pending_requests", &self.outbound.pending.len())
            .field("events", &self.events.len())
            .field("unsent_bytes", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A session that has not connected yet.
    pub fn new(options: ClientOptions) -> Self {
        let decoder = Decoder::with_version(options.maximum_packet_size.get(), options.version);
        Self {
            keep_alive: Duration::from_secs(u64::from(options.keep_alive)),
            options,
            state: ConnectionState::Idle,
            decoder,
            read_buf: BytesMut::new(),
            out: BytesMut::new(),
            events: VecDeque::new(),
            qos0_in_out: Vec::new(),
            last_request: 0,
            server: ServerLimits::default(),
            connect_sent_at: Duration::ZERO,
            last_sent_at: Duration::ZERO,
            ping_sent_at: None,
            outbound: Outbound::new(),
            inbound_qos2: HashSet::new(),
            aliases: HashMap::new(),
            outgoing_aliases: OutgoingAliases::default(),
        }
    }

    /// The options in force (with the server-assigned client id, if any).
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Where the current connection stands.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// Whether CONNACK accepted the current connection.
    pub fn is_connected(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    /// What the server granted in its last CONNACK (the protocol's defaults
    /// before that).
    pub fn server_limits(&self) -> &ServerLimits {
        &self.server
    }

    /// The keep alive in force (the server's Server Keep Alive, if it sent one).
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// How many QoS 1/2 publishes are sent and unacknowledged.
    pub fn inflight_len(&self) -> usize {
        self.outbound.inflight.len()
    }

    /// How many QoS 1/2 publishes wait to be sent.
    pub fn queued_len(&self) -> usize {
        self.outbound.queue.len()
    }

    /// Start a connection attempt on a freshly opened transport: queues
    /// CONNECT. Call it after every new transport connection, reconnects
    /// included; after a `Closed` connection it implies `connection_lost`.
    pub fn connect(&mut self, now: Duration) -> Result<(), SessionError> {
        match self.state {
            ConnectionState::Connecting | ConnectionState::Connected => {
                return Err(SessionError::AlreadyConnected);
            }
            ConnectionState::Closed => self.connection_lost(),
            ConnectionState::Idle => {}
        }
        let o = &self.options;
        if o.version != ProtocolVersion::V5 {
            if o.password.is_some() && o.username.is_none() {
                return Err(SessionError::InvalidOptions(
                    "[MQTT-3.1.2-22] a password needs a user name before MQTT 5.0",
                ));
            }
            if o.client_id.is_empty() && !o.clean_start {
                return Err(SessionError::InvalidOptions(
                    "[MQTT-3.1.3-7] an empty client identifier needs clean start before MQTT 5.0",
                ));
            }
        }
        let connect = Packet::Connect(Box::new(o.connect_packet()));
        connect.encode(o.version, &mut self.out)?;
        self.decoder = Decoder::with_version(o.maximum_packet_size.get(), o.version);
        self.server = ServerLimits::default();
        self.keep_alive = Duration::from_secs(u64::from(o.keep_alive));
        self.state = ConnectionState::Connecting;
        self.connect_sent_at = now;
        self.last_sent_at = now;
        Ok(())
    }

    /// The transport closed (or the driver closed it). Pending SUBSCRIBE /
    /// UNSUBSCRIBE requests and unsent QoS 0 publishes fail; QoS 1/2 state
    /// is kept for the next `connect`. No event says the connection ended:
    /// the driver knows.
    pub fn connection_lost(&mut self) {
        if self.state == ConnectionState::Idle {
            return;
        }
        self.fail_pending();
        for id in self.qos0_in_out.drain(..) {
            self.events.push_back(Event::Published {
                id,
                result: Err(SessionError::ConnectionClosed("QoS 0 PUBLISH")),
            });
        }
        self.out.clear();
        self.read_buf.clear();
        self.aliases.clear();
        self.outgoing_aliases.reset(0);
        self.ping_sent_at = None;
        self.state = ConnectionState::Idle;
    }

    /// Feed bytes received from the transport. Partial packets are kept
    /// until the rest arrives. Ignored unless a connection is open.
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        if !self.is_open() {
            return;
        }
        self.read_buf.extend_from_slice(bytes);
        while self.is_open() {
            match self.decoder.decode(&mut self.read_buf) {
                Ok(Some(packet)) => self.handle_packet(now, packet),
                Ok(None) => break,
                Err(e) => self.fail(now, e.into()),
            }
        }
    }

    /// Let the session act on time: send PINGREQ, or give up on a silent
    /// server. Call it when [`Self::poll_timeout`] has passed (calling it
    /// early is harmless).
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.state {
            ConnectionState::Connecting => {
                let limit = self.options.connect_timeout;
                if now >= self.connect_sent_at + limit {
                    self.fail(now, SessionError::ConnAckTimeout(limit));
                }
            }
            ConnectionState::Connected => {
                if let Some(sent) = self.ping_sent_at {
                    let limit = self.ping_timeout();
                    if now >= sent + limit {
                        self.fail(now, SessionError::KeepAliveTimeout(limit));
                    }
                } else if !self.keep_alive.is_zero() && now >= self.last_sent_at + self.keep_alive {
                    self.send_control(now, &Packet::PingReq);
                    self.ping_sent_at = Some(now);
                }
            }
            ConnectionState::Idle | ConnectionState::Closed => {}
        }
    }

    /// When [`Self::handle_timeout`] should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.state {
            ConnectionState::Connecting => {
                Some(self.connect_sent_at + self.options.connect_timeout)
            }
            ConnectionState::Connected => match self.ping_sent_at {
                Some(sent) => Some(sent + self.ping_timeout()),
                None if self.keep_alive.is_zero() => None,
                None => Some(self.last_sent_at + self.keep_alive),
            },
            ConnectionState::Idle | ConnectionState::Closed => None,
        }
    }

    /// Everything queued for the server, coalesced into one buffer, or
    /// `None` when there is nothing to send.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        for id in self.qos0_in_out.drain(..) {
            self.events.push_back(Event::Published {
                id,
                result: Ok(ReasonCode::Success),
            });
        }
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Encode `packet` into the transmit buffer within the server's
    /// Maximum Packet Size, and restart the keep alive count.
    fn send(&mut self, now: Duration, packet: &Packet) -> Result<(), SessionError> {
        let max = self.server.maximum_packet_size;
        packet
            .encode_within(self.options.version, max, &mut self.out)
            .map_err(|e| match e {
                EncodeError::TooLarge { size, max } => SessionError::PacketTooLarge { size, max },
                e => SessionError::Encode(e),
            })?;
        self.last_sent_at = now;
        Ok(())
    }

    /// [`Self::send`] for acknowledgements, PINGREQ and DISCONNECT, which
    /// always encode: at worst they are a few bytes over a server limit
    /// below any real packet, and then nothing useful can be sent anyway.
    fn send_control(&mut self, now: Duration, packet: &Packet) {
        let _ = self.send(now, packet);
    }

    /// Whether a connection is open (connecting or connected).
    fn is_open(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Connecting | ConnectionState::Connected
        )
    }

    fn ping_timeout(&self) -> Duration {
        self.options.ping_timeout.unwrap_or(self.keep_alive / 2)
    }

    fn next_request(&mut self) -> RequestId {
        self.last_request += 1;
        RequestId(self.last_request)
    }

    fn published(&mut self, id: RequestId, result: Result<ReasonCode, SessionError>) {
        self.events.push_back(Event::Published { id, result });
    }

    /// Fail every pending SUBSCRIBE / UNSUBSCRIBE: they are not resent.
    fn fail_pending(&mut self) {
        for (id, kind) in self.outbound.take_pending() {
            self.events.push_back(match kind {
                PendingKind::Subscribe => Event::Subscribed {
                    id,
                    result: Err(SessionError::ConnectionClosed("SUBSCRIBE")),
                },
                PendingKind::Unsubscribe(_) => Event::Unsubscribed {
                    id,
                    result: Err(SessionError::ConnectionClosed("UNSUBSCRIBE")),
                },
            });
        }
    }

    /// End the connection: state `Closed`, pending requests failed, and
    /// [`Event::Disconnected`].
    fn close(
        &mut self,
        reason: ReasonCode,
        reason_string: Option<bytestring::ByteString>,
        by_server: bool,
    ) {
        self.state = ConnectionState::Closed;
        self.ping_sent_at = None;
        self.fail_pending();
        self.events.push_back(Event::Disconnected {
            reason,
            reason_string,
            by_server,
        });
    }

    /// Close the connection because of `error`: [`Event::ProtocolError`],
    /// a 5.0 DISCONNECT when connected, then [`Event::Disconnected`].
    fn fail(&mut self, now: Duration, error: SessionError) {
        let reason = error.reason_code();
        let tell = error.sends_disconnect() && self.options.version.is_v5() && self.is_connected();
        self.events.push_back(Event::ProtocolError(error));
        if tell {
            let packet = Packet::Disconnect(Disconnect {
                reason,
                ..Disconnect::default()
            });
            self.send_control(now, &packet);
        }
        self.close(reason, None, false);
    }
}
