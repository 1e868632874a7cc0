//! Byte-literal vectors: every packet kind in every version, including the
//! examples the specifications give.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::{Bytes, BytesMut};
use courtier_proto::packet::*;
use courtier_proto::wire::parse_varint;
use courtier_proto::{Decoder, ReasonCode};

use super::*;

fn connect(protocol: ProtocolVersion, client_id: &'static str) -> Connect {
    Connect {
        protocol,
        clean_start: true,
        keep_alive: 10,
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
        properties: ConnectProperties::default(),
    }
}

#[test]
fn varint_examples_of_section_1_5_5() {
    let cases: &[(&[u8], u32)] = &[
        (&[0x00], 0),
        (&[0x7F], 127),
        (&[0x80, 0x01], 128),
        (&[0xFF, 0x7F], 16_383),
        (&[0x80, 0x80, 0x01], 16_384),
        (&[0xFF, 0xFF, 0x7F], 2_097_151),
        (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
        (&[0xFF, 0xFF, 0xFF, 0x7F], 268_435_455),
    ];
    for &(bytes, value) in cases {
        assert_eq!(parse_varint(bytes), Ok(Some((value, bytes.len()))));
        assert_eq!(courtier_proto::wire::varint_len(value), bytes.len());
    }
}

#[test]
fn connect_example_of_3_1_1_section_3_1_2_10() {
    // Flags 0xCE: user name, password, will QoS 1, will flag, clean session; keep alive 10.
    let mut c = connect(V311, "cid");
    c.will = Some(LastWill {
        topic: topic("w"),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties::default(),
    });
    c.username = Some("u".into());
    c.password = Some(Bytes::from_static(b"p"));
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x1D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xCE, 0x00, 0x0A,
        0x00, 0x03, b'c', b'i', b'd', 0x00, 0x01, b'w', 0x00, 0x03, b'b', b'y', b'e',
        0x00, 0x01, b'u', 0x00, 0x01, b'p',
    ];
    check(V311, &bytes, Packet::Connect(Box::new(c)));
}

#[test]
fn connect_example_of_5_0_section_3_1_2_11() {
    // Flags 0xC2, keep alive 10, Session Expiry Interval 10.
    let mut c = connect(V5, "cid");
    c.username = Some("u".into());
    c.password = Some(Bytes::from_static(b"p"));
    c.properties.session_expiry_interval = Some(10);
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x1B, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0xC2, 0x00, 0x0A,
        0x05, 0x11, 0x00, 0x00, 0x00, 0x0A,
        0x00, 0x03, b'c', b'i', b'd', 0x00, 0x01, b'u', 0x00, 0x01, b'p',
    ];
    check(V5, &bytes, Packet::Connect(Box::new(c)));
}

#[test]
fn connect_3_1_mqisdp() {
    let mut c = connect(V31, "cid");
    c.keep_alive = 60;
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x11, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C,
        0x00, 0x03, b'c', b'i', b'd',
    ];
    check(V31, &bytes, Packet::Connect(Box::new(c)));
}

#[test]
fn connect_v5_with_will_properties() {
    let mut c = connect(V5, "");
    c.properties.receive_maximum = NonZeroU16::new(10);
    c.properties.user_properties = vec![user("a", "b")];
    c.will = Some(LastWill {
        topic: topic("t"),
        payload: Bytes::from_static(b"hi"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: WillProperties {
            will_delay_interval: Some(5),
            payload_format_indicator: Some(PayloadFormat::Utf8),
            ..Default::default()
        },
    });
    #[rustfmt::skip]
    let bytes = [
        0x10, 0x26, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x2E, 0x00, 0x0A,
        0x0A, 0x21, 0x00, 0x0A, 0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b',
        0x00, 0x00,
        0x07, 0x18, 0x00, 0x00, 0x00, 0x05, 0x01, 0x01,
        0x00, 0x01, b't', 0x00, 0x02, b'h', b'i',
    ];
    check(V5, &bytes, Packet::Connect(Box::new(c)));
}

#[test]
fn server_decoder_learns_the_version_from_connect() {
    let mut d = Decoder::new(1024);
    let mut buf = BytesMut::new();
    Packet::Connect(Box::new(connect(V5, "c")))
        .encode(V5, &mut buf)
        .expect("encodes");
    // A v5 PUBLISH with an empty property block follows in the same buffer.
    buf.extend_from_slice(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x']);
    assert!(matches!(d.decode(&mut buf), Ok(Some(Packet::Connect(_)))));
    assert_eq!(d.version(), Some(V5));
    let Ok(Some(Packet::Publish(p))) = d.decode(&mut buf) else {
        panic!("a PUBLISH")
    };
    assert_eq!(&p.payload[..], b"x");
    assert_eq!(d.decode(&mut buf), Ok(None));
}

fn connack(session_present: bool, reason: ReasonCode) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present,
        reason,
        properties: Default::default(),
    })
}

#[test]
fn connack_every_version() {
    check(
        V311,
        &[0x20, 0x02, 0x01, 0x00],
        connack(true, ReasonCode::Success),
    );
    check(
        V311,
        &[0x20, 0x02, 0x00, 0x05],
        connack(false, ReasonCode::NotAuthorized),
    );
    check(
        V31,
        &[0x20, 0x02, 0x00, 0x02],
        connack(false, ReasonCode::ClientIdentifierNotValid),
    );
    check(
        V5,
        &[0x20, 0x03, 0x00, 0x87, 0x00],
        connack(false, ReasonCode::NotAuthorized),
    );
    let properties = ConnAckProperties {
        maximum_qos: Some(QoS::AtMostOnce),
        assigned_client_identifier: Some("abc".into()),
        topic_alias_maximum: Some(10),
        ..Default::default()
    };
    #[rustfmt::skip]
    let bytes = [
        0x20, 0x0E, 0x01, 0x00, 0x0B,
        0x24, 0x00, 0x12, 0x00, 0x03, b'a', b'b', b'c', 0x22, 0x00, 0x0A,
    ];
    let p = ConnAck {
        session_present: true,
        reason: ReasonCode::Success,
        properties,
    };
    check(V5, &bytes, Packet::ConnAck(p));
}

fn publish(qos_pid: QosPid, t: TopicName, payload: &'static [u8]) -> Publish {
    Publish {
        dup: false,
        qos_pid,
        retain: false,
        topic: t,
        properties: PublishProperties::default(),
        payload: Bytes::from_static(payload),
    }
}

#[test]
fn publish_3_x() {
    let bytes = [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i'];
    for v in [V31, V311] {
        check(
            v,
            &bytes,
            Packet::Publish(publish(QosPid::AtMostOnce, topic("a/b"), b"hi")),
        );
    }
    let mut p = publish(QosPid::AtLeastOnce(pid(10)), topic("a/b"), b"hi");
    p.dup = true;
    p.retain = true;
    let bytes = [
        0x3B, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
    ];
    check(V311, &bytes, Packet::Publish(p));
    let bytes = [0x34, 0x06, 0x00, 0x01, b't', 0x00, 0x01, b'x'];
    check(
        V31,
        &bytes,
        Packet::Publish(publish(QosPid::ExactlyOnce(pid(1)), topic("t"), b"x")),
    );
}

#[test]
fn publish_v5() {
    let bytes = [0x30, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, b'h', b'i'];
    check(
        V5,
        &bytes,
        Packet::Publish(publish(QosPid::AtMostOnce, topic("a/b"), b"hi")),
    );
    // An alias-only PUBLISH: empty topic, Topic Alias 5.
    let mut p = publish(QosPid::AtMostOnce, TopicName::alias_only(), b"x");
    p.properties.topic_alias = NonZeroU16::new(5);
    check(
        V5,
        &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05, b'x'],
        Packet::Publish(p),
    );
    let mut p = publish(QosPid::AtLeastOnce(pid(1)), topic("a/b"), b"hi");
    p.properties.message_expiry_interval = Some(60);
    p.properties.subscription_identifiers = vec![NonZeroU32::MIN, NonZeroU32::new(128).unwrap()];
    p.properties.content_type = Some("t".into());
    #[rustfmt::skip]
    let bytes = [
        0x32, 0x18, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x01,
        0x0E, 0x02, 0x00, 0x00, 0x00, 0x3C, 0x0B, 0x01, 0x0B, 0x80, 0x01, 0x03, 0x00, 0x01, b't',
        b'h', b'i',
    ];
    check(V5, &bytes, Packet::Publish(p));
}

#[test]
fn acks_short_form_every_version() {
    let kinds = [
        (AckKind::PubAck, 0x40),
        (AckKind::PubRec, 0x50),
        (AckKind::PubRel, 0x62),
        (AckKind::PubComp, 0x70),
    ];
    for v in ALL {
        for (kind, first) in kinds {
            check(
                v,
                &[first, 0x02, 0x00, 0x01],
                Packet::Ack(Ack::new(kind, pid(1))),
            );
        }
    }
}

#[test]
fn acks_v5_reason_and_properties() {
    let mut a = Ack::new(AckKind::PubAck, pid(1));
    a.reason = ReasonCode::NoMatchingSubscribers;
    check(V5, &[0x40, 0x03, 0x00, 0x01, 0x10], Packet::Ack(a));
    let mut a = Ack::new(AckKind::PubRec, pid(1));
    a.reason = ReasonCode::UnspecifiedError;
    a.reason_string = Some("no".into());
    let bytes = [
        0x50, 0x09, 0x00, 0x01, 0x80, 0x05, 0x1F, 0x00, 0x02, b'n', b'o',
    ];
    check(V5, &bytes, Packet::Ack(a));
    let mut a = Ack::new(AckKind::PubRel, pid(7));
    a.reason = ReasonCode::PacketIdentifierNotFound;
    check(V5, &[0x62, 0x03, 0x00, 0x07, 0x92], Packet::Ack(a));
    // Long forms of Success decode too (the encoder picks the short one).
    let ack = Packet::Ack(Ack::new(AckKind::PubComp, pid(1)));
    assert_eq!(
        decode_one(V5, &[0x70, 0x03, 0x00, 0x01, 0x00]),
        Ok(ack.clone())
    );
    assert_eq!(
        decode_one(V5, &[0x70, 0x04, 0x00, 0x01, 0x00, 0x00]),
        Ok(ack)
    );
}

#[test]
fn subscribe_every_version() {
    let subs = vec![
        Subscription {
            filter: filter("a/+"),
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                ..Default::default()
            },
        },
        Subscription {
            filter: filter("#"),
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                ..Default::default()
            },
        },
    ];
    let s = Subscribe {
        packet_id: pid(10),
        subscriptions: subs,
        properties: Default::default(),
    };
    #[rustfmt::skip]
    let bytes = [
        0x82, 0x0C, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'+', 0x01, 0x00, 0x01, b'#', 0x02,
    ];
    check(V311, &bytes, Packet::Subscribe(s.clone()));
    check(V31, &bytes, Packet::Subscribe(s));
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    let s = Subscribe {
        packet_id: pid(10),
        subscriptions: vec![Subscription {
            filter: filter("a/+"),
            options,
        }],
        properties: SubscribeProperties {
            subscription_identifier: NonZeroU32::new(10),
            user_properties: vec![],
        },
    };
    #[rustfmt::skip]
    let bytes = [
        0x82, 0x0B, 0x00, 0x0A, 0x02, 0x0B, 0x0A, 0x00, 0x03, b'a', b'/', b'+', 0x2D,
    ];
    check(V5, &bytes, Packet::Subscribe(s));
}

#[test]
fn suback_every_version() {
    let codes = vec![
        ReasonCode::Success,
        ReasonCode::GrantedQoS2,
        ReasonCode::UnspecifiedError,
    ];
    let s = SubAck {
        packet_id: pid(10),
        reason_codes: codes,
        reason_string: None,
        user_properties: vec![],
    };
    for v in [V31, V311] {
        check(
            v,
            &[0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x80],
            Packet::SubAck(s.clone()),
        );
    }
    // Any failure is 0x80 in 3.x.
    let mut refused = s.clone();
    refused.reason_codes[2] = ReasonCode::NotAuthorized;
    let mut out = BytesMut::new();
    Packet::SubAck(refused)
        .encode(V311, &mut out)
        .expect("encodes");
    assert_eq!(&out[..], [0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x80]);
    let mut s = s;
    s.reason_codes = vec![
        ReasonCode::Success,
        ReasonCode::GrantedQoS1,
        ReasonCode::TopicFilterInvalid,
    ];
    check(
        V5,
        &[0x90, 0x06, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x8F],
        Packet::SubAck(s),
    );
}

#[test]
fn unsubscribe_and_unsuback_every_version() {
    let u = Unsubscribe {
        packet_id: pid(11),
        filters: vec![filter("a/b")],
        user_properties: vec![],
    };
    for v in [V31, V311] {
        check(
            v,
            &[0xA2, 0x07, 0x00, 0x0B, 0x00, 0x03, b'a', b'/', b'b'],
            Packet::Unsubscribe(u.clone()),
        );
        let ack = UnsubAck {
            packet_id: pid(11),
            reason_codes: vec![],
            reason_string: None,
            user_properties: vec![],
        };
        check(v, &[0xB0, 0x02, 0x00, 0x0B], Packet::UnsubAck(ack));
    }
    check(
        V5,
        &[0xA2, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x03, b'a', b'/', b'b'],
        Packet::Unsubscribe(u),
    );
    let ack = UnsubAck {
        packet_id: pid(11),
        reason_codes: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
        reason_string: None,
        user_properties: vec![],
    };
    check(
        V5,
        &[0xB0, 0x05, 0x00, 0x0B, 0x00, 0x00, 0x11],
        Packet::UnsubAck(ack),
    );
}

#[test]
fn ping_and_disconnect_every_version() {
    for v in ALL {
        check(v, &[0xC0, 0x00], Packet::PingReq);
        check(v, &[0xD0, 0x00], Packet::PingResp);
        check(v, &[0xE0, 0x00], Packet::Disconnect(Disconnect::default()));
    }
    let d = Disconnect {
        reason: ReasonCode::DisconnectWithWillMessage,
        properties: Default::default(),
    };
    check(V5, &[0xE0, 0x01, 0x04], Packet::Disconnect(d));
    let mut d = Disconnect {
        reason: ReasonCode::ServerShuttingDown,
        properties: Default::default(),
    };
    d.properties.reason_string = Some("x".into());
    check(
        V5,
        &[0xE0, 0x06, 0x8B, 0x04, 0x1F, 0x00, 0x01, b'x'],
        Packet::Disconnect(d),
    );
}

#[test]
fn auth_v5() {
    check(V5, &[0xF0, 0x00], Packet::Auth(Auth::default()));
    let a = Auth {
        reason: ReasonCode::ContinueAuthentication,
        properties: AuthProperties {
            authentication_method: Some("abc".into()),
            authentication_data: Some(Bytes::from_static(&[0xFF])),
            ..Default::default()
        },
    };
    #[rustfmt::skip]
    let bytes = [
        0xF0, 0x0C, 0x18, 0x0A, 0x15, 0x00, 0x03, b'a', b'b', b'c', 0x16, 0x00, 0x01, 0xFF,
    ];
    check(V5, &bytes, Packet::Auth(a));
}

#[test]
fn publish_payload_is_a_slice_of_the_read_buffer_not_a_copy() {
    for version in ALL {
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0x30, 9, 0, 3, b'a', b'/', b'b']);
        if version.is_v5() {
            buf[1] += 1;
            buf.extend_from_slice(&[0]); // empty property block
        }
        buf.extend_from_slice(b"21.5");
        let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
        let Ok(Some(Packet::Publish(p))) = Decoder::with_version(1024, version).decode(&mut buf)
        else {
            panic!("{version:?}: expected a PUBLISH");
        };
        assert_eq!(&p.payload[..], b"21.5");
        let at = p.payload.as_ptr() as usize;
        assert!(
            range.contains(&at),
            "{version:?}: payload copied out of the buffer"
        );
    }
}
