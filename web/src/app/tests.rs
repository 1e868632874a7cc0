//! Component tests in headless Chromium (`cargo xtask test`): render, type, click, await the
//! render with `yew::scheduler::flush`, and read the DOM.

use std::rc::Rc;

use bytes::Bytes;
use courtier_proto::packet::{Publish, PublishProperties};
use courtier_proto::{QosPid, TopicName};
use courtier_web::model::form::ConnectForm;
use courtier_web::model::{Action, AppState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};
use yew::prelude::*;

use crate::log::MessageLog;
use crate::page::{Layout, initial_state};
use crate::status::StatusBar;
use crate::store::ConnectionProvider;
use crate::tree::{TopicDetails, TopicTree};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct HarnessProps {
    state: Rc<AppState>,
    which: &'static str,
}

#[function_component]
fn Harness(props: &HarnessProps) -> Html {
    let inner = match props.which {
        "log" => html! { <MessageLog /> },
        "tree" => html! { <><StatusBar /><TopicDetails /><TopicTree /></> },
        _ => html! { <Layout /> },
    };
    html! { <ConnectionProvider initial={Rc::clone(&props.state)}>{ inner }</ConnectionProvider> }
}

pub(crate) async fn mount(state: AppState, which: &'static str) -> Element {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let root = document.create_element("div").expect("div");
    document
        .body()
        .expect("body")
        .append_child(&root)
        .expect("append");
    yew::Renderer::<Harness>::with_root_and_props(
        root.clone(),
        HarnessProps {
            state: Rc::new(state),
            which,
        },
    )
    .render();
    yew::scheduler::flush().await;
    root
}

pub(crate) fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no {selector} in {}", root.inner_html()))
}

pub(crate) fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

pub(crate) async fn click(root: &Element, selector: &str) {
    find(root, selector).unchecked_into::<HtmlElement>().click();
    yew::scheduler::flush().await;
}

async fn type_into(root: &Element, selector: &str, value: &str) {
    let input = find(root, selector).unchecked_into::<HtmlInputElement>();
    input.set_value(value);
    let event = web_sys::InputEvent::new("input").expect("an input event");
    input.dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

pub(crate) fn with_messages(topics: &[(&str, &str)]) -> AppState {
    let mut state = AppState::new(ConnectForm::new("ws://127.0.0.1:1/mqtt".into(), "c".into()));
    let messages = topics
        .iter()
        .map(|(topic, payload)| Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: TopicName::new(*topic).expect("a valid topic"),
            properties: PublishProperties::default(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
        })
        .collect();
    state.apply(Action::Messages {
        messages,
        now_ms: 0,
    });
    state
}

#[wasm_bindgen_test]
async fn page_defaults_to_the_serving_origin_and_is_not_connected() {
    let root = mount(initial_state(), "page").await;
    let host = web_sys::window()
        .expect("window")
        .location()
        .host()
        .expect("host");
    let url = find(&root, "#broker-url")
        .unchecked_into::<HtmlInputElement>()
        .value();
    assert_eq!(url, format!("ws://{host}/mqtt"));
    let client_id = find(&root, "#client-id")
        .unchecked_into::<HtmlInputElement>()
        .value();
    assert!(client_id.starts_with("courtier-"), "{client_id}");
    assert_eq!(text(&root, "#status-text"), "Not connected");
}

#[wasm_bindgen_test]
async fn bad_url_and_subscribe_without_connection_are_explained() {
    let root = mount(initial_state(), "page").await;
    type_into(&root, "#broker-url", "http://example.com/mqtt").await;
    click(&root, "#connect").await;
    let status = text(&root, "#status-text");
    assert!(status.contains("is not a broker URL"), "{status}");
    click(&root, "#subscribe").await;
    assert!(text(&root, "#notice").contains("not connected"));
    // A form error names the field.
    type_into(&root, "#pub-topic", "a/+").await;
    click(&root, "#publish").await;
    assert!(
        text(&root, "#notice").starts_with("Topic: "),
        "{}",
        text(&root, "#notice")
    );
}

#[wasm_bindgen_test]
async fn log_renders_only_the_visible_window() {
    let topics: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("sensors/{}", i % 7), i.to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = topics
        .iter()
        .map(|(t, p)| (t.as_str(), p.as_str()))
        .collect();
    let root = mount(with_messages(&refs), "log").await;
    let rows = root.query_selector_all(".log-row").expect("rows").length();
    assert!(rows > 5 && rows < 40, "{rows} rows rendered");
    let counts = text(&root, "#log-counts");
    assert!(counts.starts_with("2000 shown"), "{counts}");
    // Newest first.
    assert!(text(&root, ".log-row .payload").starts_with("1999"));
    // Filtering narrows the list; clicking a row shows its details.
    type_into(&root, "#log-filter", "sensors/3").await;
    assert!(
        text(&root, "#log-counts").starts_with("286 shown"),
        "{}",
        text(&root, "#log-counts")
    );
    click(&root, ".log-row").await;
    assert!(text(&root, "#message-details").contains("sensors/3"));
    click(&root, "#clear").await;
    assert!(text(&root, "#log-counts").starts_with("0 shown"));
}

#[wasm_bindgen_test]
async fn tree_to_chart_in_one_click() {
    let root = mount(
        with_messages(&[
            ("maMaison/rez-de-chaussee/cuisine", "21.5"),
            ("maMaison/rez-de-chaussee/cuisine", "22.5"),
            ("maMaison/etage/chambre", "{\"t\":19}"),
        ]),
        "tree",
    )
    .await;
    assert_eq!(text(&root, "[data-topic='maMaison']"), "maMaison");
    click(&root, "[aria-label='Expand maMaison']").await;
    click(&root, "[aria-label='Expand maMaison/rez-de-chaussee']").await;
    click(
        &root,
        "[aria-label='Chart maMaison/rez-de-chaussee/cuisine']",
    )
    .await;
    assert_eq!(text(&root, "#chart .last"), "22.5");
    let points = find(&root, "#chart polyline")
        .get_attribute("points")
        .unwrap_or_default();
    assert_eq!(points.split(' ').count(), 2, "{points}");
    assert!(text(&root, ".history").contains("21.5"));
}
