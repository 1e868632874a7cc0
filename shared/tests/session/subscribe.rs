//! SUBSCRIBE / UNSUBSCRIBE completions.

use courtier_proto::session::SessionError;
use courtier_proto::{ReasonCode, TopicFilter};

use crate::harness::{Harness, suback, unsuback};

#[test]
fn v5_subscribe_and_unsubscribe_complete() {
    let mut h = Harness::v5();
    let sub = h.subscribe(&["a/#", "b"]);
    assert_eq!(h.sent(), ["SUBSCRIBE #1"]);
    h.recv([suback(
        1,
        &[ReasonCode::GrantedQoS1, ReasonCode::NotAuthorized],
    )]);
    assert_eq!(h.events(), [format!("subscribed {sub} [1, 135]")]);
    let filters = vec![TopicFilter::new("a/#").expect("filter")];
    let unsub = h
        .session
        .unsubscribe(h.now, filters, Vec::new())
        .expect("accepted");
    // Id 1 was freed by the SUBACK, but ids move forward.
    assert_eq!(h.sent(), ["UNSUBSCRIBE #2"]);
    h.recv([unsuback(2, &[ReasonCode::NoSubscriptionExisted])]);
    assert_eq!(h.events(), [format!("unsubscribed {unsub} [17]")]);
}

#[test]
fn v311_unsuback_reads_as_success_per_filter() {
    let mut h = Harness::v311();
    let filters = vec![
        TopicFilter::new("a").expect("filter"),
        TopicFilter::new("b").expect("filter"),
    ];
    let unsub = h
        .session
        .unsubscribe(h.now, filters, Vec::new())
        .expect("accepted");
    assert_eq!(h.sent(), ["UNSUBSCRIBE #1"]);
    h.recv([unsuback(1, &[])]);
    assert_eq!(h.events(), [format!("unsubscribed {unsub} [0, 0]")]);
}

#[test]
fn subscribe_needs_a_connection_and_a_filter() {
    let mut h = Harness::with_version(courtier_proto::ProtocolVersion::V5);
    assert_eq!(
        h.session
            .subscribe(h.now, Vec::new(), Default::default())
            .map(|_| ()),
        Err(SessionError::Encode(courtier_proto::EncodeError::Invalid(
            "[MQTT-3.8.3-2] SUBSCRIBE needs a topic filter"
        )))
    );
    let sub = vec![courtier_proto::packet::Subscription {
        filter: TopicFilter::new("a").expect("filter"),
        options: Default::default(),
    }];
    assert_eq!(
        h.session
            .subscribe(h.now, sub, Default::default())
            .map(|_| ()),
        Err(SessionError::NotConnected("SUBSCRIBE"))
    );
}

#[test]
fn pending_requests_fail_when_the_connection_ends() {
    let mut h = Harness::v5();
    let first = h.subscribe(&["a"]);
    let second = h.subscribe(&["b"]);
    h.sent();
    h.session.connection_lost();
    assert_eq!(
        h.events(),
        [
            format!("subscribed {first} failed 0x80"),
            format!("subscribed {second} failed 0x80")
        ]
    );
    // A late SUBACK on the next connection completes nothing.
    h.open();
    h.recv([
        crate::harness::connack(false),
        suback(1, &[ReasonCode::Success]),
    ]);
    assert_eq!(h.events(), ["connected"]);
}

#[test]
fn a_suback_for_an_unknown_id_is_ignored() {
    let mut h = Harness::v5();
    h.recv([suback(9, &[ReasonCode::Success])]);
    assert_eq!(h.events(), Vec::<String>::new());
    assert!(h.session.is_connected());
}
