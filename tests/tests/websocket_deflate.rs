//! MQTT over WebSocket with permessage-deflate (RFC 7692): what the
//! handshake negotiates, compressed messages both ways with a raw client,
//! with mqtt.js (node's `ws` offers deflate by default) and with Python
//! `websockets` (zlib, a second independent implementation), 4 MiB intact,
//! refusals with their close codes, clients without deflate unchanged, and
//! the bytes a 1 KiB JSON payload costs on the wire with and without it.

use std::path::Path;
use std::process::Command;

use courtier_e2e::deflate::{ACCEPT, DeflateClient, deflate, masked_frame};
use courtier_e2e::ws::WsClient;
use courtier_e2e::{RawClient, connect_packet, publish, publish_msg, start_broker};
use courtier_proto::packet::{Publish, Subscribe, Subscription, SubscriptionOptions};
use courtier_proto::{Packet, ProtocolVersion, QoS, TopicFilter};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// What browsers and node's `ws` offer.
const OFFER: &str = "permessage-deflate; client_max_window_bits";
/// What the broker answers to any offer it accepts.
const ANSWER: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

fn broker() -> courtier_e2e::BrokerProcess {
    start_broker(&["--http", "127.0.0.1:0", "--max-packet-size", "8388608"])
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

/// A PUBLISH of an owned payload.
fn publish_owned(topic: &str, payload: &[u8], qos: QoS, id: u16) -> Packet {
    let mut p = publish_msg(topic, b"", qos, id);
    p.payload = bytes::Bytes::copy_from_slice(payload);
    Packet::Publish(p)
}

fn expect_publish(p: Packet) -> Publish {
    match p {
        Packet::Publish(p) => p,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

/// Open, CONNECT (compressed when negotiated) and expect a CONNACK.
async fn connected(
    http: std::net::SocketAddr,
    offer: Option<&str>,
    version: ProtocolVersion,
    id: &str,
) -> DeflateClient {
    let mut c = DeflateClient::open(http, offer, version).await;
    c.send(&Packet::Connect(Box::new(connect_packet(version, id))))
        .await;
    assert!(matches!(c.recv().await, Packet::ConnAck(a) if a.reason.is_success()));
    c
}

async fn subscribed(
    http: std::net::SocketAddr,
    offer: Option<&str>,
    id: &str,
    filter: &str,
) -> DeflateClient {
    let mut c = connected(http, offer, V5, id).await;
    c.send(&subscribe_packet(filter, QoS::ExactlyOnce)).await;
    assert!(matches!(c.recv().await, Packet::SubAck(_)));
    c
}

/// `len` bytes of JSON-ish telemetry: compressible like real payloads, not trivially.
fn json_payload(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 128);
    let mut i: u32 = 0;
    while out.len() < len {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.extend_from_slice(
            format!(
                r#"{{"device":"sensor-{:04}","ts":{},"temp":{}.{},"humidity":{},"ok":true}},"#,
                i % 7919,
                1_700_000_000 + (i >> 8) % 100_000,
                15 + i % 15,
                i % 10,
                30 + i % 40
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

#[tokio::test]
async fn the_handshake_negotiates_deflate_and_messages_flow_compressed() {
    let b = broker();
    let http = b.http.expect("http listener");
    let mut c = DeflateClient::open(http, Some(OFFER), V4).await;
    assert_eq!(
        c.header("sec-websocket-extensions"),
        Some(ANSWER),
        "{}",
        c.response
    );
    assert_eq!(c.header("sec-websocket-protocol"), Some("mqtt"));
    assert_eq!(c.header("sec-websocket-accept"), Some(ACCEPT));
    // A compressed CONNECT, answered by a CONNACK sent plain (4 bytes never shrink).
    c.send(&Packet::Connect(Box::new(connect_packet(
        V4,
        "deflate-raw",
    ))))
    .await;
    assert!(matches!(c.recv().await, Packet::ConnAck(a) if a.reason.is_success()));
    assert_eq!((c.compressed_in, c.plain_in), (0, 1));
    c.send(&subscribe_packet("z/raw", QoS::AtLeastOnce)).await;
    assert!(matches!(c.recv().await, Packet::SubAck(_)));
    let payload = json_payload(4096);
    c.send(&publish_owned("z/raw", &payload, QoS::AtMostOnce, 0))
        .await;
    let got = expect_publish(c.recv().await);
    assert_eq!(&got.payload[..], &payload[..]);
    assert_eq!(c.compressed_in, 1, "the 4 KiB PUBLISH came back compressed");
}

#[tokio::test]
async fn declined_offers_and_clients_without_deflate_get_plain_frames() {
    let b = broker();
    let http = b.http.expect("http listener");
    // A server window below 32 KiB cannot be honoured: declined, not refused.
    for offer in [
        None,
        Some("permessage-deflate; server_max_window_bits=10"),
        Some("x-webkit-deflate-frame"),
    ] {
        let mut c = connected(http, offer, V4, "plain").await;
        assert_eq!(c.header("sec-websocket-extensions"), None, "{offer:?}");
        c.send(&subscribe_packet("p", QoS::AtMostOnce)).await;
        assert!(matches!(c.recv().await, Packet::SubAck(_)));
        let payload = json_payload(2048);
        c.send_message(&encoded_publish(&payload), false).await;
        assert_eq!(&expect_publish(c.recv().await).payload[..], &payload[..]);
        assert_eq!(c.compressed_in, 0);
    }
    // Without a subprotocol, the deflate path refuses like the plain one.
    let mut raw = tokio::net::TcpStream::connect(http).await.expect("connect");
    let req = format!(
        "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {OFFER}\r\n\r\n",
        courtier_e2e::deflate::KEY
    );
    tokio::io::AsyncWriteExt::write_all(&mut raw, req.as_bytes())
        .await
        .expect("send");
    let mut head = [0; 12];
    tokio::io::AsyncReadExt::read_exact(&mut raw, &mut head)
        .await
        .expect("answer");
    assert_eq!(&head, b"HTTP/1.1 400");
}

fn encoded_publish(payload: &[u8]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    publish_owned("p", payload, QoS::AtMostOnce, 0)
        .encode(V4, &mut buf)
        .expect("encode");
    buf.to_vec()
}

#[tokio::test]
async fn deflate_plain_ws_and_tcp_clients_share_messages() {
    let b = broker();
    let http = b.http.expect("http listener");
    let mut z = subscribed(http, Some(OFFER), "z", "x/#").await;
    let mut w = WsClient::open(http, V5).await;
    w.send(&Packet::Connect(Box::new(connect_packet(V5, "w"))))
        .await;
    assert!(matches!(w.recv().await, Packet::ConnAck(_)));
    w.send(&subscribe_packet("x/#", QoS::ExactlyOnce)).await;
    assert!(matches!(w.recv().await, Packet::SubAck(_)));
    let (mut t, _) = RawClient::connect(b.addr, connect_packet(V4, "t")).await;
    t.subscribe("x/#", QoS::ExactlyOnce).await;

    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let payload = json_payload(300 + i);
        z.send(&publish_owned(
            "x/z",
            &payload,
            qos,
            u16::try_from(i + 1).expect("small"),
        ))
        .await;
        if qos != QoS::AtMostOnce {
            assert!(
                matches!(z.recv().await, Packet::Ack(_)),
                "{qos:?} acknowledged"
            );
        }
        let mine = expect_publish(z.recv().await);
        assert_eq!(&mine.payload[..], &payload[..]);
        assert_eq!(&expect_publish(w.recv().await).payload[..], &payload[..]);
        assert_eq!(&t.recv_publish().await.payload[..], &payload[..]);
    }
}

#[tokio::test]
async fn a_4_mib_payload_round_trips_compressed() {
    let b = broker();
    let http = b.http.expect("http listener");
    let mut sub = subscribed(http, Some(OFFER), "big-sub", "big").await;
    let mut pubr = connected(http, Some(OFFER), V5, "big-pub").await;
    let payload = json_payload(4 << 20);
    let plain_before = sub.plain_in;
    let start = std::time::Instant::now();
    pubr.send(&publish_owned("big", &payload, QoS::AtLeastOnce, 1))
        .await;
    let got = expect_publish(sub.recv().await);
    let elapsed = start.elapsed();
    assert!(got.payload[..] == payload[..], "4 MiB arrived intact");
    // Sent as compressed messages of at most 64 KiB of input each; only a
    // short last piece (under 64 bytes) may go plain.
    assert!(
        sub.plain_in - plain_before <= 1,
        "{} plain pieces",
        sub.plain_in - plain_before
    );
    assert!(sub.compressed_in >= 64, "{} messages", sub.compressed_in);
    println!(
        "4 MiB JSON over deflate: {} bytes sent, {} received, {elapsed:?}",
        pubr.wire_out, sub.wire_in
    );
    assert!(matches!(pubr.recv().await, Packet::Ack(_)));
}

#[tokio::test]
async fn refusals_close_with_their_codes_and_disturb_nobody() {
    let b = start_broker(&["--http", "127.0.0.1:0", "--max-packet-size", "65536"]);
    let http = b.http.expect("http listener");
    let mut bystander = subscribed(http, Some(OFFER), "bystander", "t").await;
    // A compressed bomb: 64 MiB of zeros in about 64 KiB. The broker
    // inflates it only as fast as the MQTT decoder reads, which refuses the
    // zeros (packet type 0) long before the 128 KiB message limit: closed
    // normally, nothing inflated past one read buffer. (The inflate bound
    // itself, 1009, is unit-tested in the broker's deflate::stream tests.)
    let bomb = deflate(&vec![0; 64 << 20]);
    let mut c = connected(http, Some(OFFER), V4, "bomber").await;
    c.send_raw(&masked_frame(0xC2, &bomb)).await;
    assert_eq!(c.close_code().await, Some(1000));
    // A frame whose header alone announces more than max_packet_size + 64 KiB.
    let mut huge = vec![0xC2, 0xFF];
    huge.extend_from_slice(&(200u64 << 10).to_be_bytes());
    huge.extend_from_slice(&[1, 2, 3, 4, 0, 0]);
    // The start of a CONNECT, so the broker waits for the next fragment.
    let mut connect_start = bytes::BytesMut::new();
    Packet::Connect(Box::new(connect_packet(V4, "half")))
        .encode(V4, &mut connect_start)
        .expect("encode");
    connect_start.truncate(4);
    let cases: [(Vec<u8>, u16); 4] = [
        (huge, 1009),
        (masked_frame(0x81, b"{}"), 1003),
        // Unmasked, and RSV1 on a continuation.
        (vec![0x82, 0x01, 0x10], 1002),
        (
            [
                masked_frame(0x42, &deflate(&connect_start)),
                masked_frame(0xC0, b""),
            ]
            .concat(),
            1002,
        ),
    ];
    for (wire, code) in cases {
        let mut c = DeflateClient::open(http, Some(OFFER), V4).await;
        c.send_raw(&wire).await;
        assert_eq!(c.close_code().await, Some(code));
        assert_eq!(c.frame().await, None, "TCP closed after the Close");
    }
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    p.send(&publish("t", b"still here", QoS::AtMostOnce, 0))
        .await;
    assert_eq!(
        &expect_publish(bystander.recv().await).payload[..],
        b"still here"
    );
}

#[tokio::test]
async fn wire_bytes_for_a_1_kib_json_payload() {
    let b = broker();
    let http = b.http.expect("http listener");
    let payload = json_payload(1024);
    let mut rows = Vec::new();
    for offer in [None, Some(OFFER)] {
        let mut sub = subscribed(http, offer, "m-sub", "m").await;
        let mut pubr = connected(http, offer, V4, "m-pub").await;
        let (out0, in0) = (pubr.wire_out, sub.wire_in);
        pubr.send(&publish_owned("m", &payload, QoS::AtMostOnce, 0))
            .await;
        assert_eq!(&expect_publish(sub.recv().await).payload[..], &payload[..]);
        rows.push((offer.is_some(), pubr.wire_out - out0, sub.wire_in - in0));
    }
    for (deflate, sent, received) in &rows {
        println!(
            "1 KiB JSON PUBLISH, deflate {}: {sent} bytes client->broker, {received} bytes broker->client",
            if *deflate { "on " } else { "off" }
        );
    }
    // Not a benchmark, only a sanity check that compression happened.
    assert!(rows[1].2 < rows[0].2, "{rows:?}");
}

#[test]
fn mqttjs_over_deflate_qos_0_1_2_and_1_mib() {
    let b = broker();
    let node_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/node");
    assert!(
        Path::new(node_dir).join("node_modules/mqtt").exists(),
        "mqtt.js is not installed in {node_dir}: run `cargo xtask setup` (npm ci)"
    );
    let url = format!("ws://127.0.0.1:{}/mqtt", b.http.expect("http").port());
    let out = Command::new("node")
        .current_dir(node_dir)
        .args(["deflate.js", &url])
        .output()
        .expect("run node (Node.js is required)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mqtt.js with deflate failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("negotiated: permessage-deflate"),
        "{stdout}"
    );
}

#[test]
fn python_websockets_over_deflate_256_kib() {
    let b = broker();
    let available = Command::new("python3")
        .args(["-c", "import websockets"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        available,
        "python3 with websockets is required (`cargo xtask setup` installs it)"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/websockets_deflate.py");
    let url = format!("ws://127.0.0.1:{}/mqtt", b.http.expect("http").port());
    let out = Command::new("python3")
        .args([script, &url])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "websockets with deflate failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("negotiated: {ANSWER}")),
        "{stdout}"
    );
}
