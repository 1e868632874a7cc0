//! Authorization against the real binary: a Mosquitto-format ACL file with
//! users, anonymous rules and `%c` / `%u` patterns decides SUBSCRIBE (SUBACK
//! 0x87, 3.1.1: 0x80), PUBLISH (PUBACK 0x87, 3.1.1: acknowledged and
//! dropped), retained messages on subscribe, and the will's topic at CONNECT
//! (CONNACK 0x87, 3.1.1: return code 5, decoded here as 0x87).
//!
//! A refused PUBLISH is shown undelivered without waiting out a silence: a
//! permitted PUBLISH follows it on the same connection, and the watcher's
//! first message must be that one (messages of one publisher keep their
//! order).

use std::path::Path;

use bytes::Bytes;
use courtier_e2e::{
    BrokerProcess, RawClient, connect_packet, publish, publish_retained, start_broker,
};
use courtier_proto::packet::{AckKind, Connect, LastWill};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode, TopicName};

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

const ACL: &str = "\
# anonymous clients: read the public topics only
topic read public/#

user alice
topic readwrite maMaison/#
topic deny maMaison/cave/#

user watcher
topic read #
topic write public/#

pattern readwrite devices/%c/#
pattern read users/%u/inbox
";

/// A broker with users alice, watcher and bob (passwords = names) and the
/// ACL above; anonymous clients allowed so their rules can be checked.
fn broker(dir: &Path) -> BrokerProcess {
    let passwd = dir.join("pw");
    let acl = dir.join("acl");
    std::fs::write(&acl, ACL).expect("write ACL");
    let pw = passwd.to_str().expect("utf-8");
    for (i, user) in ["alice", "watcher", "bob"].into_iter().enumerate() {
        let mut args = vec!["passwd", "-b", pw, user, user];
        if i == 0 {
            args.insert(1, "-c");
        }
        let status = std::process::Command::new(courtier_e2e::broker_binary())
            .args(&args)
            .status()
            .expect("run courtier passwd");
        assert!(status.success());
    }
    start_broker(&[
        "--password-file",
        pw,
        "--acl-file",
        acl.to_str().expect("utf-8"),
        "--allow-anonymous",
        "true",
    ])
}

fn login(version: ProtocolVersion, client_id: &str, user: Option<&str>) -> Connect {
    let mut c = connect_packet(version, client_id);
    c.username = user.map(Into::into);
    c.password = user.map(|u| Bytes::copy_from_slice(u.as_bytes()));
    c
}

async fn client(
    b: &BrokerProcess,
    version: ProtocolVersion,
    id: &str,
    user: Option<&str>,
) -> RawClient {
    RawClient::connect(b.addr, login(version, id, user)).await.0
}

fn suback_code(packet: Packet) -> ReasonCode {
    match packet {
        Packet::SubAck(s) => s.reason_codes[0],
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

/// Publish at QoS 1 and return the PUBACK's reason.
async fn puback(c: &mut RawClient, topic: &str, id: u16) -> ReasonCode {
    c.send(&publish(topic, b"21.5", QoS::AtLeastOnce, id)).await;
    match c.recv().await {
        Packet::Ack(a) if a.kind == AckKind::PubAck => a.reason,
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

#[tokio::test]
async fn subscriptions_are_granted_or_refused_at_subscribe_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = broker(dir.path());
    // (version, client id, user, filter, expected SUBACK code)
    let refused = |v: ProtocolVersion| {
        if v == V5 {
            ReasonCode::NotAuthorized
        } else {
            ReasonCode::UnspecifiedError
        }
    };
    for v in [V311, V5] {
        let ok = ReasonCode::GrantedQoS1;
        let no = refused(v);
        let cases = [
            ("a1", Some("alice"), "maMaison/etage/+", ok),
            // Covered by readwrite, but the deny rule overlaps it: both
            // filters match `maMaison/cave/...`.
            ("a2", Some("alice"), "maMaison/#", no),
            ("a5", Some("alice"), "maMaison/+/cuisine", no),
            ("a3", Some("alice"), "public/#", no),
            ("n1", None, "public/#", ok),
            ("n2", None, "maMaison/#", no),
            ("w1", Some("watcher"), "#", ok),
            // %c and %u, substituted per client.
            ("dev7", Some("bob"), "devices/dev7/#", ok),
            ("dev8", Some("bob"), "devices/dev7/#", no),
            ("b1", Some("bob"), "users/bob/inbox", ok),
            ("b2", Some("bob"), "users/alice/inbox", no),
            // Shared subscriptions are decided on their inner filter.
            ("a4", Some("alice"), "$share/g/maMaison/etage/+", ok),
            ("a6", Some("alice"), "$share/g/maMaison/#", no),
        ];
        for (id, user, filter, expect) in cases {
            if v == V311 && filter.starts_with("$share") {
                continue;
            }
            let mut c = client(&b, v, id, user).await;
            let got = suback_code(c.subscribe(filter, QoS::AtLeastOnce).await);
            assert_eq!(got, expect, "{v:?} {id} {user:?} {filter}");
        }
    }
}

#[tokio::test]
async fn refused_publishes_are_acknowledged_as_such_and_never_delivered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = broker(dir.path());
    let mut watcher = client(&b, V5, "watch", Some("watcher")).await;
    assert_eq!(
        suback_code(watcher.subscribe("#", QoS::AtLeastOnce).await),
        ReasonCode::GrantedQoS1
    );

    let mut alice5 = client(&b, V5, "alice-5", Some("alice")).await;
    assert_eq!(
        puback(&mut alice5, "maMaison/cave/vin", 1).await,
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        puback(&mut alice5, "public/news", 2).await,
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        puback(&mut alice5, "maMaison/rez-de-chaussee/cuisine", 3).await,
        ReasonCode::Success
    );
    // 3.1.1 has no refusal in PUBACK: acknowledged, and dropped all the same.
    let mut alice3 = client(&b, V311, "alice-3", Some("alice")).await;
    assert_eq!(
        puback(&mut alice3, "maMaison/cave/vin", 1).await,
        ReasonCode::Success
    );
    assert_eq!(
        puback(&mut alice3, "maMaison/etage/salon", 2).await,
        ReasonCode::Success
    );
    // The %c pattern: a client writes under its own id only.
    let mut dev = client(&b, V5, "dev9", Some("bob")).await;
    assert_eq!(
        puback(&mut dev, "devices/dev1/status", 1).await,
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        puback(&mut dev, "devices/dev9/status", 2).await,
        ReasonCode::Success
    );

    for expect in [
        "maMaison/rez-de-chaussee/cuisine",
        "maMaison/etage/salon",
        "devices/dev9/status",
    ] {
        let got = watcher.recv_publish().await;
        assert_eq!(
            got.topic.as_str(),
            expect,
            "only permitted publishes arrive, in order"
        );
    }
}

#[tokio::test]
async fn retained_messages_follow_the_acl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = broker(dir.path());
    let mut alice = client(&b, V5, "alice", Some("alice")).await;
    alice
        .send(&publish_retained(
            "maMaison/etage/salon",
            b"19",
            QoS::AtLeastOnce,
            1,
        ))
        .await;
    // Success, or 0x10 No matching subscribers: stored all the same.
    assert!(matches!(alice.recv().await, Packet::Ack(a) if a.reason.is_success()));
    alice
        .send(&publish_retained(
            "maMaison/cave/vin",
            b"12",
            QoS::AtLeastOnce,
            2,
        ))
        .await;
    assert!(matches!(alice.recv().await, Packet::Ack(a) if a.reason == ReasonCode::NotAuthorized));

    // The refused one was not retained: the watcher (read #) gets one message.
    let mut watcher = client(&b, V5, "watch", Some("watcher")).await;
    assert_eq!(
        suback_code(watcher.subscribe("maMaison/+/+", QoS::AtLeastOnce).await),
        ReasonCode::GrantedQoS1
    );
    let first = watcher.recv_publish().await;
    assert_eq!(first.topic.as_str(), "maMaison/etage/salon");
    assert!(first.retain);
    // Had the refused message been retained, it would come before this live one.
    alice
        .send(&publish(
            "maMaison/etage/cuisine",
            b"20",
            QoS::AtMostOnce,
            0,
        ))
        .await;
    let next = watcher.recv_publish().await;
    assert_eq!(next.topic.as_str(), "maMaison/etage/cuisine");
    assert!(!next.retain);
    // An anonymous client may not subscribe there, so it gets no retained message:
    // its SUBACK refuses, and the next thing it sees is its own permitted traffic.
    let mut anon = client(&b, V5, "anon", None).await;
    assert_eq!(
        suback_code(anon.subscribe("maMaison/#", QoS::AtLeastOnce).await),
        ReasonCode::NotAuthorized
    );
    assert_eq!(
        suback_code(anon.subscribe("public/#", QoS::AtLeastOnce).await),
        ReasonCode::GrantedQoS1
    );
    let mut watcher2 = client(&b, V5, "watch2", Some("watcher")).await;
    watcher2
        .send(&publish("public/news", b"hello", QoS::AtMostOnce, 0))
        .await;
    let got = anon.recv_publish().await;
    assert_eq!(got.topic.as_str(), "public/news");
}

#[tokio::test]
async fn a_will_the_client_may_not_publish_refuses_the_connection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = broker(dir.path());
    for version in [V5, V311] {
        for (topic, allowed) in [
            ("maMaison/cave/alarme", false),
            ("maMaison/etat/alice", true),
        ] {
            let mut connect = login(version, "willing", Some("alice"));
            connect.will = Some(LastWill {
                topic: TopicName::new(topic).expect("topic"),
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties: Default::default(),
            });
            let mut c = RawClient::open(b.addr, version).await;
            c.send(&Packet::Connect(Box::new(connect))).await;
            let Packet::ConnAck(ack) = c.recv().await else {
                panic!("expected CONNACK");
            };
            if allowed {
                assert_eq!(ack.reason, ReasonCode::Success, "{version:?} {topic}");
            } else {
                assert_eq!(ack.reason, ReasonCode::NotAuthorized, "{version:?} {topic}");
                assert_eq!(c.expect_closed().await, [], "closed after the refusal");
            }
        }
    }
}

#[test]
fn a_bad_acl_line_stops_start_up_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "user alice\ntopic read maMaison/#/cuisine\n").expect("write");
    let (code, stderr) = courtier_e2e::start_fails(&["--acl-file", acl.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("acl_file"), "{stderr}");
    assert!(stderr.contains("acl:2:"), "{stderr}");
}
