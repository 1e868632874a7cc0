//! Reconnects: resending with DUP when the session was kept, the documented
//! policy when it was not, and what does not survive a connection.

use courtier_proto::packet::AckKind::{PubAck, PubComp, PubRec, PubRel};
use courtier_proto::session::{ClientOptions, ConnectionState, SessionError};
use courtier_proto::{QoS, QosPid, ReasonCode};

use crate::harness::{Harness, ack, connack, pid, server_publish};

/// A persistent-session client with three publishes in flight: `a` (QoS 1,
/// #1), `b` (QoS 2, #2, PUBREC'd) and `c` (QoS 2, #3); then the link drops.
fn three_inflight() -> (Harness, [courtier_proto::session::RequestId; 3]) {
    let mut options = ClientOptions::new("c");
    options.clean_start = false;
    options.session_expiry_interval = Some(3600);
    let mut h = Harness::connected(options, Default::default());
    let ids = [
        h.publish("t", "a", QoS::AtLeastOnce),
        h.publish("t", "b", QoS::ExactlyOnce),
        h.publish("t", "c", QoS::ExactlyOnce),
    ];
    h.sent();
    h.recv([ack(PubRec, 2)]);
    assert_eq!(h.sent(), ["PUBREL #2"]);
    h.session.connection_lost();
    assert_eq!(h.session.state(), ConnectionState::Idle);
    (h, ids)
}

#[test]
fn session_present_resends_in_order_with_dup() {
    let (mut h, [a, b, c]) = three_inflight();
    // Published while offline: sent after the resends.
    let d = h.publish("t", "d", QoS::AtLeastOnce);
    assert_eq!(h.reconnect(true), ["connected session"]);
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q1 #1 dup t "a""#,
            "PUBREL #2",
            r#"PUBLISH q2 #3 dup t "c""#,
            r#"PUBLISH q1 #4 t "d""#
        ]
    );
    h.recv([
        ack(PubAck, 1),
        ack(PubComp, 2),
        ack(PubRec, 3),
        ack(PubAck, 4),
    ]);
    assert_eq!(h.sent(), ["PUBREL #3"]);
    h.recv([ack(PubComp, 3)]);
    assert_eq!(
        h.events(),
        [
            format!("published {a}"),
            format!("published {b}"),
            format!("published {d}"),
            format!("published {c}")
        ]
    );
}

#[test]
fn without_session_unacknowledged_publishes_are_sent_again_as_new() {
    let (mut h, [a, b, c]) = three_inflight();
    let d = h.publish("t", "d", QoS::AtLeastOnce);
    // b was PUBREC'd: the server owns it, so it is complete, not resent.
    assert_eq!(
        h.reconnect(false),
        ["connected".to_owned(), format!("published {b}")]
    );
    // New ids, no DUP, original order ahead of the newer publish.
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q1 #4 t "a""#,
            r#"PUBLISH q2 #5 t "c""#,
            r#"PUBLISH q1 #6 t "d""#
        ]
    );
    h.recv([ack(PubAck, 4), ack(PubRec, 5), ack(PubAck, 6)]);
    h.recv([ack(PubComp, 5)]);
    assert_eq!(
        h.events(),
        [
            format!("published {a}"),
            format!("published {d}"),
            format!("published {c}")
        ]
    );
}

#[test]
fn inbound_qos2_state_survives_only_with_the_session() {
    let mut options = ClientOptions::new("c");
    options.clean_start = false;
    let mut h = Harness::connected(options, Default::default());
    let message = server_publish(QosPid::ExactlyOnce(pid(4)), "t", "once", None);
    h.recv([message.clone()]);
    assert_eq!(h.events(), [r#"message q2 t "once""#]);
    h.sent();
    // Our PUBREC was lost with the link; the server resends with DUP.
    assert_eq!(h.reconnect(true), ["connected session"]);
    h.recv([message.clone()]);
    assert_eq!(h.events(), Vec::<String>::new());
    assert_eq!(h.sent(), ["PUBREC #4"]);
    // A new session forgets it: the same id is a new message.
    assert_eq!(h.reconnect(false), ["connected"]);
    h.recv([message]);
    assert_eq!(h.events(), [r#"message q2 t "once""#]);
    h.recv([ack(PubRel, 4)]);
    assert_eq!(h.sent(), ["PUBREC #4", "PUBCOMP #4"]);
}

#[test]
fn topic_aliases_do_not_outlive_the_connection() {
    let mut h = Harness::v5();
    h.recv([server_publish(
        QosPid::AtMostOnce,
        "long/topic",
        "x",
        Some(1),
    )]);
    h.events();
    h.session.connection_lost();
    h.open();
    h.recv([
        connack(false),
        server_publish(QosPid::AtMostOnce, "", "y", Some(1)),
    ]);
    assert_eq!(
        h.events(),
        ["connected", "protocol error 0x94", "disconnected 0x94"]
    );
}

#[test]
fn disconnect_keeps_the_session_for_later() {
    let mut options = ClientOptions::new("c");
    options.clean_start = false;
    let mut h = Harness::connected(options, Default::default());
    let id = h.publish("t", "x", QoS::AtLeastOnce);
    h.sent();
    h.session
        .disconnect(h.now, ReasonCode::DisconnectWithWillMessage)
        .expect("connected");
    assert_eq!(h.sent(), ["DISCONNECT 0x04"]);
    assert_eq!(h.events(), ["disconnected 0x04"]);
    assert_eq!(
        h.session.disconnect(h.now, ReasonCode::Success),
        Err(SessionError::NotConnected("DISCONNECT"))
    );
    assert_eq!(h.session.inflight_len(), 1);
    assert_eq!(h.reconnect(true), ["connected session"]);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 dup t "x""#]);
    h.recv([ack(PubAck, 1)]);
    assert_eq!(h.events(), [format!("published {id}")]);
}

#[test]
fn unsent_qos0_fails_when_the_link_drops() {
    let mut h = Harness::v5();
    let id = h.publish("t", "x", QoS::AtMostOnce);
    h.session.connection_lost();
    assert_eq!(h.events(), [format!("published {id} failed 0x80")]);
    assert_eq!(h.session.poll_transmit(), None);
}

#[test]
fn mqtt_3_1_resumes_a_kept_session_without_the_flag() {
    let mut options = ClientOptions::new("c");
    options.version = courtier_proto::ProtocolVersion::V3_1;
    options.clean_start = false;
    let mut h = Harness::new(options);
    h.open();
    h.recv([connack(false)]);
    assert_eq!(h.events(), ["connected session"]);
    h.publish("t", "x", QoS::AtLeastOnce);
    h.sent();
    assert_eq!(h.reconnect(false), ["connected session"]);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #1 dup t "x""#]);
}
