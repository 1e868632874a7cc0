//! Independent clients through the broker: rumqttc (3.1.1 and 5.0) and the
//! Mosquitto command-line clients.

use std::process::{Command, Stdio};
use std::time::Duration;

use courtier_e2e::{TIMEOUT, start_broker};

/// Drive a rumqttc 3.1.1 event loop until `pred` sees a matching incoming packet.
async fn v4_until(
    ev: &mut rumqttc::EventLoop,
    mut pred: impl FnMut(&rumqttc::Packet) -> bool,
) -> rumqttc::Packet {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            match ev.poll().await {
                Ok(rumqttc::Event::Incoming(p)) if pred(&p) => return p,
                Ok(_) => {}
                Err(e) => panic!("rumqttc v4 error: {e}"),
            }
        }
    })
    .await
    .expect("rumqttc v4 timed out")
}

#[tokio::test]
async fn rumqttc_v4_publish_and_subscribe() {
    let b = start_broker(&[]);
    let mut opts = rumqttc::MqttOptions::new("rumq-v4", "127.0.0.1", b.port());
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut ev) = rumqttc::AsyncClient::new(opts, 10);
    client
        .subscribe("interop/v4", rumqttc::QoS::ExactlyOnce)
        .await
        .expect("subscribe");
    v4_until(&mut ev, |p| matches!(p, rumqttc::Packet::SubAck(_))).await;
    for qos in [
        rumqttc::QoS::AtMostOnce,
        rumqttc::QoS::AtLeastOnce,
        rumqttc::QoS::ExactlyOnce,
    ] {
        client
            .publish("interop/v4", qos, false, format!("{qos:?}"))
            .await
            .expect("publish");
        let p = v4_until(&mut ev, |p| matches!(p, rumqttc::Packet::Publish(_))).await;
        let rumqttc::Packet::Publish(p) = p else {
            panic!("filtered to PUBLISH")
        };
        assert_eq!(p.payload, format!("{qos:?}").as_bytes());
        assert_eq!(p.qos, qos);
    }
}

#[tokio::test]
async fn rumqttc_v5_publish_and_subscribe() {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};

    let b = start_broker(&[]);
    let mut opts = MqttOptions::new("rumq-v5", "127.0.0.1", b.port());
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut ev) = AsyncClient::new(opts, 10);
    client
        .subscribe("interop/v5", QoS::ExactlyOnce)
        .await
        .expect("subscribe");
    client
        .publish("interop/v5", QoS::ExactlyOnce, false, "five")
        .await
        .expect("publish");
    let got = tokio::time::timeout(TIMEOUT, async {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => return p,
                Ok(_) => {}
                Err(e) => panic!("rumqttc v5 error: {e}"),
            }
        }
    })
    .await
    .expect("rumqttc v5 timed out");
    assert_eq!(&got.payload[..], b"five");
    assert_eq!(got.qos, QoS::ExactlyOnce);
}

fn mosquitto_available() -> bool {
    Command::new("mosquitto_sub")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[tokio::test]
async fn mosquitto_clients_exchange_a_retained_message() {
    assert!(
        mosquitto_available(),
        "mosquitto_sub/mosquitto_pub not installed (Debian package mosquitto-clients; `cargo xtask setup` installs it)"
    );
    let b = start_broker(&[]);
    let port = b.port().to_string();
    for version in ["mqttv311", "mqttv5"] {
        let topic = format!("mosq/{version}");
        let common = ["-h", "127.0.0.1", "-p", &port, "-V", version, "-t", &topic];
        let status = Command::new("mosquitto_pub")
            .args(common)
            .args(["-q", "1", "-r", "-m", "hi"])
            .status()
            .expect("run mosquitto_pub");
        assert!(status.success());
        // The retained message makes the subscriber's first (and only) message deterministic.
        let out = Command::new("mosquitto_sub")
            .args(common)
            .args(["-q", "2", "-C", "1", "-W", "5", "-v"])
            .output()
            .expect("run mosquitto_sub");
        assert!(
            out.status.success(),
            "mosquitto_sub failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{topic} hi")
        );
    }
}

/// Run `tests/python/paho_roundtrip.py` against the broker.
fn paho(port: u16, transport: &str) {
    let available = Command::new("python3")
        .args(["-c", "import paho.mqtt"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        available,
        "python3 with paho-mqtt is required (`cargo xtask setup` installs it)"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/paho_roundtrip.py");
    let out = Command::new("python3")
        .args([script, "127.0.0.1", &port.to_string(), transport])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "paho over {transport} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn paho_mqtt_round_trips_over_tcp() {
    let b = start_broker(&[]);
    paho(b.port(), "tcp");
}

#[tokio::test]
async fn paho_mqtt_round_trips_over_websocket() {
    let b = start_broker(&["--http", "127.0.0.1:0"]);
    paho(b.http.expect("http listener").port(), "websockets");
}
