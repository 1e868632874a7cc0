//! The retained-message browser: a topic filter (default `#`), the matching messages with
//! their payload, QoS and size, and a Delete button per row that asks first.

use courtier_web::model::admin::{AdminAction, AdminTab};
use yew::prelude::*;

use super::{confirm, use_admin};
use crate::widgets::TextField;

/// The retained browser.
#[function_component]
pub(crate) fn RetainedBrowser() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let oninput = {
        let ctx = ctx.clone();
        Callback::from(move |filter: String| ctx.dispatch(AdminAction::RetainedFilter(filter)))
    };
    let onsubmit = {
        let ctx = ctx.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.refresh(AdminTab::Retained);
        })
    };
    let listing = &admin.retained;
    html! {
        <div id="admin-retained">
            <form class="row" {onsubmit}>
                <TextField id="retained-filter" label="Topic filter" value={admin.retained_filter.clone()} {oninput}
                    placeholder="#" />
                <div class="field grow-none"><button type="submit" id="retained-browse">{ "Browse" }</button></div>
            </form>
            <p class="counts muted" id="retained-count">
                { format!("{} shown", listing.items.len()) }
                if listing.more {
                    { " · more match: narrow the filter to see them" }
                }
            </p>
            if listing.items.is_empty() {
                <p class="empty">{ "No retained message matches." }</p>
            } else {
                <div class="table-scroll">
                <table class="admin-table" id="retained-table">
                    <caption class="sr-only">{ "Retained messages" }</caption>
                    <thead><tr>
                        <th scope="col">{ "Topic" }</th><th scope="col">{ "Payload" }</th>
                        <th scope="col">{ "QoS" }</th><th scope="col">{ "Size" }</th>
                        <th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                    </tr></thead>
                    <tbody>
                        { for listing.items.iter().map(|m| {
                            let delete = {
                                let ctx = ctx.clone();
                                let topic = m.topic.clone();
                                Callback::from(move |_| {
                                    if confirm(&format!("Delete the retained message of {topic}?")) {
                                        ctx.delete_retained(topic.clone());
                                    }
                                })
                            };
                            let payload = m.shown_payload();
                            html! {
                                <tr data-topic={m.topic.clone()}>
                                    <th scope="row" class="mono">{ &m.topic }</th>
                                    <td class="mono payload" title={payload.clone()}>{ payload }</td>
                                    <td class="num">{ m.qos }</td>
                                    <td class="num">{ format!("{} B", m.size) }</td>
                                    <td><button type="button" class="small danger" onclick={delete}
                                        aria-label={format!("Delete retained {}", m.topic)}>{ "Delete" }</button></td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
                </div>
            }
        </div>
    }
}
