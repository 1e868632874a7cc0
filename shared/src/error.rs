//! Decode and encode errors. Each decode error names the spec statement it
//! enforces (or its section, where the spec gives the rule no statement id)
//! and says whether a v5 server answers Malformed Packet (0x81) or
//! Protocol Error (0x82).

use crate::packet::ProtocolVersion;
use crate::reason::ReasonCode;
use crate::topic::TopicError;

/// Why bytes from a peer are not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The packet announced in the fixed header exceeds our Maximum Packet Size.
    #[error("[MQTT-3.2.2-15] packet of {size} bytes exceeds the maximum packet size of {max}")]
    PacketTooLarge {
        /// The announced total size (fixed header included).
        size: u64,
        /// The configured limit.
        max: u32,
    },
    /// A variable byte integer with a continuation bit on its fourth byte.
    #[error("[MQTT-1.5.5-1] variable byte integer longer than four bytes")]
    VarintTooLong,
    /// A variable byte integer in a longer form than needed.
    #[error("[MQTT-1.5.5-1] variable byte integer not in its minimal form")]
    NonMinimalVarint,
    /// Packet type 0 (reserved), or 15 (AUTH) below 5.0.
    #[error("reserved control packet type {0} (2.1.2)")]
    ReservedPacketType(u8),
    /// Fixed header flag bits that the packet type reserves.
    #[error("[MQTT-2.1.3-1] invalid fixed header flags {flags:#06b} for packet type {packet_type}")]
    ReservedFlags {
        /// The control packet type.
        packet_type: u8,
        /// The four flag bits received.
        flags: u8,
    },
    /// A server's first packet was not CONNECT.
    #[error("[MQTT-3.1.0-1] the first packet from a client must be CONNECT (got type {0})")]
    FirstPacketNotConnect(u8),
    /// A CONNECT for a protocol name or level we do not speak: the server
    /// answers CONNACK 0x84 (5.0) or return code 1 (3.x), then closes.
    #[error("[MQTT-3.1.2-2] unsupported protocol name or level {level}")]
    UnsupportedProtocol {
        /// The protocol level byte the client sent.
        level: u8,
    },
    /// The reserved bit of the CONNECT flags is set.
    #[error("[MQTT-3.1.2-3] the reserved flag of CONNECT must be 0")]
    ConnectReservedFlag,
    /// Will QoS or Will Retain set without the Will Flag.
    #[error("[MQTT-3.1.2-11] will QoS and will retain must be 0 when the will flag is 0")]
    WillFlagsWithoutWill,
    /// Will QoS 3.
    #[error("[MQTT-3.1.2-12] will QoS must not be 3")]
    InvalidWillQoS,
    /// A password without a user name, forbidden in 3.1 and 3.1.1.
    #[error("[MQTT-3.1.2-22] a password requires a user name in MQTT 3.1.1")]
    PasswordWithoutUsername,
    /// Reserved bits of the CONNACK acknowledge flags are set.
    #[error("[MQTT-3.2.2-1] reserved CONNACK flags must be 0")]
    ConnAckReservedFlags,
    /// PUBLISH with both QoS bits set.
    #[error("[MQTT-3.3.1-4] PUBLISH must not have QoS 3")]
    InvalidQoS,
    /// PUBLISH with DUP set at QoS 0.
    #[error("[MQTT-3.3.1-2] the DUP flag must be 0 for QoS 0 messages")]
    DupWithQoS0,
    /// A packet identifier of zero where one is required.
    #[error("[MQTT-2.2.1-3] packet identifier must be non-zero")]
    ZeroPacketId,
    /// An invalid topic name (wildcards, or empty where not allowed).
    #[error("invalid topic name: {0}")]
    TopicName(TopicError),
    /// An invalid topic filter.
    #[error("invalid topic filter: {0}")]
    TopicFilter(TopicError),
    /// A v5 PUBLISH with an empty topic and no Topic Alias.
    #[error("[MQTT-3.3.2-1] PUBLISH with an empty topic name and no topic alias (3.3.2.3.4)")]
    EmptyTopicWithoutAlias,
    /// Topic Alias 0.
    #[error("[MQTT-3.3.2-8] topic alias must not be 0")]
    TopicAliasZero,
    /// SUBSCRIBE without any subscription.
    #[error("[MQTT-3.8.3-2] SUBSCRIBE must contain at least one topic filter")]
    NoSubscriptions,
    /// UNSUBSCRIBE without any filter.
    #[error("[MQTT-3.10.3-2] UNSUBSCRIBE must contain at least one topic filter")]
    NoUnsubscribeFilters,
    /// Reserved bits of the subscription options are set.
    #[error("[MQTT-3.8.3-5] reserved bits of the subscription options must be 0")]
    SubscriptionOptionsReserved,
    /// Maximum QoS 3 in the subscription options.
    #[error("[MQTT-3.8.3-4] subscription QoS must not be 3 (3.8.3.1)")]
    InvalidSubscriptionQoS,
    /// Retain Handling 3.
    #[error("retain handling 3 is a protocol error (3.8.3.1)")]
    InvalidRetainHandling,
    /// No Local on a shared subscription.
    #[error("[MQTT-3.8.3-4] no local must not be set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A string that is not well-formed UTF-8.
    #[error("[MQTT-1.5.4-1] string is not well-formed UTF-8")]
    InvalidUtf8,
    /// A string containing U+0000.
    #[error("[MQTT-1.5.4-2] string must not contain U+0000")]
    NullCharacter,
    /// The body ended before its fields did: the remaining length is too short.
    #[error("packet body shorter than its fields (2.1.4 remaining length)")]
    UnexpectedEnd,
    /// Bytes left after the last field: the remaining length is too long.
    #[error("{extra} bytes after the last field (2.1.4 remaining length)")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A v5 property identifier that the spec does not define.
    #[error("unknown property identifier {0:#04x} (2.2.2.2)")]
    UnknownProperty(u32),
    /// A known property in a packet that does not allow it.
    #[error("property {id:#04x} is not allowed in {packet} (2.2.2.2)")]
    PropertyNotAllowed {
        /// The property identifier.
        id: u8,
        /// The packet it appeared in.
        packet: &'static str,
    },
    /// A property given twice where it may appear once.
    #[error("property {0:#04x} given more than once (2.2.2.2)")]
    DuplicateProperty(u8),
    /// A property whose value is out of its range (zero Receive Maximum,
    /// Maximum Packet Size or Subscription Identifier; a byte that is not
    /// 0 or 1; Maximum QoS 2).
    #[error("property {0:#04x} has a value the spec forbids (3.1.2.11, 3.2.2.3, 3.3.2.3)")]
    InvalidPropertyValue(u8),
    /// Authentication Data without an Authentication Method.
    #[error("authentication data without an authentication method (3.1.2.11.10)")]
    AuthDataWithoutMethod,
    /// A reason code that this packet kind may not carry (or a 3.x return
    /// code out of range).
    #[error("[MQTT-3.4.2-1] reason code {code:#04x} is not valid in {packet}")]
    InvalidReasonCode {
        /// The packet kind.
        packet: &'static str,
        /// The code received.
        code: u8,
    },
}

impl DecodeError {
    /// The v5 reason code a server sends (in DISCONNECT or CONNACK) for this error.
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            TopicAliasZero => ReasonCode::TopicAliasInvalid,
            UnsupportedProtocol { .. } => ReasonCode::UnsupportedProtocolVersion,
            FirstPacketNotConnect(_)
            | ZeroPacketId
            | EmptyTopicWithoutAlias
            | NoSubscriptions
            | NoUnsubscribeFilters
            | InvalidSubscriptionQoS
            | InvalidRetainHandling
            | NoLocalOnSharedSubscription
            | DuplicateProperty(_)
            | InvalidPropertyValue(_)
            | AuthDataWithoutMethod
            | InvalidReasonCode { .. } => ReasonCode::ProtocolError,
            VarintTooLong
            | NonMinimalVarint
            | ReservedPacketType(_)
            | ReservedFlags { .. }
            | ConnectReservedFlag
            | WillFlagsWithoutWill
            | InvalidWillQoS
            | PasswordWithoutUsername
            | ConnAckReservedFlags
            | InvalidQoS
            | DupWithQoS0
            | TopicName(_)
            | TopicFilter(_)
            | SubscriptionOptionsReserved
            | InvalidUtf8
            | NullCharacter
            | UnexpectedEnd
            | TrailingBytes { .. }
            | UnknownProperty(_)
            | PropertyNotAllowed { .. } => ReasonCode::MalformedPacket,
        }
    }

    /// The error for an invalid topic name; U+0000 is reported as the
    /// string rule it breaks ([MQTT-1.5.4-2]).
    pub(crate) fn topic_name(e: TopicError) -> Self {
        if e == TopicError::NullCharacter {
            Self::NullCharacter
        } else {
            Self::TopicName(e)
        }
    }

    /// As [`Self::topic_name`], for topic filters.
    pub(crate) fn topic_filter(e: TopicError) -> Self {
        if e == TopicError::NullCharacter {
            Self::NullCharacter
        } else {
            Self::TopicFilter(e)
        }
    }

    /// True for errors that a 3.1.1 server answers with CONNACK return code 1
    /// (and a v5 server with 0x84) before closing.
    pub fn is_unsupported_protocol(&self) -> bool {
        matches!(self, Self::UnsupportedProtocol { .. })
    }
}

/// Why a packet cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The packet is larger than the peer's Maximum Packet Size even after
    /// dropping reason strings and user properties.
    #[error("packet of {size} bytes exceeds the peer's maximum packet size of {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        max: u32,
    },
    /// A string or binary field longer than 65,535 bytes (1.5.4, 1.5.6).
    #[error("field of {len} bytes exceeds the 65,535-byte limit of a length-prefixed field")]
    FieldTooLong {
        /// The field's length.
        len: usize,
    },
    /// A variable byte integer value above 268,435,455 (1.5.5).
    #[error("value {value} does not fit a variable byte integer")]
    ValueTooLarge {
        /// The value.
        value: u32,
    },
    /// The packet does not exist in this protocol version (AUTH below 5.0).
    #[error("{packet} does not exist in MQTT {version:?}")]
    NotInVersion {
        /// The packet kind.
        packet: &'static str,
        /// The version asked for.
        version: ProtocolVersion,
    },
    /// The packet breaks a rule the receiver would reject it for.
    #[error("invalid packet: {0}")]
    Invalid(&'static str),
}
