//! QoS 0, 1 and 2 in both directions, exactly-once, ordering, the outbound
//! window and the broker's Receive Maximum.

use std::time::Duration;

use courtier_e2e::{RawClient, connect_packet, pid, publish, publish_msg, start_broker};
use courtier_proto::packet::{Ack, AckKind, Disconnect, QosPid};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn ack(kind: AckKind, id: u16) -> Packet {
    Packet::Ack(Ack::new(kind, pid(id)))
}

fn expect_ack(p: &Packet, kind: AckKind) -> u16 {
    match p {
        Packet::Ack(a) if a.kind == kind => a.packet_id.get(),
        other => panic!("expected {kind:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn qos0_is_delivered() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("a/b", QoS::AtMostOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("a/b", b"hello", QoS::AtMostOnce, 0))
        .await;
    let p = sub.recv_publish().await;
    assert_eq!(&p.payload[..], b"hello");
    assert_eq!(p.qos_pid, QosPid::AtMostOnce);
}

#[tokio::test]
async fn qos1_is_acknowledged_both_ways() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("q/1", QoS::AtLeastOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("q/1", b"one", QoS::AtLeastOnce, 9))
        .await;
    assert_eq!(expect_ack(&pubr.recv().await, AckKind::PubAck), 9);
    let p = sub.recv_publish().await;
    let QosPid::AtLeastOnce(id) = p.qos_pid else {
        panic!("expected QoS 1, got {:?}", p.qos_pid)
    };
    sub.send(&ack(AckKind::PubAck, id.get())).await;
    sub.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn inbound_qos2_is_exactly_once_even_when_resent() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("q/2", QoS::AtMostOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("q/2", b"once", QoS::ExactlyOnce, 5))
        .await;
    assert_eq!(expect_ack(&pubr.recv().await, AckKind::PubRec), 5);
    // The publisher did not see PUBREC (say) and re-sends with DUP.
    let mut again = publish_msg("q/2", b"once", QoS::ExactlyOnce, 5);
    again.dup = true;
    pubr.send(&Packet::Publish(again)).await;
    assert_eq!(expect_ack(&pubr.recv().await, AckKind::PubRec), 5);
    pubr.send(&ack(AckKind::PubRel, 5)).await;
    assert_eq!(expect_ack(&pubr.recv().await, AckKind::PubComp), 5);
    assert_eq!(&sub.recv_publish().await.payload[..], b"once");
    sub.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn outbound_qos2_runs_the_four_step_handshake() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("q/2", QoS::ExactlyOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("q/2", b"x", QoS::ExactlyOnce, 1)).await;
    let p = sub.recv_publish().await;
    let QosPid::ExactlyOnce(id) = p.qos_pid else {
        panic!("expected QoS 2, got {:?}", p.qos_pid)
    };
    sub.send(&ack(AckKind::PubRec, id.get())).await;
    assert_eq!(expect_ack(&sub.recv().await, AckKind::PubRel), id.get());
    sub.send(&ack(AckKind::PubComp, id.get())).await;
    sub.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn delivery_qos_is_the_minimum_of_published_and_granted() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("down", QoS::AtMostOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("down", b"x", QoS::ExactlyOnce, 1)).await;
    assert_eq!(sub.recv_publish().await.qos_pid, QosPid::AtMostOnce);
}

#[tokio::test]
async fn messages_on_one_topic_arrive_in_order() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("order", QoS::AtLeastOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    const PAYLOADS: [&[u8]; 5] = [b"0", b"1", b"2", b"3", b"4"];
    for round in 0..20u16 {
        for (i, payload) in PAYLOADS.iter().enumerate() {
            let qos = if i % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            pubr.send(&publish("order", payload, qos, round * 5 + i as u16 + 1))
                .await;
        }
    }
    for _ in 0..20 {
        for payload in PAYLOADS {
            let p = sub.recv_publish().await;
            assert_eq!(&p.payload[..], payload);
            if let QosPid::AtLeastOnce(id) = p.qos_pid {
                sub.send(&ack(AckKind::PubAck, id.get())).await;
            }
        }
    }
}

#[tokio::test]
async fn client_receive_maximum_limits_the_outbound_window() {
    let b = start_broker(&[]);
    let mut connect = connect_packet(V5, "slow");
    connect.properties.receive_maximum = std::num::NonZeroU16::new(2);
    let (mut sub, _) = RawClient::connect(b.addr, connect).await;
    sub.subscribe("w", QoS::AtLeastOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    for i in 1..=4 {
        pubr.send(&publish("w", b"m", QoS::AtLeastOnce, i)).await;
        pubr.recv().await;
    }
    let first = sub.recv_publish().await;
    let _second = sub.recv_publish().await;
    sub.expect_silence(Duration::from_millis(300)).await;
    sub.send(&ack(
        AckKind::PubAck,
        first.qos_pid.packet_id().expect("id").get(),
    ))
    .await;
    let _third = sub.recv_publish().await;
    sub.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn broker_receive_maximum_is_enforced() {
    let b = start_broker(&["--receive-maximum", "2"]);
    let (mut c, _) = RawClient::connect(b.addr, connect_packet(V5, "greedy")).await;
    for i in 1..=2 {
        c.send(&publish("r", b"x", QoS::ExactlyOnce, i)).await;
        expect_ack(&c.recv().await, AckKind::PubRec);
    }
    c.send(&publish("r", b"x", QoS::ExactlyOnce, 3)).await;
    let seen = c.expect_closed().await;
    assert!(
        matches!(
            seen.as_slice(),
            [Packet::Disconnect(Disconnect {
                reason: ReasonCode::ReceiveMaximumExceeded,
                ..
            })]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn overlapping_subscriptions_deliver_once_at_the_highest_qos() {
    let b = start_broker(&[]);
    let (mut sub, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    sub.subscribe("o/+", QoS::AtMostOnce).await;
    sub.subscribe("o/#", QoS::AtLeastOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("o/x", b"x", QoS::AtLeastOnce, 1)).await;
    assert_eq!(sub.recv_publish().await.qos_pid.qos(), QoS::AtLeastOnce);
    sub.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn wildcards_do_not_match_dollar_topics_at_the_first_level() {
    let b = start_broker(&[]);
    let (mut all, _) = RawClient::connect(b.addr, connect_packet(V4, "all")).await;
    all.subscribe("#", QoS::AtMostOnce).await;
    let (mut dollar, _) = RawClient::connect(b.addr, connect_packet(V4, "dollar")).await;
    dollar.subscribe("$app/#", QoS::AtMostOnce).await;
    let (mut pubr, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    pubr.send(&publish("$app/status", b"d", QoS::AtMostOnce, 0))
        .await;
    pubr.send(&publish("plain", b"p", QoS::AtMostOnce, 0)).await;
    assert_eq!(&dollar.recv_publish().await.payload[..], b"d");
    assert_eq!(&all.recv_publish().await.payload[..], b"p");
}
