//! mqtt.js, the JavaScript MQTT client (npm package `mqtt`, installed in
//! tests/node by `cargo xtask setup`), through the broker over TCP,
//! WebSocket, TLS and secure WebSocket, with the test CA for TLS.

use std::path::Path;
use std::process::Command;

use courtier_e2e::certs::TestPki;
use courtier_e2e::start_broker;

/// Run `tests/node/roundtrip.js URL [CA]`; fail the test with its stderr.
fn mqttjs(url: &str, ca: Option<&Path>) {
    let node_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/node");
    assert!(
        Path::new(node_dir).join("node_modules/mqtt").exists(),
        "mqtt.js is not installed in {node_dir}: run `cargo xtask setup` (npm ci)"
    );
    let mut cmd = Command::new("node");
    cmd.current_dir(node_dir).arg("roundtrip.js").arg(url);
    if let Some(ca) = ca {
        cmd.arg(ca);
    }
    let out = cmd.output().expect("run node (Node.js is required)");
    assert!(
        out.status.success(),
        "mqtt.js over {url} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mqttjs_round_trips_over_every_transport() {
    let pki = TestPki::new();
    let mut args = pki.broker_args();
    args.extend(
        [
            "--http",
            "127.0.0.1:0",
            "--tls",
            "127.0.0.1:0",
            "--https",
            "127.0.0.1:0",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let ca = pki.ca();
    let port = |a: Option<std::net::SocketAddr>| a.expect("listener").port();
    mqttjs(&format!("mqtt://127.0.0.1:{}", b.port()), None);
    mqttjs(&format!("ws://127.0.0.1:{}/mqtt", port(b.http)), None);
    mqttjs(&format!("mqtts://localhost:{}", port(b.tls)), Some(&ca));
    mqttjs(
        &format!("wss://localhost:{}/mqtt", port(b.https)),
        Some(&ca),
    );
}

/// The project seed's example: mqtt.js over mqtts with a user name and
/// password subscribes to `dev` and receives its own publish, in 3.1.1 and
/// 5.0; a wrong password (4 / 0x86) and an anonymous client (5 / 0x87) are
/// refused: with a password file set, anonymous clients need
/// `allow_anonymous = true`, which is not given here.
#[test]
fn the_seed_example_mqttjs_over_mqtts_with_a_password() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let passwd = dir.path().join("passwd");
    let status = Command::new(courtier_e2e::broker_binary())
        .arg("passwd")
        .args(["-c", "-b"])
        .arg(&passwd)
        .args(["maison", "correct horse battery"])
        .status()
        .expect("courtier passwd");
    assert!(status.success());
    let mut args = pki.broker_args();
    args.extend(["--tls", "127.0.0.1:0", "--password-file"].map(String::from));
    args.push(passwd.to_string_lossy().into_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let b = start_broker(&args);
    let url = format!("mqtts://localhost:{}", b.tls.expect("TLS listener").port());
    let ca = pki.ca();
    let node_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/node");
    for (version, user, password, expect) in [
        ("4", "maison", "correct horse battery", "ok"),
        ("5", "maison", "correct horse battery", "ok"),
        ("4", "maison", "wrong", "4"),
        ("5", "maison", "wrong", "134"),
        ("4", "-", "-", "5"),
        ("5", "-", "-", "135"),
    ] {
        let out = Command::new("node")
            .current_dir(node_dir)
            .arg("seed.js")
            .arg(&url)
            .arg(&ca)
            .args([version, user, password, expect])
            .output()
            .expect("run node (Node.js is required)");
        assert!(
            out.status.success(),
            "mqtt.js v{version} user {user} expecting {expect}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
