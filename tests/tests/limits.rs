//! Limits and isolation: the connection limits (broker-wide, per listener,
//! per address and second), subscriptions per client, topic length and
//! depth, each refused with its reason code while other clients carry on;
//! and a slow subscriber that never blocks a publisher or other subscribers.

use courtier_e2e::transport::{AnyClient, Transport};
use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::AckKind;
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn suback(p: Packet) -> Vec<ReasonCode> {
    match p {
        Packet::SubAck(s) => s.reason_codes,
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

#[tokio::test]
async fn subscriptions_past_the_quota_get_0x97_and_held_ones_can_be_renewed() {
    let b = start_broker(&["--max-subscriptions", "2"]);
    for (version, refused) in [
        (V5, ReasonCode::QuotaExceeded),
        (V4, ReasonCode::UnspecifiedError),
    ] {
        let (mut c, _) = RawClient::connect(b.addr, connect_packet(version, "many")).await;
        assert_eq!(
            suback(c.subscribe("a", QoS::AtLeastOnce).await),
            [ReasonCode::GrantedQoS1]
        );
        assert_eq!(
            suback(c.subscribe("b", QoS::AtLeastOnce).await),
            [ReasonCode::GrantedQoS1]
        );
        assert_eq!(suback(c.subscribe("c", QoS::AtLeastOnce).await), [refused]);
        // Renewing a held filter is not a new subscription.
        assert_eq!(
            suback(c.subscribe("a", QoS::AtMostOnce).await),
            [ReasonCode::Success]
        );
        // Another client has its own quota.
        let (mut other, _) = RawClient::connect(b.addr, connect_packet(version, "other")).await;
        assert_eq!(
            suback(other.subscribe("c", QoS::AtMostOnce).await),
            [ReasonCode::Success]
        );
        // The refused filter really is not subscribed: "c" reaches only `other`.
        other.send(&publish("c", b"1", QoS::AtMostOnce, 0)).await;
        other.recv_publish().await;
        c.send(&publish("a", b"2", QoS::AtMostOnce, 0)).await;
        assert_eq!(
            c.recv_publish().await.topic.as_str(),
            "a",
            "nothing on c came first"
        );
    }
}

#[tokio::test]
async fn topics_too_long_or_too_deep_are_refused_with_0x90_and_0x8f() {
    let b = start_broker(&["--max-topic-length", "16", "--max-topic-levels", "3"]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "shape")).await;
    assert_eq!(
        suback(c.subscribe("a/b/#", QoS::AtLeastOnce).await),
        [ReasonCode::GrantedQoS1]
    );
    assert_eq!(
        suback(c.subscribe("a/b/c/#", QoS::AtLeastOnce).await),
        [ReasonCode::TopicFilterInvalid]
    );
    assert_eq!(
        suback(c.subscribe("$share/g/a/+/c/d", QoS::AtLeastOnce).await),
        [ReasonCode::TopicFilterInvalid],
        "a shared subscription is judged on its inner filter"
    );
    for (id, topic, expect) in [
        (1, "a/b/c/d", ReasonCode::TopicNameInvalid),
        (2, "a/0123456789abcdef", ReasonCode::TopicNameInvalid),
        (3, "a/b/c", ReasonCode::Success),
    ] {
        c.send(&publish(topic, b"21.5", QoS::AtLeastOnce, id)).await;
        match c.recv().await {
            Packet::Ack(a) if a.kind == AckKind::PubAck => assert_eq!(a.reason, expect, "{topic}"),
            Packet::Publish(p) => panic!("{} was delivered", p.topic),
            other => panic!("unexpected {other:?}"),
        }
    }
    // Only the topic within the limits was routed.
    assert_eq!(c.recv_publish().await.topic.as_str(), "a/b/c");
}

#[tokio::test]
async fn connections_past_the_rate_of_one_address_get_0x9f_and_other_addresses_do_not() {
    let b = start_broker(&["--max-connection-rate", "3"]);
    // A burst of ten from 127.0.0.1: three pass at once, and unless the ten
    // took over two seconds, some are refused.
    let mut refused = 0;
    for i in 0..10 {
        let mut c = RawClient::open(b.addr, V5).await;
        c.send(&Packet::Connect(Box::new(connect_packet(
            V5,
            &format!("burst-{i}"),
        ))))
        .await;
        match c.recv().await {
            Packet::ConnAck(a) if a.reason == ReasonCode::ConnectionRateExceeded => refused += 1,
            Packet::ConnAck(a) => assert!(a.reason.is_success(), "{a:?}"),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
    assert!((1..=7).contains(&refused), "refused {refused} of 10");
    // Another address has its own budget.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.2:0".parse().expect("address"))
        .expect("bind 127.0.0.2");
    let stream = socket
        .connect(b.addr)
        .await
        .expect("connect from 127.0.0.2");
    let mut buf = bytes::BytesMut::new();
    Packet::Connect(Box::new(connect_packet(V5, "elsewhere")))
        .encode(V5, &mut buf)
        .expect("encode");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = stream;
    stream.write_all(&buf).await.expect("send");
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).await.expect("CONNACK");
    assert_eq!(connack[0], 0x20);
    assert_eq!(
        connack[3], 0x00,
        "accepted from another address: {connack:?}"
    );
}

#[tokio::test]
async fn a_full_listener_closes_new_connections_while_another_listener_serves() {
    let b = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--max-connections-per-listener",
        "1",
    ]);
    let (_first, _) = RawClient::connect(b.addr, connect_packet(V4, "first")).await;
    let mut second = RawClient::open(b.addr, V4).await;
    second
        .send(&Packet::Connect(Box::new(connect_packet(V4, "second"))))
        .await;
    assert!(second.expect_closed().await.is_empty(), "TCP listener full");
    // The WebSocket listener has its own slot.
    let tls = courtier_e2e::certs::TestPki::new().client_config(false);
    let mut ws = AnyClient::connect(&b, Transport::Ws, &tls, connect_packet(V4, "ws")).await;
    ws.send(&Packet::PingReq).await;
    assert!(matches!(ws.recv().await, Packet::PingResp));
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    let b = start_broker(&["--max-connections", "1"]);
    let (_first, _) = RawClient::connect(b.addr, connect_packet(V4, "first")).await;
    let mut second = RawClient::open(b.addr, V4).await;
    second
        .send(&courtier_proto::Packet::Connect(Box::new(connect_packet(
            V4, "second",
        ))))
        .await;
    assert!(second.expect_closed().await.is_empty());
}

#[tokio::test]
async fn a_subscriber_that_never_reads_does_not_block_the_publisher() {
    // Queues large enough that the fast subscriber never overflows, so it must see every message.
    let b = start_broker(&["--max-queued-messages", "10000"]);
    // `stuck` subscribes and then never reads again: its socket buffers fill up.
    let (mut stuck, _) = RawClient::connect(b.addr, connect_packet(V4, "stuck")).await;
    stuck.subscribe("firehose", QoS::AtMostOnce).await;
    let (mut fast, _) = RawClient::connect(b.addr, connect_packet(V4, "fast")).await;
    fast.subscribe("firehose", QoS::AtMostOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    static CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];
    const COUNT: usize = 2000; // 32 MiB: far beyond any socket buffer
    let reader = tokio::spawn(async move {
        for _ in 0..COUNT {
            fast.recv_publish().await;
        }
        fast
    });
    for _ in 0..COUNT {
        p.send(&publish("firehose", &CHUNK, QoS::AtMostOnce, 0))
            .await;
    }
    // QoS 1 round trip proves the publisher's connection is still served promptly.
    p.send(&publish("elsewhere", b"ping", QoS::AtLeastOnce, 1))
        .await;
    p.recv().await;
    let _fast = tokio::time::timeout(std::time::Duration::from_secs(30), reader)
        .await
        .expect("fast subscriber got every message in time")
        .expect("reader task");
    drop(stuck);
}

/// A subscriber that accepts nothing holds a QoS 1 publisher up only for
/// `slow_subscriber_timeout`: then it gets DISCONNECT 0x97 and the
/// publisher's every PUBLISH is acknowledged (issue 3: a slow subscriber
/// never blocks a publisher for ever; issue 8: the policy is configurable).
#[tokio::test]
async fn a_stuck_subscriber_is_disconnected_and_its_publisher_carries_on() {
    let b = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--slow-subscriber-timeout",
        "1",
        "--max-queued-messages",
        "5",
    ]);
    // Receive Maximum 2, and it never acknowledges nor reads: two in
    // flight and five queued fill it.
    let mut stuck_connect = connect_packet(V5, "stuck");
    stuck_connect.properties.receive_maximum = std::num::NonZeroU16::new(2);
    let (mut stuck, _) = RawClient::connect(b.addr, stuck_connect).await;
    stuck.subscribe("sensors/t", QoS::AtLeastOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "pub")).await;
    for id in 1..=10 {
        p.send(&publish("sensors/t", b"21.5", QoS::AtLeastOnce, id))
            .await;
    }
    // The eighth waits for room; a second later the subscriber is gone and
    // every PUBLISH is acknowledged, in order.
    for id in 1..=10u16 {
        match p.recv().await {
            Packet::Ack(a) if a.kind == AckKind::PubAck => {
                assert_eq!(a.packet_id.get(), id);
            }
            other => panic!("expected PUBACK {id}, got {other:?}"),
        }
    }
    let mut delivered = 0;
    let reason = loop {
        match stuck.next().await {
            Some(Packet::Publish(_)) => delivered += 1,
            Some(Packet::Disconnect(d)) => break d.reason,
            other => panic!("expected PUBLISH or DISCONNECT, got {other:?}"),
        }
    };
    assert_eq!(delivered, 2, "its Receive Maximum");
    assert_eq!(reason, ReasonCode::QuotaExceeded);
    let metrics = courtier_e2e::http::get(b.http.expect("HTTP"), "/metrics").await;
    assert!(
        metrics
            .body
            .contains("courtier_slow_subscribers_disconnected_total 1\n"),
        "{}",
        metrics.body
    );
}

/// `max_queued_bytes` fills a queue like `max_queued_messages`: an offline
/// session takes messages until its topics and payloads reach the budget,
/// then a 5.0 publisher's PUBACK says 0x97 and the drop is counted.
#[tokio::test]
async fn the_queued_bytes_budget_refuses_with_0x97_once_reached() {
    let b = start_broker(&["--max-queued-bytes", "100"]);
    let mut away = connect_packet(V5, "away");
    away.properties.session_expiry_interval = Some(600);
    let (mut sub, _) = RawClient::connect(b.addr, away.clone()).await;
    sub.subscribe("q/t", QoS::AtLeastOnce).await;
    sub.send(&Packet::Disconnect(Default::default())).await;
    sub.expect_closed().await;

    // Topic 3 bytes + payload 17 bytes: 20 bytes a message, five fit.
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "pub")).await;
    let mut reasons = Vec::new();
    for id in 1..=7 {
        p.send(&publish("q/t", b"seventeen bytes!!", QoS::AtLeastOnce, id))
            .await;
        match p.recv().await {
            Packet::Ack(a) if a.kind == AckKind::PubAck => reasons.push(a.reason),
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }
    let ok = ReasonCode::Success;
    let full = ReasonCode::QuotaExceeded;
    assert_eq!(reasons, [ok, ok, ok, ok, ok, full, full]);

    away.clean_start = false;
    let (mut back, _) = RawClient::connect(b.addr, away).await;
    for _ in 0..5 {
        let m = back.recv_publish().await;
        assert_eq!(&m.payload[..], b"seventeen bytes!!");
        back.send(&courtier_e2e::ack(
            AckKind::PubAck,
            m.qos_pid.packet_id().expect("QoS 1"),
        ))
        .await;
    }
    back.send(&Packet::PingReq).await;
    assert!(
        matches!(back.recv().await, Packet::PingResp),
        "nothing more was queued"
    );
}

/// `max_publish_rate` slows a client by not reading it, losing nothing:
/// 300 PUBLISH at a limit of 100/s (a burst of 100 free) all arrive, and
/// the PINGREQ sent after them is answered only once about two seconds of
/// reading were held back (a lower bound only; a slow machine cannot break it).
#[tokio::test]
async fn a_client_past_the_publish_rate_is_slowed_and_loses_nothing() {
    let b = start_broker(&["--http", "127.0.0.1:0", "--max-publish-rate", "100"]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V5, "sub")).await;
    sub.subscribe("fast/#", QoS::AtMostOnce).await;
    let (mut fast, _) = RawClient::connect(b.addr, connect_packet(V5, "fast")).await;
    let started = std::time::Instant::now();
    let mut burst = bytes::BytesMut::new();
    for _ in 0..300 {
        publish("fast/t", b"21.5", QoS::AtMostOnce, 0)
            .encode(V5, &mut burst)
            .expect("encode");
    }
    Packet::PingReq.encode(V5, &mut burst).expect("encode");
    fast.send_bytes(&burst).await;
    assert!(matches!(fast.recv().await, Packet::PingResp));
    let waited = started.elapsed();
    assert!(waited >= std::time::Duration::from_secs(1), "{waited:?}");
    for _ in 0..300 {
        sub.recv_publish().await;
    }
    let metrics = courtier_e2e::http::get(b.http.expect("HTTP"), "/metrics").await;
    let line = metrics
        .body
        .lines()
        .find(|l| l.starts_with("courtier_limit_refusals_total{limit=\"publish_rate\"}"))
        .expect("the publish_rate sample");
    assert_ne!(line.rsplit(' ').next(), Some("0"), "{line}");
}
