//! The message log: a virtualised list (only the rows in view are in the DOM, so thousands
//! of messages a second stay cheap), a topic filter, pause, clear, payload views, export, and
//! the selected message's details.

use std::rc::Rc;

use courtier_web::model::Action;
use courtier_web::model::log::{LogEntry, export_csv, export_json};
use courtier_web::model::payload::{self, View};
use courtier_web::model::tree::numbers;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::store::use_connection;

/// Height of one row in pixels; the stylesheet uses the same value.
pub(crate) const ROW_PX: i32 = 30;
/// Height of the scrolling viewport in pixels; the stylesheet uses the same value.
const VIEWPORT_PX: i32 = 420;
/// Rows rendered above and below the visible ones, so fast scrolling shows no gap.
const OVERSCAN: usize = 6;

/// The message log.
#[function_component]
pub(crate) fn MessageLog() -> Html {
    let ctx = use_connection();
    let scroll_top = use_state(|| 0i32);
    let selected = use_state(|| None::<u64>);
    let app = ctx.app();
    let log = &app.log;
    let visible = log.visible();
    let total = visible.len();
    let first = usize::try_from(*scroll_top / ROW_PX)
        .unwrap_or(0)
        .saturating_sub(OVERSCAN);
    let count = usize::try_from(VIEWPORT_PX / ROW_PX).unwrap_or(0) + 2 * OVERSCAN;
    let window = &visible[first.min(total)..(first + count).min(total)];

    let onscroll = {
        let scroll_top = scroll_top.clone();
        Callback::from(move |e: Event| {
            if let Some(element) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                scroll_top.set(element.scroll_top());
            }
        })
    };
    let onfilter = {
        let ctx = ctx.clone();
        Callback::from(move |e: InputEvent| {
            ctx.dispatch(Action::LogFilter(
                e.target_unchecked_into::<HtmlInputElement>().value(),
            ))
        })
    };
    let onview = {
        let ctx = ctx.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let view = View::ALL
                .into_iter()
                .find(|v| v.label() == value)
                .unwrap_or_default();
            ctx.dispatch(Action::View(view));
        })
    };
    let action = |action: Action| {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.dispatch(action.clone()))
    };
    let export = |json: bool| {
        let ctx = ctx.clone();
        Callback::from(move |_| {
            let mut entries = ctx.app().log.visible();
            entries.reverse();
            let (text, name, kind) = if json {
                (
                    export_json(&entries),
                    "courtier-messages.json",
                    "application/json",
                )
            } else {
                (export_csv(&entries), "courtier-messages.csv", "text/csv")
            };
            crate::page::download(name, kind, &text);
        })
    };

    let unrendered = total - window.len();
    let details = selected
        .and_then(|seq| visible.iter().find(|e| e.seq == seq).map(|e| Rc::clone(e)))
        .map(|entry| entry_details(&entry, app.view, &ctx));

    html! {
        <section class="panel log" aria-labelledby="log-title">
            <div class="toolbar">
                <h2 id="log-title">{ "Messages" }</h2>
                <label class="sr-only" for="log-filter">{ "Filter by topic" }</label>
                <input id="log-filter" type="search" placeholder="Filter by topic" value={log.filter.clone()} oninput={onfilter} />
                <label class="sr-only" for="log-view">{ "Payload view" }</label>
                <select id="log-view" onchange={onview}>
                    { for View::ALL.iter().map(|v| html! { <option value={v.label()} selected={*v == app.view}>{ v.label() }</option> }) }
                </select>
                <button type="button" id="pause" class="small" onclick={action(Action::TogglePause)} aria-pressed={log.paused.to_string()}>
                    { if log.paused { "Resume" } else { "Pause" } }
                </button>
                <button type="button" id="clear" class="small" onclick={action(Action::ClearLog)}>{ "Clear" }</button>
                <button type="button" class="small" onclick={export(true)} title="Export the shown messages as JSON">{ "JSON" }</button>
                <button type="button" class="small" onclick={export(false)} title="Export the shown messages as CSV">{ "CSV" }</button>
            </div>
            <p class="muted counts" id="log-counts">
                { format!("{total} shown ({} in view, {unrendered} not rendered)", window.len()) }
                if log.evicted > 0 { { format!(" · {} older dropped", log.evicted) } }
                if log.skipped_while_paused > 0 { { format!(" · {} skipped while paused", log.skipped_while_paused) } }
            </p>
            <div class="log-viewport" id="log-viewport" onscroll={onscroll} tabindex="0" role="list" aria-label="Received messages">
                <div class="log-spacer" style={format!("height:{}px", total as i32 * ROW_PX)}>
                    { for window.iter().enumerate().map(|(i, entry)| {
                        let top = (first + i) as i32 * ROW_PX;
                        log_row(entry, top, *selected == Some(entry.seq), &selected, &ctx)
                    }) }
                </div>
                if total == 0 {
                    <p class="empty">{ "No messages yet: subscribe to a topic filter." }</p>
                }
            </div>
            { details.unwrap_or_default() }
        </section>
    }
}

fn log_row(
    entry: &Rc<LogEntry>,
    top: i32,
    is_selected: bool,
    selected: &UseStateHandle<Option<u64>>,
    ctx: &crate::store::Ctx,
) -> Html {
    let p = &entry.publish;
    let colour = ctx.app().colour_of(&p.topic).unwrap_or("transparent");
    let select = {
        let selected = selected.clone();
        let seq = entry.seq;
        Callback::from(move |_| selected.set(if is_selected { None } else { Some(seq) }))
    };
    // Enter and Space do what a click does, as on a button; only on the row itself, so a key
    // pressed on its chart button is that button's.
    let onkeydown = {
        let select = select.clone();
        Callback::from(move |e: KeyboardEvent| {
            // Yew delegates events, so `current_target` is not the row: test the target.
            let on_row = e
                .target_dyn_into::<Element>()
                .is_some_and(|target| target.matches(".log-row").unwrap_or(false));
            if matches!(e.key().as_str(), "Enter" | " ") && on_row {
                // Space would also scroll the list.
                e.prevent_default();
                select.emit(());
            }
        })
    };
    let chart = numbers(&p.payload).into_iter().next().map(|(key, _)| {
        let ctx = ctx.clone();
        let topic = p.topic.as_str().to_owned();
        let label = format!("Chart {topic}{}{key}", if key.is_empty() { "" } else { " " });
        let onclick = Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            ctx.dispatch(Action::Chart(Some((topic.clone(), key.clone()))));
        });
        html! { <button type="button" class="icon chart-button" {onclick} aria-label={label}><svg class="chart-icon" viewBox="0 0 16 16" aria-hidden="true"><polyline points="1,13 5,8 9,10 15,3" fill="none" stroke="currentColor" stroke-width="2" /></svg></button> }
    });
    html! {
        <div class={classes!("log-row", is_selected.then_some("selected"))} role="listitem" key={entry.seq}
            style={format!("top:{top}px;border-left-color:{colour}")} onclick={select.reform(|_: MouseEvent| ())} {onkeydown} tabindex="0">
            <span class="time">{ clock(entry.time_ms) }</span>
            <code class="topic">{ p.topic.as_str() }</code>
            <span class="flags">
                { format!("QoS{}", p.qos_pid.qos() as u8) }
                if p.retain { <abbr title="retained">{ " R" }</abbr> }
                if p.dup { <abbr title="duplicate delivery">{ " D" }</abbr> }
            </span>
            <span class="payload">{ payload::preview(&p.payload, 80) }</span>
            { chart.unwrap_or_default() }
        </div>
    }
}

fn entry_details(entry: &LogEntry, view: View, ctx: &crate::store::Ctx) -> Html {
    let p = &entry.publish;
    let props = &p.properties;
    let mut lines: Vec<(String, String)> = vec![
        ("Topic".into(), p.topic.as_str().into()),
        ("Received".into(), clock(entry.time_ms)),
        ("QoS".into(), (p.qos_pid.qos() as u8).to_string()),
        ("Flags".into(), format!("retain={} dup={}", p.retain, p.dup)),
        ("Size".into(), format!("{} bytes", p.payload.len())),
    ];
    if let Some(v) = &props.content_type {
        lines.push(("Content type".into(), v.to_string()));
    }
    if let Some(v) = props.payload_format_indicator {
        lines.push(("Payload format".into(), format!("{v:?}")));
    }
    if let Some(v) = props.message_expiry_interval {
        lines.push(("Message expiry".into(), format!("{v} s")));
    }
    if let Some(v) = &props.response_topic {
        lines.push(("Response topic".into(), v.as_str().into()));
    }
    if let Some(v) = &props.correlation_data {
        lines.push(("Correlation data".into(), payload::preview(v, 64)));
    }
    for id in &props.subscription_identifiers {
        lines.push(("Subscription id".into(), id.to_string()));
    }
    for u in &props.user_properties {
        lines.push((format!("User property {}", u.name), u.value.to_string()));
    }
    let select_topic = {
        let ctx = ctx.clone();
        let topic = p.topic.as_str().to_owned();
        Callback::from(move |_| ctx.dispatch(Action::Select(Some(topic.clone()))))
    };
    html! {
        <div class="details" id="message-details">
            <dl>
                { for lines.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
            </dl>
            <pre class="payload-view">{ payload::render(&p.payload, view) }</pre>
            <button type="button" class="link" onclick={select_topic}>{ "Show in topic tree" }</button>
        </div>
    }
}

/// `HH:MM:SS.mmm` in the browser's time zone.
pub(crate) fn clock(time_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(time_ms as f64));
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds(),
        date.get_milliseconds()
    )
}
