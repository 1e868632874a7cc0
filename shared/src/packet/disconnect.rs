//! DISCONNECT: the end of a connection, from either side in 5.0.

use bytestring::ByteString;

use super::{ProtocolVersion, UserProperty, read_reason_tail, write_reason_tail};
use crate::error::DecodeError;
use crate::properties::{self, Property as P, WriteProps, id, opt, users};
use crate::reason::ReasonCode;
use crate::wire::{Out, Reader};

/// DISCONNECT. For 3.1/3.1.1 it carries nothing and `reason` is
/// [`ReasonCode::Success`] (normal disconnection).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disconnect {
    /// Why the connection ends.
    pub reason: ReasonCode,
    /// v5 properties.
    pub properties: DisconnectProperties,
}

/// v5 DISCONNECT properties (3.14.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisconnectProperties {
    /// 0x11 Session Expiry Interval (client to server only).
    pub session_expiry_interval: Option<u32>,
    /// 0x1F Reason String.
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property.
    pub user_properties: Vec<UserProperty>,
    /// 0x1C Server Reference.
    pub server_reference: Option<ByteString>,
}

/// Reason codes a DISCONNECT may carry (3.14.2.1).
const CODES: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];

impl Disconnect {
    pub(crate) fn decode(mut r: Reader, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut properties = DisconnectProperties::default();
        let reason = if version.is_v5() {
            read_reason_tail(&mut r, "DISCONNECT", CODES, |r| properties.read(r))?
        } else {
            ReasonCode::Success
        };
        r.finish()?;
        Ok(Self { reason, properties })
    }

    pub(crate) fn write<O: Out>(&self, version: ProtocolVersion, o: &mut O) {
        if version.is_v5() {
            write_reason_tail(o, self.reason, &self.properties);
        }
    }
}

impl DisconnectProperties {
    fn read(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_properties(r, "DISCONNECT", |p| {
            match p {
                P::SessionExpiryInterval(v) => self.session_expiry_interval = Some(v),
                P::ReasonString(v) => self.reason_string = Some(v),
                P::User(v) => self.user_properties.push(v),
                P::ServerReference(v) => self.server_reference = Some(v),
                _ => return false,
            }
            true
        })
    }
}

impl WriteProps for DisconnectProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(
            o,
            id::SESSION_EXPIRY_INTERVAL,
            &self.session_expiry_interval,
        );
        opt(o, id::REASON_STRING, &self.reason_string);
        users(o, &self.user_properties);
        opt(o, id::SERVER_REFERENCE, &self.server_reference);
    }
}
