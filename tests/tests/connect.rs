//! CONNECT and CONNACK: versions, client identifiers, timeouts, takeover,
//! keep alive and the CONNACK properties.

use std::time::Duration;

use courtier_e2e::{RawClient, connect_packet, start_broker};
use courtier_proto::packet::{ConnAck, Disconnect};
use courtier_proto::{Packet, ProtocolVersion, ReasonCode};

fn connack(p: &Packet) -> &ConnAck {
    match p {
        Packet::ConnAck(a) => a,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[tokio::test]
async fn every_supported_level_connects() {
    let b = start_broker(&[]);
    for (v, id) in [
        (ProtocolVersion::V3_1, "c31"),
        (ProtocolVersion::V3_1_1, "c311"),
        (ProtocolVersion::V5, "c5"),
    ] {
        let (_c, ack) = RawClient::connect(b.addr, connect_packet(v, id)).await;
        assert!(!connack(&ack).session_present);
    }
}

#[tokio::test]
async fn unsupported_level_is_refused_with_return_code_1() {
    let b = start_broker(&[]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V3_1_1).await;
    // CONNECT "MQTT" level 6, clean session, keep alive 0, client id "x".
    c.send_bytes(&[
        0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 6, 0x02, 0, 0, 0, 1, b'x',
    ])
    .await;
    let seen = c.expect_closed().await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        connack(&seen[0]).reason,
        ReasonCode::UnsupportedProtocolVersion
    );
}

#[tokio::test]
async fn v5_connack_properties_tell_the_truth() {
    let b = start_broker(&[
        "--receive-maximum",
        "7",
        "--max-packet-size",
        "4096",
        "--topic-alias-maximum",
        "3",
    ]);
    let (_c, ack) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "props")).await;
    let p = &connack(&ack).properties;
    assert_eq!(p.receive_maximum.map(|n| n.get()), Some(7));
    assert_eq!(p.maximum_packet_size.map(|n| n.get()), Some(4096));
    assert_eq!(p.topic_alias_maximum, Some(3));
    assert_eq!(
        p.maximum_qos, None,
        "QoS 2 is supported, so Maximum QoS is absent"
    );
    assert_ne!(p.retain_available, Some(false));
    assert_ne!(p.wildcard_subscription_available, Some(false));
    assert_ne!(p.subscription_identifiers_available, Some(false));
    assert_ne!(p.shared_subscription_available, Some(false));
    assert_eq!(p.assigned_client_identifier, None);
}

#[tokio::test]
async fn v5_empty_client_id_gets_an_assigned_identifier() {
    let b = start_broker(&[]);
    let (_c, ack) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "")).await;
    let id = connack(&ack)
        .properties
        .assigned_client_identifier
        .clone()
        .expect("assigned id");
    assert!(!id.is_empty());
}

#[tokio::test]
async fn v311_empty_client_id_without_clean_session_is_refused() {
    let b = start_broker(&[]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V3_1_1).await;
    let mut connect = connect_packet(ProtocolVersion::V3_1_1, "");
    connect.clean_start = false;
    c.send(&Packet::Connect(Box::new(connect))).await;
    let seen = c.expect_closed().await;
    assert_eq!(
        connack(&seen[0]).reason,
        ReasonCode::ClientIdentifierNotValid
    );
    // With clean session the same empty id is accepted.
    let (_c, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V3_1_1, "")).await;
}

#[tokio::test]
async fn v31_accepts_client_ids_longer_than_23_bytes() {
    let b = start_broker(&[]);
    let long = "a-client-identifier-longer-than-twenty-three";
    let (_c, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V3_1, long)).await;
}

#[tokio::test]
async fn silent_connection_is_closed_after_connect_timeout() {
    let b = start_broker(&["--connect-timeout", "1"]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V3_1_1).await;
    assert!(c.expect_closed().await.is_empty());
}

#[tokio::test]
async fn second_connect_is_a_protocol_error() {
    let b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "twice")).await;
    c.send(&Packet::Connect(Box::new(connect_packet(
        ProtocolVersion::V5,
        "twice",
    ))))
    .await;
    let seen = c.expect_closed().await;
    assert!(
        matches!(
            seen.as_slice(),
            [Packet::Disconnect(Disconnect {
                reason: ReasonCode::ProtocolError,
                ..
            })]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn takeover_sends_session_taken_over_to_the_old_connection() {
    let b = start_broker(&[]);
    let (mut old, _) =
        RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "same")).await;
    let (_new, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "same")).await;
    let seen = old.expect_closed().await;
    assert!(
        matches!(
            seen.as_slice(),
            [Packet::Disconnect(Disconnect {
                reason: ReasonCode::SessionTakenOver,
                ..
            })]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn keep_alive_above_the_cap_is_answered_with_server_keep_alive() {
    let b = start_broker(&["--max-keepalive", "10"]);
    let mut connect = connect_packet(ProtocolVersion::V5, "ka");
    connect.keep_alive = 60;
    let (_c, ack) = RawClient::connect(b.addr, connect).await;
    assert_eq!(connack(&ack).properties.server_keep_alive, Some(10));
}

#[tokio::test]
async fn silent_client_is_disconnected_after_one_and_a_half_keep_alives() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(ProtocolVersion::V5, "sleepy");
    connect.keep_alive = 1;
    let (mut c, _) = RawClient::connect(b.addr, connect).await;
    let start = std::time::Instant::now();
    let seen = c.expect_closed().await;
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "closed too early: {:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            seen.as_slice(),
            [Packet::Disconnect(Disconnect {
                reason: ReasonCode::KeepAliveTimeout,
                ..
            })]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn pings_keep_the_connection_alive() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(ProtocolVersion::V3_1_1, "pinger");
    connect.keep_alive = 1;
    let (mut c, _) = RawClient::connect(b.addr, connect).await;
    for _ in 0..3 {
        c.send(&Packet::PingReq).await;
        assert_eq!(c.recv().await, Packet::PingResp);
        // Pace the pings at the keep alive period; the assertion is that
        // the connection survives past 1.5 x keep alive.
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    c.send(&Packet::PingReq).await;
    assert_eq!(c.recv().await, Packet::PingResp);
}

#[tokio::test]
async fn unknown_authentication_method_is_refused() {
    let b = start_broker(&[]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V5).await;
    let mut connect = connect_packet(ProtocolVersion::V5, "auth");
    connect.properties.authentication_method = Some("SCRAM-SHA-1".into());
    c.send(&Packet::Connect(Box::new(connect))).await;
    let seen = c.expect_closed().await;
    assert_eq!(
        connack(&seen[0]).reason,
        ReasonCode::BadAuthenticationMethod
    );
}

#[tokio::test]
async fn malformed_v5_connect_gets_connack_with_the_reason() {
    let b = start_broker(&[]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V5).await;
    // CONNECT v5 with Session Expiry Interval given twice (a protocol error).
    let mut bytes = vec![0x10, 0, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 0, 10];
    bytes.extend_from_slice(&[0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2]);
    bytes.extend_from_slice(&[0, 1, b'x']);
    bytes[1] = u8::try_from(bytes.len() - 2).expect("small");
    c.send_bytes(&bytes).await;
    let seen = c.expect_closed().await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(connack(&seen[0]).reason, ReasonCode::ProtocolError);
}

#[tokio::test]
async fn malformed_v311_connect_is_closed_without_connack() {
    let b = start_broker(&[]);
    let mut c = RawClient::open(b.addr, ProtocolVersion::V3_1_1).await;
    // CONNECT 3.1.1 with the reserved flag bit set ([MQTT-3.1.2-3]).
    c.send_bytes(&[
        0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x03, 0, 0, 0, 1, b'x',
    ])
    .await;
    assert!(c.expect_closed().await.is_empty());
}
