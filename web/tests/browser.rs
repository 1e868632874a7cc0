//! Runs in headless Chromium (`cargo xtask test`): proves the wasm test pipeline and that the
//! broker URL is derived from the real `window.location`.
#![cfg(target_arch = "wasm32")]

use courtier_web::browser::page_location;
use courtier_web::location::{BrokerSource, broker_url};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn broker_url_follows_the_page_origin() {
    let page = page_location().expect("a browser test runs in a window");
    // wasm-bindgen-test-runner serves the test page over plain HTTP on a local port.
    assert_eq!(page.protocol, "http:");
    assert!(!page.host.is_empty());
    let url = broker_url(&page).expect("an http page has a default broker");
    assert_eq!(url.as_str(), format!("ws://{}/mqtt", page.host));
    assert_eq!(url.source(), BrokerSource::PageOrigin);
}
