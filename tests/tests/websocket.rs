//! MQTT over WebSocket: the same sessions as TCP, frames that split or join
//! packets, subprotocol negotiation, text frames refused, ping/pong, the
//! Origin allow-list, a configurable path, large payloads, and the web app
//! served from `--web-root`. Every refusal leaves other clients working.

use std::time::Instant;

use bytes::BytesMut;
use courtier_e2e::ws::{WsClient, handshake, handshake_with, refusal_status};
use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::{Publish, Subscribe, Subscription, SubscriptionOptions};
use courtier_proto::{Packet, ProtocolVersion, QoS, TopicFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn with_http() -> courtier_e2e::BrokerProcess {
    start_broker(&["--http", "127.0.0.1:0"])
}

async fn ws_connect(http: std::net::SocketAddr, version: ProtocolVersion, id: &str) -> WsClient {
    let mut c = WsClient::open(http, version).await;
    c.send(&Packet::Connect(Box::new(connect_packet(version, id))))
        .await;
    assert!(matches!(c.recv().await, Packet::ConnAck(a) if a.reason.is_success()));
    c
}

fn subscribe_packet(filter: &str, qos: QoS) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: courtier_e2e::pid(1),
        subscriptions: vec![Subscription {
            filter: TopicFilter::new(filter.to_owned()).expect("filter"),
            options: SubscriptionOptions {
                qos,
                ..Default::default()
            },
        }],
        properties: Default::default(),
    })
}

fn expect_publish(p: Packet) -> Publish {
    match p {
        Packet::Publish(p) => p,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_and_tcp_clients_share_one_broker() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let mut ws = ws_connect(http, V5, "ws").await;
    ws.send(&subscribe_packet("x/ws", QoS::AtLeastOnce)).await;
    assert!(matches!(ws.recv().await, Packet::SubAck(_)));
    let (mut tcp, _) = RawClient::connect(b.addr, connect_packet(V4, "tcp")).await;
    tcp.subscribe("x/tcp", QoS::ExactlyOnce).await;

    tcp.send(&publish("x/ws", b"tcp->ws", QoS::AtLeastOnce, 1))
        .await;
    tcp.recv().await;
    assert_eq!(&expect_publish(ws.recv().await).payload[..], b"tcp->ws");

    ws.send(&publish("x/tcp", b"ws->tcp", QoS::ExactlyOnce, 2))
        .await;
    assert!(matches!(ws.recv().await, Packet::Ack(_)));
    assert_eq!(&tcp.recv_publish().await.payload[..], b"ws->tcp");
}

#[tokio::test]
async fn a_packet_split_over_many_frames_and_many_packets_in_one_frame() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let mut c = WsClient::open(http, V4).await;
    let mut bytes = BytesMut::new();
    Packet::Connect(Box::new(connect_packet(V4, "frames")))
        .encode(V4, &mut bytes)
        .expect("encode");
    for byte in bytes.iter() {
        c.send_frame(vec![*byte]).await;
    }
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));

    let mut batch = BytesMut::new();
    subscribe_packet("frames/t", QoS::AtMostOnce)
        .encode(V4, &mut batch)
        .expect("encode");
    publish("frames/t", b"one", QoS::AtMostOnce, 0)
        .encode(V4, &mut batch)
        .expect("encode");
    publish("frames/t", b"two", QoS::AtMostOnce, 0)
        .encode(V4, &mut batch)
        .expect("encode");
    c.send_frame(batch.to_vec()).await;
    assert!(matches!(c.recv().await, Packet::SubAck(_)));
    assert_eq!(&expect_publish(c.recv().await).payload[..], b"one");
    assert_eq!(&expect_publish(c.recv().await).payload[..], b"two");
}

/// A subscribed WebSocket client, to show that refusals disturb nobody.
async fn bystander(http: std::net::SocketAddr) -> WsClient {
    let mut c = ws_connect(http, V4, "bystander").await;
    c.send(&subscribe_packet("t", QoS::AtMostOnce)).await;
    assert!(matches!(c.recv().await, Packet::SubAck(_)));
    c
}

/// The bystander still receives what a TCP client publishes.
async fn still_served(b: &courtier_e2e::BrokerProcess, bystander: &mut WsClient) {
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    p.send(&publish("t", b"still here", QoS::AtMostOnce, 0))
        .await;
    assert_eq!(
        &expect_publish(bystander.recv().await).payload[..],
        b"still here"
    );
}

#[tokio::test]
async fn handshake_without_the_mqtt_subprotocol_is_refused() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let mut ok = bystander(http).await;
    assert_eq!(
        refusal_status(handshake(http, None).await),
        400,
        "no subprotocol"
    );
    assert_eq!(
        refusal_status(handshake(http, Some("chat")).await),
        400,
        "wrong subprotocol"
    );
    assert!(
        handshake(http, Some("mqttv3.1")).await.is_ok(),
        "old 3.1 name accepted"
    );
    assert!(
        handshake(http, Some("chat, mqtt")).await.is_ok(),
        "mqtt among others accepted"
    );
    still_served(&b, &mut ok).await;
}

#[tokio::test]
async fn a_text_frame_closes_only_that_connection_with_code_1003() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let mut ok = bystander(http).await;
    let mut bad = ws_connect(http, V4, "texter").await;
    bad.send_text("hello").await;
    assert_eq!(bad.close_code().await, Some(1003), "unsupported data");
    still_served(&b, &mut ok).await;
}

#[tokio::test]
async fn pings_are_answered_with_pongs() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let mut c = ws_connect(http, V4, "pinger").await;
    c.ping_pong(b"are you there").await;
    c.send(&Packet::PingReq).await;
    assert_eq!(
        c.recv().await,
        Packet::PingResp,
        "MQTT still flows after a ping"
    );
}

#[tokio::test]
async fn origins_outside_the_allow_list_are_refused() {
    let b = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--ws-allowed-origin",
        "https://app.example",
        "--ws-allowed-origin",
        "http://localhost:8080",
    ]);
    let http = b.http.expect("http listener");
    let mut ok = bystander(http).await; // no Origin: not a browser, allowed
    let with_origin = |origin: &'static str| async move {
        handshake_with(http, "/mqtt", Some("mqtt"), &[("Origin", origin)]).await
    };
    assert_eq!(
        refusal_status(with_origin("https://evil.example").await),
        403
    );
    assert_eq!(refusal_status(with_origin("null").await), 403);
    assert!(with_origin("https://app.example").await.is_ok());
    assert!(with_origin("http://localhost:8080").await.is_ok());
    still_served(&b, &mut ok).await;
}

#[tokio::test]
async fn any_origin_may_connect_by_default() {
    let b = with_http();
    let http = b.http.expect("http listener");
    let r = handshake_with(
        http,
        "/mqtt",
        Some("mqtt"),
        &[("Origin", "https://anyone.example")],
    )
    .await;
    assert!(r.is_ok(), "default: any page may embed the client");
}

#[tokio::test]
async fn the_websocket_path_is_configurable() {
    let b = start_broker(&["--http", "127.0.0.1:0", "--ws-path", "/brokers/mqtt"]);
    let http = b.http.expect("http listener");
    assert!(
        handshake_with(http, "/brokers/mqtt", Some("mqtt"), &[])
            .await
            .is_ok()
    );
    assert_eq!(
        refusal_status(handshake(http, Some("mqtt")).await),
        404,
        "not at /mqtt any more"
    );
}

/// Mosquitto's WebSocket listener stalls from 16 KiB; a 4 MiB message must
/// flow. Only integrity is asserted: "within a second on loopback" is a
/// performance target (printed here), not a pass/fail line on a shared machine.
#[tokio::test]
async fn a_4_mib_payload_crosses_websocket_intact() {
    let b = start_broker(&["--http", "127.0.0.1:0", "--max-packet-size", "8388608"]);
    let http = b.http.expect("http listener");
    let mut sub = ws_connect(http, V5, "big-sub").await;
    sub.send(&subscribe_packet("big", QoS::AtLeastOnce)).await;
    assert!(matches!(sub.recv().await, Packet::SubAck(_)));
    let mut pubr = ws_connect(http, V5, "big-pub").await;
    let payload: Vec<u8> = (0..4 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    for round in 1..=2u16 {
        let mut m = courtier_e2e::publish_msg("big", b"", QoS::AtLeastOnce, round);
        m.payload = payload.clone().into();
        let start = Instant::now();
        pubr.send(&Packet::Publish(m)).await;
        let got = expect_publish(sub.recv().await);
        eprintln!("4 MiB over WebSocket, round {round}: {:?}", start.elapsed());
        assert!(got.payload[..] == payload[..], "payload intact");
        assert!(matches!(pubr.recv().await, Packet::Ack(_)), "PUBACK");
        if let Some(id) = got.qos_pid.packet_id() {
            sub.send(&Packet::Ack(courtier_proto::packet::Ack::new(
                courtier_proto::packet::AckKind::PubAck,
                id,
            )))
            .await;
        }
    }
    // A byte stream: the 4 MiB PUBLISH comes in frames of at most 64 KiB.
    assert!(
        sub.largest_frame <= 64 * 1024,
        "largest frame {} bytes",
        sub.largest_frame
    );
}

#[tokio::test]
async fn the_web_root_is_served_at_slash() {
    let dir = std::env::temp_dir().join(format!("courtier-webroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>courtier test</title>",
    )
    .expect("write");
    let root = dir.to_str().expect("utf-8 path").to_owned();
    let b = start_broker(&["--http", "127.0.0.1:0", "--web-root", &root]);
    let http = b.http.expect("http listener");
    let mut s = tokio::net::TcpStream::connect(http).await.expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    tokio::time::timeout(courtier_e2e::TIMEOUT, s.read_to_string(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("courtier test"), "{response}");
}
