//! Incremental framing: bytes in, packets out, and packets back to bytes.

use bytes::BytesMut;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{Packet, ProtocolVersion};

/// An incremental decoder for one connection.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_packet_size: u32,
    version: Option<ProtocolVersion>,
}

impl Decoder {
    /// A server-side decoder: the version is learnt from CONNECT.
    pub fn new(max_packet_size: u32) -> Self {
        Self { max_packet_size, version: None }
    }

    /// A decoder for a known version (client side, or after CONNECT).
    pub fn with_version(max_packet_size: u32, version: ProtocolVersion) -> Self {
        Self { max_packet_size, version: Some(version) }
    }

    /// The version in force, once known.
    pub fn version(&self) -> Option<ProtocolVersion> {
        self.version
    }

    /// Decode the next packet from `buf`, `Ok(None)` if more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        let _ = (buf, self.max_packet_size);
        Err(DecodeError::Malformed)
    }
}

impl Packet {
    /// Encode for `version` into `buf`.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let _ = (version, buf);
        Err(EncodeError::TooLarge { size: 0, max: 0 })
    }
}
