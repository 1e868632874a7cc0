//! What the session tells its driver: [`Event`]s, and the [`RequestId`]s that tie
//! completions to the calls that started them.

use std::fmt;

use bytestring::ByteString;

use super::SessionError;
use crate::packet::{ConnAckProperties, Publish, SubAck, UnsubAck};
use crate::reason::ReasonCode;

/// Identifies one `publish`, `subscribe` or `unsubscribe` call; its
/// completion event carries the same id. Unique for the life of the
/// session (unlike packet identifiers, which MQTT reuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(super) u64);

impl RequestId {
    /// The id as a number, e.g. for a JavaScript promise table.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Something the driver should know about, pulled with
/// [`super::ClientSession::poll_event`].
///
/// A connection ends with exactly one [`Event::ConnectionRefused`] or
/// [`Event::Disconnected`]; the driver then sends what
/// [`super::ClientSession::poll_transmit`] still holds and closes the
/// transport. (When the transport closes first, the driver calls
/// [`super::ClientSession::connection_lost`] and gets neither.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server accepted the connection.
    Connected {
        /// Whether the server resumed a stored session (then unacknowledged
        /// publishes were resent with DUP), or started a new one (then they
        /// were queued again as new publishes: see the module documentation).
        /// MQTT 3.1 has no such flag: there it is true when we asked to keep
        /// the session.
        session_present: bool,
        /// The CONNACK properties as received: Assigned Client Identifier,
        /// Server Keep Alive, Receive Maximum, Maximum QoS and the rest.
        /// [`super::ClientSession::server_limits`] has them with defaults applied.
        properties: Box<ConnAckProperties>,
    },
    /// The server refused the connection in CONNACK (3.x return codes are
    /// mapped to their 5.0 reason codes).
    ConnectionRefused {
        /// Why.
        reason: ReasonCode,
        /// The server's Reason String (5.0), if any.
        reason_string: Option<ByteString>,
    },
    /// An application message from the server. Its topic is always the full
    /// topic name (a Topic Alias has been resolved; the alias property is
    /// left as received). A QoS 2 message is delivered once even if the
    /// server resends it.
    Message(Publish),
    /// A publish completed: QoS 0 once handed to the driver in a transmit,
    /// QoS 1 at PUBACK, QoS 2 at PUBCOMP. `Ok` carries the server's reason
    /// code (Success, or 5.0 No matching subscribers); a 5.0 error reason
    /// code in PUBACK, PUBREC or PUBCOMP is an `Err(SessionError::Refused)`.
    Published {
        /// The id `publish` returned.
        id: RequestId,
        /// The outcome.
        result: Result<ReasonCode, SessionError>,
    },
    /// A SUBACK arrived (one reason code per filter: the granted QoS or a
    /// refusal), or the connection closed first.
    Subscribed {
        /// The id `subscribe` returned.
        id: RequestId,
        /// The SUBACK, or why there is none.
        result: Result<SubAck, SessionError>,
    },
    /// An UNSUBACK arrived, or the connection closed first. For 3.x, whose
    /// UNSUBACK has no payload, the reason codes are filled with Success,
    /// one per filter, so every version reads the same.
    Unsubscribed {
        /// The id `unsubscribe` returned.
        id: RequestId,
        /// The UNSUBACK, or why there is none.
        result: Result<UnsubAck, SessionError>,
    },
    /// The connection is over: the server sent DISCONNECT (`by_server`), or
    /// we did (`disconnect`, or after a [`Event::ProtocolError`]).
    Disconnected {
        /// The reason code sent or received.
        reason: ReasonCode,
        /// The server's Reason String, if any.
        reason_string: Option<ByteString>,
        /// Whether the server ended it.
        by_server: bool,
    },
    /// The server broke the protocol, or stopped answering (keep alive,
    /// CONNACK timeout). [`Event::Disconnected`] follows.
    ProtocolError(SessionError),
}
