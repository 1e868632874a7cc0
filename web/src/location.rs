//! Which broker the app connects to: the `/mqtt` endpoint of the origin that served the page,
//! unless the page address carries `?broker=ws(s)://…`.
//!
//! Kept free of `web-sys` so the rules are unit-tested natively; `browser` feeds it the real
//! `window.location`.

use std::fmt;

/// Path of the broker's MQTT-over-WebSocket endpoint, relative to the origin serving the app.
pub const MQTT_PATH: &str = "/mqtt";

/// The parts of a page address that decide the broker URL, as `window.location` spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLocation {
    /// Scheme with its trailing colon, e.g. `"https:"`.
    pub protocol: String,
    /// Host name and optional port, e.g. `"example.com:8080"`; empty for `file:` pages.
    pub host: String,
    /// Query string including the leading `?`, or empty.
    pub search: String,
}

/// Where the broker URL came from, so the page can tell the user why it is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerSource {
    /// Derived from the origin that served the page.
    PageOrigin,
    /// Given by the `?broker=` query parameter.
    QueryParameter,
}

/// A WebSocket URL the client can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    url: String,
    source: BrokerSource,
}

impl BrokerUrl {
    /// The `ws://` or `wss://` URL.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Whether the URL was derived or given.
    pub fn source(&self) -> BrokerSource {
        self.source
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// Why no broker URL could be derived; each message tells the user what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrokerUrlError {
    /// The page was not served over HTTP(S), so it has no origin hosting an MQTT endpoint.
    #[error(
        "the page was loaded over `{0}`, which has no broker behind it: open it from the broker \
         or add ?broker=ws://host:port/mqtt to the address"
    )]
    NoHttpOrigin(String),
    /// `?broker=` named something other than a WebSocket URL.
    #[error("?broker= must be a ws:// or wss:// URL with a host, got `{0}`")]
    NotWebSocket(String),
    /// `?broker=` contained a broken percent escape or non-UTF-8 bytes.
    #[error("?broker= is not valid percent-encoded UTF-8")]
    BadEncoding,
}

/// Derives the broker URL for a page: `?broker=` wins, else `ws://host/mqtt` for an `http:` page
/// and `wss://host/mqtt` for an `https:` page (browsers block `ws://` from `https:` pages).
pub fn broker_url(page: &PageLocation) -> Result<BrokerUrl, BrokerUrlError> {
    if let Some(given) = query_parameter(&page.search, "broker")?
        && !given.is_empty()
    {
        return validate_ws_url(given).map(|url| BrokerUrl {
            url,
            source: BrokerSource::QueryParameter,
        });
    }
    let scheme = match page.protocol.as_str() {
        "http:" => "ws",
        "https:" => "wss",
        other => return Err(BrokerUrlError::NoHttpOrigin(other.to_owned())),
    };
    if page.host.is_empty() {
        return Err(BrokerUrlError::NoHttpOrigin(page.protocol.clone()));
    }
    Ok(BrokerUrl {
        url: format!("{scheme}://{}{MQTT_PATH}", page.host),
        source: BrokerSource::PageOrigin,
    })
}

fn validate_ws_url(url: String) -> Result<String, BrokerUrlError> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("wss://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(url),
        _ => Err(BrokerUrlError::NotWebSocket(url)),
    }
}

/// Returns the first value of `name` in a `?a=b&c=d` query string, percent-decoded with `+` read
/// as a space (the `application/x-www-form-urlencoded` rules a browser form would use).
fn query_parameter(search: &str, name: &str) -> Result<Option<String>, BrokerUrlError> {
    let query = search.strip_prefix('?').unwrap_or(search);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if form_decode(key)? == name {
            return form_decode(value).map(Some);
        }
    }
    Ok(None)
}

fn form_decode(text: &str) -> Result<String, BrokerUrlError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        bytes.push(match byte {
            b'+' => b' ',
            b'%' => {
                let high = input.next().and_then(hex_value);
                let low = input.next().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => high << 4 | low,
                    _ => return Err(BrokerUrlError::BadEncoding),
                }
            }
            other => other,
        });
    }
    String::from_utf8(bytes).map_err(|_| BrokerUrlError::BadEncoding)
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        protocol: &str,
        host: &str,
        search: &str,
        expected: Result<(&str, BrokerSource), BrokerUrlError>,
    ) {
        let page = PageLocation {
            protocol: protocol.to_owned(),
            host: host.to_owned(),
            search: search.to_owned(),
        };
        let actual = broker_url(&page).map(|url| (url.as_str().to_owned(), url.source()));
        let expected = expected.map(|(url, source)| (url.to_owned(), source));
        assert_eq!(actual, expected, "page {page:?}");
    }

    #[test]
    fn http_page_uses_ws_on_same_host_and_port() {
        check(
            "http:",
            "127.0.0.1:8080",
            "",
            Ok(("ws://127.0.0.1:8080/mqtt", BrokerSource::PageOrigin)),
        );
    }

    #[test]
    fn https_page_uses_wss() {
        check(
            "https:",
            "mqtt.example.com",
            "?theme=dark",
            Ok(("wss://mqtt.example.com/mqtt", BrokerSource::PageOrigin)),
        );
    }

    #[test]
    fn query_parameter_overrides_origin() {
        check(
            "https:",
            "cdn.example.com",
            "?theme=dark&broker=wss%3A%2F%2Fbroker.example.com%3A8884%2Fmqtt&broker=ws://ignored",
            Ok((
                "wss://broker.example.com:8884/mqtt",
                BrokerSource::QueryParameter,
            )),
        );
        check(
            "http:",
            "localhost",
            "?broker=ws://10.0.0.2:9001",
            Ok(("ws://10.0.0.2:9001", BrokerSource::QueryParameter)),
        );
    }

    #[test]
    fn empty_query_parameter_falls_back_to_origin() {
        check(
            "http:",
            "localhost:8080",
            "?broker=",
            Ok(("ws://localhost:8080/mqtt", BrokerSource::PageOrigin)),
        );
    }

    #[test]
    fn file_page_without_parameter_is_refused() {
        check(
            "file:",
            "",
            "",
            Err(BrokerUrlError::NoHttpOrigin("file:".to_owned())),
        );
        check(
            "http:",
            "",
            "",
            Err(BrokerUrlError::NoHttpOrigin("http:".to_owned())),
        );
    }

    #[test]
    fn file_page_with_parameter_works() {
        check(
            "file:",
            "",
            "?broker=ws%3a//localhost:8080/mqtt",
            Ok(("ws://localhost:8080/mqtt", BrokerSource::QueryParameter)),
        );
    }

    #[test]
    fn non_websocket_parameter_is_refused() {
        check(
            "http:",
            "h",
            "?broker=http://h/mqtt",
            Err(BrokerUrlError::NotWebSocket("http://h/mqtt".to_owned())),
        );
        check(
            "http:",
            "h",
            "?broker=ws://",
            Err(BrokerUrlError::NotWebSocket("ws://".to_owned())),
        );
        check(
            "http:",
            "h",
            "?broker=wss:///mqtt",
            Err(BrokerUrlError::NotWebSocket("wss:///mqtt".to_owned())),
        );
    }

    #[test]
    fn broken_encoding_is_refused() {
        check(
            "http:",
            "h",
            "?broker=ws://h%2",
            Err(BrokerUrlError::BadEncoding),
        );
        check(
            "http:",
            "h",
            "?broker=ws://h%zz",
            Err(BrokerUrlError::BadEncoding),
        );
        check(
            "http:",
            "h",
            "?broker=ws://h%ff",
            Err(BrokerUrlError::BadEncoding),
        );
    }

    #[test]
    fn plus_decodes_to_space() {
        assert_eq!(form_decode("a+b%20c"), Ok("a b c".to_owned()));
    }
}
