//! Errors of the client session layer, each naming the rule it enforces.

use std::time::Duration;

use bytestring::ByteString;

use crate::error::{DecodeError, EncodeError};
use crate::packet::QoS;
use crate::reason::ReasonCode;

/// Why a session operation failed, why a request did not complete, or why
/// the session closed a connection.
///
/// Variants fall in three groups: refusals of a call (returned as `Err`),
/// failures of a request (inside a completion [`super::Event`]), and
/// protocol errors of the server (in [`super::Event::ProtocolError`], after
/// which the connection is closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// `connect` while a connection attempt is under way or established.
    #[error(
        "a connection is already open on this session: call connection_lost before connecting again (3.1.0)"
    )]
    AlreadyConnected,
    /// An operation that needs an established connection.
    #[error("not connected: {0} needs an established connection (after CONNACK)")]
    NotConnected(&'static str),
    /// The options cannot make a valid CONNECT.
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
    /// A PUBLISH the client must not send as asked.
    #[error("invalid publish: {0}")]
    InvalidPublish(&'static str),
    /// Publishing above the server's Maximum QoS.
    #[error(
        "[MQTT-3.2.2-11] the server's Maximum QoS is {max:?}, so a {requested:?} PUBLISH must not be sent"
    )]
    QoSNotSupported {
        /// The QoS asked for.
        requested: QoS,
        /// The server's maximum.
        max: QoS,
    },
    /// Publishing with RETAIN to a server without retained messages.
    #[error(
        "[MQTT-3.2.2-14] the server does not support retained messages (Retain Available is 0)"
    )]
    RetainNotSupported,
    /// A packet larger than the server accepts.
    #[error(
        "[MQTT-3.2.2-15] packet of {size} bytes exceeds the server's Maximum Packet Size of {max}"
    )]
    PacketTooLarge {
        /// Encoded size.
        size: usize,
        /// The server's limit.
        max: u32,
    },
    /// The bounded queue of waiting publishes is full.
    #[error(
        "{max} publishes already wait for the server's Receive Maximum window or a connection; retry after a Published event"
    )]
    QueueFull {
        /// The bound, [`super::ClientOptions::max_queued`].
        max: usize,
    },
    /// Every packet identifier is taken by an unacknowledged request.
    #[error("[MQTT-2.2.1-3] all 65,535 packet identifiers are in use by unacknowledged requests")]
    PacketIdsExhausted,
    /// The packet cannot be encoded at all.
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
    /// The server answered a request with an error reason code.
    #[error("the server refused it in {packet}: {} ({:#04x}){}", reason.description(), reason.as_u8(), reason_string.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Refused {
        /// The packet that carried the refusal.
        packet: &'static str,
        /// Its reason code.
        reason: ReasonCode,
        /// Its Reason String, if any.
        reason_string: Option<ByteString>,
    },
    /// The connection ended before the request was acknowledged, and the
    /// request is not one the session resends (only PUBLISH and PUBREL
    /// are, [MQTT-4.4.0-1]).
    #[error("the connection closed before the {0} was acknowledged")]
    ConnectionClosed(&'static str),
    /// Bytes from the server that are not a valid packet.
    #[error("malformed packet from the server: {0}")]
    Decode(#[from] DecodeError),
    /// The server's first packet was not CONNACK.
    #[error("[MQTT-3.2.0-1] the server's first packet must be CONNACK, not {0}")]
    ExpectedConnAck(&'static str),
    /// A packet a server never sends, or a second CONNACK.
    #[error("{0} is not a packet a server sends to a connected client (2.1.2, 4.13)")]
    UnexpectedPacket(&'static str),
    /// Session Present although we asked for a clean start.
    #[error("[MQTT-3.2.2-2] CONNACK has Session Present although CONNECT asked for a clean start")]
    UnexpectedSessionPresent,
    /// A topic alias above the maximum we announced.
    #[error(
        "[MQTT-3.1.2-26] topic alias {alias} exceeds the Topic Alias Maximum of {max} we announced"
    )]
    TopicAliasOutOfRange {
        /// The alias received.
        alias: u16,
        /// Our maximum.
        max: u16,
    },
    /// A PUBLISH with an empty topic naming an alias the server never set.
    #[error(
        "topic alias {0} is used with an empty topic before the server set it on this connection (3.3.2.3.4)"
    )]
    TopicAliasUnknown(u16),
    /// The server exceeded the Receive Maximum we announced.
    #[error(
        "[MQTT-3.3.4-9] the server has more than our Receive Maximum of {0} QoS 2 messages unacknowledged"
    )]
    ReceiveMaximumExceeded(u16),
    /// No PINGRESP (or anything else) in time: the link is presumed dead.
    #[error(
        "no answer from the server within {0:?} of PINGREQ: the connection is presumed dead (3.1.2.10)"
    )]
    KeepAliveTimeout(Duration),
    /// No CONNACK in time.
    #[error("no CONNACK within {0:?} of CONNECT")]
    ConnAckTimeout(Duration),
}

impl SessionError {
    /// The reason code that best describes this error: the one a 5.0
    /// client puts in its DISCONNECT when the error closes the connection,
    /// and the one a driver can show (or hand to JavaScript) for a failed
    /// request.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Decode(e) => e.reason_code(),
            Self::Refused { reason, .. } => *reason,
            Self::TopicAliasOutOfRange { .. } | Self::TopicAliasUnknown(_) => {
                ReasonCode::TopicAliasInvalid
            }
            Self::ReceiveMaximumExceeded(_) => ReasonCode::ReceiveMaximumExceeded,
            Self::ExpectedConnAck(_)
            | Self::UnexpectedPacket(_)
            | Self::UnexpectedSessionPresent => ReasonCode::ProtocolError,
            Self::KeepAliveTimeout(_) => ReasonCode::KeepAliveTimeout,
            Self::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            Self::QoSNotSupported { .. } => ReasonCode::QoSNotSupported,
            Self::RetainNotSupported => ReasonCode::RetainNotSupported,
            Self::QueueFull { .. } => ReasonCode::QuotaExceeded,
            Self::InvalidPublish(_) | Self::InvalidOptions(_) | Self::Encode(_) => {
                ReasonCode::ImplementationSpecificError
            }
            Self::AlreadyConnected
            | Self::NotConnected(_)
            | Self::PacketIdsExhausted
            | Self::ConnectionClosed(_)
            | Self::ConnAckTimeout(_) => ReasonCode::UnspecifiedError,
        }
    }

    /// Whether the session tells the server about this error with a 5.0
    /// DISCONNECT before closing. Not for timeouts: the link is presumed
    /// dead, and nobody would read it.
    pub(super) fn sends_disconnect(&self) -> bool {
        !matches!(self, Self::KeepAliveTimeout(_) | Self::ConnAckTimeout(_))
    }
}
