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
