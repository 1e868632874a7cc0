//! The receiving side: a subscriber task that acknowledges what QoS 1/2 requires and
//! accounts for every delivery (sequence, latency, gaps).

use std::time::Duration;

use anyhow::{Result, bail};
use courtier_proto::Packet;
use courtier_proto::packet::{AckKind, QosPid};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

use crate::conn::{Client, put_ack};
use crate::publish::Stamp;
use crate::stats::SeqTracker;

/// What one subscriber saw.
#[derive(Debug, Default)]
pub(crate) struct SubscriberResult {
    /// Every PUBLISH received, duplicates included.
    pub(crate) deliveries: u64,
    /// Sequence numbers per publisher index.
    pub(crate) sequences: Vec<SeqTracker>,
    /// Send-to-receive latency of every delivery, microseconds: four bytes a sample keeps
    /// millions of deliveries cheap, and no broker is judged on sub-microsecond differences.
    pub(crate) latencies_us: Vec<u32>,
    /// The longest silence between two consecutive deliveries (or from the start of
    /// publishing to the first one).
    pub(crate) max_gap: Duration,
    /// When the last delivery arrived.
    pub(crate) last_delivery: Option<Instant>,
    /// Payloads without a valid stamp, or from an unknown publisher.
    pub(crate) malformed: u64,
}

/// How a subscriber knows it is done.
#[derive(Debug, Clone)]
pub(crate) struct SubscriberPlan {
    /// The publisher indices whose messages this subscriber should get.
    pub(crate) hears: Vec<u16>,
    /// Number of publishers in the run (the size of the sequence table).
    pub(crate) publishers: usize,
    /// Zero of the stamps' clock.
    pub(crate) epoch: Instant,
    /// After the publishers have finished, stop once nothing has arrived for this long...
    pub(crate) quiet: Duration,
    /// ...or at the latest this long after they finished: a broker with a deep backlog is
    /// reported as slow and lossy rather than holding the run forever.
    pub(crate) drain: Duration,
}

/// Receives until every message sent to it has arrived, or until it has been quiet for
/// `plan.quiet` after the publishers finished. `sent` becomes `Some(counts per publisher)`
/// once every publisher is done.
pub(crate) async fn run(
    mut client: Client,
    plan: SubscriberPlan,
    mut sent: watch::Receiver<Option<Vec<u64>>>,
) -> Result<SubscriberResult> {
    let mut result = SubscriberResult {
        sequences: vec![SeqTracker::default(); plan.publishers],
        ..Default::default()
    };
    let mut finished: Option<Vec<u64>> = None;
    let mut drain_deadline = Instant::now();
    loop {
        while let Some(packet) = client.buffered_packet()? {
            on_packet(&mut client, &plan, &mut result, packet)?;
        }
        client.flush().await?;
        if let Some(counts) = &finished {
            let complete = plan.hears.iter().all(|&p| {
                let p = usize::from(p);
                result.sequences[p].unique() >= counts.get(p).copied().unwrap_or(0)
            });
            if complete {
                return Ok(result);
            }
        }
        tokio::select! {
            filled = client.fill() => filled?,
            changed = sent.changed(), if finished.is_none() => {
                if changed.is_err() {
                    bail!("the run ended before its publishers reported");
                }
                finished = sent.borrow().clone();
                drain_deadline = Instant::now() + plan.drain;
            }
            () = sleep(plan.quiet), if finished.is_some() => return Ok(result),
            () = sleep_until(drain_deadline), if finished.is_some() => return Ok(result),
        }
    }
}

/// Handles one packet from the broker to a subscriber.
fn on_packet(
    client: &mut Client,
    plan: &SubscriberPlan,
    result: &mut SubscriberResult,
    packet: Packet,
) -> Result<()> {
    match packet {
        Packet::Publish(publish) => {
            let now = Instant::now();
            match publish.qos_pid {
                QosPid::AtMostOnce => {}
                QosPid::AtLeastOnce(id) => put_ack(&mut client.write_buf, 4, id),
                QosPid::ExactlyOnce(id) => put_ack(&mut client.write_buf, 5, id),
            }
            result.deliveries += 1;
            // The first gap runs from the start of publishing, so a subscriber that waits
            // seconds for its first message shows that stall too.
            let previous = result.last_delivery.unwrap_or(plan.epoch);
            result.max_gap = result.max_gap.max(now.saturating_duration_since(previous));
            result.last_delivery = Some(now);
            let stamp = Stamp::read(&publish.payload);
            match stamp.and_then(|s| Some((s, result.sequences.get_mut(usize::from(s.publisher))?)))
            {
                Some((stamp, sequence)) => {
                    sequence.record(stamp.seq);
                    let received_ns = (now - plan.epoch).as_nanos() as u64;
                    let latency = received_ns.saturating_sub(stamp.sent_ns) / 1000;
                    result
                        .latencies_us
                        .push(u32::try_from(latency).unwrap_or(u32::MAX));
                }
                None => result.malformed += 1,
            }
        }
        Packet::Ack(ack) if ack.kind == AckKind::PubRel => {
            put_ack(&mut client.write_buf, 7, ack.packet_id)
        }
        Packet::PingResp => {}
        other => bail!("subscriber got an unexpected {}", other.name()),
    }
    Ok(())
}
