//! Data-driven tests of `-L` URLs and of the pub/sub command lines.

use clap::{CommandFactory, Parser};
use courtier_proto::{ProtocolVersion, QoS};

use super::*;

#[test]
fn the_command_definitions_are_consistent() {
    ClientCli::command().debug_assert();
}

/// One URL and what it must parse to, written as
/// `scheme user pass host port path` (`-` for absent).
fn check_url(url: &str, expect: &str) {
    let got = match parse_url(url) {
        Ok(u) => format!(
            "{:?} {} {} {} {} {}",
            u.scheme,
            u.username.as_deref().unwrap_or("-"),
            u.password.as_deref().unwrap_or("-"),
            u.host,
            u.port.map_or("-".to_owned(), |p| p.to_string()),
            if u.path.is_empty() { "-" } else { &u.path },
        ),
        Err(ArgsError::Url { problem, .. }) => format!("error: {problem}"),
        Err(e) => format!("error: {e}"),
    };
    assert_eq!(got, expect, "{url}");
}

#[test]
fn urls() {
    check_url("mqtt://localhost", "Mqtt - - localhost - -");
    check_url("mqtt://broker:1884/a/b", "Mqtt - - broker 1884 a/b");
    check_url("mqtt://u:p@h/t", "Mqtt u p h - t");
    check_url("mqtt://user@h:1/t/#", "Mqtt user - h 1 t/#");
    check_url("mqtt://a%40b:p%3Aw@h/t", "Mqtt a@b p:w h - t");
    check_url("MQTTS://h:8883/x", "Mqtts - - h 8883 x");
    check_url("ws://127.0.0.1:8080/mqtt", "Ws - - 127.0.0.1 8080 mqtt");
    check_url("wss://[::1]:443/mqtt", "Wss - - ::1 443 mqtt");
    check_url("mqtt://[::1]/t", "Mqtt - - ::1 - t");
    check_url("mqtt://u:p:q@h", "Mqtt u p:q h - -");
    check_url(
        "localhost:1883",
        "error: expected scheme://host, e.g. mqtt://localhost/topic",
    );
    check_url(
        "http://h",
        "error: unsupported scheme (use mqtt, mqtts, ws or wss)",
    );
    check_url(
        "mqtt://h:99999",
        "error: port is not a number from 0 to 65535",
    );
    check_url("mqtt://:1883/t", "error: no host");
    check_url("mqtt://[::1/t", "error: unclosed [ in an IPv6 host");
    check_url("mqtt://[::1]x/t", "error: expected :port after ]");
    check_url("mqtt://u:%zz@h", "error: bad %-escape in user or password");
}

fn parse(line: &str) -> Result<ClientCommand, String> {
    let argv = std::iter::once("courtier").chain(line.split_whitespace());
    ClientCli::try_parse_from(argv)
        .map(|c| c.command)
        .map_err(|e| e.kind().to_string())
}

/// Parse `line` and describe the resolved connection as
/// `scheme host port ws_path | version id clean keepalive user pass expiry will`.
fn check_connect(line: &str, expect: &str) {
    let got = match parse(line) {
        Err(e) => format!("clap: {e}"),
        Ok(ClientCommand::Pub(PubArgs { connect, .. }))
        | Ok(ClientCommand::Sub(SubArgs { connect, .. })) => match connect.resolve("test") {
            Err(e) => format!("error: {e}"),
            Ok(r) => {
                let o = &r.options;
                format!(
                    "{:?} {} {} {} | {:?} {:?} {} {} {} {} {} {}",
                    r.endpoint.scheme,
                    r.endpoint.host,
                    r.endpoint.port,
                    r.endpoint.ws_path,
                    o.version,
                    o.client_id.as_ref() as &str,
                    o.clean_start,
                    o.keep_alive,
                    o.username.as_deref().unwrap_or("-"),
                    o.password
                        .as_ref()
                        .map_or("-".to_owned(), |p| String::from_utf8_lossy(p).into_owned()),
                    o.session_expiry_interval
                        .map_or("-".to_owned(), |s| s.to_string()),
                    o.will.as_ref().map_or("-".to_owned(), |w| format!(
                        "{}={}@{:?}{}",
                        w.topic.as_str(),
                        String::from_utf8_lossy(&w.payload),
                        w.qos,
                        if w.retain { "+r" } else { "" }
                    )),
                )
            }
        },
    };
    assert_eq!(got, expect, "{line}");
}

#[test]
fn connection_options() {
    check_connect(
        "sub -t a",
        "Mqtt localhost 1883 /mqtt | V3_1_1 \"\" true 60 - - - -",
    );
    check_connect(
        "sub -t a -h broker -p 1884 -i me -u u -P p -k 5 -V 5",
        "Mqtt broker 1884 /mqtt | V5 \"me\" true 5 u p - -",
    );
    check_connect(
        "sub -t a -V mqttv5 -c -i me",
        "Mqtt localhost 1883 /mqtt | V5 \"me\" false 60 - - 4294967295 -",
    );
    check_connect(
        "sub -t a -V 5 -c -i me -x 30",
        "Mqtt localhost 1883 /mqtt | V5 \"me\" false 60 - - 30 -",
    );
    check_connect(
        "sub -t a -V 5 -x -1",
        "Mqtt localhost 1883 /mqtt | V5 \"\" true 60 - - 4294967295 -",
    );
    check_connect(
        "sub -t a -V 5 -x 0",
        "Mqtt localhost 1883 /mqtt | V5 \"\" true 60 - - - -",
    );
    check_connect(
        "sub -t a -c -i me -V 311",
        "Mqtt localhost 1883 /mqtt | V3_1_1 \"me\" false 60 - - - -",
    );
    check_connect(
        "sub -t a -V 31 -i me",
        "Mqtt localhost 1883 /mqtt | V3_1 \"me\" true 60 - - - -",
    );
    check_connect(
        "sub -t a -V mqttv31",
        &format!(
            "Mqtt localhost 1883 /mqtt | V3_1 \"courtier-test-{}\" true 60 - - - -",
            std::process::id()
        ),
    );
    check_connect(
        "sub -t a -L mqtt://u:p@b:2/t",
        "Mqtt b 2 /mqtt | V3_1_1 \"\" true 60 u p - -",
    );
    check_connect(
        "sub -L mqtt://u:p@b/t -u other",
        "Mqtt b 1883 /mqtt | V3_1_1 \"\" true 60 other p - -",
    );
    check_connect(
        "sub -t a -L mqtts://b --cafile ca.pem",
        "Mqtts b 8883 /mqtt | V3_1_1 \"\" true 60 - - - -",
    );
    check_connect(
        "sub -t a -L ws://b/ws/path",
        "Ws b 8080 /ws/path | V3_1_1 \"\" true 60 - - - -",
    );
    check_connect(
        "sub -t a -L wss://b -p 9",
        "Wss b 9 /mqtt | V3_1_1 \"\" true 60 - - - -",
    );
    check_connect(
        "pub -t a -m x --will-topic w --will-payload gone --will-qos 1 --will-retain",
        "Mqtt localhost 1883 /mqtt | V3_1_1 \"\" true 60 - - - w=gone@AtLeastOnce+r",
    );
    check_connect(
        "pub -t a -m x --will-topic w",
        "Mqtt localhost 1883 /mqtt | V3_1_1 \"\" true 60 - - - w=@AtMostOnce",
    );
    // Refusals.
    check_connect(
        "sub -t a -c",
        "error: -c keeps a session, which needs a client identifier: give -i ID",
    );
    check_connect("sub -t a -x 5", "error: -x needs MQTT 5 (-V 5)");
    check_connect(
        "sub -t a --cafile ca.pem",
        "error: --cafile and --insecure apply to mqtts:// and wss:// only (give -L mqtts://...)",
    );
    check_connect(
        "sub -t a --will-topic a/+",
        "error: --will-topic a/+: [MQTT-3.3.2-2] a topic name must not contain wildcard characters",
    );
    check_connect(
        "sub -t a -V 4",
        "clap: invalid value for one of the arguments",
    );
    check_connect(
        "sub -t a -q 3",
        "clap: invalid value for one of the arguments",
    );
    check_connect(
        "sub -t a -h x -L mqtt://y",
        "clap: an argument cannot be used with one or more of the other specified arguments",
    );
    check_connect(
        "pub -t a --will-qos 1 -m x",
        "clap: one or more required arguments were not provided",
    );
}

#[test]
fn pub_message_sources_are_exclusive_and_required() {
    let kinds = |line| parse(line).map(|_| "ok".to_owned()).unwrap_or_else(|e| e);
    assert_eq!(kinds("pub -t a -m x"), "ok");
    assert_eq!(kinds("pub -t a -n"), "ok");
    assert_eq!(kinds("pub -t a -l"), "ok");
    assert_eq!(kinds("pub -t a -s"), "ok");
    assert_eq!(kinds("pub -t a -f file"), "ok");
    assert_eq!(
        kinds("pub -t a"),
        "one or more required arguments were not provided"
    );
    assert_eq!(
        kinds("pub -t a -m x -n"),
        "an argument cannot be used with one or more of the other specified arguments"
    );
}

#[test]
fn sub_options() {
    let Ok(ClientCommand::Sub(s)) = parse("sub -t a -t b/# -v -C 3 -W 2 -R -q 2") else {
        panic!("sub parses");
    };
    assert_eq!(s.topic, ["a", "b/#"]);
    assert!(s.verbose && s.no_retained);
    assert_eq!((s.count, s.timeout), (Some(3), Some(2)));
    assert_eq!(s.connect.qos, QoS::ExactlyOnce);
    assert_eq!(s.connect.version, ProtocolVersion::V3_1_1);
    assert!(
        parse("sub -t a -C 0").is_err(),
        "-C 0 would never exit on a count"
    );
}
