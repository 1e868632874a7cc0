//! AUTH: v5 extended authentication exchange.

use bytes::Bytes;
use bytestring::ByteString;

use super::UserProperty;
use crate::reason::ReasonCode;

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
