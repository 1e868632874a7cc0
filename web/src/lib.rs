//! Courtier in the browser: the library half of `courtier-web`.
//!
//! # Layout
//! - [`location`]: which broker the page talks to, derived from the page's own address. Pure, so
//!   it is unit-tested on the host.
//! - `browser` (wasm32 only): reads that address from `window.location`.
//!
//! The MQTT-over-WebSocket client that other sites will embed grows here, without Yew; the Yew
//! app itself is the `courtier-app` binary (`src/app/`).

#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod location;
