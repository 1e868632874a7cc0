//! `$SYS/broker/...` status topics and graceful shutdown.

use std::collections::HashMap;

use courtier_e2e::{RawClient, connect_packet, start_broker};
use courtier_proto::packet::Disconnect;
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

#[tokio::test]
async fn sys_topics_are_published_retained() {
    let b = start_broker(&["--sys-interval", "1"]);
    let (mut c, _) =
        RawClient::connect(b.addr, connect_packet(ProtocolVersion::V3_1_1, "sys")).await;
    c.subscribe("$SYS/broker/#", QoS::AtMostOnce).await;
    let wanted = [
        "$SYS/broker/version",
        "$SYS/broker/uptime",
        "$SYS/broker/clients/connected",
        "$SYS/broker/messages/received",
        "$SYS/broker/messages/sent",
        "$SYS/broker/bytes/received",
        "$SYS/broker/bytes/sent",
        "$SYS/broker/subscriptions/count",
        "$SYS/broker/retained messages/count",
    ];
    let mut seen = HashMap::new();
    while !wanted.iter().all(|t| seen.contains_key(*t)) {
        let m = c.recv_publish().await;
        seen.insert(
            m.topic.as_str().to_owned(),
            String::from_utf8_lossy(&m.payload).into_owned(),
        );
    }
    assert!(seen["$SYS/broker/version"].starts_with("courtier"));
    // The retained values may predate this client; the next update counts it.
    loop {
        let connected: u64 = seen["$SYS/broker/clients/connected"]
            .parse()
            .expect("a number");
        if connected >= 1 {
            break;
        }
        let m = c.recv_publish().await;
        seen.insert(
            m.topic.as_str().to_owned(),
            String::from_utf8_lossy(&m.payload).into_owned(),
        );
    }
}

#[tokio::test]
async fn sys_topics_are_not_matched_by_a_bare_hash() {
    let b = start_broker(&["--sys-interval", "1"]);
    let (mut c, _) =
        RawClient::connect(b.addr, connect_packet(ProtocolVersion::V3_1_1, "all")).await;
    c.subscribe("#", QoS::AtMostOnce).await;
    c.expect_silence(std::time::Duration::from_millis(1500))
        .await;
}

#[tokio::test]
async fn shutdown_sends_server_shutting_down_to_v5_clients() {
    let mut b = start_broker(&[]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "bye")).await;
    let status = b.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let seen = c.expect_closed().await;
    assert!(
        matches!(
            seen.as_slice(),
            [Packet::Disconnect(Disconnect {
                reason: ReasonCode::ServerShuttingDown,
                ..
            })]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn clients_cannot_publish_to_sys_topics() {
    use courtier_e2e::publish_retained;
    use courtier_proto::packet::{Ack, AckKind};
    let b = start_broker(&[]);
    let (mut watcher, _) =
        RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "w")).await;
    watcher.subscribe("$SYS/#", QoS::AtMostOnce).await;
    let (mut spoof, _) =
        RawClient::connect(b.addr, connect_packet(ProtocolVersion::V5, "spoof")).await;
    spoof
        .send(&publish_retained(
            "$SYS/broker/version",
            b"evil 1.0",
            QoS::AtLeastOnce,
            1,
        ))
        .await;
    match spoof.recv().await {
        Packet::Ack(Ack {
            kind: AckKind::PubAck,
            reason,
            ..
        }) => assert_eq!(reason, ReasonCode::NotAuthorized),
        other => panic!("expected PUBACK, got {other:?}"),
    }
    watcher
        .expect_silence(std::time::Duration::from_millis(300))
        .await;
}
