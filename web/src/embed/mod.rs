//! The embeddable client: `MqttClient`, a JavaScript API in the manner of mqtt.js over the
//! shared [`Connection`], packaged by `cargo xtask dist` as `dist/client/`.
//!
//! ```js
//! import init, { MqttClient } from './courtier_client.js';
//! await init();
//! const client = await MqttClient.connect('ws://host:8080/mqtt', { protocolVersion: 5 });
//! client.on('message', (topic, payload, packet) => { ... });
//! await client.subscribe('maMaison/#', { qos: 1 });
//! await client.publish('maMaison/cuisine', '21.5', { qos: 1 });
//! await client.end();
//! ```
//!
//! # Layout
//! - this file: the exported class and its calls.
//! - `state`: what a client remembers (handlers, pending promises, subscriptions) and how each
//!   connection event settles it.
//! - `options`: the JavaScript option objects, read into the session's types.
//! - `js`: small bridges (fields, objects, errors, promises).
//! - `types`: TypeScript declarations of the option and packet objects.

use std::rc::Rc;

use bytes::Bytes;
use courtier_proto::TopicFilter;
use courtier_proto::packet::Subscription;
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::client::{ClientError, Connection, ConnectionState, ReconnectPolicy};

mod js;
mod options;
mod state;
mod types;

use js::{Deferred, bytes_of, client_error, rejected};
use state::{Pending, State};

/// An MQTT client over WebSocket. Create it with `MqttClient.connect`.
#[wasm_bindgen]
pub struct MqttClient {
    state: Rc<State>,
}

#[wasm_bindgen]
impl MqttClient {
    /// Opens `url` (`ws://` or `wss://`) and resolves once the broker accepted the connection;
    /// rejects with the broker's refusal (reason code and words) or the socket's failure.
    /// With `reconnect` (the default) a connection lost later is reopened with capped,
    /// jittered exponential backoff.
    #[wasm_bindgen(unchecked_return_type = "MqttClient")]
    pub async fn connect(
        url: String,
        #[wasm_bindgen(unchecked_optional_param_type = "ConnectOptions")] options: Option<JsValue>,
    ) -> Result<MqttClient, JsValue> {
        let options = options::connect_options(&options.unwrap_or_default())?;
        let state = Rc::new(State::default());
        let (accepted, deferred) = Deferred::new();
        *state.connecting.borrow_mut() = Some(deferred);
        let weak = Rc::downgrade(&state);
        let on_event = move |event| {
            if let Some(state) = weak.upgrade() {
                state.handle(event);
            }
        };
        let connection = if options.reconnect {
            Connection::open_reconnecting(
                &url,
                options.session,
                ReconnectPolicy::default(),
                on_event,
            )
        } else {
            Connection::open(&url, options.session, on_event)
        }
        .map_err(|e| client_error(&e))?;
        *state.connection.borrow_mut() = Some(connection);
        JsFuture::from(accepted).await?;
        Ok(MqttClient { state })
    }

    /// Adds `handler` for `event`: `message` (topic, payload as `Uint8Array`, packet with
    /// `qos`, `retain`, `dup`, `properties`), `connect` (`{ sessionPresent }`), `reconnect`,
    /// `close`, `disconnect` (the broker's DISCONNECT) or `error` (an `Error`).
    pub fn on(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "'message' | 'connect' | 'reconnect' | 'close' | 'disconnect' | 'error'"
        )]
        event: String,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] handler: Function,
    ) -> MqttClient {
        self.state.handlers.borrow_mut().push((event, handler));
        MqttClient {
            state: self.state.clone(),
        }
    }

    /// Removes a handler added with `on`.
    pub fn off(
        &self,
        event: String,
        #[wasm_bindgen(unchecked_param_type = "(...args: any[]) => void")] handler: Function,
    ) {
        self.state
            .handlers
            .borrow_mut()
            .retain(|(name, h)| !(*name == event && *h == handler));
    }

    /// Publishes `payload` (a string, sent as UTF-8, or bytes) to `topic`. Resolves with the
    /// broker's reason code once acknowledged for its QoS (QoS 0: once handed to the socket);
    /// rejects with an `Error` naming the reason code.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn publish(
        &self,
        topic: String,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")]
        payload: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PublishOptions")] options: Option<JsValue>,
    ) -> Promise {
        let options = options.unwrap_or_default();
        let call = || -> Result<_, JsValue> {
            let payload = Bytes::from(bytes_of(&payload, "payload")?);
            let (qos, retain, properties) = options::publish_options(&options)?;
            let connection = self.connection()?;
            connection
                .publish(&topic, payload, qos, retain, properties)
                .map_err(|e| client_error(&e))
        };
        self.request(call, Pending::Publish)
    }

    /// Subscribes to one filter or an array of filters with `{ qos, nl, rap, rh, properties:
    /// { subscriptionIdentifier, userProperties } }` (a reconnect that restores it sends the
    /// same). Resolves with the granted QoS (an array for an array);
    /// rejects if the broker refused a filter, with its reason code in words.
    #[wasm_bindgen(unchecked_return_type = "Promise<number | number[]>")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] filter: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "SubscribeOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let options = options.unwrap_or_default();
        let single = !Array::is_array(&filter);
        let call = || -> Result<_, JsValue> {
            let opts = options::subscription_options(&options)?;
            let subscriptions = filters(&filter)?
                .into_iter()
                .map(|filter| Subscription {
                    filter,
                    options: opts,
                })
                .collect::<Vec<_>>();
            let properties = options::subscribe_properties(&options)?;
            let connection = self.connection()?;
            let id = connection
                .subscribe(subscriptions.clone(), properties.clone())
                .map_err(|e| client_error(&e))?;
            Ok((id, subscriptions, properties))
        };
        match call() {
            Ok((id, subscriptions, properties)) => {
                let (promise, deferred) = Deferred::new();
                self.state.pending.borrow_mut().insert(
                    id,
                    Pending::Subscribe {
                        deferred,
                        subscriptions,
                        properties,
                        single,
                    },
                );
                promise
            }
            Err(error) => rejected(&error),
        }
    }

    /// Unsubscribes from one filter or an array of filters; resolves at UNSUBACK.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] filter: JsValue,
    ) -> Promise {
        let call = || -> Result<_, JsValue> {
            let filters = filters(&filter)?;
            let connection = self.connection()?;
            let id = connection
                .unsubscribe(filters.clone())
                .map_err(|e| client_error(&e))?;
            // Forget them now: a reconnect before UNSUBACK must not restore them.
            self.state.forget(&filters);
            Ok(id)
        };
        self.request(call, Pending::Unsubscribe)
    }

    /// Sends DISCONNECT, closes the socket and stops reconnecting; resolves once closed.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn end(&self) -> Promise {
        let Some(connection) = self.state.connection.borrow().clone() else {
            return Promise::resolve(&JsValue::UNDEFINED);
        };
        if connection.state() == ConnectionState::Closed {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        let (promise, deferred) = Deferred::new();
        self.state.closing.borrow_mut().push(deferred);
        connection.close();
        promise
    }

    /// Whether the broker has accepted the current connection.
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.state
            .connection
            .borrow()
            .as_ref()
            .is_some_and(|c| c.state() == ConnectionState::Connected)
    }

    /// The client identifier in use (the broker's assigned one, if it gave one).
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> String {
        self.state
            .connection
            .borrow()
            .as_ref()
            .map(Connection::client_id)
            .unwrap_or_default()
    }
}

impl MqttClient {
    fn connection(&self) -> Result<Connection, JsValue> {
        self.state
            .connection
            .borrow()
            .clone()
            .ok_or_else(|| client_error(&ClientError::Socket("the client has ended".to_owned())))
    }

    /// Runs `call`; on success its completion will settle the returned promise.
    fn request(
        &self,
        call: impl FnOnce() -> Result<courtier_proto::session::RequestId, JsValue>,
        pending: impl FnOnce(Deferred) -> Pending,
    ) -> Promise {
        match call() {
            Ok(id) => {
                let (promise, deferred) = Deferred::new();
                self.state
                    .pending
                    .borrow_mut()
                    .insert(id, pending(deferred));
                promise
            }
            Err(error) => rejected(&error),
        }
    }
}

/// One filter string or an array of them, checked.
fn filters(value: &JsValue) -> Result<Vec<TopicFilter>, JsValue> {
    let texts: Vec<JsValue> = if Array::is_array(value) {
        value.unchecked_ref::<Array>().iter().collect()
    } else {
        vec![value.clone()]
    };
    texts
        .iter()
        .map(|text| {
            let text = text.as_string().ok_or_else(|| {
                JsValue::from(js_sys::TypeError::new("a topic filter must be a string"))
            })?;
            TopicFilter::new(text.clone()).map_err(|error| {
                let error = ClientError::InvalidTopic { topic: text, error };
                js::mqtt_error(
                    &error.to_string(),
                    courtier_proto::ReasonCode::TopicFilterInvalid,
                )
            })
        })
        .collect()
}

/// Whether `topic` matches `filter` by MQTT's rules (wildcards, and the `$` rule of 4.7.2);
/// `false` when either is invalid. For pages that route messages of one connection.
#[wasm_bindgen(js_name = topicMatches)]
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    match (
        TopicFilter::new(filter.to_owned()),
        courtier_proto::TopicName::new(topic.to_owned()),
    ) {
        (Ok(filter), Ok(topic)) => filter.matches(&topic),
        _ => false,
    }
}
