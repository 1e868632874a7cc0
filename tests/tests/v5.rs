//! MQTT 5 features: No Local, subscription identifiers, topic aliases both
//! ways, message expiry, maximum packet size both ways, property pass-through,
//! reason strings and shared subscriptions.

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use bytes::Bytes;
use courtier_e2e::{RawClient, connect_packet, publish, publish_msg, start_broker};
use courtier_proto::packet::{Disconnect, PayloadFormat, SubscriptionOptions, UserProperty};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode, TopicName};

const V5: ProtocolVersion = ProtocolVersion::V5;
const QUIET: Duration = Duration::from_millis(300);

fn disconnect_reason(seen: &[Packet]) -> Option<&Disconnect> {
    seen.iter().find_map(|p| match p {
        Packet::Disconnect(d) => Some(d),
        _ => None,
    })
}

#[tokio::test]
async fn no_local_suppresses_own_messages() {
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "self")).await;
    let opts = SubscriptionOptions {
        no_local: true,
        ..Default::default()
    };
    c.subscribe_with("nl", opts, None).await;
    c.send(&publish("nl", b"mine", QoS::AtMostOnce, 0)).await;
    c.expect_silence(QUIET).await;
    let (mut other, _) = RawClient::connect(b.addr, connect_packet(V5, "other")).await;
    other
        .send(&publish("nl", b"theirs", QoS::AtMostOnce, 0))
        .await;
    assert_eq!(&c.recv_publish().await.payload[..], b"theirs");
}

#[tokio::test]
async fn subscription_identifiers_are_carried() {
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "ids")).await;
    c.subscribe_with("id/+", SubscriptionOptions::default(), Some(7))
        .await;
    c.subscribe_with("id/#", SubscriptionOptions::default(), Some(9))
        .await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    p.send(&publish("id/x", b"x", QoS::AtMostOnce, 0)).await;
    let m = c.recv_publish().await;
    let mut ids: Vec<u32> = m
        .properties
        .subscription_identifiers
        .iter()
        .map(|i| i.get())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![7, 9]);
}

#[tokio::test]
async fn topic_aliases_from_the_client_are_resolved() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
    s.subscribe("alias/t", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut first = publish_msg("alias/t", b"1", QoS::AtMostOnce, 0);
    first.properties.topic_alias = NonZeroU16::new(1);
    p.send(&Packet::Publish(first)).await;
    let mut second = publish_msg("alias/t", b"2", QoS::AtMostOnce, 0);
    second.topic = TopicName::alias_only();
    second.properties.topic_alias = NonZeroU16::new(1);
    p.send(&Packet::Publish(second)).await;
    for expected in [b"1", b"2"] {
        let m = s.recv_publish().await;
        assert_eq!(m.topic.as_str(), "alias/t");
        assert_eq!(&m.payload[..], expected);
    }
}

#[tokio::test]
async fn topic_alias_above_the_maximum_is_refused() {
    let b = start_broker(&["--topic-alias-maximum", "2"]);
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut m = publish_msg("alias/t", b"1", QoS::AtMostOnce, 0);
    m.properties.topic_alias = NonZeroU16::new(3);
    p.send(&Packet::Publish(m)).await;
    let seen = p.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::TopicAliasInvalid)
    );
}

#[tokio::test]
async fn topic_aliases_are_used_towards_clients_that_allow_them() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(V5, "s");
    connect.properties.topic_alias_maximum = Some(4);
    let (mut s, _) = RawClient::connect(b.addr, connect).await;
    s.subscribe("to/client", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    p.send(&publish("to/client", b"1", QoS::AtMostOnce, 0))
        .await;
    p.send(&publish("to/client", b"2", QoS::AtMostOnce, 0))
        .await;
    let first = s.recv_publish().await;
    assert_eq!(first.topic.as_str(), "to/client");
    let alias = first
        .properties
        .topic_alias
        .expect("alias set on first use");
    let second = s.recv_publish().await;
    assert!(
        second.topic.is_empty(),
        "second delivery names the topic by alias only"
    );
    assert_eq!(second.properties.topic_alias, Some(alias));
}

#[tokio::test]
async fn message_expiry_is_decremented_and_expired_messages_are_dropped() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(V5, "sleeper");
    connect.clean_start = false;
    connect.properties.session_expiry_interval = Some(60);
    let (mut s, _) = RawClient::connect(b.addr, connect.clone()).await;
    s.subscribe("exp", QoS::AtLeastOnce).await;
    s.send(&Packet::Disconnect(Disconnect::default())).await;
    s.expect_closed().await;

    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut short = publish_msg("exp", b"short", QoS::AtLeastOnce, 1);
    short.properties.message_expiry_interval = Some(1);
    p.send(&Packet::Publish(short)).await;
    p.recv().await;
    let mut long = publish_msg("exp", b"long", QoS::AtLeastOnce, 2);
    long.properties.message_expiry_interval = Some(100);
    p.send(&Packet::Publish(long)).await;
    p.recv().await;
    // Let the short one's expiry pass while the subscriber is away.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (mut s, _) = RawClient::connect(b.addr, connect).await;
    let m = s.recv_publish().await;
    assert_eq!(&m.payload[..], b"long");
    let left = m
        .properties
        .message_expiry_interval
        .expect("expiry forwarded");
    // 1.5 s passed, plus however long the reconnect took on a busy machine.
    assert!((90..100).contains(&left), "expiry decremented, got {left}");
}

#[tokio::test]
async fn packets_above_our_maximum_size_are_refused() {
    let b = start_broker(&["--max-packet-size", "128"]);
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "big")).await;
    static BIG: [u8; 200] = [7; 200];
    p.send(&publish("big", &BIG, QoS::AtMostOnce, 0)).await;
    let seen = p.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::PacketTooLarge)
    );
}

#[tokio::test]
async fn messages_above_the_clients_maximum_size_are_not_sent_to_it() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(V5, "small");
    connect.properties.maximum_packet_size = NonZeroU32::new(64);
    let (mut s, _) = RawClient::connect(b.addr, connect).await;
    s.subscribe("size", QoS::AtLeastOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    static BIG: [u8; 100] = [1; 100];
    p.send(&publish("size", &BIG, QoS::AtLeastOnce, 1)).await;
    p.send(&publish("size", b"small", QoS::AtLeastOnce, 2))
        .await;
    assert_eq!(&s.recv_publish().await.payload[..], b"small");
}

#[tokio::test]
async fn publish_properties_are_passed_through() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
    s.subscribe("props", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut m = publish_msg("props", b"{}", QoS::AtMostOnce, 0);
    m.properties.payload_format_indicator = Some(PayloadFormat::Utf8);
    m.properties.content_type = Some("application/json".into());
    m.properties.response_topic = Some(TopicName::new("reply/here").expect("topic"));
    m.properties.correlation_data = Some(Bytes::from_static(b"corr"));
    m.properties.user_properties = vec![
        UserProperty {
            name: "k".into(),
            value: "v1".into(),
        },
        UserProperty {
            name: "k".into(),
            value: "v2".into(),
        },
    ];
    let sent = m.properties.clone();
    p.send(&Packet::Publish(m)).await;
    let got = s.recv_publish().await.properties;
    assert_eq!(got.payload_format_indicator, sent.payload_format_indicator);
    assert_eq!(got.content_type, sent.content_type);
    assert_eq!(got.response_topic, sent.response_topic);
    assert_eq!(got.correlation_data, sent.correlation_data);
    assert_eq!(got.user_properties, sent.user_properties);
}

#[tokio::test]
async fn reason_strings_only_when_problem_information_is_requested() {
    let b = start_broker(&[]);
    let (mut asked, _) = RawClient::connect(b.addr, connect_packet(V5, "asked")).await;
    asked.send(&Packet::PingResp).await;
    let seen = asked.expect_closed().await;
    let d = disconnect_reason(&seen).expect("DISCONNECT");
    assert_eq!(d.reason, ReasonCode::ProtocolError);
    assert!(d.properties.reason_string.is_some());

    let mut connect = connect_packet(V5, "quiet");
    connect.properties.request_problem_information = Some(false);
    let (mut quiet, _) = RawClient::connect(b.addr, connect).await;
    quiet.send(&Packet::PingResp).await;
    let seen = quiet.expect_closed().await;
    let d = disconnect_reason(&seen).expect("DISCONNECT");
    assert_eq!(d.properties.reason_string, None);
}

#[tokio::test]
async fn shared_subscription_delivers_each_message_to_one_member() {
    let b = start_broker(&[]);
    let (mut a, _) = RawClient::connect(b.addr, connect_packet(V5, "a")).await;
    a.subscribe("$share/workers/jobs", QoS::AtMostOnce).await;
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "c")).await;
    c.subscribe("$share/workers/jobs", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    for _ in 0..4 {
        p.send(&publish("jobs", b"j", QoS::AtMostOnce, 0)).await;
    }
    let mut got = 0;
    for client in [&mut a, &mut c] {
        while let Ok(Some(_)) = client.next_within(QUIET).await {
            got += 1;
        }
    }
    assert_eq!(got, 4, "every message to exactly one member");
}

#[tokio::test]
async fn no_local_on_a_shared_subscription_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "c")).await;
    // The codec refuses to encode this, so send the bytes by hand:
    // SUBSCRIBE id 1, no properties, "$share/g/x", options 0x04 (No Local).
    let mut bytes = vec![0x82, 0, 0, 1, 0, 0, 10];
    bytes.extend_from_slice(b"$share/g/x");
    bytes.push(0x04);
    bytes[1] = u8::try_from(bytes.len() - 2).expect("small");
    c.send_bytes(&bytes).await;
    let seen = c.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::ProtocolError)
    );
}

#[tokio::test]
async fn an_alias_used_before_it_was_set_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut m = publish_msg("unused", b"1", QoS::AtMostOnce, 0);
    m.topic = TopicName::alias_only();
    m.properties.topic_alias = NonZeroU16::new(1);
    p.send(&Packet::Publish(m)).await;
    let seen = p.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::ProtocolError)
    );
}

#[tokio::test]
async fn pubrel_for_an_unknown_id_gets_pubcomp_packet_identifier_not_found() {
    use courtier_proto::packet::{Ack, AckKind};
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "c")).await;
    c.send(&Packet::Ack(Ack::new(
        AckKind::PubRel,
        courtier_e2e::pid(42),
    )))
    .await;
    match c.recv().await {
        Packet::Ack(a) => {
            assert_eq!(a.kind, AckKind::PubComp);
            assert_eq!(a.reason, ReasonCode::PacketIdentifierNotFound);
        }
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
}

#[tokio::test]
async fn unsubscribe_reports_each_filter_and_stops_delivery() {
    use courtier_proto::TopicFilter;
    use courtier_proto::packet::Unsubscribe;
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "c")).await;
    c.subscribe("u/1", QoS::AtMostOnce).await;
    c.send(&Packet::Unsubscribe(Unsubscribe {
        packet_id: courtier_e2e::pid(2),
        filters: vec![
            TopicFilter::new("u/1").expect("filter"),
            TopicFilter::new("u/never").expect("filter"),
        ],
        user_properties: Vec::new(),
    }))
    .await;
    match c.recv().await {
        Packet::UnsubAck(u) => {
            assert_eq!(
                u.reason_codes,
                vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
            );
        }
        other => panic!("expected UNSUBACK, got {other:?}"),
    }
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    p.send(&publish("u/1", b"x", QoS::AtMostOnce, 0)).await;
    c.expect_silence(QUIET).await;
}

#[tokio::test]
async fn auth_packet_without_an_agreed_method_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "c")).await;
    let auth = courtier_proto::packet::Auth {
        reason: ReasonCode::ReAuthenticate,
        properties: courtier_proto::packet::AuthProperties {
            authentication_method: Some("PLAIN".into()),
            ..Default::default()
        },
    };
    c.send(&Packet::Auth(auth)).await;
    let seen = c.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::ProtocolError)
    );
}

#[tokio::test]
async fn expired_retained_messages_are_not_delivered() {
    let b = start_broker(&[]);
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut m = publish_msg("ret/exp", b"stale", QoS::AtLeastOnce, 1);
    m.retain = true;
    m.properties.message_expiry_interval = Some(1);
    p.send(&Packet::Publish(m)).await;
    p.recv().await;
    // The behaviour under test is the passing of time itself.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
    s.subscribe("ret/exp", QoS::AtLeastOnce).await;
    s.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_subscription_identifier_from_a_client_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "p")).await;
    let mut m = publish_msg("sid", b"1", QoS::AtMostOnce, 0);
    m.properties.subscription_identifiers = vec![NonZeroU32::new(5).expect("non-zero")];
    p.send(&Packet::Publish(m)).await;
    let seen = p.expect_closed().await;
    assert_eq!(
        disconnect_reason(&seen).map(|d| d.reason),
        Some(ReasonCode::ProtocolError)
    );
}
