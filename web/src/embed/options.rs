//! The option objects of the JavaScript API, read into the session's types. Names follow
//! mqtt.js where it has one, so its users need not look them up.

use std::num::NonZeroU32;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use courtier_proto::packet::{
    LastWill, PayloadFormat, PublishProperties, RetainHandling, SubscribeProperties,
    SubscriptionOptions, UserProperty, WillProperties,
};
use courtier_proto::session::ClientOptions;
use courtier_proto::{ProtocolVersion, QoS, TopicName};
use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

use super::js::{bool_field, bytes_of, field, string_field, uint_field};

/// What `MqttClient.connect` was asked for.
pub(super) struct ConnectOptions {
    pub(super) session: ClientOptions,
    /// Reconnect after a lost connection (default true).
    pub(super) reconnect: bool,
}

/// Reads `{ clientId, username, password, protocolVersion, keepalive, clean, sessionExpiry,
/// will, reconnect, connectTimeout }`; every field is optional.
pub(super) fn connect_options(options: &JsValue) -> Result<ConnectOptions, JsValue> {
    let client_id = string_field(options, "clientId")?.unwrap_or_else(generated_client_id);
    let mut session = ClientOptions::new(client_id);
    session.version = match uint_field(options, "protocolVersion", 5)? {
        None | Some(5) => ProtocolVersion::V5,
        Some(4) => ProtocolVersion::V3_1_1,
        Some(3) => ProtocolVersion::V3_1,
        Some(other) => {
            return Err(invalid(&format!(
                "protocolVersion {other} is not 3, 4 or 5"
            )));
        }
    };
    if let Some(keep_alive) = uint_field(options, "keepalive", u32::from(u16::MAX))? {
        session.keep_alive = u16::try_from(keep_alive).unwrap_or(u16::MAX);
    }
    if let Some(clean) = bool_field(options, "clean")? {
        session.clean_start = clean;
    }
    session.session_expiry_interval = uint_field(options, "sessionExpiry", u32::MAX)?;
    if let Some(millis) = uint_field(options, "connectTimeout", u32::MAX)? {
        session.connect_timeout = Duration::from_millis(u64::from(millis));
    }
    session.username = string_field(options, "username")?.map(ByteString::from);
    session.password = field(options, "password")
        .map(|value| bytes_of(&value, "password").map(Bytes::from))
        .transpose()?;
    session.will = field(options, "will")
        .map(|will| last_will(&will))
        .transpose()?;
    Ok(ConnectOptions {
        session,
        reconnect: bool_field(options, "reconnect")?.unwrap_or(true),
    })
}

/// `courtier-` and eight random hex digits, like mqtt.js's `mqttjs_` ids: unique enough that
/// two tabs do not take over each other's session.
fn generated_client_id() -> String {
    let random = (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("courtier-{random:08x}")
}

fn last_will(will: &JsValue) -> Result<LastWill, JsValue> {
    let topic = string_field(will, "topic")?.ok_or_else(|| invalid("will.topic is required"))?;
    let payload = field(will, "payload")
        .map(|value| bytes_of(&value, "will.payload"))
        .transpose()?
        .unwrap_or_default();
    Ok(LastWill {
        topic: topic_name(&topic)?,
        payload: Bytes::from(payload),
        qos: qos_field(will)?,
        retain: bool_field(will, "retain")?.unwrap_or(false),
        properties: WillProperties::default(),
    })
}

/// `{ qos, retain, properties }` of `publish`.
pub(super) fn publish_options(
    options: &JsValue,
) -> Result<(QoS, bool, PublishProperties), JsValue> {
    let properties = match field(options, "properties") {
        Some(p) => publish_properties(&p)?,
        None => PublishProperties::default(),
    };
    Ok((
        qos_field(options)?,
        bool_field(options, "retain")?.unwrap_or(false),
        properties,
    ))
}

/// The 5.0 properties an application may set on a PUBLISH, by their mqtt.js names.
fn publish_properties(p: &JsValue) -> Result<PublishProperties, JsValue> {
    Ok(PublishProperties {
        payload_format_indicator: bool_field(p, "payloadFormatIndicator")?.map(|utf8| {
            if utf8 {
                PayloadFormat::Utf8
            } else {
                PayloadFormat::Unspecified
            }
        }),
        message_expiry_interval: uint_field(p, "messageExpiryInterval", u32::MAX)?,
        response_topic: string_field(p, "responseTopic")?
            .map(|t| topic_name(&t))
            .transpose()?,
        correlation_data: field(p, "correlationData")
            .map(|value| bytes_of(&value, "correlationData").map(Bytes::from))
            .transpose()?,
        user_properties: field(p, "userProperties")
            .map(|value| user_properties(&value))
            .transpose()?
            .unwrap_or_default(),
        content_type: string_field(p, "contentType")?.map(ByteString::from),
        ..PublishProperties::default()
    })
}

/// `{ name: value }` or `{ name: [value, value] }`, as mqtt.js writes user properties.
fn user_properties(object: &JsValue) -> Result<Vec<UserProperty>, JsValue> {
    let object: &Object = object
        .dyn_ref()
        .ok_or_else(|| invalid("userProperties must be an object"))?;
    let mut out = Vec::new();
    for entry in Object::entries(object).iter() {
        let entry: Array = entry.unchecked_into();
        let name = entry.get(0).as_string().unwrap_or_default();
        let value = entry.get(1);
        let values = if Array::is_array(&value) {
            value.unchecked_into::<Array>().iter().collect()
        } else {
            vec![value]
        };
        for value in values {
            let value = value
                .as_string()
                .ok_or_else(|| invalid("userProperties values must be strings"))?;
            out.push(UserProperty {
                name: name.as_str().into(),
                value: value.into(),
            });
        }
    }
    Ok(out)
}

/// `{ qos, nl, rap, rh }` of `subscribe` (mqtt.js's names for No Local, Retain As Published
/// and Retain Handling).
pub(super) fn subscription_options(options: &JsValue) -> Result<SubscriptionOptions, JsValue> {
    Ok(SubscriptionOptions {
        qos: qos_field(options)?,
        no_local: bool_field(options, "nl")?.unwrap_or(false),
        retain_as_published: bool_field(options, "rap")?.unwrap_or(false),
        retain_handling: match uint_field(options, "rh", 2)? {
            None | Some(0) => RetainHandling::SendAtSubscribe,
            Some(1) => RetainHandling::SendIfNew,
            Some(_) => RetainHandling::DoNotSend,
        },
    })
}

/// `{ properties: { subscriptionIdentifier, userProperties } }` of `subscribe`.
pub(super) fn subscribe_properties(options: &JsValue) -> Result<SubscribeProperties, JsValue> {
    let Some(properties) = field(options, "properties") else {
        return Ok(SubscribeProperties::default());
    };
    Ok(SubscribeProperties {
        subscription_identifier: uint_field(&properties, "subscriptionIdentifier", 268_435_455)?
            .and_then(NonZeroU32::new),
        user_properties: field(&properties, "userProperties")
            .map(|u| user_properties(&u))
            .transpose()?
            .unwrap_or_default(),
    })
}

fn qos_field(object: &JsValue) -> Result<QoS, JsValue> {
    Ok(uint_field(object, "qos", 2)?
        .and_then(|bits| QoS::from_bits(bits as u8))
        .unwrap_or(QoS::AtMostOnce))
}

fn topic_name(topic: &str) -> Result<TopicName, JsValue> {
    TopicName::new(topic.to_owned()).map_err(|e| invalid(&format!("topic `{topic}`: {e}")))
}

fn invalid(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}
