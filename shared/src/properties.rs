//! v5 properties on the wire: identifiers, reading with duplicate and
//! placement checks, writing.
//!
//! Reading is split in two: `Property::read` turns one (identifier, value)
//! pair into a typed [`Property`] and checks its value range, and
//! `read_properties` walks a property block, rejecting duplicates, and hands
//! each property to a per-packet closure that stores it or refuses it as not
//! allowed in that packet. Writing goes through the `PropValue` helpers.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use bytestring::ByteString;

use crate::error::DecodeError;
use crate::packet::{PayloadFormat, QoS, UserProperty};
use crate::topic::TopicName;
use crate::wire::{Counter, Out, Reader};

/// Property identifiers (2.2.2.2).
#[allow(missing_docs)] // Each constant is named after the property it identifies.
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// One decoded v5 property, typed and range-checked.
#[allow(missing_docs)] // Variants are named after the properties of 2.2.2.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    PayloadFormatIndicator(PayloadFormat),
    MessageExpiryInterval(u32),
    ContentType(ByteString),
    ResponseTopic(TopicName),
    CorrelationData(Bytes),
    SubscriptionIdentifier(NonZeroU32),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(ByteString),
    ServerKeepAlive(u16),
    AuthenticationMethod(ByteString),
    AuthenticationData(Bytes),
    RequestProblemInformation(bool),
    WillDelayInterval(u32),
    RequestResponseInformation(bool),
    ResponseInformation(ByteString),
    ServerReference(ByteString),
    ReasonString(ByteString),
    ReceiveMaximum(NonZeroU16),
    TopicAliasMaximum(u16),
    TopicAlias(NonZeroU16),
    MaximumQoS(QoS),
    RetainAvailable(bool),
    User(UserProperty),
    MaximumPacketSize(NonZeroU32),
    WildcardSubscriptionAvailable(bool),
    SubscriptionIdentifierAvailable(bool),
    SharedSubscriptionAvailable(bool),
}

impl Property {
    /// Read the value of property `id` from `r`.
    pub(crate) fn read(id: u8, r: &mut Reader) -> Result<Self, DecodeError> {
        use Property as P;
        use id::*;
        let flag = |r: &mut Reader| match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        };
        let nonzero32 = |v: u32| NonZeroU32::new(v).ok_or(DecodeError::InvalidPropertyValue(id));
        Ok(match id {
            PAYLOAD_FORMAT_INDICATOR => P::PayloadFormatIndicator(if flag(r)? {
                PayloadFormat::Utf8
            } else {
                PayloadFormat::Unspecified
            }),
            MESSAGE_EXPIRY_INTERVAL => P::MessageExpiryInterval(r.u32()?),
            CONTENT_TYPE => P::ContentType(r.string()?),
            RESPONSE_TOPIC => {
                P::ResponseTopic(TopicName::new(r.string()?).map_err(DecodeError::TopicName)?)
            }
            CORRELATION_DATA => P::CorrelationData(r.binary()?),
            SUBSCRIPTION_IDENTIFIER => P::SubscriptionIdentifier(nonzero32(r.varint()?)?),
            SESSION_EXPIRY_INTERVAL => P::SessionExpiryInterval(r.u32()?),
            ASSIGNED_CLIENT_IDENTIFIER => P::AssignedClientIdentifier(r.string()?),
            SERVER_KEEP_ALIVE => P::ServerKeepAlive(r.u16()?),
            AUTHENTICATION_METHOD => P::AuthenticationMethod(r.string()?),
            AUTHENTICATION_DATA => P::AuthenticationData(r.binary()?),
            REQUEST_PROBLEM_INFORMATION => P::RequestProblemInformation(flag(r)?),
            WILL_DELAY_INTERVAL => P::WillDelayInterval(r.u32()?),
            REQUEST_RESPONSE_INFORMATION => P::RequestResponseInformation(flag(r)?),
            RESPONSE_INFORMATION => P::ResponseInformation(r.string()?),
            SERVER_REFERENCE => P::ServerReference(r.string()?),
            REASON_STRING => P::ReasonString(r.string()?),
            RECEIVE_MAXIMUM => P::ReceiveMaximum(
                NonZeroU16::new(r.u16()?).ok_or(DecodeError::InvalidPropertyValue(id))?,
            ),
            TOPIC_ALIAS_MAXIMUM => P::TopicAliasMaximum(r.u16()?),
            TOPIC_ALIAS => {
                P::TopicAlias(NonZeroU16::new(r.u16()?).ok_or(DecodeError::TopicAliasZero)?)
            }
            MAXIMUM_QOS => P::MaximumQoS(if flag(r)? {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            }),
            RETAIN_AVAILABLE => P::RetainAvailable(flag(r)?),
            USER_PROPERTY => P::User(UserProperty {
                name: r.string()?,
                value: r.string()?,
            }),
            MAXIMUM_PACKET_SIZE => P::MaximumPacketSize(nonzero32(r.u32()?)?),
            WILDCARD_SUBSCRIPTION_AVAILABLE => P::WildcardSubscriptionAvailable(flag(r)?),
            SUBSCRIPTION_IDENTIFIER_AVAILABLE => P::SubscriptionIdentifierAvailable(flag(r)?),
            SHARED_SUBSCRIPTION_AVAILABLE => P::SharedSubscriptionAvailable(flag(r)?),
            _ => return Err(DecodeError::UnknownProperty(id.into())),
        })
    }
}

/// Read a property block (length, then properties) and pass each property
/// to `accept`, which stores it and returns true, or returns false when
/// `packet` does not allow it.
///
/// Every property may appear once except User Property, and Subscription
/// Identifier in PUBLISH (3.3.2.3.8).
pub(crate) fn read_properties(
    r: &mut Reader,
    packet: &'static str,
    accept: impl FnMut(Property) -> bool,
) -> Result<(), DecodeError> {
    let len = r.varint()?;
    if len == 0 {
        // The usual case: no properties, nothing to split off.
        return Ok(());
    }
    read_block(r, len, packet, accept)
}

/// [`read_properties`] after the block's length, `len`, was read.
pub(crate) fn read_block(
    r: &mut Reader,
    len: u32,
    packet: &'static str,
    mut accept: impl FnMut(Property) -> bool,
) -> Result<(), DecodeError> {
    let mut block = Reader::new(r.take(len as usize)?);
    let mut seen = 0u64;
    while !block.is_empty() {
        let raw = block.varint()?;
        let id = u8::try_from(raw)
            .ok()
            .filter(|&id| id <= id::SHARED_SUBSCRIPTION_AVAILABLE)
            .ok_or(DecodeError::UnknownProperty(raw))?;
        let bit = 1u64 << id;
        let repeatable =
            id == id::USER_PROPERTY || (id == id::SUBSCRIPTION_IDENTIFIER && packet == "PUBLISH");
        if seen & bit != 0 && !repeatable {
            return Err(DecodeError::DuplicateProperty(id));
        }
        seen |= bit;
        if !accept(Property::read(id, &mut block)?) {
            return Err(DecodeError::PropertyNotAllowed { id, packet });
        }
    }
    Ok(())
}

/// Fails if Authentication Data came without an Authentication Method.
pub(crate) fn check_auth<T>(
    method: &Option<ByteString>,
    data: &Option<T>,
) -> Result<(), DecodeError> {
    if data.is_some() && method.is_none() {
        Err(DecodeError::AuthDataWithoutMethod)
    } else {
        Ok(())
    }
}

/// A value that can be written as a property of a fixed wire type.
pub(crate) trait PropValue {
    fn write_value<O: Out>(&self, o: &mut O);
}

macro_rules! prop_value {
    ($($t:ty => |$s:ident, $o:ident| $body:expr;)*) => {$(
        impl PropValue for $t {
            fn write_value<O: Out>(&self, $o: &mut O) {
                let $s = self;
                $body
            }
        }
    )*};
}

prop_value! {
    u16 => |v, o| o.u16(*v);
    u32 => |v, o| o.u32(*v);
    bool => |v, o| o.u8(u8::from(*v));
    NonZeroU16 => |v, o| o.u16(v.get());
    NonZeroU32 => |v, o| o.u32(v.get());
    QoS => |v, o| o.u8(*v as u8);
    PayloadFormat => |v, o| o.u8(u8::from(*v == PayloadFormat::Utf8));
    ByteString => |v, o| o.string(v);
    TopicName => |v, o| o.string(v.as_str());
    Bytes => |v, o| o.binary(v);
}

/// Write property `id` if present. A reason string is dropped when the
/// writer is lean (it must not push a packet past the peer's limit).
pub(crate) fn opt<O: Out, T: PropValue>(o: &mut O, id: u8, value: &Option<T>) {
    if let Some(v) = value {
        if id == id::REASON_STRING && o.lean() {
            return;
        }
        o.u8(id);
        v.write_value(o);
    }
}

/// Write user properties, in order; dropped when the writer is lean.
pub(crate) fn users<O: Out>(o: &mut O, list: &[UserProperty]) {
    if !o.lean() {
        write_users(o, list);
    }
}

/// Write user properties, in order, even when lean.
pub(crate) fn write_users<O: Out>(o: &mut O, list: &[UserProperty]) {
    for u in list {
        o.u8(id::USER_PROPERTY);
        o.string(&u.name);
        o.string(&u.value);
    }
}

/// Write a Subscription Identifier, a variable byte integer property.
pub(crate) fn subscription_id<O: Out>(o: &mut O, value: NonZeroU32) {
    o.u8(id::SUBSCRIPTION_IDENTIFIER);
    o.varint(value.get());
}

/// A set of properties that knows how to write itself.
pub(crate) trait WriteProps {
    /// Write every present property (not the block length).
    fn write_props<O: Out>(&self, o: &mut O);
}

/// The size of a property block's contents.
pub(crate) fn props_len(props: &impl WriteProps, lean: bool) -> usize {
    let mut c = Counter::new(lean);
    props.write_props(&mut c);
    c.len
}

/// Write a property block: its length, then the properties.
pub(crate) fn block<O: Out>(o: &mut O, props: &impl WriteProps) {
    let len = props_len(props, o.lean());
    o.varint(len as u32);
    props.write_props(o);
}

/// Reason String and User Properties: the only properties of the
/// acknowledgements (PUBACK..PUBCOMP, SUBACK, UNSUBACK).
pub(crate) struct ReasonProps<'a> {
    pub(crate) reason_string: &'a Option<ByteString>,
    pub(crate) user_properties: &'a [UserProperty],
}

impl WriteProps for ReasonProps<'_> {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(o, id::REASON_STRING, self.reason_string);
        users(o, self.user_properties);
    }
}
