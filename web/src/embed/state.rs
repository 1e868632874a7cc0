//! What an `MqttClient` remembers between calls, and how each [`ClientEvent`] settles it:
//! pending promises resolve or reject, handlers hear about messages and the connection, and
//! subscriptions are restored after a reconnect that found no session.

use std::cell::RefCell;
use std::collections::HashMap;

use courtier_proto::TopicFilter;
use courtier_proto::packet::{Publish, SubscribeProperties, Subscription};
use courtier_proto::reason::ReasonCode;
use courtier_proto::session::{Event, RequestId, SessionError};
use js_sys::{Array, Function, Object, Uint8Array};
use wasm_bindgen::JsValue;

use super::js::{Deferred, ObjectBuilder, mqtt_error};
use crate::client::{ClientEvent, Connection, ConnectionState, SubscriptionBook};

/// A call waiting for its acknowledgement.
pub(super) enum Pending {
    Publish(Deferred),
    Subscribe {
        deferred: Deferred,
        subscriptions: Vec<Subscription>,
        /// The SUBSCRIBE's properties, kept with what the broker grants.
        properties: SubscribeProperties,
        /// Resolve with one granted QoS rather than an array.
        single: bool,
    },
    Unsubscribe(Deferred),
    /// The SUBSCRIBE that restores subscriptions after a reconnect.
    Restore,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) connection: RefCell<Option<Connection>>,
    /// `(event name, handler)` in the order added.
    pub(super) handlers: RefCell<Vec<(String, Function)>>,
    pub(super) pending: RefCell<HashMap<RequestId, Pending>>,
    /// The promise of `MqttClient.connect`, until the first CONNACK or failure.
    pub(super) connecting: RefCell<Option<Deferred>>,
    /// The promises of `end()` calls, settled when the socket has closed.
    pub(super) closing: RefCell<Vec<Deferred>>,
    /// Subscriptions the broker granted, with their properties, to restore when it loses our
    /// session.
    subscriptions: RefCell<SubscriptionBook>,
    /// The last transport error, to explain a failed first connection.
    last_error: RefCell<Option<String>>,
}

impl State {
    pub(super) fn handle(&self, event: ClientEvent) {
        match event {
            ClientEvent::Opened => {}
            ClientEvent::Session(event) => self.session_event(event),
            ClientEvent::Closed { code, reason, .. } => self.closed(code, &reason),
            ClientEvent::Reconnecting { attempt, delay } => {
                let info = ObjectBuilder::new()
                    .set("attempt", attempt)
                    .set("delay", delay.as_millis() as f64)
                    .build();
                self.emit("reconnect", &[info]);
            }
            ClientEvent::TransportError(text) => {
                self.emit("error", &[js_sys::Error::new(&text).into()]);
                *self.last_error.borrow_mut() = Some(text);
            }
        }
    }

    fn session_event(&self, event: Event) {
        match event {
            Event::Connected {
                session_present, ..
            } => {
                let first = self.connecting.borrow_mut().take();
                match first {
                    Some(deferred) => deferred.resolve(&JsValue::UNDEFINED),
                    None if !session_present => self.restore_subscriptions(),
                    None => {}
                }
                let info = ObjectBuilder::new()
                    .set("sessionPresent", session_present)
                    .build();
                self.emit("connect", &[info]);
            }
            Event::ConnectionRefused {
                reason,
                reason_string,
            } => {
                let message = format!(
                    "the broker refused the connection: {reason}{}",
                    reason_string.map(|s| format!(": {s}")).unwrap_or_default()
                );
                self.fail(&mqtt_error(&message, reason));
            }
            Event::Message(publish) => {
                let (topic, payload, packet) = message_arguments(&publish);
                self.emit("message", &[topic, payload, packet]);
            }
            Event::Published { id, result } => {
                self.completed(id, result.map(|code| code.as_u8().into()))
            }
            Event::Subscribed { id, result } => {
                let pending = self.pending.borrow_mut().remove(&id);
                match (pending, result) {
                    (
                        Some(Pending::Subscribe {
                            deferred,
                            subscriptions,
                            properties,
                            single,
                        }),
                        result,
                    ) => self.subscribed(&deferred, subscriptions, &properties, single, result),
                    (Some(Pending::Restore), Err(e)) => {
                        self.emit("error", &[session_error(&e)]);
                    }
                    (Some(Pending::Restore), Ok(ack)) => {
                        if let Some(refused) = ack.reason_codes.iter().find(|c| !c.is_success()) {
                            let message = format!("restoring subscriptions: {refused}");
                            self.emit("error", &[mqtt_error(&message, *refused)]);
                        }
                    }
                    _ => {}
                }
            }
            Event::Unsubscribed { id, result } => {
                self.completed(id, result.map(|_| JsValue::UNDEFINED))
            }
            Event::Disconnected {
                reason,
                reason_string,
                by_server: true,
            } => {
                let packet = ObjectBuilder::new()
                    .set("reasonCode", reason.as_u8())
                    .set_some("reasonString", reason_string.map(|s| s.to_string()))
                    .build();
                self.emit("disconnect", &[packet]);
            }
            Event::Disconnected { .. } => {}
            Event::ProtocolError(e) => self.emit("error", &[session_error(&e)]),
        }
    }

    /// A publish or unsubscribe completed.
    fn completed(&self, id: RequestId, result: Result<JsValue, SessionError>) {
        let pending = self.pending.borrow_mut().remove(&id);
        let deferred = match pending {
            Some(Pending::Publish(d) | Pending::Unsubscribe(d)) => d,
            _ => return,
        };
        match result {
            Ok(value) => deferred.resolve(&value),
            Err(e) => deferred.reject(&session_error(&e)),
        }
    }

    fn subscribed(
        &self,
        deferred: &Deferred,
        subscriptions: Vec<Subscription>,
        properties: &SubscribeProperties,
        single: bool,
        result: Result<courtier_proto::packet::SubAck, SessionError>,
    ) {
        let ack = match result {
            Ok(ack) => ack,
            Err(e) => return deferred.reject(&session_error(&e)),
        };
        let mut granted = Vec::new();
        let mut refused = None;
        for (subscription, code) in subscriptions.into_iter().zip(&ack.reason_codes) {
            if code.is_success() {
                self.subscriptions
                    .borrow_mut()
                    .remember(subscription, properties);
                granted.push(code.as_u8());
            } else {
                refused.get_or_insert((subscription.filter, *code));
            }
        }
        if let Some((filter, code)) = refused {
            let message = format!(
                "the broker refused the subscription to `{}`: {code}{}",
                filter.as_str(),
                ack.reason_string
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default()
            );
            return deferred.reject(&mqtt_error(&message, code));
        }
        let value = match granted.as_slice() {
            [qos] if single => JsValue::from(*qos),
            _ => granted
                .into_iter()
                .map(JsValue::from)
                .collect::<Array>()
                .into(),
        };
        deferred.resolve(&value);
    }

    pub(super) fn forget(&self, filters: &[TopicFilter]) {
        self.subscriptions.borrow_mut().forget(filters);
    }

    /// The broker started a new session after a reconnect: subscribe again to what it had
    /// granted before, with the options and properties (Subscription Identifier, user
    /// properties) each was made with (the session already resends unacknowledged QoS 1/2
    /// publishes).
    fn restore_subscriptions(&self) {
        let requests = self.subscriptions.borrow().restore();
        let Some(connection) = self.connection.borrow().clone() else {
            return;
        };
        for (subscriptions, properties) in requests {
            match connection.subscribe(subscriptions, properties) {
                Ok(id) => {
                    self.pending.borrow_mut().insert(id, Pending::Restore);
                }
                Err(e) => return self.emit("error", &[super::js::client_error(&e)]),
            }
        }
    }

    fn closed(&self, code: u16, reason: &str) {
        let connection = self.connection.borrow().clone();
        let over = connection.is_none_or(|c| c.state() == ConnectionState::Closed);
        if self.connecting.borrow().is_some() {
            let why = self
                .last_error
                .borrow_mut()
                .take()
                .unwrap_or_else(|| "the WebSocket closed".to_owned());
            let message = format!(
                "could not connect: {why} (close code {code}{}{reason})",
                if reason.is_empty() { "" } else { ": " }
            );
            self.fail(&mqtt_error(&message, ReasonCode::UnspecifiedError));
        }
        self.emit("close", &[]);
        if over {
            for deferred in self.closing.borrow_mut().drain(..) {
                deferred.resolve(&JsValue::UNDEFINED);
            }
        }
    }

    /// The connection failed: rejects `connect` (and stops reconnecting: a first connection
    /// that fails is reported, not retried), or tells the `error` handlers.
    fn fail(&self, error: &JsValue) {
        let first = self.connecting.borrow_mut().take();
        match first {
            Some(deferred) => {
                if let Some(connection) = self.connection.borrow().clone() {
                    connection.close();
                }
                deferred.reject(error);
            }
            None => self.emit("error", std::slice::from_ref(error)),
        }
    }

    /// Calls every handler of `event` with `args`. Handlers are copied out first, so a
    /// handler may add or remove handlers; one that throws does not stop the others.
    fn emit(&self, event: &str, args: &[JsValue]) {
        let handlers: Vec<Function> = self
            .handlers
            .borrow()
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, handler)| handler.clone())
            .collect();
        let args: Array = args.iter().collect();
        for handler in handlers {
            let _ = handler.apply(&JsValue::UNDEFINED, &args);
        }
    }
}

/// `(topic, payload, packet)` for a `message` handler; `packet` follows mqtt.js's shape.
fn message_arguments(publish: &Publish) -> (JsValue, JsValue, JsValue) {
    let topic = JsValue::from_str(publish.topic.as_str());
    let payload: JsValue = Uint8Array::from(publish.payload.as_ref()).into();
    let p = &publish.properties;
    let user_properties = (!p.user_properties.is_empty()).then(|| {
        let object = Object::new();
        for property in &p.user_properties {
            let name = JsValue::from_str(&property.name);
            let value = JsValue::from_str(&property.value);
            // Repeated names become arrays, as in mqtt.js.
            let merged = match js_sys::Reflect::get(&object, &name) {
                Ok(existing) if existing.is_undefined() => value,
                Ok(existing) if Array::is_array(&existing) => {
                    Array::from(&existing).push(&value);
                    existing
                }
                Ok(existing) => Array::of2(&existing, &value).into(),
                Err(_) => value,
            };
            let _ = js_sys::Reflect::set(&object, &name, &merged);
        }
        JsValue::from(object)
    });
    let subscription_identifiers = (!p.subscription_identifiers.is_empty()).then(|| {
        p.subscription_identifiers
            .iter()
            .map(|id| JsValue::from(id.get()))
            .collect::<Array>()
    });
    let properties = ObjectBuilder::new()
        .set_some(
            "payloadFormatIndicator",
            p.payload_format_indicator
                .map(|f| f == courtier_proto::packet::PayloadFormat::Utf8),
        )
        .set_some("messageExpiryInterval", p.message_expiry_interval)
        .set_some(
            "contentType",
            p.content_type.as_ref().map(|s| s.to_string()),
        )
        .set_some(
            "responseTopic",
            p.response_topic.as_ref().map(|t| t.as_str().to_owned()),
        )
        .set_some(
            "correlationData",
            p.correlation_data
                .as_ref()
                .map(|d| Uint8Array::from(d.as_ref())),
        )
        .set_some("userProperties", user_properties)
        .set_some("subscriptionIdentifier", subscription_identifiers)
        .build();
    let packet = ObjectBuilder::new()
        .set("cmd", "publish")
        .set("topic", topic.clone())
        .set("payload", payload.clone())
        .set("qos", publish.qos_pid.qos() as u8)
        .set("retain", publish.retain)
        .set("dup", publish.dup)
        .set("properties", properties)
        .build();
    (topic, payload, packet)
}

/// A failed request as an `Error`: the session's words (which name the reason code and the
/// spec rule) and the code itself.
fn session_error(error: &SessionError) -> JsValue {
    mqtt_error(&error.to_string(), error.reason_code())
}
