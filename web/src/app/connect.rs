//! The connect panel: broker URL, client id, credentials, version, session and will, plus
//! connection profiles saved in the browser (IndexedDB, see `profiles`; passwords are never
//! saved).

use courtier_web::model::form::{ConnectForm, Version};
use courtier_web::model::profile::Profile;
use courtier_web::model::{Action, Status};
use yew::prelude::*;

use crate::profiles::{self, ProfileError};
use crate::store::{Ctx, now_ms, use_connection};
use crate::widgets::{Check, Choice, TextField, qos_options};

/// Runs a profile-store operation in the background and shows its outcome: the new list, or the
/// failure in the notice line (the connection never depends on the store).
fn update_profiles(
    ctx: &Ctx,
    profiles: &UseStateHandle<Vec<Profile>>,
    operation: impl Future<Output = Result<Vec<Profile>, ProfileError>> + 'static,
) {
    let ctx = ctx.clone();
    let profiles = profiles.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match operation.await {
            Ok(list) => profiles.set(list),
            Err(error) => ctx.dispatch(Action::Notice(error.to_string())),
        }
    });
}

/// An editor callback for one field of the connect form.
fn edit<T: 'static>(ctx: &Ctx, set: fn(&mut ConnectForm, T)) -> Callback<T> {
    let ctx = ctx.clone();
    Callback::from(move |value: T| {
        let mut form = ctx.app().form.clone();
        set(&mut form, value);
        ctx.dispatch(Action::EditForm(form));
    })
}

/// The connect panel.
#[function_component]
pub(crate) fn ConnectPanel() -> Html {
    let ctx = use_connection();
    let profiles = use_state(Vec::<Profile>::new);
    {
        let (ctx, profiles) = (ctx.clone(), profiles.clone());
        use_effect_with((), move |()| {
            update_profiles(&ctx, &profiles, profiles::load())
        });
    }
    let form = ctx.app().form.clone();
    let active = matches!(
        ctx.app().status,
        Status::Connecting { .. } | Status::Connected { .. }
    );
    let v5 = form.version == Version::V5;

    let onsubmit = {
        let ctx = ctx.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.connect();
        })
    };
    let disconnect = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.disconnect())
    };
    let save = {
        let (ctx, profiles, form) = (ctx.clone(), profiles.clone(), form.clone());
        Callback::from(move |_| {
            let profile = Profile::of(&form, now_ms());
            update_profiles(&ctx, &profiles, profiles::save(profile));
        })
    };

    html! {
        <section class="panel" aria-labelledby="connect-title">
            <h2 id="connect-title">{ "Connection" }</h2>
            <form {onsubmit}>
                <TextField id="broker-url" label="Broker URL" value={form.url.clone()}
                    placeholder="ws://host:port/mqtt" oninput={edit(&ctx, |f, v| f.url = v)} />
                <div class="row">
                    <TextField id="client-id" label="Client id" value={form.client_id.clone()}
                        oninput={edit(&ctx, |f, v| f.client_id = v)} />
                    <Choice id="version" label="Protocol" value={if v5 { "5" } else { "4" }}
                        options={vec![("5".into(), "MQTT 5.0".into()), ("4".into(), "MQTT 3.1.1".into())]}
                        onchange={edit(&ctx, |f, v: String| f.version = if v == "4" { Version::V311 } else { Version::V5 })} />
                </div>
                <div class="row">
                    <TextField id="username" label="User name" value={form.username.clone()}
                        oninput={edit(&ctx, |f, v| f.username = v)} />
                    <TextField id="password" label="Password" kind="password" value={form.password.clone()}
                        oninput={edit(&ctx, |f, v| f.password = v)} />
                </div>
                <details>
                    <summary>{ "Session and last will" }</summary>
                    <div class="row">
                        <TextField id="keep-alive" label="Keep alive (s)" kind="number" value={form.keep_alive.clone()}
                            oninput={edit(&ctx, |f, v| f.keep_alive = v)} />
                        if v5 {
                            <TextField id="session-expiry" label="Session expiry (s)" kind="number"
                                value={form.session_expiry.clone()} oninput={edit(&ctx, |f, v| f.session_expiry = v)} />
                        }
                    </div>
                    <Check id="clean-start" label="Clean start" checked={form.clean_start}
                        onchange={edit(&ctx, |f, v| f.clean_start = v)} />
                    <Check id="will-enabled" label="Send a last will" checked={form.will_enabled}
                        onchange={edit(&ctx, |f, v| f.will_enabled = v)} />
                    if form.will_enabled {
                        <TextField id="will-topic" label="Will topic" value={form.will_topic.clone()}
                            oninput={edit(&ctx, |f, v| f.will_topic = v)} />
                        <TextField id="will-payload" label="Will payload" value={form.will_payload.clone()}
                            oninput={edit(&ctx, |f, v| f.will_payload = v)} />
                        <div class="row">
                            <Choice id="will-qos" label="Will QoS" value={form.will_qos.to_string()} options={qos_options()}
                                onchange={edit(&ctx, |f, v: String| f.will_qos = v.parse().unwrap_or(0))} />
                            <Check id="will-retain" label="Retain" checked={form.will_retain}
                                onchange={edit(&ctx, |f, v| f.will_retain = v)} />
                        </div>
                        if v5 {
                            <div class="row">
                                <TextField id="will-delay" label="Will delay (s)" kind="number" value={form.will_delay.clone()}
                                    oninput={edit(&ctx, |f, v| f.will_delay = v)} />
                                <TextField id="will-content-type" label="Will content type" value={form.will_content_type.clone()}
                                    oninput={edit(&ctx, |f, v| f.will_content_type = v)} />
                            </div>
                            <Check id="will-utf8" label="Will payload is UTF-8 text (format indicator)" checked={form.will_utf8_payload}
                                onchange={edit(&ctx, |f, v| f.will_utf8_payload = v)} />
                            <div class="row">
                                <TextField id="will-message-expiry" label="Will message expiry (s)" kind="number"
                                    value={form.will_message_expiry.clone()} oninput={edit(&ctx, |f, v| f.will_message_expiry = v)} />
                                <TextField id="will-response-topic" label="Will response topic" value={form.will_response_topic.clone()}
                                    oninput={edit(&ctx, |f, v| f.will_response_topic = v)} />
                                <TextField id="will-correlation" label="Will correlation data" value={form.will_correlation_data.clone()}
                                    oninput={edit(&ctx, |f, v| f.will_correlation_data = v)} />
                            </div>
                            <TextField id="will-user-properties" label="Will user properties (name=value per line)" multiline=true
                                value={form.will_user_properties.clone()} oninput={edit(&ctx, |f, v| f.will_user_properties = v)} />
                        }
                    }
                </details>
                <div class="actions">
                    <button type="submit" id="connect" class="primary">{ if active { "Reconnect" } else { "Connect" } }</button>
                    <button type="button" id="disconnect" onclick={disconnect} disabled={!active}>{ "Disconnect" }</button>
                    <button type="button" id="save-profile" onclick={save} title="Save these settings (without the password) in this browser">{ "Save profile" }</button>
                </div>
            </form>
            if !profiles.is_empty() {
                <ul class="profiles" aria-label="Saved profiles">
                    { for profiles.iter().map(|profile| profile_row(&ctx, &profiles, profile)) }
                </ul>
            }
        </section>
    }
}

fn profile_row(ctx: &Ctx, profiles: &UseStateHandle<Vec<Profile>>, profile: &Profile) -> Html {
    let use_it = {
        let ctx = ctx.clone();
        let profile = profile.clone();
        // Keep a password typed for this session: profiles never store one.
        Callback::from(move |_| {
            ctx.connect_with(profile.form_with_password(&ctx.app().form.password))
        })
    };
    let remove = {
        let (ctx, profiles, name) = (ctx.clone(), profiles.clone(), profile.name.clone());
        Callback::from(move |_| update_profiles(&ctx, &profiles, profiles::delete(name.clone())))
    };
    html! {
        <li key={profile.name.clone()}>
            <button type="button" class="link profile" onclick={use_it} title="Connect with this profile">{ &profile.name }</button>
            <button type="button" class="icon" onclick={remove} aria-label={format!("Delete profile {}", profile.name)}>{ "×" }</button>
        </li>
    }
}
