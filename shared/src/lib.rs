//! `courtier-proto`: the MQTT 3.1, 3.1.1 and 5.0 packet codec and protocol rules
//! shared by the Courtier broker, its command-line client and its browser client.
//!
//! # Layout
//! - [`packet`]: the packet model, one type per control packet, for every version.
//! - [`reason`]: v5 reason codes and their 3.x equivalents.
//! - [`topic`]: validated topic names and filters, matching, shared subscriptions.
//! - [`topic_set`]: filters as sets of topics (covers, overlaps), for authorization.
//! - [`wire`]: the primitive encodings (variable byte integers, strings, binary).
//! - [`properties`]: v5 properties on the wire.
//! - [`framing`]: the incremental [`framing::Decoder`] and packet encoding.
//! - [`error`]: decode and encode errors, each naming the spec statement broken.
//! - [`session`]: the sans-IO client session every Courtier client driver shares.
//!
//! # Invariants
//! This crate does no I/O, reads no clock and depends on neither tokio nor
//! web-sys: it compiles for `wasm32-unknown-unknown`. Peer input never panics
//! and never allocates more than the configured maximum packet size.

pub mod error;
pub mod framing;
pub mod packet;
pub mod properties;
pub mod reason;
pub mod session;
pub mod topic;
pub mod topic_set;
pub mod wire;

pub use error::{DecodeError, EncodeError};
pub use framing::Decoder;
pub use packet::{Packet, PacketId, ProtocolVersion, QoS, QosPid};
pub use reason::{ConnectReturnCode, ReasonCode};
pub use topic::{TopicError, TopicFilter, TopicName};
