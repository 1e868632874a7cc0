//! Durability (issue 7): what the broker acknowledged survives `kill -9`.
//!
//! Every test runs the real binary on a temporary `--data-dir`, kills it with
//! SIGKILL (no shutdown code runs) and restarts it on the same directory.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use courtier_e2e::{
    BrokerProcess, RawClient, ack, connect_packet, numbered, pid, publish_msg, publish_retained,
    start_broker_in, start_fails,
};
use courtier_proto::packet::{
    AckKind, Connect, Disconnect, LastWill, Publish, QosPid, SubscriptionOptions, UserProperty,
    WillProperties,
};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode, TopicName};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// Queues and windows large enough that nothing is refused for lack of room.
const ROOMY: [&str; 4] = [
    "--max-queued-messages",
    "20000",
    "--receive-maximum",
    "1000",
];

fn start(dir: &tempfile::TempDir) -> BrokerProcess {
    start_broker_in(dir.path(), &ROOMY)
}

/// A CONNECT resuming (or creating) a persistent session: v5 with a session
/// expiry of `expiry` seconds, 3.1.1 with clean session 0.
fn persistent(version: ProtocolVersion, client_id: &str, expiry: u32) -> Connect {
    let mut c = connect_packet(version, client_id);
    c.clean_start = false;
    if version.is_v5() {
        c.properties.session_expiry_interval = Some(expiry);
    }
    c
}

fn seq_of(p: &Publish) -> u32 {
    std::str::from_utf8(&p.payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected payload {:?}", p.payload))
}

/// Connect, subscribe to `filter` at QoS 2 and leave with a normal
/// DISCONNECT, waiting for the broker to close the socket (it detaches the
/// session before it does).
async fn subscribe_and_leave(addr: std::net::SocketAddr, connect: Connect, filter: &str) {
    let (mut c, _) = RawClient::connect(addr, connect).await;
    c.subscribe(filter, QoS::ExactlyOnce).await;
    disconnect(&mut c).await;
}

async fn disconnect(c: &mut RawClient) {
    c.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::Success,
        properties: Default::default(),
    }))
    .await;
    c.expect_closed().await;
}

/// Publish `count` messages numbered from `first` on `topic` at `qos`,
/// pipelined, completing every flow; returns once all are acknowledged.
async fn publish_acked(c: &mut RawClient, topic: &str, first: u32, count: u32, qos: QoS) {
    const WINDOW: u32 = 500;
    let mut n = first;
    while n < first + count {
        let batch = WINDOW.min(first + count - n);
        for i in 0..batch {
            let id = u16::try_from(i + 1).expect("window fits a packet id");
            c.send(&numbered(topic, n + i, qos, id)).await;
        }
        let mut open = batch;
        while open > 0 {
            match c.recv().await {
                Packet::Ack(a) if a.kind == AckKind::PubAck => open -= 1,
                Packet::Ack(a) if a.kind == AckKind::PubRec => {
                    c.send(&ack(AckKind::PubRel, a.packet_id)).await;
                }
                Packet::Ack(a) if a.kind == AckKind::PubComp => open -= 1,
                other => panic!("expected an acknowledgement, got {other:?}"),
            }
        }
        n += batch;
    }
}

/// Messages received on a resumed session, by topic: every sequence number
/// with how often it arrived. Acknowledges everything and returns once
/// `want(received)` holds.
async fn receive_until(
    c: &mut RawClient,
    mut want: impl FnMut(&HashMap<String, HashMap<u32, u32>>) -> bool,
) -> HashMap<String, HashMap<u32, u32>> {
    let mut got: HashMap<String, HashMap<u32, u32>> = HashMap::new();
    while !want(&got) {
        let packet = c.recv().await;
        take(c, &mut got, packet).await;
    }
    // Then whatever else comes (QoS 1 duplicates, messages stored but not
    // yet acknowledged at the kill) until the broker falls silent: a bounded
    // check for late QoS 2 duplicates, not synchronisation.
    while let Ok(Some(packet)) = c.next_within(Duration::from_millis(300)).await {
        take(c, &mut got, packet).await;
    }
    got
}

/// Count one packet into `got` and answer it like a client would.
async fn take(c: &mut RawClient, got: &mut HashMap<String, HashMap<u32, u32>>, packet: Packet) {
    {
        match packet {
            Packet::Publish(p) => {
                *got.entry(p.topic.to_string())
                    .or_default()
                    .entry(seq_of(&p))
                    .or_default() += 1;
                match p.qos_pid {
                    QosPid::AtMostOnce => {}
                    QosPid::AtLeastOnce(id) => c.send(&ack(AckKind::PubAck, id)).await,
                    QosPid::ExactlyOnce(id) => c.send(&ack(AckKind::PubRec, id)).await,
                }
            }
            Packet::Ack(a) if a.kind == AckKind::PubRel => {
                c.send(&ack(AckKind::PubComp, a.packet_id)).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn all_of(got: &HashMap<String, HashMap<u32, u32>>, topic: &str, count: u32) -> bool {
    got.get(topic)
        .is_some_and(|m| (0..count).all(|n| m.contains_key(&n)))
}

fn session_present(ack: &Packet) -> bool {
    match ack {
        Packet::ConnAck(a) => a.session_present,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

/// Resume `connect`'s session and collect `count` QoS 1 and `count` QoS 2
/// messages; QoS 2 must arrive exactly once, QoS 1 at least once.
async fn check_resumed(addr: std::net::SocketAddr, connect: Connect, count: u32) {
    let name = connect.client_id.to_string();
    let (mut c, connack) = RawClient::connect(addr, connect).await;
    assert!(session_present(&connack), "{name}: session lost");
    let got = receive_until(&mut c, |g| {
        all_of(g, "d/1", count) && all_of(g, "d/2", count)
    })
    .await;
    let dup2: Vec<_> = got["d/2"].iter().filter(|(_, n)| **n > 1).collect();
    assert!(dup2.is_empty(), "{name}: QoS 2 duplicates {dup2:?}");
    // The subscription itself came back from the store too.
    let (mut p, _) = RawClient::connect(addr, connect_packet(V5, &format!("{name}-p"))).await;
    p.send(&numbered("d/3", 7, QoS::AtLeastOnce, 1)).await;
    assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    let live = c.recv_publish().await;
    assert_eq!((live.topic.as_str(), seq_of(&live)), ("d/3", 7), "{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_retained_and_subscriptions_survive_kill_9() {
    const N: u32 = 2000;
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start(&dir);
    subscribe_and_leave(broker.addr, persistent(V5, "sub5", 3600), "d/#").await;
    subscribe_and_leave(broker.addr, persistent(V311, "sub3", 0), "d/#").await;

    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
    p.send(&publish_retained("r/kept", b"kept", QoS::AtLeastOnce, 1))
        .await;
    assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    publish_acked(&mut p, "d/1", 0, N, QoS::AtLeastOnce).await;
    publish_acked(&mut p, "d/2", 0, N, QoS::ExactlyOnce).await;
    broker.kill9();

    let broker = start(&dir);
    check_resumed(broker.addr, persistent(V5, "sub5", 3600), N).await;
    check_resumed(broker.addr, persistent(V311, "sub3", 0), N).await;
    let (mut r, _) = RawClient::connect(broker.addr, connect_packet(V5, "reader")).await;
    r.subscribe("r/#", QoS::AtLeastOnce).await;
    let kept = r.recv_publish().await;
    assert_eq!(
        (kept.topic.as_str(), &kept.payload[..]),
        ("r/kept", &b"kept"[..])
    );
    assert!(kept.retain);
}

/// Kill at different points of a stream of acknowledged QoS 1 messages and
/// with QoS 2 flows half done (PUBREC received, PUBREL not yet sent); after
/// the restart the publisher completes its flows and every acknowledged
/// message arrives, QoS 2 exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_points_and_half_done_qos2_flows() {
    const SENT: u32 = 600;
    for kill_after in [1, 300, SENT] {
        let dir = tempfile::tempdir().expect("temp dir");
        let broker = start(&dir);
        subscribe_and_leave(broker.addr, persistent(V5, "sub", 3600), "d/#").await;
        let (mut p, _) = RawClient::connect(broker.addr, persistent(V5, "pub", 3600)).await;
        // Three QoS 2 flows left at PUBREC: ids 901..=903, payloads 0..3.
        for n in 0..3 {
            p.send(&numbered("d/2", n, QoS::ExactlyOnce, 901 + n as u16))
                .await;
            assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubRec));
        }
        for n in 0..SENT {
            p.send(&numbered("d/1", n, QoS::AtLeastOnce, 1 + n as u16))
                .await;
        }
        let mut acked = Vec::new();
        while acked.len() < kill_after as usize {
            match p.recv().await {
                Packet::Ack(a) if a.kind == AckKind::PubAck => {
                    acked.push(u32::from(a.packet_id.get()) - 1)
                }
                other => panic!("expected PUBACK, got {other:?}"),
            }
        }
        broker.kill9();

        let broker = start(&dir);
        let (mut p, connack) = RawClient::connect(broker.addr, persistent(V5, "pub", 3600)).await;
        assert!(session_present(&connack), "publisher session lost");
        // A re-sent PUBLISH of a half-done flow is acknowledged, not routed again.
        let mut dup = numbered("d/2", 0, QoS::ExactlyOnce, 901);
        if let Packet::Publish(d) = &mut dup {
            d.dup = true;
        }
        p.send(&dup).await;
        assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubRec));
        for id in 901..=903 {
            p.send(&ack(AckKind::PubRel, pid(id))).await;
            match p.recv().await {
                Packet::Ack(a) => {
                    assert_eq!(a.kind, AckKind::PubComp);
                    assert_eq!(
                        a.reason,
                        ReasonCode::Success,
                        "inbound QoS 2 id {id} forgotten"
                    );
                }
                other => panic!("expected PUBCOMP, got {other:?}"),
            }
        }

        let (mut s, connack) = RawClient::connect(broker.addr, persistent(V5, "sub", 3600)).await;
        assert!(session_present(&connack), "subscriber session lost");
        let got = receive_until(&mut s, |g| {
            acked
                .iter()
                .all(|n| g.get("d/1").is_some_and(|m| m.contains_key(n)))
                && all_of(g, "d/2", 3)
        })
        .await;
        let q2 = &got["d/2"];
        assert!(
            q2.values().all(|&n| n == 1),
            "kill after {kill_after}: QoS 2 duplicated {q2:?}"
        );
        drop(broker);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_expiring_while_the_broker_is_down_is_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut broker = start(&dir);
    subscribe_and_leave(broker.addr, persistent(V5, "short", 1), "a/#").await;
    let left_at = SystemTime::now();
    subscribe_and_leave(broker.addr, persistent(V5, "long", 3600), "a/#").await;
    // An acknowledged QoS 1 publish is committed after every earlier change,
    // the detaches included (the store commits in order).
    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
    p.send(&numbered("a/1", 1, QoS::AtLeastOnce, 1)).await;
    assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    // Graceful this time: SIGTERM closes the store.
    assert!(broker.terminate().success());
    // Not synchronisation: the test needs wall-clock time to pass while the
    // broker is down, past the 1 s expiry of "short".
    let expired_at = left_at + Duration::from_millis(1500);
    let wait = expired_at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep_until(tokio::time::Instant::now() + wait).await;

    let broker = start(&dir);
    let (_short, connack) = RawClient::connect(broker.addr, persistent(V5, "short", 1)).await;
    assert!(!session_present(&connack), "an expired session came back");
    let (mut long, connack) = RawClient::connect(broker.addr, persistent(V5, "long", 3600)).await;
    assert!(session_present(&connack));
    let queued = long.recv_publish().await;
    assert_eq!(seq_of(&queued), 1);
}

/// Not a benchmark (debug build, shared machine): prints how much the disk
/// costs a publisher of QoS 1 messages to a persistent session, against
/// `--in-memory`, for a rough ratio. Asserts only that both complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_qos1_rate_against_in_memory_is_printed() {
    const N: u32 = 5000;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rates = Vec::new();
    for on_disk in [true, false] {
        let broker = if on_disk {
            start(&dir)
        } else {
            courtier_e2e::start_broker(&ROOMY)
        };
        subscribe_and_leave(broker.addr, persistent(V5, "sub", 3600), "d/#").await;
        let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
        let start = std::time::Instant::now();
        publish_acked(&mut p, "d/1", 0, N, QoS::AtLeastOnce).await;
        rates.push(f64::from(N) / start.elapsed().as_secs_f64());
    }
    eprintln!(
        "QoS 1 to a persistent session: {:.0} msg/s on disk, {:.0} msg/s in memory (ratio {:.2})",
        rates[0],
        rates[1],
        rates[0] / rates[1]
    );
}

fn data_dir_args(dir: &tempfile::TempDir) -> Vec<String> {
    vec![
        "--data-dir".into(),
        dir.path().to_string_lossy().into_owned(),
    ]
}

fn assert_one_clear_line(code: Option<i32>, stderr: &str, file: &std::path::Path) {
    assert!(code.is_some_and(|c| c != 0), "exit code {code:?}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&*file.to_string_lossy()), "{stderr}");
    assert!(stderr.contains("move the file aside"), "{stderr}");
}

#[test]
fn a_store_of_garbage_is_refused_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("courtier.redb");
    std::fs::write(
        &file,
        b"this is not a database, just some text\n".repeat(200),
    )
    .expect("write");
    let args = data_dir_args(&dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stderr) = start_fails(&args);
    assert_one_clear_line(code, &stderr, &file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_store_is_refused_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut broker = start(&dir);
    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
    for i in 0..50 {
        p.send(&publish_retained(
            &format!("r/{i}"),
            &[b'x'; 64],
            QoS::AtLeastOnce,
            1,
        ))
        .await;
        assert!(matches!(p.recv().await, Packet::Ack(_)));
    }
    assert!(broker.terminate().success());
    let file = dir.path().join("courtier.redb");
    let len = std::fs::metadata(&file).expect("store file").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open");
    f.set_len(len / 3).expect("truncate");
    drop(f);
    let args = data_dir_args(&dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stderr) = start_fails(&args);
    assert_one_clear_line(code, &stderr, &file);
}

/// How long a test waits for a will: far beyond any will delay used here.
const WILL_WAIT: Duration = Duration::from_secs(30);

/// A persistent v5 CONNECT (expiry 60 s) with a QoS 1 will on `topic`.
fn with_will(client_id: &str, topic: &str, delay: u32) -> Connect {
    let mut c = persistent(V5, client_id, 60);
    c.will = Some(LastWill {
        topic: TopicName::new(topic.to_owned()).expect("topic"),
        payload: bytes::Bytes::from(format!("{client_id} gone")),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties {
            will_delay_interval: Some(delay),
            ..Default::default()
        },
    });
    c
}

/// Resume `watcher`'s session and return the first message it receives
/// (acknowledged), waiting up to [`WILL_WAIT`].
async fn first_message(addr: std::net::SocketAddr, watcher: &str) -> (RawClient, Publish) {
    let (mut c, connack) = RawClient::connect(addr, persistent(V5, watcher, 3600)).await;
    assert!(session_present(&connack), "{watcher}: session lost");
    let p = match c.next_within(WILL_WAIT).await {
        Ok(Some(Packet::Publish(p))) => p,
        other => panic!("{watcher}: expected a PUBLISH, got {other:?}"),
    };
    if let Some(id) = p.qos_pid.packet_id() {
        c.send(&ack(AckKind::PubAck, id)).await;
    }
    (c, p)
}

/// Publish a marker on `topic`; it must be the next message `c` receives
/// (so nothing, no second will in particular, came before it).
async fn marker_is_next(addr: std::net::SocketAddr, c: &mut RawClient, topic: &str) {
    let (mut p, _) = RawClient::connect(addr, connect_packet(V5, "marker")).await;
    p.send(&numbered(topic, 999, QoS::AtLeastOnce, 1)).await;
    assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    let next = c.recv_publish().await;
    assert_eq!((next.topic.as_str(), seq_of(&next)), (topic, 999));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_will_of_a_client_connected_at_the_crash_goes_out_once_after_its_delay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start(&dir);
    subscribe_and_leave(broker.addr, persistent(V5, "watch1", 3600), "will/1").await;
    let (mut w, _) = RawClient::connect(broker.addr, with_will("w1", "will/1", 2)).await;
    // SUBACK waits for the store, and ops commit in order: the session
    // record with the will (written at CONNECT) is on disk too.
    w.subscribe("x/w1", QoS::AtLeastOnce).await;
    broker.kill9();

    let broker = start(&dir);
    let restarted = std::time::Instant::now();
    let (mut c, will) = first_message(broker.addr, "watch1").await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("will/1", &b"w1 gone"[..])
    );
    // The delay counts from the restart (the start-up ran just before
    // `start` returned, so allow for that).
    assert!(
        restarted.elapsed() >= Duration::from_millis(1500),
        "will published {:?} after the restart, before its 2 s delay",
        restarted.elapsed()
    );
    marker_is_next(broker.addr, &mut c, "will/1").await;
    drop(w);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_disconnect_leaves_no_will_in_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start(&dir);
    let (mut w, _) = RawClient::connect(broker.addr, with_will("w2", "will/2", 0)).await;
    w.subscribe("x/w2", QoS::AtLeastOnce).await;
    // Normal DISCONNECT (0x00): the will is discarded, and the session
    // record rewritten without it before the socket closes.
    disconnect(&mut w).await;
    // This SUBACK is durable only after everything appended before it.
    subscribe_and_leave(broker.addr, persistent(V5, "watch2", 3600), "will/2").await;
    broker.kill9();

    let broker = start(&dir);
    let (mut c, connack) = RawClient::connect(broker.addr, persistent(V5, "watch2", 3600)).await;
    assert!(session_present(&connack));
    marker_is_next(broker.addr, &mut c, "will/2").await;
    let (_, connack) = RawClient::connect(broker.addr, persistent(V5, "w2", 60)).await;
    assert!(session_present(&connack), "the session itself survives");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_will_pending_at_the_crash_is_published_after_the_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start(&dir);
    let (mut w, _) = RawClient::connect(broker.addr, with_will("w3", "will/3", 4)).await;
    w.subscribe("x/w3", QoS::AtLeastOnce).await;
    // DISCONNECT 0x04 (with will): the will's delay starts running.
    w.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::DisconnectWithWillMessage,
        properties: Default::default(),
    }))
    .await;
    w.expect_closed().await;
    subscribe_and_leave(broker.addr, persistent(V5, "watch3", 3600), "will/3").await;
    broker.kill9();

    let broker = start(&dir);
    let (mut c, will) = first_message(broker.addr, "watch3").await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("will/3", &b"w3 gone"[..])
    );
    marker_is_next(broker.addr, &mut c, "will/3").await;
}

/// Retain `count` messages on `maMaison/capteur{i}` (payload `i`), QoS 1,
/// pipelined in windows; the first also carries v5 properties. Returns once
/// every one is acknowledged, so every one is on disk.
async fn retain_many(c: &mut RawClient, count: u32) {
    const WINDOW: u32 = 500;
    for start in (0..count).step_by(WINDOW as usize) {
        let end = (start + WINDOW).min(count);
        for i in start..end {
            let mut p = Publish {
                retain: true,
                payload: bytes::Bytes::from(i.to_string()),
                ..publish_msg(&format!("maMaison/capteur{i}"), b"", QoS::AtLeastOnce, 1)
            };
            p.qos_pid = QosPid::new(
                QoS::AtLeastOnce,
                pid(u16::try_from(i - start + 1).expect("window")),
            );
            if i == 0 {
                p.properties.content_type = Some("text/plain".into());
                p.properties.user_properties = vec![UserProperty {
                    name: "unit".into(),
                    value: "°C".into(),
                }];
            }
            c.send(&Packet::Publish(p)).await;
        }
        for _ in start..end {
            assert!(matches!(c.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
        }
    }
}

/// Subscribe to `maMaison/#` with a subscription identifier and check that
/// each of the `count` retained messages arrives once, whole.
async fn check_retained(addr: std::net::SocketAddr, count: u32, when: &str) {
    let (mut c, _) = RawClient::connect(addr, connect_packet(V5, "thermostat")).await;
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_with("maMaison/#", options, Some(7)).await;
    let mut seen = vec![false; count as usize];
    for _ in 0..count {
        let p = c.recv_publish().await;
        let i = seq_of(&p);
        assert_eq!(p.topic.as_str(), format!("maMaison/capteur{i}"), "{when}");
        assert!(p.retain, "{when}: retained messages carry RETAIN");
        assert_eq!(p.properties.subscription_identifiers.len(), 1, "{when}");
        if i == 0 {
            assert_eq!(
                p.properties.content_type.as_deref(),
                Some("text/plain"),
                "{when}"
            );
            assert_eq!(p.properties.user_properties.len(), 1, "{when}");
        }
        assert!(
            !std::mem::replace(&mut seen[i as usize], true),
            "{when}: {i} twice"
        );
        if let Some(id) = p.qos_pid.packet_id() {
            c.send(&ack(AckKind::PubAck, id)).await;
        }
    }
    c.expect_silence(Duration::from_millis(200)).await;
}

/// Retained messages the store holds are kept in memory only as an index
/// and read back from disk when a subscription matches them: all arrive,
/// with their properties, before and after a `kill -9`, though thirty
/// times more than a session's queue holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages_on_disk_arrive_whole_before_and_after_kill_9() {
    const N: u32 = 3000;
    const SMALL_QUEUE: [&str; 2] = ["--max-queued-messages", "100"];
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start_broker_in(dir.path(), &SMALL_QUEUE);
    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "capteurs")).await;
    retain_many(&mut p, N).await;
    check_retained(broker.addr, N, "before the restart").await;
    broker.kill9();
    let broker = start_broker_in(dir.path(), &SMALL_QUEUE);
    check_retained(broker.addr, N, "after the restart").await;
}

/// An offline persistent session's queue lives on disk (a marker per
/// message in memory) and is read back when its client returns: every
/// message arrives once, in publish order per topic, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_queue_read_back_from_disk_arrives_in_order() {
    const N: u32 = 2000;
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start(&dir);
    let sub = || persistent(V5, "away", 3600);
    subscribe_and_leave(broker.addr, sub(), "d/#").await;
    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
    publish_acked(&mut p, "d/1", 0, N, QoS::AtLeastOnce).await;
    publish_acked(&mut p, "d/2", 0, N, QoS::ExactlyOnce).await;

    let (mut c, connack) = RawClient::connect(broker.addr, sub()).await;
    assert!(session_present(&connack));
    let mut next: HashMap<String, u32> = HashMap::new();
    while next.get("d/1") != Some(&N) || next.get("d/2") != Some(&N) {
        let packet = c.recv().await;
        if let Packet::Publish(m) = &packet {
            let expected = next.entry(m.topic.to_string()).or_default();
            assert_eq!(seq_of(m), *expected, "{} out of order or repeated", m.topic);
            *expected += 1;
        }
        take(&mut c, &mut HashMap::new(), packet).await;
    }
    // The last QoS 2 flows finish; nothing else may come.
    while let Ok(Some(packet)) = c.next_within(Duration::from_millis(300)).await {
        assert!(
            !matches!(packet, Packet::Publish(_)),
            "more than was published: {packet:?}"
        );
        take(&mut c, &mut HashMap::new(), packet).await;
    }
}

/// Queued messages whose Message Expiry Interval ran out while the broker
/// was down are deleted as it starts, without being read: the session's
/// queue (as the admin API shows it) holds only the live one, and only the
/// live one arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_messages_that_expired_while_the_broker_was_down_are_deleted_at_start() {
    const ARGS: [&str; 4] = ["--http", "127.0.0.1:0", "--admin-token", "t"];
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = start_broker_in(dir.path(), &ARGS);
    let sub = || persistent(V5, "away", 3600);
    subscribe_and_leave(broker.addr, sub(), "d/#").await;
    let (mut p, _) = RawClient::connect(broker.addr, connect_packet(V5, "pub")).await;
    for (n, expiry) in [(0u16, Some(1)), (1, None)] {
        let mut m = publish_msg("d/1", b"", QoS::AtLeastOnce, n + 1);
        m.payload = bytes::Bytes::from(n.to_string());
        m.properties.message_expiry_interval = expiry;
        p.send(&Packet::Publish(m)).await;
        assert!(matches!(p.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    }
    let published = tokio::time::Instant::now();
    broker.kill9();
    // Time passing is what is tested here: the first message's second.
    tokio::time::sleep_until(published + Duration::from_millis(1100)).await;

    let broker = start_broker_in(dir.path(), &ARGS);
    let http = broker.http.expect("HTTP listener");
    let r = courtier_e2e::http::request(
        http,
        "GET",
        "/api/v1/sessions",
        &[("Authorization", "Bearer t")],
        "",
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    let away = json["items"]
        .as_array()
        .and_then(|items| items.iter().find(|s| s["client_id"] == "away"))
        .unwrap_or_else(|| panic!("no session `away` in {json}"));
    assert_eq!(away["queued"], 1, "{away}");
    let (mut c, connack) = RawClient::connect(broker.addr, sub()).await;
    assert!(session_present(&connack));
    let m = c.recv_publish().await;
    assert_eq!(seq_of(&m), 1);
    if let Some(id) = m.qos_pid.packet_id() {
        c.send(&ack(AckKind::PubAck, id)).await;
    }
    c.expect_silence(Duration::from_millis(300)).await;
}
