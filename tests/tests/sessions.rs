//! Sessions: clean session / clean start, session present, offline
//! queueing with its bound, redelivery with DUP, and session expiry.

use std::time::Duration;

use courtier_e2e::{RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::{Ack, AckKind, ConnAck, Connect, Disconnect};
use courtier_proto::{Packet, ProtocolVersion, QoS};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;
const QUIET: Duration = Duration::from_millis(300);

fn persistent(version: ProtocolVersion, id: &str) -> Connect {
    let mut c = connect_packet(version, id);
    c.clean_start = false;
    if version == V5 {
        c.properties.session_expiry_interval = Some(300);
    }
    c
}

fn present(p: &Packet) -> bool {
    match p {
        Packet::ConnAck(ConnAck {
            session_present, ..
        }) => *session_present,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

async fn leave(mut c: RawClient) {
    c.send(&Packet::Disconnect(Disconnect::default())).await;
    c.expect_closed().await;
}

async fn publish_acked(p: &mut RawClient, topic: &str, payload: &'static [u8], qos: QoS, id: u16) {
    p.send(&publish(topic, payload, qos, id)).await;
    if qos != QoS::AtMostOnce {
        p.recv().await;
    }
}

#[tokio::test]
async fn persistent_session_is_present_and_receives_queued_qos1_but_not_qos0() {
    let b = start_broker(&[]);
    let (mut s, ack) = RawClient::connect(b.addr, persistent(V4, "keeper")).await;
    assert!(!present(&ack));
    s.subscribe("queue/#", QoS::AtLeastOnce).await;
    leave(s).await;

    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    publish_acked(&mut p, "queue/a", b"q1", QoS::AtLeastOnce, 1).await;
    publish_acked(&mut p, "queue/a", b"q0", QoS::AtMostOnce, 0).await;
    publish_acked(&mut p, "queue/a", b"q2", QoS::ExactlyOnce, 2).await;

    let (mut s, ack) = RawClient::connect(b.addr, persistent(V4, "keeper")).await;
    assert!(present(&ack));
    assert_eq!(&s.recv_publish().await.payload[..], b"q1");
    assert_eq!(&s.recv_publish().await.payload[..], b"q2");
}

#[tokio::test]
async fn clean_session_discards_the_old_session() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, persistent(V4, "c")).await;
    s.subscribe("gone", QoS::AtLeastOnce).await;
    leave(s).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    publish_acked(&mut p, "gone", b"x", QoS::AtLeastOnce, 1).await;

    let (mut s, ack) = RawClient::connect(b.addr, connect_packet(V4, "c")).await;
    assert!(!present(&ack));
    s.expect_silence(QUIET).await;
    // And the subscription went with it.
    publish_acked(&mut p, "gone", b"y", QoS::AtLeastOnce, 2).await;
    s.expect_silence(QUIET).await;
}

#[tokio::test]
async fn unacknowledged_messages_are_redelivered_with_dup_on_reconnect() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, persistent(V5, "r")).await;
    s.subscribe("redo", QoS::ExactlyOnce).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    publish_acked(&mut p, "redo", b"one", QoS::AtLeastOnce, 1).await;
    publish_acked(&mut p, "redo", b"two", QoS::ExactlyOnce, 2).await;
    let first = s.recv_publish().await;
    let second = s.recv_publish().await;
    assert!(!first.dup);
    // Acknowledge only the first step of the QoS 2 flow, then vanish.
    let second_id = second.qos_pid.packet_id().expect("QoS 2 id");
    s.send(&Packet::Ack(Ack::new(AckKind::PubRec, second_id)))
        .await;
    assert!(matches!(
        s.recv().await,
        Packet::Ack(Ack {
            kind: AckKind::PubRel,
            ..
        })
    ));
    drop(s);

    let (mut s, ack) = RawClient::connect(b.addr, persistent(V5, "r")).await;
    assert!(present(&ack));
    let again = s.recv_publish().await;
    assert!(again.dup, "re-sent PUBLISH carries DUP");
    assert_eq!(again.qos_pid, first.qos_pid);
    assert_eq!(&again.payload[..], b"one");
    match s.recv().await {
        Packet::Ack(Ack {
            kind: AckKind::PubRel,
            packet_id,
            ..
        }) => assert_eq!(packet_id, second_id),
        other => panic!("expected PUBREL re-sent, got {other:?}"),
    }
}

#[tokio::test]
async fn offline_queue_is_bounded() {
    let b = start_broker(&["--max-queued-messages", "3"]);
    let (mut s, _) = RawClient::connect(b.addr, persistent(V4, "bounded")).await;
    s.subscribe("many", QoS::AtLeastOnce).await;
    leave(s).await;
    let (mut p, _) = RawClient::connect(b.addr, connect_packet(V4, "p")).await;
    const PAYLOADS: [&[u8]; 5] = [b"1", b"2", b"3", b"4", b"5"];
    for (i, payload) in PAYLOADS.iter().enumerate() {
        publish_acked(&mut p, "many", payload, QoS::AtLeastOnce, i as u16 + 1).await;
    }
    let (mut s, _) = RawClient::connect(b.addr, persistent(V4, "bounded")).await;
    for expected in [b"1", b"2", b"3"] {
        let m = s.recv_publish().await;
        assert_eq!(&m.payload[..], expected);
        s.send(&Packet::Ack(Ack::new(
            AckKind::PubAck,
            m.qos_pid.packet_id().expect("id"),
        )))
        .await;
    }
    s.expect_silence(QUIET).await;
}

#[tokio::test]
async fn v5_session_expiry_zero_ends_the_session_with_the_connection() {
    let b = start_broker(&[]);
    let mut c = persistent(V5, "brief");
    c.properties.session_expiry_interval = Some(0);
    let (s, _) = RawClient::connect(b.addr, c.clone()).await;
    leave(s).await;
    let (_s, ack) = RawClient::connect(b.addr, c).await;
    assert!(!present(&ack));
}

#[tokio::test]
async fn v5_session_expires_after_its_interval() {
    let b = start_broker(&[]);
    let mut c = persistent(V5, "expiring");
    c.properties.session_expiry_interval = Some(1);
    let (s, _) = RawClient::connect(b.addr, c.clone()).await;
    leave(s).await;
    let (s, ack) = RawClient::connect(b.addr, c.clone()).await;
    assert!(present(&ack), "still there within the interval");
    leave(s).await;
    // The behaviour under test is the passing of time itself.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_s, ack) = RawClient::connect(b.addr, c).await;
    assert!(!present(&ack), "expired after the interval");
}

#[tokio::test]
async fn disconnect_may_change_session_expiry() {
    let b = start_broker(&[]);
    let c = persistent(V5, "changer");
    let (mut s, _) = RawClient::connect(b.addr, c.clone()).await;
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(0);
    s.send(&Packet::Disconnect(d)).await;
    s.expect_closed().await;
    let (_s, ack) = RawClient::connect(b.addr, c).await;
    assert!(
        !present(&ack),
        "DISCONNECT set expiry 0, so the session ended"
    );
}

#[tokio::test]
async fn inbound_qos2_stays_exactly_once_across_a_reconnect() {
    use courtier_e2e::publish_msg;
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V4, "watch")).await;
    s.subscribe("once", QoS::ExactlyOnce).await;

    let (mut p, _) = RawClient::connect(b.addr, persistent(V5, "qos2-pub")).await;
    p.send(&publish("once", b"only", QoS::ExactlyOnce, 7)).await;
    assert!(matches!(
        p.recv().await,
        Packet::Ack(Ack {
            kind: AckKind::PubRec,
            ..
        })
    ));
    drop(p);

    // The publisher comes back and, not knowing PUBREC arrived, re-sends.
    let (mut p, ack) = RawClient::connect(b.addr, persistent(V5, "qos2-pub")).await;
    assert!(present(&ack));
    let mut again = publish_msg("once", b"only", QoS::ExactlyOnce, 7);
    again.dup = true;
    p.send(&Packet::Publish(again)).await;
    assert!(matches!(
        p.recv().await,
        Packet::Ack(Ack {
            kind: AckKind::PubRec,
            ..
        })
    ));
    p.send(&Packet::Ack(Ack::new(
        AckKind::PubRel,
        courtier_e2e::pid(7),
    )))
    .await;
    assert!(matches!(
        p.recv().await,
        Packet::Ack(Ack {
            kind: AckKind::PubComp,
            ..
        })
    ));

    let m = s.recv_publish().await;
    assert_eq!(&m.payload[..], b"only");
    s.send(&Packet::Ack(Ack::new(
        AckKind::PubRec,
        m.qos_pid.packet_id().expect("id"),
    )))
    .await;
    assert!(matches!(
        s.recv().await,
        Packet::Ack(Ack {
            kind: AckKind::PubRel,
            ..
        })
    ));
    s.expect_silence(QUIET).await;
}
