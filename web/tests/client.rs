//! The WebSocket driver ([`Connection`]) in headless Chromium, without a broker: URL checks,
//! a refused socket's events, the reconnect schedule and `close` stopping it, and what may be
//! called before CONNACK. Exchanges with real brokers are in `tests/tests/embed_client.rs`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use courtier_proto::QoS;
use courtier_proto::packet::PublishProperties;
use courtier_proto::session::{ClientOptions, SessionError};
use courtier_web::client::{
    ClientError, ClientEvent, Connection, ConnectionState, ReconnectPolicy,
};
use js_sys::{Function, Promise};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens on port 1 of the loopback interface: the socket is refused at once.
const DEAD: &str = "ws://127.0.0.1:1/mqtt";

/// Records a connection's events and lets a test await the next one.
#[derive(Clone, Default)]
struct Events {
    queue: Rc<RefCell<VecDeque<ClientEvent>>>,
    waker: Rc<RefCell<Option<Function>>>,
}

impl Events {
    fn handler(&self) -> impl Fn(ClientEvent) + 'static {
        let events = self.clone();
        move |event| {
            events.queue.borrow_mut().push_back(event);
            if let Some(wake) = events.waker.borrow_mut().take() {
                let _ = wake.call0(&wasm_bindgen::JsValue::UNDEFINED);
            }
        }
    }

    async fn next(&self) -> ClientEvent {
        loop {
            if let Some(event) = self.queue.borrow_mut().pop_front() {
                return event;
            }
            let promise = Promise::new(&mut |resolve, _| *self.waker.borrow_mut() = Some(resolve));
            JsFuture::from(promise).await.expect("the waker resolves");
        }
    }
}

fn options() -> ClientOptions {
    ClientOptions::new("driver-test")
}

#[wasm_bindgen_test]
fn non_websocket_urls_are_refused_before_any_socket() {
    for url in ["http://127.0.0.1/mqtt", "mqtt://127.0.0.1:1883", "ws://"] {
        let result = Connection::open(url, options(), |_| {});
        assert_eq!(result.err(), Some(ClientError::InvalidUrl(url.to_owned())));
    }
}

#[wasm_bindgen_test]
fn invalid_options_are_refused_at_open() {
    let mut options = options();
    options.version = courtier_proto::ProtocolVersion::V3_1_1;
    options.password = Some(Bytes::from_static(b"secret"));
    let result = Connection::open(DEAD, options, |_| {});
    assert!(
        matches!(
            result,
            Err(ClientError::Session(SessionError::InvalidOptions(_)))
        ),
        "{result:?}"
    );
}

#[wasm_bindgen_test]
async fn a_refused_socket_reports_an_error_then_closes() {
    let events = Events::default();
    let connection = Connection::open(DEAD, options(), events.handler()).expect("valid URL");
    assert_eq!(connection.state(), ConnectionState::Opening);
    assert!(matches!(
        events.next().await,
        ClientEvent::TransportError(_)
    ));
    match events.next().await {
        ClientEvent::Closed {
            code, was_clean, ..
        } => {
            assert_eq!(code, 1006, "no close frame: the connection never opened");
            assert!(!was_clean);
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    assert_eq!(connection.state(), ConnectionState::Closed);
}

#[wasm_bindgen_test]
async fn reconnects_on_schedule_until_closed() {
    let events = Events::default();
    let policy = ReconnectPolicy {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(20),
    };
    let connection =
        Connection::open_reconnecting(DEAD, options(), policy, events.handler()).expect("valid");
    for attempt in 1..=3 {
        assert!(matches!(
            events.next().await,
            ClientEvent::TransportError(_)
        ));
        assert!(matches!(events.next().await, ClientEvent::Closed { .. }));
        match events.next().await {
            ClientEvent::Reconnecting { attempt: n, delay } => {
                assert_eq!(n, attempt);
                let ceiling = Duration::from_millis(if attempt == 1 { 10 } else { 20 });
                assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?}");
            }
            other => panic!("expected Reconnecting, got {other:?}"),
        }
        assert_eq!(connection.state(), ConnectionState::Reconnecting);
    }
    // Closing while waiting ends it at once, with a Closed event and no further attempt.
    connection.close();
    assert!(matches!(
        events.next().await,
        ClientEvent::Closed {
            code: 1000,
            was_clean: true,
            ..
        }
    ));
    assert_eq!(connection.state(), ConnectionState::Closed);
}

#[wasm_bindgen_test]
async fn before_connack_qos0_is_refused_and_qos1_waits() {
    let events = Events::default();
    let connection = Connection::open(DEAD, options(), events.handler()).expect("valid URL");
    let publish = |qos| {
        connection.publish(
            "t/a",
            Bytes::from_static(b"x"),
            qos,
            false,
            PublishProperties::default(),
        )
    };
    assert_eq!(
        publish(QoS::AtMostOnce).err(),
        Some(ClientError::Session(SessionError::NotConnected(
            "a QoS 0 publish"
        )))
    );
    assert!(
        publish(QoS::AtLeastOnce).is_ok(),
        "QoS 1 is queued for the connection"
    );
    let invalid = connection.publish(
        "t/+",
        Bytes::new(),
        QoS::AtLeastOnce,
        false,
        PublishProperties::default(),
    );
    assert!(
        matches!(invalid, Err(ClientError::InvalidTopic { .. })),
        "{invalid:?}"
    );
    connection.close();
    // The refused socket still reports its end; nothing else was delivered.
    loop {
        match events.next().await {
            ClientEvent::Closed { .. } => break,
            ClientEvent::TransportError(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
