//! The retained-messages scenario (issue 7): retain N messages on distinct topics
//! (`maMaison/capteurI/mesureJ`, a thousand measures per sensor), then read them all back
//! with one `maMaison/#` subscription, reading the broker's RSS after each phase.
//! The phases and the figures are `phases`'.

use std::num::NonZeroU16;
use std::time::Duration;

use crate::conn::{Client, Target};
use crate::phases::{self, Phase};
use crate::procfs::Process;
use crate::report::Report;
use anyhow::{Result, bail};
use bytes::Bytes;
use courtier_proto::packet::Publish;
use courtier_proto::{Packet, QoS, QosPid, TopicName};

/// QoS 1 messages in flight while loading.
const WINDOW: u16 = 100;
/// Packets written per flush at QoS 0.
const BATCH: u64 = 64;

/// The topic of message `i`.
fn topic(i: u64) -> String {
    format!("maMaison/capteur{}/mesure{}", i / 1000, i % 1000)
}

/// The last message, retained at QoS 1 after all others: its PUBACK says the broker has
/// taken every message before it.
const LAST: &str = "maMaison/fin";

/// Runs `phase` with `count` messages of `payload` bytes published at `qos`.
pub(crate) async fn run(
    target: &Target,
    count: u64,
    payload: usize,
    qos: QoS,
    phase: Phase,
    broker: Option<&Process>,
    report: &mut Report,
) -> Result<()> {
    phases::run(
        count,
        payload,
        phase,
        broker,
        report,
        async || load(target, count, payload, qos).await,
        async || read(target, count).await,
    )
    .await
}

fn publish(topic: String, payload: Bytes, qos: QoS, id: u16) -> Result<Packet> {
    let id = NonZeroU16::new(id).unwrap_or(NonZeroU16::MIN);
    Ok(Packet::Publish(Publish {
        dup: false,
        qos_pid: QosPid::new(qos, id),
        retain: true,
        topic: TopicName::new(topic)?,
        properties: Default::default(),
        payload,
    }))
}

/// Retains `count` messages, then [`LAST`]; returns once [`LAST`] is acknowledged.
async fn load(target: &Target, count: u64, payload: usize, qos: QoS) -> Result<()> {
    let (mut c, _) = Client::connect(target, "lg-retained-load").await?;
    let body = Bytes::from(vec![b'x'; payload]);
    let mut in_flight = 0u16;
    for i in 0..count {
        let id = (i % u64::from(WINDOW)) as u16 + 1;
        publish(topic(i), body.clone(), qos, id)?.encode(c.version, &mut c.write_buf)?;
        match qos {
            QoS::AtMostOnce if (i + 1) % BATCH == 0 => c.flush().await?,
            QoS::AtMostOnce => {}
            _ => {
                in_flight += 1;
                if in_flight == WINDOW {
                    c.flush().await?;
                    while in_flight > 0 {
                        in_flight -= acknowledgements(&mut c).await?;
                    }
                }
            }
        }
    }
    c.flush().await?;
    while in_flight > 0 {
        in_flight -= acknowledgements(&mut c).await?;
    }
    // QoS 2 would need PUBREL; one QoS 1 message is all the barrier needs.
    publish(LAST.to_owned(), body, QoS::AtLeastOnce, 1)?.encode(c.version, &mut c.write_buf)?;
    c.flush().await?;
    while acknowledgements(&mut c).await? == 0 {}
    Ok(())
}

/// Reads one packet: 1 for a PUBACK, 0 for anything else a loading client may get.
async fn acknowledgements(c: &mut Client) -> Result<u16> {
    match c.next_packet().await? {
        Packet::Ack(_) => Ok(1),
        Packet::Publish(_) | Packet::PingResp => Ok(0),
        other => bail!("while loading: unexpected {}", other.name()),
    }
}

/// Subscribes to `maMaison/#` at QoS 0 and counts the `count` retained messages that arrive
/// ([`LAST`] aside) until all have, or none came for 10 s.
async fn read(target: &Target, count: u64) -> Result<u64> {
    let (mut c, _) = Client::connect(target, "lg-retained-read").await?;
    c.subscribe("maMaison/#", QoS::AtMostOnce).await?;
    let mut delivered = 0u64;
    while delivered < count {
        let packet = match c.buffered_packet()? {
            Some(p) => p,
            None => {
                match tokio::time::timeout(Duration::from_secs(10), c.fill()).await {
                    Ok(filled) => filled?,
                    Err(_) => break,
                }
                continue;
            }
        };
        if let Packet::Publish(p) = packet
            && p.retain
            && p.topic.as_str() != LAST
        {
            delivered += 1;
        }
    }
    Ok(delivered)
}
