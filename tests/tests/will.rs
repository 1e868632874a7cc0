//! Will messages: when they are published, when not, Will Delay Interval,
//! and will properties.

use std::time::{Duration, Instant};

use bytes::Bytes;
use courtier_e2e::{RawClient, connect_packet, start_broker};
use courtier_proto::packet::{Connect, Disconnect, LastWill, UserProperty, WillProperties};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode, TopicName};

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn with_will(version: ProtocolVersion, id: &str, delay: Option<u32>) -> Connect {
    let mut c = connect_packet(version, id);
    c.will = Some(LastWill {
        topic: TopicName::new("will/topic").expect("topic"),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties {
            will_delay_interval: delay,
            ..Default::default()
        },
    });
    c
}

async fn watcher(b: &courtier_e2e::BrokerProcess) -> RawClient {
    let (mut w, _) = RawClient::connect(b.addr, connect_packet(V4, "watcher")).await;
    w.subscribe("will/#", QoS::AtLeastOnce).await;
    w
}

#[tokio::test]
async fn will_is_published_when_the_connection_drops() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let (c, _) = RawClient::connect(b.addr, with_will(V4, "dies", None)).await;
    drop(c);
    assert_eq!(&w.recv_publish().await.payload[..], b"gone");
}

#[tokio::test]
async fn will_is_not_published_after_normal_disconnect() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let (mut c, _) = RawClient::connect(b.addr, with_will(V5, "polite", None)).await;
    c.send(&Packet::Disconnect(Disconnect::default())).await;
    c.expect_closed().await;
    w.expect_silence(Duration::from_millis(500)).await;
}

#[tokio::test]
async fn will_is_published_after_disconnect_with_will_message() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let (mut c, _) = RawClient::connect(b.addr, with_will(V5, "asks", None)).await;
    let d = Disconnect {
        reason: ReasonCode::DisconnectWithWillMessage,
        ..Default::default()
    };
    c.send(&Packet::Disconnect(d)).await;
    assert_eq!(&w.recv_publish().await.payload[..], b"gone");
}

#[tokio::test]
async fn will_is_published_on_keep_alive_expiry() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let mut connect = with_will(V4, "silent", None);
    connect.keep_alive = 1;
    let (_c, _) = RawClient::connect(b.addr, connect).await;
    assert_eq!(&w.recv_publish().await.payload[..], b"gone");
}

#[tokio::test]
async fn delayed_will_waits_for_the_delay() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let mut connect = with_will(V5, "delayed", Some(1));
    connect.properties.session_expiry_interval = Some(60);
    let (c, _) = RawClient::connect(b.addr, connect).await;
    let dropped_at = Instant::now();
    drop(c);
    assert_eq!(&w.recv_publish().await.payload[..], b"gone");
    assert!(
        dropped_at.elapsed() >= Duration::from_millis(900),
        "published too early"
    );
}

#[tokio::test]
async fn delayed_will_is_cancelled_by_a_reconnect() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let mut connect = with_will(V5, "returns", Some(2));
    connect.properties.session_expiry_interval = Some(60);
    connect.clean_start = false;
    let (c, _) = RawClient::connect(b.addr, connect.clone()).await;
    drop(c);
    let (_c, _) = RawClient::connect(b.addr, connect).await;
    w.expect_silence(Duration::from_millis(2500)).await;
}

#[tokio::test]
async fn delayed_will_is_published_at_session_end_when_that_comes_first() {
    let b = start_broker(&[]);
    let mut w = watcher(&b).await;
    let mut connect = with_will(V5, "short-session", Some(30));
    connect.properties.session_expiry_interval = Some(1);
    let (c, _) = RawClient::connect(b.addr, connect).await;
    drop(c);
    // Arrives after about 1 s (session end), long before the 30 s delay.
    assert_eq!(&w.recv_publish().await.payload[..], b"gone");
}

#[tokio::test]
async fn will_properties_are_passed_on() {
    let b = start_broker(&[]);
    let (mut w, _) = RawClient::connect(b.addr, connect_packet(V5, "watcher5")).await;
    w.subscribe("will/#", QoS::AtLeastOnce).await;
    let mut connect = with_will(V5, "propertied", None);
    if let Some(will) = connect.will.as_mut() {
        will.properties.content_type = Some("text/plain".into());
        will.properties.user_properties = vec![UserProperty {
            name: "why".into(),
            value: "crash".into(),
        }];
    }
    let (c, _) = RawClient::connect(b.addr, connect).await;
    drop(c);
    let m = w.recv_publish().await;
    assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(m.properties.user_properties.len(), 1);
}
