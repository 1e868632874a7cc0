//! Courtier, the MQTT broker.
//!
//! # Layout
//! - [`config`]: flags and TOML file, one set of keys, validated into [`config::Config`].
//! - [`server`]: listeners, accept loop, connection limit, graceful shutdown.
//! - [`connection`]: one task per client, generic over the byte stream:
//!   read → `courtier_proto::Decoder` → protocol handling → coalesced writes.
//! - [`session`]: per-client-id state: bounded outbound queue, inflight
//!   window, inbound QoS 2 ids, delayed will.
//! - [`broker`]: the shared state ([`broker::Broker`]) and the operations that
//!   span it: publish/route, attach/detach sessions, wills, expiry timers.
//! - [`router`]: the subscription tree. [`retained`]: the retained store.
//! - [`message`]: the `Arc`-shared application message. [`metrics`]: counters.
//!   [`limits`]: connection rate and slots, topic shape.
//! - [`sys`]: the `$SYS/broker/...` topics. [`prometheus`]: `GET /metrics`.
//! - [`admin`]: the admin API, JSON under `/api/v1` (clients and kick,
//!   sessions, retained messages, users, ACL rules), off without `admin_token`.
//! - [`reload`]: password file, ACL file, TLS certificate and client CA reloaded on
//!   SIGHUP and on file change, connections kept.
//! - [`store`]: durability: the narrow `Store` backend interface, the
//!   embedded redb backend, group commit and restore at start-up.
//! - [`transport`]: TLS (rustls, PEM files, client-certificate CN), WebSocket as
//!   a byte stream, the HTTP(S) listener that upgrades to it (Origin allow-list,
//!   `X-Forwarded-For` from trusted proxies).
//! - [`auth`]: who may connect: Mosquitto-format password files (argon2id for
//!   new entries), the anonymous-access policy, `courtier passwd`.
//! - [`client`]: `courtier pub` / `courtier sub`, a tokio driver of the shared
//!   sans-IO client session over TCP, TLS or WebSocket.
//!
//! # Invariants
//! No lock is held across `.await`; every queue is bounded with its overflow
//! policy written beside it; payloads are never copied on fan-out; peer input
//! never panics.

pub mod admin;
pub mod auth;
pub mod broker;
pub mod client;
pub mod config;
pub mod connection;
pub mod limits;
pub mod message;
pub mod metrics;
pub mod prometheus;
pub mod reload;
pub mod retained;
pub mod router;
pub mod server;
pub mod session;
pub mod store;
pub mod sys;
pub mod transport;
