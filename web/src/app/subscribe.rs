//! The subscribe panel: a filter with QoS and the 5.0 options, and the list of subscriptions
//! with their colour, state, message count and an unsubscribe button.

use courtier_web::model::SubState;
use courtier_web::model::form::{SubscribeForm, Version};
use yew::prelude::*;

use crate::store::use_connection;
use crate::widgets::{Check, Choice, TextField, qos_options};

/// The subscribe panel.
#[function_component]
pub(crate) fn SubscribePanel() -> Html {
    let ctx = use_connection();
    let form = use_state(|| SubscribeForm {
        filter: "maMaison/rez-de-chaussee/+".into(),
        ..Default::default()
    });
    let v5 = ctx.app().form.version == Version::V5;
    let edit = |set: fn(&mut SubscribeForm, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            set(&mut next, value);
            form.set(next);
        })
    };
    let flag = |set: fn(&mut SubscribeForm, bool)| {
        let form = form.clone();
        Callback::from(move |value: bool| {
            let mut next = (*form).clone();
            set(&mut next, value);
            form.set(next);
        })
    };
    let onsubmit = {
        let ctx = ctx.clone();
        let form = form.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.subscribe(&form);
        })
    };
    html! {
        <section class="panel" aria-labelledby="subscribe-title">
            <h2 id="subscribe-title">{ "Subscriptions" }</h2>
            <form {onsubmit}>
                <TextField id="sub-filter" label="Topic filter" value={form.filter.clone()}
                    placeholder="sensors/+/temperature" oninput={edit(|f, v| f.filter = v)} />
                <div class="row">
                    <Choice id="sub-qos" label="Maximum QoS" value={form.qos.to_string()} options={qos_options()}
                        onchange={edit(|f, v| f.qos = v.parse().unwrap_or(0))} />
                    if v5 {
                        <Choice id="sub-retain-handling" label="Retained messages" value={form.retain_handling.to_string()}
                            options={vec![("0".into(), "Send on subscribe".into()), ("1".into(), "Send if new".into()), ("2".into(), "Don't send".into())]}
                            onchange={edit(|f, v| f.retain_handling = v.parse().unwrap_or(0))} />
                    }
                </div>
                if v5 {
                    <div class="row">
                        <Check id="sub-no-local" label="No Local" checked={form.no_local} onchange={flag(|f, v| f.no_local = v)} />
                        <Check id="sub-rap" label="Retain As Published" checked={form.retain_as_published}
                            onchange={flag(|f, v| f.retain_as_published = v)} />
                    </div>
                }
                <div class="actions"><button type="submit" id="subscribe" class="primary">{ "Subscribe" }</button></div>
            </form>
            <ul class="subscriptions" aria-label="Active subscriptions">
                { for ctx.app().subscriptions.iter().map(|entry| {
                    let filter = entry.subscription.filter.as_str().to_owned();
                    let unsubscribe = {
                        let ctx = ctx.clone();
                        let filter = filter.clone();
                        Callback::from(move |_| ctx.unsubscribe(&filter))
                    };
                    let (state_class, state) = match &entry.state {
                        SubState::Pending => ("busy", "pending".to_owned()),
                        SubState::Granted(qos) => ("ok", format!("QoS {qos}")),
                        SubState::Refused(why) => ("error", why.clone()),
                    };
                    html! {
                        <li class="subscription" key={filter.clone()}>
                            <span class="swatch" style={format!("background:{}", entry.colour)} aria-hidden="true"></span>
                            <code class="filter">{ &filter }</code>
                            <span class={classes!("badge", state_class)}>{ state }</span>
                            <span class="count" title="Messages received">{ entry.count }</span>
                            <button type="button" class="icon" onclick={unsubscribe}
                                aria-label={format!("Unsubscribe from {filter}")}>{ "×" }</button>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
