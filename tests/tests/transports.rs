//! One broker, four transports: every pair of TCP, TLS, WebSocket and
//! secure WebSocket carries QoS 1 and QoS 2 messages, retained messages and
//! wills in both directions, through the same sessions and subscriptions.

use std::sync::Arc;

use courtier_e2e::certs::TestPki;
use courtier_e2e::transport::{AnyClient, Transport};
use courtier_e2e::{BrokerProcess, connect_packet, pid, publish_msg, start_broker};
use courtier_proto::packet::{
    AckKind, LastWill, Subscribe, Subscription, SubscriptionOptions, WillProperties,
};
use courtier_proto::{Packet, ProtocolVersion, QoS, TopicFilter, TopicName};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// A broker with all four listeners and the test certificate.
fn start_all(pki: &TestPki) -> BrokerProcess {
    let mut args: Vec<String> = [
        "--http",
        "127.0.0.1:0",
        "--tls",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
    ]
    .map(String::from)
    .to_vec();
    args.extend(pki.broker_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start_broker(&args)
}

async fn subscribe(c: &mut AnyClient, filter: &str) {
    c.send(&Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        subscriptions: vec![Subscription {
            filter: TopicFilter::new(filter.to_owned()).expect("filter"),
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                ..Default::default()
            },
        }],
        properties: Default::default(),
    }))
    .await;
    assert!(matches!(c.recv().await, Packet::SubAck(_)), "SUBACK");
}

fn message(topic: &str, payload: String, qos: QoS, id: u16, retain: bool) -> Packet {
    let mut m = publish_msg(topic, b"", qos, id);
    m.payload = payload.into_bytes().into();
    m.retain = retain;
    Packet::Publish(m)
}

/// Expect `payload` at `qos` on `sub` and complete the receiver's side of the flow.
async fn receive(sub: &mut AnyClient, payload: &str, qos: QoS, what: &str) {
    let p = sub.recv_publish().await;
    assert_eq!(&p.payload[..], payload.as_bytes(), "{what}");
    assert_eq!(p.qos_pid.qos(), qos, "{what}");
    let id = p.qos_pid.packet_id();
    match (qos, id) {
        (QoS::AtLeastOnce, Some(id)) => sub.ack(AckKind::PubAck, id).await,
        (QoS::ExactlyOnce, Some(id)) => {
            sub.ack(AckKind::PubRec, id).await;
            sub.expect_ack(AckKind::PubRel).await;
            sub.ack(AckKind::PubComp, id).await;
        }
        _ => panic!("{what}: unexpected {:?}", p.qos_pid),
    }
}

async fn check_pair(
    b: &BrokerProcess,
    tls: &Arc<rustls::ClientConfig>,
    from: Transport,
    to: Transport,
) {
    let (f, t) = (from.name(), to.name());
    let base = format!("x/{f}/{t}");
    let what = format!("{f} -> {t}");
    let mut sub = AnyClient::connect(b, to, tls, connect_packet(V5, &format!("sub-{f}-{t}"))).await;
    subscribe(&mut sub, &format!("{base}/#")).await;
    let mut publ =
        AnyClient::connect(b, from, tls, connect_packet(V5, &format!("pub-{f}-{t}"))).await;

    // QoS 1.
    publ.send(&message(
        &format!("{base}/q1"),
        format!("{what} q1"),
        QoS::AtLeastOnce,
        1,
        false,
    ))
    .await;
    publ.expect_ack(AckKind::PubAck).await;
    receive(&mut sub, &format!("{what} q1"), QoS::AtLeastOnce, &what).await;

    // QoS 2.
    publ.send(&message(
        &format!("{base}/q2"),
        format!("{what} q2"),
        QoS::ExactlyOnce,
        2,
        false,
    ))
    .await;
    publ.expect_ack(AckKind::PubRec).await;
    publ.ack(AckKind::PubRel, pid(2)).await;
    publ.expect_ack(AckKind::PubComp).await;
    receive(&mut sub, &format!("{what} q2"), QoS::ExactlyOnce, &what).await;

    // Retained: delivered live, then to a later subscriber with RETAIN set.
    publ.send(&message(
        &format!("{base}/r"),
        format!("{what} r"),
        QoS::AtLeastOnce,
        3,
        true,
    ))
    .await;
    publ.expect_ack(AckKind::PubAck).await;
    receive(&mut sub, &format!("{what} r"), QoS::AtLeastOnce, &what).await;
    let mut late =
        AnyClient::connect(b, to, tls, connect_packet(V5, &format!("late-{f}-{t}"))).await;
    subscribe(&mut late, &format!("{base}/r")).await;
    let retained = late.recv_publish().await;
    assert!(retained.retain, "{what}: retained flag");
    assert_eq!(&retained.payload[..], format!("{what} r").as_bytes());

    // Will: the publisher's connection drops without DISCONNECT.
    let mut connect = connect_packet(V5, &format!("will-{f}-{t}"));
    connect.will = Some(LastWill {
        topic: TopicName::new(format!("{base}/will")).expect("topic"),
        payload: format!("{what} will").into_bytes().into(),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: WillProperties::default(),
    });
    let dying = AnyClient::connect(b, from, tls, connect).await;
    dying.abort();
    receive(&mut sub, &format!("{what} will"), QoS::AtLeastOnce, &what).await;
}

#[tokio::test]
async fn every_transport_pair_carries_qos_1_and_2_retained_and_wills() {
    let pki = TestPki::new();
    let b = start_all(&pki);
    let tls = pki.client_config(false);
    for from in Transport::ALL {
        for to in Transport::ALL {
            check_pair(&b, &tls, from, to).await;
        }
    }
}

#[tokio::test]
async fn every_listener_kind_accepts_several_addresses() {
    let pki = TestPki::new();
    let mut args: Vec<String> = [
        "--tls",
        "127.0.0.1:0",
        "--tls",
        "[::1]:0",
        "--https",
        "127.0.0.1:0",
        "--https",
        "[::1]:0",
    ]
    .map(String::from)
    .to_vec();
    args.extend(pki.broker_args());
    let bin = courtier_e2e::broker_binary();
    let out = std::process::Command::new(bin)
        .args([
            "--tcp",
            "127.0.0.1:0",
            "--tcp",
            "[::1]:0",
            "--http",
            "127.0.0.1:0",
            "--http",
            "[::1]:0",
            "--sys-interval",
            "0",
            "--in-memory",
        ])
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start broker");
    let mut child = KillOnDrop(out);
    let stdout = child.0.stdout.take().expect("stdout");
    let lines: Vec<String> = std::io::BufRead::lines(std::io::BufReader::new(stdout))
        .map_while(Result::ok)
        .take_while(|l| l != "courtier ready")
        .collect();
    for kind in ["tcp", "tls", "http", "https"] {
        let addrs: Vec<&String> = lines
            .iter()
            .filter(|l| l.starts_with(&format!("courtier listening {kind} ")))
            .collect();
        assert_eq!(addrs.len(), 2, "{kind}: {lines:?}");
        assert!(
            addrs.iter().any(|l| l.contains("[::1]:")),
            "{kind}: {lines:?}"
        );
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
