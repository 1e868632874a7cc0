//! Courtier in the browser.
