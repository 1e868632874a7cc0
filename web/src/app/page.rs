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
