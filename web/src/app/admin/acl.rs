//! The rules of the broker's ACL file: an add form (user, kind, access, filter; checked before
//! sending as the broker checks it) and the rules in force with a Delete button each that asks
//! first. A change applies to the next SUBSCRIBE and PUBLISH; nobody is disconnected.

use courtier_web::model::admin::AdminAction;
use courtier_web::model::admin_acl::{ACCESS, NewRule};
use yew::prelude::*;

use super::{confirm, use_admin};
use crate::widgets::{Choice, TextField};

/// The ACL tab.
#[function_component]
pub(crate) fn AclPanel() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let acl = &admin.acl;
    if !acl.configured {
        return html! {
            <div id="admin-acl">
                <p class="empty" id="acl-off">
                    { "No ACL file: every client may use every topic. Start courtier with --acl-file FILE \
                       (an empty file refuses everything) to manage rules here." }
                </p>
            </div>
        };
    }
    let form = admin.new_rule.clone();
    let edit = |change: fn(&mut NewRule, String)| {
        let ctx = ctx.clone();
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut form = form.clone();
            change(&mut form, value);
            ctx.dispatch(AdminAction::EditNewRule(form));
        })
    };
    let onsubmit = {
        let ctx = ctx.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.add_rule();
        })
    };
    let kinds = vec![
        ("topic".into(), "topic".into()),
        ("pattern".into(), "pattern".into()),
    ];
    let access: Vec<_> = ACCESS
        .iter()
        .map(|&a| (AttrValue::Static(a), AttrValue::Static(a)))
        .collect();
    let kind = if form.pattern { "pattern" } else { "topic" };
    html! {
        <div id="admin-acl" class="acl">
            <form class="add-rule" {onsubmit} aria-labelledby="add-rule-title">
                <h3 id="add-rule-title">{ "Add a rule" }</h3>
                <div class="row">
                    <Choice id="new-rule-kind" label="Kind" value={kind} options={kinds}
                        onchange={edit(|f, v| f.pattern = v == "pattern")} />
                    <Choice id="new-rule-access" label="Access" value={form.access.clone()} options={access}
                        onchange={edit(|f, v| f.access = v)} />
                </div>
                <TextField id="new-rule-user" label="User (empty: anonymous clients, or a pattern)"
                    value={form.user.clone()} oninput={edit(|f, v| f.user = v)} />
                <TextField id="new-rule-filter" label="Topic filter" value={form.filter.clone()}
                    placeholder="sensors/+/temperature" oninput={edit(|f, v| f.filter = v)} />
                <p class="muted rules">
                    { "A topic rule is one user's, or anonymous clients' with no user. A pattern is every \
                       client's: %c in its filter stands for the client id, %u for the user name." }
                </p>
                <div class="actions"><button type="submit" id="add-rule" class="primary">{ "Add rule" }</button></div>
            </form>
            <h3 id="acl-count">{ format!("Rules ({})", acl.total) }</h3>
            if acl.rules.is_empty() {
                <p class="empty">{ "No rule: every request is refused." }</p>
            } else {
                <div class="table-scroll">
                <table class="admin-table" id="acl-table">
                    <caption class="sr-only">{ "ACL rules: anonymous ones, then by user, then patterns" }</caption>
                    <thead><tr>
                        <th scope="col">{ "For" }</th><th scope="col">{ "Kind" }</th>
                        <th scope="col">{ "Access" }</th><th scope="col">{ "Filter" }</th>
                        <th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                    </tr></thead>
                    <tbody>
                        { for acl.rules.iter().map(|rule| {
                            let words = rule.describe();
                            let delete = {
                                let ctx = ctx.clone();
                                let rule = rule.clone();
                                let words = words.clone();
                                Callback::from(move |_| {
                                    if confirm(&format!("Delete the rule {words}? It no longer applies from the next request.")) {
                                        ctx.delete_rule(rule.clone());
                                    }
                                })
                            };
                            html! {
                                <tr data-rule={words.clone()}>
                                    <th scope="row">{ rule.whose() }</th>
                                    <td>{ &rule.kind }</td>
                                    <td>{ &rule.access }</td>
                                    <td class="mono">{ &rule.filter }</td>
                                    <td><button type="button" class="small danger" onclick={delete}
                                        aria-label={format!("Delete rule {words}")}>{ "Delete" }</button></td>
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
