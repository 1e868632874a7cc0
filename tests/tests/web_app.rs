//! The web app (`dist/`, built by trunk) in headless Chromium against the real broker: open the
//! page the broker serves, connect, subscribe to `maMaison/rez-de-chaussee/+`, see a message
//! published by `mosquitto_pub` over TCP in the log, the tree and a chart, publish from the page
//! to `mosquitto_sub`, save a connection profile and reconnect with it after a reload, keep light
//! and dark screenshots; then connect the same page to Mosquitto's WebSocket
//! listener through `?broker=`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use courtier_e2e::browser::{Browser, Mosquitto, click, dist, type_into};
use courtier_e2e::start_broker;
use serde_json::json;

async fn connect_and_wait(browser: &Browser) {
    browser.wait_for("document.getElementById('connect')").await;
    click(browser, "#connect").await;
    let status = browser
        .wait_for(
            "(() => { const t = document.getElementById('status-text').textContent;
                      return t.startsWith('Connected') || t.includes('closed') || t.includes('refused') ? t : null; })()",
        )
        .await;
    assert!(
        status.as_str().is_some_and(|s| s.starts_with("Connected")),
        "status: {status}"
    );
}

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_app_against_courtier() {
    let dist = dist();
    let broker = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--web-root",
        dist.to_str().expect("a UTF-8 path"),
    ]);
    let http = broker.http.expect("the broker reported its HTTP listener");
    let port = broker.port().to_string();
    let browser = Browser::start().await;
    browser
        .client()
        .set_window_size(1440, 1000)
        .await
        .expect("resize the window");
    browser
        .open(
            &format!("http://{http}/"),
            "document.getElementById('broker-url')",
        )
        .await;
    let url = browser
        .run(
            "return document.getElementById('broker-url').value;",
            vec![],
        )
        .await;
    assert_eq!(url, json!(format!("ws://{http}/mqtt")));

    connect_and_wait(&browser).await;
    type_into(&browser, "sub-filter", "maMaison/rez-de-chaussee/+").await;
    click(&browser, "#subscribe").await;
    browser
        .wait_for("document.querySelector('.subscription .badge.ok')")
        .await;

    // A message from a TCP client reaches the log and the tree.
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port, "-q", "1"])
        .args(["-t", "maMaison/rez-de-chaussee/cuisine", "-m", "21.5"])
        .status()
        .expect("run mosquitto_pub (Debian package mosquitto-clients)");
    assert!(status.success());
    browser
        .wait_for(
            "[...document.querySelectorAll('.log-row')].some(r =>
               r.textContent.includes('maMaison/rez-de-chaussee/cuisine') && r.textContent.includes('21.5'))",
        )
        .await;
    browser
        .wait_for("document.querySelector(\"[data-topic='maMaison']\")")
        .await;

    // One click from the log row to a chart.
    click(&browser, ".log-row .chart-button").await;
    let last = browser
        .wait_for("document.querySelector('#chart .last')?.textContent")
        .await;
    assert_eq!(last, json!("21.5"));

    // A publish from the page reaches mosquitto_sub; -d prints SUBACK once it is subscribed.
    // Line-buffered (`stdbuf -oL`): a pipe would hold the SUBACK line back until exit. `-W`
    // bounds the wait so a lost message fails the test instead of hanging it.
    let mut sub = Command::new("stdbuf")
        .args([
            "-oL",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-d",
            "-C",
            "1",
            "-W",
            "20",
        ])
        .args(["-t", "maMaison/rez-de-chaussee/salon"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run mosquitto_sub");
    let mut lines = BufReader::new(sub.stdout.take().expect("piped stdout")).lines();
    let sub = Killed(sub);
    for line in lines.by_ref() {
        if line.expect("mosquitto_sub output").contains("SUBACK") {
            break;
        }
    }
    type_into(&browser, "pub-topic", "maMaison/rez-de-chaussee/salon").await;
    type_into(&browser, "pub-payload", "20.5").await;
    click(&browser, "#publish").await;
    let received: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        received.iter().any(|l| l == "20.5"),
        "mosquitto_sub printed {received:?}"
    );
    drop(sub);
    // The page subscribed to the same filter, so its own message comes back too.
    browser
        .wait_for(
            "[...document.querySelectorAll('.log-row')].some(r => r.textContent.includes('20.5'))",
        )
        .await;
    browser
        .wait_for("document.querySelector('.recent li')")
        .await;

    // A saved profile (in IndexedDB) is listed.
    click(&browser, "#save-profile").await;
    browser
        .wait_for("document.querySelector('.profiles .profile')?.textContent")
        .await;

    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&artifacts).expect("create target/artifacts");
    let png = browser.client().screenshot().await.expect("a screenshot");
    std::fs::write(artifacts.join("web_app.png"), png).expect("write the screenshot");
    // The same page in the dark theme (the header toggle), for a look at its contrast.
    let light = browser
        .run(
            "return document.documentElement.getAttribute('data-theme');",
            vec![],
        )
        .await;
    click(&browser, "#theme-toggle").await;
    let dark = browser
        .wait_for("document.documentElement.getAttribute('data-theme')")
        .await;
    assert_ne!(light, dark, "the toggle switched the theme");
    if dark != json!("dark") {
        click(&browser, "#theme-toggle").await;
        browser
            .wait_for("document.documentElement.getAttribute('data-theme') === 'dark'")
            .await;
    }
    let png = browser.client().screenshot().await.expect("a screenshot");
    std::fs::write(artifacts.join("web_app_dark.png"), png).expect("write the screenshot");

    // Disconnect is reported in words.
    click(&browser, "#disconnect").await;
    browser
        .wait_for("document.getElementById('status-text').textContent.startsWith('Disconnected')")
        .await;

    // After a reload the profile is still there, and one click on it connects again.
    browser
        .open(
            &format!("http://{http}/"),
            "document.querySelector('.profiles .profile')",
        )
        .await;
    click(&browser, ".profiles .profile").await;
    browser
        .wait_for("document.getElementById('status-text').textContent.startsWith('Connected')")
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_app_against_mosquitto_websockets() {
    let dist = dist();
    // Courtier serves the page; the page talks to Mosquitto.
    let broker = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--web-root",
        dist.to_str().expect("a UTF-8 path"),
    ]);
    let http = broker.http.expect("the broker reported its HTTP listener");
    let mosquitto = Mosquitto::start_websockets();
    let port = mosquitto.websocket_port;
    let browser = Browser::start().await;
    let target = format!("ws://127.0.0.1:{port}");
    browser
        .open(
            &format!("http://{http}/?broker={target}"),
            "document.getElementById('broker-url')",
        )
        .await;
    let url = browser
        .run(
            "return document.getElementById('broker-url').value;",
            vec![],
        )
        .await;
    assert_eq!(url, json!(target));
    connect_and_wait(&browser).await;
    type_into(&browser, "sub-filter", "maMaison/#").await;
    click(&browser, "#subscribe").await;
    browser
        .wait_for("document.querySelector('.subscription .badge.ok')")
        .await;
    type_into(&browser, "pub-topic", "maMaison/rez-de-chaussee/salon").await;
    type_into(&browser, "pub-payload", "19.5").await;
    click(&browser, "#publish").await;
    browser
        .wait_for(
            "[...document.querySelectorAll('.log-row')].some(r => r.textContent.includes('19.5'))",
        )
        .await;
    browser.close().await;
}
