//! The web app's Admin section in headless Chromium against the real broker and its admin API:
//! a wrong token is refused in words, the right one opens the dashboard; a user added from the
//! Users page (a short password stopped before sending) logs in over MQTT, is listed on the
//! Clients page and kicked from it (the client sees DISCONNECT 0x98); its retained message is
//! browsed and deleted; its next connection is listed on the Sessions page; an ACL rule added
//! from the ACL page lets it subscribe and, deleted there, refuses its next SUBSCRIBE; the user
//! is deleted; after a reload the token kept in sessionStorage opens the section again without
//! asking. A broker without an admin token is explained.
//!
//! Needs a broker binary with the admin API (`COURTIER_BIN`) and the trunk build
//! (`COURTIER_DIST`, `cargo xtask dist`).

use std::path::PathBuf;

use courtier_e2e::browser::{Browser, choose, click, dist, type_into};
use courtier_e2e::{RawClient, connect_packet, publish_retained, start_broker};
use courtier_proto::packet::Disconnect;
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};
use serde_json::json;

const TOKEN: &str = "e2e-web-admin";

/// The ACL file the test starts with: the sensor may use `home/#`.
const ACL: &str = "# managed from the web app\nuser sensor\ntopic readwrite home/#\n";

/// Awaits the text of `selector` becoming `expected`.
async fn wait_text(browser: &Browser, selector: &str, expected: &str) {
    let condition = format!(
        "document.querySelector({s})?.textContent === {e}",
        s = json!(selector),
        e = json!(expected)
    );
    browser.wait_for(&condition).await;
}

/// Keeps a screenshot in `target/artifacts/` for a look at the layout.
async fn screenshot(browser: &Browser, name: &str) {
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&artifacts).expect("create target/artifacts");
    let png = browser.client().screenshot().await.expect("a screenshot");
    std::fs::write(artifacts.join(name), png).expect("write the screenshot");
}

/// Awaits `selector` matching nothing.
async fn wait_gone(browser: &Browser, selector: &str) {
    browser
        .wait_for(&format!("!document.querySelector({})", json!(selector)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_against_courtier() {
    let dist = dist();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let passwords = dir.path().join("passwords");
    std::fs::write(&passwords, "# managed from the web app\n").expect("write the password file");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, ACL).expect("write the ACL file");
    let broker = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--web-root",
        dist.to_str().expect("a UTF-8 path"),
        "--admin-token",
        TOKEN,
        "--password-file",
        passwords.to_str().expect("a UTF-8 path"),
        "--acl-file",
        acl.to_str().expect("a UTF-8 path"),
    ]);
    let http = broker.http.expect("the broker reported its HTTP listener");
    let browser = Browser::start().await;
    browser
        .client()
        .set_window_size(1280, 900)
        .await
        .expect("resize the window");
    browser
        .open(
            &format!("http://{http}/"),
            "document.getElementById('view-admin')",
        )
        .await;
    // Kick and Delete ask first; the test answers yes.
    browser.run("window.confirm = () => true;", vec![]).await;
    click(&browser, "#view-admin").await;
    wait_text(
        &browser,
        "#admin-origin",
        &format!("The broker's admin API at http://{http}."),
    )
    .await;

    type_into(&browser, "admin-token", "not-the-token").await;
    click(&browser, "#admin-sign-in").await;
    wait_text(&browser, "#admin-error", "wrong admin token").await;
    type_into(&browser, "admin-token", TOKEN).await;
    click(&browser, "#admin-sign-in").await;
    browser
        .wait_for("document.querySelector('#admin-dashboard .tiles')")
        .await;

    // Users: a short password is stopped in the page; a good one is added.
    click(&browser, "#admin-tab-users").await;
    wait_text(
        &browser,
        "#admin-users h3:not(#add-user-title)",
        "Users (0)",
    )
    .await;
    type_into(&browser, "new-username", "sensor").await;
    type_into(&browser, "new-password", "short").await;
    click(&browser, "#add-user").await;
    wait_text(&browser, "#admin-error", "Password: at least 8 characters").await;
    screenshot(&browser, "web_admin_users.png").await;
    type_into(&browser, "new-password", "sensor-pass-1").await;
    click(&browser, "#add-user").await;
    wait_text(&browser, "#admin-done", "User sensor added").await;
    browser
        .wait_for("document.querySelector(\"#user-list [data-user='sensor']\")")
        .await;

    // The new user logs in and leaves a retained message.
    let sensor_login = |client_id: &str| {
        let mut connect = connect_packet(ProtocolVersion::V5, client_id);
        connect.username = Some("sensor".into());
        connect.password = Some(bytes::Bytes::from_static(b"sensor-pass-1"));
        connect
    };
    let (mut sensor, _) = RawClient::connect(broker.addr, sensor_login("sensor-1")).await;
    sensor
        .send(&publish_retained("home/temp", b"21.5", QoS::AtLeastOnce, 1))
        .await;
    assert!(matches!(sensor.recv().await, Packet::Ack(_)), "PUBACK");

    // Clients: listed with its user, then kicked.
    click(&browser, "#admin-tab-clients").await;
    let row = "#clients-table tr[data-client='sensor-1']";
    wait_text(&browser, &format!("{row} td"), "sensor").await;
    screenshot(&browser, "web_admin_clients.png").await;
    click(&browser, "[aria-label='Kick sensor-1']").await;
    wait_text(&browser, "#admin-done", "Client sensor-1 kicked").await;
    match sensor.expect_closed().await.as_slice() {
        [Packet::Disconnect(Disconnect { reason, .. })] => {
            assert_eq!(*reason, ReasonCode::AdministrativeAction);
        }
        other => panic!("expected DISCONNECT 0x98, got {other:?}"),
    }
    wait_gone(&browser, row).await;

    // Retained: browsed with the default filter, then deleted.
    click(&browser, "#admin-tab-retained").await;
    let filter = browser
        .run(
            "return document.getElementById('retained-filter').value;",
            vec![],
        )
        .await;
    assert_eq!(filter, json!("#"));
    let row = "#retained-table tr[data-topic='home/temp']";
    wait_text(&browser, &format!("{row} .payload"), "21.5").await;
    click(&browser, "[aria-label='Delete retained home/temp']").await;
    wait_text(
        &browser,
        "#admin-done",
        "Retained message of home/temp deleted",
    )
    .await;
    wait_gone(&browser, row).await;

    // Sessions: the sensor's next connection is listed.
    let (mut sensor, _) = RawClient::connect(broker.addr, sensor_login("sensor-2")).await;
    click(&browser, "#admin-tab-sessions").await;
    wait_text(
        &browser,
        "#sessions-table tr[data-client='sensor-2'] .state",
        "connected",
    )
    .await;

    // ACL: the file's rule is listed; a rule added from the page lets the sensor subscribe,
    // and once it is deleted there the next SUBSCRIBE is refused; the connection stays.
    click(&browser, "#admin-tab-acl").await;
    browser
        .wait_for("document.querySelector(\"#acl-table tr[data-rule='topic readwrite home/# for user sensor']\")")
        .await;
    let refused = ReasonCode::NotAuthorized;
    assert_eq!(sensor.subscribe_reason("alerts/#").await, refused);
    type_into(&browser, "new-rule-user", "sensor").await;
    choose(&browser, "new-rule-access", "readwrite").await;
    type_into(&browser, "new-rule-filter", "alerts/#").await;
    click(&browser, "#add-rule").await;
    let rule = "topic readwrite alerts/# for user sensor";
    wait_text(&browser, "#admin-done", &format!("Rule {rule} added")).await;
    let row = format!("#acl-table tr[data-rule='{rule}']");
    browser
        .wait_for(&format!("document.querySelector({})", json!(row)))
        .await;
    screenshot(&browser, "web_admin_acl.png").await;
    assert_eq!(
        sensor.subscribe_reason("alerts/#").await,
        ReasonCode::GrantedQoS1
    );
    click(&browser, &format!("[aria-label='Delete rule {rule}']")).await;
    wait_text(&browser, "#admin-done", &format!("Rule {rule} deleted")).await;
    wait_gone(&browser, &row).await;
    assert_eq!(sensor.subscribe_reason("alerts/#").await, refused);
    assert_eq!(
        std::fs::read_to_string(&acl).expect("read the ACL file"),
        ACL
    );

    // Users: deleted.
    click(&browser, "#admin-tab-users").await;
    browser
        .wait_for("document.querySelector(\"#user-list [data-user='sensor']\")")
        .await;
    click(&browser, "[aria-label='Delete user sensor']").await;
    wait_text(&browser, "#admin-done", "User sensor deleted").await;
    wait_gone(&browser, "#user-list").await;

    // The dashboard counted the message; after a reload the kept token opens the section.
    click(&browser, "#admin-tab-dashboard").await;
    browser
        .wait_for(
            "[...document.querySelectorAll('#admin-dashboard .tile')]
               .some(t => t.textContent.includes('1 received in all'))",
        )
        .await;
    // Rates are charted from the second poll on.
    browser
        .wait_for("document.querySelector('#rate-in polyline')")
        .await;
    click(&browser, "#theme-toggle").await;
    screenshot(&browser, "web_admin_dashboard.png").await;
    browser
        .open(
            &format!("http://{http}/"),
            "document.getElementById('view-admin')",
        )
        .await;
    click(&browser, "#view-admin").await;
    browser
        .wait_for("document.querySelector('#admin-dashboard .tiles')")
        .await;

    // A broker without an admin token: the page says how to turn the API on.
    let off = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--web-root",
        dist.to_str().expect("a UTF-8 path"),
    ]);
    let off_http = off.http.expect("the broker reported its HTTP listener");
    browser
        .open(
            &format!("http://{off_http}/"),
            "document.getElementById('view-admin')",
        )
        .await;
    click(&browser, "#view-admin").await;
    type_into(&browser, "admin-token", TOKEN).await;
    click(&browser, "#admin-sign-in").await;
    wait_text(
        &browser,
        "#admin-error",
        "admin API not enabled: start courtier with --admin-token",
    )
    .await;
    browser.close().await;
}
