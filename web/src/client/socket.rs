//! The browser objects a [`super::Connection`] owns: the `WebSocket` with its four handlers,
//! and one `setTimeout` timer. Both detach themselves on drop, so a dropped connection never
//! has the browser call into freed closures.

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::ClientError;

/// The WebSocket subprotocol MQTT registers ([MQTT-6.0.0-3]); a server that does not echo it
/// in its handshake reply gets the socket closed by the browser.
pub(super) const SUBPROTOCOL: &str = "mqtt";

/// What the socket's handlers call.
pub(super) struct SocketHandlers {
    pub(super) on_open: Box<dyn FnMut()>,
    pub(super) on_message: Box<dyn FnMut(MessageEvent)>,
    pub(super) on_close: Box<dyn FnMut(CloseEvent)>,
    pub(super) on_error: Box<dyn FnMut(Event)>,
}

/// An open (or opening) WebSocket and the closures the browser calls.
pub(super) struct Socket {
    ws: WebSocket,
    // Held only so that they live as long as the socket refers to them.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Socket {
    /// Starts opening `url` with the `mqtt` subprotocol and binary frames as `ArrayBuffer`s
    /// (MQTT packets travel in binary frames only, [MQTT-6.0.0-1]).
    pub(super) fn open(url: &str, handlers: SocketHandlers) -> Result<Self, ClientError> {
        let ws = WebSocket::new_with_str(url, SUBPROTOCOL).map_err(|e| socket_error(&e))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_open = Closure::<dyn FnMut()>::new(handlers.on_open);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(handlers.on_message);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(handlers.on_close);
        let on_error = Closure::<dyn FnMut(Event)>::new(handlers.on_error);
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Sends one binary frame.
    pub(super) fn send(&self, bytes: &[u8]) -> Result<(), ClientError> {
        self.ws
            .send_with_u8_array(bytes)
            .map_err(|e| socket_error(&e))
    }

    /// Starts the closing handshake with 1000 (normal closure); `close` fires later.
    pub(super) fn close(&self) {
        // Only throws for invalid codes or reasons, and these are fixed.
        let _ = self.ws.close_with_code(1000);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close_with_code(1000);
    }
}

/// A `setTimeout` that is re-armed rather than recreated, calling one closure made once.
///
/// Hidden tabs: Chrome runs a timer armed from five nested timer callbacks at most once a
/// minute ("intensive wake up throttling"), which would make a 60 s keep alive late enough for
/// the broker to drop us. The chain never gets that long here: the timer re-arms from its own
/// callback only after sending PINGREQ, and the PINGRESP (a socket task, nesting level 0)
/// re-arms it for the next keep alive.
pub(super) struct Timer {
    callback: Closure<dyn FnMut()>,
    /// The browser's handle of the armed timeout, and the deadline it was armed for.
    armed: Option<(i32, Duration)>,
}

impl Timer {
    pub(super) fn new(callback: Box<dyn FnMut()>) -> Self {
        Self {
            callback: Closure::<dyn FnMut()>::new(callback),
            armed: None,
        }
    }

    /// Arms the timer for `deadline` (on the clock of [`now`]), unless it already is.
    pub(super) fn arm(&mut self, deadline: Duration) {
        if self.armed.is_some_and(|(_, at)| at == deadline) {
            return;
        }
        self.cancel();
        let Some(window) = web_sys::window() else {
            return;
        };
        let wait = deadline.saturating_sub(now());
        // Round up: a timer that fires a little early would find nothing due and re-arm for
        // the sub-millisecond remainder.
        let millis = i32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            self.callback.as_ref().unchecked_ref(),
            millis,
        ) {
            self.armed = Some((handle, deadline));
        }
    }

    /// Disarms the timer; called when it fired, too, so that `arm` does not skip.
    pub(super) fn cancel(&mut self) {
        if let Some((handle, _)) = self.armed.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_timeout_with_handle(handle);
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Time since the page started, from `performance.now()`: monotonic, as the session needs.
pub(super) fn now() -> Duration {
    let millis = web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now());
    Duration::from_secs_f64(millis.max(0.0) / 1000.0)
}

/// A JavaScript exception as text.
pub(super) fn socket_error(error: &wasm_bindgen::JsValue) -> ClientError {
    let text = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"));
    ClientError::Socket(text)
}
