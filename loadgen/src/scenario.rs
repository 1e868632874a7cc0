//! The message scenarios (fan-in, fan-out, pairs, latency): who publishes where, who
//! subscribes to what, and one run from connection to report.

use std::time::Duration;

use anyhow::{Context, Result};
use courtier_proto::QoS;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::conn::{Client, Target};
use crate::procfs::Process;
use crate::publish::{self, PublisherPlan, Template};
use crate::report::{MessageFigures, Report};
use crate::stats::Percentiles;
use crate::subscribe::{self, SubscriberPlan};

/// The scenarios of issue 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scenario {
    /// 10 publishers, each on its own topic, to 1 subscriber on a `+` wildcard.
    FanIn,
    /// 1 publisher to N subscribers of the same topic (`--fanout`, 100 by default).
    FanOut,
    /// 10 independent publisher → subscriber pairs, one topic each.
    Pairs,
    /// 1 publisher at a fixed rate (`--rate`, 1,000 msg/s) to 1 subscriber.
    Latency,
    /// N connections that connect and then do nothing (`--connections`).
    Idle,
    /// Retain `--messages` messages on distinct topics, then read them back (`--phase`).
    Retained,
    /// Queue `--messages` QoS 1 messages for an absent persistent subscriber, then let it
    /// come back for them (`--phase`).
    Offline,
}

/// Who publishes and subscribes where in one message scenario.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    /// One topic per publisher; the publisher's index is its place here.
    pub(crate) publishers: Vec<String>,
    /// Each subscriber's filter and the publishers it should hear.
    pub(crate) subscribers: Vec<(String, Vec<u16>)>,
}

impl Shape {
    /// The shape of `scenario` under the topic prefix `base`.
    pub(crate) fn of(scenario: Scenario, base: &str, fanout: usize) -> Self {
        match scenario {
            Scenario::FanIn => Self {
                publishers: (0..10).map(|i| format!("{base}/in/{i}")).collect(),
                subscribers: vec![(format!("{base}/in/+"), (0..10).collect())],
            },
            Scenario::FanOut => Self {
                publishers: vec![format!("{base}/out")],
                subscribers: (0..fanout)
                    .map(|_| (format!("{base}/out"), vec![0]))
                    .collect(),
            },
            Scenario::Pairs => Self {
                publishers: (0..10).map(|i| format!("{base}/pair/{i}")).collect(),
                subscribers: (0..10)
                    .map(|i| (format!("{base}/pair/{i}"), vec![i]))
                    .collect(),
            },
            Scenario::Latency | Scenario::Idle | Scenario::Retained | Scenario::Offline => Self {
                publishers: vec![format!("{base}/lat")],
                subscribers: vec![(format!("{base}/lat"), vec![0])],
            },
        }
    }
}

/// Everything one message run needs.
#[derive(Debug, Clone)]
pub(crate) struct MessageRun {
    /// Where to connect.
    pub(crate) target: Target,
    /// Which scenario.
    pub(crate) scenario: Scenario,
    /// QoS of publishing and subscribing.
    pub(crate) qos: QoS,
    /// Payload size in bytes.
    pub(crate) payload: usize,
    /// How long publishers send.
    pub(crate) duration: Duration,
    /// Cap on messages per publisher.
    pub(crate) max_messages: u64,
    /// Unacknowledged QoS 1/2 messages per publisher.
    pub(crate) window: usize,
    /// Subscribers in fan-out.
    pub(crate) fanout: usize,
    /// Messages per second of the latency publisher.
    pub(crate) rate: f64,
    /// Quiet time that ends a subscriber once publishers are done.
    pub(crate) quiet: Duration,
    /// Longest wait for the backlog once publishers are done.
    pub(crate) drain: Duration,
    /// Unique prefix of this run's topics and client ids.
    pub(crate) run_id: String,
}

/// Connects everyone, runs the publishers and subscribers, and measures.
pub(crate) async fn run(
    run: &MessageRun,
    broker: Option<&Process>,
    report: &mut Report,
) -> Result<()> {
    let base = format!("bench/{}", run.run_id);
    let shape = Shape::of(run.scenario, &base, run.fanout);
    report.publishers = shape.publishers.len();
    report.subscribers = shape.subscribers.len();

    // Subscribers first, each with its SUBACK in hand, so no message can precede them.
    let mut connecting = JoinSet::new();
    for (i, (filter, _)) in shape.subscribers.iter().enumerate() {
        let (target, filter, qos) = (run.target.clone(), filter.clone(), run.qos);
        let id = format!("{}-s{i}", run.run_id);
        connecting.spawn(async move {
            let (mut client, _) = Client::connect(&target, &id).await?;
            client.subscribe(&filter, qos).await?;
            anyhow::Ok((i, client))
        });
    }
    let mut subscribers: Vec<Option<Client>> = (0..shape.subscribers.len()).map(|_| None).collect();
    while let Some(joined) = connecting.join_next().await {
        let (i, client) = joined??;
        subscribers[i] = Some(client);
    }
    let mut publishers = Vec::new();
    for (i, topic) in shape.publishers.iter().enumerate() {
        let (client, connack) =
            Client::connect(&run.target, &format!("{}-p{i}", run.run_id)).await?;
        // A 5.0 broker's Receive Maximum caps our window ([MQTT-3.3.4-7]).
        let window = connack
            .properties
            .receive_maximum
            .map_or(run.window, |max| run.window.min(usize::from(max.get())));
        let template = Template::new(run.target.version, topic, run.qos, run.payload, i as u16)?;
        publishers.push((client, template, window));
    }

    let own = Process::new(None);
    let (cpu_before, own_before) = (broker.map(Process::cpu).transpose()?, own.cpu()?);
    let epoch = Instant::now();
    let (sent_tx, sent_rx) = watch::channel(None);
    let mut receiving = JoinSet::new();
    for (i, (client, (_, hears))) in subscribers
        .into_iter()
        .flatten()
        .zip(&shape.subscribers)
        .enumerate()
    {
        let plan = SubscriberPlan {
            hears: hears.clone(),
            publishers: shape.publishers.len(),
            epoch,
            quiet: run.quiet,
            drain: run.drain,
        };
        let sent_rx = sent_rx.clone();
        receiving.spawn(async move { (i, subscribe::run(client, plan, sent_rx).await) });
    }
    let interval =
        (run.scenario == Scenario::Latency).then(|| Duration::from_secs_f64(1.0 / run.rate));
    let mut sending = JoinSet::new();
    for (i, (client, template, window)) in publishers.into_iter().enumerate() {
        let plan = PublisherPlan {
            qos: run.qos,
            window,
            deadline: epoch + run.duration,
            max_messages: run.max_messages,
            interval,
            epoch,
        };
        sending.spawn(async move { (i, publish::run(client, template, plan).await) });
    }
    let mut sent = vec![publish::PublisherResult::default(); shape.publishers.len()];
    while let Some(joined) = sending.join_next().await {
        let (i, result) = joined?;
        sent[i] = result.with_context(|| format!("publisher {i}"))?;
    }
    let publishing_ended = Instant::now();
    sent_tx.send_replace(Some(sent.iter().map(|r| r.sent).collect()));

    let mut figures = MessageFigures::default();
    let mut latencies = Vec::new();
    let mut last_delivery = None;
    for r in &sent {
        figures.sent += r.sent;
        figures.acked += r.acked;
        figures.refused += r.refused;
        figures.stray_acks += r.stray_acks;
    }
    while let Some(joined) = receiving.join_next().await {
        let (i, r) = joined?;
        let mut r = r.with_context(|| format!("subscriber {i}"))?;
        figures.deliveries += r.deliveries;
        figures.malformed += r.malformed;
        figures.max_gap_ms = figures.max_gap_ms.max(r.max_gap.as_secs_f64() * 1e3);
        last_delivery = last_delivery.max(r.last_delivery);
        latencies.append(&mut r.latencies_us);
        for &p in &shape.subscribers[i].1 {
            let tracker = &r.sequences[usize::from(p)];
            figures.unique += tracker.unique();
            figures.duplicated += tracker.duplicates();
            figures.lost += tracker.lost(sent[usize::from(p)].sent);
        }
    }
    figures.expected = shape
        .subscribers
        .iter()
        .flat_map(|(_, hears)| hears.iter().map(|&p| sent[usize::from(p)].sent))
        .sum();
    let cpu_after = broker.map(Process::cpu).transpose()?;
    let own_after = own.cpu()?;

    let end = last_delivery
        .unwrap_or(publishing_ended)
        .max(publishing_ended);
    report.seconds = (end - epoch).as_secs_f64();
    figures.msgs_per_sec = figures.unique as f64 / report.seconds.max(1e-9);
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let cpu = after.saturating_sub(before);
        report.broker_cpu_ms = Some(cpu.as_secs_f64() * 1e3);
        report.cpu_us_per_msg = Some(cpu.as_secs_f64() * 1e6 / figures.unique.max(1) as f64);
    }
    report.loadgen_cpu_ms = own_after.saturating_sub(own_before).as_secs_f64() * 1e3;
    figures.latency = Percentiles::from_micros(&mut latencies);
    report.messages = Some(figures);
    Ok(())
}
