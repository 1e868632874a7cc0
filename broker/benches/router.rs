//! Subscription-tree micro-benchmarks (issue 9): match rate with 100,000
//! subscriptions of which a quarter are wildcards, and subscribe rate.
//!
//! Topics look like a building-sensor deployment,
//! `site/{n}/floor/{m}/room/{k}/{sensor}`; subscriptions are exact sensors,
//! rooms, floors and cross-site views held by 25,000 clients. Run with
//! `cargo bench -p courtier --bench router`.

use std::hint::black_box;

use courtier::router::{Delivery, SubscriptionEntry, SubscriptionTree};
use courtier_proto::packet::SubscriptionOptions;
use courtier_proto::{QoS, TopicFilter, TopicName};
use criterion::{BatchSize, Criterion, Throughput};

const SUBSCRIPTIONS: usize = 100_000;
const CLIENTS: u32 = 25_000;
const SITES: u64 = 50;
const FLOORS: u64 = 20;
const ROOMS: u64 = 100;
const SENSORS: [&str; 4] = ["temp", "humidity", "co2", "light"];
/// Topics matched per benchmark iteration.
const TOPICS: usize = 1_000;

/// A small deterministic generator (SplitMix64), so runs are comparable
/// without a `rand` dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }

    fn sensor(&mut self) -> &'static str {
        SENSORS[self.below(SENSORS.len() as u64) as usize]
    }
}

fn random_topic(rng: &mut Rng) -> String {
    let (n, m, k) = (rng.below(SITES), rng.below(FLOORS), rng.below(ROOMS));
    format!("site/{n}/floor/{m}/room/{k}/{}", rng.sensor())
}

/// Three quarters exact sensor topics, one quarter wildcards of five shapes.
fn subscriptions(rng: &mut Rng) -> Vec<(u32, TopicFilter)> {
    (0..SUBSCRIPTIONS)
        .map(|i| {
            let key = (i % CLIENTS as usize) as u32;
            let (n, m, k) = (rng.below(SITES), rng.below(FLOORS), rng.below(ROOMS));
            let filter = match i % 20 {
                0 => format!("site/{n}/floor/{m}/room/+/{}", rng.sensor()),
                1 => format!("site/{n}/floor/{m}/#"),
                2 => format!("site/+/floor/{m}/room/{k}/+"),
                3 => format!("site/{n}/+/+/room/{k}/#"),
                4 => format!("+/{n}/floor/+/room/{k}/{}", rng.sensor()),
                _ => random_topic(rng),
            };
            let filter = TopicFilter::new(filter).expect("generated filters are valid");
            (key, filter)
        })
        .collect()
}

fn entry() -> SubscriptionEntry {
    SubscriptionEntry {
        options: SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..SubscriptionOptions::default()
        },
        identifier: None,
    }
}

fn build(subs: &[(u32, TopicFilter)]) -> SubscriptionTree<u32> {
    let mut tree = SubscriptionTree::new();
    for (key, filter) in subs {
        tree.subscribe(*key, filter, entry());
    }
    tree
}

fn bench_match(c: &mut Criterion, subs: &[(u32, TopicFilter)], rng: &mut Rng) {
    let tree = build(subs);
    let topics: Vec<TopicName> = (0..TOPICS)
        .map(|_| TopicName::new(random_topic(rng)).expect("generated topics are valid"))
        .collect();
    let mut out: Vec<Delivery<u32>> = Vec::new();
    let delivered: usize = topics
        .iter()
        .map(|topic| {
            tree.matches(topic, None, &mut out);
            out.len()
        })
        .sum();
    println!(
        "{} subscriptions, {:.1} deliveries per matched topic on average",
        tree.len(),
        delivered as f64 / TOPICS as f64
    );

    let mut group = c.benchmark_group("router");
    group.throughput(Throughput::Elements(TOPICS as u64));
    group.bench_function("match_100k_subscriptions", |b| {
        b.iter(|| {
            for topic in &topics {
                tree.matches(black_box(topic), None, &mut out);
                black_box(out.len());
            }
        });
    });
    group.finish();
}

fn bench_subscribe(c: &mut Criterion, subs: &[(u32, TopicFilter)]) {
    let mut group = c.benchmark_group("router");
    group.throughput(Throughput::Elements(subs.len() as u64));
    group.sample_size(10);
    group.bench_function("subscribe_100k", |b| {
        b.iter_batched(|| (), |()| build(black_box(subs)), BatchSize::PerIteration);
    });
    group.finish();
}

fn main() {
    let mut rng = Rng(0x5EED);
    let subs = subscriptions(&mut rng);
    let mut c = Criterion::default().configure_from_args();
    bench_match(&mut c, &subs, &mut rng);
    bench_subscribe(&mut c, &subs);
    c.final_summary();
}
