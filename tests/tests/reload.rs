//! Reloads without a restart: the password file, the ACL file and the TLS
//! certificate are read again on SIGHUP and when they change on disk, while
//! connected clients carry on; a file that fails to load changes nothing.
//!
//! A reload is an event inside the broker with no packet to wait for, so
//! these tests poll for its effect (a new client accepted, a handshake that
//! now succeeds) up to a deadline, never sleeping a fixed time.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use courtier_e2e::certs::{TestPki, path_str};
use courtier_e2e::transport::{AnyClient, Transport};
use courtier_e2e::{BrokerProcess, RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::{AckKind, Connect};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V5: ProtocolVersion = ProtocolVersion::V5;
/// Reloads follow a file change within the broker's 2 s poll.
const DEADLINE: Duration = Duration::from_secs(10);

/// Retry `attempt` until it returns true or the deadline passes.
async fn eventually<F: Future<Output = bool>>(what: &str, mut attempt: impl FnMut() -> F) {
    let started = Instant::now();
    while !attempt().await {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: not within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn passwd(file: &std::path::Path, user: &str) {
    let status = std::process::Command::new(courtier_e2e::broker_binary())
        .args(["passwd", "-b", &path_str(file), user, user])
        .status()
        .expect("run courtier passwd");
    assert!(status.success());
}

fn login(client_id: &str, user: &str) -> Connect {
    let mut c = connect_packet(V5, client_id);
    c.username = Some(user.into());
    c.password = Some(Bytes::copy_from_slice(user.as_bytes()));
    c
}

async fn connack(b: &BrokerProcess, connect: Connect) -> ReasonCode {
    let mut c = RawClient::open(b.addr, V5).await;
    c.send(&Packet::Connect(Box::new(connect))).await;
    match c.recv().await {
        Packet::ConnAck(a) => a.reason,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

/// A password file with alice, an ACL letting alice read and write
/// `maMaison/#`, a broker on them, and alice subscribed.
async fn setup(dir: &std::path::Path, extra: &[&str]) -> (BrokerProcess, RawClient) {
    let pw = dir.join("pw");
    std::fs::write(&pw, "").expect("write");
    passwd(&pw, "alice");
    std::fs::write(dir.join("acl"), "user alice\ntopic readwrite maMaison/#\n").expect("write");
    let mut args = vec!["--password-file".to_owned(), path_str(&pw)];
    args.extend(["--acl-file".to_owned(), path_str(&dir.join("acl"))]);
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let (mut alice, _) = RawClient::connect(b.addr, login("alice", "alice")).await;
    alice.subscribe("maMaison/#", QoS::AtLeastOnce).await;
    (b, alice)
}

#[tokio::test]
async fn sighup_reloads_users_and_rules_and_connected_clients_carry_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, mut alice) = setup(dir.path(), &[]).await;
    assert_eq!(
        connack(&b, login("bob", "bob")).await,
        ReasonCode::BadUserNameOrPassword
    );

    passwd(&dir.path().join("pw"), "bob");
    let acl = "user alice\ntopic readwrite maMaison/#\nuser bob\ntopic write maMaison/#\n";
    std::fs::write(dir.path().join("acl"), acl).expect("write");
    b.signal("HUP");
    eventually("bob accepted", || async {
        connack(&b, login("bob-probe", "bob")).await == ReasonCode::Success
    })
    .await;

    // Bob may now publish, and alice, connected since before the reload,
    // still gets what she subscribed to.
    let (mut bob, _) = RawClient::connect(b.addr, login("bob", "bob")).await;
    bob.send(&publish("maMaison/salon", b"19.5", QoS::AtLeastOnce, 1))
        .await;
    assert!(
        matches!(bob.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck && a.reason.is_success())
    );
    let got = alice.recv_publish().await;
    assert_eq!(got.topic.as_str(), "maMaison/salon");
}

#[tokio::test]
async fn a_changed_file_is_reloaded_without_a_signal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, _alice) = setup(dir.path(), &[]).await;
    let acl = "user alice\ntopic readwrite maMaison/#\ntopic read public/#\n";
    std::fs::write(dir.path().join("acl"), acl).expect("write");
    eventually("public/# granted to alice", || async {
        let (mut c, _) = RawClient::connect(b.addr, login("alice-probe", "alice")).await;
        matches!(c.subscribe("public/#", QoS::AtMostOnce).await,
            Packet::SubAck(s) if s.reason_codes == [ReasonCode::Success])
    })
    .await;
}

#[tokio::test]
async fn a_broken_file_on_reload_keeps_the_policy_in_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, mut alice) = setup(dir.path(), &["--http", "127.0.0.1:0"]).await;
    std::fs::write(
        dir.path().join("acl"),
        "user alice\ntopic readwrite maMaison/#/x\n",
    )
    .expect("write");
    b.signal("HUP");
    let http = b.http.expect("HTTP listener");
    eventually("the failed reload counted", || async {
        metrics(http)
            .await
            .contains("courtier_reloads_total{result=\"failed\"} 1")
    })
    .await;
    // The rules that were in force still are: alice publishes, alice receives.
    alice
        .send(&publish("maMaison/cuisine", b"21.5", QoS::AtLeastOnce, 1))
        .await;
    loop {
        match alice.recv().await {
            Packet::Ack(a) => assert!(a.reason.is_success(), "{a:?}"),
            Packet::Publish(p) => {
                assert_eq!(p.topic.as_str(), "maMaison/cuisine");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn metrics(http: std::net::SocketAddr) -> String {
    courtier_e2e::http::get(http, "/metrics").await.body
}

/// Whether a TLS handshake to `addr` trusting `config` succeeds.
async fn handshake(addr: std::net::SocketAddr, config: Arc<rustls::ClientConfig>) -> bool {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .is_ok()
}

#[tokio::test]
async fn a_rotated_certificate_serves_new_handshakes_and_old_sessions_stay() {
    let old = TestPki::new();
    let new = TestPki::new();
    let mut args = vec!["--tls".to_owned(), "127.0.0.1:0".to_owned()];
    args.extend(old.broker_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let tls = b.tls.expect("TLS listener");
    let trust_old = old.client_config(false);
    let mut before =
        AnyClient::connect(&b, Transport::Tls, &trust_old, connect_packet(V5, "before")).await;
    assert!(
        !handshake(tls, new.client_config(false)).await,
        "the new CA is not trusted yet"
    );

    // Rotate: the new certificate and key replace the old files in place.
    std::fs::copy(new.server_key(), old.server_key()).expect("copy key");
    std::fs::copy(new.server_cert(), old.server_cert()).expect("copy cert");
    b.signal("HUP");
    eventually("the new certificate served", || {
        handshake(tls, new.client_config(false))
    })
    .await;

    // The connection made before the rotation is still served.
    before.send(&Packet::PingReq).await;
    assert!(matches!(before.recv().await, Packet::PingResp));
}
