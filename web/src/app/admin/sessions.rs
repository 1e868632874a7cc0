//! The broker's sessions as a table: connected ones and those kept for a client that may come
//! back, with when each ends and what is waiting in it. Read when the tab opens and on Refresh.

use courtier_web::model::admin::AdminTab;
use yew::prelude::*;

use super::use_admin;

/// The sessions table.
#[function_component]
pub(crate) fn SessionsTable() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let refresh = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.refresh(AdminTab::Sessions))
    };
    let listing = &admin.sessions;
    html! {
        <div id="admin-sessions">
            <div class="toolbar">
                <p class="counts muted" id="sessions-count">
                    { format!("{} sessions", listing.total) }
                    if listing.items.len() < listing.total {
                        { format!(", first {} shown", listing.items.len()) }
                    }
                </p>
                <button type="button" class="small" id="sessions-refresh" onclick={refresh}>{ "Refresh" }</button>
            </div>
            if listing.items.is_empty() {
                <p class="empty">{ "No session." }</p>
            } else {
                <div class="table-scroll">
                <table class="admin-table" id="sessions-table">
                    <caption class="sr-only">{ "Sessions, connected or kept offline" }</caption>
                    <thead><tr>
                        <th scope="col">{ "Client ID" }</th><th scope="col">{ "State" }</th>
                        <th scope="col">{ "Ends" }</th><th scope="col" class="num">{ "Subscriptions" }</th>
                        <th scope="col" class="num">{ "Queued" }</th><th scope="col" class="num">{ "In flight" }</th>
                        <th scope="col" class="num">{ "Dropped" }</th>
                    </tr></thead>
                    <tbody>
                        { for listing.items.iter().map(|s| html! {
                            <tr data-client={s.client_id.clone()}>
                                <th scope="row" class="mono">{ &s.client_id }</th>
                                <td class="state">{ if s.connected { "connected" } else { "offline" } }</td>
                                <td>{ s.expiry() }</td>
                                <td class="num">{ s.subscriptions }</td>
                                <td class="num">{ s.queued }</td>
                                <td class="num">{ s.inflight }</td>
                                <td class="num">{ s.dropped }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                </div>
            }
        </div>
    }
}
