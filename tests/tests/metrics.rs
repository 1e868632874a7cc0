//! `GET /metrics` on the HTTP listener: Prometheus text whose counters move
//! with real traffic, refusals included.

use std::net::SocketAddr;

use bytes::Bytes;
use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::AckKind;
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// `GET path`: status, content type, body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let r = courtier_e2e::http::get(addr, path).await;
    (r.status, r.content_type, r.body)
}

/// The value of the sample named exactly `series` (labels included).
fn sample(body: &str, series: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{body}"))
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn counters_follow_traffic_and_refusals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic readwrite maMaison/#\n").expect("write ACL");
    let b = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--acl-file",
        acl.to_str().expect("utf-8"),
    ]);
    let http = b.http.expect("HTTP listener");

    let (code, content_type, before) = get(http, "/metrics").await;
    assert_eq!(code, 200);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert_eq!(sample(&before, "courtier_messages_received_total"), 0);

    let mut sub = RawClient::connect(b.addr, connect_packet(V5, "sub"))
        .await
        .0;
    sub.subscribe("maMaison/+/+", QoS::AtLeastOnce).await;
    let Packet::SubAck(refused) = sub.subscribe("secret/#", QoS::AtLeastOnce).await else {
        panic!("expected SUBACK");
    };
    assert_eq!(refused.reason_codes, [ReasonCode::NotAuthorized]);
    let mut publisher = RawClient::connect(b.addr, connect_packet(V5, "pub"))
        .await
        .0;
    for (id, topic) in [
        (1, "maMaison/rez-de-chaussee/cuisine"),
        (2, "maMaison/etage/salon"),
        (3, "secret/x"),
    ] {
        publisher
            .send(&publish(topic, b"21.5", QoS::AtLeastOnce, id))
            .await;
        let Packet::Ack(ack) = publisher.recv().await else {
            panic!("expected PUBACK");
        };
        assert_eq!(ack.kind, AckKind::PubAck);
    }
    for _ in 0..2 {
        sub.recv_publish().await;
    }

    let (_, _, after) = get(http, "/metrics").await;
    assert_eq!(sample(&after, "courtier_clients_connected"), 2);
    assert_eq!(sample(&after, "courtier_messages_received_total"), 3);
    assert_eq!(sample(&after, "courtier_messages_sent_total"), 2);
    assert_eq!(sample(&after, "courtier_publishes_refused_total"), 1);
    assert_eq!(sample(&after, "courtier_subscriptions_refused_total"), 1);
    assert_eq!(sample(&after, "courtier_subscriptions"), 1);
    assert!(
        sample(&after, "courtier_bytes_received_total")
            > sample(&before, "courtier_bytes_received_total")
    );
    assert_eq!(
        sample(
            &after,
            "courtier_messages_dropped_total{reason=\"queue_full\"}"
        ),
        0
    );
    // By QoS: three QoS 1 PUBLISH of 4 bytes in, two out.
    let qos1 = |name: &str| sample(&after, &format!("{name}{{qos=\"1\"}}"));
    assert_eq!(qos1("courtier_publish_received_total"), 3);
    assert_eq!(qos1("courtier_payload_received_bytes_total"), 12);
    assert_eq!(qos1("courtier_publish_sent_total"), 2);
    assert_eq!(
        sample(&after, "courtier_publish_received_total{qos=\"0\"}"),
        0
    );
    assert_eq!(sample(&after, "courtier_sessions{state=\"online\"}"), 2);
    let tcp = format!(
        "courtier_connections{{listener=\"tcp\",address=\"{}\"}}",
        b.addr
    );
    assert_eq!(
        sample(&after, &tcp),
        2,
        "two MQTT clients on the TCP listener"
    );
    let ws = format!("courtier_connections{{listener=\"http\",address=\"{http}\"}}");
    assert_eq!(sample(&after, &ws), 0, "no WebSocket client");
    assert_eq!(sample(&after, "courtier_queued_messages"), 0);

    // A will the ACL refuses is an authorization failure at CONNECT.
    let mut willing = connect_packet(V5, "willing");
    willing.will = Some(courtier_proto::packet::LastWill {
        topic: courtier_proto::TopicName::new("secret/will").expect("topic"),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    });
    let mut c = RawClient::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(willing))).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(a) if a.reason == ReasonCode::NotAuthorized));
    let (_, _, last) = get(http, "/metrics").await;
    assert_eq!(sample(&last, "courtier_auth_failures_total"), 1);
}

#[tokio::test]
async fn store_commits_and_offline_queues_are_measured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = courtier_e2e::start_broker_in(dir.path(), &["--http", "127.0.0.1:0"]);
    let http = b.http.expect("HTTP listener");
    // A persistent session: its SUBSCRIBE is durable before SUBACK.
    let mut keep = connect_packet(V5, "keeper");
    keep.clean_start = false;
    keep.properties.session_expiry_interval = Some(3600);
    let (mut sub, _) = RawClient::connect(b.addr, keep).await;
    sub.subscribe("maMaison/#", QoS::AtLeastOnce).await;
    sub.send(&Packet::Disconnect(Default::default())).await;
    sub.expect_closed().await;
    // Two messages queue for it while it is away.
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V5, "pub")).await;
    for id in 1..=2 {
        p.send(&publish("maMaison/salon", b"19", QoS::AtLeastOnce, id))
            .await;
        assert!(matches!(p.recv().await, Packet::Ack(_)));
    }
    let (_, _, body) = get(http, "/metrics").await;
    assert!(sample(&body, "courtier_store_commits_total") >= 1, "{body}");
    assert!(
        sample(&body, "courtier_store_ops_total") >= sample(&body, "courtier_store_commits_total")
    );
    assert_eq!(sample(&body, "courtier_sessions{state=\"offline\"}"), 1);
    assert_eq!(sample(&body, "courtier_queued_messages"), 2);
}

#[test]
fn the_websocket_path_cannot_take_the_metrics_path() {
    let (code, stderr) =
        courtier_e2e::start_fails(&["--http", "127.0.0.1:0", "--ws-path", "/metrics"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ws_path"), "{stderr}");
}

#[tokio::test]
async fn protocol_violations_are_counted_by_reason_code() {
    let b = start_broker(&["--http", "127.0.0.1:0", "--max-packet-size", "128"]);
    let (mut big, _) = RawClient::connect(b.addr, connect_packet(V5, "big")).await;
    static PAYLOAD: [u8; 200] = [7; 200];
    big.send(&publish("sensors/t", &PAYLOAD, QoS::AtMostOnce, 0))
        .await;
    let closed = big.expect_closed().await;
    assert!(
        matches!(closed.as_slice(), [Packet::Disconnect(d)] if d.reason == ReasonCode::PacketTooLarge),
        "{closed:?}"
    );
    let (_, _, body) = get(b.http.expect("HTTP listener"), "/metrics").await;
    let line = body
        .lines()
        .find(|l| l.starts_with("courtier_protocol_violations_total{code=\"0x95\""))
        .unwrap_or_else(|| panic!("no 0x95 sample in:\n{body}"));
    assert!(line.ends_with(" 1"), "{line}");
}
