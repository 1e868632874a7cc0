//! The broker's per-message hot path (issue 9), without sockets: one
//! PUBLISH routed to ten subscribed sessions (subscription-tree match, queue
//! offer under each session's lock), each session's queue drained the way
//! its connection task does it (packet id, inflight window), every PUBLISH
//! encoded into a write buffer, and for QoS 1 the PUBACK completing it. Run
//! with `cargo bench -p courtier --bench session`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use courtier::broker::Broker;
use courtier::config::Config;
use courtier::message::Message;
use courtier::router::SubscriptionEntry;
use courtier::session::link::{ClientInfo, ConnLink};
use courtier::session::{ConnHandle, SessionKey, SessionShared};
use courtier_proto::packet::{Publish, PublishProperties, QosPid, SubscriptionOptions};
use courtier_proto::{Packet, ProtocolVersion, QoS, TopicFilter, TopicName};
use criterion::{Criterion, Throughput};

const SUBSCRIBERS: usize = 10;

/// A broker with `SUBSCRIBERS` connected sessions subscribed to `sensors/+`.
fn broker_with_subscribers() -> (Broker, Vec<(u64, Arc<SessionShared>)>) {
    let broker = Broker::new(Config::default());
    let filter = TopicFilter::new("sensors/+").expect("valid");
    let mut sessions = Vec::new();
    for i in 0..SUBSCRIBERS {
        let link = Arc::new(ConnLink::new(ClientInfo {
            peer: "127.0.0.1:1".parse().expect("address"),
            user: None,
            version: ProtocolVersion::V5,
            connected_at: 0,
            keep_alive: 0,
        }));
        let id = broker.next_conn_id();
        let attached = broker.attach(
            &format!("sub-{i}").into(),
            true,
            0,
            100,
            ConnHandle { id, link },
        );
        let entry = SubscriptionEntry {
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                ..SubscriptionOptions::default()
            },
            identifier: None,
        };
        broker
            .tree
            .write()
            .subscribe(SessionKey(Arc::clone(&attached.session)), &filter, entry);
        sessions.push((id, attached.session));
    }
    (broker, sessions)
}

fn message(qos: QoS) -> Arc<Message> {
    Arc::new(Message {
        topic: TopicName::new("sensors/cuisine").expect("valid"),
        payload: Bytes::from_static(b"21.5"),
        qos,
        retain: false,
        properties: PublishProperties::default(),
        expires_at: None,
    })
}

/// Route one message and deliver it to every subscriber, as the broker does.
fn deliver(
    broker: &Broker,
    sessions: &[(u64, Arc<SessionShared>)],
    msg: &Arc<Message>,
    wbuf: &mut BytesMut,
) {
    broker.publish(Arc::clone(msg), None);
    let now = Instant::now();
    let mut out = Vec::new();
    for (conn_id, session) in sessions {
        let mut qos2_ticket = None;
        session.take_sendable(
            *conn_id,
            now,
            &broker.metrics,
            &broker.store,
            &mut out,
            &mut qos2_ticket,
        );
        for (id, item) in out.drain(..) {
            let qos_pid = match id {
                Some(id) => QosPid::AtLeastOnce(id),
                None => QosPid::AtMostOnce,
            };
            let publish = Packet::Publish(Publish {
                dup: false,
                qos_pid,
                retain: item.retain,
                topic: item.msg.topic.clone(),
                properties: item.msg.properties.clone(),
                payload: item.msg.payload.clone(),
            });
            publish.encode(ProtocolVersion::V5, wbuf).expect("encodes");
            if let Some(id) = id {
                // The subscriber's PUBACK.
                session.state.lock().acks().inflight.puback(id);
            }
        }
        black_box(&wbuf[..]);
        wbuf.clear();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let (broker, sessions) = broker_with_subscribers();
        let msg = message(qos);
        let mut wbuf = BytesMut::with_capacity(4096);
        group.bench_function(format!("publish_to_10_subscribers_qos{}", qos as u8), |b| {
            b.iter(|| deliver(&broker, &sessions, &msg, &mut wbuf));
        });
    }
    group.finish();
    c.final_summary();
}
