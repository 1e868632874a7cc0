//! Retained messages: set, replace, clear, deliver on subscribe, Retain
//! Handling, Retain As Published, and none for shared subscriptions.

use std::time::Duration;

use courtier_e2e::{RawClient, connect_packet, publish, publish_retained, start_broker};
use courtier_proto::packet::{RetainHandling, SubscriptionOptions};
use courtier_proto::{ProtocolVersion, QoS};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;
const QUIET: Duration = Duration::from_millis(300);

async fn publisher(b: &courtier_e2e::BrokerProcess) -> RawClient {
    RawClient::connect(b.addr, connect_packet(V4, "publisher"))
        .await
        .0
}

/// Publish at QoS 1 and wait for PUBACK, so the retained store is updated.
async fn publish_acked(p: &mut RawClient, packet: courtier_proto::Packet) {
    p.send(&packet).await;
    p.recv().await;
}

#[tokio::test]
async fn retained_message_is_delivered_on_subscribe_with_retain_flag() {
    let b = start_broker(&[]);
    let mut p = publisher(&b).await;
    publish_acked(
        &mut p,
        publish_retained("r/1", b"kept", QoS::AtLeastOnce, 1),
    )
    .await;
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    s.subscribe("r/+", QoS::AtLeastOnce).await;
    let m = s.recv_publish().await;
    assert!(m.retain);
    assert_eq!(&m.payload[..], b"kept");
}

#[tokio::test]
async fn retained_message_is_replaced_and_cleared() {
    let b = start_broker(&[]);
    let mut p = publisher(&b).await;
    publish_acked(&mut p, publish_retained("r/2", b"old", QoS::AtLeastOnce, 1)).await;
    publish_acked(&mut p, publish_retained("r/2", b"new", QoS::AtLeastOnce, 2)).await;
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V4, "s1")).await;
    s.subscribe("r/2", QoS::AtMostOnce).await;
    assert_eq!(&s.recv_publish().await.payload[..], b"new");
    s.expect_silence(QUIET).await;

    publish_acked(&mut p, publish_retained("r/2", b"", QoS::AtLeastOnce, 3)).await;
    // The live subscriber sees the empty clearing message...
    assert!(s.recv_publish().await.payload.is_empty());
    // ...and a new subscriber sees nothing retained.
    let (mut s2, _) = RawClient::connect(b.addr, connect_packet(V4, "s2")).await;
    s2.subscribe("r/2", QoS::AtMostOnce).await;
    s2.expect_silence(QUIET).await;
}

#[tokio::test]
async fn live_delivery_of_a_retained_publish_clears_the_flag() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V4, "s")).await;
    s.subscribe("r/live", QoS::AtMostOnce).await;
    let mut p = publisher(&b).await;
    publish_acked(
        &mut p,
        publish_retained("r/live", b"x", QoS::AtLeastOnce, 1),
    )
    .await;
    assert!(
        !s.recv_publish().await.retain,
        "[MQTT-3.3.1-9] RETAIN is 0 on live delivery"
    );
}

#[tokio::test]
async fn retain_as_published_keeps_the_flag_on_live_delivery() {
    let b = start_broker(&[]);
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
    let opts = SubscriptionOptions {
        retain_as_published: true,
        ..Default::default()
    };
    s.subscribe_with("r/rap", opts, None).await;
    let mut p = publisher(&b).await;
    publish_acked(&mut p, publish_retained("r/rap", b"x", QoS::AtLeastOnce, 1)).await;
    assert!(s.recv_publish().await.retain);
}

#[tokio::test]
async fn retain_handling_controls_delivery_on_subscribe() {
    let b = start_broker(&[]);
    let mut p = publisher(&b).await;
    publish_acked(&mut p, publish_retained("r/h", b"x", QoS::AtLeastOnce, 1)).await;
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;

    let never = SubscriptionOptions {
        retain_handling: RetainHandling::DoNotSend,
        ..Default::default()
    };
    s.subscribe_with("r/h", never, None).await;
    s.expect_silence(QUIET).await;

    let if_new = SubscriptionOptions {
        retain_handling: RetainHandling::SendIfNew,
        ..Default::default()
    };
    s.subscribe_with("r/+", if_new, None).await;
    assert!(
        s.recv_publish().await.retain,
        "new subscription gets the retained message"
    );
    s.subscribe_with("r/+", if_new, None).await;
    s.expect_silence(QUIET).await;

    s.subscribe_with("r/+", SubscriptionOptions::default(), None)
        .await;
    assert!(
        s.recv_publish().await.retain,
        "Retain Handling 0 sends on every subscribe"
    );
}

#[tokio::test]
async fn shared_subscriptions_get_no_retained_messages() {
    let b = start_broker(&[]);
    let mut p = publisher(&b).await;
    publish_acked(
        &mut p,
        publish_retained("r/shared", b"x", QoS::AtLeastOnce, 1),
    )
    .await;
    let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
    s.subscribe("$share/g/r/shared", QoS::AtMostOnce).await;
    s.expect_silence(QUIET).await;
    p.send(&publish("r/shared", b"live", QoS::AtMostOnce, 0))
        .await;
    assert_eq!(&s.recv_publish().await.payload[..], b"live");
}

/// Receive `count` retained messages on `many/N`, acknowledging QoS 1, and
/// check each arrives once.
async fn receive_all_once(s: &mut RawClient, count: usize) {
    let mut seen = vec![false; count];
    for _ in 0..count {
        let m = s.recv_publish().await;
        assert!(m.retain);
        let n: usize = m.topic.as_str()["many/".len()..]
            .parse()
            .expect("numbered topic");
        assert!(!std::mem::replace(&mut seen[n], true), "many/{n} twice");
        if let Some(id) = m.qos_pid.packet_id() {
            s.send(&courtier_e2e::ack(
                courtier_proto::packet::AckKind::PubAck,
                id,
            ))
            .await;
        }
    }
    s.expect_silence(QUIET).await;
}

/// A subscription matching far more retained messages than its session's
/// queue holds gets every one of them, at QoS 0 as at QoS 1: they are
/// queued as the queue drains, not all at once with the excess dropped.
#[tokio::test]
async fn more_retained_messages_than_the_queue_holds_all_arrive() {
    const COUNT: usize = 1000;
    let b = start_broker(&["--max-queued-messages", "50", "--receive-maximum", "20"]);
    let mut p = publisher(&b).await;
    for n in 0..COUNT {
        let topic = format!("many/{n}");
        publish_acked(&mut p, publish_retained(&topic, b"v", QoS::AtLeastOnce, 1)).await;
    }
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let (mut s, _) = RawClient::connect(b.addr, connect_packet(V5, "s")).await;
        s.subscribe("many/#", qos).await;
        receive_all_once(&mut s, COUNT).await;
    }
}
