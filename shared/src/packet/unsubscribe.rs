//! UNSUBSCRIBE and UNSUBACK.

use bytestring::ByteString;

use super::{PacketId, UserProperty};
use crate::reason::ReasonCode;
use crate::topic::TopicFilter;

/// UNSUBSCRIBE: at least one filter ([MQTT-3.10.3-2]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet id.
    pub packet_id: PacketId,
    /// The filters to remove; never empty.
    pub filters: Vec<TopicFilter>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}

/// UNSUBACK. 3.1.1 has no payload, so `reason_codes` is empty there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet id of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// v5: one code per filter, in order.
    pub reason_codes: Vec<ReasonCode>,
    /// 0x1F Reason String (v5).
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}
