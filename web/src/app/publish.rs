//! The publish panel: topic, payload in four encodings, QoS, retain, the 5.0 properties, and
//! the recent publishes for one-click re-send.

use courtier_web::model::form::{PublishForm, Version};
use courtier_web::model::payload::Encoding;
use yew::prelude::*;

use crate::store::use_connection;
use crate::widgets::{Check, Choice, TextField, qos_options};

/// The publish panel.
#[function_component]
pub(crate) fn PublishPanel() -> Html {
    let ctx = use_connection();
    let form = use_state(|| PublishForm {
        topic: "maMaison/rez-de-chaussee/salon".into(),
        payload: "20.5".into(),
        ..Default::default()
    });
    let v5 = ctx.app().form.version == Version::V5;
    let edit = |set: fn(&mut PublishForm, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            set(&mut next, value);
            form.set(next);
        })
    };
    let flag = |set: fn(&mut PublishForm, bool)| {
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
            ctx.publish(&form);
        })
    };
    let encodings: Vec<(AttrValue, AttrValue)> = Encoding::ALL
        .iter()
        .map(|e| (AttrValue::from(e.label()), AttrValue::from(e.label())))
        .collect();
    html! {
        <section class="panel" aria-labelledby="publish-title">
            <h2 id="publish-title">{ "Publish" }</h2>
            <form {onsubmit}>
                <TextField id="pub-topic" label="Topic" value={form.topic.clone()} oninput={edit(|f, v| f.topic = v)} />
                <TextField id="pub-payload" label="Payload" value={form.payload.clone()} multiline=true
                    oninput={edit(|f, v| f.payload = v)} />
                <div class="row">
                    <Choice id="pub-encoding" label="Payload is" value={form.encoding.label()} options={encodings}
                        onchange={edit(|f, v| f.encoding = Encoding::ALL.into_iter().find(|e| e.label() == v).unwrap_or_default())} />
                    <Choice id="pub-qos" label="QoS" value={form.qos.to_string()} options={qos_options()}
                        onchange={edit(|f, v| f.qos = v.parse().unwrap_or(0))} />
                </div>
                <Check id="pub-retain" label="Retain" checked={form.retain} onchange={flag(|f, v| f.retain = v)} />
                if v5 {
                    <details>
                        <summary>{ "MQTT 5 properties" }</summary>
                        <div class="row">
                            <TextField id="pub-content-type" label="Content type" value={form.content_type.clone()}
                                placeholder="application/json" oninput={edit(|f, v| f.content_type = v)} />
                            <TextField id="pub-expiry" label="Message expiry (s)" kind="number" value={form.message_expiry.clone()}
                                oninput={edit(|f, v| f.message_expiry = v)} />
                        </div>
                        <Check id="pub-utf8" label="Payload is UTF-8 text (format indicator)" checked={form.utf8_payload}
                            onchange={flag(|f, v| f.utf8_payload = v)} />
                        <div class="row">
                            <TextField id="pub-response-topic" label="Response topic" value={form.response_topic.clone()}
                                oninput={edit(|f, v| f.response_topic = v)} />
                            <TextField id="pub-correlation" label="Correlation data" value={form.correlation_data.clone()}
                                oninput={edit(|f, v| f.correlation_data = v)} />
                        </div>
                        <TextField id="pub-user-properties" label="User properties (name=value per line)" multiline=true
                            value={form.user_properties.clone()} oninput={edit(|f, v| f.user_properties = v)} />
                    </details>
                }
                <div class="actions"><button type="submit" id="publish" class="primary">{ "Publish" }</button></div>
            </form>
            if !ctx.app().recent.is_empty() {
                <h3>{ "Recent" }</h3>
                <ul class="recent" aria-label="Recent publishes">
                    { for ctx.app().recent.iter().map(|recent| {
                        let resend = {
                            let ctx = ctx.clone();
                            let recent = recent.clone();
                            Callback::from(move |_| { ctx.publish(&recent); })
                        };
                        let load = {
                            let form = form.clone();
                            let recent = recent.clone();
                            Callback::from(move |_| form.set(recent.clone()))
                        };
                        html! {
                            <li>
                                <button type="button" class="link" onclick={load} title="Edit this publish">
                                    <code>{ &recent.topic }</code>{ " " }
                                    <span class="muted">{ courtier_web::model::payload::preview(recent.payload.as_bytes(), 24) }</span>
                                </button>
                                <button type="button" class="small" onclick={resend}
                                    aria-label={format!("Send again to {}", recent.topic)}>{ "Send again" }</button>
                            </li>
                        }
                    }) }
                </ul>
            }
        </section>
    }
}
