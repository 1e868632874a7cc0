//! Outbound publishes: completion per QoS, the Receive Maximum window, the
//! server's limits, the bounded queue, packet ids.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use courtier_proto::packet::AckKind::{PubAck, PubComp, PubRec};
use courtier_proto::packet::{ConnAckProperties, PublishProperties};
use courtier_proto::session::{ClientOptions, SessionError};
use courtier_proto::{QoS, ReasonCode, TopicName};

use crate::harness::{Harness, ack, ack_reason, connack_with};

#[test]
fn qos0_completes_when_handed_to_the_driver() {
    let mut h = Harness::v5();
    let id = h.publish("a/b", "x", QoS::AtMostOnce);
    assert_eq!(h.events(), Vec::<String>::new());
    assert_eq!(h.sent(), [r#"PUBLISH q0 a/b "x""#]);
    assert_eq!(h.events(), [format!("published {id}")]);
}

#[test]
fn qos1_completes_at_puback() {
    let mut h = Harness::v5();
    let id = h.publish("a", "x", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 a "x""#]);
    assert_eq!(h.session.inflight_len(), 1);
    h.recv([ack(PubAck, 1)]);
    assert_eq!(h.events(), [format!("published {id}")]);
    assert_eq!(h.session.inflight_len(), 0);
}

#[test]
fn v5_puback_reason_codes_are_reported() {
    let mut h = Harness::v5();
    let ok = h.publish("a", "x", QoS::AtLeastOnce);
    let refused = h.publish("a", "y", QoS::AtLeastOnce);
    h.sent();
    h.recv([
        ack_reason(PubAck, 1, ReasonCode::NoMatchingSubscribers),
        ack_reason(PubAck, 2, ReasonCode::NotAuthorized),
    ]);
    assert_eq!(
        h.events(),
        [
            format!("published {ok} 0x10"),
            format!("published {refused} failed 0x87")
        ]
    );
}

#[test]
fn qos2_completes_at_pubcomp() {
    let mut h = Harness::v5();
    let id = h.publish("a", "x", QoS::ExactlyOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q2 #1 a "x""#]);
    h.recv([ack(PubRec, 1)]);
    assert_eq!(h.sent(), ["PUBREL #1"]);
    assert_eq!(h.events(), Vec::<String>::new());
    // A duplicate PUBREC is answered again.
    h.recv([ack(PubRec, 1)]);
    assert_eq!(h.sent(), ["PUBREL #1"]);
    h.recv([ack(PubComp, 1)]);
    assert_eq!(h.events(), [format!("published {id}")]);
    assert_eq!(h.sent(), Vec::<String>::new());
}

#[test]
fn qos2_error_pubrec_ends_the_flow() {
    let mut h = Harness::v5();
    let id = h.publish("a", "x", QoS::ExactlyOnce);
    h.sent();
    h.recv([ack_reason(PubRec, 1, ReasonCode::QuotaExceeded)]);
    assert_eq!(h.events(), [format!("published {id} failed 0x97")]);
    assert_eq!(h.sent(), Vec::<String>::new());
    assert_eq!(h.session.inflight_len(), 0);
}

#[test]
fn receive_maximum_bounds_the_inflight_window() {
    let props = ConnAckProperties {
        receive_maximum: NonZeroU16::new(2),
        ..ConnAckProperties::default()
    };
    let mut h = Harness::connected(ClientOptions::new("c"), props);
    let ids: Vec<_> = ["1", "2", "3", "4"]
        .map(|p| h.publish("t", p, QoS::AtLeastOnce))
        .into();
    assert_eq!(
        h.sent(),
        [r#"PUBLISH q1 #1 t "1""#, r#"PUBLISH q1 #2 t "2""#]
    );
    assert_eq!((h.session.inflight_len(), h.session.queued_len()), (2, 2));
    h.recv([ack(PubAck, 2)]);
    assert_eq!(h.events(), [format!("published {}", ids[1])]);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #3 t "3""#]);
    // QoS 0 is not counted by the window.
    h.publish("t", "q0", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 t "q0""#]);
    h.recv([ack(PubAck, 1), ack(PubAck, 3)]);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #4 t "4""#]);
    h.recv([ack(PubAck, 4)]);
    assert_eq!(h.session.inflight_len() + h.session.queued_len(), 0);
}

#[test]
fn the_queue_is_bounded() {
    let props = ConnAckProperties {
        receive_maximum: NonZeroU16::new(1),
        ..ConnAckProperties::default()
    };
    let mut options = ClientOptions::new("c");
    options.max_queued = 2;
    let mut h = Harness::connected(options, props);
    h.publish("t", "inflight", QoS::AtLeastOnce);
    h.publish("t", "queued 1", QoS::AtLeastOnce);
    h.publish("t", "queued 2", QoS::AtLeastOnce);
    let full = h.try_publish("t", "x", QoS::AtLeastOnce, PublishProperties::default());
    assert_eq!(full, Err(SessionError::QueueFull { max: 2 }));
    h.sent();
    h.recv([ack(PubAck, 1)]);
    assert!(
        h.try_publish("t", "x", QoS::AtLeastOnce, PublishProperties::default())
            .is_ok()
    );
}

#[test]
fn server_maximum_packet_size_fails_only_that_request() {
    let props = ConnAckProperties {
        maximum_packet_size: NonZeroU32::new(64),
        ..ConnAckProperties::default()
    };
    let mut h = Harness::connected(ClientOptions::new("c"), props);
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let err = h.try_publish("t", "x".repeat(100), qos, PublishProperties::default());
        assert!(
            matches!(err, Err(SessionError::PacketTooLarge { max: 64, .. })),
            "{err:?}"
        );
    }
    h.publish("t", "small", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 t "small""#]);
    assert!(h.session.is_connected());
}

#[test]
fn server_maximum_qos_and_retain_available() {
    let props = ConnAckProperties {
        maximum_qos: Some(QoS::AtLeastOnce),
        retain_available: Some(false),
        ..ConnAckProperties::default()
    };
    let mut h = Harness::connected(ClientOptions::new("c"), props);
    let err = h.try_publish("t", "x", QoS::ExactlyOnce, PublishProperties::default());
    assert_eq!(
        err,
        Err(SessionError::QoSNotSupported {
            requested: QoS::ExactlyOnce,
            max: QoS::AtLeastOnce
        })
    );
    let topic = TopicName::new("t").expect("topic");
    let retained = h.session.publish(
        h.now,
        topic,
        Bytes::new(),
        QoS::AtMostOnce,
        true,
        Default::default(),
    );
    assert_eq!(retained, Err(SessionError::RetainNotSupported));
    assert_eq!(h.sent(), Vec::<String>::new());
}

#[test]
fn publishes_the_client_must_not_send() {
    let mut h = Harness::v5();
    let alias = PublishProperties {
        topic_alias: NonZeroU16::new(1),
        ..PublishProperties::default()
    };
    assert!(matches!(
        h.try_publish("t", "x", QoS::AtMostOnce, alias),
        Err(SessionError::InvalidPublish(_))
    ));
    let sub_id = PublishProperties {
        subscription_identifiers: vec![NonZeroU32::MIN],
        ..PublishProperties::default()
    };
    assert!(matches!(
        h.try_publish("t", "x", QoS::AtMostOnce, sub_id),
        Err(SessionError::InvalidPublish(_))
    ));
}

#[test]
fn offline_publishes_wait_for_connack() {
    let mut h = Harness::new(ClientOptions::new("c"));
    let q0 = h.try_publish("t", "x", QoS::AtMostOnce, PublishProperties::default());
    assert_eq!(q0, Err(SessionError::NotConnected("a QoS 0 publish")));
    let fits = h.publish("t", "fits", QoS::AtLeastOnce);
    let too_big = h.publish(
        "t",
        "this one is too large for the server",
        QoS::AtLeastOnce,
    );
    let too_high = h.publish("t", "qos 2", QoS::ExactlyOnce);
    assert_eq!(h.session.queued_len(), 3);
    h.open();
    let props = ConnAckProperties {
        maximum_packet_size: NonZeroU32::new(20),
        maximum_qos: Some(QoS::AtLeastOnce),
        ..ConnAckProperties::default()
    };
    h.recv([connack_with(false, props)]);
    // Limits learnt after the call fail the request, not the call.
    assert_eq!(
        h.events(),
        [
            "connected".to_owned(),
            format!("published {too_big} failed 0x95"),
            format!("published {too_high} failed 0x9b"),
        ]
    );
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 t "fits""#]);
    h.recv([ack(PubAck, 1)]);
    assert_eq!(h.events(), [format!("published {fits}")]);
}

#[test]
fn packet_ids_wrap_around_and_skip_ids_in_use() {
    let mut h = Harness::v5();
    // Id 1 stays unacknowledged for the whole test.
    h.publish("t", "held", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 t "held""#]);
    for n in 2..=u16::MAX {
        h.publish("t", "x", QoS::AtLeastOnce);
        let sent = h.sent_packets();
        let [courtier_proto::Packet::Publish(p)] = sent.as_slice() else {
            panic!("expected one PUBLISH, got {sent:?}");
        };
        assert_eq!(p.qos_pid.packet_id().map(|id| id.get()), Some(n));
        h.recv([ack(PubAck, n)]);
    }
    h.events();
    // After 65,535 the ids wrap to 1, which is in use, so 2 comes next.
    h.publish("t", "wrapped", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #2 t "wrapped""#]);
}
