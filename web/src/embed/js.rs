//! Small bridges between Rust values and JavaScript ones: reading option objects, building
//! result objects, `Error`s that carry a reason code, and promises settled from Rust.

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::client::ClientError;
use courtier_proto::reason::ReasonCode;

/// A property of `object`, `None` when absent, `undefined` or `null`.
pub(super) fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
}

/// A string property; a present non-string is a `TypeError` naming the option.
pub(super) fn string_field(object: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    field(object, name)
        .map(|value| {
            value
                .as_string()
                .ok_or_else(|| type_error(name, "a string"))
        })
        .transpose()
}

/// A boolean property.
pub(super) fn bool_field(object: &JsValue, name: &str) -> Result<Option<bool>, JsValue> {
    field(object, name)
        .map(|value| value.as_bool().ok_or_else(|| type_error(name, "a boolean")))
        .transpose()
}

/// A whole-number property within `0..=max`.
pub(super) fn uint_field(object: &JsValue, name: &str, max: u32) -> Result<Option<u32>, JsValue> {
    field(object, name)
        .map(|value| {
            value
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(max)).contains(n))
                // In range and whole, so the conversion is exact.
                .map(|n| n as u32)
                .ok_or_else(|| type_error(name, &format!("a whole number from 0 to {max}")))
        })
        .transpose()
}

/// Bytes from a string (UTF-8), a `Uint8Array`, an `ArrayBuffer` or any typed array view.
pub(super) fn bytes_of(value: &JsValue, name: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Ok(array.to_vec());
    }
    if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    if js_sys::ArrayBuffer::is_view(value) {
        let view: &js_sys::DataView = value.unchecked_ref();
        return Ok(Uint8Array::new_with_byte_offset_and_length(
            &view.buffer(),
            view.byte_offset() as u32,
            view.byte_length() as u32,
        )
        .to_vec());
    }
    Err(type_error(name, "a string, a Uint8Array or an ArrayBuffer"))
}

fn type_error(name: &str, expected: &str) -> JsValue {
    js_sys::TypeError::new(&format!("option `{name}` must be {expected}")).into()
}

/// An object under construction, for results and message packets.
pub(super) struct ObjectBuilder(Object);

impl ObjectBuilder {
    pub(super) fn new() -> Self {
        Self(Object::new())
    }

    pub(super) fn set(self, name: &str, value: impl Into<JsValue>) -> Self {
        // Setting a data property on a fresh plain object cannot throw.
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    pub(super) fn set_some<T: Into<JsValue>>(self, name: &str, value: Option<T>) -> Self {
        match value {
            Some(value) => self.set(name, value),
            None => self,
        }
    }

    pub(super) fn build(self) -> JsValue {
        self.0.into()
    }
}

/// An `Error` whose message says what happened in words, with the MQTT reason code in its
/// `reasonCode` property for programs.
pub(super) fn mqtt_error(message: &str, reason: ReasonCode) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = Reflect::set(
        &error,
        &JsValue::from_str("reasonCode"),
        &JsValue::from(reason.as_u8()),
    );
    error.into()
}

/// [`mqtt_error`] for a refused call.
pub(super) fn client_error(error: &ClientError) -> JsValue {
    mqtt_error(&error.to_string(), error.reason_code())
}

/// A promise with the functions that settle it.
pub(super) struct Deferred {
    pub(super) resolve: Function,
    pub(super) reject: Function,
}

impl Deferred {
    pub(super) fn new() -> (Promise, Self) {
        let mut slots = None;
        let promise = Promise::new(&mut |resolve, reject| slots = Some((resolve, reject)));
        // The Promise constructor runs its executor before returning (ECMA-262 27.2.3.1).
        let (resolve, reject) = slots.expect("the Promise executor runs synchronously");
        (promise, Self { resolve, reject })
    }

    pub(super) fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::UNDEFINED, value);
    }

    pub(super) fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::UNDEFINED, error);
    }
}

/// A promise already rejected with `error`.
pub(super) fn rejected(error: &JsValue) -> Promise {
    Promise::reject(error)
}
