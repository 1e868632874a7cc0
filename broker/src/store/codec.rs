//! The byte layout of stored records.
//!
//! Messages and subscriptions are stored as MQTT 5.0 packets (a PUBLISH, a
//! one-filter SUBSCRIBE) encoded and decoded by `courtier-proto`: the one
//! codec the broker already trusts with peer input, so a damaged record is
//! rejected by the same checks as a malformed packet. Small fixed headers
//! carry what packets cannot (absolute expiry times, delivery choices).
//! Integers are big-endian.

use std::num::{NonZeroU16, NonZeroU32};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BufMut, BytesMut};
use bytestring::ByteString;
use courtier_proto::packet::{
    Connect, ConnectProperties, LastWill, Publish, Subscribe, SubscribeProperties, Subscription,
};
use courtier_proto::{Decoder, Packet, PacketId, ProtocolVersion, QoS, QosPid, TopicFilter};

use super::{OutboundState, instant_to_wall, wall_to_instant};
use crate::message::Message;
use crate::router::SubscriptionEntry;
use crate::session::queue::Outgoing;

/// Format version of session records, so a later layout can be told apart.
/// Format 1 (no will section) is still read.
const SESSION_FORMAT: u8 = 2;

/// A stored will, kept with its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWill {
    /// The will, with its v5 properties (Will Delay Interval included).
    pub will: LastWill,
    /// When a delayed will is due, Unix ms; 0 while its client was connected
    /// (the connection has not ended, so no delay is running yet).
    pub at: u64,
}

/// A session as stored.
#[derive(Debug, Clone, Default)]
pub struct SessionRecord {
    /// Session Expiry Interval, seconds (`u32::MAX`: never).
    pub expiry_interval: u32,
    /// When the client disconnected, Unix ms; 0 while it was connected.
    pub disconnected_at: u64,
    /// Its subscriptions.
    pub subscriptions: Vec<(TopicFilter, SubscriptionEntry)>,
    /// The will of its connection, or its pending delayed will (boxed: rare,
    /// and large next to the other ops).
    pub will: Option<Box<StoredWill>>,
}

/// An outbound message as stored: the delivery choices and the message.
pub type OutboundRecord = Outgoing;

/// Clocks for converting expiry times between runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clocks {
    pub(super) now: Instant,
    pub(super) wall: u64,
}

fn qos_from(b: u8) -> Result<QoS, String> {
    match b {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        _ => Err(format!("invalid QoS {b}")),
    }
}

fn need(buf: &[u8], n: usize, what: &str) -> Result<(), String> {
    if buf.remaining() < n {
        return Err(format!("truncated {what} record"));
    }
    Ok(())
}

fn decode_packet(bytes: &[u8]) -> Result<Packet, String> {
    let mut buf = BytesMut::from(bytes);
    let mut decoder = Decoder::with_version(u32::MAX, ProtocolVersion::V5);
    match decoder.decode(&mut buf) {
        Ok(Some(p)) if buf.is_empty() => Ok(p),
        Ok(_) => Err("incomplete packet in record".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn encode_packet(packet: &Packet, out: &mut Vec<u8>) {
    let mut buf = BytesMut::new();
    // Stored packets were decoded by us or built from decoded ones: they
    // encode. A failure would be a codec bug; the record then decodes as
    // damaged at the next start rather than panicking the writer.
    let _ = packet.encode(ProtocolVersion::V5, &mut buf);
    out.put_u32(u32::try_from(buf.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(&buf);
}

fn take_packet(buf: &mut &[u8], what: &str) -> Result<Packet, String> {
    need(buf, 4, what)?;
    let len = buf.get_u32() as usize;
    need(buf, len, what)?;
    let (body, rest) = buf.split_at(len);
    *buf = rest;
    decode_packet(body)
}

/// A message: absolute expiry, then the PUBLISH that carries the rest.
pub(super) fn encode_message(msg: &Message, clocks: Clocks, out: &mut Vec<u8>) {
    out.put_u64(instant_to_wall(msg.expires_at, clocks.now, clocks.wall));
    let publish = Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::new(msg.qos, PacketId::MIN),
        retain: msg.retain,
        topic: msg.topic.clone(),
        properties: msg.properties.clone(),
        payload: msg.payload.clone(),
    });
    encode_packet(&publish, out);
}

fn take_message(buf: &mut &[u8], clocks: Clocks) -> Result<Message, String> {
    need(buf, 8, "message")?;
    let expiry = buf.get_u64();
    match take_packet(buf, "message")? {
        Packet::Publish(p) => Ok(Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos_pid.qos(),
            retain: p.retain,
            properties: p.properties,
            expires_at: wall_to_instant(expiry, clocks.now, clocks.wall),
        }),
        other => Err(format!("a {} where a message was stored", other.name())),
    }
}

/// When a stored retained message expires (Unix ms, 0: never), read from
/// its header alone: the start-up index needs no more.
pub(super) fn message_expiry(mut bytes: &[u8]) -> Result<u64, String> {
    need(bytes, 8, "message")?;
    Ok(bytes.get_u64())
}

/// A retained message.
pub(super) fn decode_message(mut bytes: &[u8], clocks: Clocks) -> Result<Message, String> {
    take_message(&mut bytes, clocks)
}

/// An outbound delivery: QoS, RETAIN, subscription ids, message.
pub(super) fn encode_outbound(item: &Outgoing, clocks: Clocks) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + item.msg.payload.len());
    out.put_u8(item.qos as u8);
    out.put_u8(u8::from(item.retain));
    out.put_u16(u16::try_from(item.subscription_ids.len()).unwrap_or(u16::MAX));
    for id in item.subscription_ids.iter().take(usize::from(u16::MAX)) {
        out.put_u32(id.get());
    }
    encode_message(&item.msg, clocks, &mut out);
    out
}

/// When a stored outbound message expires (Unix ms, 0: never), read from
/// its headers alone: start-up drops expired queued messages unread.
pub(super) fn outbound_expiry(mut buf: &[u8]) -> Result<u64, String> {
    need(buf, 4, "outbound")?;
    buf.advance(2);
    let n = usize::from(buf.get_u16());
    need(buf, 4 * n, "outbound")?;
    buf.advance(4 * n);
    message_expiry(buf)
}

/// See [`encode_outbound`].
pub(super) fn decode_outbound(mut buf: &[u8], clocks: Clocks) -> Result<Outgoing, String> {
    need(buf, 4, "outbound")?;
    let qos = qos_from(buf.get_u8())?;
    let retain = buf.get_u8() != 0;
    let n = usize::from(buf.get_u16());
    need(buf, 4 * n, "outbound")?;
    let subscription_ids = (0..n)
        .map(|_| NonZeroU32::new(buf.get_u32()).ok_or("subscription id 0"))
        .collect::<Result<Vec<_>, _>>()?;
    let msg = take_message(&mut buf, clocks)?;
    Ok(Outgoing {
        msg: Arc::new(msg),
        qos,
        retain,
        subscription_ids,
        stored: None,
    })
}

/// A delivery state: tag and packet id.
pub(super) fn encode_state(state: OutboundState) -> [u8; 3] {
    let (tag, id) = match state {
        OutboundState::Queued => (0, 0),
        OutboundState::Sent(id) => (1, id.get()),
        OutboundState::Released(id) => (2, id.get()),
    };
    let [a, b] = id.to_be_bytes();
    [tag, a, b]
}

/// See [`encode_state`].
pub(super) fn decode_state(bytes: &[u8]) -> Result<OutboundState, String> {
    let [tag, a, b] = bytes else {
        return Err("delivery state of the wrong size".into());
    };
    let id = NonZeroU16::new(u16::from_be_bytes([*a, *b]));
    match (tag, id) {
        (0, _) => Ok(OutboundState::Queued),
        (1, Some(id)) => Ok(OutboundState::Sent(id)),
        (2, Some(id)) => Ok(OutboundState::Released(id)),
        _ => Err(format!("invalid delivery state {tag}")),
    }
}

/// A will: a flag, its due time, then a v5 CONNECT that carries it (the
/// packet whose encoding holds every will property, the delay included).
fn encode_will(will: Option<&StoredWill>, out: &mut Vec<u8>) {
    let Some(w) = will else {
        out.put_u8(0);
        return;
    };
    out.put_u8(1);
    out.put_u64(w.at);
    let connect = Packet::Connect(Box::new(Connect {
        protocol: ProtocolVersion::V5,
        clean_start: false,
        keep_alive: 0,
        client_id: ByteString::new(),
        will: Some(w.will.clone()),
        username: None,
        password: None,
        properties: ConnectProperties::default(),
    }));
    encode_packet(&connect, out);
}

fn take_will(buf: &mut &[u8]) -> Result<Option<Box<StoredWill>>, String> {
    need(buf, 1, "session")?;
    if buf.get_u8() == 0 {
        return Ok(None);
    }
    need(buf, 8, "session")?;
    let at = buf.get_u64();
    match take_packet(buf, "session")? {
        Packet::Connect(c) if c.will.is_some() => {
            Ok(c.will.map(|will| Box::new(StoredWill { will, at })))
        }
        _ => Err("a session record holds a will that is not a CONNECT with a will".into()),
    }
}

/// A session: format, expiry, disconnect time, one SUBSCRIBE per
/// subscription, then the will.
pub(super) fn encode_session(s: &SessionRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 32 * s.subscriptions.len());
    out.put_u8(SESSION_FORMAT);
    out.put_u32(s.expiry_interval);
    out.put_u64(s.disconnected_at);
    out.put_u32(u32::try_from(s.subscriptions.len()).unwrap_or(u32::MAX));
    for (filter, entry) in &s.subscriptions {
        let subscribe = Packet::Subscribe(Subscribe {
            packet_id: PacketId::MIN,
            subscriptions: vec![Subscription {
                filter: filter.clone(),
                options: entry.options,
            }],
            properties: SubscribeProperties {
                subscription_identifier: entry.identifier,
                user_properties: Vec::new(),
            },
        });
        encode_packet(&subscribe, &mut out);
    }
    encode_will(s.will.as_deref(), &mut out);
    out
}

/// See [`encode_session`].
pub(super) fn decode_session(mut buf: &[u8]) -> Result<SessionRecord, String> {
    need(buf, 17, "session")?;
    let format = buf.get_u8();
    if format != 1 && format != SESSION_FORMAT {
        return Err(format!("unknown session record format {format}"));
    }
    let expiry_interval = buf.get_u32();
    let disconnected_at = buf.get_u64();
    let n = buf.get_u32();
    let mut subscriptions = Vec::new();
    for _ in 0..n {
        let Packet::Subscribe(s) = take_packet(&mut buf, "session")? else {
            return Err("a session record holds a packet that is not SUBSCRIBE".into());
        };
        let identifier = s.properties.subscription_identifier;
        for sub in s.subscriptions {
            let entry = SubscriptionEntry {
                options: sub.options,
                identifier,
            };
            subscriptions.push((sub.filter, entry));
        }
    }
    let will = if format == 1 {
        None
    } else {
        take_will(&mut buf)?
    };
    if !buf.is_empty() {
        return Err("trailing bytes after a session record".into());
    }
    Ok(SessionRecord {
        expiry_interval,
        disconnected_at,
        subscriptions,
        will,
    })
}

#[cfg(test)]
mod tests {
    use courtier_proto::packet::SubscriptionOptions;

    use super::*;
    use crate::session::queue::sample;

    fn clocks() -> Clocks {
        Clocks {
            now: Instant::now(),
            wall: 1_000_000,
        }
    }

    #[test]
    fn records_round_trip() {
        let c = clocks();
        let mut item = sample(QoS::ExactlyOnce, "payload");
        item.subscription_ids = vec![NonZeroU32::MIN, NonZeroU32::MAX];
        let back = decode_outbound(&encode_outbound(&item, c), c).expect("decodes");
        assert_eq!(back.qos, QoS::ExactlyOnce);
        assert_eq!(back.subscription_ids, item.subscription_ids);
        assert_eq!(back.msg.payload, item.msg.payload);
        assert_eq!(back.msg.topic, item.msg.topic);

        let session = SessionRecord {
            expiry_interval: 60,
            disconnected_at: 5,
            subscriptions: vec![(
                TopicFilter::new("a/+").expect("filter"),
                SubscriptionEntry {
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: true,
                        ..Default::default()
                    },
                    identifier: NonZeroU32::new(7),
                },
            )],
            will: None,
        };
        let back = decode_session(&encode_session(&session)).expect("decodes");
        assert_eq!(back.expiry_interval, 60);
        assert_eq!(back.subscriptions, session.subscriptions);
        assert_eq!(back.will, None);

        for s in [
            OutboundState::Queued,
            OutboundState::Sent(PacketId::MAX),
            OutboundState::Released(PacketId::MIN),
        ] {
            assert_eq!(decode_state(&encode_state(s)), Ok(s));
        }
    }

    #[test]
    fn expiry_times_are_read_from_the_headers_alone() {
        let c = clocks();
        let mut item = sample(QoS::AtLeastOnce, "payload");
        item.subscription_ids = vec![NonZeroU32::MIN, NonZeroU32::MAX];
        let bytes = encode_outbound(&item, c);
        assert_eq!(outbound_expiry(&bytes), Ok(0), "no expiry");
        item.msg = Arc::new(Message {
            topic: item.msg.topic.clone(),
            payload: item.msg.payload.clone(),
            qos: item.msg.qos,
            retain: false,
            properties: Default::default(),
            expires_at: Some(c.now + std::time::Duration::from_secs(5)),
        });
        let bytes = encode_outbound(&item, c);
        assert_eq!(outbound_expiry(&bytes), Ok(c.wall + 5000));
        assert!(outbound_expiry(&bytes[..5]).is_err(), "truncated");
        let mut retained = Vec::new();
        encode_message(&item.msg, c, &mut retained);
        assert_eq!(message_expiry(&retained), Ok(c.wall + 5000));
    }

    fn will_session() -> SessionRecord {
        let will = LastWill {
            topic: courtier_proto::TopicName::new("status/w".to_owned()).expect("topic"),
            payload: bytes::Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: courtier_proto::packet::WillProperties {
                will_delay_interval: Some(2),
                message_expiry_interval: Some(30),
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
        };
        SessionRecord {
            expiry_interval: u32::MAX,
            disconnected_at: 0,
            subscriptions: Vec::new(),
            will: Some(Box::new(StoredWill {
                will,
                at: 1_234_567,
            })),
        }
    }

    #[test]
    fn a_will_round_trips_with_its_properties_and_due_time() {
        let session = will_session();
        let back = decode_session(&encode_session(&session)).expect("decodes");
        assert_eq!(back.will, session.will);
        let bytes = encode_session(&session);
        for cut in 0..bytes.len() {
            assert!(decode_session(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn format_1_session_records_are_still_read() {
        let mut old = vec![1];
        old.extend_from_slice(&60u32.to_be_bytes());
        old.extend_from_slice(&5u64.to_be_bytes());
        old.extend_from_slice(&0u32.to_be_bytes());
        let back = decode_session(&old).expect("decodes");
        assert_eq!((back.expiry_interval, back.will), (60, None));
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let c = clocks();
        let good = encode_outbound(&sample(QoS::AtLeastOnce, "x"), c);
        for cut in 0..good.len() {
            assert!(decode_outbound(&good[..cut], c).is_err(), "cut at {cut}");
        }
        assert!(decode_session(&[1, 0, 0]).is_err());
        assert!(decode_state(&[9, 0, 1]).is_err());
    }
}
