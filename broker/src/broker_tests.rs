//! Unit tests of the broker state without sockets: routing, offline
//! queueing, wills and expiry on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use courtier_proto::packet::{LastWill, PublishProperties, SubscriptionOptions, WillProperties};
use courtier_proto::{QoS, TopicFilter, TopicName};

use super::*;
use crate::metrics::Metrics;
use crate::session::link::{ClientInfo, ConnLink, KickReason};

fn handle(id: u64) -> ConnHandle {
    ConnHandle {
        id,
        link: Arc::new(ConnLink::new(ClientInfo {
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 1)),
            user: None,
            version: courtier_proto::ProtocolVersion::V5,
            connected_at: 0,
            keep_alive: 0,
        })),
    }
}

fn subscribe(broker: &Broker, session: &Arc<SessionShared>, filter: &str, qos: QoS) {
    let filter = TopicFilter::new(filter.to_owned()).expect("filter");
    let entry = crate::router::SubscriptionEntry {
        options: SubscriptionOptions {
            qos,
            ..Default::default()
        },
        identifier: None,
    };
    let key = crate::session::SessionKey(Arc::clone(session));
    broker.tree.write().subscribe(key, &filter, entry);
    session.state.lock().subscriptions.insert(filter, entry);
}

fn message(topic: &str, payload: &'static [u8], qos: QoS) -> Arc<Message> {
    Arc::new(Message {
        topic: TopicName::new(topic.to_owned()).expect("topic"),
        payload: Bytes::from_static(payload),
        qos,
        retain: false,
        properties: PublishProperties::default(),
        expires_at: None,
    })
}

fn will(delay: u32) -> LastWill {
    LastWill {
        topic: TopicName::new("will/x").expect("topic"),
        payload: Bytes::from_static(b"bye"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties {
            will_delay_interval: Some(delay),
            ..Default::default()
        },
    }
}

fn queued(session: &SessionShared) -> usize {
    session.state.lock().queue.len()
}

fn broker() -> Arc<Broker> {
    Arc::new(Broker::new(Config::default()))
}

#[tokio::test]
async fn fan_out_shares_the_payload_without_copying() {
    let b = broker();
    let one = b.attach(&"one".into(), true, 0, 10, handle(1)).session;
    let two = b.attach(&"two".into(), true, 0, 10, handle(2)).session;
    subscribe(&b, &one, "t/#", QoS::AtLeastOnce);
    subscribe(&b, &two, "t/+", QoS::AtMostOnce);
    let msg = message("t/a", b"payload", QoS::AtLeastOnce);
    assert_eq!(b.publish(Arc::clone(&msg), None), 2);
    for (s, qos) in [(&one, QoS::AtLeastOnce), (&two, QoS::AtMostOnce)] {
        let st = s.state.lock();
        let item = st.queue.front().expect("queued");
        assert!(Arc::ptr_eq(&item.msg, &msg), "the same Arc, not a copy");
        assert_eq!(item.qos, qos);
    }
}

#[tokio::test]
async fn offline_sessions_queue_qos1_and_count_dropped_qos0() {
    let b = broker();
    let s = b
        .attach(&"off".into(), false, u32::MAX, 10, handle(1))
        .session;
    subscribe(&b, &s, "t", QoS::AtLeastOnce);
    b.detach(&s, 1, None);
    b.publish(message("t", b"0", QoS::AtMostOnce), None);
    b.publish(message("t", b"1", QoS::AtLeastOnce), None);
    assert_eq!(queued(&s), 1);
    assert_eq!(Metrics::get(&b.metrics.dropped_offline_qos0), 1);
}

#[tokio::test(start_paused = true)]
async fn delayed_will_is_published_after_its_delay() {
    let b = broker();
    let watcher = b.attach(&"w".into(), true, 0, 10, handle(1)).session;
    subscribe(&b, &watcher, "will/#", QoS::AtLeastOnce);
    let s = b.attach(&"c".into(), true, 60, 10, handle(2)).session;
    b.detach(&s, 2, Some(will(5)));
    tokio::time::sleep(Duration::from_millis(4900)).await;
    assert_eq!(queued(&watcher), 0, "not before the delay");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(queued(&watcher), 1);
}

#[tokio::test(start_paused = true)]
async fn reattaching_cancels_a_delayed_will() {
    let b = broker();
    let watcher = b.attach(&"w".into(), true, 0, 10, handle(1)).session;
    subscribe(&b, &watcher, "will/#", QoS::AtLeastOnce);
    let s = b.attach(&"c".into(), false, 60, 10, handle(2)).session;
    b.detach(&s, 2, Some(will(5)));
    let again = b.attach(&"c".into(), false, 60, 10, handle(3));
    assert!(again.present);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(queued(&watcher), 0);
}

#[tokio::test(start_paused = true)]
async fn session_expiry_ends_the_session_and_publishes_a_later_will() {
    let b = broker();
    let watcher = b.attach(&"w".into(), true, 0, 10, handle(1)).session;
    subscribe(&b, &watcher, "will/#", QoS::AtLeastOnce);
    let s = b.attach(&"c".into(), false, 3, 10, handle(2)).session;
    subscribe(&b, &s, "some/filter", QoS::AtLeastOnce);
    b.detach(&s, 2, Some(will(100)));
    tokio::time::sleep(Duration::from_millis(2900)).await;
    assert!(b.sessions.lock().contains_key("c"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!b.sessions.lock().contains_key("c"), "expired");
    assert_eq!(queued(&watcher), 1, "will published at session end");
    assert_eq!(
        b.tree.read().len(),
        1,
        "only the watcher's subscription is left"
    );
}

#[tokio::test]
async fn takeover_kicks_the_old_connection_and_keeps_the_session() {
    let b = broker();
    let old = handle(1);
    let kicked = Arc::clone(&old.link);
    let first = b.attach(&"c".into(), false, u32::MAX, 10, old).session;
    let second = b.attach(&"c".into(), false, u32::MAX, 10, handle(2));
    assert!(second.present);
    assert!(Arc::ptr_eq(&first, &second.session));
    tokio::time::timeout(Duration::from_secs(1), kicked.kicked())
        .await
        .expect("old connection kicked");
    assert_eq!(kicked.reason(), KickReason::TakenOver);
    // The old connection's late detach must not take the session offline.
    b.detach(&first, 1, None);
    assert!(first.state.lock().owner.as_ref().is_some_and(|o| o.id == 2));
}

#[tokio::test]
async fn clean_start_discards_the_old_sessions_subscriptions() {
    let b = broker();
    let old = b
        .attach(&"c".into(), false, u32::MAX, 10, handle(1))
        .session;
    subscribe(&b, &old, "t", QoS::AtLeastOnce);
    let new = b.attach(&"c".into(), true, 0, 10, handle(2));
    assert!(!new.present);
    assert!(!Arc::ptr_eq(&old, &new.session));
    assert!(
        b.tree.read().is_empty(),
        "the old session's subscription left the tree"
    );
    assert_eq!(b.publish(message("t", b"x", QoS::AtLeastOnce), None), 0);
    assert_eq!(queued(&new.session), 0);
}

#[tokio::test]
async fn expired_retained_messages_are_removed_when_met() {
    let b = broker();
    let now = clock_now();
    let retained = |topic: &str, expires_at| {
        Arc::new(Message {
            topic: TopicName::new(topic.to_owned()).expect("topic"),
            payload: Bytes::from_static(b"x"),
            qos: QoS::AtMostOnce,
            retain: true,
            properties: PublishProperties::default(),
            expires_at,
        })
    };
    let stale = retained("r/stale", Some(now + Duration::from_secs(1)));
    let fresh = retained("r/fresh", None);
    b.publish(stale, None);
    b.publish(fresh, None);
    assert_eq!(b.retained.read().len(), 2);
    let filter = TopicFilter::new("r/#").expect("filter");
    let live = b
        .retained_matching(&filter, usize::MAX, now + Duration::from_secs(2))
        .messages;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].topic.as_str(), "r/fresh");
    assert_eq!(b.retained.read().len(), 1, "the expired one was removed");
}
