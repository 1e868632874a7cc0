//! The topic tree (nested by level, last value, counts, retained marker) and the selected
//! topic's details: its numeric series, one click from a chart, and its history.

use courtier_web::model::Action;
use courtier_web::model::payload;
use courtier_web::model::tree::{TopicStats, TreeRow};
use courtier_web::model::tree_keys::{self, TreeCommand};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::chart::Chart;
use crate::log::clock;
use crate::store::{Ctx, use_connection};

/// The topic tree: a WAI-ARIA tree with one tab stop (the focused row) and the arrow keys of
/// `model::tree_keys`; every row carries its full topic as a tooltip.
#[function_component]
pub(crate) fn TopicTree() -> Html {
    let ctx = use_connection();
    let list = use_node_ref();
    // The row holding the tab stop; by default the selected topic, else the first row.
    let focused = use_state(|| None::<String>);
    let app = ctx.app();
    let is_open = |path: &str| app.expanded.contains(path);
    let rows = app.tree.rows(&is_open);
    let tab_stop = [focused.as_deref(), app.selected.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|path| rows.iter().position(|r| r.path == path))
        .unwrap_or(0);
    let onkeydown = {
        let (ctx, list, focused) = (ctx.clone(), list.clone(), focused.clone());
        Callback::from(move |e: KeyboardEvent| {
            let app = ctx.app();
            let rows = app.tree.rows(&|path| app.expanded.contains(path));
            // The key was pressed on a row (or a button inside it): find which.
            let Some(index) = e
                .target_dyn_into::<web_sys::Element>()
                .and_then(|t| t.closest("[role=treeitem]").ok().flatten())
                .and_then(|row| row.get_attribute("data-index"))
                .and_then(|i| i.parse().ok())
            else {
                return;
            };
            let Some(command) =
                tree_keys::command(&rows, index, &e.key(), &|p| app.expanded.contains(p))
            else {
                return;
            };
            e.prevent_default();
            match command {
                TreeCommand::Focus(to) => {
                    focused.set(Some(rows[to].path.clone()));
                    focus_row(&list, to);
                }
                TreeCommand::Toggle(path) => ctx.dispatch(Action::ToggleExpanded(path)),
                TreeCommand::Select(path) => {
                    focused.set(Some(path.clone()));
                    ctx.dispatch(Action::Select(Some(path)));
                }
            }
        })
    };
    html! {
        <section class="panel" aria-labelledby="tree-title">
            <h2 id="tree-title">{ "Topics" }</h2>
            if rows.is_empty() {
                <p class="empty">{ "Topics appear here as messages arrive." }</p>
            } else {
                <p class="muted hint" id="tree-keys">{ "Arrow keys move and open, Enter selects." }</p>
            }
            <ul class="tree" role="tree" aria-label="Topics seen" aria-describedby="tree-keys" ref={list} {onkeydown}>
                { for rows.iter().enumerate().map(|(index, row)| tree_row(&ctx, row, index, index == tab_stop)) }
            </ul>
        </section>
    }
}

/// Moves the keyboard focus to visible row `index`.
fn focus_row(list: &NodeRef, index: usize) {
    let row = list
        .cast::<web_sys::Element>()
        .and_then(|l| {
            l.query_selector(&format!("[data-index='{index}']"))
                .ok()
                .flatten()
        })
        .and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(row) = row {
        let _ = row.focus();
    }
}

/// One row: twisty, name, retained marker, last value, chart button and count. The buttons
/// inside are for the mouse (`tabindex=-1`): the keyboard works on the row itself.
fn tree_row(ctx: &Ctx, row: &TreeRow<'_>, index: usize, tab_stop: bool) -> Html {
    let app = ctx.app();
    let path = row.path.clone();
    let has_children = !row.node.children.is_empty();
    let open = app.expanded.contains(&path);
    let toggle = {
        let ctx = ctx.clone();
        let path = path.clone();
        Callback::from(move |_| ctx.dispatch(Action::ToggleExpanded(path.clone())))
    };
    let select = {
        let ctx = ctx.clone();
        let path = path.clone();
        Callback::from(move |_| ctx.dispatch(Action::Select(Some(path.clone()))))
    };
    let is_selected = app.selected.as_deref() == Some(path.as_str());
    let stats = row.node.stats.as_ref();
    let name = if row.name.is_empty() {
        "(empty)"
    } else {
        row.name
    };
    html! {
        <li role="treeitem" key={path.clone()} data-index={index.to_string()} title={path.clone()}
            tabindex={if tab_stop { "0" } else { "-1" }} aria-level={(row.depth + 1).to_string()}
            aria-expanded={has_children.then(|| open.to_string())} aria-selected={is_selected.to_string()}
            aria-label={format!("{path}, {} messages", row.node.total)}
            style={format!("padding-left:{}rem", row.depth as f32 * 1.1)}>
            if has_children {
                <button type="button" class="icon twisty" onclick={toggle} tabindex="-1"
                    aria-label={format!("{} {path}", if open { "Collapse" } else { "Expand" })}>
                    { if open { "▾" } else { "▸" } }
                </button>
            } else {
                <span class="twisty" aria-hidden="true"></span>
            }
            <button type="button" class={classes!("link", "tree-name", is_selected.then_some("selected"))}
                onclick={select} data-topic={path.clone()} tabindex="-1">{ name }</button>
            if let Some(stats) = stats {
                if stats.retained { <abbr class="badge" title="last message was retained">{ "R" }</abbr> }
                <span class="tree-value">{ stats.last().map(|e| payload::preview(&e.publish.payload, 28)).unwrap_or_default() }</span>
                { chart_button(ctx, &path, stats) }
            }
            <span class="count" title="Messages on this topic and below">{ row.node.total }</span>
        </li>
    }
}

/// The one-click chart button of a topic, when its last payload had a number in it.
fn chart_button(ctx: &Ctx, topic: &str, stats: &TopicStats) -> Html {
    let Some(key) = stats.series.keys().next().cloned() else {
        return Html::default();
    };
    let ctx = ctx.clone();
    let label = format!("Chart {topic}");
    let topic = topic.to_owned();
    let onclick =
        Callback::from(move |_| ctx.dispatch(Action::Chart(Some((topic.clone(), key.clone())))));
    html! { <button type="button" class="icon chart-button" {onclick} tabindex="-1" aria-label={label} title="Chart"><svg class="chart-icon" viewBox="0 0 16 16" aria-hidden="true"><polyline points="1,13 5,8 9,10 15,3" fill="none" stroke="currentColor" stroke-width="2" /></svg></button> }
}

/// The selected topic's chart, series and history.
#[function_component]
pub(crate) fn TopicDetails() -> Html {
    let ctx = use_connection();
    let app = ctx.app();
    let Some(topic) = app.selected.clone() else {
        return html! {
            <section class="panel" aria-labelledby="details-title">
                <h2 id="details-title">{ "Topic" }</h2>
                <p class="empty">{ "Select a topic in the tree to see its history; the chart button draws its numeric values." }</p>
            </section>
        };
    };
    let stats = app.tree.find(&topic).and_then(|n| n.stats.as_ref());
    let chart = app
        .chart
        .as_ref()
        .filter(|(t, _)| *t == topic)
        .and_then(|(_, key)| {
            app.chart_points()
                .map(|points| (key.clone(), points.iter().copied().collect::<Vec<_>>()))
        });
    let close = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.dispatch(Action::Select(None)))
    };
    html! {
        <section class="panel" aria-labelledby="details-title">
            <div class="toolbar">
                <h2 id="details-title"><code>{ &topic }</code></h2>
                <button type="button" class="icon" onclick={close} aria-label="Close topic details">{ "×" }</button>
            </div>
            if let Some((key, points)) = chart {
                <Chart title={if key.is_empty() { topic.clone() } else { format!("{topic} · {key}") }} {points} />
            }
            if let Some(stats) = stats {
                <div class="series">
                    { for stats.series.keys().map(|key| {
                        let ctx = ctx.clone();
                        let chart = (topic.clone(), key.clone());
                        let onclick = Callback::from(move |_| ctx.dispatch(Action::Chart(Some(chart.clone()))));
                        html! { <button type="button" class="small" {onclick}>{ format!("Chart {}", if key.is_empty() { "value" } else { key }) }</button> }
                    }) }
                </div>
                <p class="muted">{ format!("{} messages{}", stats.count, if stats.retained { ", last one retained" } else { "" }) }</p>
                <ol class="history" aria-label="History, newest first">
                    { for stats.history.iter().rev().map(|e| html! {
                        <li key={e.seq}><span class="time">{ clock(e.time_ms) }</span>
                            <span class="payload">{ payload::preview(&e.publish.payload, 60) }</span></li>
                    }) }
                </ol>
            } else {
                <p class="muted">{ "No message on this exact topic; open it to see the topics below." }</p>
            }
        </section>
    }
}
