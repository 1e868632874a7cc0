//! The token form: where the admin API is, the token field, and why the last try failed.

use courtier_web::model::admin::AdminAction;
use yew::prelude::*;

use super::{Messages, use_admin};
use crate::widgets::TextField;

/// Asks for the admin token.
#[function_component]
pub(crate) fn TokenForm() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    let oninput = {
        let ctx = ctx.clone();
        Callback::from(move |token: String| ctx.dispatch(AdminAction::EditToken(token)))
    };
    let onsubmit = {
        let ctx = ctx.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.sign_in();
        })
    };
    let at = match &ctx.origin {
        Some(origin) => format!("The broker's admin API at {origin}."),
        None => "No broker address: open this page from the broker or enter a ws:// broker URL in the MQTT client.".to_owned(),
    };
    html! {
        <section class="admin panel token-form" aria-labelledby="admin-title">
            <h2 id="admin-title">{ "Admin" }</h2>
            <p id="admin-origin" class="muted">{ at }</p>
            <form {onsubmit}>
                <TextField id="admin-token" label="Admin token" kind="password" value={admin.token.clone()} {oninput}
                    placeholder="the broker's --admin-token" />
                <p class="hint muted">{ "Kept in this browser tab only (sessionStorage), never in saved profiles." }</p>
                <div class="actions">
                    <button type="submit" id="admin-sign-in" class="primary" disabled={admin.checking}>
                        { if admin.checking { "Checking…" } else { "Open admin" } }
                    </button>
                </div>
            </form>
            <Messages />
        </section>
    }
}
