//! The driver against an in-process fake server over `tokio::io::duplex`,
//! on paused (virtual) time for the keep alive.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use courtier_proto::packet::{Ack, AckKind, ConnAck, ConnAckProperties};
use courtier_proto::session::{ClientOptions, ClientSession, Event, SessionError};
use courtier_proto::{Decoder, Packet, ProtocolVersion, QoS, ReasonCode, TopicName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

use super::{Command, DriverError, DriverEvent};
use crate::client::{ClientError, Connection};

/// The server end of the pipe: packets in, packets out.
struct FakeServer {
    stream: DuplexStream,
    buf: BytesMut,
    decoder: Decoder,
    version: ProtocolVersion,
}

impl FakeServer {
    /// The next packet from the client; `None` once it closed the pipe.
    async fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Some(p) = self
                .decoder
                .decode(&mut self.buf)
                .expect("client packets decode")
            {
                return Some(p);
            }
            if self.stream.read_buf(&mut self.buf).await.expect("read") == 0 {
                return None;
            }
        }
    }

    async fn send(&mut self, packet: Packet) {
        let mut out = BytesMut::new();
        packet.encode(self.version, &mut out).expect("encodes");
        self.stream.write_all(&out).await.expect("write");
    }

    /// Expect CONNECT and answer it with `reason`.
    async fn accept(&mut self, reason: ReasonCode) {
        assert!(matches!(self.recv().await, Some(Packet::Connect(_))));
        self.send(Packet::ConnAck(ConnAck {
            session_present: false,
            reason,
            properties: ConnAckProperties::default(),
        }))
        .await;
    }
}

fn start(version: ProtocolVersion, keep_alive: u16) -> (Connection, FakeServer) {
    let (client, server) = tokio::io::duplex(4096);
    let mut options = ClientOptions::new("driver-test");
    options.version = version;
    options.keep_alive = keep_alive;
    let conn = Connection::spawn(ClientSession::new(options), client, false);
    let server = FakeServer {
        stream: server,
        buf: BytesMut::new(),
        decoder: Decoder::with_version(u32::MAX, version),
        version,
    };
    (conn, server)
}

/// [`start`], then CONNACK accepted and the Connected event seen.
async fn connected(version: ProtocolVersion, keep_alive: u16) -> (Connection, FakeServer) {
    let (mut conn, mut server) = start(version, keep_alive);
    server.accept(ReasonCode::Success).await;
    assert!(matches!(
        next_event(&mut conn).await,
        Event::Connected { .. }
    ));
    (conn, server)
}

async fn next_event(conn: &mut Connection) -> Event {
    match conn.events.recv().await.expect("driver running") {
        DriverEvent::Session(e) => e,
        DriverEvent::Rejected(e) => panic!("command rejected: {e}"),
    }
}

#[tokio::test]
async fn publishes_at_qos_1_then_disconnects_when_the_application_is_done() {
    let (mut conn, mut server) = connected(ProtocolVersion::V5, 0).await;
    conn.commands
        .send(Command::Publish {
            topic: TopicName::new("a/b").expect("topic"),
            payload: Bytes::from_static(b"hi"),
            qos: QoS::AtLeastOnce,
            retain: false,
        })
        .await
        .expect("driver running");
    let Some(Packet::Publish(p)) = server.recv().await else {
        panic!("expected PUBLISH")
    };
    assert_eq!(&p.payload[..], b"hi");
    let pid = p.qos_pid.packet_id().expect("QoS 1 has a packet id");
    server
        .send(Packet::Ack(Ack::new(AckKind::PubAck, pid)))
        .await;
    let Event::Published { result, .. } = next_event(&mut conn).await else {
        panic!("expected Published")
    };
    assert_eq!(result, Ok(ReasonCode::Success));
    // Dropping the command sender is the application saying it is done.
    let finished = tokio::spawn(conn.finish(None));
    assert!(matches!(server.recv().await, Some(Packet::Disconnect(_))));
    assert!(
        server.recv().await.is_none(),
        "the transport is closed after DISCONNECT"
    );
    finished.await.expect("joins").expect("orderly end");
}

#[tokio::test(start_paused = true)]
async fn pings_after_the_keep_alive_and_gives_up_on_a_silent_server() {
    let (mut conn, mut server) = start(ProtocolVersion::V3_1_1, 10);
    let t0 = Instant::now();
    server.accept(ReasonCode::Success).await;
    assert!(matches!(
        next_event(&mut conn).await,
        Event::Connected { .. }
    ));
    assert!(matches!(server.recv().await, Some(Packet::PingReq)));
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(10),
        "PINGREQ one keep alive after CONNECT"
    );
    server.send(Packet::PingResp).await;
    assert!(matches!(server.recv().await, Some(Packet::PingReq)));
    assert_eq!(t0.elapsed(), Duration::from_secs(20));
    // No PINGRESP this time: half the keep alive later the link is dead.
    let Event::ProtocolError(e) = next_event(&mut conn).await else {
        panic!("expected a protocol error")
    };
    assert_eq!(e, SessionError::KeepAliveTimeout(Duration::from_secs(5)));
    assert_eq!(t0.elapsed(), Duration::from_secs(25));
    assert!(matches!(
        next_event(&mut conn).await,
        Event::Disconnected {
            by_server: false,
            ..
        }
    ));
    assert!(
        server.recv().await.is_none(),
        "no DISCONNECT in 3.1.1, the transport just closes"
    );
    conn.finish(None).await.expect("the session ended it");
}

#[tokio::test]
async fn a_refused_connection_ends_with_the_reason_as_exit_code() {
    let (mut conn, mut server) = start(ProtocolVersion::V5, 60);
    server.accept(ReasonCode::BadUserNameOrPassword).await;
    let event = next_event(&mut conn).await;
    let error = ClientError::from_end(&event, ProtocolVersion::V5).expect("a refusal is an error");
    assert_eq!(
        error.to_string(),
        "Connection error: 0x86 bad user name or password"
    );
    assert_eq!(error.exit_code(), 0x86);
    assert!(
        conn.events.recv().await.is_none(),
        "the driver ends after a refusal"
    );
    let v3 = ClientError::from_end(&event, ProtocolVersion::V3_1_1).expect("error");
    assert_eq!(v3.exit_code(), 4, "the 3.1.1 return code");
}

#[tokio::test]
async fn a_server_closing_the_transport_is_an_error() {
    let (mut conn, server) = connected(ProtocolVersion::V3_1_1, 60).await;
    drop(server);
    assert!(
        conn.events.recv().await.is_none(),
        "the driver ends at end of stream"
    );
    let result = conn.finish(None).await;
    assert!(
        matches!(
            result,
            Err(ClientError::Driver(DriverError::ClosedByServer))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_disconnect_before_connack_just_closes() {
    let (conn, mut server) = start(ProtocolVersion::V5, 60);
    assert!(matches!(server.recv().await, Some(Packet::Connect(_))));
    conn.disconnect().await;
    assert!(server.recv().await.is_none());
    conn.finish(None).await.expect("nothing to fail");
}

#[tokio::test]
async fn a_command_the_session_refuses_is_reported() {
    let (mut conn, _server) = connected(ProtocolVersion::V5, 60).await;
    conn.commands
        .send(Command::Subscribe(Vec::new()))
        .await
        .expect("driver running");
    assert!(matches!(
        conn.events.recv().await,
        Some(DriverEvent::Rejected(SessionError::Encode(_)))
    ));
}
