//! Codec tests: byte-literal vectors for every packet and version, negative
//! vectors for every validation rule, and proptest round trips.

mod encode;
mod negative;
mod roundtrip;
mod vectors;

use bytes::BytesMut;
use courtier_proto::packet::*;
use courtier_proto::{DecodeError, Decoder, ReasonCode, TopicFilter, TopicName};

pub(crate) const V31: ProtocolVersion = ProtocolVersion::V3_1;
pub(crate) const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
pub(crate) const V5: ProtocolVersion = ProtocolVersion::V5;
pub(crate) const ALL: [ProtocolVersion; 3] = [V31, V311, V5];

/// Decode `bytes` as one packet of `version`, expecting `expected`, then
/// encode `expected` and expect the same bytes and an exact `encoded_len`.
pub(crate) fn check(version: ProtocolVersion, bytes: &[u8], expected: Packet) {
    assert_eq!(
        decode_one(version, bytes),
        Ok(expected.clone()),
        "decoding {bytes:02x?}"
    );
    let mut out = BytesMut::new();
    expected.encode(version, &mut out).expect("encodes");
    assert_eq!(&out[..], bytes, "encoding {expected:?}");
    assert_eq!(expected.encoded_len(version), bytes.len());
}

/// Decode one whole packet, failing the test if bytes are left over.
pub(crate) fn decode_one(version: ProtocolVersion, bytes: &[u8]) -> Result<Packet, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    let packet = Decoder::with_version(1 << 20, version).decode(&mut buf)?;
    assert!(buf.is_empty(), "bytes left over");
    Ok(packet.expect("a whole packet"))
}

/// Expect `bytes` to be rejected with `error`, whose v5 reason is `reason`.
pub(crate) fn check_err(
    version: ProtocolVersion,
    bytes: &[u8],
    error: DecodeError,
    reason: ReasonCode,
) {
    assert_eq!(
        decode_one(version, bytes),
        Err(error.clone()),
        "decoding {bytes:02x?}"
    );
    assert_eq!(error.reason_code(), reason, "reason code of {error}");
}

pub(crate) fn pid(n: u16) -> PacketId {
    PacketId::new(n).expect("non-zero")
}

pub(crate) fn topic(s: &'static str) -> TopicName {
    TopicName::new(s).expect("valid topic")
}

pub(crate) fn filter(s: &'static str) -> TopicFilter {
    TopicFilter::new(s).expect("valid filter")
}

pub(crate) fn user(name: &'static str, value: &'static str) -> UserProperty {
    UserProperty {
        name: name.into(),
        value: value.into(),
    }
}
