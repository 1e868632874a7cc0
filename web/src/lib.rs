//! Courtier in the browser: the library half of `courtier-web`.
//!
//! # Layout
//! - [`location`]: which broker the page talks to, derived from the page's own address. Pure, so
//!   it is unit-tested on the host.
//! - `admin_api` (wasm32 only): the broker's admin API over `fetch`, for the app's Admin
//!   section; its URLs, JSON and errors are in `model::admin_wire`.
//! - `browser` (wasm32 only): reads that address from `window.location`.
//! - [`client`]: the MQTT session over a browser `WebSocket`, shared by the Yew app and the
//!   embeddable client; its pure rules (URLs, reconnect schedule) build and test on the host.
//! - [`model`]: the Yew app's state as a pure reducer (forms, log, topic tree, charts, payload
//!   encodings), unit-tested on the host.
//! - `embed` (wasm32, feature `embed`): the JavaScript API other sites embed (`MqttClient`),
//!   packaged by `cargo xtask dist` into `dist/client/`; not in the app's binary.
//!
//! # Architecture invariant
//! Nothing here depends on Yew: the Yew app is the `courtier-app` binary (`src/app/`), so the
//! embeddable package built from this library stays small.

#[cfg(target_arch = "wasm32")]
pub mod admin_api;
#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod client;
#[cfg(all(target_arch = "wasm32", feature = "embed"))]
pub mod embed;
pub mod location;
pub mod model;
