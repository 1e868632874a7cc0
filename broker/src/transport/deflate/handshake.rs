//! The opening handshake of our WebSocket path: is this a valid HTTP/1.1
//! WebSocket upgrade (RFC 6455 section 4.2.1), which MQTT subprotocol, which
//! permessage-deflate offer we accept (RFC 7692 section 7.1), and the
//! `Sec-WebSocket-Accept` key. Pure functions over the request head.

use axum::http::{HeaderMap, Method, Version, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID every server appends to the client's key (RFC 6455 section 1.3).
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The extension this module speaks.
const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// What the 101 answer needs once we take the upgrade ourselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateHandshake {
    /// The `Sec-WebSocket-Accept` value.
    pub accept: String,
    /// The MQTT subprotocol chosen, `None` when the client offered none we
    /// speak (the caller refuses with 400, as on the plain path).
    pub protocol: Option<&'static str>,
    /// The `Sec-WebSocket-Extensions` value of the answer, `None` when the
    /// client offered no permessage-deflate we accept (plain frames then).
    pub extension: Option<String>,
}

impl DeflateHandshake {
    /// The handshake for a request that is a valid HTTP/1.1 WebSocket
    /// upgrade; `None` for anything else, which is left to axum's
    /// `WebSocketUpgrade` (tungstenite) with its own refusals.
    pub fn from_request(
        method: &Method,
        version: Version,
        headers: &HeaderMap,
        subprotocols: &[&'static str],
    ) -> Option<Self> {
        // HTTP/2 WebSockets (RFC 8441, extended CONNECT) stay on the plain path.
        if method != Method::GET || version != Version::HTTP_11 {
            return None;
        }
        let has_token = |name: header::HeaderName, token: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if !has_token(header::UPGRADE, "websocket")
            || !has_token(header::CONNECTION, "upgrade")
            || headers.get(header::SEC_WEBSOCKET_VERSION)? != "13"
        {
            return None;
        }
        let key = headers.get(header::SEC_WEBSOCKET_KEY)?.as_bytes();
        // The key is a base64 nonce of 16 bytes (section 4.1, item 7).
        if STANDARD.decode(key).ok()?.len() != 16 {
            return None;
        }
        let extension = negotiate(
            headers
                .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        let protocol = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .find_map(|offered| subprotocols.iter().copied().find(|p| *p == offered));
        Some(Self {
            accept: accept_key(key),
            protocol,
            extension,
        })
    }
}

/// `Sec-WebSocket-Accept`: base64 of SHA-1 over the key and the GUID
/// (RFC 6455 section 4.2.2, item 5.4).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(WS_GUID);
    STANDARD.encode(sha.finalize())
}

/// The answer to the first acceptable permessage-deflate offer among the
/// `Sec-WebSocket-Extensions` header values, `None` if there is none.
///
/// We always answer `server_no_context_takeover; client_no_context_takeover`
/// (both allowed unoffered, RFC 7692 sections 7.1.1.1 and 7.1.1.2): every
/// message then stands alone, so no 32 KiB window per direction stays
/// allocated per idle connection, and the compressor and decompressor are
/// pooled and shared instead (see `codec`). An offer with
/// `server_max_window_bits` below 15 is declined (section 7.1.2.1 lets us):
/// flate2's Rust backend always compresses with a 32 KiB window.
pub fn negotiate<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    values
        .flat_map(|v| v.split(','))
        .filter_map(|offer| accept_offer(offer.trim()))
        .next()
}

/// The answer to one offer (`name; param; param=value`), `None` to decline.
fn accept_offer(offer: &str) -> Option<String> {
    let mut parts = offer.split(';').map(str::trim);
    if parts.next()? != PERMESSAGE_DEFLATE {
        return None;
    }
    let mut seen: Vec<&str> = Vec::with_capacity(4);
    let mut server_window_bits = None;
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        // A parameter given twice declines the offer (section 7, last paragraph).
        if seen.contains(&name) {
            return None;
        }
        seen.push(name);
        match (name, value) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(v)) => {
                let bits = window_bits(v)?;
                if bits < 15 {
                    return None;
                }
                server_window_bits = Some(bits);
            }
            // A hint that the client could use a smaller window: we inflate
            // any window up to 32 KiB, so we need not answer it.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(v)) => {
                window_bits(v)?;
            }
            _ => return None,
        }
    }
    let mut answer =
        format!("{PERMESSAGE_DEFLATE}; server_no_context_takeover; client_no_context_takeover");
    // An offered server_max_window_bits is accepted by echoing it (7.1.2.1).
    if let Some(bits) = server_window_bits {
        answer.push_str(&format!("; server_max_window_bits={bits}"));
    }
    Some(answer)
}

/// A window size parameter: a decimal 8 to 15 without leading zeros (7.1.2).
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') {
        return None;
    }
    value.parse().ok().filter(|b| (8..=15).contains(b))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const FULL: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    #[test]
    fn accept_key_matches_rfc_6455_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    fn check(offers: &[&str], expect: Option<&str>) {
        assert_eq!(
            negotiate(offers.iter().copied()).as_deref(),
            expect,
            "{offers:?}"
        );
    }

    #[test]
    fn negotiation_follows_rfc_7692() {
        check(&["permessage-deflate"], Some(FULL));
        // What browsers and node's `ws` offer.
        check(&["permessage-deflate; client_max_window_bits"], Some(FULL));
        check(
            &["permessage-deflate; client_max_window_bits=10"],
            Some(FULL),
        );
        check(
            &["permessage-deflate;server_no_context_takeover"],
            Some(FULL),
        );
        check(
            &["permessage-deflate; server_max_window_bits=15"],
            Some(&format!("{FULL}; server_max_window_bits=15")),
        );
        check(
            &["permessage-deflate; server_max_window_bits=\"15\""],
            Some(&format!("{FULL}; server_max_window_bits=15")),
        );
        // Declined: a smaller server window, bad values, duplicates, unknown params.
        check(&["permessage-deflate; server_max_window_bits=10"], None);
        check(&["permessage-deflate; server_max_window_bits"], None);
        check(&["permessage-deflate; client_max_window_bits=16"], None);
        check(&["permessage-deflate; client_max_window_bits=09"], None);
        check(&["permessage-deflate; server_no_context_takeover=1"], None);
        check(
            &["permessage-deflate; client_no_context_takeover; client_no_context_takeover"],
            None,
        );
        check(&["permessage-deflate; x_custom"], None);
        check(&["x-webkit-deflate-frame"], None);
        check(&[], None);
        // The first acceptable offer wins, across values and list elements.
        check(
            &[
                "permessage-deflate; server_max_window_bits=10, permessage-deflate",
                "permessage-deflate; server_max_window_bits=15",
            ],
            Some(FULL),
        );
        check(&["foo", "permessage-deflate"], Some(FULL));
    }

    fn request(extra: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            (
                "sec-websocket-extensions",
                "permessage-deflate; client_max_window_bits",
            ),
            ("sec-websocket-protocol", "foo, mqttv3.1, mqtt"),
        ] {
            h.insert(n, HeaderValue::from_static(v));
        }
        for (n, v) in extra {
            h.insert(*n, HeaderValue::from_static(v));
        }
        h
    }

    const PROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

    fn handshake(
        method: Method,
        version: Version,
        headers: &HeaderMap,
    ) -> Option<DeflateHandshake> {
        DeflateHandshake::from_request(&method, version, headers, &PROTOCOLS)
    }

    #[test]
    fn a_valid_upgrade_offering_deflate_is_taken() {
        let h = handshake(Method::GET, Version::HTTP_11, &request(&[])).expect("taken");
        assert_eq!(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        // The client's order decides among the protocols we speak.
        assert_eq!(h.protocol, Some("mqttv3.1"));
        assert_eq!(h.extension.as_deref(), Some(FULL));
        let plain = request(&[("sec-websocket-extensions", "x-webkit-deflate-frame")]);
        let h = handshake(Method::GET, Version::HTTP_11, &plain).expect("taken");
        assert_eq!(h.extension, None, "no deflate: plain frames");
        let none = request(&[("sec-websocket-protocol", "foo")]);
        assert_eq!(
            handshake(Method::GET, Version::HTTP_11, &none).map(|h| h.protocol),
            Some(None)
        );
    }

    #[test]
    fn anything_else_is_left_to_the_plain_path() {
        let cases = [
            (Method::POST, Version::HTTP_11, request(&[])),
            (Method::GET, Version::HTTP_10, request(&[])),
            (
                Method::GET,
                Version::HTTP_11,
                request(&[("upgrade", "h2c")]),
            ),
            (
                Method::GET,
                Version::HTTP_11,
                request(&[("connection", "close")]),
            ),
            (
                Method::GET,
                Version::HTTP_11,
                request(&[("sec-websocket-version", "8")]),
            ),
            (
                Method::GET,
                Version::HTTP_11,
                request(&[("sec-websocket-key", "c2hvcnQ=")]),
            ),
        ];
        for (method, version, headers) in cases {
            assert_eq!(
                handshake(method.clone(), version, &headers),
                None,
                "{method} {version:?} {headers:?}"
            );
        }
    }
}
