//! Reloads without a restart: the password file, the ACL file, the TLS
//! certificate and the client CA are read again on SIGHUP and when they
//! change on disk, while connected clients carry on; a file that fails to
//! load changes nothing.
//!
//! A reload has no packet to wait for; the broker says it on stdout
//! (`courtier reloaded ok|failed (SIGHUP|a file changed)`, beside `courtier
//! ready`), and the tests wait for that line, then check its effect once.

use std::sync::Arc;

use bytes::Bytes;
use courtier_e2e::certs::{TestPki, path_str};
use courtier_e2e::transport::{AnyClient, Transport, mqtt_session_over_tls};
use courtier_e2e::{BrokerProcess, RawClient, connect_packet, publish, start_broker};
use courtier_proto::packet::{AckKind, Connect};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Replace `path` with `text` in one step (write beside, then rename), so
/// the broker's file watch never reads half a file.
fn write_atomically(path: &std::path::Path, text: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
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
    write_atomically(
        &dir.join("acl"),
        b"user alice\ntopic readwrite maMaison/#\n",
    );
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
    write_atomically(&dir.path().join("acl"), acl.as_bytes());
    b.signal("HUP");
    b.wait_for_line("courtier reloaded ok (SIGHUP)");
    assert_eq!(
        connack(&b, login("bob-probe", "bob")).await,
        ReasonCode::Success
    );

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
    write_atomically(&dir.path().join("acl"), acl.as_bytes());
    b.wait_for_line("courtier reloaded ok (a file changed)");
    let (mut c, _) = RawClient::connect(b.addr, login("alice-probe", "alice")).await;
    assert!(
        matches!(c.subscribe("public/#", QoS::AtMostOnce).await,
            Packet::SubAck(s) if s.reason_codes == [ReasonCode::Success]),
        "public/# granted to alice"
    );
}

#[tokio::test]
async fn a_broken_file_on_reload_keeps_the_policy_in_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, mut alice) = setup(dir.path(), &["--http", "127.0.0.1:0"]).await;
    write_atomically(
        &dir.path().join("acl"),
        b"user alice\ntopic readwrite maMaison/#/x\n",
    );
    b.signal("HUP");
    b.wait_for_line("courtier reloaded failed (SIGHUP)");
    // Counted (the file watch may have tried it once before the signal).
    let body = metrics(b.http.expect("HTTP listener")).await;
    let failed = body
        .lines()
        .find_map(|l| l.strip_prefix("courtier_reloads_total{result=\"failed\"} "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(matches!(failed, Some(1 | 2)), "{body}");
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
    let read = |p: std::path::PathBuf| std::fs::read(p).expect("read");
    write_atomically(&old.server_key(), &read(new.server_key()));
    write_atomically(&old.server_cert(), &read(new.server_cert()));
    b.signal("HUP");
    b.wait_for_line("courtier reloaded ok (SIGHUP)");
    assert!(
        handshake(tls, new.client_config(false)).await,
        "the new certificate is served"
    );

    // The connection made before the rotation is still served.
    before.send(&Packet::PingReq).await;
    assert!(matches!(before.recv().await, Packet::PingResp));
}

#[tokio::test]
async fn a_replaced_client_ca_decides_new_handshakes_and_old_sessions_stay() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("client-ca.pem");
    let read = |p: std::path::PathBuf| std::fs::read(p).expect("read");
    // At first the broker trusts a CA that signed no client certificate.
    write_atomically(&ca, &read(pki.other_ca()));
    let mut args = vec!["--tls".to_owned(), "127.0.0.1:0".to_owned()];
    args.extend(pki.broker_args());
    args.extend(["--client-ca".to_owned(), path_str(&ca)]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let tls = b.tls.expect("TLS listener");
    let client = pki.client_config(true);
    assert!(
        !mqtt_session_over_tls(tls, client.clone()).await,
        "its CA is not trusted yet"
    );

    // The file is replaced with the CA that signed the client's certificate.
    write_atomically(&ca, &read(pki.ca()));
    b.wait_for_line("courtier reloaded ok (a file changed)");
    assert!(
        mqtt_session_over_tls(tls, client.clone()).await,
        "the new CA is in force"
    );
    let mut steady =
        AnyClient::connect(&b, Transport::Tls, &client, connect_packet(V5, "steady")).await;

    // A CA file that does not load changes nothing.
    write_atomically(&ca, b"not a certificate\n");
    b.signal("HUP");
    b.wait_for_line("courtier reloaded failed (SIGHUP)");
    assert!(mqtt_session_over_tls(tls, client.clone()).await);

    // Back to the other CA: new handshakes are refused, the session made
    // under the previous one carries on.
    write_atomically(&ca, &read(pki.other_ca()));
    b.signal("HUP");
    b.wait_for_line("courtier reloaded ok (SIGHUP)");
    assert!(!mqtt_session_over_tls(tls, client).await);
    steady.send(&Packet::PingReq).await;
    assert!(matches!(steady.recv().await, Packet::PingResp));
}
