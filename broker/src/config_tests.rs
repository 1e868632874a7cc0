//! Tests of the configuration: flags over file, defaults, validation
//! messages, and the annotated example file.

use super::*;

fn parse(args: &[&str]) -> Options {
    Options::parse_from(std::iter::once("courtier").chain(args.iter().copied()))
}

#[test]
fn defaults_apply_without_flags() {
    let c = parse(&[]).resolve().expect("defaults are valid");
    assert_eq!(c.tcp, vec![SocketAddr::from(([127, 0, 0, 1], 1883))]);
    assert_eq!(c.http, vec![SocketAddr::from(([127, 0, 0, 1], 8080))]);
    assert_eq!(c.receive_maximum, 100);
}

#[test]
fn any_listener_given_replaces_both_defaults() {
    let c = parse(&["--http", "127.0.0.1:9"]).resolve().expect("valid");
    assert_eq!(c.tcp, []);
    assert_eq!(c.http, vec![SocketAddr::from(([127, 0, 0, 1], 9))]);
    let c = parse(&["--tcp", "127.0.0.1:9"]).resolve().expect("valid");
    assert_eq!(c.http, []);
}

#[test]
fn flags_override_file() {
    let dir = std::env::temp_dir().join(format!("courtier-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("c.toml");
    std::fs::write(
        &file,
        "receive_maximum = 5\nmax_keepalive = 30\ntcp = [\"127.0.0.1:1\"]\n",
    )
    .expect("write");
    let c = parse(&[
        "--config",
        file.to_str().expect("utf8"),
        "--receive-maximum",
        "7",
    ])
    .resolve()
    .expect("valid");
    assert_eq!(c.receive_maximum, 7);
    assert_eq!(c.max_keepalive, 30);
    assert_eq!(c.tcp, vec![SocketAddr::from(([127, 0, 0, 1], 1))]);
}

#[test]
fn unknown_key_names_file_and_key() {
    let dir = std::env::temp_dir().join(format!("courtier-cfg2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "receive_maximum = 5\nrecieve_maximum = 3\n").expect("write");
    let err = parse(&["--config", file.to_str().expect("utf8")])
        .resolve()
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.toml:2"), "{text}");
    assert!(text.contains("recieve_maximum"), "{text}");
    assert!(!text.contains('\n'), "{text}");
}

#[test]
fn zero_receive_maximum_is_refused() {
    let err = parse(&["--receive-maximum", "0"]).resolve().unwrap_err();
    assert!(err.to_string().contains("receive_maximum"));
}

#[test]
fn the_example_file_is_valid_and_states_the_defaults() {
    let text = include_str!("../courtier.example.toml");
    let file: Options = toml::from_str(text).expect("example parses");
    let from_file = file
        .build("courtier.example.toml")
        .expect("example is valid");
    let defaults = Config::default();
    assert_eq!(from_file.tcp, defaults.tcp);
    assert_eq!(from_file.receive_maximum, defaults.receive_maximum);
    assert_eq!(from_file.max_packet_size, defaults.max_packet_size);
    assert_eq!(from_file.max_queued_messages, defaults.max_queued_messages);
    assert_eq!(from_file.max_inflight, defaults.max_inflight);
    assert_eq!(from_file.connect_timeout, defaults.connect_timeout);
    assert_eq!(from_file.sys_interval, defaults.sys_interval);
    assert_eq!(from_file.max_connections, defaults.max_connections);
    assert_eq!(from_file.topic_alias_maximum, defaults.topic_alias_maximum);
    assert_eq!(from_file.max_session_expiry, defaults.max_session_expiry);
    assert_eq!(from_file.log_format, defaults.log_format);
    assert_eq!(from_file.max_subscriptions, defaults.max_subscriptions);
    assert_eq!(from_file.max_queued_bytes, defaults.max_queued_bytes);
    assert_eq!(from_file.max_publish_rate, defaults.max_publish_rate);
    assert_eq!(
        from_file.slow_subscriber_timeout,
        defaults.slow_subscriber_timeout
    );
    assert_eq!(from_file.topic_limits, defaults.topic_limits);
    assert_eq!(from_file.max_connection_rate, defaults.max_connection_rate);
    assert_eq!(
        from_file.max_connections_per_listener,
        defaults.max_connections_per_listener
    );
    assert_eq!(from_file.max_keepalive, defaults.max_keepalive);
    assert_eq!(from_file.tls, defaults.tls);
    assert_eq!(from_file.https, defaults.https);
    assert_eq!(from_file.ws_path, defaults.ws_path);
    assert_eq!(from_file.ws_allowed_origins, defaults.ws_allowed_origins);
    assert_eq!(from_file.trusted_proxies, defaults.trusted_proxies);
    assert_eq!(from_file.access.summary(), defaults.access.summary());
    assert_eq!(from_file.admin_token, defaults.admin_token);
}

#[test]
fn tls_listeners_need_a_certificate_and_key() {
    let err = parse(&["--tls", "127.0.0.1:8883"]).resolve().unwrap_err();
    assert!(err.to_string().contains("`cert`"), "{err}");
    let err = parse(&["--cert", "c.pem"]).resolve().unwrap_err();
    assert!(err.to_string().contains("`key`"), "{err}");
    let c = parse(&[
        "--https",
        "127.0.0.1:8884",
        "--cert",
        "c.pem",
        "--key",
        "k.pem",
    ])
    .resolve()
    .expect("valid");
    assert_eq!(c.tls_files.map(|f| f.key), Some(PathBuf::from("k.pem")));
}

#[test]
fn listeners_are_lists_and_websocket_settings_are_checked() {
    let c = parse(&[
        "--tcp",
        "127.0.0.1:1883",
        "--tcp",
        "[::1]:1883",
        "--ws-allowed-origin",
        "https://App.example/",
        "--trusted-proxy",
        "10.0.0.1",
    ])
    .resolve()
    .expect("valid");
    assert_eq!(c.tcp.len(), 2);
    assert_eq!(c.ws_allowed_origins, ["https://app.example"]);
    let err = parse(&["--ws-path", "mqtt"]).resolve().unwrap_err();
    assert!(err.to_string().contains("ws_path"), "{err}");
    let err = parse(&["--ws-allowed-origin", "app.example"])
        .resolve()
        .unwrap_err();
    assert!(err.to_string().contains("ws_allowed_origin"), "{err}");
}

#[test]
fn the_admin_token_comes_from_one_place() {
    let c = parse(&["--admin-token", "t0ken"]).resolve().expect("valid");
    assert!(
        c.admin_token
            .is_some_and(|t| t.accepts(Some(b"Bearer t0ken")))
    );
    let err = parse(&["--admin-token", "a", "--admin-token-file", "f"])
        .resolve()
        .unwrap_err();
    assert!(err.to_string().contains("admin_token_file"), "{err}");
    let err = parse(&["--admin-token", "a b"]).resolve().unwrap_err();
    assert!(err.to_string().contains("`admin_token`"), "{err}");
    let err = parse(&["--admin-token-file", "/nonexistent/token"])
        .resolve()
        .unwrap_err();
    assert!(err.to_string().starts_with("`admin_token_file`: "), "{err}");
    let err = parse(&["--ws-path", "/api/v1/mqtt"]).resolve().unwrap_err();
    assert!(err.to_string().contains("admin API"), "{err}");
}

#[test]
fn the_admin_token_never_shows_in_debug_output() {
    let options = parse(&["--admin-token", "t0ken-s3cret"]);
    let shown = format!("{options:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    let config = options.resolve().expect("valid");
    assert!(!format!("{config:?}").contains("s3cret"));
}
