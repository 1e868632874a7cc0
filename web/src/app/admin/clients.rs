//! The connected clients as a table: sortable by any column (the header is a button, its
//! `aria-sort` says how), with a Kick button per row that asks first.

use courtier_web::model::admin::{AdminAction, AdminTab};
use courtier_web::model::admin_table::ClientColumn;
use courtier_web::model::chart::duration;
use yew::prelude::*;

use super::{confirm, use_admin};
use crate::store::now_ms;

/// The clients table.
#[function_component]
pub(crate) fn ClientsTable() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let now_s = now_ms() / 1000;
    let refresh = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.refresh(AdminTab::Clients))
    };
    let rows = admin.sorted_clients();
    html! {
        <div id="admin-clients">
            <div class="toolbar">
                <p class="counts muted" id="clients-count">
                    { format!("{} connected", admin.clients.total) }
                    if admin.clients.items.len() < admin.clients.total {
                        { format!(", first {} shown", admin.clients.items.len()) }
                    }
                </p>
                <button type="button" class="small" id="clients-refresh" onclick={refresh}>{ "Refresh" }</button>
            </div>
            if rows.is_empty() {
                <p class="empty">{ "No client is connected." }</p>
            } else {
                <div class="table-scroll">
                <table class="admin-table" id="clients-table">
                    <caption class="sr-only">{ "Connected clients; the column headers sort the table" }</caption>
                    <thead><tr>
                        { for ClientColumn::ALL.iter().map(|&(column, label)| {
                            let ctx = ctx.clone();
                            let onclick = Callback::from(move |_| ctx.dispatch(AdminAction::Sort(column)));
                            let aria = admin.sort.aria(column);
                            let numeric = matches!(column, ClientColumn::Subscriptions | ClientColumn::Queued);
                            let arrow = match aria { "ascending" => " ▲", "descending" => " ▼", _ => "" };
                            html! {
                                <th scope="col" aria-sort={aria} class={numeric.then_some("num")}>
                                    <button type="button" class="link" {onclick}>{ label }{ arrow }</button>
                                </th>
                            }
                        }) }
                        <th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                    </tr></thead>
                    <tbody>
                        { for rows.into_iter().map(|c| {
                            let kick = {
                                let ctx = ctx.clone();
                                let id = c.client_id.clone();
                                Callback::from(move |_| {
                                    if confirm(&format!("Kick client {id}? Its connection is closed; it may reconnect.")) {
                                        ctx.kick(id.clone());
                                    }
                                })
                            };
                            html! {
                                <tr data-client={c.client_id.clone()}>
                                    <th scope="row" class="mono">{ &c.client_id }</th>
                                    <td>{ c.username.clone().unwrap_or_else(|| "—".to_owned()) }</td>
                                    <td class="mono">{ &c.peer }</td>
                                    <td>{ &c.protocol }</td>
                                    <td title={format!("keep alive {} s", c.keep_alive)}>
                                        { format!("{} ago", duration(now_s.saturating_sub(c.connected_since) * 1000)) }
                                    </td>
                                    <td class="num">{ c.subscriptions }</td>
                                    <td class="num">{ c.queued }</td>
                                    <td><button type="button" class="small danger" onclick={kick}
                                        aria-label={format!("Kick {}", c.client_id)}>{ "Kick" }</button></td>
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
