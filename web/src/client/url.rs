//! Checks a broker URL before the browser sees it: a WebSocket scheme, a host, and no
//! mixed content. Pure, so the rules are unit-tested on the host.

use super::ClientError;

/// Checks that `url` is a `ws://` or `wss://` URL with a host, and that a page loaded with
/// `page_protocol` (e.g. `"https:"`, as `window.location.protocol` spells it) may open it.
///
/// Browsers block a `ws://` socket from an `https:` page (Mixed Content, "block-all" for
/// WebSockets) unless the host is loopback, which counts as potentially trustworthy; the
/// browser's own error is a bare `error` event, so the reason is given here.
pub fn check_broker_url(url: &str, page_protocol: Option<&str>) -> Result<(), ClientError> {
    let invalid = || ClientError::InvalidUrl(url.to_owned());
    let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "wss://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(url, "ws://") {
        (false, rest)
    } else {
        return Err(invalid());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in the URL are not sent by browsers' WebSocket API; refuse them rather
    // than silently dropping them.
    if authority.is_empty() || authority.contains('@') || url.contains(char::is_whitespace) {
        return Err(invalid());
    }
    let host = host_of(authority);
    if host.is_empty() {
        return Err(invalid());
    }
    if !secure && page_protocol == Some("https:") && !is_loopback(host) {
        return Err(ClientError::MixedContent {
            page: "https:".to_owned(),
            broker: url.to_owned(),
        });
    }
    Ok(())
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The host of `host[:port]` or `[v6][:port]`, brackets kept off.
fn host_of(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, page: Option<&str>, expected: Result<(), ClientError>) {
        assert_eq!(check_broker_url(url, page), expected, "{url} from {page:?}");
    }

    fn invalid(url: &str) -> Result<(), ClientError> {
        Err(ClientError::InvalidUrl(url.to_owned()))
    }

    #[test]
    fn websocket_urls_are_accepted() {
        for url in [
            "ws://127.0.0.1:8080/mqtt",
            "wss://broker.example.com/mqtt",
            "WSS://broker.example.com:8884",
            "ws://[::1]:9001/mqtt",
            "ws://host?x=1",
        ] {
            check(url, Some("http:"), Ok(()));
        }
    }

    #[test]
    fn other_urls_are_refused() {
        for url in [
            "http://h/mqtt",
            "mqtt://h:1883",
            "ws://",
            "ws:///mqtt",
            "wss://:8080/mqtt",
            "ws://user:pw@h/mqtt",
            "ws://h /mqtt",
            "",
            "w",
        ] {
            check(url, None, invalid(url));
        }
    }

    #[test]
    fn https_page_refuses_plain_ws_with_the_reason() {
        check(
            "ws://broker.example.com:8080/mqtt",
            Some("https:"),
            Err(ClientError::MixedContent {
                page: "https:".to_owned(),
                broker: "ws://broker.example.com:8080/mqtt".to_owned(),
            }),
        );
        let message = check_broker_url("ws://b/mqtt", Some("https:"))
            .unwrap_err()
            .to_string();
        assert!(message.contains("wss://"), "{message}");
        assert!(
            message.contains("open the page from the broker"),
            "{message}"
        );
    }

    #[test]
    fn https_page_may_use_wss_and_loopback_ws() {
        check("wss://b/mqtt", Some("https:"), Ok(()));
        for url in [
            "ws://localhost:8080/mqtt",
            "ws://127.0.0.2/mqtt",
            "ws://[::1]/mqtt",
            "ws://app.localhost/mqtt",
        ] {
            check(url, Some("https:"), Ok(()));
        }
    }

    #[test]
    fn file_pages_may_use_ws() {
        check("ws://b/mqtt", Some("file:"), Ok(()));
    }
}
