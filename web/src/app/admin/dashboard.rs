//! The live dashboard: the overview's counters as tiles and the message rates in and out,
//! plotted with the app's SVG chart.

use courtier_web::model::admin::byte_size as bytes;
use courtier_web::model::chart::number;
use yew::prelude::*;

use super::use_admin;
use crate::chart::Chart;

/// Counters and rate charts.
#[function_component]
pub(crate) fn Dashboard() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let Some(o) = &admin.overview else {
        return html! { <p class="empty">{ "Waiting for the broker…" }</p> };
    };
    let rate = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), number);
    let (rate_in, rate_out) = match admin.rates.latest() {
        Some((i, o)) => (Some(i), Some(o)),
        None => (None, None),
    };
    let d = &o.dropped;
    let tiles = [
        (
            "Clients connected",
            o.clients_connected.to_string(),
            String::new(),
        ),
        ("Sessions", o.sessions.to_string(), String::new()),
        ("Subscriptions", o.subscriptions.to_string(), String::new()),
        (
            "Retained messages",
            o.retained_messages.to_string(),
            String::new(),
        ),
        (
            "Messages in / s",
            rate(rate_in),
            format!("{} received in all", o.messages_received),
        ),
        (
            "Messages out / s",
            rate(rate_out),
            format!("{} sent in all", o.messages_sent),
        ),
        ("Bytes in", bytes(o.bytes_received), String::new()),
        ("Bytes out", bytes(o.bytes_sent), String::new()),
        (
            "Dropped",
            d.total().to_string(),
            format!(
                "queue full {} · offline QoS 0 {} · too large {} · expired {}",
                d.queue_full, d.offline_qos0, d.too_large, d.expired
            ),
        ),
        (
            "Refused",
            (o.connections_refused
                + o.auth_failures
                + o.publishes_refused
                + o.subscriptions_refused)
                .to_string(),
            format!(
                "connections {} · logins {} · publishes {} · subscriptions {}",
                o.connections_refused,
                o.auth_failures,
                o.publishes_refused,
                o.subscriptions_refused
            ),
        ),
    ];
    let points = |series: &std::collections::VecDeque<(u64, f64)>| {
        series.iter().copied().collect::<Vec<_>>()
    };
    html! {
        <div id="admin-dashboard">
            <dl class="tiles">
                { for tiles.into_iter().map(|(label, value, detail)| html! {
                    <div class="tile">
                        <dt>{ label }</dt>
                        <dd><strong>{ value }</strong>
                            if !detail.is_empty() { <span class="muted detail">{ detail }</span> }
                        </dd>
                    </div>
                }) }
            </dl>
            <div class="rate-charts">
                <Chart id="rate-in" title="Messages in / s" points={points(&admin.rates.incoming)} />
                <Chart id="rate-out" title="Messages out / s" points={points(&admin.rates.outgoing)} />
            </div>
            if admin.rates.latest().is_none() {
                <p class="muted hint">{ "Rates appear after the second reading (every 2 s)." }</p>
            }
        </div>
    }
}
