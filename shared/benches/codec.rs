//! Codec throughput, side by side with rumqttc's `mqttbytes` in the same run:
//! decode and encode of PUBLISH (16 B and 1 KiB payloads, 3.1.1 and 5.0),
//! CONNECT with properties (5.0) and SUBSCRIBE with 10 filters.
//!
//! Run: `cargo bench -p courtier-proto --bench codec`. Each benchmark counts
//! one packet per iteration, so criterion reports packets per second.
//!
//! Wall-clock numbers are noisy on a shared machine, so the same binary also
//! runs one case in a plain loop for an instruction counter, which is
//! deterministic: with `CODEC_COUNT=decode/publish_16B_v5/courtier:10000` set,
//! it runs that case 10,000 times and exits. Under
//! `valgrind --tool=callgrind --toggle-collect='*measured*'` only the codec
//! calls are counted (not the buffer set-up): divide the total by the count.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    match std::env::var("CODEC_COUNT") {
        Ok(spec) => native::count(&spec),
        Err(_) => {
            native::benches();
            criterion::Criterion::default()
                .configure_from_args()
                .final_summary();
        }
    }
}

/// Nothing to measure on wasm32: rumqttc does not build there.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::num::{NonZeroU16, NonZeroU32};

    use bytes::{Bytes, BytesMut};
    use courtier_proto::packet::*;
    use courtier_proto::{Decoder, TopicFilter, TopicName};
    use criterion::{BatchSize, Criterion, Throughput};
    use rumqttc::mqttbytes::QoS as Q4;
    use rumqttc::mqttbytes::v4 as mq4;
    use rumqttc::v5::mqttbytes::QoS as Q5;
    use rumqttc::v5::mqttbytes::v5 as mq5;

    const MAX: u32 = 1 << 20;
    const TOPIC: &str = "sensors/building-1/room-42/temperature";

    /// The packets to compare: ours and theirs, meaning the same thing.
    enum Theirs {
        V4(mq4::Packet),
        V5(Box<mq5::Packet>),
    }

    /// A packet mqttbytes decoded. Not boxed, unlike [`Theirs`]: boxing
    /// would time an allocation that mqttbytes itself does not make.
    #[allow(dead_code, clippy::large_enum_variant)]
    enum TheirsDecoded {
        V4(mq4::Packet),
        V5(mq5::Packet),
    }

    impl Theirs {
        fn encode(&self, buf: &mut BytesMut) {
            match self {
                Self::V4(p) => drop(p.write(buf, MAX as usize).expect("mqttbytes encodes")),
                Self::V5(p) => drop(p.write(buf, Some(MAX)).expect("mqttbytes encodes")),
            }
        }

        /// The decoded packet is returned, not dropped, so that neither side
        /// is timed freeing its packet (criterion drops outputs untimed).
        fn decode(&self, buf: &mut BytesMut) -> TheirsDecoded {
            match self {
                Self::V4(_) => TheirsDecoded::V4(
                    mq4::Packet::read(buf, MAX as usize).expect("mqttbytes decodes"),
                ),
                Self::V5(_) => {
                    TheirsDecoded::V5(mq5::Packet::read(buf, Some(MAX)).expect("mqttbytes decodes"))
                }
            }
        }
    }

    fn publish(v: ProtocolVersion, len: usize) -> (Packet, Theirs) {
        let payload = Bytes::from(vec![0xA5; len]);
        let ours = Packet::Publish(Publish {
            dup: false,
            qos_pid: QosPid::AtLeastOnce(PacketId::new(7).expect("non-zero")),
            retain: false,
            topic: TopicName::new(TOPIC).expect("valid"),
            properties: PublishProperties::default(),
            payload: payload.clone(),
        });
        let theirs = if v.is_v5() {
            let mut p = mq5::Publish::new(TOPIC, Q5::AtLeastOnce, payload, None);
            p.pkid = 7;
            Theirs::V5(Box::new(mq5::Packet::Publish(p)))
        } else {
            let mut p = mq4::Publish::new(TOPIC, Q4::AtLeastOnce, payload.to_vec());
            p.pkid = 7;
            Theirs::V4(mq4::Packet::Publish(p))
        };
        (ours, theirs)
    }

    fn connect_v5() -> (Packet, Theirs) {
        let user = ("application".to_owned(), "courtier-bench".to_owned());
        let ours = Packet::Connect(Box::new(Connect {
            protocol: ProtocolVersion::V5,
            clean_start: true,
            keep_alive: 60,
            client_id: "bench-client-0001".into(),
            will: None,
            username: Some("user".into()),
            password: Some(Bytes::from_static(b"secret")),
            properties: ConnectProperties {
                session_expiry_interval: Some(3600),
                receive_maximum: NonZeroU16::new(100),
                maximum_packet_size: NonZeroU32::new(MAX),
                topic_alias_maximum: Some(10),
                user_properties: vec![UserProperty {
                    name: user.0.as_str().into(),
                    value: user.1.as_str().into(),
                }],
                ..Default::default()
            },
        }));
        let mut props = mq5::ConnectProperties::new();
        props.session_expiry_interval = Some(3600);
        props.receive_maximum = Some(100);
        props.max_packet_size = Some(MAX);
        props.topic_alias_max = Some(10);
        props.user_properties = vec![user];
        let connect = mq5::Connect {
            keep_alive: 60,
            client_id: "bench-client-0001".into(),
            clean_start: true,
            properties: Some(props),
        };
        let login = mq5::Login::new("user", "secret");
        (
            ours,
            Theirs::V5(Box::new(mq5::Packet::Connect(connect, None, Some(login)))),
        )
    }

    fn subscribe(v: ProtocolVersion) -> (Packet, Theirs) {
        let paths: Vec<String> = (0..10)
            .map(|i| format!("sensors/building-{i}/+/temperature"))
            .collect();
        let subscriptions = paths
            .iter()
            .map(|p| Subscription {
                filter: TopicFilter::new(p.as_str()).expect("valid"),
                options: SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    ..Default::default()
                },
            })
            .collect();
        let ours = Packet::Subscribe(Subscribe {
            packet_id: PacketId::new(9).expect("non-zero"),
            subscriptions,
            properties: SubscribeProperties::default(),
        });
        let theirs = if v.is_v5() {
            let filters = paths
                .iter()
                .map(|p| mq5::Filter::new(p.as_str(), Q5::AtLeastOnce));
            let mut s = mq5::Subscribe::new_many(filters, None);
            s.pkid = 9;
            Theirs::V5(Box::new(mq5::Packet::Subscribe(s)))
        } else {
            let filters = paths
                .iter()
                .map(|p| mq4::SubscribeFilter::new(p.clone(), Q4::AtLeastOnce));
            let mut s = mq4::Subscribe::new_many(filters);
            s.pkid = 9;
            Theirs::V4(mq4::Packet::Subscribe(s))
        };
        (ours, theirs)
    }

    /// Every case, by the name its benchmark groups carry.
    fn cases() -> Vec<(&'static str, ProtocolVersion, (Packet, Theirs))> {
        use ProtocolVersion::{V3_1_1, V5};
        vec![
            ("publish_16B_v311", V3_1_1, publish(V3_1_1, 16)),
            ("publish_1KiB_v311", V3_1_1, publish(V3_1_1, 1024)),
            ("publish_16B_v5", V5, publish(V5, 16)),
            ("publish_1KiB_v5", V5, publish(V5, 1024)),
            ("connect_props_v5", V5, connect_v5()),
            ("subscribe_10_v311", V3_1_1, subscribe(V3_1_1)),
            ("subscribe_10_v5", V5, subscribe(V5)),
        ]
    }

    /// One codec call, kept out of line so that an instruction counter can
    /// count only these calls (see the crate docs).
    #[inline(never)]
    fn measured<T>(f: impl FnOnce() -> T) -> T {
        std::hint::black_box(f())
    }

    /// Run `{decode|encode}/{case}/{courtier|mqttbytes}:{iterations}` in a
    /// plain loop, for an instruction counter.
    pub(crate) fn count(spec: &str) {
        let (name, iterations) = spec
            .rsplit_once(':')
            .expect("CODEC_COUNT is direction/case/codec:iterations");
        let iterations: usize = iterations.parse().expect("an iteration count");
        let mut parts = name.split('/');
        let (Some(direction), Some(case), Some(codec), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("CODEC_COUNT is direction/case/codec:iterations, got {spec}");
        };
        let (_, v, (ours, theirs)) = cases()
            .into_iter()
            .find(|(n, ..)| *n == case)
            .expect("a known case");
        let mut encoded = BytesMut::new();
        match codec {
            "courtier" => ours.encode(v, &mut encoded).expect("encodes"),
            "mqttbytes" => theirs.encode(&mut encoded),
            other => panic!("unknown codec {other}"),
        }
        let mut decoder = Decoder::with_version(MAX, v);
        let mut buf = BytesMut::with_capacity(4096);
        for _ in 0..iterations {
            match (direction, codec) {
                ("decode", "courtier") => {
                    let mut input = encoded.clone();
                    measured(|| decoder.decode(&mut input).expect("decodes"));
                }
                ("decode", _) => {
                    let mut input = encoded.clone();
                    measured(|| theirs.decode(&mut input));
                }
                ("encode", "courtier") => {
                    buf.clear();
                    measured(|| ours.encode(v, &mut buf).expect("encodes"));
                }
                ("encode", _) => {
                    buf.clear();
                    measured(|| theirs.encode(&mut buf));
                }
                _ => panic!("unknown direction {direction}"),
            }
        }
    }

    fn compare(
        c: &mut Criterion,
        name: &str,
        v: ProtocolVersion,
        (ours, theirs): (Packet, Theirs),
    ) {
        let mut ours_bytes = BytesMut::new();
        ours.encode(v, &mut ours_bytes).expect("encodes");
        let mut theirs_bytes = BytesMut::new();
        theirs.encode(&mut theirs_bytes);
        assert_eq!(
            ours_bytes.len(),
            theirs_bytes.len(),
            "{name}: both sides encode the same packet"
        );

        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.throughput(Throughput::Elements(1));
        let mut decoder = Decoder::with_version(MAX, v);
        group.bench_function("courtier", |b| {
            b.iter_batched_ref(
                || ours_bytes.clone(),
                |buf| decoder.decode(buf).expect("decodes").expect("whole"),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("mqttbytes", |b| {
            b.iter_batched_ref(
                || theirs_bytes.clone(),
                |buf| theirs.decode(buf),
                BatchSize::SmallInput,
            )
        });
        group.finish();

        let mut group = c.benchmark_group(format!("encode/{name}"));
        group.throughput(Throughput::Elements(1));
        let mut buf = BytesMut::with_capacity(4096);
        group.bench_function("courtier", |b| {
            b.iter(|| {
                buf.clear();
                ours.encode(v, &mut buf).expect("encodes");
            })
        });
        group.bench_function("mqttbytes", |b| {
            b.iter(|| {
                buf.clear();
                theirs.encode(&mut buf);
            })
        });
        group.finish();
    }

    fn codec(c: &mut Criterion) {
        for (name, v, packets) in cases() {
            compare(c, name, v, packets);
        }
    }

    // `criterion_group!` emits an undocumented `pub fn`; inside this
    // private module it stays out of the `missing_docs` lint's reach.
    criterion::criterion_group!(benches, codec);
}
