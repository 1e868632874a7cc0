//! Overload: what the broker does when a subscriber's queue is full.
//! Online subscribers slow QoS 1/2 publishers down instead of losing
//! acknowledged messages; offline full queues refuse (0x97 in 5.0). The
//! policy is written in `broker/src/session/queue.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use courtier_e2e::{RawClient, ack, connect_packet, numbered, publish, start_broker};
use courtier_proto::packet::{AckKind, Connect, Disconnect, QosPid};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};
use tokio::sync::Notify;

const V4: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;
/// `--max-queued-messages` in these tests.
const QUEUE: usize = 50;
/// The subscriber's Receive Maximum, hence the broker's window towards it.
const SUB_WINDOW: u16 = 10;
/// After the last delivery, how long a missing message may still take.
const QUIET: Duration = Duration::from_millis(1500);

/// Send `count` numbered messages on `topic` with up to `window` awaiting
/// acknowledgement; count each PUBACK/PUBREC in `acked` and ping `progress`.
/// Returns the numbers acknowledged (all of them: every ack must succeed).
async fn publisher(
    mut c: RawClient,
    topic: String,
    qos: QoS,
    count: usize,
    window: usize,
    acked: Arc<AtomicUsize>,
    progress: Arc<Notify>,
) -> HashSet<usize> {
    let mut by_id = HashMap::new();
    let mut done = HashSet::new();
    let mut next = 0;
    while done.len() < count {
        while next < count && by_id.len() < window {
            let id = u16::try_from(next % 60_000 + 1).expect("fits");
            c.send(&numbered(&topic, next, qos, id)).await;
            by_id.insert(id, next);
            next += 1;
        }
        match c.recv().await {
            Packet::Ack(a) if matches!(a.kind, AckKind::PubAck | AckKind::PubRec) => {
                assert!(a.reason.is_success(), "{topic}: refused {a:?}");
                let n = by_id.get(&a.packet_id.get()).copied().expect("known id");
                if a.kind == AckKind::PubRec {
                    c.send(&ack(AckKind::PubRel, a.packet_id)).await;
                } else {
                    by_id.remove(&a.packet_id.get());
                }
                done.insert(n);
                acked.fetch_add(1, Ordering::SeqCst);
                progress.notify_waiters();
            }
            Packet::Ack(a) if a.kind == AckKind::PubComp => {
                by_id.remove(&a.packet_id.get());
            }
            other => panic!("{topic}: unexpected {other:?}"),
        }
    }
    while !by_id.is_empty() {
        match c.recv().await {
            Packet::Ack(a) if a.kind == AckKind::PubComp => {
                by_id.remove(&a.packet_id.get());
            }
            other => panic!("{topic}: unexpected {other:?}"),
        }
    }
    done
}

/// Wait until `acked` reaches `n`.
async fn acks_reach(acked: &AtomicUsize, progress: &Notify, n: usize) {
    loop {
        let woken = progress.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if acked.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::timeout(courtier_e2e::TIMEOUT, woken)
            .await
            .expect("publishers stopped getting acknowledgements");
    }
}

/// Receive and acknowledge everything until `QUIET` passes with nothing
/// new; returns (topic, number) of every message seen.
async fn drain(s: &mut RawClient) -> HashSet<(String, usize)> {
    let mut seen = HashSet::new();
    while let Ok(Some(p)) = s.next_within(QUIET).await {
        match p {
            Packet::Publish(p) => {
                let n = std::str::from_utf8(&p.payload)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .expect("numbered payload");
                seen.insert((p.topic.as_str().to_owned(), n));
                match p.qos_pid {
                    QosPid::AtMostOnce => {}
                    QosPid::AtLeastOnce(id) => s.send(&ack(AckKind::PubAck, id)).await,
                    QosPid::ExactlyOnce(id) => s.send(&ack(AckKind::PubRec, id)).await,
                }
            }
            Packet::Ack(a) if a.kind == AckKind::PubRel => {
                s.send(&ack(AckKind::PubComp, a.packet_id)).await;
            }
            other => panic!("subscriber: unexpected {other:?}"),
        }
    }
    seen
}

fn with_receive_maximum(version: ProtocolVersion, id: &str) -> Connect {
    let mut c = connect_packet(version, id);
    c.properties.receive_maximum = std::num::NonZeroU16::new(SUB_WINDOW);
    c
}

#[tokio::test]
async fn every_acknowledged_qos1_and_qos2_message_reaches_a_slow_subscriber() {
    let queue = QUEUE.to_string();
    let b = start_broker(&["--max-queued-messages", &queue]);
    let (mut sub, _) = RawClient::connect(b.addr, with_receive_maximum(V5, "slow")).await;
    sub.subscribe("load/+", QoS::ExactlyOnce).await;

    let acked = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let count = 150;
    let mut publishers = Vec::new();
    for (i, (version, qos)) in [
        (V4, QoS::AtLeastOnce),
        (V5, QoS::AtLeastOnce),
        (V4, QoS::ExactlyOnce),
        (V5, QoS::ExactlyOnce),
    ]
    .into_iter()
    .enumerate()
    {
        let (c, _) = RawClient::connect(b.addr, connect_packet(version, &format!("pub{i}"))).await;
        let topic = format!("load/{i}");
        let task = publisher(
            c,
            topic.clone(),
            qos,
            count,
            20,
            Arc::clone(&acked),
            Arc::clone(&progress),
        );
        publishers.push((topic, tokio::spawn(task)));
    }
    // The subscriber reads nothing until the queue and its window are
    // full: past this the old broker acknowledged and dropped.
    acks_reach(&acked, &progress, QUEUE + usize::from(SUB_WINDOW)).await;
    let seen = drain(&mut sub).await;

    let mut missing = Vec::new();
    for (topic, task) in publishers {
        let done = task.await.expect("publisher task");
        assert_eq!(done.len(), count, "{topic}: every message acknowledged");
        missing.extend(
            done.into_iter()
                .filter(|n| !seen.contains(&(topic.clone(), *n)))
                .map(|n| (topic.clone(), n)),
        );
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} acknowledged messages never arrived, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}

#[tokio::test]
async fn a_client_publishing_to_itself_with_its_own_queue_full_is_not_deadlocked() {
    let queue = QUEUE.to_string();
    let b = start_broker(&["--max-queued-messages", &queue]);
    let (mut c, _) = RawClient::connect(b.addr, with_receive_maximum(V5, "echo")).await;
    c.subscribe("echo", QoS::AtLeastOnce).await;
    let count = 200;
    let window = 20;
    let (mut next, mut acked, mut pending) = (0, 0, Vec::new());
    let mut seen = HashSet::new();
    while acked < count || seen.len() < count {
        while next < count && next - acked < window {
            c.send(&numbered(
                "echo",
                next,
                QoS::AtLeastOnce,
                u16::try_from(next + 1).expect("fits"),
            ))
            .await;
            next += 1;
        }
        match c.recv().await {
            Packet::Ack(a) if a.kind == AckKind::PubAck => {
                assert!(a.reason.is_success(), "refused {a:?}");
                acked += 1;
            }
            Packet::Publish(p) => {
                let n: usize = std::str::from_utf8(&p.payload)
                    .expect("utf8")
                    .parse()
                    .expect("number");
                seen.insert(n);
                let id = p.qos_pid.packet_id().expect("QoS 1");
                pending.push(id);
            }
            other => panic!("unexpected {other:?}"),
        }
        // Deliveries stay unacknowledged until the queue and the window are
        // full, so the broker must stall this client's PUBLISH on its own
        // queue while still reading its PUBACKs.
        if acked >= QUEUE + usize::from(SUB_WINDOW) {
            for id in pending.drain(..) {
                c.send(&ack(AckKind::PubAck, id)).await;
            }
        }
    }
    assert_eq!(seen.len(), count);
}

#[tokio::test]
async fn an_offline_full_queue_refuses_with_quota_exceeded_and_keeps_what_it_took() {
    let queue = QUEUE.to_string();
    let b = start_broker(&["--max-queued-messages", &queue]);
    let mut persistent = connect_packet(V5, "away");
    persistent.clean_start = false;
    persistent.properties.session_expiry_interval = Some(300);
    let (mut s, _) = RawClient::connect(b.addr, persistent.clone()).await;
    s.subscribe("away/#", QoS::AtLeastOnce).await;
    s.send(&Packet::Disconnect(Disconnect::default())).await;
    s.expect_closed().await;

    let (mut p5, _) = RawClient::connect(b.addr, connect_packet(V5, "p5")).await;
    let (mut p4, _) = RawClient::connect(b.addr, connect_packet(V4, "p4")).await;
    for n in 0..QUEUE + 3 {
        let id = u16::try_from(n + 1).expect("fits");
        p5.send(&numbered("away/x", n, QoS::AtLeastOnce, id)).await;
        let Packet::Ack(a) = p5.recv().await else {
            panic!("expected PUBACK")
        };
        let want = if n < QUEUE {
            ReasonCode::Success
        } else {
            ReasonCode::QuotaExceeded
        };
        assert_eq!(a.reason, want, "message {n}");
    }
    // 3.1.1 has no way to say it: acknowledged, counted as dropped.
    p4.send(&publish("away/x", b"late", QoS::AtLeastOnce, 1))
        .await;
    assert!(matches!(p4.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));

    let (mut s, _) = RawClient::connect(b.addr, persistent).await;
    for n in 0..QUEUE {
        let p = s.recv_publish().await;
        assert_eq!(&p.payload[..], n.to_string().as_bytes());
        s.send(&ack(AckKind::PubAck, p.qos_pid.packet_id().expect("QoS 1")))
            .await;
    }
    s.expect_silence(Duration::from_millis(300)).await;
}
