//! The admin API (`/api/v1` on the HTTP listener) against the real binary:
//! off without a token, 401 with a wrong one, clients listed and kicked,
//! sessions, retained messages browsed and cleared, users of the password
//! file added and deleted for the next CONNECT, ACL rules added and deleted
//! for the next SUBSCRIBE while clients stay connected.

use std::net::SocketAddr;

use courtier_e2e::{BrokerProcess, RawClient, connect_packet, publish_retained, start_broker};
use courtier_proto::packet::{AckKind, Connect, Disconnect, LastWill, WillProperties};
use courtier_proto::{Packet, ProtocolVersion, QoS, ReasonCode};
use serde_json::Value;

const V5: ProtocolVersion = ProtocolVersion::V5;
const TOKEN: &str = "e2e-admin-token";

/// One HTTP/1.1 request with an optional bearer token and JSON body: the
/// status code, the `WWW-Authenticate` header and the JSON body (`Null` if empty).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Option<String>, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        headers.push(("Content-Type", "application/json"));
    }
    let r = courtier_e2e::http::request(addr, method, path, &headers, body).await;
    let code = r.status;
    let authenticate = r.header("www-authenticate").map(str::to_ascii_lowercase);
    let body = r.body.as_str();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    };
    (code, authenticate, json)
}

/// An authorized request: status and JSON body.
async fn admin(b: &BrokerProcess, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let http = b.http.expect("HTTP listener");
    let (code, _, json) = call(http, method, path, Some(TOKEN), body).await;
    (code, json)
}

fn with_token(extra: &[&str]) -> BrokerProcess {
    let mut args = vec!["--http", "127.0.0.1:0", "--admin-token", TOKEN];
    args.extend_from_slice(extra);
    start_broker(&args)
}

/// The `error` of a JSON error body.
fn error(json: &Value) -> &str {
    json["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {json}"))
}

#[tokio::test]
async fn the_api_is_off_without_a_token_and_closed_to_a_wrong_one() {
    let off = start_broker(&["--http", "127.0.0.1:0"]);
    let (code, _, json) = call(
        off.http.expect("HTTP"),
        "GET",
        "/api/v1/overview",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(code, 404);
    assert!(error(&json).contains("admin API is off"), "{json}");

    // The token from a file, so it need not appear on the command line.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).expect("write");
    let b = start_broker(&[
        "--http",
        "127.0.0.1:0",
        "--admin-token-file",
        file.to_str().expect("utf-8"),
    ]);
    let http = b.http.expect("HTTP");
    for token in [None, Some("wrong"), Some("e2e-admin-token2")] {
        let (code, authenticate, json) = call(http, "GET", "/api/v1/overview", token, None).await;
        assert_eq!(code, 401, "{token:?}");
        assert!(authenticate.is_some_and(|h| h.starts_with("bearer")));
        assert!(error(&json).contains("admin token"), "{json}");
    }
    let (code, json) = admin(&b, "GET", "/api/v1/overview", None).await;
    assert_eq!(code, 200, "{json}");
    assert!(
        json["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("courtier "))
    );
    assert_eq!(json["clients_connected"], 0);
    let (code, json) = admin(&b, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!((code, error(&json).is_empty()), (404, false));
    let (code, json) = admin(&b, "PUT", "/api/v1/overview", None).await;
    assert_eq!((code, error(&json).is_empty()), (405, false));
    let (code, json) = admin(&b, "GET", "/api/v1/clients?limit=5000", None).await;
    assert_eq!(code, 400);
    assert!(error(&json).contains("limit"), "{json}");
    let (code, json) = admin(&b, "GET", "/api/v1/acl", None).await;
    assert_eq!(
        (code, json["configured"].as_bool()),
        (200, Some(false)),
        "{json}"
    );
    let (code, json) = admin(&b, "GET", "/api/v1/users", None).await;
    assert_eq!(code, 409, "no password file");
    assert!(error(&json).contains("password_file"), "{json}");
    let rule = r#"{"user":null,"kind":"topic","access":"read","filter":"a/#"}"#;
    let (code, json) = admin(&b, "POST", "/api/v1/acl", Some(rule)).await;
    assert_eq!(code, 409, "no ACL file");
    assert!(error(&json).contains("set acl_file"), "{json}");
}

#[tokio::test]
async fn clients_are_listed_and_a_kicked_v5_client_gets_0x98() {
    let b = with_token(&[]);
    let mut kicked_connect = connect_packet(V5, "kicked");
    kicked_connect.properties.session_expiry_interval = Some(300);
    kicked_connect.keep_alive = 30;
    kicked_connect.will = Some(LastWill {
        topic: courtier_proto::TopicName::new("news/gone").expect("topic"),
        payload: bytes::Bytes::from_static(b"kicked"),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: WillProperties::default(),
    });
    let mut kicked = RawClient::connect(b.addr, kicked_connect).await.0;
    let mut other_connect = connect_packet(ProtocolVersion::V3_1_1, "other");
    other_connect.username = Some("bob".into());
    let mut other = RawClient::connect(b.addr, other_connect).await.0;
    other.subscribe("news/#", QoS::AtLeastOnce).await;

    let (code, list) = admin(&b, "GET", "/api/v1/clients", None).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["total"], 2);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items[0]["client_id"], "kicked");
    assert_eq!(items[0]["peer"], kicked.local_addr().to_string());
    assert_eq!(items[0]["protocol"], "5.0");
    assert_eq!(items[0]["keep_alive"], 30);
    assert!(items[0]["connected_since"].as_u64().is_some_and(|t| t > 0));
    assert_eq!(items[1]["client_id"], "other");
    assert_eq!(items[1]["peer"], other.local_addr().to_string());
    assert_eq!(items[1]["username"], "bob");
    assert_eq!(items[1]["protocol"], "3.1.1");
    assert_eq!(items[1]["subscriptions"], 1);

    let (code, json) = admin(&b, "DELETE", "/api/v1/clients/kicked", None).await;
    assert_eq!(code, 204, "{json}");
    match kicked.expect_closed().await.as_slice() {
        [Packet::Disconnect(Disconnect { reason, .. })] => {
            assert_eq!(*reason, ReasonCode::AdministrativeAction);
        }
        other => panic!("expected DISCONNECT 0x98, got {other:?}"),
    }
    // Like any lost connection, its will goes out; the other client carries on.
    let will = other.recv_publish().await;
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        ("news/gone", &b"kicked"[..])
    );
    other.send(&Packet::PingReq).await;
    assert_eq!(other.recv().await, Packet::PingResp);

    // The session stays for its expiry interval, offline; kicking again is a 404.
    let (code, sessions) = admin(&b, "GET", "/api/v1/sessions", None).await;
    assert_eq!(code, 200);
    let kept = &sessions["items"][0];
    assert_eq!(
        (kept["client_id"].as_str(), kept["connected"].as_bool()),
        (Some("kicked"), Some(false))
    );
    assert_eq!(kept["expiry_interval"], 300);
    let (code, json) = admin(&b, "DELETE", "/api/v1/clients/kicked", None).await;
    assert_eq!(code, 404);
    assert!(error(&json).contains("not connected"), "{json}");

    let (code, subs) = admin(&b, "GET", "/api/v1/sessions/other/subscriptions", None).await;
    assert_eq!(code, 200);
    assert_eq!(subs["items"][0]["filter"], "news/#");
    assert_eq!(subs["items"][0]["qos"], 1);
    let (code, _) = admin(&b, "GET", "/api/v1/sessions/nobody/subscriptions", None).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn retained_messages_are_browsed_and_deleted() {
    let b = with_token(&[]);
    let mut publisher = RawClient::connect(b.addr, connect_packet(V5, "pub"))
        .await
        .0;
    for (id, topic, payload) in [
        (1, "home/temp", &b"21.5"[..]),
        (2, "home/raw", &b"\xff\xfe"[..]),
    ] {
        let Packet::Publish(mut p) = publish_retained(topic, b"", QoS::AtLeastOnce, id) else {
            unreachable!("publish_retained makes a PUBLISH");
        };
        p.payload = bytes::Bytes::copy_from_slice(payload);
        publisher.send(&Packet::Publish(p)).await;
        assert!(matches!(publisher.recv().await, Packet::Ack(a) if a.kind == AckKind::PubAck));
    }

    let (code, list) = admin(
        &b,
        "GET",
        "/api/v1/retained?filter=home%2F%23&limit=10",
        None,
    )
    .await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["more"], false);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["topic"].as_str(), items[0]["encoding"].as_str()),
        (Some("home/raw"), Some("base64"))
    );
    assert_eq!(items[0]["payload"], "//4=");
    assert_eq!(
        (items[1]["topic"].as_str(), items[1]["payload"].as_str()),
        (Some("home/temp"), Some("21.5"))
    );
    assert_eq!(
        (items[1]["qos"].as_u64(), items[1]["size"].as_u64()),
        (Some(1), Some(4))
    );
    let (_, one) = admin(&b, "GET", "/api/v1/retained?limit=1", None).await;
    assert_eq!(
        (one["items"].as_array().map(Vec::len), one["more"].as_bool()),
        (Some(1), Some(true))
    );

    let (code, json) = admin(&b, "DELETE", "/api/v1/retained/home%2Ftemp", None).await;
    assert_eq!(code, 204, "{json}");
    let (code, json) = admin(&b, "DELETE", "/api/v1/retained/home%2Ftemp", None).await;
    assert_eq!(code, 404, "{json}");

    // A later subscriber gets the other retained message and nothing of home/temp.
    let mut late = RawClient::connect(b.addr, connect_packet(V5, "late"))
        .await
        .0;
    late.subscribe("home/#", QoS::AtLeastOnce).await;
    let first = late.recv_publish().await;
    assert_eq!(first.topic.as_str(), "home/raw");
    // Retained messages go out right after SUBACK: a PINGRESP next proves none followed.
    late.send(&Packet::PingReq).await;
    assert_eq!(late.recv().await, Packet::PingResp);
}

fn login(user: &str, password: &str) -> Connect {
    let mut c = connect_packet(V5, user);
    c.username = Some(user.into());
    c.password = Some(bytes::Bytes::copy_from_slice(password.as_bytes()));
    c
}

/// The CONNACK reason for `user` / `password`.
async fn connack(addr: SocketAddr, user: &str, password: &str) -> ReasonCode {
    let mut c = RawClient::open(addr, V5).await;
    c.send(&Packet::Connect(Box::new(login(user, password))))
        .await;
    match c.recv().await {
        Packet::ConnAck(a) => a.reason,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[tokio::test]
async fn users_are_added_and_deleted_for_new_connects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("passwords");
    std::fs::write(&file, "# managed by the admin API\n").expect("write");
    let b = with_token(&["--password-file", file.to_str().expect("utf-8")]);

    for (body, rule) in [
        (r#"{"username":"alice","password":"short"}"#, "at least 8"),
        (
            r#"{"username":"alice1234","password":"Alice1234"}"#,
            "differ from the user name",
        ),
        (r#"{"username":"a:b","password":"long enough"}"#, "`:`"),
    ] {
        let (code, json) = admin(&b, "POST", "/api/v1/users", Some(body)).await;
        assert_eq!(code, 400, "{body}: {json}");
        assert!(error(&json).contains(rule), "{body}: {json}");
    }
    let (code, json) = admin(&b, "POST", "/api/v1/users", Some("{\"username\":1}")).await;
    assert_eq!(code, 422, "{json}");
    assert!(!error(&json).is_empty());

    let body = r#"{"username":"alice","password":"correct horse"}"#;
    let (code, json) = admin(&b, "POST", "/api/v1/users", Some(body)).await;
    assert_eq!(code, 201, "{json}");
    assert_eq!(
        connack(b.addr, "alice", "correct horse").await,
        ReasonCode::Success
    );
    let (code, users) = admin(&b, "GET", "/api/v1/users", None).await;
    assert_eq!(code, 200);
    assert_eq!(users["items"], serde_json::json!(["alice"]));
    assert!(
        users["password_rules"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );

    let (code, json) = admin(&b, "DELETE", "/api/v1/users/alice", None).await;
    assert_eq!(code, 204, "{json}");
    assert_eq!(
        connack(b.addr, "alice", "correct horse").await,
        ReasonCode::BadUserNameOrPassword
    );
    let (code, _) = admin(&b, "DELETE", "/api/v1/users/alice", None).await;
    assert_eq!(code, 404);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# managed by the admin API\n"), "{text}");
}

#[tokio::test]
async fn acl_rules_are_added_and_deleted_for_the_next_subscribe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("acl");
    std::fs::write(
        &file,
        "# managed by the admin API\nuser dev\ntopic read dev/status\n",
    )
    .expect("write");
    let b = with_token(&["--acl-file", file.to_str().expect("utf-8")]);
    let as_dev = |id: &str| {
        let mut c = connect_packet(V5, id);
        c.username = Some("dev".into());
        c
    };
    let mut bystander = RawClient::connect(b.addr, as_dev("bystander")).await.0;
    assert_eq!(
        bystander.subscribe_reason("dev/status").await,
        ReasonCode::GrantedQoS1
    );
    let mut dev = RawClient::connect(b.addr, as_dev("dev-1")).await.0;
    assert_eq!(
        dev.subscribe_reason("sensors/#").await,
        ReasonCode::NotAuthorized
    );

    let rule = r#"{"user":"dev","kind":"topic","access":"read","filter":"sensors/#"}"#;
    let (code, json) = admin(&b, "POST", "/api/v1/acl", Some(rule)).await;
    assert_eq!(code, 201, "{json}");
    assert_eq!(
        json,
        serde_json::json!({"kind": "topic", "user": "dev", "access": "read", "filter": "sensors/#"})
    );
    let (code, json) = admin(&b, "POST", "/api/v1/acl", Some(rule)).await;
    assert_eq!(code, 409, "{json}");
    assert!(error(&json).contains("already has"), "{json}");
    let (_, listed) = admin(&b, "GET", "/api/v1/acl", None).await;
    assert_eq!(listed["total"], 2, "{listed}");
    // The same connection, asking again: granted now.
    assert_eq!(
        dev.subscribe_reason("sensors/#").await,
        ReasonCode::GrantedQoS1
    );

    for (body, status, words) in [
        (
            r#"{"user":"dev","kind":"pattern","access":"read","filter":"x/%c"}"#,
            400,
            "give no user",
        ),
        (
            r#"{"kind":"topic","access":"read","filter":"a/#/b"}"#,
            400,
            "not a valid topic filter",
        ),
        (
            r#"{"kind":"topic","access":"all","filter":"a"}"#,
            400,
            "access must be",
        ),
    ] {
        let (code, json) = admin(&b, "POST", "/api/v1/acl", Some(body)).await;
        assert_eq!(code, status, "{body}: {json}");
        assert!(error(&json).contains(words), "{body}: {json}");
    }

    let (code, json) = admin(&b, "DELETE", "/api/v1/acl", Some(rule)).await;
    assert_eq!(code, 204, "{json}");
    let (code, json) = admin(&b, "DELETE", "/api/v1/acl", Some(rule)).await;
    assert_eq!(code, 404, "{json}");
    assert!(error(&json).contains("no rule"), "{json}");
    assert_eq!(
        dev.subscribe_reason("sensors/#").await,
        ReasonCode::NotAuthorized
    );

    // Nobody was disconnected along the way.
    for c in [&mut dev, &mut bystander] {
        c.send(&Packet::PingReq).await;
        assert_eq!(c.recv().await, Packet::PingResp);
    }
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        text,
        "# managed by the admin API\nuser dev\ntopic read dev/status\n"
    );
}

/// `X-Forwarded-For` names the client only when the connection comes from a
/// configured proxy (issue 4): the admin API shows which address the broker
/// believed, the rightmost hop the trusted proxy added.
#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    for (trusted, expect) in [(true, "203.0.113.9"), (false, "127.0.0.1")] {
        let proxy: &[&str] = if trusted {
            &["--trusted-proxy", "127.0.0.1"]
        } else {
            &[]
        };
        let b = with_token(proxy);
        let http = b.http.expect("HTTP listener");
        let forwarded = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9")];
        let mut ws =
            courtier_e2e::deflate::DeflateClient::open_with(http, None, &forwarded, V5).await;
        ws.send(&Packet::Connect(Box::new(connect_packet(
            V5,
            "behind-proxy",
        ))))
        .await;
        assert!(matches!(ws.recv().await, Packet::ConnAck(a) if a.reason.is_success()));
        let (code, list) = admin(&b, "GET", "/api/v1/clients", None).await;
        assert_eq!(code, 200, "{list}");
        let peer = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|c| c["client_id"] == "behind-proxy")
            .and_then(|c| c["peer"].as_str())
            .unwrap_or_else(|| panic!("behind-proxy not listed: {list}"))
            .to_owned();
        assert!(peer.starts_with(expect), "trusted={trusted}: {peer}");
    }
}
