//! Tests of the forms' checked translation into protocol values.

use super::*;

#[test]
fn connect_form_defaults_to_v5_clean_60s() {
    let form = ConnectForm::new("ws://h/mqtt".into(), generated_client_id(0xabc));
    let options = form.options().unwrap();
    assert_eq!(options.client_id, "courtier-00000abc");
    assert_eq!(options.version, ProtocolVersion::V5);
    assert!(options.clean_start);
    assert_eq!(options.keep_alive, 60);
    assert_eq!(options.username, None);
    assert_eq!(options.will, None);
}

#[test]
fn connect_form_errors_name_the_field() {
    let base = ConnectForm::new("ws://h/mqtt".into(), "c".into());
    let cases: Vec<(ConnectForm, &str)> = vec![
        (
            ConnectForm {
                keep_alive: "70000".into(),
                ..base.clone()
            },
            "Keep alive: `70000` is not a whole number from 0 to 65535",
        ),
        (
            ConnectForm {
                session_expiry: "-1".into(),
                ..base.clone()
            },
            "Session expiry: `-1` is not a whole number from 0 to 4294967295",
        ),
        (
            ConnectForm {
                url: " ".into(),
                ..base.clone()
            },
            "the broker URL is empty",
        ),
        (
            ConnectForm {
                will_enabled: true,
                will_topic: "a/+".into(),
                ..base.clone()
            },
            "Will topic: ",
        ),
        (
            ConnectForm {
                version: Version::V311,
                password: "p".into(),
                ..base.clone()
            },
            "[MQTT-3.1.2-22]",
        ),
    ];
    for (form, expected) in cases {
        let error = form.options().unwrap_err().to_string();
        assert!(
            error.starts_with(expected),
            "{error:?} should start with {expected:?}"
        );
    }
}

#[test]
fn connect_form_with_will_and_v5_fields() {
    let form = ConnectForm {
        username: "alice".into(),
        password: "secret".into(),
        session_expiry: "3600".into(),
        will_enabled: true,
        will_topic: "maMaison/status".into(),
        will_payload: "offline".into(),
        will_qos: 1,
        will_retain: true,
        will_delay: "5".into(),
        ..ConnectForm::new("ws://h/mqtt".into(), "c".into())
    };
    let options = form.options().unwrap();
    assert_eq!(options.session_expiry_interval, Some(3600));
    assert_eq!(options.password.as_deref(), Some(&b"secret"[..]));
    let will = options.will.unwrap();
    assert_eq!(will.topic.as_str(), "maMaison/status");
    assert_eq!(&will.payload[..], b"offline");
    assert_eq!((will.qos, will.retain), (QoS::AtLeastOnce, true));
    assert_eq!(will.properties.will_delay_interval, Some(5));
    // 3.1.1 has no session expiry nor will properties: they are not sent.
    let v3 = ConnectForm {
        version: Version::V311,
        ..form
    }
    .options()
    .unwrap();
    assert_eq!(v3.session_expiry_interval, None);
    assert_eq!(v3.will.unwrap().properties, WillProperties::default());
}

#[test]
fn subscribe_form() {
    let form = SubscribeForm {
        filter: " maMaison/rez-de-chaussee/+ ".into(),
        qos: 1,
        no_local: true,
        retain_as_published: true,
        retain_handling: 2,
    };
    let sub = form.subscription().unwrap();
    assert_eq!(sub.filter.as_str(), "maMaison/rez-de-chaussee/+");
    assert_eq!(sub.options.qos, QoS::AtLeastOnce);
    assert!(sub.options.no_local && sub.options.retain_as_published);
    assert_eq!(sub.options.retain_handling, RetainHandling::DoNotSend);
    let bad = SubscribeForm {
        filter: "a/#/b".into(),
        ..form
    };
    assert!(
        bad.subscription()
            .unwrap_err()
            .to_string()
            .starts_with("Topic filter: ")
    );
}

#[test]
fn publish_form_with_v5_properties() {
    let form = PublishForm {
        topic: "maMaison/rez-de-chaussee/cuisine".into(),
        payload: r#"{"t":21.5}"#.into(),
        encoding: Encoding::Json,
        qos: 2,
        retain: true,
        content_type: "application/json".into(),
        utf8_payload: true,
        message_expiry: "30".into(),
        response_topic: "replies/me".into(),
        correlation_data: "req-1".into(),
        user_properties: "room = kitchen\n\nunit=°C=celsius\n".into(),
    };
    let request = form.request(true).unwrap();
    assert_eq!(request.qos, QoS::ExactlyOnce);
    assert!(request.retain);
    let p = &request.properties;
    assert_eq!(p.content_type.as_deref(), Some("application/json"));
    assert_eq!(p.payload_format_indicator, Some(PayloadFormat::Utf8));
    assert_eq!(p.message_expiry_interval, Some(30));
    assert_eq!(
        p.response_topic.as_ref().map(TopicName::as_str),
        Some("replies/me")
    );
    assert_eq!(p.correlation_data.as_deref(), Some(&b"req-1"[..]));
    let names: Vec<_> = p
        .user_properties
        .iter()
        .map(|u| (&*u.name, &*u.value))
        .collect();
    assert_eq!(names, [("room", "kitchen"), ("unit", "°C=celsius")]);
    // 3.1.1 carries no properties.
    assert_eq!(
        form.request(false).unwrap().properties,
        PublishProperties::default()
    );
}

#[test]
fn publish_form_errors() {
    let base = PublishForm {
        topic: "t".into(),
        ..PublishForm::default()
    };
    let cases: Vec<(PublishForm, &str)> = vec![
        (
            PublishForm {
                topic: "a/+".into(),
                ..base.clone()
            },
            "Topic: ",
        ),
        (
            PublishForm {
                payload: "{".into(),
                encoding: Encoding::Json,
                ..base.clone()
            },
            "payload: not valid JSON",
        ),
        (
            PublishForm {
                payload: "xyz".into(),
                encoding: Encoding::Hex,
                ..base.clone()
            },
            "payload: not hexadecimal",
        ),
        (
            PublishForm {
                user_properties: "novalue".into(),
                ..base.clone()
            },
            "user property `novalue`",
        ),
        (
            PublishForm {
                response_topic: "r/#".into(),
                ..base.clone()
            },
            "Response topic: ",
        ),
    ];
    for (form, expected) in cases {
        let error = form.request(true).unwrap_err().to_string();
        assert!(
            error.starts_with(expected),
            "{error:?} should start with {expected:?}"
        );
    }
}

/// The CONNECT a session sends for `form`, decoded as the broker would see it.
fn sent_connect(form: &ConnectForm) -> courtier_proto::packet::Connect {
    use courtier_proto::session::ClientSession;
    use courtier_proto::{Decoder, Packet};

    let mut session = ClientSession::new(form.options().unwrap());
    session.connect(std::time::Duration::ZERO).unwrap();
    let mut wire = bytes::BytesMut::from(&session.poll_transmit().unwrap()[..]);
    match Decoder::new(u32::MAX).decode(&mut wire) {
        Ok(Some(Packet::Connect(connect))) => *connect,
        other => panic!("expected a CONNECT, got {other:?}"),
    }
}

#[test]
fn every_v5_will_property_reaches_the_connect() {
    let form = ConnectForm {
        will_enabled: true,
        will_topic: "maMaison/status".into(),
        will_payload: "offline".into(),
        will_delay: "5".into(),
        will_content_type: "text/plain".into(),
        will_utf8_payload: true,
        will_message_expiry: "120".into(),
        will_response_topic: " replies/status ".into(),
        will_correlation_data: "corr-7".into(),
        will_user_properties: "site = home\nfloor=0=ground\n".into(),
        ..ConnectForm::new("ws://h/mqtt".into(), "c".into())
    };
    let will = sent_connect(&form).will.expect("a will");
    assert_eq!(
        will.properties,
        WillProperties {
            will_delay_interval: Some(5),
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(120),
            content_type: Some("text/plain".into()),
            response_topic: Some(TopicName::new("replies/status").unwrap()),
            correlation_data: Some(Bytes::from_static(b"corr-7")),
            user_properties: vec![
                UserProperty {
                    name: "site".into(),
                    value: "home".into(),
                },
                UserProperty {
                    name: "floor".into(),
                    value: "0=ground".into(),
                },
            ],
        }
    );
    // 3.1.1 has no will properties: none are sent, and none is checked.
    let v3 = ConnectForm {
        version: Version::V311,
        will_response_topic: "bad/#".into(),
        ..form
    };
    assert_eq!(
        sent_connect(&v3).will.unwrap().properties,
        WillProperties::default()
    );
}

#[test]
fn will_property_errors_name_the_field() {
    let base = ConnectForm {
        will_enabled: true,
        will_topic: "t".into(),
        ..ConnectForm::new("ws://h/mqtt".into(), "c".into())
    };
    let cases: Vec<(ConnectForm, &str)> = vec![
        (
            ConnectForm {
                will_message_expiry: "soon".into(),
                ..base.clone()
            },
            "Will message expiry: `soon` is not a whole number",
        ),
        (
            ConnectForm {
                will_response_topic: "r/+".into(),
                ..base.clone()
            },
            "Will response topic: ",
        ),
        (
            ConnectForm {
                will_user_properties: "novalue".into(),
                ..base.clone()
            },
            "user property `novalue`",
        ),
    ];
    for (form, expected) in cases {
        let error = form.options().unwrap_err().to_string();
        assert!(
            error.starts_with(expected),
            "{error:?} should start with {expected:?}"
        );
    }
}
