//! The optional Origin allow-list of the WebSocket endpoint.
//!
//! By default any page may connect: embedding the client in other sites is
//! a core use. With `--ws-allowed-origin`, a browser handshake whose
//! `Origin` is not listed gets 403. A handshake without `Origin` is let
//! through: browsers always send it, so its absence means a non-browser
//! client, which an origin check cannot restrict anyway (RFC 6455 section
//! 10.2).

use axum::http::HeaderMap;
use axum::http::header::ORIGIN;

/// An origin as compared: ASCII lower case, without a trailing slash.
pub fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Whether a handshake with `headers` may proceed under `allowed`
/// (normalized; empty = any origin).
pub fn allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    origin
        .to_str()
        .is_ok_and(|o| allowed.iter().any(|a| *a == normalize(o)))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, HeaderValue::from_str(origin).expect("header"));
        h
    }

    #[test]
    fn check() {
        let list = vec![normalize("https://App.example/")];
        assert!(allowed(&with_origin("https://app.example"), &list));
        assert!(allowed(&with_origin("HTTPS://APP.EXAMPLE"), &list));
        assert!(!allowed(&with_origin("https://evil.example"), &list));
        assert!(!allowed(&with_origin("https://app.example:8443"), &list));
        assert!(!allowed(&with_origin("null"), &list));
        assert!(allowed(&HeaderMap::new(), &list), "non-browser client");
        assert!(allowed(&with_origin("https://any.example"), &[]), "no list");
    }
}
