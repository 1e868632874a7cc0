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
            let mut properties = WillProperties::default();
            if v5 {
                properties.will_delay_interval =
                    number("Will delay", &self.will_delay, u32::MAX.into())?.map(|n| n as u32);
                properties.content_type = non_empty(&self.will_content_type).map(ByteString::from);
            }
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
            properties.response_topic = non_empty(&self.response_topic)
                .map(TopicName::new)
                .transpose()
                .map_err(|error| FormError::Topic {
                    field: "Response topic",
                    error,
                })?;
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
mod tests {
    use super::*;

    #[test]
    fn connect_form_defaults_to_v5_clean_60s() {
        let form = ConnectForm::new("ws://h/mqtt".into(), generated_client_id(0xabc));
        let options = form.options().unwrap();
        assert_eq!(options.client_id, "courtier-00000abc");
        assert_eq!(options.version, ProtocolVersion::V5);
        assert!(options.clean_start);
        assert_eq!(options.keep_alive, 60);
        assert_eq!(options.username, None);
        assert_eq!(options.will, None);
    }

    #[test]
    fn connect_form_errors_name_the_field() {
        let base = ConnectForm::new("ws://h/mqtt".into(), "c".into());
        let cases: Vec<(ConnectForm, &str)> = vec![
            (
                ConnectForm {
                    keep_alive: "70000".into(),
                    ..base.clone()
                },
                "Keep alive: `70000` is not a whole number from 0 to 65535",
            ),
            (
                ConnectForm {
                    session_expiry: "-1".into(),
                    ..base.clone()
                },
                "Session expiry: `-1` is not a whole number from 0 to 4294967295",
            ),
            (
                ConnectForm {
                    url: " ".into(),
                    ..base.clone()
                },
                "the broker URL is empty",
            ),
            (
                ConnectForm {
                    will_enabled: true,
                    will_topic: "a/+".into(),
                    ..base.clone()
                },
                "Will topic: ",
            ),
            (
                ConnectForm {
                    version: Version::V311,
                    password: "p".into(),
                    ..base.clone()
                },
                "[MQTT-3.1.2-22]",
            ),
        ];
        for (form, expected) in cases {
            let error = form.options().unwrap_err().to_string();
            assert!(
                error.starts_with(expected),
                "{error:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn connect_form_with_will_and_v5_fields() {
        let form = ConnectForm {
            username: "alice".into(),
            password: "secret".into(),
            session_expiry: "3600".into(),
            will_enabled: true,
            will_topic: "maMaison/status".into(),
            will_payload: "offline".into(),
            will_qos: 1,
            will_retain: true,
            will_delay: "5".into(),
            ..ConnectForm::new("ws://h/mqtt".into(), "c".into())
        };
        let options = form.options().unwrap();
        assert_eq!(options.session_expiry_interval, Some(3600));
        assert_eq!(options.password.as_deref(), Some(&b"secret"[..]));
        let will = options.will.unwrap();
        assert_eq!(will.topic.as_str(), "maMaison/status");
        assert_eq!(&will.payload[..], b"offline");
        assert_eq!((will.qos, will.retain), (QoS::AtLeastOnce, true));
        assert_eq!(will.properties.will_delay_interval, Some(5));
        // 3.1.1 has no session expiry nor will properties: they are not sent.
        let v3 = ConnectForm {
            version: Version::V311,
            ..form
        }
        .options()
        .unwrap();
        assert_eq!(v3.session_expiry_interval, None);
        assert_eq!(v3.will.unwrap().properties, WillProperties::default());
    }

    #[test]
    fn subscribe_form() {
        let form = SubscribeForm {
            filter: " maMaison/rez-de-chaussee/+ ".into(),
            qos: 1,
            no_local: true,
            retain_as_published: true,
            retain_handling: 2,
        };
        let sub = form.subscription().unwrap();
        assert_eq!(sub.filter.as_str(), "maMaison/rez-de-chaussee/+");
        assert_eq!(sub.options.qos, QoS::AtLeastOnce);
        assert!(sub.options.no_local && sub.options.retain_as_published);
        assert_eq!(sub.options.retain_handling, RetainHandling::DoNotSend);
        let bad = SubscribeForm {
            filter: "a/#/b".into(),
            ..form
        };
        assert!(
            bad.subscription()
                .unwrap_err()
                .to_string()
                .starts_with("Topic filter: ")
        );
    }

    #[test]
    fn publish_form_with_v5_properties() {
        let form = PublishForm {
            topic: "maMaison/rez-de-chaussee/cuisine".into(),
            payload: r#"{"t":21.5}"#.into(),
            encoding: Encoding::Json,
            qos: 2,
            retain: true,
            content_type: "application/json".into(),
            utf8_payload: true,
            message_expiry: "30".into(),
            response_topic: "replies/me".into(),
            correlation_data: "req-1".into(),
            user_properties: "room = kitchen\n\nunit=°C=celsius\n".into(),
        };
        let request = form.request(true).unwrap();
        assert_eq!(request.qos, QoS::ExactlyOnce);
        assert!(request.retain);
        let p = &request.properties;
        assert_eq!(p.content_type.as_deref(), Some("application/json"));
        assert_eq!(p.payload_format_indicator, Some(PayloadFormat::Utf8));
        assert_eq!(p.message_expiry_interval, Some(30));
        assert_eq!(
            p.response_topic.as_ref().map(TopicName::as_str),
            Some("replies/me")
        );
        assert_eq!(p.correlation_data.as_deref(), Some(&b"req-1"[..]));
        let names: Vec<_> = p
            .user_properties
            .iter()
            .map(|u| (&*u.name, &*u.value))
            .collect();
        assert_eq!(names, [("room", "kitchen"), ("unit", "°C=celsius")]);
        // 3.1.1 carries no properties.
        assert_eq!(
            form.request(false).unwrap().properties,
            PublishProperties::default()
        );
    }

    #[test]
    fn publish_form_errors() {
        let base = PublishForm {
            topic: "t".into(),
            ..PublishForm::default()
        };
        let cases: Vec<(PublishForm, &str)> = vec![
            (
                PublishForm {
                    topic: "a/+".into(),
                    ..base.clone()
                },
                "Topic: ",
            ),
            (
                PublishForm {
                    payload: "{".into(),
                    encoding: Encoding::Json,
                    ..base.clone()
                },
                "payload: not valid JSON",
            ),
            (
                PublishForm {
                    payload: "xyz".into(),
                    encoding: Encoding::Hex,
                    ..base.clone()
                },
                "payload: not hexadecimal",
            ),
            (
                PublishForm {
                    user_properties: "novalue".into(),
                    ..base.clone()
                },
                "user property `novalue`",
            ),
            (
                PublishForm {
                    response_topic: "r/#".into(),
                    ..base.clone()
                },
                "Response topic: ",
            ),
        ];
        for (form, expected) in cases {
            let error = form.request(true).unwrap_err().to_string();
            assert!(
                error.starts_with(expected),
                "{error:?} should start with {expected:?}"
            );
        }
    }
}
