//! The browser's MQTT client: a [`ClientSession`] driven over a `WebSocket`, shared by the
//! Yew app and the embeddable JavaScript API.
//!
//! # Layout
//! - `error`: [`ClientError`], what a call can refuse.
//! - `url`: [`check_broker_url`], the URL and mixed-content rules (pure, host-tested).
//! - `backoff`: [`ReconnectPolicy`], the reconnect schedule (pure, host-tested).
//! - `resubscribe`: [`SubscriptionBook`], what to subscribe again to, with which properties,
//!   when the broker lost the session (pure, host-tested).
//! - `connection` (wasm32): [`Connection`], the driver.
//! - `socket` (wasm32): the `WebSocket` and timer it owns.
//!
//! [`ClientSession`]: courtier_proto::session::ClientSession

use std::time::Duration;

mod backoff;
#[cfg(target_arch = "wasm32")]
mod connection;
mod error;
mod resubscribe;
#[cfg(target_arch = "wasm32")]
mod socket;
mod url;

pub use backoff::{ReconnectPolicy, refusal_is_temporary};
#[cfg(target_arch = "wasm32")]
pub use connection::Connection;
pub use error::ClientError;
pub use resubscribe::SubscriptionBook;
pub use url::check_broker_url;

/// What a connection tells its owner, in order.
// Nearly every event is a `Session` one (messages, completions), so boxing it would cost an
// allocation per message and save no memory.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The WebSocket opened; CONNECT is on its way.
    Opened,
    /// Something the session reports: CONNACK (`Connected` / `ConnectionRefused`), messages,
    /// request completions, `Disconnected`, protocol errors.
    Session(courtier_proto::session::Event),
    /// The WebSocket closed (the browser's close code and reason). Requests that needed the
    /// connection have failed before this event; QoS 1/2 publishes wait for the next one.
    Closed {
        /// The close code (1000 normal, 1006 no close frame: refused or dropped).
        code: u16,
        /// The close reason the peer gave, often empty.
        reason: String,
        /// Whether the closing handshake completed.
        was_clean: bool,
    },
    /// A new socket is opened after `delay` (only with a [`ReconnectPolicy`]).
    Reconnecting {
        /// Attempts since the last accepted connection, this one included (from 1).
        attempt: u32,
        /// How long until the attempt.
        delay: Duration,
    },
    /// The browser reported a socket error, or the server broke the WebSocket framing. The
    /// socket closes next.
    TransportError(String),
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// The WebSocket is opening.
    Opening,
    /// CONNECT sent, waiting for CONNACK.
    Connecting,
    /// CONNACK accepted the connection.
    Connected,
    /// The connection was lost; a new socket opens after the backoff delay.
    Reconnecting,
    /// Over for good: closed by the application, refused, or lost without a reconnect policy.
    Closed,
}
