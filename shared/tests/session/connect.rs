//! CONNECT / CONNACK in 3.1.1 and 5.0, refusals, and what a CONNACK sets up.

use std::num::{NonZeroU16, NonZeroU32};

use bytestring::ByteString;
use courtier_proto::packet::{ConnAck, ConnAckProperties};
use courtier_proto::session::{ClientOptions, ConnectionState, Event, SessionError};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

use crate::harness::{Harness, ack, connack, connack_with, secs};

#[test]
fn v311_connect_and_connack() {
    let mut h = Harness::with_version(ProtocolVersion::V3_1_1);
    let connect = h.open();
    assert_eq!(connect.protocol, ProtocolVersion::V3_1_1);
    assert_eq!(
        (
            connect.client_id.as_ref(),
            connect.clean_start,
            connect.keep_alive
        ),
        ("c", true, 60)
    );
    assert_eq!(h.session.state(), ConnectionState::Connecting);
    assert_eq!(h.events(), Vec::<String>::new());
    h.recv([connack(false)]);
    assert_eq!(h.events(), ["connected"]);
    assert!(h.session.is_connected());
}

#[test]
fn v5_connect_announces_our_limits() {
    let mut options = ClientOptions::new("c");
    options.receive_maximum = NonZeroU16::new(7);
    options.maximum_packet_size = NonZeroU32::new(4096).expect("non-zero");
    options.topic_alias_maximum = 3;
    options.session_expiry_interval = Some(120);
    let mut h = Harness::new(options);
    let connect = h.open();
    let p = &connect.properties;
    assert_eq!(p.receive_maximum, NonZeroU16::new(7));
    assert_eq!(p.maximum_packet_size.map(|m| m.get()), Some(4096));
    assert_eq!(p.topic_alias_maximum, Some(3));
    assert_eq!(p.session_expiry_interval, Some(120));
}

#[test]
fn v5_refusal_carries_reason_and_reason_string() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    let refusal = ConnAck {
        session_present: false,
        reason: ReasonCode::BadUserNameOrPassword,
        properties: ConnAckProperties {
            reason_string: Some(ByteString::from_static("who are you")),
            ..ConnAckProperties::default()
        },
    };
    h.recv([Packet::ConnAck(refusal)]);
    assert_eq!(h.events(), ["refused 0x86 who are you"]);
    assert_eq!(h.session.state(), ConnectionState::Closed);
    assert_eq!(h.sent(), Vec::<String>::new());
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn v311_return_code_maps_to_reason_code() {
    let mut h = Harness::with_version(ProtocolVersion::V3_1_1);
    h.open();
    // Return code 5, "not authorized", is 0x87 in 5.0 terms.
    h.session.handle_bytes(h.now, &[0x20, 0x02, 0x00, 0x05]);
    assert_eq!(h.events(), ["refused 0x87"]);
}

#[test]
fn second_connect_is_an_error() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    assert_eq!(
        h.session.connect(h.now),
        Err(SessionError::AlreadyConnected)
    );
    h.recv([connack(false)]);
    assert_eq!(
        h.session.connect(h.now),
        Err(SessionError::AlreadyConnected)
    );
}

#[test]
fn invalid_v311_options_are_refused_before_sending() {
    let mut options = ClientOptions::new("");
    options.version = ProtocolVersion::V3_1_1;
    options.clean_start = false;
    let mut h = Harness::new(options);
    assert!(matches!(
        h.session.connect(h.now),
        Err(SessionError::InvalidOptions(_))
    ));
    assert_eq!(h.sent(), Vec::<String>::new());
}

#[test]
fn connack_limits_and_assigned_client_id() {
    let props = ConnAckProperties {
        receive_maximum: NonZeroU16::new(5),
        maximum_qos: Some(QoS::AtLeastOnce),
        retain_available: Some(false),
        assigned_client_identifier: Some(ByteString::from_static("auto-42")),
        ..ConnAckProperties::default()
    };
    let mut options = ClientOptions::new("");
    options.clean_start = false;
    let mut h = Harness::connected(options, props);
    let limits = *h.session.server_limits();
    assert_eq!(
        (
            limits.receive_maximum,
            limits.maximum_qos,
            limits.retain_available
        ),
        (5, QoS::AtLeastOnce, false)
    );
    // A reconnect must name the session it wants back.
    h.session.connection_lost();
    assert_eq!(h.open().client_id, "auto-42");
}

#[test]
fn connected_event_carries_the_connack_properties() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    let props = ConnAckProperties {
        server_keep_alive: Some(5),
        ..ConnAckProperties::default()
    };
    h.recv([connack_with(false, props.clone())]);
    assert_eq!(
        h.raw_events(),
        [Event::Connected {
            session_present: false,
            properties: Box::new(props)
        }]
    );
}

#[test]
fn a_packet_before_connack_is_a_protocol_error() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    h.recv([ack(courtier_proto::packet::AckKind::PubAck, 1)]);
    assert_eq!(h.events(), ["protocol error 0x82", "disconnected 0x82"]);
    // Not connected yet: no DISCONNECT, the driver just closes.
    assert_eq!(h.sent(), Vec::<String>::new());
    assert_eq!(h.session.state(), ConnectionState::Closed);
}

#[test]
fn session_present_after_clean_start_is_a_protocol_error() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    h.recv([connack(true)]);
    assert_eq!(h.events(), ["protocol error 0x82", "disconnected 0x82"]);
}

#[test]
fn no_connack_in_time() {
    let mut h = Harness::new(ClientOptions::new("c"));
    h.open();
    assert_eq!(h.session.poll_timeout(), Some(secs(30)));
    h.advance(secs(29));
    assert_eq!(h.events(), Vec::<String>::new());
    h.advance(secs(1));
    assert_eq!(h.events(), ["protocol error 0x80", "disconnected 0x80"]);
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn connect_after_closed_starts_afresh() {
    let mut h = Harness::v5();
    h.recv([Packet::Disconnect(Default::default())]);
    assert_eq!(h.events(), ["disconnected by server 0x00"]);
    // The driver may connect again without calling connection_lost.
    h.open();
    h.recv([connack(false)]);
    assert_eq!(h.events(), ["connected"]);
}
