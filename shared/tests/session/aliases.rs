//! Our topic aliases: set on a topic's first PUBLISH of a connection, used
//! alone afterwards, bounded by both maximums, never carried across a
//! reconnect, and left out when they would not fit.

use std::num::NonZeroU32;

use courtier_proto::QoS;
use courtier_proto::packet::AckKind::PubAck;
use courtier_proto::packet::ConnAckProperties;
use courtier_proto::session::ClientOptions;

use crate::harness::{Harness, ack, connack, connack_with};

/// CONNACK properties granting `max` topic aliases.
fn aliases(max: u16) -> ConnAckProperties {
    ConnAckProperties {
        topic_alias_maximum: Some(max),
        ..ConnAckProperties::default()
    }
}

#[test]
fn first_use_sets_the_alias_and_later_ones_send_it_alone() {
    let mut h = Harness::connected(ClientOptions::new("c"), aliases(10));
    h.publish("house/kitchen", "1", QoS::AtMostOnce);
    h.publish("house/kitchen", "2", QoS::AtMostOnce);
    h.publish("house/hall", "3", QoS::AtLeastOnce);
    h.publish("house/kitchen", "4", QoS::AtLeastOnce);
    h.publish("house/hall", "5", QoS::ExactlyOnce);
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q0 house/kitchen@1 "1""#,
            r#"PUBLISH q0 @1 "2""#,
            r#"PUBLISH q1 #1 house/hall@2 "3""#,
            r#"PUBLISH q1 #2 @1 "4""#,
            r#"PUBLISH q2 #3 @2 "5""#,
        ]
    );
}

#[test]
fn none_unless_the_server_and_the_options_both_allow_them() {
    // The server granted none (Topic Alias Maximum absent means 0).
    let mut h = Harness::v5();
    h.publish("a", "1", QoS::AtMostOnce);
    h.publish("a", "2", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 a "1""#, r#"PUBLISH q0 a "2""#]);
    // We asked for none.
    let mut options = ClientOptions::new("c");
    options.outgoing_topic_aliases = 0;
    let mut h = Harness::connected(options, aliases(10));
    h.publish("a", "1", QoS::AtMostOnce);
    h.publish("a", "2", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 a "1""#, r#"PUBLISH q0 a "2""#]);
    // 3.1.1 has none.
    let mut h = Harness::v311();
    h.publish("a", "1", QoS::AtMostOnce);
    h.publish("a", "2", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 a "1""#, r#"PUBLISH q0 a "2""#]);
}

#[test]
fn the_table_is_bounded_and_the_least_recently_used_topic_gives_its_alias_up() {
    // Our bound (3) is below the server's (10); then the server's (2) below ours.
    let mut options = ClientOptions::new("c");
    options.outgoing_topic_aliases = 3;
    let mut h = Harness::connected(options, aliases(10));
    for topic in ["a", "b", "c", "d", "a"] {
        h.publish(topic, "x", QoS::AtMostOnce);
    }
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q0 a@1 "x""#,
            r#"PUBLISH q0 b@2 "x""#,
            r#"PUBLISH q0 c@3 "x""#,
            r#"PUBLISH q0 d@1 "x""#,
            r#"PUBLISH q0 a@2 "x""#,
        ]
    );
    let mut h = Harness::connected(ClientOptions::new("c"), aliases(2));
    for topic in ["a", "b", "a", "c", "a", "b"] {
        h.publish(topic, "x", QoS::AtMostOnce);
    }
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q0 a@1 "x""#,
            r#"PUBLISH q0 b@2 "x""#,
            r#"PUBLISH q0 @1 "x""#,
            // b was used longest ago: c takes alias 2.
            r#"PUBLISH q0 c@2 "x""#,
            r#"PUBLISH q0 @1 "x""#,
            r#"PUBLISH q0 b@2 "x""#,
        ]
    );
}

#[test]
fn aliases_do_not_survive_a_reconnect_and_resends_carry_the_full_topic() {
    let mut options = ClientOptions::new("c");
    options.clean_start = false;
    options.session_expiry_interval = Some(3600);
    let mut h = Harness::connected(options, aliases(5));
    h.publish("t", "a", QoS::AtLeastOnce);
    h.publish("t", "b", QoS::AtLeastOnce);
    assert_eq!(
        h.sent(),
        [r#"PUBLISH q1 #1 t@1 "a""#, r#"PUBLISH q1 #2 @1 "b""#]
    );
    // The link drops; the session is resumed on a connection with aliases again.
    h.session.connection_lost();
    h.open();
    h.recv([connack_with(true, aliases(5))]);
    assert_eq!(h.events(), ["connected session"]);
    h.publish("t", "c", QoS::AtLeastOnce);
    assert_eq!(
        h.sent(),
        [
            r#"PUBLISH q1 #1 dup t "a""#,
            r#"PUBLISH q1 #2 dup t "b""#,
            // New on this connection: the alias is set again before it is used alone.
            r#"PUBLISH q1 #3 t@1 "c""#,
        ]
    );
    h.recv([ack(PubAck, 1), ack(PubAck, 2), ack(PubAck, 3)]);
    h.events();
    // A connection that grants none: the topic again, and no alias.
    h.session.connection_lost();
    h.open();
    h.recv([connack(true)]);
    h.events();
    h.publish("t", "d", QoS::AtLeastOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q1 #4 t "d""#]);
}

#[test]
fn a_session_lost_sends_again_with_the_topic_before_any_alias() {
    let mut h = Harness::connected(ClientOptions::new("c"), aliases(5));
    h.publish("t", "a", QoS::AtLeastOnce);
    h.publish("t", "b", QoS::AtLeastOnce);
    h.sent();
    h.session.connection_lost();
    h.open();
    h.recv([connack_with(false, aliases(5))]);
    h.events();
    // Sent again as new messages: the first names the topic and sets the alias.
    assert_eq!(
        h.sent(),
        [r#"PUBLISH q1 #3 t@1 "a""#, r#"PUBLISH q1 #4 @1 "b""#]
    );
}

#[test]
fn an_alias_that_would_break_the_maximum_packet_size_is_left_out() {
    // PUBLISH q0 "t" "x" in 5.0 is 7 bytes; with a Topic Alias, 10.
    let props = ConnAckProperties {
        maximum_packet_size: NonZeroU32::new(7),
        ..aliases(5)
    };
    let mut h = Harness::connected(ClientOptions::new("c"), props);
    h.publish("t", "x", QoS::AtMostOnce);
    h.publish("t", "x", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 t "x""#, r#"PUBLISH q0 t "x""#]);
    assert_eq!(h.events().len(), 2, "both publishes completed");
}
