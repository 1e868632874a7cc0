//! Decode and encode errors. Each decode error names the spec statement it
//! enforces and says whether a v5 server answers Malformed Packet (0x81) or
//! Protocol Error (0x82).

use crate::reason::ReasonCode;

/// Why bytes from a peer are not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Placeholder until the codec lands; replaced by the full list.
    #[error("[MQTT-1.5.4-1] malformed packet")]
    Malformed,
}

impl DecodeError {
    /// The v5 reason code a server sends (in DISCONNECT or CONNACK) for this error.
    pub fn reason_code(&self) -> ReasonCode {
        ReasonCode::MalformedPacket
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
}
