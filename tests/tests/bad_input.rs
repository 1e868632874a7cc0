//! Bad input: malformed packets close only the offending connection, with
//! the right v5 reason code, and never take the broker down.

use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::Disconnect;
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn reason(seen: &[Packet]) -> Option<ReasonCode> {
    seen.iter().find_map(|p| match p {
        Packet::Disconnect(Disconnect { reason, .. }) => Some(*reason),
        _ => None,
    })
}

/// A bystander subscribed before the bad client arrives must keep working.
async fn bystander(b: &courtier_e2e::BrokerProcess) -> (RawClient, RawClient) {
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V4, "bystander")).await;
    s.subscribe("ok", QoS::AtMostOnce).await;
    let (p, _) = RawClient::connect(b.addr, connect_packet(V4, "bystander-pub")).await;
    (s, p)
}

async fn still_works(s: &mut RawClient, p: &mut RawClient) {
    p.send(&publish("ok", b"fine", QoS::AtMostOnce, 0)).await;
    assert_eq!(&s.recv_publish().await.payload[..], b"fine");
}

#[tokio::test]
async fn malformed_packet_gets_disconnect_0x81_and_others_carry_on() {
    let b = start_broker(&[]);
    let (mut s, mut p) = bystander(&b).await;
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V5, "bad")).await;
    // PUBLISH QoS 0 whose topic length (0x00 0x09) runs past the packet end.
    bad.send_bytes(&[0x30, 0x04, 0x00, 0x09, b'a', b'b']).await;
    let seen = bad.expect_closed().await;
    assert_eq!(reason(&seen), Some(ReasonCode::MalformedPacket));
    still_works(&mut s, &mut p).await;
}

#[tokio::test]
async fn reserved_packet_type_closes_a_v311_connection_silently() {
    let b = start_broker(&[]);
    let (mut s, mut p) = bystander(&b).await;
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V4, "bad")).await;
    bad.send_bytes(&[0x00, 0x00]).await;
    assert!(
        bad.expect_closed().await.is_empty(),
        "3.1.1 has no DISCONNECT from the server"
    );
    still_works(&mut s, &mut p).await;
}

#[tokio::test]
async fn huge_remaining_length_is_refused_without_allocating() {
    let b = start_broker(&["--max-packet-size", "1024"]);
    let (mut s, mut p) = bystander(&b).await;
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V5, "huge")).await;
    // PUBLISH claiming 268,435,455 bytes.
    bad.send_bytes(&[0x30, 0xFF, 0xFF, 0xFF, 0x7F]).await;
    let seen = bad.expect_closed().await;
    assert_eq!(reason(&seen), Some(ReasonCode::PacketTooLarge));
    still_works(&mut s, &mut p).await;
}

#[tokio::test]
async fn garbage_before_connect_is_closed() {
    let b = start_broker(&[]);
    let (mut s, mut p) = bystander(&b).await;
    let mut bad = RawClient::open(b.addr, V4).await;
    bad.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    bad.expect_closed().await;
    still_works(&mut s, &mut p).await;
}

#[tokio::test]
async fn invalid_utf8_topic_is_malformed() {
    let b = start_broker(&[]);
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V5, "utf8")).await;
    // PUBLISH QoS 0, topic of 2 bytes 0xC3 0x28 (invalid UTF-8), no properties.
    bad.send_bytes(&[0x30, 0x05, 0x00, 0x02, 0xC3, 0x28, 0x00])
        .await;
    let seen = bad.expect_closed().await;
    assert_eq!(reason(&seen), Some(ReasonCode::MalformedPacket));
}

#[tokio::test]
async fn packet_id_zero_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V5, "zero")).await;
    // PUBLISH QoS 1 topic "a" packet id 0, no properties.
    bad.send_bytes(&[0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x00, 0x00])
        .await;
    let seen = bad.expect_closed().await;
    assert_eq!(reason(&seen), Some(ReasonCode::ProtocolError));
}

#[tokio::test]
async fn invalid_wildcard_in_a_subscription_is_malformed() {
    let b = start_broker(&[]);
    let (mut bad, _) = RawClient::connect(b.addr, connect_packet(V5, "wild")).await;
    // SUBSCRIBE id 1, no properties, filter "a/#/b", options 0.
    let mut bytes = vec![0x82, 0, 0, 1, 0, 0, 5];
    bytes.extend_from_slice(b"a/#/b");
    bytes.push(0);
    bytes[1] = u8::try_from(bytes.len() - 2).expect("small");
    bad.send_bytes(&bytes).await;
    let seen = bad.expect_closed().await;
    assert_eq!(reason(&seen), Some(ReasonCode::MalformedPacket));
}
