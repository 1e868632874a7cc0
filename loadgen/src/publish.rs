//! The publishing side: a PUBLISH encoded once and patched per message, and the publisher
//! task with its QoS 1/2 window.
//!
//! Each payload starts with a 16-byte stamp: publisher index (u16), sequence number (u32),
//! two spare bytes and the send time in nanoseconds since the run's epoch (u64), all
//! little-endian. The rest of the payload is zeros.

use std::num::NonZeroU16;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use courtier_proto::packet::{AckKind, Publish, QosPid};
use courtier_proto::{Packet, ProtocolVersion, QoS, TopicName};
use tokio::time::{Instant, sleep_until, timeout};

use crate::conn::{Client, put_ack};

/// The smallest payload: the stamp itself.
pub(crate) const STAMP_LEN: usize = 16;

/// How many bytes a publisher queues before writing: large enough to amortise the system
/// call, small enough to keep latency and the broker's read buffer reasonable.
const BATCH_BYTES: usize = 64 * 1024;

/// How long a publisher with a full window waits for an acknowledgement before calling the
/// broker stalled.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// What a received payload says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// Which publisher sent it.
    pub(crate) publisher: u16,
    /// Its place in that publisher's sequence, from 0.
    pub(crate) seq: u32,
    /// When it was sent, nanoseconds since the run's epoch.
    pub(crate) sent_ns: u64,
}

impl Stamp {
    /// Reads the stamp at the start of `payload`, if it is long enough to have one.
    pub(crate) fn read(payload: &[u8]) -> Option<Self> {
        let stamp: &[u8; STAMP_LEN] = payload.get(..STAMP_LEN)?.try_into().ok()?;
        let [p0, p1, s0, s1, s2, s3, _, _, t @ ..] = *stamp;
        Some(Self {
            publisher: u16::from_le_bytes([p0, p1]),
            seq: u32::from_le_bytes([s0, s1, s2, s3]),
            sent_ns: u64::from_le_bytes(t),
        })
    }
}

/// One publisher's PUBLISH, encoded once by the codec; each message copies it and patches
/// the packet id, sequence number and timestamp in place.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    bytes: Bytes,
    /// Where the two packet id bytes are, for QoS 1 and 2.
    packet_id_at: Option<usize>,
    /// Where the payload (and so the stamp) starts.
    payload_at: usize,
}

impl Template {
    /// The PUBLISH of `publisher` to `topic`, with a payload of `payload_len` bytes.
    pub(crate) fn new(
        version: ProtocolVersion,
        topic: &str,
        qos: QoS,
        payload_len: usize,
        publisher: u16,
    ) -> Result<Self> {
        if payload_len < STAMP_LEN {
            bail!("payloads need at least {STAMP_LEN} bytes for the sequence stamp");
        }
        let mut payload = vec![0; payload_len];
        payload[..2].copy_from_slice(&publisher.to_le_bytes());
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::new(qos, NonZeroU16::MIN),
            retain: false,
            topic: TopicName::new(topic).with_context(|| format!("topic {topic}"))?,
            properties: Default::default(),
            payload: payload.into(),
        };
        let mut buf = BytesMut::new();
        Packet::Publish(publish).encode(version, &mut buf)?;
        // Fixed header: one byte, then the remaining length as a variable byte integer.
        let varint_len = 1 + buf[1..].iter().take_while(|b| *b & 0x80 != 0).count();
        let packet_id_at = (qos != QoS::AtMostOnce).then_some(1 + varint_len + 2 + topic.len());
        Ok(Self {
            payload_at: buf.len() - payload_len,
            packet_id_at,
            bytes: buf.freeze(),
        })
    }

    /// Appends message `seq` to `out`.
    pub(crate) fn put(
        &self,
        out: &mut BytesMut,
        packet_id: Option<NonZeroU16>,
        seq: u32,
        sent_ns: u64,
    ) {
        let start = out.len();
        out.extend_from_slice(&self.bytes);
        let message = &mut out[start..];
        if let (Some(at), Some(id)) = (self.packet_id_at, packet_id) {
            message[at..at + 2].copy_from_slice(&id.get().to_be_bytes());
        }
        let stamp = &mut message[self.payload_at..];
        stamp[2..6].copy_from_slice(&seq.to_le_bytes());
        stamp[8..16].copy_from_slice(&sent_ns.to_le_bytes());
    }
}

/// Packet identifiers in use, so an identifier is never reused while its message is still
/// unacknowledged ([MQTT-2.2.1-3]).
struct InflightIds {
    busy: Vec<bool>,
    count: usize,
    next: u16,
}

impl InflightIds {
    fn new() -> Self {
        Self {
            busy: vec![false; 65536],
            count: 0,
            next: 0,
        }
    }

    /// A free identifier, taken in rotation so a late acknowledgement is easy to spot.
    fn allocate(&mut self) -> Option<NonZeroU16> {
        for _ in 0..u16::MAX {
            self.next = self.next.checked_add(1).unwrap_or(1);
            let slot = &mut self.busy[usize::from(self.next)];
            if !*slot {
                *slot = true;
                self.count += 1;
                return NonZeroU16::new(self.next);
            }
        }
        None
    }

    /// Frees `id`; false if it was not in use (an acknowledgement we never asked for).
    fn release(&mut self, id: NonZeroU16) -> bool {
        let slot = &mut self.busy[usize::from(id.get())];
        let was = std::mem::replace(slot, false);
        self.count -= usize::from(was);
        was
    }
}

/// How a publisher sends.
#[derive(Debug, Clone)]
pub(crate) struct PublisherPlan {
    /// QoS of every message.
    pub(crate) qos: QoS,
    /// Most unacknowledged QoS 1/2 messages at once.
    pub(crate) window: usize,
    /// Stop sending at this time...
    pub(crate) deadline: Instant,
    /// ...or after this many messages, whichever comes first.
    pub(crate) max_messages: u64,
    /// Time between messages for a paced publisher, `None` for as fast as possible.
    pub(crate) interval: Option<Duration>,
    /// Zero of the stamps' clock.
    pub(crate) epoch: Instant,
}

/// What a publisher did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PublisherResult {
    /// Messages written.
    pub(crate) sent: u64,
    /// QoS 1/2 messages the broker completed (PUBACK, or PUBCOMP after PUBREC).
    pub(crate) acked: u64,
    /// QoS 1/2 messages the broker refused with an error reason code (5.0).
    pub(crate) refused: u64,
    /// Acknowledgements for identifiers not in flight.
    pub(crate) stray_acks: u64,
}

/// Sends until the plan's deadline or count, then waits for every QoS 1/2 message to be
/// acknowledged.
pub(crate) async fn run(
    mut client: Client,
    template: Template,
    plan: PublisherPlan,
) -> Result<PublisherResult> {
    let mut ids = InflightIds::new();
    let mut result = PublisherResult::default();
    let mut next_due = Instant::now();
    let window = if plan.qos == QoS::AtMostOnce {
        usize::MAX
    } else {
        plan.window.max(1)
    };
    loop {
        let sending = result.sent < plan.max_messages && Instant::now() < plan.deadline;
        if sending {
            while result.sent < plan.max_messages
                && ids.count < window
                && client.write_buf.len() < BATCH_BYTES
            {
                if let Some(interval) = plan.interval {
                    if Instant::now() < next_due {
                        break;
                    }
                    next_due += interval;
                }
                let id = match plan.qos {
                    QoS::AtMostOnce => None,
                    _ => Some(ids.allocate().context("no free packet identifier")?),
                };
                let sent_ns = plan.epoch.elapsed().as_nanos() as u64;
                template.put(&mut client.write_buf, id, result.sent as u32, sent_ns);
                result.sent += 1;
            }
        }
        client.flush().await?;
        if !sending && ids.count == 0 {
            return Ok(result);
        }
        let window_full = ids.count >= window;
        if plan.qos == QoS::AtMostOnce {
            if plan.interval.is_some() && sending {
                sleep_until(next_due).await;
            }
            continue;
        }
        while let Some(packet) = client.buffered_packet()? {
            on_ack(&mut client, &mut ids, &mut result, packet)?;
        }
        if sending && !window_full && plan.interval.is_none() {
            continue;
        }
        let paced = sending && !window_full && plan.interval.is_some();
        tokio::select! {
            filled = timeout(ACK_TIMEOUT, client.fill()) => {
                filled.map_err(|_| anyhow::anyhow!(
                    "no acknowledgement for {ACK_TIMEOUT:?} with {} messages in flight", ids.count
                ))??;
            }
            () = sleep_until(next_due), if paced => {}
        }
        while let Some(packet) = client.buffered_packet()? {
            on_ack(&mut client, &mut ids, &mut result, packet)?;
        }
    }
}

/// Handles one packet from the broker to a publisher.
fn on_ack(
    client: &mut Client,
    ids: &mut InflightIds,
    result: &mut PublisherResult,
    packet: Packet,
) -> Result<()> {
    let Packet::Ack(ack) = packet else {
        bail!("publisher got an unexpected {}", packet.name());
    };
    let refused = ack.reason.as_u8() >= 0x80;
    match ack.kind {
        AckKind::PubRec if !refused => put_ack(&mut client.write_buf, 6, ack.packet_id),
        AckKind::PubAck | AckKind::PubRec | AckKind::PubComp => {
            if !ids.release(ack.packet_id) {
                result.stray_acks += 1;
            } else if refused {
                result.refused += 1;
            } else {
                result.acked += 1;
            }
        }
        AckKind::PubRel => bail!("publisher got a PUBREL"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use courtier_proto::Decoder;

    use super::*;

    fn decode(version: ProtocolVersion, buf: &mut BytesMut) -> Publish {
        match Decoder::with_version(1 << 20, version).decode(buf) {
            Ok(Some(Packet::Publish(p))) => p,
            other => panic!("not a PUBLISH: {other:?}"),
        }
    }

    #[test]
    fn patched_template_decodes_with_its_id_and_stamp() {
        for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            for (qos, len) in [
                (QoS::AtMostOnce, 16),
                (QoS::AtLeastOnce, 1024),
                (QoS::ExactlyOnce, 65536),
            ] {
                let template = Template::new(version, "bench/x/pair/3", qos, len, 3).unwrap();
                let mut buf = BytesMut::new();
                let id = NonZeroU16::new(0xBEEF);
                template.put(&mut buf, id, 41, 7);
                template.put(&mut buf, NonZeroU16::new(2), 42, 9_000_000_000);
                let first = decode(version, &mut buf);
                let second = decode(version, &mut buf);
                assert!(buf.is_empty());
                assert_eq!(first.topic.as_str(), "bench/x/pair/3");
                assert_eq!(first.payload.len(), len);
                assert_eq!(first.qos_pid.qos(), qos);
                if qos != QoS::AtMostOnce {
                    assert_eq!(first.qos_pid.packet_id(), id);
                    assert_eq!(second.qos_pid.packet_id(), NonZeroU16::new(2));
                }
                let stamp = Stamp::read(&second.payload).unwrap();
                assert_eq!(
                    stamp,
                    Stamp {
                        publisher: 3,
                        seq: 42,
                        sent_ns: 9_000_000_000
                    }
                );
            }
        }
    }

    #[test]
    fn short_payloads_are_refused() {
        assert!(Template::new(ProtocolVersion::V5, "t", QoS::AtMostOnce, 15, 0).is_err());
        assert_eq!(Stamp::read(&[0; 15]), None);
    }

    #[test]
    fn identifiers_rotate_and_skip_those_in_flight() {
        let mut ids = InflightIds::new();
        let one = ids.allocate().unwrap();
        let two = ids.allocate().unwrap();
        assert_eq!((one.get(), two.get(), ids.count), (1, 2, 2));
        assert!(ids.release(one));
        assert!(!ids.release(one));
        ids.next = u16::MAX - 1;
        assert_eq!(ids.allocate().unwrap().get(), u16::MAX);
        // Wraps past zero to 1 (free again), then 2 is busy and is skipped.
        assert_eq!(ids.allocate().unwrap().get(), 1);
        assert_eq!(ids.allocate().unwrap().get(), 3);
    }
}
