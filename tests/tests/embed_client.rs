//! The packaged embeddable client (`dist/client/`, built by `cargo xtask dist`) in headless
//! Chromium: against the Courtier broker (connect, subscribe, publish and receive at QoS 0/1/2,
//! a message from a TCP client, reconnect after the broker restarts on the same port with the
//! subscriptions restored, `end()`), and against Mosquitto's WebSocket listener. The example
//! page `examples/embed.html` is checked to show a live value.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use courtier_e2e::browser::{Browser, Mosquitto, free_port};
use courtier_e2e::{BrokerProcess, RawClient, connect_packet, publish, start_broker};
use courtier_proto::{ProtocolVersion, QoS};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The page the tests drive: it loads the package and exposes it on `window`.
const TEST_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>courtier-client e2e</title>
<script type="module">
  import init, * as courtier from './client/courtier_client.js';
  try {
    await init();
    window.courtier = courtier;
    window.ready = true;
  } catch (error) {
    window.lastError = String(error);
  }
</script>
"#;

/// The package files, or a failure that says how to make them (never a silent skip).
fn dist_client() -> PathBuf {
    let dist = std::env::var_os("COURTIER_DIST").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    );
    let client = dist.join("client");
    for file in [
        "courtier_client.js",
        "courtier_client_bg.wasm",
        "courtier_value.js",
    ] {
        assert!(
            client.join(file).is_file(),
            "{} is missing: run `cargo xtask dist` to build the embeddable client package",
            client.join(file).display()
        );
    }
    client
}

/// The package is publishable as is: TypeScript types, a `package.json` named
/// `courtier-client` whose entry points exist, and the README.
#[test]
fn the_client_package_has_types_a_manifest_and_a_readme() {
    let client = dist_client();
    let types = read(&client.join("courtier_client.d.ts"));
    assert!(
        types.contains("export class MqttClient"),
        "courtier_client.d.ts declares MqttClient"
    );
    let manifest: Value =
        serde_json::from_str(&read(&client.join("package.json"))).expect("package.json is JSON");
    assert_eq!(manifest["name"], json!("courtier-client"));
    for entry in ["main", "module", "types"] {
        let file = manifest[entry].as_str().expect("an entry point");
        assert!(
            client.join(file).is_file(),
            "package.json {entry}: {file} is missing"
        );
    }
    let readme = read(&client.join("README.md"));
    assert!(readme.starts_with("# "), "README.md has a title");
    assert!(readme.contains("MqttClient"), "README.md shows the API");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{} is unreadable ({e}): run `cargo xtask dist` to build the embeddable client package",
            path.display()
        )
    })
}

/// A web root with the package under `client/`, the test page and the example page.
fn web_root() -> TempDir {
    let root = tempfile::tempdir().expect("a temporary web root");
    copy_files(&dist_client(), &root.path().join("client"));
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    copy_files(&examples, &root.path().join("examples"));
    std::fs::write(root.path().join("e2e.html"), TEST_PAGE).expect("write the test page");
    root
}

fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a web root directory");
    for entry in std::fs::read_dir(from).expect("read a package directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().expect("a file name"))).expect("copy");
        }
    }
}

fn broker_with_web_root(root: &Path, http: &str) -> BrokerProcess {
    let root = root.to_str().expect("a UTF-8 temporary path");
    start_broker(&["--http", http, "--web-root", root])
}

async fn open_test_page(browser: &Browser, http: SocketAddr) {
    browser
        .open(&format!("http://{http}/e2e.html"), "window.ready === true")
        .await;
}

/// Connects `window.client` to `url` with `options`, recording messages and events.
async fn connect(browser: &Browser, url: &str, options: Value) -> Value {
    browser
        .run(
            "const [url, options] = args;
             const client = await courtier.MqttClient.connect(url, options);
             window.client = client;
             window.got = [];
             window.events = [];
             client.on('message', (topic, payload, packet) => got.push({
               topic, text: new TextDecoder().decode(payload), qos: packet.qos,
               retain: packet.retain, dup: packet.dup, properties: packet.properties }));
             for (const name of ['connect', 'reconnect', 'close', 'error']) {
               client.on(name, (info) => events.push(name));
             }
             return { clientId: client.clientId, connected: client.connected };",
            vec![json!(url), options],
        )
        .await
}

/// Subscribes to `e2e/#` at QoS 2, publishes once at each QoS and checks each comes back.
async fn exchange_at_every_qos(browser: &Browser) {
    let granted = browser
        .run(
            "return await client.subscribe('e2e/#', { qos: 2 });",
            vec![],
        )
        .await;
    assert_eq!(granted, json!(2), "granted QoS");
    let acks = browser
        .run(
            "const acks = [];
             for (const qos of [0, 1, 2]) {
               acks.push(await client.publish(`e2e/qos${qos}`, `payload ${qos}`, { qos }));
             }
             return acks;",
            vec![],
        )
        .await;
    // The reason codes: Success for each (the publisher is itself a matching subscriber).
    assert_eq!(acks, json!([0, 0, 0]));
    let got = browser.wait_for("got.length >= 3 && got").await;
    let got: Vec<(String, String, u64)> = got
        .as_array()
        .expect("an array")
        .iter()
        .map(|m| {
            (
                m["topic"].as_str().unwrap_or_default().to_owned(),
                m["text"].as_str().unwrap_or_default().to_owned(),
                m["qos"].as_u64().unwrap_or(9),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = (0..3)
        .map(|q| (format!("e2e/qos{q}"), format!("payload {q}"), q))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packaged_client_against_courtier() {
    let root = web_root();
    let mut broker = broker_with_web_root(root.path(), "127.0.0.1:0");
    let http = broker.http.expect("an HTTP listener");
    let url = format!("ws://{http}/mqtt");
    let browser = Browser::start().await;
    open_test_page(&browser, http).await;

    // Nothing listens there: connect rejects in words, and does not keep retrying.
    let refused = browser
        .try_run(
            "await courtier.MqttClient.connect(`ws://127.0.0.1:${args[0]}/mqtt`, {});",
            vec![json!(free_port())],
        )
        .await
        .expect_err("no broker, no connection");
    assert!(refused.starts_with("could not connect: "), "{refused}");
    assert!(refused.contains("close code 1006"), "{refused}");

    let info = connect(
        &browser,
        &url,
        json!({ "clientId": "e2e-embed", "keepalive": 30 }),
    )
    .await;
    assert_eq!(info, json!({ "clientId": "e2e-embed", "connected": true }));
    exchange_at_every_qos(&browser).await;

    // 5.0 properties travel both ways (the broker may add a Subscription Identifier: none
    // was asked for here, so none comes back).
    browser
        .run(
            "await client.publish('e2e/props', '{\"t\":1}', { qos: 1, properties: {
               contentType: 'application/json', payloadFormatIndicator: true,
               messageExpiryInterval: 60, responseTopic: 'e2e/reply',
               correlationData: new Uint8Array([1, 2]),
               userProperties: { a: '1', b: ['x', 'y'] } } });",
            vec![],
        )
        .await;
    let properties = browser
        .wait_for("(got.find((m) => m.topic === 'e2e/props') || {}).properties")
        .await;
    assert_eq!(properties["contentType"], json!("application/json"));
    assert_eq!(properties["payloadFormatIndicator"], json!(true));
    assert_eq!(properties["responseTopic"], json!("e2e/reply"));
    assert_eq!(properties["correlationData"], json!([1, 2]));
    assert_eq!(
        properties["userProperties"],
        json!({ "a": "1", "b": ["x", "y"] })
    );
    let expiry = properties["messageExpiryInterval"]
        .as_u64()
        .expect("an expiry");
    assert!(
        (59..=60).contains(&expiry),
        "expiry counts down from 60: {expiry}"
    );

    // A message from a plain TCP client reaches the page.
    let (mut tcp, _) = RawClient::connect(
        broker.addr,
        connect_packet(ProtocolVersion::V3_1_1, "e2e-tcp-publisher"),
    )
    .await;
    tcp.send(&publish("e2e/from-tcp", b"over tcp", QoS::AtMostOnce, 1))
        .await;
    browser
        .wait_for("got.some((m) => m.topic === 'e2e/from-tcp' && m.text === 'over tcp')")
        .await;
    drop(tcp);

    // Errors say what is wrong, with the rule and the reason code.
    let invalid = browser
        .try_run("await client.subscribe('a/#/b', { qos: 0 });", vec![])
        .await
        .expect_err("an invalid filter is refused");
    assert!(invalid.contains("[MQTT-4.7.1-2]"), "{invalid}");
    assert!(invalid.contains("reasonCode 143"), "{invalid}");
    // A broker's refusal too: `$SYS` is read-only, and a 5.0 PUBACK says so with 0x87.
    let refused = browser
        .try_run(
            "await client.publish('$SYS/spoof', 'x', { qos: 1 });",
            vec![],
        )
        .await
        .expect_err("the broker refuses a publish to $SYS");
    assert!(refused.contains("not authorized (0x87)"), "{refused}");
    assert!(refused.contains("reasonCode 135"), "{refused}");

    // A subscription made with a Subscription Identifier and user properties.
    browser
        .run(
            "return await client.subscribe('e2e/ided/+', { qos: 1, properties: {
               subscriptionIdentifier: 42, userProperties: { app: 'e2e' } } });",
            vec![],
        )
        .await;

    // The broker restarts on the same port: the client reconnects by itself, finds no session
    // and subscribes again, with the same properties; a QoS 1 publish made while it was down
    // completes afterwards.
    broker.terminate();
    drop(broker);
    browser.wait_for("events.includes('reconnect')").await;
    browser
        .run(
            "window.queued = client.publish('e2e/queued', 'while down', { qos: 1 });",
            vec![],
        )
        .await;
    let broker = broker_with_web_root(root.path(), &http.to_string());
    browser.wait_for("events.includes('connect')").await;
    browser.run("await queued;", vec![]).await;
    browser
        .run(
            "await client.publish('e2e/after-restart', 'back', { qos: 1 });",
            vec![],
        )
        .await;
    browser
        .wait_for("got.some((m) => m.topic === 'e2e/after-restart' && m.text === 'back')")
        .await;
    // The restored subscription kept its identifier: a message it matches names it (one copy
    // for the overlapping `e2e/#` and `e2e/ided/+`, carrying the only identifier asked for).
    browser
        .run(
            "await client.publish('e2e/ided/x', 'id', { qos: 1 });",
            vec![],
        )
        .await;
    let ids = browser
        .wait_for(
            "(got.find((m) => m.topic === 'e2e/ided/x') || {}).properties
               ?.subscriptionIdentifier || false",
        )
        .await;
    assert_eq!(ids, json!([42]), "the restored subscription's identifier");

    // end(): DISCONNECT, socket closed, no reconnect.
    let ended = browser
        .run(
            "const before = events.filter((e) => e === 'reconnect').length;
             await client.end();
             return { connected: client.connected, closed: events.at(-1),
                      reconnects: events.filter((e) => e === 'reconnect').length - before };",
            vec![],
        )
        .await;
    assert_eq!(
        ended,
        json!({ "connected": false, "closed": "close", "reconnects": 0 })
    );

    // The example page shows a live value for its topic, and so does <courtier-value>.
    browser
        .open(
            &format!("http://{http}/examples/embed.html?topic=e2e/temperature"),
            "window.embedReady === true || window.embedError",
        )
        .await;
    // The element subscribes on its own connection: publish once it has (state `live`).
    let state = browser
        .wait_for(
            "window.embedError || ['live', 'error'].includes(
               document.getElementById('element').dataset.state)
             && (document.getElementById('element').title || 'live')",
        )
        .await;
    assert_eq!(
        state,
        json!("live"),
        "the example page and its element are live"
    );
    let (mut tcp, _) = RawClient::connect(
        broker.addr,
        connect_packet(ProtocolVersion::V3_1_1, "e2e-sensor"),
    )
    .await;
    tcp.send(&publish("e2e/temperature", b"21.5", QoS::AtMostOnce, 1))
        .await;
    let shown = browser
        .wait_for(
            "document.getElementById('value').textContent === '21.5'
             && document.getElementById('element').textContent === '21.5'
             && document.getElementById('line').getAttribute('points')",
        )
        .await;
    assert!(shown.is_string(), "the chart has a point: {shown}");
    browser.close().await;
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packaged_client_against_mosquitto_websockets() {
    let root = web_root();
    // Courtier only serves the page here; the client talks to Mosquitto.
    let broker = broker_with_web_root(root.path(), "127.0.0.1:0");
    let http = broker.http.expect("an HTTP listener");
    let mosquitto = Mosquitto::start_websockets();
    let port = mosquitto.websocket_port;
    let browser = Browser::start().await;
    open_test_page(&browser, http).await;
    let url = format!("ws://127.0.0.1:{port}/mqtt");
    let info = connect(
        &browser,
        &url,
        json!({ "clientId": "e2e-embed-mosquitto", "protocolVersion": 4, "reconnect": false }),
    )
    .await;
    assert_eq!(info["connected"], json!(true));
    exchange_at_every_qos(&browser).await;
    let ended = browser
        .run("await client.end(); return client.connected;", vec![])
        .await;
    assert_eq!(ended, json!(false));
    browser.close().await;
}
