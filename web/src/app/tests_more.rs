//! Browser tests of the profile store (IndexedDB), the chart's shape, the tree's and the log's
//! keyboard, and the connect form's will controls.

use courtier_web::model::form::ConnectForm;
use courtier_web::model::profile::Profile;
use gloo::storage::{LocalStorage, Storage};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

use crate::profiles::ProfileStore;
use crate::tests::{click, find, mount, text, with_messages};

/// A database of its own per test run, so the app's profiles and other runs do not interfere.
fn db_name(what: &str) -> String {
    format!("courtier-test-{what}-{}", js_sys::Math::random())
}

#[wasm_bindgen_test]
async fn profiles_are_saved_listed_and_deleted_in_indexeddb() {
    let name = db_name("crud");
    let store = ProfileStore::open(&name).await.expect("open");
    assert_eq!(store.list().await.expect("list"), []);
    let mut form = ConnectForm::new("ws://a/mqtt".into(), "one".into());
    form.password = "secret".into();
    let first = Profile::of(&form, 1);
    let second = Profile::of(&ConnectForm::new("ws://b/mqtt".into(), "two".into()), 2);
    store.put(std::slice::from_ref(&first)).await.expect("put");
    store.put(std::slice::from_ref(&second)).await.expect("put");
    // Saving the same name again replaces it instead of adding a row.
    let again = Profile {
        saved_ms: 3,
        ..first.clone()
    };
    store.put(std::slice::from_ref(&again)).await.expect("put");
    let list = store.list().await.expect("list");
    assert_eq!(list, [again.clone(), second.clone()]);
    assert!(list.iter().all(|p| p.form.password.is_empty()));
    // A reopened database still has them: they are stored, not cached.
    drop(store);
    let store = ProfileStore::open(&name).await.expect("reopen");
    store.delete(&again.name).await.expect("delete");
    assert_eq!(store.list().await.expect("list"), [second]);
}

#[wasm_bindgen_test]
async fn local_storage_profiles_move_to_indexeddb_once() {
    let key = db_name("legacy");
    let old = r#"[{"name":"old @ ws://o/mqtt","form":{"url":"ws://o/mqtt","client_id":"old"}}]"#;
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage")
        .set_item(&key, old)
        .expect("set");
    let store = ProfileStore::open(&db_name("migrate")).await.expect("open");
    assert_eq!(store.migrate_local_storage(&key).await.expect("migrate"), 1);
    assert!(LocalStorage::raw().get_item(&key).expect("get").is_none());
    assert_eq!(store.migrate_local_storage(&key).await.expect("migrate"), 0);
    let list = store.list().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].form.url, "ws://o/mqtt");
}

/// Adds the app's stylesheet to the test page: shapes and sizes come from it.
fn with_stylesheet() {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let style = document.create_element("style").expect("style");
    style.set_text_content(Some(include_str!("../../style.css")));
    document
        .head()
        .expect("head")
        .append_child(&style)
        .expect("append");
}

#[wasm_bindgen_test]
async fn a_single_point_is_a_round_dot_with_labelled_axes() {
    with_stylesheet();
    let root = mount(with_messages(&[("house/kitchen", "21.5")]), "tree").await;
    click(&root, "[aria-label='Expand house']").await;
    click(&root, "[aria-label='Chart house/kitchen']").await;
    let dot = find(&root, "#chart .chart-dot").get_bounding_client_rect();
    assert!(dot.width() > 4.0, "dot {}x{}", dot.width(), dot.height());
    assert!(
        (dot.width() - dot.height()).abs() < 0.5,
        "dot {}x{}",
        dot.width(),
        dot.height()
    );
    assert_eq!(text(&root, "#chart .value-axis"), "21.5");
    assert_eq!(text(&root, "#chart .time-axis"), "latest");
}

fn key(element: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    element.dispatch_event(&event).expect("dispatch");
}

fn focused(root: &Element) -> String {
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .expect("a focused element");
    assert!(root.contains(Some(&active)), "focus left the tree");
    active.get_attribute("title").unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_tree_is_keyboard_navigable_with_full_topics_as_titles() {
    let root = mount(
        with_messages(&[("a/b", "1"), ("a/c", "2"), ("z", "3")]),
        "tree",
    )
    .await;
    // One tab stop: the first row.
    let stops = root
        .query_selector_all("[role=treeitem][tabindex='0']")
        .expect("rows");
    assert_eq!(stops.length(), 1);
    let first = find(&root, "[role=treeitem]");
    first.unchecked_ref::<HtmlElement>().focus().expect("focus");
    key(&first, "ArrowRight");
    yew::scheduler::flush().await;
    assert_eq!(
        find(&root, "[title='a']")
            .get_attribute("aria-expanded")
            .as_deref(),
        Some("true")
    );
    key(&first, "ArrowDown");
    assert_eq!(focused(&root), "a/b");
    key(&find(&root, "[title='a/b']"), "ArrowDown");
    assert_eq!(focused(&root), "a/c");
    key(&find(&root, "[title='a/c']"), "Enter");
    yew::scheduler::flush().await;
    assert_eq!(text(&root, "#details-title"), "a/c");
    key(&find(&root, "[title='a/c']"), "ArrowLeft");
    assert_eq!(focused(&root), "a");
    key(&find(&root, "[title='a']"), "End");
    assert_eq!(focused(&root), "z");
}

/// Presses `key` on `element`; returns whether the page let the browser's default action run.
fn press(element: &Element, key: &str) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    element.dispatch_event(&event).expect("dispatch")
}

#[wasm_bindgen_test]
async fn enter_and_space_open_a_log_row_like_a_click() {
    let root = mount(with_messages(&[("a/b", "1"), ("c/d", "{\"t\":2}")]), "log").await;
    assert!(
        root.query_selector("#message-details")
            .expect("query")
            .is_none()
    );
    // Newest first: the first row is c/d.
    assert!(!press(&find(&root, ".log-row"), "Enter"));
    yew::scheduler::flush().await;
    assert!(text(&root, "#message-details").contains("c/d"));
    // Enter again closes it, as a second click does.
    press(&find(&root, ".log-row"), "Enter");
    yew::scheduler::flush().await;
    assert!(
        root.query_selector("#message-details")
            .expect("query")
            .is_none()
    );
    // Space opens too, without scrolling the list.
    let rows = root.query_selector_all(".log-row").expect("rows");
    let second: Element = rows.item(1).expect("a second row").unchecked_into();
    assert!(!press(&second, " "), "Space must not scroll the list");
    yew::scheduler::flush().await;
    assert!(text(&root, "#message-details").contains("a/b"));
    // Other keys, and keys on the row's chart button, leave the selection alone.
    press(&second, "a");
    press(&find(&root, ".log-row .chart-button"), "Enter");
    yew::scheduler::flush().await;
    assert!(text(&root, "#message-details").contains("a/b"));
}

#[wasm_bindgen_test]
async fn every_v5_will_property_has_a_labelled_control() {
    let root = mount(crate::page::initial_state(), "page").await;
    click(&root, "#will-enabled").await;
    for id in [
        "will-topic",
        "will-payload",
        "will-qos",
        "will-delay",
        "will-content-type",
        "will-utf8",
        "will-message-expiry",
        "will-response-topic",
        "will-correlation",
        "will-user-properties",
    ] {
        find(&root, &format!("#{id}"));
        let label = text(&root, &format!("label[for='{id}']"));
        assert!(label.starts_with("Will"), "#{id} is labelled {label:?}");
    }
}
