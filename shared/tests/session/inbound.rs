//! Messages from the server: acknowledgements, exactly-once QoS 2, topic
//! aliases, our limits, malformed input, and bytes in arbitrary chunks.

use std::num::{NonZeroU16, NonZeroU32};

use courtier_proto::packet::AckKind::PubRel;
use courtier_proto::packet::ConnAckProperties;
use courtier_proto::session::{ClientOptions, ConnectionState};
use courtier_proto::{Packet, QosPid, ReasonCode};
use proptest::prelude::*;

use crate::harness::{Harness, ack, pid, server_publish, suback};

#[test]
fn qos1_is_acknowledged_and_delivered() {
    let mut h = Harness::v5();
    h.recv([server_publish(
        QosPid::AtLeastOnce(pid(7)),
        "a/b",
        "x",
        None,
    )]);
    assert_eq!(h.events(), [r#"message q1 a/b "x""#]);
    assert_eq!(h.sent(), ["PUBACK #7"]);
}

#[test]
fn qos2_is_delivered_exactly_once() {
    let mut h = Harness::v5();
    let first = server_publish(QosPid::ExactlyOnce(pid(3)), "a", "x", None);
    h.recv([first.clone()]);
    assert_eq!(h.events(), [r#"message q2 a "x""#]);
    assert_eq!(h.sent(), ["PUBREC #3"]);
    // The server did not see our PUBREC and resends: acknowledged, not delivered.
    let Packet::Publish(mut again) = first.clone() else {
        unreachable!()
    };
    again.dup = true;
    h.recv([Packet::Publish(again)]);
    assert_eq!(h.events(), Vec::<String>::new());
    assert_eq!(h.sent(), ["PUBREC #3"]);
    h.recv([ack(PubRel, 3)]);
    assert_eq!(h.sent(), ["PUBCOMP #3"]);
    // Released: the id now names a new message.
    h.recv([first]);
    assert_eq!(h.events(), [r#"message q2 a "x""#]);
}

#[test]
fn pubrel_for_an_unknown_id_is_completed_with_not_found() {
    let mut h = Harness::v5();
    h.recv([ack(PubRel, 9)]);
    assert_eq!(h.sent(), ["PUBCOMP #9 0x92"]);
    let mut h = Harness::v311();
    h.recv([ack(PubRel, 9)]);
    assert_eq!(h.sent(), ["PUBCOMP #9"]);
}

#[test]
fn server_topic_aliases_are_resolved() {
    let mut h = Harness::v5();
    h.recv([
        server_publish(QosPid::AtMostOnce, "house/kitchen", "1", Some(2)),
        server_publish(QosPid::AtMostOnce, "", "2", Some(2)),
        server_publish(QosPid::AtMostOnce, "house/cellar", "3", Some(2)),
        server_publish(QosPid::AtMostOnce, "", "4", Some(2)),
    ]);
    assert_eq!(
        h.events(),
        [
            r#"message q0 house/kitchen "1""#,
            r#"message q0 house/kitchen "2""#,
            r#"message q0 house/cellar "3""#,
            r#"message q0 house/cellar "4""#,
        ]
    );
}

#[test]
fn alias_above_our_maximum_closes_with_0x94() {
    let mut h = Harness::v5();
    h.recv([server_publish(QosPid::AtMostOnce, "t", "x", Some(17))]);
    assert_eq!(h.events(), ["protocol error 0x94", "disconnected 0x94"]);
    assert_eq!(h.sent(), ["DISCONNECT 0x94"]);
    assert_eq!(h.session.state(), ConnectionState::Closed);
}

#[test]
fn alias_never_set_closes_with_0x94() {
    let mut h = Harness::v5();
    h.recv([
        server_publish(QosPid::AtMostOnce, "", "x", Some(1)),
        server_publish(QosPid::AtMostOnce, "t", "after", None),
    ]);
    // Nothing after the error is processed.
    assert_eq!(h.events(), ["protocol error 0x94", "disconnected 0x94"]);
    assert_eq!(h.sent(), ["DISCONNECT 0x94"]);
}

#[test]
fn the_server_must_respect_our_receive_maximum() {
    let mut options = ClientOptions::new("c");
    options.receive_maximum = NonZeroU16::new(2);
    let mut h = Harness::connected(options, ConnAckProperties::default());
    h.recv((1..=3).map(|n| server_publish(QosPid::ExactlyOnce(pid(n)), "t", "x", None)));
    assert_eq!(h.sent(), ["PUBREC #1", "PUBREC #2", "DISCONNECT 0x93"]);
    assert_eq!(
        h.events(),
        [
            r#"message q2 t "x""#,
            r#"message q2 t "x""#,
            "protocol error 0x93",
            "disconnected 0x93"
        ]
    );
}

#[test]
fn a_packet_above_our_maximum_size_closes_with_0x95() {
    let mut options = ClientOptions::new("c");
    options.maximum_packet_size = NonZeroU32::new(32).expect("non-zero");
    let mut h = Harness::connected(options, ConnAckProperties::default());
    let payload: &'static str = "this payload makes the packet longer than 32 bytes";
    h.recv([server_publish(QosPid::AtMostOnce, "t", payload, None)]);
    assert_eq!(h.events(), ["protocol error 0x95", "disconnected 0x95"]);
    assert_eq!(h.sent(), ["DISCONNECT 0x95"]);
}

#[test]
fn malformed_bytes_close_the_connection() {
    let mut h = Harness::v5();
    // PUBACK with reserved flags set.
    h.session.handle_bytes(h.now, &[0x41, 0x02, 0x00, 0x01]);
    assert_eq!(h.events(), ["protocol error 0x81", "disconnected 0x81"]);
    assert_eq!(h.sent(), ["DISCONNECT 0x81"]);
    // Bytes after the close are ignored.
    h.recv([server_publish(QosPid::AtMostOnce, "t", "x", None)]);
    assert_eq!(h.events(), Vec::<String>::new());
}

#[test]
fn v311_errors_close_without_disconnect() {
    // In 3.1.1 DISCONNECT means "normal disconnection" and would cancel our will.
    let mut h = Harness::v311();
    h.session.handle_bytes(h.now, &[0x41, 0x02, 0x00, 0x01]);
    assert_eq!(h.events(), ["protocol error 0x81", "disconnected 0x81"]);
    assert_eq!(h.sent(), Vec::<String>::new());
}

#[test]
fn server_packets_a_client_never_receives_are_protocol_errors() {
    let mut h = Harness::v5();
    h.recv([Packet::PingReq]);
    assert_eq!(h.events(), ["protocol error 0x82", "disconnected 0x82"]);
    assert_eq!(h.sent(), ["DISCONNECT 0x82"]);
}

#[test]
fn server_disconnect_ends_the_connection() {
    let mut h = Harness::v5();
    let sub = h.subscribe(&["a"]);
    h.sent();
    let d = courtier_proto::packet::Disconnect {
        reason: ReasonCode::ServerShuttingDown,
        ..Default::default()
    };
    h.recv([Packet::Disconnect(d)]);
    assert_eq!(
        h.events(),
        [
            format!("subscribed {sub} failed 0x80"),
            "disconnected by server 0x8b".to_owned()
        ]
    );
    assert_eq!(h.session.state(), ConnectionState::Closed);
}

/// One scripted conversation from the server, for the chunking property.
fn server_script(h: &Harness) -> bytes::Bytes {
    h.encode([
        server_publish(QosPid::AtLeastOnce(pid(1)), "a/b", "first", None),
        server_publish(QosPid::ExactlyOnce(pid(2)), "a/c", "second", Some(1)),
        server_publish(QosPid::AtMostOnce, "", "third", Some(1)),
        suback(1, &[ReasonCode::GrantedQoS1]),
        Packet::PingResp,
        ack(PubRel, 2),
        server_publish(QosPid::AtMostOnce, "z", "payload ".repeat(40), None),
    ])
}

/// Run the script through a fresh session, fed in pieces at `cuts`.
fn run_script(cuts: &[usize]) -> (Vec<String>, Vec<String>) {
    let mut h = Harness::v5();
    h.subscribe(&["a/#"]);
    h.sent();
    let bytes = server_script(&h);
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    for cut in cuts.into_iter().chain([bytes.len()]) {
        h.session.handle_bytes(h.now, &bytes[start..cut]);
        start = cut;
    }
    (h.events(), h.sent())
}

#[test]
fn bytes_one_at_a_time() {
    let whole = run_script(&[]);
    assert_eq!(whole.0.len(), 5, "{whole:?}");
    assert_eq!(whole.1, ["PUBACK #1", "PUBREC #2", "PUBCOMP #2"]);
    let len = server_script(&Harness::v5()).len();
    assert_eq!(run_script(&(0..len).collect::<Vec<_>>()), whole);
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_conversation(cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        prop_assert_eq!(run_script(&cuts), run_script(&[]));
    }
}
