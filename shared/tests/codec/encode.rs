//! Encoder rules: fitting the peer's Maximum Packet Size, and packets that
//! cannot be encoded at all.

use bytes::{Bytes, BytesMut};
use courtier_proto::EncodeError;
use courtier_proto::packet::*;

use super::*;

fn rejected_puback() -> Packet {
    let mut a = Ack::new(AckKind::PubAck, pid(1));
    a.reason = ReasonCode::NotAuthorized;
    a.reason_string = Some("a long explanation of why".into());
    a.user_properties = vec![user("k", "v")];
    Packet::Ack(a)
}

#[test]
fn encode_within_drops_reason_string_and_user_properties_first() {
    let p = rejected_puback();
    let full = p.encoded_len(V5);
    let mut buf = BytesMut::new();
    p.encode_within(V5, full as u32, &mut buf)
        .expect("fits as is");
    assert_eq!(buf.len(), full);
    buf.clear();
    p.encode_within(V5, 10, &mut buf)
        .expect("fits without properties");
    assert_eq!(&buf[..], [0x40, 0x03, 0x00, 0x01, 0x87]);
    let err = p.encode_within(V5, 4, &mut BytesMut::new()).unwrap_err();
    assert_eq!(err, EncodeError::TooLarge { size: full, max: 4 });
}

#[test]
fn encode_within_never_alters_a_publish() {
    let p = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtMostOnce,
        retain: false,
        topic: topic("t"),
        properties: PublishProperties {
            user_properties: vec![user("k", "v")],
            ..Default::default()
        },
        payload: Bytes::from_static(b"payload"),
    });
    let size = p.encoded_len(V5);
    let err = p
        .encode_within(V5, size as u32 - 1, &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(
        err,
        EncodeError::TooLarge {
            size,
            max: size as u32 - 1
        }
    );
}

#[test]
fn unencodable_packets() {
    let mut buf = BytesMut::new();
    let auth = Packet::Auth(Auth::default());
    let err = auth.encode(V311, &mut buf).unwrap_err();
    assert_eq!(
        err,
        EncodeError::NotInVersion {
            packet: "AUTH",
            version: V311
        }
    );
    let empty = Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        subscriptions: vec![],
        properties: Default::default(),
    });
    assert!(matches!(
        empty.encode(V5, &mut buf),
        Err(EncodeError::Invalid(_))
    ));
    let mut c = ConnAck {
        session_present: false,
        reason: ReasonCode::Success,
        properties: Default::default(),
    };
    c.properties.reason_string = Some("x".repeat(70_000).into());
    let err = Packet::ConnAck(c).encode(V5, &mut buf).unwrap_err();
    assert_eq!(err, EncodeError::FieldTooLong { len: 70_000 });
    // An alias-only topic does not exist in 3.1.1.
    let p = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::AtMostOnce,
        retain: false,
        topic: TopicName::alias_only(),
        properties: Default::default(),
        payload: Bytes::new(),
    });
    assert!(matches!(
        p.encode(V311, &mut buf),
        Err(EncodeError::Invalid(_))
    ));
    assert!(buf.is_empty(), "nothing written on failure");
}
