//! What the client asks for ([`ClientOptions`]) and what the server granted ([`ServerLimits`]).

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use crate::packet::{ConnAckProperties, ConnectProperties, LastWill, ProtocolVersion, QoS};
use crate::packet::{Connect, UserProperty};
use crate::wire::MAX_VARINT;

/// The largest packet MQTT can frame: a 4-byte remaining length of
/// 268,435,455 plus the fixed header (2.1.4). The spec's default limit.
pub const PROTOCOL_MAX_PACKET_SIZE: u32 = MAX_VARINT + 5;

/// Default for [`ClientOptions::maximum_packet_size`]: 1 MiB. A browser tab
/// or a small device should not buffer 256 MiB because a server allowed it;
/// in 5.0 the server then drops larger messages for us instead of sending
/// them ([MQTT-3.1.2-25]).
pub const DEFAULT_MAX_PACKET_SIZE: NonZeroU32 = NonZeroU32::new(1 << 20).unwrap();

/// Default for [`ClientOptions::max_queued`]: publishes that wait for room
/// in the server's Receive Maximum window (or for a connection).
pub const DEFAULT_MAX_QUEUED: usize = 1000;

/// Everything the client decides before connecting. Build with
/// [`ClientOptions::new`] and change the fields you care about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The protocol version spoken on every connection of this session.
    pub version: ProtocolVersion,
    /// The client identifier. Empty asks the server to assign one (3.1.1
    /// requires `clean_start` then); an assigned identifier replaces it for
    /// later connects so that a kept session can be resumed.
    pub client_id: ByteString,
    /// Clean Session (3.1.1) / Clean Start (5.0). Applies to every connect,
    /// reconnects included.
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns pings off. A 5.0 server may override it
    /// with Server Keep Alive, which then wins ([MQTT-3.2.2-21]).
    pub keep_alive: u16,
    /// How long to wait for PINGRESP before reporting the connection dead.
    /// `None`: half the keep alive, so that a dead link is noticed about
    /// when the server gives up on us (at one and a half times it, 3.1.2.10).
    pub ping_timeout: Option<Duration>,
    /// How long to wait for CONNACK after CONNECT before giving up.
    pub connect_timeout: Duration,
    /// User name.
    pub username: Option<ByteString>,
    /// Password. 3.1.1 forbids it without a user name ([MQTT-3.1.2-22]).
    pub password: Option<Bytes>,
    /// The last will the server publishes if we vanish.
    pub will: Option<LastWill>,
    /// 5.0 Session Expiry Interval in seconds (absent means 0: the server
    /// drops the session when the connection closes).
    pub session_expiry_interval: Option<u32>,
    /// 5.0 Receive Maximum we grant the server: how many QoS 1/2 messages it
    /// may have unacknowledged towards us. Absent means 65,535.
    pub receive_maximum: Option<NonZeroU16>,
    /// The largest packet we accept. Enforced by our decoder in every
    /// version and announced to a 5.0 server as Maximum Packet Size.
    pub maximum_packet_size: NonZeroU32,
    /// 5.0 Topic Alias Maximum: how many topic aliases the server may set
    /// towards us. Each costs one stored topic name.
    pub topic_alias_maximum: u16,
    /// How many topics we give an alias towards a 5.0 server at most (its
    /// Topic Alias Maximum may allow fewer); 0 sends none. Each costs one
    /// stored topic name per connection.
    pub outgoing_topic_aliases: u16,
    /// 5.0 Request Response Information.
    pub request_response_information: Option<bool>,
    /// 5.0 Request Problem Information (absent means true).
    pub request_problem_information: Option<bool>,
    /// 5.0 user properties of CONNECT.
    pub user_properties: Vec<UserProperty>,
    /// Bound on publishes waiting to be sent (for a connection or for room
    /// in the server's Receive Maximum window). When it is full,
    /// [`super::ClientSession::publish`] fails with
    /// [`super::SessionError::QueueFull`] instead of buffering without end.
    pub max_queued: usize,
}

impl ClientOptions {
    /// MQTT 5.0, clean start, 60 s keep alive, a 30 s CONNACK timeout, a
    /// 1 MiB packet limit, 16 topic aliases accepted and up to 16 set, the
    /// rest absent.
    pub fn new(client_id: impl Into<ByteString>) -> Self {
        Self {
            version: ProtocolVersion::V5,
            client_id: client_id.into(),
            clean_start: true,
            keep_alive: 60,
            ping_timeout: None,
            connect_timeout: Duration::from_secs(30),
            username: None,
            password: None,
            will: None,
            session_expiry_interval: None,
            receive_maximum: None,
            maximum_packet_size: DEFAULT_MAX_PACKET_SIZE,
            topic_alias_maximum: 16,
            outgoing_topic_aliases: 16,
            request_response_information: None,
            request_problem_information: None,
            user_properties: Vec::new(),
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }

    /// The CONNECT packet these options describe.
    pub(super) fn connect_packet(&self) -> Connect {
        let v5 = self.version.is_v5();
        let properties = if v5 {
            ConnectProperties {
                session_expiry_interval: self.session_expiry_interval,
                receive_maximum: self.receive_maximum,
                maximum_packet_size: Some(self.maximum_packet_size),
                topic_alias_maximum: (self.topic_alias_maximum > 0)
                    .then_some(self.topic_alias_maximum),
                request_response_information: self.request_response_information,
                request_problem_information: self.request_problem_information,
                user_properties: self.user_properties.clone(),
                authentication_method: None,
                authentication_data: None,
            }
        } else {
            ConnectProperties::default()
        };
        Connect {
            protocol: self.version,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.clone(),
            will: self.will.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            properties,
        }
    }

    /// The Receive Maximum we announced (65,535 when absent, and always in 3.x).
    pub(super) fn inbound_receive_maximum(&self) -> u16 {
        match self.receive_maximum {
            Some(max) if self.version.is_v5() => max.get(),
            _ => u16::MAX,
        }
    }

    /// How many topic aliases we may set on a connection the server granted
    /// `server` on: none before 5.0.
    pub(super) fn outbound_alias_maximum(&self, server: &ServerLimits) -> u16 {
        if self.version.is_v5() {
            self.outgoing_topic_aliases.min(server.topic_alias_maximum)
        } else {
            0
        }
    }

    /// The topic aliases we accept: none before 5.0.
    pub(super) fn inbound_alias_maximum(&self) -> u16 {
        if self.version.is_v5() {
            self.topic_alias_maximum
        } else {
            0
        }
    }
}

/// What the server granted in its CONNACK, with the spec's defaults for
/// absent properties (and for every 3.x server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// How many QoS 1/2 publishes we may have unacknowledged ([MQTT-3.3.4-7]).
    pub receive_maximum: u16,
    /// The highest QoS we may publish at ([MQTT-3.2.2-11]).
    pub maximum_qos: QoS,
    /// Whether we may publish with RETAIN ([MQTT-3.2.2-14]).
    pub retain_available: bool,
    /// The largest packet we may send ([MQTT-3.2.2-15]).
    pub maximum_packet_size: u32,
    /// How many topic aliases the server accepts from us.
    pub topic_alias_maximum: u16,
    /// Whether wildcard subscriptions are available.
    pub wildcard_subscription_available: bool,
    /// Whether subscription identifiers are available.
    pub subscription_identifiers_available: bool,
    /// Whether shared subscriptions are available.
    pub shared_subscription_available: bool,
}

impl Default for ServerLimits {
    /// The limits of a server that said nothing: the protocol's own.
    fn default() -> Self {
        Self {
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: PROTOCOL_MAX_PACKET_SIZE,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifiers_available: true,
            shared_subscription_available: true,
        }
    }
}

impl ServerLimits {
    /// The limits a CONNACK's properties grant.
    pub fn from_connack(p: &ConnAckProperties) -> Self {
        let default = Self::default();
        Self {
            receive_maximum: p
                .receive_maximum
                .map_or(default.receive_maximum, |m| m.get()),
            maximum_qos: p.maximum_qos.unwrap_or(default.maximum_qos),
            retain_available: p.retain_available.unwrap_or(true),
            maximum_packet_size: p
                .maximum_packet_size
                .map_or(default.maximum_packet_size, |m| m.get()),
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            wildcard_subscription_available: p.wildcard_subscription_available.unwrap_or(true),
            subscription_identifiers_available: p
                .subscription_identifiers_available
                .unwrap_or(true),
            shared_subscription_available: p.shared_subscription_available.unwrap_or(true),
        }
    }
}
