//! Access to the page the app runs in; compiled only for wasm32 so the host build stays lean.

use crate::location::PageLocation;

/// Reads the current page's `window.location`.
///
/// Returns `None` outside a window context (e.g. in a worker), where there is no page address to
/// derive a broker from.
pub fn page_location() -> Option<PageLocation> {
    let location = web_sys::window()?.location();
    Some(PageLocation {
        protocol: location.protocol().ok()?,
        host: location.host().ok()?,
        search: location.search().ok()?,
    })
}
