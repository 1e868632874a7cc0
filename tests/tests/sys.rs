//! `$SYS/broker/...` status topics and graceful shutdown.

use std::collections::HashMap;

use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
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
    // Traffic the counters must reflect: a second client and three PUBLISHes.
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(ProtocolVersion::V3_1_1, "p")).await;
    for _ in 0..3 {
        p.send(&publish("sensors/t", b"21.5", QoS::AtMostOnce, 0))
            .await;
    }
    // The retained values may predate this traffic; a later round counts it.
    // Judge whole rounds only: a round publishes every topic in order and
    // ends with the last of them.
    let number = |seen: &HashMap<String, String>, topic: &str| -> u64 {
        seen[topic].parse().expect("a number")
    };
    loop {
        let m = c.recv_publish().await;
        let topic = m.topic.as_str().to_owned();
        seen.insert(
            topic.clone(),
            String::from_utf8_lossy(&m.payload).into_owned(),
        );
        if topic == "$SYS/broker/messages/dropped/expired"
            && number(&seen, "$SYS/broker/clients/connected") == 2
            && number(&seen, "$SYS/broker/messages/received") >= 3
        {
            break;
        }
    }
    assert_eq!(number(&seen, "$SYS/broker/clients/connected"), 2);
    assert_eq!(number(&seen, "$SYS/broker/messages/received"), 3);
    assert!(number(&seen, "$SYS/broker/subscriptions/count") >= 1);
    // Two CONNECTs, a SUBSCRIBE and three PUBLISHes of 15 bytes at least.
    assert!(number(&seen, "$SYS/broker/bytes/received") > 3 * 15);
    assert!(
        number(&seen, "$SYS/broker/messages/sent") >= 1,
        "$SYS updates count as sent"
    );
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
