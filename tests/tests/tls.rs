//! MQTT over TLS: certificate errors reported once at start, client
//! certificates required and verified with `--client-ca`, and the Mosquitto
//! command-line clients over TLS with the test CA.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use courtier_e2e::certs::{TestPki, path_str};
use courtier_e2e::transport::{AnyClient, Transport, mqtt_session_over_tls, tls_connect};
use courtier_e2e::{BrokerProcess, TIMEOUT, broker_binary, connect_packet, start_broker};
use courtier_proto::{Packet, ProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Run the broker with `args`, expecting it to refuse to start: returns
/// (exit code, stderr).
fn start_fails(args: &[String]) -> (Option<i32>, String) {
    let mut child = Command::new(broker_binary())
        .args(["--tcp", "127.0.0.1:0", "--sys-interval", "0", "--in-memory"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start broker");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("the broker started despite {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    (status.code(), stderr)
}

fn tls_args(cert: &str, key: &str) -> Vec<String> {
    ["--tls", "127.0.0.1:0", "--cert", cert, "--key", key]
        .map(String::from)
        .to_vec()
}

#[test]
fn a_bad_certificate_or_key_is_one_clear_error_at_start() {
    let pki = TestPki::new();
    let junk = pki.dir().join("junk.pem");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nnot base64!\n").expect("write");
    let missing = pki.dir().join("missing.pem");
    let (cert, key) = (path_str(&pki.server_cert()), path_str(&pki.server_key()));
    let cases = [
        (tls_args(&path_str(&missing), &key), "--cert", "missing.pem"),
        (tls_args(&path_str(&junk), &key), "--cert", "junk.pem"),
        (tls_args(&cert, &path_str(&missing)), "--key", "missing.pem"),
        (tls_args(&cert, &cert), "--key", "server.pem"),
        (
            tls_args(&path_str(&pki.ca()), &key),
            "--cert/--key",
            "belong together",
        ),
    ];
    for (args, flag, mention) in cases {
        let (code, stderr) = start_fails(&args);
        assert!(matches!(code, Some(c) if c != 0), "{args:?}: exit {code:?}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line, got {stderr}");
        assert!(lines[0].contains(flag), "{args:?}: {stderr}");
        assert!(lines[0].contains(mention), "{args:?}: {stderr}");
    }
    // A TLS listener without a certificate is a configuration error, also one line.
    let (code, stderr) = start_fails(&["--tls".into(), "127.0.0.1:0".into()]);
    assert!(matches!(code, Some(c) if c != 0));
    assert!(
        stderr.contains("`cert`") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

fn with_client_ca(pki: &TestPki, ca: &std::path::Path) -> BrokerProcess {
    let mut args = pki.broker_args();
    args.extend(["--tls", "127.0.0.1:0", "--client-ca"].map(String::from));
    args.push(path_str(ca));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start_broker(&args)
}

/// Whether an MQTT session gets going over the broker's TLS listener with `config`.
async fn mqtt_over_tls_works(b: &BrokerProcess, config: Arc<rustls::ClientConfig>) -> bool {
    mqtt_session_over_tls(b.tls.expect("tls listener"), config).await
}

#[tokio::test]
async fn with_client_ca_a_client_certificate_is_required_and_verified() {
    let pki = TestPki::new();
    let b = with_client_ca(&pki, &pki.ca());
    assert!(
        mqtt_over_tls_works(&b, pki.client_config(true)).await,
        "signed client cert"
    );
    assert!(
        !mqtt_over_tls_works(&b, pki.client_config(false)).await,
        "no client cert"
    );
    // A working client is not disturbed by refused ones.
    let mut c = AnyClient::connect(
        &b,
        Transport::Tls,
        &pki.client_config(true),
        connect_packet(ProtocolVersion::V5, "steady"),
    )
    .await;
    assert!(!mqtt_over_tls_works(&b, pki.client_config(false)).await);
    c.send(&Packet::PingReq).await;
    assert_eq!(c.recv().await, Packet::PingResp);

    let strict = with_client_ca(&pki, &pki.other_ca());
    assert!(
        !mqtt_over_tls_works(&strict, pki.client_config(true)).await,
        "client cert from another CA"
    );
}

#[tokio::test]
async fn without_client_ca_no_client_certificate_is_needed() {
    let pki = TestPki::new();
    let mut args = pki.broker_args();
    args.extend(["--tls", "127.0.0.1:0"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    assert!(mqtt_over_tls_works(&b, pki.client_config(false)).await);
    // A plain-TCP client speaking to the TLS port is dropped, nothing more.
    let mut raw = tokio::net::TcpStream::connect(b.tls.expect("tls"))
        .await
        .expect("connect");
    raw.write_all(&[0x10, 0x00]).await.expect("write");
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(TIMEOUT, raw.read_to_end(&mut sink))
        .await
        .expect("closed in time");
    let _ = tls_connect(b.tls.expect("tls"), pki.client_config(false)).await;
}

#[test]
fn mosquitto_clients_over_tls_with_the_test_ca() {
    let pki = TestPki::new();
    let mut args = pki.broker_args();
    args.extend(["--tls", "127.0.0.1:0"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let port = b.tls.expect("tls listener").port().to_string();
    let ca = path_str(&pki.ca());
    for version in ["mqttv311", "mqttv5"] {
        let topic = format!("mosq-tls/{version}");
        let common = [
            "-h",
            "localhost",
            "-p",
            &port,
            "--cafile",
            &ca,
            "-V",
            version,
            "-t",
            &topic,
        ];
        let status = Command::new("mosquitto_pub")
            .args(common)
            .args(["-q", "1", "-r", "-m", "over tls"])
            .status()
            .expect("run mosquitto_pub (Debian package mosquitto-clients)");
        assert!(status.success(), "mosquitto_pub over TLS");
        // The retained message makes the subscriber's one message deterministic.
        let out = Command::new("mosquitto_sub")
            .args(common)
            .args(["-q", "2", "-C", "1", "-W", "5", "-v"])
            .output()
            .expect("run mosquitto_sub");
        assert!(
            out.status.success(),
            "mosquitto_sub: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{topic} over tls")
        );
    }
}
