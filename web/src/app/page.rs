//! The page: the initial state (broker URL from the page address, a generated client id), the
//! layout, the light/dark toggle, and the browser glue the components share (file download).

use std::rc::Rc;

use courtier_web::browser::page_location;
use courtier_web::location::broker_url;
use courtier_web::model::AppState;
use courtier_web::model::admin::AdminState;
use courtier_web::model::admin_wire::api_origin;
use courtier_web::model::form::{ConnectForm, generated_client_id};
use gloo::storage::{LocalStorage, Storage};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::admin::{AdminProvider, AdminView, stored_token};
use crate::connect::ConnectPanel;
use crate::log::MessageLog;
use crate::publish::PublishPanel;
use crate::status::StatusBar;
use crate::store::{ConnectionProvider, use_connection};
use crate::subscribe::SubscribePanel;
use crate::tree::{TopicDetails, TopicTree};

/// localStorage key of the chosen theme (`light` or `dark`; absent follows the system).
const THEME_KEY: &str = "courtier.theme";

/// The state the page opens with.
pub(crate) fn initial_state() -> AppState {
    let client_id = generated_client_id((js_sys::Math::random() * f64::from(u32::MAX)) as u32);
    let (url, notice) = match page_location().map(|page| broker_url(&page)) {
        Some(Ok(url)) => (url.as_str().to_owned(), None),
        Some(Err(error)) => (String::new(), Some(error.to_string())),
        None => (String::new(), None),
    };
    let mut state = AppState::new(ConnectForm::new(url, client_id));
    state.notice = notice;
    state
}

/// The root component.
#[function_component]
pub(crate) fn App() -> Html {
    let initial = use_memo((), |()| initial_state());
    html! {
        <ConnectionProvider initial={Rc::clone(&initial)}>
            <Layout />
        </ConnectionProvider>
    }
}

/// Header, status bar, and either the MQTT client's three columns or the Admin section.
///
/// The MQTT columns stay mounted (hidden) while Admin is shown, so the connection, log and
/// tree carry on; the Admin section is mounted only while shown, so it polls only then.
#[function_component]
pub(crate) fn Layout() -> Html {
    let admin = use_state(|| false);
    let show = |value: bool| {
        let admin = admin.clone();
        Callback::from(move |_| admin.set(value))
    };
    let broker_url = use_connection().app().form.url.clone();
    let theme = use_state(|| LocalStorage::get::<String>(THEME_KEY).ok());
    {
        let theme = (*theme).clone();
        use_effect_with(theme, |theme| apply_theme(theme.as_deref()));
    }
    let toggle = {
        let theme = theme.clone();
        Callback::from(move |_| {
            let dark = match theme.as_deref() {
                Some(t) => t == "dark",
                None => prefers_dark(),
            };
            let next = if dark { "light" } else { "dark" };
            let _ = LocalStorage::set(THEME_KEY, next);
            theme.set(Some(next.to_owned()));
        })
    };
    html! {
        <>
            <header class="top">
                <h1>{ "Courtier" }<span class="muted">{ " · MQTT in the browser" }</span></h1>
                <nav class="views" aria-label="Views">
                    <button type="button" id="view-client" aria-pressed={(!*admin).to_string()} onclick={show(false)}>{ "MQTT client" }</button>
                    <button type="button" id="view-admin" aria-pressed={admin.to_string()} onclick={show(true)}>{ "Admin" }</button>
                </nav>
                <button type="button" id="theme-toggle" class="small" onclick={toggle} aria-label="Switch light or dark theme">{ "◐ Theme" }</button>
            </header>
            <StatusBar />
            if *admin {
                <main class="admin-main">
                    <AdminSection {broker_url} />
                </main>
            }
            <main class="columns" hidden={*admin}>
                <div class="column"><ConnectPanel /><SubscribePanel /><PublishPanel /></div>
                <div class="column wide"><MessageLog /></div>
                <div class="column"><TopicDetails /><TopicTree /></div>
            </main>
        </>
    }
}

/// Properties of [`AdminSection`].
#[derive(Properties, PartialEq)]
pub(crate) struct AdminSectionProps {
    /// The MQTT client's broker URL: the admin API is on the same host.
    pub(crate) broker_url: AttrValue,
}

/// The Admin section against the broker the page talks to.
#[function_component]
pub(crate) fn AdminSection(props: &AdminSectionProps) -> Html {
    let initial = use_memo((), |()| AdminState {
        token: stored_token(),
        ..AdminState::default()
    });
    let page = page_location();
    let origin = page
        .and_then(|page| api_origin(&props.broker_url, &page.protocol, &page.host))
        .map(AttrValue::from);
    html! {
        <AdminProvider initial={Rc::clone(&initial)} {origin}><AdminView /></AdminProvider>
    }
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

fn apply_theme(theme: Option<&str>) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = match theme {
        Some(theme) => root.set_attribute("data-theme", theme),
        None => root.remove_attribute("data-theme"),
    };
}

/// Offers `text` as a file download named `name`.
pub(crate) fn download(name: &str, kind: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(anchor) = document
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
