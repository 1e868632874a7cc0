//! Negative vectors: one or more per validation rule, each asserting the
//! exact error and the v5 reason code a server answers with.

use bytes::BytesMut;
use courtier_proto::{DecodeError as E, Decoder, ReasonCode as R, TopicError};

use super::*;

/// A packet with a one-byte remaining length.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first, u8::try_from(body.len()).expect("short body")];
    out.extend_from_slice(body);
    out
}

/// A CONNECT with protocol `name`, `level` and `flags`, keep alive 0, then `rest`.
fn connect(name: &str, level: u8, flags: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![0, name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(&[level, flags, 0, 0]);
    body.extend_from_slice(rest);
    packet(0x10, &body)
}

/// A v5 QoS 0 PUBLISH to "t" with the given property block contents.
fn publish_v5(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0, 1, b't', props.len() as u8];
    body.extend_from_slice(props);
    packet(0x30, &body)
}

/// A SUBSCRIBE (packet id 1) of one `filter` with `options`; v5 gets an
/// empty property block.
fn subscribe(v: ProtocolVersion, filter: &str, options: u8) -> Vec<u8> {
    let mut body = vec![0, 1];
    if v == V5 {
        body.push(0);
    }
    body.extend_from_slice(&[0, filter.len() as u8]);
    body.extend_from_slice(filter.as_bytes());
    body.push(options);
    packet(0x82, &body)
}

#[test]
fn reserved_fixed_header_flags() {
    for (first, v) in [
        (0x60, V311),
        (0x80, V5),
        (0xC1, V31),
        (0x21, V5),
        (0xA0, V311),
    ] {
        let bytes = packet(first, &[0, 1]);
        let e = E::ReservedFlags {
            packet_type: first >> 4,
            flags: first & 0x0F,
        };
        check_err(v, &bytes, e, R::MalformedPacket);
    }
}

#[test]
fn reserved_packet_types() {
    check_err(
        V311,
        &[0x00, 0x00],
        E::ReservedPacketType(0),
        R::MalformedPacket,
    );
    // AUTH does not exist before 5.0.
    check_err(
        V311,
        &[0xF0, 0x00],
        E::ReservedPacketType(15),
        R::MalformedPacket,
    );
}

#[test]
fn remaining_length_varint() {
    let bytes = [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
    check_err(V5, &bytes, E::VarintTooLong, R::MalformedPacket);
    check_err(
        V5,
        &[0xC0, 0x80, 0x00],
        E::NonMinimalVarint,
        R::MalformedPacket,
    );
}

#[test]
fn huge_announced_length_fails_at_once() {
    // 200 MiB announced in four bytes; only the five header bytes are buffered.
    let mut buf = BytesMut::from(&[0x30, 0x80, 0x80, 0x80, 0x64][..]);
    let err = Decoder::with_version(1 << 20, V5)
        .decode(&mut buf)
        .unwrap_err();
    assert_eq!(
        err,
        E::PacketTooLarge {
            size: 209_715_205,
            max: 1 << 20
        }
    );
    assert_eq!(err.reason_code(), R::PacketTooLarge);
    // The server-side decoder, before CONNECT, says the same.
    let mut buf = BytesMut::from(&[0x10, 0x80, 0x80, 0x80, 0x64][..]);
    assert!(matches!(
        Decoder::new(1024).decode(&mut buf),
        Err(E::PacketTooLarge { .. })
    ));
}

#[test]
fn an_announced_packet_reserves_room_only_as_its_bytes_arrive() {
    // A PUBLISH announcing 16 MiB (within the limit) and sending nothing
    // more: the decoder waits, holding at most RESERVE_AHEAD of spare room,
    // not the 16 MiB it was promised.
    let ahead = courtier_proto::framing::RESERVE_AHEAD;
    let mut buf = BytesMut::from(&[0x30, 0x80, 0x80, 0x80, 0x08][..]);
    let mut decoder = Decoder::with_version(32 << 20, V5);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(
        buf.capacity() <= buf.len() + 2 * ahead,
        "{}",
        buf.capacity()
    );
    // The packet still decodes when its bytes do come, in pieces.
    let mut body = vec![0u8, 1, b't', 0];
    body.resize(16 << 20, 7);
    for chunk in body.chunks(1 << 20) {
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.extend_from_slice(chunk);
    }
    match decoder.decode(&mut buf) {
        Ok(Some(courtier_proto::Packet::Publish(p))) => assert_eq!(p.payload.len(), (16 << 20) - 4),
        other => panic!("expected the PUBLISH, got {other:?}"),
    }
}

#[test]
fn first_packet_must_be_connect() {
    let mut buf = BytesMut::from(&[0xC0, 0x00][..]);
    let err = Decoder::new(1024).decode(&mut buf).unwrap_err();
    assert_eq!(err, E::FirstPacketNotConnect(12));
    assert_eq!(err.reason_code(), R::ProtocolError);
}

#[test]
fn connect_rules() {
    let tail = [0, 1, b'c'];
    let unsupported = E::UnsupportedProtocol { level: 6 };
    check_err(
        V5,
        &connect("MQTT", 6, 2, &tail),
        unsupported,
        R::UnsupportedProtocolVersion,
    );
    let unsupported = E::UnsupportedProtocol { level: 4 };
    check_err(
        V5,
        &connect("MQIsdp", 4, 2, &tail),
        unsupported,
        R::UnsupportedProtocolVersion,
    );
    let e = E::ConnectReservedFlag;
    check_err(
        V311,
        &connect("MQTT", 4, 0x03, &tail),
        e,
        R::MalformedPacket,
    );
    for flags in [0x0A, 0x22] {
        let e = E::WillFlagsWithoutWill;
        check_err(
            V311,
            &connect("MQTT", 4, flags, &tail),
            e,
            R::MalformedPacket,
        );
    }
    let e = E::InvalidWillQoS;
    check_err(
        V311,
        &connect("MQTT", 4, 0x1E, &tail),
        e,
        R::MalformedPacket,
    );
    let with_password = [0, 1, b'c', 0, 1, b'p'];
    let e = E::PasswordWithoutUsername;
    check_err(
        V311,
        &connect("MQTT", 4, 0x42, &with_password),
        e.clone(),
        R::MalformedPacket,
    );
    check_err(
        V31,
        &connect("MQIsdp", 3, 0x42, &with_password),
        e,
        R::MalformedPacket,
    );
    // 5.0 allows a password alone.
    let mut v5_password = vec![0];
    v5_password.extend_from_slice(&with_password);
    assert!(decode_one(V5, &connect("MQTT", 5, 0x42, &v5_password)).is_ok());
    // A will topic is a topic name: no wildcards.
    let will = [0, 1, b'c', 0, 1, b'#', 0, 0];
    let e = E::TopicName(TopicError::WildcardInName);
    check_err(
        V311,
        &connect("MQTT", 4, 0x06, &will),
        e,
        R::MalformedPacket,
    );
    // Truncated: the client id is missing.
    check_err(
        V311,
        &connect("MQTT", 4, 0x02, &[]),
        E::UnexpectedEnd,
        R::MalformedPacket,
    );
}

#[test]
fn connack_rules() {
    check_err(
        V311,
        &[0x20, 0x02, 0x02, 0x00],
        E::ConnAckReservedFlags,
        R::MalformedPacket,
    );
    let e = E::InvalidReasonCode {
        packet: "CONNACK",
        code: 6,
    };
    check_err(V311, &[0x20, 0x02, 0x00, 0x06], e, R::ProtocolError);
    let e = E::InvalidReasonCode {
        packet: "CONNACK",
        code: 0x10,
    };
    check_err(V5, &[0x20, 0x03, 0x00, 0x10, 0x00], e, R::ProtocolError);
    let e = E::InvalidPropertyValue(0x24);
    check_err(
        V5,
        &[0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02],
        e,
        R::ProtocolError,
    );
}

#[test]
fn publish_flags() {
    check_err(
        V311,
        &packet(0x36, &[0, 1, b't', 0, 1]),
        E::InvalidQoS,
        R::MalformedPacket,
    );
    check_err(
        V311,
        &packet(0x38, &[0, 1, b't']),
        E::DupWithQoS0,
        R::MalformedPacket,
    );
}

#[test]
fn packet_ids_are_non_zero() {
    check_err(
        V311,
        &[0x40, 0x02, 0x00, 0x00],
        E::ZeroPacketId,
        R::ProtocolError,
    );
    check_err(
        V311,
        &packet(0x32, &[0, 1, b't', 0, 0]),
        E::ZeroPacketId,
        R::ProtocolError,
    );
    let bytes = packet(0x82, &[0, 0, 0, 1, b'a', 0]);
    check_err(V311, &bytes, E::ZeroPacketId, R::ProtocolError);
}

#[test]
fn topic_names() {
    let e = E::TopicName(TopicError::WildcardInName);
    check_err(
        V311,
        &packet(0x30, &[0, 3, b'a', b'/', b'+']),
        e,
        R::MalformedPacket,
    );
    let e = E::TopicName(TopicError::Empty);
    check_err(V311, &packet(0x30, &[0, 0, b'x']), e, R::MalformedPacket);
    check_err(
        V5,
        &packet(0x30, &[0, 0, 0]),
        E::EmptyTopicWithoutAlias,
        R::ProtocolError,
    );
    let bytes = publish_v5(&[0x23, 0, 0]);
    check_err(V5, &bytes, E::TopicAliasZero, R::TopicAliasInvalid);
    // A Response Topic is a topic name too.
    let e = E::TopicName(TopicError::WildcardInName);
    check_err(V5, &publish_v5(&[0x08, 0, 1, b'#']), e, R::MalformedPacket);
}

#[test]
fn strings() {
    let e = E::InvalidUtf8;
    check_err(
        V311,
        &packet(0x30, &[0, 2, 0xC3, 0x28]),
        e.clone(),
        R::MalformedPacket,
    );
    // U+D800 encoded as UTF-8: a surrogate, never well-formed.
    check_err(
        V311,
        &packet(0x30, &[0, 3, 0xED, 0xA0, 0x80]),
        e,
        R::MalformedPacket,
    );
    check_err(
        V311,
        &packet(0x30, &[0, 2, b'a', 0]),
        E::NullCharacter,
        R::MalformedPacket,
    );
    // A user property value with U+0000.
    let bytes = publish_v5(&[0x26, 0, 1, b'a', 0, 1, 0]);
    check_err(V5, &bytes, E::NullCharacter, R::MalformedPacket);
}

#[test]
fn subscribe_rules() {
    let e = E::TopicFilter(TopicError::BadWildcard);
    check_err(V311, &subscribe(V311, "a/#/b", 0), e, R::MalformedPacket);
    check_err(
        V311,
        &packet(0x82, &[0, 1]),
        E::NoSubscriptions,
        R::ProtocolError,
    );
    let e = E::SubscriptionOptionsReserved;
    check_err(
        V311,
        &subscribe(V311, "a", 0x04),
        e.clone(),
        R::MalformedPacket,
    );
    check_err(V5, &subscribe(V5, "a", 0x40), e, R::MalformedPacket);
    for v in ALL {
        check_err(
            v,
            &subscribe(v, "a", 0x03),
            E::InvalidSubscriptionQoS,
            R::ProtocolError,
        );
    }
    check_err(
        V5,
        &subscribe(V5, "a", 0x30),
        E::InvalidRetainHandling,
        R::ProtocolError,
    );
    let e = E::NoLocalOnSharedSubscription;
    check_err(V5, &subscribe(V5, "$share/g/a", 0x04), e, R::ProtocolError);
    // A second Subscription Identifier in SUBSCRIBE.
    let bytes = packet(0x82, &[0, 1, 4, 0x0B, 1, 0x0B, 2, 0, 1, b'a', 0]);
    check_err(V5, &bytes, E::DuplicateProperty(0x0B), R::ProtocolError);
    let bytes = packet(0x82, &[0, 1, 2, 0x0B, 0, 0, 1, b'a', 0]);
    check_err(V5, &bytes, E::InvalidPropertyValue(0x0B), R::ProtocolError);
}

#[test]
fn unsubscribe_rules() {
    check_err(
        V311,
        &packet(0xA2, &[0, 1]),
        E::NoUnsubscribeFilters,
        R::ProtocolError,
    );
    let e = E::TopicFilter(TopicError::BadWildcard);
    check_err(
        V311,
        &packet(0xA2, &[0, 1, 0, 2, b'a', b'+']),
        e,
        R::MalformedPacket,
    );
}

#[test]
fn remaining_length_disagrees_with_fields() {
    check_err(
        V311,
        &[0x40, 0x01, 0x00],
        E::UnexpectedEnd,
        R::MalformedPacket,
    );
    check_err(
        V311,
        &[0x40, 0x03, 0x00, 0x01, 0x00],
        E::TrailingBytes { extra: 1 },
        R::MalformedPacket,
    );
    check_err(
        V5,
        &[0xC0, 0x01, 0x00],
        E::TrailingBytes { extra: 1 },
        R::MalformedPacket,
    );
    let e = E::TrailingBytes { extra: 1 };
    check_err(
        V311,
        &[0xB0, 0x03, 0x00, 0x01, 0x00],
        e.clone(),
        R::MalformedPacket,
    );
    check_err(V311, &[0xE0, 0x01, 0x00], e, R::MalformedPacket);
    // A property block longer than the packet.
    check_err(
        V5,
        &packet(0x30, &[0, 1, b't', 9, 0x02]),
        E::UnexpectedEnd,
        R::MalformedPacket,
    );
}

#[test]
fn properties() {
    check_err(
        V5,
        &publish_v5(&[0x05, 0]),
        E::UnknownProperty(5),
        R::MalformedPacket,
    );
    let e = E::PropertyNotAllowed {
        id: 0x11,
        packet: "PUBLISH",
    };
    check_err(V5, &publish_v5(&[0x11, 0, 0, 0, 1]), e, R::MalformedPacket);
    let bytes = publish_v5(&[0x03, 0, 1, b'a', 0x03, 0, 1, b'b']);
    check_err(V5, &bytes, E::DuplicateProperty(0x03), R::ProtocolError);
    let e = E::InvalidPropertyValue(0x01);
    check_err(V5, &publish_v5(&[0x01, 2]), e, R::ProtocolError);
    // CONNECT: zero Receive Maximum and Maximum Packet Size, a bad flag byte.
    for (props, id) in [
        (&[0x21, 0, 0][..], 0x21),
        (&[0x27, 0, 0, 0, 0], 0x27),
        (&[0x17, 2], 0x17),
    ] {
        let mut rest = vec![props.len() as u8];
        rest.extend_from_slice(props);
        rest.extend_from_slice(&[0, 1, b'c']);
        let e = E::InvalidPropertyValue(id);
        check_err(V5, &connect("MQTT", 5, 2, &rest), e, R::ProtocolError);
    }
    let bytes = [0xF0, 0x06, 0x18, 0x04, 0x16, 0x00, 0x01, 0xFF];
    check_err(V5, &bytes, E::AuthDataWithoutMethod, R::ProtocolError);
}

#[test]
fn reason_codes_per_packet() {
    let cases: &[(&[u8], &str, u8)] = &[
        (&[0x40, 0x03, 0x00, 0x01, 0x92], "PUBACK", 0x92),
        (&[0x62, 0x03, 0x00, 0x01, 0x10], "PUBREL", 0x10),
        (&[0x90, 0x04, 0x00, 0x01, 0x00, 0x04], "SUBACK", 0x04),
        (&[0xB0, 0x04, 0x00, 0x01, 0x00, 0x01], "UNSUBACK", 0x01),
        (&[0xE0, 0x01, 0x05], "DISCONNECT", 0x05),
        (&[0xF0, 0x01, 0x80], "AUTH", 0x80),
    ];
    for &(bytes, packet, code) in cases {
        let e = E::InvalidReasonCode { packet, code };
        check_err(V5, bytes, e, R::ProtocolError);
    }
    let e = E::InvalidReasonCode {
        packet: "SUBACK",
        code: 0x03,
    };
    check_err(V311, &[0x90, 0x03, 0x00, 0x01, 0x03], e, R::ProtocolError);
}
