//! The connect, subscribe and publish forms as the user typed them (strings, so a half-typed
//! number is representable), and their checked translation into protocol values.

use std::num::NonZeroU32;

use bytes::Bytes;
use bytestring::ByteString;
use courtier_proto::packet::{
    LastWill, PayloadFormat, ProtocolVersion, PublishProperties, RetainHandling, Subscription,
    SubscriptionOptions, UserProperty, WillProperties,
};
use courtier_proto::session::ClientOptions;
use courtier_proto::{QoS, TopicError, TopicFilter, TopicName};

use super::payload::{self, Encoding, PayloadError};

/// Why a form cannot be sent; each message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A number field holds something else.
    #[error("{field}: `{value}` is not a whole number from 0 to {max}")]
    Number {
        /// The field's label.
        field: &'static str,
        /// What was typed.
        value: String,
        /// The largest value allowed.
        max: u64,
    },
    /// A topic or filter that MQTT forbids.
    #[error("{field}: {error}")]
    Topic {
        /// The field's label.
        field: &'static str,
        /// The rule broken.
        error: TopicError,
    },
    /// The payload does not decode in its encoding.
    #[error("payload: {0}")]
    Payload(#[from] PayloadError),
    /// A user property line without `=`.
    #[error("user property `{0}` must be written name=value")]
    UserProperty(String),
    /// MQTT 3.1.1 forbids a password without a user name ([MQTT-3.1.2-22]).
    #[error("[MQTT-3.1.2-22] MQTT 3.1.1 sends a password only with a user name")]
    PasswordWithoutUser,
    /// The broker URL is empty.
    #[error("the broker URL is empty")]
    NoUrl,
}

/// The protocol version choices the app offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Version {
    /// MQTT 3.1.1.
    V311,
    /// MQTT 5.0.
    #[default]
    V5,
}

impl Version {
    /// The protocol version.
    pub fn protocol(self) -> ProtocolVersion {
        match self {
            Self::V311 => ProtocolVersion::V3_1_1,
            Self::V5 => ProtocolVersion::V5,
        }
    }
}

/// The connect form; also what a saved profile stores.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ConnectForm {
    /// `ws://` or `wss://` broker URL.
    pub url: String,
    /// Client identifier; empty asks the broker to assign one.
    pub client_id: String,
    /// User name; empty sends none.
    pub username: String,
    /// Password; empty sends none. Saved profiles never store it (see `profile`).
    pub password: String,
    /// Keep alive in seconds.
    pub keep_alive: String,
    /// Protocol version.
    pub version: Version,
    /// Clean Start / Clean Session.
    pub clean_start: bool,
    /// 5.0 Session Expiry Interval in seconds; empty sends none.
    pub session_expiry: String,
    /// Whether a last will is sent.
    pub will_enabled: bool,
    /// The will's topic.
    pub will_topic: String,
    /// The will's payload (UTF-8 text).
    pub will_payload: String,
    /// The will's QoS.
    pub will_qos: u8,
    /// The will's RETAIN flag.
    pub will_retain: bool,
    /// 5.0 Will Delay Interval in seconds; empty sends none.
    pub will_delay: String,
    /// 5.0 will Content Type; empty sends none.
    pub will_content_type: String,
    /// 5.0 will Payload Format Indicator: the payload is UTF-8 text.
    pub will_utf8_payload: bool,
    /// 5.0 will Message Expiry Interval in seconds; empty sends none.
    pub will_message_expiry: String,
    /// 5.0 will Response Topic; empty sends none.
    pub will_response_topic: String,
    /// 5.0 will Correlation Data as UTF-8 text; empty sends none.
    pub will_correlation_data: String,
    /// 5.0 will user properties, one `name=value` per line.
    pub will_user_properties: String,
}

impl ConnectForm {
    /// A fresh form for `url` with a generated client id.
    pub fn new(url: String, client_id: String) -> Self {
        Self {
            url,
            client_id,
            keep_alive: "60".to_owned(),
            clean_start: true,
            will_qos: 0,
            ..Self::default()
        }
    }

    /// The session options this form describes.
    pub fn options(&self) -> Result<ClientOptions, FormError> {
        if self.url.trim().is_empty() {
            return Err(FormError::NoUrl);
        }
        let mut options = ClientOptions::new(self.client_id.trim());
        options.version = self.version.protocol();
        options.clean_start = self.clean_start;
        options.keep_alive =
            number("Keep alive", &self.keep_alive, u16::MAX.into())?.map_or(60, |n| n as u16);
        options.username = non_empty(&self.username).map(ByteString::from);
        options.password = non_empty(&self.password).map(|p| Bytes::copy_from_slice(p.as_bytes()));
        if options.password.is_some() && options.username.is_none() && self.version == Version::V311
        {
            return Err(FormError::PasswordWithoutUser);
        }
        let v5 = self.version == Version::V5;
        if v5 {
            options.session_expiry_interval =
                number("Session expiry", &self.session_expiry, u32::MAX.into())?.map(|n| n as u32);
        }
        if self.will_enabled {
            let topic =
                TopicName::new(self.will_topic.trim()).map_err(|error| FormError::Topic {
                    field: "Will topic",
                    error,
                })?;
            let properties = if v5 {
                self.will_properties()?
            } else {
                WillProperties::default()
            };
            options.will = Some(LastWill {
                topic,
                payload: Bytes::copy_from_slice(self.will_payload.as_bytes()),
                qos: qos(self.will_qos),
                retain: self.will_retain,
                properties,
            });
        }
        Ok(options)
    }

    /// The 5.0 will properties this form describes.
    fn will_properties(&self) -> Result<WillProperties, FormError> {
        Ok(WillProperties {
            will_delay_interval: number("Will delay", &self.will_delay, u32::MAX.into())?
                .map(|n| n as u32),
            payload_format_indicator: self.will_utf8_payload.then_some(PayloadFormat::Utf8),
            message_expiry_interval: number(
                "Will message expiry",
                &self.will_message_expiry,
                u32::MAX.into(),
            )?
            .map(|n| n as u32),
            content_type: non_empty(&self.will_content_type).map(ByteString::from),
            response_topic: response_topic("Will response topic", &self.will_response_topic)?,
            correlation_data: non_empty(&self.will_correlation_data)
                .map(|c| Bytes::copy_from_slice(c.as_bytes())),
            user_properties: user_properties(&self.will_user_properties)?,
        })
    }
}

/// A client id that is unique enough among a broker's clients: `courtier-` and 8 hex digits.
pub fn generated_client_id(random: u32) -> String {
    format!("courtier-{random:08x}")
}

/// The subscribe form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscribeForm {
    /// The topic filter.
    pub filter: String,
    /// Maximum QoS.
    pub qos: u8,
    /// 5.0 No Local.
    pub no_local: bool,
    /// 5.0 Retain As Published.
    pub retain_as_published: bool,
    /// 5.0 Retain Handling (0, 1 or 2).
    pub retain_handling: u8,
}

impl SubscribeForm {
    /// The subscription this form describes (the v5 options are ignored by a 3.1.1 session).
    pub fn subscription(&self) -> Result<Subscription, FormError> {
        let filter = TopicFilter::new(self.filter.trim()).map_err(|error| FormError::Topic {
            field: "Topic filter",
            error,
        })?;
        Ok(Subscription {
            filter,
            options: SubscriptionOptions {
                qos: qos(self.qos),
                no_local: self.no_local,
                retain_as_published: self.retain_as_published,
                retain_handling: match self.retain_handling {
                    0 => RetainHandling::SendAtSubscribe,
                    1 => RetainHandling::SendIfNew,
                    _ => RetainHandling::DoNotSend,
                },
            },
        })
    }
}

/// The publish form; a sent one is kept in the recent list for re-sending.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PublishForm {
    /// Topic name.
    pub topic: String,
    /// Payload as typed.
    pub payload: String,
    /// How `payload` becomes bytes.
    pub encoding: Encoding,
    /// QoS.
    pub qos: u8,
    /// RETAIN flag.
    pub retain: bool,
    /// 5.0 Content Type; empty sends none.
    pub content_type: String,
    /// 5.0 Payload Format Indicator: UTF-8 text.
    pub utf8_payload: bool,
    /// 5.0 Message Expiry Interval in seconds; empty sends none.
    pub message_expiry: String,
    /// 5.0 Response Topic; empty sends none.
    pub response_topic: String,
    /// 5.0 Correlation Data as UTF-8 text; empty sends none.
    pub correlation_data: String,
    /// 5.0 user properties, one `name=value` per line.
    pub user_properties: String,
}

/// A checked publish, ready for `Connection::publish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    /// Topic name.
    pub topic: TopicName,
    /// Payload bytes.
    pub payload: Bytes,
    /// QoS.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// 5.0 properties (left empty for 3.1.1).
    pub properties: PublishProperties,
}

impl PublishForm {
    /// The publish this form describes; `v5` decides whether properties are sent.
    pub fn request(&self, v5: bool) -> Result<PublishRequest, FormError> {
        let topic = TopicName::new(self.topic.trim()).map_err(|error| FormError::Topic {
            field: "Topic",
            error,
        })?;
        let payload = payload::encode(&self.payload, self.encoding)?;
        let mut properties = PublishProperties::default();
        if v5 {
            properties.content_type = non_empty(&self.content_type).map(ByteString::from);
            properties.payload_format_indicator = self.utf8_payload.then_some(PayloadFormat::Utf8);
            properties.message_expiry_interval =
                number("Message expiry", &self.message_expiry, u32::MAX.into())?.map(|n| n as u32);
            properties.response_topic = response_topic("Response topic", &self.response_topic)?;
            properties.correlation_data =
                non_empty(&self.correlation_data).map(|c| Bytes::copy_from_slice(c.as_bytes()));
            properties.user_properties = user_properties(&self.user_properties)?;
        }
        Ok(PublishRequest {
            topic,
            payload,
            qos: qos(self.qos),
            retain: self.retain,
            properties,
        })
    }
}

/// Parses `name=value` lines; blank lines are skipped, the value may contain `=`.
pub fn user_properties(text: &str) -> Result<Vec<UserProperty>, FormError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| FormError::UserProperty(line.to_owned()))?;
            Ok(UserProperty {
                name: name.trim().into(),
                value: value.trim().into(),
            })
        })
        .collect()
}

/// The subscription identifier the app puts on its subscriptions so that a message names the
/// subscription that let it through (5.0); unused by 3.1.1.
pub fn subscription_identifier(index: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(index.clamp(1, 268_435_455))
}

/// An optional 5.0 Response Topic: empty sends none, anything else must be a topic name.
fn response_topic(field: &'static str, text: &str) -> Result<Option<TopicName>, FormError> {
    non_empty(text)
        .map(TopicName::new)
        .transpose()
        .map_err(|error| FormError::Topic { field, error })
}

fn qos(level: u8) -> QoS {
    QoS::from_bits(level.min(2)).unwrap_or_default()
}

fn non_empty(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

fn number(field: &'static str, text: &str, max: u64) -> Result<Option<u64>, FormError> {
    let Some(text) = non_empty(text) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => Err(FormError::Number {
            field,
            value: text.to_owned(),
            max,
        }),
    }
}

#[cfg(test)]
mod tests;
