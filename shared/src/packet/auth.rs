//! AUTH: v5 extended authentication exchange.

use bytes::Bytes;
use bytestring::ByteString;

use super::{UserProperty, read_reason_tail, write_reason_tail};
use crate::error::DecodeError;
use crate::properties::{self, Property as P, WriteProps, id, opt, users};
use crate::reason::ReasonCode;
use crate::wire::{Out, Reader};

/// AUTH (5.0 only). Reason is Success, Continue Authentication or Re-authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Auth {
    /// Reason code.
    pub reason: ReasonCode,
    /// v5 properties.
    pub properties: AuthProperties,
}

/// v5 AUTH properties (3.15.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthProperties {
    /// 0x15 Authentication Method.
    pub authentication_method: Option<ByteString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
    /// 0x1F Reason String.
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property.
    pub user_properties: Vec<UserProperty>,
}

/// Reason codes an AUTH may carry (3.15.2.1).
const CODES: &[u8] = &[0x00, 0x18, 0x19];

impl Auth {
    pub(crate) fn decode(mut r: Reader) -> Result<Self, DecodeError> {
        let mut properties = AuthProperties::default();
        let reason = read_reason_tail(&mut r, "AUTH", CODES, |r| properties.read(r))?;
        r.finish()?;
        Ok(Self { reason, properties })
    }

    pub(crate) fn write<O: Out>(&self, o: &mut O) {
        write_reason_tail(o, self.reason, &self.properties);
    }
}

impl AuthProperties {
    fn read(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_properties(r, "AUTH", |p| {
            match p {
                P::AuthenticationMethod(v) => self.authentication_method = Some(v),
                P::AuthenticationData(v) => self.authentication_data = Some(v),
                P::ReasonString(v) => self.reason_string = Some(v),
                P::User(v) => self.user_properties.push(v),
                _ => return false,
            }
            true
        })?;
        properties::check_auth(&self.authentication_method, &self.authentication_data)
    }
}

impl WriteProps for AuthProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(o, id::AUTHENTICATION_METHOD, &self.authentication_method);
        opt(o, id::AUTHENTICATION_DATA, &self.authentication_data);
        opt(o, id::REASON_STRING, &self.reason_string);
        users(o, &self.user_properties);
    }
}
