//! SUBSCRIBE and SUBACK.

use std::num::NonZeroU32;

use bytestring::ByteString;

use super::{PacketId, QoS, UserProperty};
use crate::reason::ReasonCode;
use crate::topic::TopicFilter;

/// v5 Retain Handling subscription option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at subscribe time.
    #[default]
    SendAtSubscribe,
    /// 1: send them only if the subscription did not exist.
    SendIfNew,
    /// 2: do not send them.
    DoNotSend,
}

/// The options byte of one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the subscriber wants.
    pub qos: QoS,
    /// v5 No Local: do not send the client its own publishes.
    pub no_local: bool,
    /// v5 Retain As Published: keep the RETAIN flag when forwarding.
    pub retain_as_published: bool,
    /// v5 Retain Handling.
    pub retain_handling: RetainHandling,
}

/// One topic filter with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The filter, possibly a `$share/{group}/{filter}`.
    pub filter: TopicFilter,
    /// Its options.
    pub options: SubscriptionOptions,
}

/// SUBSCRIBE: at least one subscription ([MQTT-3.8.3-2]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet id.
    pub packet_id: PacketId,
    /// The subscriptions, in order; never empty.
    pub subscriptions: Vec<Subscription>,
    /// v5 properties.
    pub properties: SubscribeProperties,
}

/// v5 SUBSCRIBE properties (3.8.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeProperties {
    /// 0x0B Subscription Identifier, 1 to 268,435,455.
    pub subscription_identifier: Option<NonZeroU32>,
    /// 0x26 User Property.
    pub user_properties: Vec<UserProperty>,
}

/// SUBACK: one reason code per subscription, in order. For 3.1.1 the codes
/// are GrantedQoS0/1/2 or a failure (encoded as 0x80).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet id of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per subscription.
    pub reason_codes: Vec<ReasonCode>,
    /// 0x1F Reason String (v5).
    pub reason_string: Option<ByteString>,
    /// 0x26 User Property (v5).
    pub user_properties: Vec<UserProperty>,
}
