//! The offline-queue scenario (issue 7): a persistent subscriber leaves, N QoS 1 messages
//! are queued for it, and it comes back for them; the broker's RSS is read after each phase.
//! The phases and the figures are `phases`'.

use std::num::NonZeroU16;
use std::time::Duration;

use crate::conn::{Client, Target, put_ack};
use crate::phases::{self, Phase};
use crate::procfs::Process;
use crate::report::Report;
use anyhow::{Result, bail};
use bytes::Bytes;
use courtier_proto::packet::Publish;
use courtier_proto::{Packet, ProtocolVersion, QoS, QosPid, TopicName};

/// The subscriber's client id and topic.
const SUBSCRIBER: &str = "lg-offline-sub";
const TOPIC: &str = "maMaison/offline";
/// QoS 1 messages in flight while loading.
const WINDOW: u64 = 100;
/// PUBACK's packet type.
const PUBACK: u8 = 4;

/// Runs `phase` with `count` messages of `payload` bytes. The figures are reported in the
/// retained scenario's fields: loaded = queued for the absent subscriber.
pub(crate) async fn run(
    target: &Target,
    count: u64,
    payload: usize,
    phase: Phase,
    broker: Option<&Process>,
    report: &mut Report,
) -> Result<()> {
    // A persistent session, whatever `--persistent` says.
    let target = Target {
        persistent: true,
        version: ProtocolVersion::V3_1_1,
        ..target.clone()
    };
    report.qos = 1;
    phases::run(
        count,
        payload,
        phase,
        broker,
        report,
        async || {
            let (mut sub, _) = Client::connect(&target, SUBSCRIBER).await?;
            sub.subscribe(TOPIC, QoS::AtLeastOnce).await?;
            drop(sub);
            load(&target, count, payload).await
        },
        async || read(&target, count).await,
    )
    .await
}

/// Publishes `count` QoS 1 messages to [`TOPIC`], 100 in flight; returns once all are
/// acknowledged (so all are queued, and with a store, stored).
async fn load(target: &Target, count: u64, payload: usize) -> Result<()> {
    let (mut c, _) = Client::connect(
        &Target {
            persistent: false,
            ..target.clone()
        },
        "lg-offline-pub",
    )
    .await?;
    let body = Bytes::from(vec![b'x'; payload]);
    let topic = TopicName::new(TOPIC)?;
    let mut acked = 0u64;
    for i in 0..count {
        let id = NonZeroU16::new((i % WINDOW) as u16 + 1).unwrap_or(NonZeroU16::MIN);
        Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::new(QoS::AtLeastOnce, id),
            retain: false,
            topic: topic.clone(),
            properties: Default::default(),
            payload: body.clone(),
        })
        .encode(c.version, &mut c.write_buf)?;
        if (i + 1) % WINDOW == 0 || i + 1 == count {
            c.flush().await?;
            while acked <= i {
                match c.next_packet().await? {
                    Packet::Ack(_) => acked += 1,
                    other => bail!("while queueing: unexpected {}", other.name()),
                }
            }
        }
    }
    Ok(())
}

/// Resumes the subscriber's session and counts the messages that arrive, acknowledging each,
/// until all `count` have or none came for 10 s.
async fn read(target: &Target, count: u64) -> Result<u64> {
    let (mut c, ack) = Client::connect(target, SUBSCRIBER).await?;
    if !ack.session_present {
        bail!("the subscriber's session was not kept");
    }
    let mut delivered = 0u64;
    while delivered < count {
        let packet = match c.buffered_packet()? {
            Some(p) => p,
            None => {
                c.flush().await?;
                match tokio::time::timeout(Duration::from_secs(10), c.fill()).await {
                    Ok(filled) => filled?,
                    Err(_) => break,
                }
                continue;
            }
        };
        if let Packet::Publish(p) = packet {
            delivered += 1;
            if let Some(id) = p.qos_pid.packet_id() {
                put_ack(&mut c.write_buf, PUBACK, id);
            }
        }
    }
    c.flush().await?;
    Ok(delivered)
}
