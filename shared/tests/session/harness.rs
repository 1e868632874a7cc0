//! A fake server for session tests: it decodes what the session transmits with
//! the real [`Decoder`], answers with really encoded packets, and drives
//! virtual time by hand. Packets and events are summarised as short strings
//! so that a test reads as the exchange it checks.

use std::num::NonZeroU16;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use courtier_proto::packet::{
    Ack, AckKind, ConnAck, ConnAckProperties, Connect, Publish, PublishProperties, SubAck,
    Subscription, SubscriptionOptions, UnsubAck,
};
use courtier_proto::session::{ClientOptions, ClientSession, Event, RequestId};
use courtier_proto::{Decoder, Packet, PacketId, ProtocolVersion, QoS, QosPid, ReasonCode};
use courtier_proto::{TopicFilter, TopicName};

/// The session under test, the server's view of the wire, and the clock.
pub(crate) struct Harness {
    pub(crate) session: ClientSession,
    pub(crate) now: Duration,
    /// The server's decoder for the current connection.
    server: Decoder,
    /// Bytes transmitted by the session, not yet decoded.
    wire: BytesMut,
    /// The version the fake server encodes its packets for.
    pub(crate) version: ProtocolVersion,
}

impl Harness {
    /// A session with `options`, not connected, at time zero.
    pub(crate) fn new(options: ClientOptions) -> Self {
        let version = options.version;
        Self {
            session: ClientSession::new(options),
            now: Duration::ZERO,
            server: Decoder::new(u32::MAX),
            wire: BytesMut::new(),
            version,
        }
    }

    /// A session for `version` with default options and client id "c".
    pub(crate) fn with_version(version: ProtocolVersion) -> Self {
        let mut options = ClientOptions::new("c");
        options.version = version;
        Self::new(options)
    }

    /// A v5 session connected with `connack`'s properties; events drained.
    pub(crate) fn connected(options: ClientOptions, props: ConnAckProperties) -> Self {
        let mut h = Self::new(options);
        h.open();
        h.recv([connack_with(false, props)]);
        assert_eq!(h.events(), ["connected"]);
        h
    }

    /// A connected v5 session with default options and limits.
    pub(crate) fn v5() -> Self {
        Self::connected(ClientOptions::new("c"), ConnAckProperties::default())
    }

    /// A connected 3.1.1 session with default options.
    pub(crate) fn v311() -> Self {
        let mut h = Self::with_version(ProtocolVersion::V3_1_1);
        h.open();
        h.recv([connack(false)]);
        assert_eq!(h.events(), ["connected"]);
        h
    }

    /// A new transport: `connect`, and return the CONNECT the server got.
    pub(crate) fn open(&mut self) -> Connect {
        self.server = Decoder::new(u32::MAX);
        self.wire.clear();
        self.session.connect(self.now).expect("connect");
        match self.sent_packets().as_slice() {
            [Packet::Connect(c)] => (**c).clone(),
            other => panic!("expected one CONNECT, got {other:?}"),
        }
    }

    /// Drop the transport and open a new one, answering CONNACK with
    /// `session_present`; returns the events.
    pub(crate) fn reconnect(&mut self, session_present: bool) -> Vec<String> {
        self.session.connection_lost();
        self.open();
        self.recv([connack(session_present)]);
        self.events()
    }

    /// Move the clock forward and let the session act on it.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.session.handle_timeout(self.now);
    }

    /// Everything transmitted since the last call, decoded by the server.
    pub(crate) fn sent_packets(&mut self) -> Vec<Packet> {
        while let Some(bytes) = self.session.poll_transmit() {
            self.wire.extend_from_slice(&bytes);
        }
        let mut packets = Vec::new();
        while let Some(p) = self
            .server
            .decode(&mut self.wire)
            .expect("session sent garbage")
        {
            packets.push(p);
        }
        assert!(self.wire.is_empty(), "a partial packet was transmitted");
        packets
    }

    /// [`Self::sent_packets`], summarised.
    pub(crate) fn sent(&mut self) -> Vec<String> {
        self.sent_packets().iter().map(brief).collect()
    }

    /// Encode `packets` as the server would and feed them in one read.
    pub(crate) fn recv(&mut self, packets: impl IntoIterator<Item = Packet>) {
        let bytes = self.encode(packets);
        self.session.handle_bytes(self.now, &bytes);
    }

    /// The bytes of `packets` from the server.
    pub(crate) fn encode(&self, packets: impl IntoIterator<Item = Packet>) -> Bytes {
        let mut buf = BytesMut::new();
        for p in packets {
            p.encode(self.version, &mut buf)
                .expect("server packet encodes");
        }
        buf.freeze()
    }

    /// Every event since the last call, as raw values.
    pub(crate) fn raw_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// Every event since the last call, summarised.
    pub(crate) fn events(&mut self) -> Vec<String> {
        self.raw_events().iter().map(brief_event).collect()
    }

    /// Publish with no properties, expecting success.
    pub(crate) fn publish(
        &mut self,
        topic: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
    ) -> RequestId {
        self.try_publish(topic, payload, qos, PublishProperties::default())
            .expect("publish accepted")
    }

    /// Publish, returning the session's answer.
    pub(crate) fn try_publish(
        &mut self,
        topic: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
        props: PublishProperties,
    ) -> Result<RequestId, courtier_proto::session::SessionError> {
        let topic = TopicName::new(topic.to_owned()).expect("valid topic");
        self.session
            .publish(self.now, topic, payload.into(), qos, false, props)
    }

    /// Subscribe to `filters` at QoS 1.
    pub(crate) fn subscribe(&mut self, filters: &[&str]) -> RequestId {
        let subs = filters
            .iter()
            .map(|f| Subscription {
                filter: TopicFilter::new((*f).to_owned()).expect("valid filter"),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    ..SubscriptionOptions::default()
                },
            })
            .collect();
        self.session
            .subscribe(self.now, subs, Default::default())
            .expect("subscribe accepted")
    }
}

pub(crate) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(crate) fn pid(n: u16) -> PacketId {
    PacketId::new(n).expect("non-zero packet id")
}

pub(crate) fn connack(session_present: bool) -> Packet {
    connack_with(session_present, ConnAckProperties::default())
}

pub(crate) fn connack_with(session_present: bool, properties: ConnAckProperties) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present,
        reason: ReasonCode::Success,
        properties,
    })
}

pub(crate) fn ack(kind: AckKind, n: u16) -> Packet {
    Packet::Ack(Ack::new(kind, pid(n)))
}

pub(crate) fn ack_reason(kind: AckKind, n: u16, reason: ReasonCode) -> Packet {
    let mut a = Ack::new(kind, pid(n));
    a.reason = reason;
    Packet::Ack(a)
}

/// A server PUBLISH; `qos_pid` from [`QosPid`], `topic` may be "" with an alias.
pub(crate) fn server_publish(
    qos_pid: QosPid,
    topic: &str,
    payload: impl Into<Bytes>,
    alias: Option<u16>,
) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos_pid,
        retain: false,
        topic: TopicName::new_or_empty(topic.into()).expect("valid topic"),
        properties: PublishProperties {
            topic_alias: alias.and_then(NonZeroU16::new),
            ..PublishProperties::default()
        },
        payload: payload.into(),
    })
}

pub(crate) fn suback(n: u16, codes: &[ReasonCode]) -> Packet {
    Packet::SubAck(SubAck {
        packet_id: pid(n),
        reason_codes: codes.to_vec(),
        reason_string: None,
        user_properties: Vec::new(),
    })
}

pub(crate) fn unsuback(n: u16, codes: &[ReasonCode]) -> Packet {
    Packet::UnsubAck(UnsubAck {
        packet_id: pid(n),
        reason_codes: codes.to_vec(),
        reason_string: None,
        user_properties: Vec::new(),
    })
}

fn reason_suffix(reason: ReasonCode) -> String {
    if reason == ReasonCode::Success {
        String::new()
    } else {
        format!(" {:#04x}", reason.as_u8())
    }
}

fn qos_pid(q: QosPid) -> String {
    match q {
        QosPid::AtMostOnce => "q0".into(),
        QosPid::AtLeastOnce(id) => format!("q1 #{id}"),
        QosPid::ExactlyOnce(id) => format!("q2 #{id}"),
    }
}

/// One packet in a line: `PUBLISH q1 #3 dup a/b "x"`, `PUBLISH q0 @2 "y"`, `PUBREL #2 0x92`.
pub(crate) fn brief(p: &Packet) -> String {
    match p {
        Packet::Connect(c) => format!(
            "CONNECT {}{}",
            c.client_id,
            if c.clean_start { " clean" } else { "" }
        ),
        // `a/b@1`: topic and Topic Alias; `@1`: the alias alone.
        Packet::Publish(p) => format!(
            "PUBLISH {}{} {}{} {:?}",
            qos_pid(p.qos_pid),
            if p.dup { " dup" } else { "" },
            p.topic,
            p.properties
                .topic_alias
                .map(|a| format!("@{a}"))
                .unwrap_or_default(),
            String::from_utf8_lossy(&p.payload)
        ),
        Packet::Ack(a) => format!(
            "{} #{}{}",
            a.kind.name(),
            a.packet_id,
            reason_suffix(a.reason)
        ),
        Packet::Subscribe(s) => format!("SUBSCRIBE #{}", s.packet_id),
        Packet::Unsubscribe(u) => format!("UNSUBSCRIBE #{}", u.packet_id),
        Packet::Disconnect(d) => format!("DISCONNECT{}", reason_suffix(d.reason)),
        other => other.name().to_owned(),
    }
}

/// One event in a line: `published #1`, `message q2 a/b "x"`, `disconnected 0x8d`.
pub(crate) fn brief_event(e: &Event) -> String {
    let failed = |e: &courtier_proto::session::SessionError| {
        format!(" failed {:#04x}", e.reason_code().as_u8())
    };
    match e {
        Event::Connected {
            session_present, ..
        } => {
            if *session_present {
                "connected session".into()
            } else {
                "connected".into()
            }
        }
        Event::ConnectionRefused {
            reason,
            reason_string,
        } => format!(
            "refused {:#04x}{}",
            reason.as_u8(),
            reason_string
                .as_ref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default()
        ),
        Event::Message(p) => format!(
            "message {} {} {:?}",
            qos_pid(p.qos_pid).split(' ').next().unwrap_or_default(),
            p.topic,
            String::from_utf8_lossy(&p.payload)
        ),
        Event::Published { id, result } => match result {
            Ok(r) => format!("published {id}{}", reason_suffix(*r)),
            Err(e) => format!("published {id}{}", failed(e)),
        },
        Event::Subscribed { id, result } => match result {
            Ok(s) => format!("subscribed {id} {:?}", codes(&s.reason_codes)),
            Err(e) => format!("subscribed {id}{}", failed(e)),
        },
        Event::Unsubscribed { id, result } => match result {
            Ok(s) => format!("unsubscribed {id} {:?}", codes(&s.reason_codes)),
            Err(e) => format!("unsubscribed {id}{}", failed(e)),
        },
        Event::Disconnected {
            reason, by_server, ..
        } => format!(
            "disconnected{} {:#04x}",
            if *by_server { " by server" } else { "" },
            reason.as_u8()
        ),
        Event::ProtocolError(e) => format!("protocol error {:#04x}", e.reason_code().as_u8()),
    }
}

fn codes(c: &[ReasonCode]) -> Vec<u8> {
    c.iter().map(|r| r.as_u8()).collect()
}
