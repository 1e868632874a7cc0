//! CONNECT: the first packet a client sends, with its will and v5 properties.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use super::{PayloadFormat, ProtocolVersion, QoS, UserProperty};
use crate::error::DecodeError;
use crate::properties::{self, Property as P, WriteProps, id, opt, users};
use crate::topic::TopicName;
use crate::wire::{Counter, MAX_VARINT, Out, Reader, Writer, varint_len};

/// CONNECT, as sent by a client of any protocol version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version the client speaks; it decides how every later
    /// packet of the connection is encoded.
    pub protocol: ProtocolVersion,
    /// Clean Session (3.1, 3.1.1) or Clean Start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 turns the mechanism off.
    pub keep_alive: u16,
    /// The client identifier; may be empty (the server then assigns one or refuses).
    pub client_id: ByteString,
    /// The last will, published by the server when the connection ends badly.
    pub will: Option<LastWill>,
    /// User name, if the flag is set.
    pub username: Option<ByteString>,
    /// Password, if the flag is set. 3.1.1 forbids it without a user name
    /// ([MQTT-3.1.2-22]); 5.0 allows it.
    pub password: Option<Bytes>,
    /// v5 properties; all absent for older versions.
    pub properties: ConnectProperties,
}

/// The will message of a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Where the will is published.
    pub topic: TopicName,
    /// The will payload.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will retain flag.
    pub retain: bool,
    /// v5 will properties.
    pub properties: WillProperties,
}

/// v5 CONNECT properties (3.1.2.11). `None` means absent on the wire, which
/// keeps `decode(encode(p)) == p` exact; the spec's default applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectProperties {
    /// 0x11 Session Expiry Interval, seconds; absent means 0.
    pub session_expiry_interval: Option<u32>,
    /// 0x21 Receive Maximum; absent means 65,535. Zero is a protocol error.
    pub receive_maximum: Option<NonZeroU16>,
    /// 0x27 Maximum Packet Size the client accepts. Zero is a protocol error.
    pub maximum_packet_size: Option<NonZeroU32>,
    /// 0x22 Topic Alias Maximum the client accepts from the server.
    pub topic_alias_maximum: Option<u16>,
    /// 0x19 Request Response Information.
    pub request_response_information: Option<bool>,
    /// 0x17 Request Problem Information; absent means true.
    pub request_problem_information: Option<bool>,
    /// 0x26 User Property, repeatable, in order.
    pub user_properties: Vec<UserProperty>,
    /// 0x15 Authentication Method.
    pub authentication_method: Option<ByteString>,
    /// 0x16 Authentication Data.
    pub authentication_data: Option<Bytes>,
}

/// v5 will properties (3.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WillProperties {
    /// 0x18 Will Delay Interval, seconds.
    pub will_delay_interval: Option<u32>,
    /// 0x01 Payload Format Indicator.
    pub payload_format_indicator: Option<PayloadFormat>,
    /// 0x02 Message Expiry Interval, seconds.
    pub message_expiry_interval: Option<u32>,
    /// 0x03 Content Type.
    pub content_type: Option<ByteString>,
    /// 0x08 Response Topic.
    pub response_topic: Option<TopicName>,
    /// 0x09 Correlation Data.
    pub correlation_data: Option<Bytes>,
    /// 0x26 User Property, repeatable, in order.
    pub user_properties: Vec<UserProperty>,
}

impl Connect {
    /// Decode the body of a CONNECT; its version comes from its own header.
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, DecodeError> {
        let name = r.string()?;
        let level = r.u8()?;
        let protocol = match (&*name, level) {
            ("MQIsdp", 3) => ProtocolVersion::V3_1,
            ("MQTT", 4) => ProtocolVersion::V3_1_1,
            ("MQTT", 5) => ProtocolVersion::V5,
            _ => return Err(DecodeError::UnsupportedProtocol { level }),
        };
        let flags = r.u8()?;
        if flags & 0x01 != 0 {
            return Err(DecodeError::ConnectReservedFlag);
        }
        let has_will = flags & 0x04 != 0;
        let will_qos = QoS::from_bits((flags >> 3) & 0x03).ok_or(DecodeError::InvalidWillQoS)?;
        let will_retain = flags & 0x20 != 0;
        if !has_will && (will_qos != QoS::AtMostOnce || will_retain) {
            return Err(DecodeError::WillFlagsWithoutWill);
        }
        let has_password = flags & 0x40 != 0;
        let has_username = flags & 0x80 != 0;
        if has_password && !has_username && !protocol.is_v5() {
            return Err(DecodeError::PasswordWithoutUsername);
        }
        let keep_alive = r.u16()?;
        let mut properties = ConnectProperties::default();
        if protocol.is_v5() {
            properties.read(r)?;
        }
        let client_id = r.string()?;
        let will = if has_will {
            let mut will_props = WillProperties::default();
            if protocol.is_v5() {
                will_props.read(r)?;
            }
            let topic = TopicName::new(r.string()?).map_err(DecodeError::TopicName)?;
            Some(LastWill {
                topic,
                payload: r.binary()?,
                qos: will_qos,
                retain: will_retain,
                properties: will_props,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string()?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary()?)
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            protocol,
            clean_start: flags & 0x02 != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    /// Size this CONNECT directly (each property block counted once, not
    /// once per pass), reserve once and write: the same bytes as
    /// [`Self::write`]. `None`, with nothing written, leaves a CONNECT that
    /// cannot be encoded or is past `max_packet_size` to the generic
    /// encoder, which owns those errors.
    pub(crate) fn encode_fast(&self, max_packet_size: u32, buf: &mut BytesMut) -> Option<()> {
        let v5 = self.protocol.is_v5();
        // A two-byte-length field, or `None` if it does not fit.
        let field = |len: usize| (len <= usize::from(u16::MAX)).then_some(2 + len);
        let props = |p: &dyn Fn(&mut Counter)| {
            let mut c = Counter::new(false);
            p(&mut c);
            c.error.is_none().then_some(c.len)
        };
        let props_len = if v5 {
            props(&|c| self.properties.write_props(c))?
        } else {
            0
        };
        let block = |len: usize| if v5 { varint_len(len as u32) + len } else { 0 };
        let mut body = field(self.protocol.protocol_name().len())? + 4;
        body += block(props_len) + field(self.client_id.len())?;
        let mut will_props_len = 0;
        if let Some(will) = &self.will {
            if v5 {
                will_props_len = props(&|c| will.properties.write_props(c))?;
            }
            body += block(will_props_len)
                + field(will.topic.as_str().len())?
                + field(will.payload.len())?;
        }
        if let Some(username) = &self.username {
            body += field(username.len())?;
        }
        if let Some(password) = &self.password {
            body += field(password.len())?;
        }
        let body_len = u32::try_from(body).ok().filter(|&b| b <= MAX_VARINT)?;
        let total = 1 + varint_len(body_len) + body;
        if total > max_packet_size as usize {
            return None;
        }
        buf.reserve(total);
        let mut w = Writer { buf, lean: false };
        w.u8(1 << 4);
        w.varint(body_len);
        w.string(self.protocol.protocol_name());
        w.u8(self.protocol.level());
        w.u8(self.flags());
        w.u16(self.keep_alive);
        if v5 {
            w.varint(props_len as u32);
            self.properties.write_props(&mut w);
        }
        w.string(&self.client_id);
        if let Some(will) = &self.will {
            if v5 {
                w.varint(will_props_len as u32);
                will.properties.write_props(&mut w);
            }
            w.string(will.topic.as_str());
            w.binary(&will.payload);
        }
        if let Some(username) = &self.username {
            w.string(username);
        }
        if let Some(password) = &self.password {
            w.binary(password);
        }
        Some(())
    }

    /// The connect flags byte (3.1.2.3).
    fn flags(&self) -> u8 {
        let mut flags = u8::from(self.clean_start) << 1;
        if let Some(will) = &self.will {
            flags |= 0x04 | (will.qos as u8) << 3 | u8::from(will.retain) << 5;
        }
        flags | u8::from(self.password.is_some()) << 6 | u8::from(self.username.is_some()) << 7
    }

    /// Write the body of this CONNECT for its own protocol version.
    pub(crate) fn write<O: Out>(&self, o: &mut O) {
        let v5 = self.protocol.is_v5();
        o.string(self.protocol.protocol_name());
        o.u8(self.protocol.level());
        o.u8(self.flags());
        o.u16(self.keep_alive);
        if v5 {
            properties::block(o, &self.properties);
        }
        o.string(&self.client_id);
        if let Some(will) = &self.will {
            if v5 {
                properties::block(o, &will.properties);
            }
            o.string(will.topic.as_str());
            o.binary(&will.payload);
        }
        if let Some(username) = &self.username {
            o.string(username);
        }
        if let Some(password) = &self.password {
            o.binary(password);
        }
    }
}

impl ConnectProperties {
    fn read(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_properties(r, "CONNECT", |p| {
            match p {
                P::SessionExpiryInterval(v) => self.session_expiry_interval = Some(v),
                P::ReceiveMaximum(v) => self.receive_maximum = Some(v),
                P::MaximumPacketSize(v) => self.maximum_packet_size = Some(v),
                P::TopicAliasMaximum(v) => self.topic_alias_maximum = Some(v),
                P::RequestResponseInformation(v) => self.request_response_information = Some(v),
                P::RequestProblemInformation(v) => self.request_problem_information = Some(v),
                P::User(v) => self.user_properties.push(v),
                P::AuthenticationMethod(v) => self.authentication_method = Some(v),
                P::AuthenticationData(v) => self.authentication_data = Some(v),
                _ => return false,
            }
            true
        })?;
        properties::check_auth(&self.authentication_method, &self.authentication_data)
    }
}

impl WriteProps for ConnectProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(
            o,
            id::SESSION_EXPIRY_INTERVAL,
            &self.session_expiry_interval,
        );
        opt(o, id::RECEIVE_MAXIMUM, &self.receive_maximum);
        opt(o, id::MAXIMUM_PACKET_SIZE, &self.maximum_packet_size);
        opt(o, id::TOPIC_ALIAS_MAXIMUM, &self.topic_alias_maximum);
        opt(
            o,
            id::REQUEST_RESPONSE_INFORMATION,
            &self.request_response_information,
        );
        opt(
            o,
            id::REQUEST_PROBLEM_INFORMATION,
            &self.request_problem_information,
        );
        users(o, &self.user_properties);
        opt(o, id::AUTHENTICATION_METHOD, &self.authentication_method);
        opt(o, id::AUTHENTICATION_DATA, &self.authentication_data);
    }
}

impl WillProperties {
    fn read(&mut self, r: &mut Reader) -> Result<(), DecodeError> {
        properties::read_properties(r, "CONNECT will", |p| {
            match p {
                P::WillDelayInterval(v) => self.will_delay_interval = Some(v),
                P::PayloadFormatIndicator(v) => self.payload_format_indicator = Some(v),
                P::MessageExpiryInterval(v) => self.message_expiry_interval = Some(v),
                P::ContentType(v) => self.content_type = Some(v),
                P::ResponseTopic(v) => self.response_topic = Some(v),
                P::CorrelationData(v) => self.correlation_data = Some(v),
                P::User(v) => self.user_properties.push(v),
                _ => return false,
            }
            true
        })
    }
}

impl WriteProps for WillProperties {
    fn write_props<O: Out>(&self, o: &mut O) {
        opt(o, id::WILL_DELAY_INTERVAL, &self.will_delay_interval);
        opt(
            o,
            id::PAYLOAD_FORMAT_INDICATOR,
            &self.payload_format_indicator,
        );
        opt(
            o,
            id::MESSAGE_EXPIRY_INTERVAL,
            &self.message_expiry_interval,
        );
        opt(o, id::CONTENT_TYPE, &self.content_type);
        opt(o, id::RESPONSE_TOPIC, &self.response_topic);
        opt(o, id::CORRELATION_DATA, &self.correlation_data);
        users(o, &self.user_properties);
    }
}
