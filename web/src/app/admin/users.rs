//! Users of the broker's password file, like HiveMQ Cloud's access page: the list with a
//! Delete button per user (asks first), and an add form whose password rules are shown beside
//! the field, ticked as they are met, and checked before anything is sent.

use courtier_web::model::admin::AdminAction;
use courtier_web::model::admin_users::{NewUser, password_rules};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{confirm, use_admin};
use crate::widgets::TextField;

/// The users list and the add form.
#[function_component]
pub(crate) fn UsersPanel() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let form = admin.new_user.clone();
    let edit = |change: fn(&mut NewUser, String)| {
        let ctx = ctx.clone();
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut form = form.clone();
            change(&mut form, value);
            ctx.dispatch(AdminAction::EditNewUser(form));
        })
    };
    let on_username = edit(|f, v| f.username = v);
    let on_password = edit(|f, v| f.password = v)
        .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    let onsubmit = {
        let ctx = ctx.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.add_user();
        })
    };
    let rules = password_rules(form.username.trim(), &form.password);
    html! {
        <div id="admin-users" class="users">
            <form class="add-user" {onsubmit} aria-labelledby="add-user-title">
                <h3 id="add-user-title">{ "Add a user" }</h3>
                <TextField id="new-username" label="User name" value={form.username.clone()} oninput={on_username} />
                <div class="field">
                    <label for="new-password">{ "Password" }</label>
                    <input id="new-password" type="password" value={form.password.clone()} oninput={on_password}
                        autocomplete="new-password" aria-describedby="password-rules" />
                </div>
                <ul id="password-rules" class="rules" aria-label="Password rules">
                    { for rules.iter().map(|rule| html! {
                        <li class={if rule.met { "met" } else { "unmet" }}>
                            <span aria-hidden="true">{ if rule.met { "✓ " } else { "✗ " } }</span>
                            { rule.text }
                            <span class="sr-only">{ if rule.met { " (met)" } else { " (not met)" } }</span>
                        </li>
                    }) }
                </ul>
                <div class="actions"><button type="submit" id="add-user" class="primary">{ "Add user" }</button></div>
            </form>
            <h3>{ format!("Users ({})", admin.users.total) }</h3>
            if admin.users.items.is_empty() {
                <p class="empty">{ "No users in the password file." }</p>
            } else {
                <ul class="user-list" id="user-list">
                    { for admin.users.items.iter().map(|user| {
                        let delete = {
                            let ctx = ctx.clone();
                            let name = user.clone();
                            Callback::from(move |_| {
                                if confirm(&format!("Delete user {name}? Clients can no longer log in with it.")) {
                                    ctx.delete_user(name.clone());
                                }
                            })
                        };
                        html! {
                            <li data-user={user.clone()}>
                                <span class="mono">{ user }</span>
                                <button type="button" class="small danger" onclick={delete}
                                    aria-label={format!("Delete user {user}")}>{ "Delete" }</button>
                            </li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}
