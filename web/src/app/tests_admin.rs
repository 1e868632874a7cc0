//! Browser tests of the Admin section without a broker: the header's view toggle, the token
//! form, a clients table rendered from a reducer state (sorting by a header), the dashboard's
//! tiles and rate charts, the retained browser, the password rules ticking as the user types,
//! the sessions table, and the ACL tab (rules listed, a bad rule stopped before sending).

use std::rc::Rc;

use courtier_web::model::admin::{AdminAction, AdminState, AdminTab};
use courtier_web::model::admin_acl::{AclListing, AclRule};
use courtier_web::model::admin_wire::{
    ClientView, Listing, Overview, RetainedListing, RetainedView, SessionView,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::admin::{AdminProvider, AdminView};
use crate::page::initial_state;
use crate::tests::{click, find, mount, text};

#[derive(Properties, PartialEq)]
struct HarnessProps {
    state: Rc<AdminState>,
}

/// The section with no API address, so nothing is requested: only the state is rendered.
#[function_component]
fn Harness(props: &HarnessProps) -> Html {
    html! {
        <AdminProvider initial={Rc::clone(&props.state)} origin={None::<AttrValue>}><AdminView /></AdminProvider>
    }
}

async fn mount_admin(state: AdminState) -> Element {
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
        },
    )
    .render();
    yew::scheduler::flush().await;
    root
}

async fn type_into(root: &Element, selector: &str, value: &str) {
    let input = find(root, selector).unchecked_into::<HtmlInputElement>();
    input.set_value(value);
    let event = web_sys::InputEvent::new("input").expect("an input event");
    input.dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

async fn choose(root: &Element, selector: &str, value: &str) {
    let select = find(root, selector).unchecked_into::<HtmlSelectElement>();
    select.set_value(value);
    let event = web_sys::Event::new("change").expect("a change event");
    select.dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

fn signed_in(tab: AdminTab) -> AdminState {
    let mut state = AdminState::default();
    for (received, at_ms) in [(10, 1_000), (30, 3_000)] {
        state.apply(AdminAction::Overview {
            overview: Overview {
                version: "courtier 0.1.0".into(),
                clients_connected: 2,
                messages_received: received,
                messages_sent: received * 2,
                ..Overview::default()
            },
            at_ms,
        });
    }
    state.apply(AdminAction::Tab(tab));
    state
}

fn client(id: &str, user: Option<&str>, queued: usize) -> ClientView {
    ClientView {
        client_id: id.into(),
        username: user.map(str::to_owned),
        peer: "127.0.0.1:50000".into(),
        protocol: "5.0".into(),
        queued,
        ..ClientView::default()
    }
}

#[wasm_bindgen_test]
async fn the_header_switches_to_admin_and_back_keeping_the_client() {
    let root = mount(initial_state(), "page").await;
    assert_eq!(
        find(&root, "#view-client")
            .get_attribute("aria-pressed")
            .as_deref(),
        Some("true")
    );
    click(&root, "#view-admin").await;
    assert!(find(&root, "main.columns").has_attribute("hidden"));
    // The token form, labelled, a password field, and where the API is.
    let label = find(&root, "label[for='admin-token']")
        .text_content()
        .unwrap_or_default();
    assert_eq!(label, "Admin token");
    assert_eq!(
        find(&root, "#admin-token").get_attribute("type").as_deref(),
        Some("password")
    );
    let host = web_sys::window()
        .expect("window")
        .location()
        .host()
        .expect("host");
    assert_eq!(
        text(&root, "#admin-origin"),
        format!("The broker's admin API at http://{host}.")
    );
    click(&root, "#view-client").await;
    assert!(!find(&root, "main.columns").has_attribute("hidden"));
    assert!(
        root.query_selector("#admin-token")
            .expect("query")
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn a_token_without_a_broker_address_is_explained() {
    let root = mount_admin(AdminState::default()).await;
    assert!(text(&root, "#admin-origin").starts_with("No broker address"));
    type_into(&root, "#admin-token", "t").await;
    click(&root, "#admin-sign-in").await;
    assert_eq!(
        text(&root, "#admin-error"),
        "no broker address: open this page from the broker or enter a ws:// broker URL"
    );
    assert!(
        root.query_selector("#admin-tabs, .admin-tabs")
            .expect("query")
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn the_clients_table_renders_the_state_and_sorts_by_a_header() {
    let mut state = signed_in(AdminTab::Clients);
    state.apply(AdminAction::Clients(Listing {
        total: 3,
        items: vec![
            client("b", Some("bob"), 0),
            client("a", None, 7),
            client("c", Some("al"), 3),
        ],
        next: None,
    }));
    let root = mount_admin(state).await;
    let ids = |root: &Element| {
        let rows = root
            .query_selector_all("#clients-table tbody tr")
            .expect("rows");
        (0..rows.length())
            .filter_map(|i| rows.get(i))
            .filter_map(|row| row.unchecked_into::<Element>().get_attribute("data-client"))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&root), ["a", "b", "c"]);
    assert_eq!(text(&root, "#clients-count"), "3 connected");
    assert_eq!(text(&root, "tr[data-client='a'] td"), "—", "no user name");
    assert!(
        root.query_selector("[aria-label='Kick b']")
            .expect("query")
            .is_some()
    );
    // The Queued header sorts ascending, then descending, and says so.
    let queued = "#clients-table thead th:nth-child(7)";
    click(&root, &format!("{queued} button")).await;
    assert_eq!(ids(&root), ["b", "c", "a"]);
    click(&root, &format!("{queued} button")).await;
    assert_eq!(ids(&root), ["a", "c", "b"]);
    assert_eq!(
        find(&root, queued).get_attribute("aria-sort").as_deref(),
        Some("descending")
    );
    assert_eq!(
        find(&root, "#admin-tab-clients")
            .get_attribute("aria-current")
            .as_deref(),
        Some("page")
    );
}

#[wasm_bindgen_test]
async fn the_dashboard_shows_counters_and_rate_charts() {
    let root = mount_admin(signed_in(AdminTab::Dashboard)).await;
    let tiles = text(&root, "#admin-dashboard .tiles");
    assert!(tiles.contains("Clients connected2"), "{tiles}");
    // 20 messages in over 2 s, 40 out.
    assert!(tiles.contains("Messages in / s10"), "{tiles}");
    assert!(tiles.contains("Messages out / s20"), "{tiles}");
    assert_eq!(text(&root, "#rate-in .last"), "10");
    assert_eq!(text(&root, "#rate-out .last"), "20");
    assert!(text(&root, "#admin-title").contains("courtier 0.1.0"));
}

#[wasm_bindgen_test]
async fn password_rules_tick_as_the_user_types_and_block_a_bad_password() {
    let root = mount_admin(signed_in(AdminTab::Users)).await;
    let states = |root: &Element| {
        let items = root
            .query_selector_all("#password-rules li")
            .expect("rules");
        (0..items.length())
            .filter_map(|i| items.get(i))
            .map(|li| li.unchecked_into::<Element>().class_name())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find(&root, "#new-password")
            .get_attribute("aria-describedby")
            .as_deref(),
        Some("password-rules")
    );
    type_into(&root, "#new-username", "alice").await;
    type_into(&root, "#new-password", "short").await;
    assert_eq!(states(&root), ["unmet", "met", "met"]);
    click(&root, "#add-user").await;
    assert_eq!(
        text(&root, "#admin-error"),
        "Password: at least 8 characters"
    );
    type_into(&root, "#new-username", "longenough").await;
    type_into(&root, "#new-password", "LongEnough").await;
    assert_eq!(
        states(&root),
        ["met", "met", "unmet"],
        "the same ignoring case"
    );
    type_into(&root, "#new-password", "longenough!").await;
    assert_eq!(states(&root), ["met", "met", "met"]);
    assert!(text(&root, "#password-rules").contains("At least 8 characters"));
}

#[wasm_bindgen_test]
async fn the_retained_browser_lists_text_and_binary_payloads_and_says_when_more_match() {
    let mut state = signed_in(AdminTab::Retained);
    let message = |topic: &str, payload: &str, encoding: &str, size: usize| RetainedView {
        topic: topic.into(),
        payload: payload.into(),
        encoding: encoding.into(),
        truncated: false,
        qos: 1,
        size,
    };
    state.apply(AdminAction::Retained(RetainedListing {
        items: vec![
            message("home/temp", "21.5", "utf8", 4),
            message("home/raw", "AAE=", "base64", 2),
        ],
        more: true,
    }));
    let root = mount_admin(state).await;
    let filter = find(&root, "#retained-filter").unchecked_into::<HtmlInputElement>();
    assert_eq!(filter.value(), "#");
    assert_eq!(text(&root, "label[for='retained-filter']"), "Topic filter");
    assert_eq!(text(&root, "tr[data-topic='home/temp'] .payload"), "21.5");
    assert_eq!(
        text(&root, "tr[data-topic='home/raw'] .payload"),
        "base64:AAE="
    );
    assert_eq!(
        text(&root, "tr[data-topic='home/raw'] td:nth-of-type(3)"),
        "2 B"
    );
    assert!(text(&root, "#retained-count").contains("more match"));
    assert!(
        root.query_selector("[aria-label='Delete retained home/raw']")
            .expect("query")
            .is_some()
    );
}

#[wasm_bindgen_test]
async fn the_sessions_tab_lists_connected_and_offline_sessions() {
    let mut state = signed_in(AdminTab::Sessions);
    state.apply(AdminAction::Sessions(Listing {
        total: 2,
        items: vec![
            SessionView {
                client_id: "a".into(),
                connected: true,
                expiry_interval: Some(0),
                ..SessionView::default()
            },
            SessionView {
                client_id: "b".into(),
                expiry_interval: Some(3600),
                expires_in: Some(90),
                queued: 4,
                ..SessionView::default()
            },
        ],
        next: None,
    }));
    let root = mount_admin(state).await;
    assert_eq!(text(&root, "#sessions-count"), "2 sessions");
    assert_eq!(text(&root, "tr[data-client='a'] .state"), "connected");
    assert_eq!(text(&root, "tr[data-client='b'] .state"), "offline");
    assert_eq!(
        text(&root, "tr[data-client='b'] td:nth-of-type(2)"),
        "in 1m30s"
    );
    assert_eq!(text(&root, "tr[data-client='b'] td:nth-of-type(4)"), "4");
}

#[wasm_bindgen_test]
async fn the_acl_tab_lists_rules_and_stops_a_bad_rule_before_sending() {
    let mut state = signed_in(AdminTab::Acl);
    let off = mount_admin(state.clone()).await;
    assert!(text(&off, "#acl-off").contains("--acl-file"));

    state.apply(AdminAction::Acl(AclListing {
        configured: true,
        total: 1,
        rules: vec![AclRule {
            kind: "topic".into(),
            user: Some("dev".into()),
            access: "read".into(),
            filter: "sensors/#".into(),
        }],
    }));
    let root = mount_admin(state).await;
    assert_eq!(text(&root, "#acl-count"), "Rules (1)");
    let row = "tr[data-rule='topic read sensors/# for user dev']";
    assert_eq!(text(&root, &format!("{row} th")), "user dev");
    assert!(
        root.query_selector("[aria-label='Delete rule topic read sensors/# for user dev']")
            .expect("query")
            .is_some()
    );
    // A pattern is every client's: a user with it is stopped in the page.
    choose(&root, "#new-rule-kind", "pattern").await;
    type_into(&root, "#new-rule-user", "dev").await;
    type_into(&root, "#new-rule-filter", "devices/%c/#").await;
    click(&root, "#add-rule").await;
    assert!(
        text(&root, "#admin-error").starts_with("User: a pattern applies to every client"),
        "{}",
        text(&root, "#admin-error")
    );
    assert_eq!(
        find(&root, "#new-rule-kind")
            .unchecked_into::<HtmlSelectElement>()
            .value(),
        "pattern"
    );
}
