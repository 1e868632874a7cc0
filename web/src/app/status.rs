//! The status bar, always visible: connection state in words, counters, and the last notice.

use courtier_web::model::Status;
use yew::prelude::*;

use crate::store::use_connection;

/// The status bar.
#[function_component]
pub(crate) fn StatusBar() -> Html {
    let ctx = use_connection();
    let app = ctx.app();
    let (class, text) = match &app.status {
        Status::Idle => ("idle", "Not connected".to_owned()),
        Status::Connecting { url } => ("busy", format!("Connecting to {url}…")),
        Status::Connected {
            url,
            session_present,
            client_id,
        } => (
            "ok",
            format!(
                "Connected to {url} as {client_id}{}",
                if *session_present {
                    " (session resumed)"
                } else {
                    ""
                }
            ),
        ),
        Status::Ended {
            reason,
            error: true,
        } => ("error", reason.clone()),
        Status::Ended {
            reason,
            error: false,
        } => ("idle", reason.clone()),
    };
    let dismiss = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.dispatch(courtier_web::model::Action::Notice(String::new())))
    };
    html! {
        <div class="status-bar" role="status" aria-live="polite">
            <span class={classes!("dot", class)} aria-hidden="true"></span>
            <span id="status-text" class={classes!("status-text", class)}>{ text }</span>
            <span class="counters">
                { format!("{} received · {} topics", app.received, app.tree.topic_count()) }
            </span>
            if let Some(notice) = app.notice.as_ref().filter(|n| !n.is_empty()) {
                <span id="notice" class="notice">
                    { notice.clone() }
                    <button type="button" class="icon" onclick={dismiss} aria-label="Dismiss">{ "×" }</button>
                </span>
            }
        </div>
    }
}
