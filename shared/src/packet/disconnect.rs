//! DISCONNECT: the end of a connection, from either side in 5.0.

use bytestring::ByteString;

use super::UserProperty;
use crate::reason::ReasonCode;

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
