//! Keep alive: PINGREQ after silence, the server's override, dead links.

use std::time::Duration;

use courtier_proto::Packet;
use courtier_proto::QoS;
use courtier_proto::packet::ConnAckProperties;
use courtier_proto::session::ClientOptions;

use crate::harness::{Harness, secs};

#[test]
fn ping_after_keep_alive_of_silence() {
    let mut h = Harness::v5();
    assert_eq!(h.session.poll_timeout(), Some(secs(60)));
    h.advance(secs(59));
    assert_eq!(h.sent(), Vec::<String>::new());
    h.advance(secs(1));
    assert_eq!(h.sent(), ["PINGREQ"]);
    // Waiting for PINGRESP for half the keep alive.
    assert_eq!(h.session.poll_timeout(), Some(secs(90)));
    h.advance(secs(1));
    h.recv([Packet::PingResp]);
    assert_eq!(h.session.poll_timeout(), Some(secs(120)));
    h.advance(secs(59));
    assert_eq!(h.sent(), ["PINGREQ"]);
    assert_eq!(h.events(), Vec::<String>::new());
}

#[test]
fn sending_restarts_the_keep_alive() {
    let mut h = Harness::v5();
    h.advance(secs(30));
    h.publish("a", "x", QoS::AtMostOnce);
    assert_eq!(h.sent(), [r#"PUBLISH q0 a "x""#]);
    assert_eq!(h.session.poll_timeout(), Some(secs(90)));
    h.advance(secs(59));
    assert_eq!(h.sent(), Vec::<String>::new());
    h.advance(secs(1));
    assert_eq!(h.sent(), ["PINGREQ"]);
}

#[test]
fn no_pingresp_means_a_dead_connection() {
    let mut h = Harness::v5();
    h.advance(secs(60));
    assert_eq!(h.sent(), ["PINGREQ"]);
    h.advance(secs(29));
    assert_eq!(h.events(), Vec::<String>::new());
    h.advance(secs(1));
    assert_eq!(h.events(), ["protocol error 0x8d", "disconnected 0x8d"]);
    // Nobody would read a DISCONNECT on a dead link.
    assert_eq!(h.sent(), Vec::<String>::new());
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn any_packet_proves_the_link_alive() {
    let mut h = Harness::v5();
    h.advance(secs(60));
    assert_eq!(h.sent(), ["PINGREQ"]);
    h.recv([crate::harness::server_publish(
        courtier_proto::QosPid::AtMostOnce,
        "t",
        "v",
        None,
    )]);
    h.advance(secs(30));
    assert_eq!(h.events(), [r#"message q0 t "v""#]);
}

#[test]
fn server_keep_alive_overrides_ours() {
    let props = ConnAckProperties {
        server_keep_alive: Some(10),
        ..ConnAckProperties::default()
    };
    let mut h = Harness::connected(ClientOptions::new("c"), props);
    assert_eq!(h.session.keep_alive(), secs(10));
    assert_eq!(h.session.poll_timeout(), Some(secs(10)));
    h.advance(secs(10));
    assert_eq!(h.sent(), ["PINGREQ"]);
    assert_eq!(h.session.poll_timeout(), Some(secs(15)));
}

#[test]
fn keep_alive_zero_never_pings() {
    let mut options = ClientOptions::new("c");
    options.keep_alive = 0;
    let mut h = Harness::connected(options, ConnAckProperties::default());
    assert_eq!(h.session.poll_timeout(), None);
    h.advance(secs(100_000));
    assert_eq!(h.sent(), Vec::<String>::new());
}

#[test]
fn configured_ping_timeout() {
    let mut options = ClientOptions::new("c");
    options.keep_alive = 10;
    options.ping_timeout = Some(Duration::from_millis(1500));
    let mut h = Harness::connected(options, ConnAckProperties::default());
    h.advance(secs(10));
    assert_eq!(h.sent(), ["PINGREQ"]);
    assert_eq!(
        h.session.poll_timeout(),
        Some(Duration::from_millis(11_500))
    );
    h.advance(Duration::from_millis(1500));
    assert_eq!(h.events(), ["protocol error 0x8d", "disconnected 0x8d"]);
}
