//! The page shown today: which broker the app would use, and an honest note that the MQTT client
//! is still being built.

use courtier_web::browser::page_location;
use courtier_web::location::{BrokerSource, broker_url};
use yew::{Html, function_component, html};

/// The root component.
#[function_component]
pub(crate) fn App() -> Html {
    let broker = match page_location() {
        Some(page) => broker_url(&page),
        None => {
            return html! { <main><h1>{ "Courtier" }</h1><p>{ "No page address is available." }</p></main> };
        }
    };
    let broker_line = match broker {
        Ok(url) => {
            let why = match url.source() {
                BrokerSource::PageOrigin => "the MQTT endpoint of the server that served this page",
                BrokerSource::QueryParameter => "given by ?broker= in the address",
            };
            html! { <p>{ "Broker: " }<code id="broker-url">{ url.as_str() }</code>{ format!(" ({why})") }</p> }
        }
        Err(error) => html! { <p class="error" id="broker-error">{ error.to_string() }</p> },
    };
    html! {
        <main>
            <h1>{ "Courtier" }</h1>
            <p>{ "MQTT over WebSocket, from the browser." }</p>
            { broker_line }
            <p>{ "The in-browser MQTT client (connect, subscribe, publish) is being built; \
                  this page does not connect yet." }</p>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::App;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn shows_the_broker_of_the_serving_origin() {
        let window = web_sys::window().expect("browser tests run in a window");
        let document = window.document().expect("a window has a document");
        let root = document.create_element("div").expect("div");
        document
            .body()
            .expect("the test page has a body")
            .append_child(&root)
            .expect("append the app root");

        yew::Renderer::<App>::with_root(root.clone()).render();
        yew::scheduler::flush().await;

        let host = window.location().host().expect("location.host");
        let shown = document
            .get_element_by_id("broker-url")
            .and_then(|code| code.text_content());
        assert_eq!(shown, Some(format!("ws://{host}/mqtt")));
        let text = root.text_content().unwrap_or_default();
        assert!(text.contains("does not connect yet"), "page text: {text}");
    }
}
