//! Labelled form controls: every input has a `<label>` tied to it, so screen readers and
//! keyboard users get the same form as everyone else.

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

/// Properties of [`TextField`].
#[derive(Properties, PartialEq)]
pub(crate) struct TextFieldProps {
    /// Element id (also ties the label).
    pub(crate) id: AttrValue,
    /// Visible label.
    pub(crate) label: AttrValue,
    /// Current value.
    pub(crate) value: AttrValue,
    /// Called with the new value on every keystroke.
    pub(crate) oninput: Callback<String>,
    /// Input type (`text`, `password`, `number`).
    #[prop_or(AttrValue::Static("text"))]
    pub(crate) kind: AttrValue,
    /// Placeholder.
    #[prop_or_default]
    pub(crate) placeholder: AttrValue,
    /// Render a multi-line text area instead.
    #[prop_or_default]
    pub(crate) multiline: bool,
}

/// A labelled text input or text area.
#[function_component]
pub(crate) fn TextField(props: &TextFieldProps) -> Html {
    let control = if props.multiline {
        let oninput = props
            .oninput
            .reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value());
        html! {
            <textarea id={props.id.clone()} value={props.value.clone()} {oninput}
                placeholder={props.placeholder.clone()} rows="3" spellcheck="false" />
        }
    } else {
        let oninput = props
            .oninput
            .reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
        html! {
            <input id={props.id.clone()} type={props.kind.clone()} value={props.value.clone()}
                {oninput} placeholder={props.placeholder.clone()} autocomplete="off" spellcheck="false" />
        }
    };
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            { control }
        </div>
    }
}

/// Properties of [`Check`].
#[derive(Properties, PartialEq)]
pub(crate) struct CheckProps {
    /// Element id.
    pub(crate) id: AttrValue,
    /// Visible label.
    pub(crate) label: AttrValue,
    /// Whether it is ticked.
    pub(crate) checked: bool,
    /// Called with the new state.
    pub(crate) onchange: Callback<bool>,
}

/// A labelled checkbox.
#[function_component]
pub(crate) fn Check(props: &CheckProps) -> Html {
    let onchange = props
        .onchange
        .reform(|e: Event| e.target_unchecked_into::<HtmlInputElement>().checked());
    html! {
        <label class="check" for={props.id.clone()}>
            <input id={props.id.clone()} type="checkbox" checked={props.checked} {onchange} />
            { props.label.clone() }
        </label>
    }
}

/// Properties of [`Choice`].
#[derive(Properties, PartialEq)]
pub(crate) struct ChoiceProps {
    /// Element id.
    pub(crate) id: AttrValue,
    /// Visible label.
    pub(crate) label: AttrValue,
    /// `(value, label)` pairs.
    pub(crate) options: Vec<(AttrValue, AttrValue)>,
    /// The selected value.
    pub(crate) value: AttrValue,
    /// Called with the chosen value.
    pub(crate) onchange: Callback<String>,
}

/// A labelled drop-down.
#[function_component]
pub(crate) fn Choice(props: &ChoiceProps) -> Html {
    let onchange = props
        .onchange
        .reform(|e: Event| e.target_unchecked_into::<HtmlSelectElement>().value());
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <select id={props.id.clone()} {onchange}>
                { for props.options.iter().map(|(value, label)| html! {
                    <option value={value.clone()} selected={*value == props.value}>{ label.clone() }</option>
                }) }
            </select>
        </div>
    }
}

/// The QoS choices.
pub(crate) fn qos_options() -> Vec<(AttrValue, AttrValue)> {
    vec![
        ("0".into(), "QoS 0 — at most once".into()),
        ("1".into(), "QoS 1 — at least once".into()),
        ("2".into(), "QoS 2 — exactly once".into()),
    ]
}
