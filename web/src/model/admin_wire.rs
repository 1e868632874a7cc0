//! The broker's admin API as the browser sees it: where it lives, the JSON it answers with,
//! and every failure turned into words a person can act on.
//!
//! Pure, so the rules (address, path encoding, status to words) are unit-tested on the host;
//! `crate::admin_api` only sends the requests these build and feeds the answers back here.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The API's path prefix on the broker's HTTP listener.
pub const API_PREFIX: &str = "/api/v1";

/// `GET /api/v1/overview`: the broker at a glance (field names as the broker sends them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Overview {
    /// `courtier` and its version.
    pub version: String,
    /// Seconds since the broker started.
    pub uptime_seconds: u64,
    /// Clients connected now.
    pub clients_connected: u64,
    /// Sessions held, connected or not.
    pub sessions: u64,
    /// Subscriptions in the tree.
    pub subscriptions: u64,
    /// Topics with a retained message.
    pub retained_messages: u64,
    /// Network connections accepted since start.
    pub connections_total: u64,
    /// Connections refused at the connection limit.
    pub connections_refused: u64,
    /// CONNECTs refused by authentication.
    pub auth_failures: u64,
    /// PUBLISH packets received.
    pub messages_received: u64,
    /// PUBLISH packets sent.
    pub messages_sent: u64,
    /// Bytes read from clients.
    pub bytes_received: u64,
    /// Bytes written to clients.
    pub bytes_sent: u64,
    /// PUBLISH packets refused (`$SYS`, ACL).
    pub publishes_refused: u64,
    /// Subscriptions refused by the ACL.
    pub subscriptions_refused: u64,
    /// Messages not delivered, by reason.
    pub dropped: Dropped,
}

/// Messages the broker could not deliver, by reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Dropped {
    /// A session queue was full.
    pub queue_full: u64,
    /// QoS 0 for an offline session.
    pub offline_qos0: u64,
    /// Larger than the subscriber's Maximum Packet Size.
    pub too_large: u64,
    /// Expired before delivery.
    pub expired: u64,
}

impl Dropped {
    /// Every drop, whatever the reason.
    pub fn total(&self) -> u64 {
        self.queue_full + self.offline_qos0 + self.too_large + self.expired
    }
}

/// One page of a listing: every list the API returns is bounded and ordered by key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listing<T> {
    /// Items in all pages.
    #[serde(default)]
    pub total: usize,
    /// This page.
    pub items: Vec<T>,
    /// The key to continue after; `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self {
            total: 0,
            items: Vec::new(),
            next: None,
        }
    }
}

/// `GET /api/v1/clients`: one connected client.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct ClientView {
    /// The client identifier.
    pub client_id: String,
    /// The user name authorization decides for.
    pub username: Option<String>,
    /// `ip:port`.
    pub peer: String,
    /// `3.1`, `3.1.1` or `5.0`.
    pub protocol: String,
    /// When it connected, Unix seconds.
    pub connected_since: u64,
    /// Keep alive, seconds (0 = off).
    pub keep_alive: u16,
    /// Subscriptions of its session.
    pub subscriptions: usize,
    /// Messages queued for it.
    pub queued: usize,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub inflight: usize,
}

/// `GET /api/v1/sessions`: one session, connected or kept for a client that may come back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct SessionView {
    /// The client identifier.
    pub client_id: String,
    /// Whether a connection is attached.
    pub connected: bool,
    /// Session Expiry Interval, seconds; `None`: never expires.
    pub expiry_interval: Option<u32>,
    /// Offline: seconds until it expires, if it does.
    pub expires_in: Option<u64>,
    /// Messages queued, not yet sent.
    pub queued: usize,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub inflight: usize,
    /// Its subscriptions.
    pub subscriptions: usize,
    /// Messages meant for it and dropped.
    pub dropped: u32,
}

impl SessionView {
    /// When the session ends, in words.
    pub fn expiry(&self) -> String {
        let after = |s: u64| crate::model::chart::duration(s * 1000);
        match (self.connected, self.expiry_interval, self.expires_in) {
            (_, None, _) => "never".to_owned(),
            (true, Some(0), _) => "when it disconnects".to_owned(),
            (true, Some(s), _) => format!("{} after it disconnects", after(u64::from(s))),
            (false, Some(_), Some(left)) => format!("in {}", after(left)),
            (false, Some(_), None) => "soon".to_owned(),
        }
    }
}

/// `GET /api/v1/retained`: one retained message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct RetainedView {
    /// Its topic.
    pub topic: String,
    /// The payload's beginning, as text or base64 (see `encoding`).
    pub payload: String,
    /// `utf8` or `base64`.
    pub encoding: String,
    /// Whether `payload` is only the beginning.
    pub truncated: bool,
    /// The QoS it was published with.
    pub qos: u8,
    /// The payload's full size in bytes.
    pub size: usize,
}

impl RetainedView {
    /// The payload as shown: text as is, binary marked as base64, a cut one with `…`.
    pub fn shown_payload(&self) -> String {
        let more = if self.truncated { "…" } else { "" };
        if self.encoding == "base64" {
            format!("base64:{}{more}", self.payload)
        } else {
            format!("{}{more}", self.payload)
        }
    }
}

/// `GET /api/v1/retained`: a bounded sample of the messages matching a filter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct RetainedListing {
    /// The messages, by topic.
    pub items: Vec<RetainedView>,
    /// Whether more match than were returned (narrow the filter to see them).
    pub more: bool,
}

/// `GET /api/v1/users`: one page of the password file's user names, and the broker's
/// password rules in words.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct UsersListing {
    /// Users in all pages.
    pub total: usize,
    /// This page's user names, sorted.
    pub items: Vec<String>,
    /// The key to continue after; `None` on the last page.
    pub next: Option<String>,
    /// The rules a new password must meet, as the broker words them.
    pub password_rules: Vec<String>,
}

/// Why an admin request failed, each in words that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// 401: the token is not the broker's.
    #[error("wrong admin token")]
    WrongToken,
    /// 404 from the API itself: the broker runs without an admin token.
    #[error("admin API not enabled: start courtier with --admin-token")]
    NotEnabled,
    /// No address to send the request to (a page not served over HTTP, no broker URL).
    #[error("no broker address: open this page from the broker or enter a ws:// broker URL")]
    NoAddress,
    /// The request never got an answer.
    #[error("the broker at {0} did not answer; is it running?")]
    Unreachable(String),
    /// The broker refused the request and said why (`{"error": "..."}`).
    #[error("{message} (HTTP {status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The broker's words.
        message: String,
    },
    /// The form breaks a rule the broker would refuse it for; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// The answer was not the JSON expected.
    #[error("unexpected answer from the broker: {0}")]
    BadAnswer(String),
}

/// The `error` field of a refusal's body, if it has one.
fn error_message(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: String,
    }
    serde_json::from_str::<Body>(body).ok().map(|b| b.error)
}

/// The failure an answer with HTTP `status` and `body` stands for, if it is one.
///
/// A 404 is ambiguous: the broker answers it to every admin route when no token is configured,
/// and to a request naming something that does not exist (a client gone, a retained topic
/// emptied). Only requests that name an item (`names_item`) can mean the latter, and then the
/// broker says which in its JSON body.
pub fn failure(status: u16, body: &str, names_item: bool) -> Option<AdminError> {
    match status {
        200..=299 => None,
        401 => Some(AdminError::WrongToken),
        404 if !names_item => Some(AdminError::NotEnabled),
        _ => Some(match error_message(body) {
            Some(message) => AdminError::Refused { status, message },
            None if status == 404 => AdminError::NotEnabled,
            None => AdminError::Refused {
                status,
                message: format!("the broker refused the request: {}", body.trim()),
            },
        }),
    }
}

/// Decodes a successful answer's JSON, or the failure it stands for.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, AdminError> {
    if let Some(error) = failure(status, body, false) {
        return Err(error);
    }
    serde_json::from_str(body).map_err(|e| AdminError::BadAnswer(e.to_string()))
}

/// The HTTP origin of the admin API: the broker URL's host (`ws:` → `http:`, `wss:` →
/// `https:`) when it is a WebSocket URL, else the origin that served the page (`protocol` as
/// `window.location` spells it, `"http:"`), else `None`.
pub fn api_origin(broker_url: &str, page_protocol: &str, page_host: &str) -> Option<String> {
    let broker_url = broker_url.trim();
    let from_broker = [("ws://", "http://"), ("wss://", "https://")]
        .into_iter()
        .find_map(|(ws, http)| {
            let host = broker_url.strip_prefix(ws)?.split(['/', '?', '#']).next()?;
            (!host.is_empty()).then(|| format!("{http}{host}"))
        });
    from_broker.or_else(|| {
        (matches!(page_protocol, "http:" | "https:") && !page_host.is_empty())
            .then(|| format!("{page_protocol}//{page_host}"))
    })
}

/// `text` percent-encoded for one path segment or query value: everything but RFC 3986's
/// unreserved characters is escaped, so `/`, `#`, `+` and `%` in topics survive the trip.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/api/v1/clients/{client_id}`.
pub fn client_path(client_id: &str) -> String {
    format!("{API_PREFIX}/clients/{}", encode_component(client_id))
}

/// `/api/v1/retained/{topic}`.
pub fn retained_path(topic: &str) -> String {
    format!("{API_PREFIX}/retained/{}", encode_component(topic))
}

/// `/api/v1/retained?filter=…&limit=…`.
pub fn retained_query(filter: &str, limit: usize) -> String {
    format!(
        "{API_PREFIX}/retained?filter={}&limit={limit}",
        encode_component(filter)
    )
}

/// `/api/v1/users/{username}`.
pub fn user_path(username: &str) -> String {
    format!("{API_PREFIX}/users/{}", encode_component(username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_what_to_do() {
        let cases = [
            (200, "{}", false, None),
            (401, r#"{"error":"x"}"#, false, Some("wrong admin token")),
            (
                404,
                "",
                false,
                Some("admin API not enabled: start courtier with --admin-token"),
            ),
            (
                404,
                "Not Found",
                true,
                Some("admin API not enabled: start courtier with --admin-token"),
            ),
            (
                404,
                r#"{"error":"no client `a` is connected"}"#,
                true,
                Some("no client `a` is connected (HTTP 404)"),
            ),
            (
                400,
                r#"{"error":"the password must have at least 8 characters"}"#,
                false,
                Some("the password must have at least 8 characters (HTTP 400)"),
            ),
            (
                500,
                "boom\n",
                false,
                Some("the broker refused the request: boom (HTTP 500)"),
            ),
        ];
        for (status, body, names_item, words) in cases {
            let got = failure(status, body, names_item).map(|e| e.to_string());
            assert_eq!(got.as_deref(), words, "{status} {body}");
        }
    }

    #[test]
    fn answers_decode_with_missing_fields_defaulted() {
        let overview: Overview = decode(
            200,
            r#"{"version":"courtier 0.1.0","messages_received":4,"dropped":{"queue_full":2,"expired":1},"new_field":true}"#,
        )
        .expect("decodes");
        assert_eq!(overview.messages_received, 4);
        assert_eq!(overview.dropped.total(), 3);
        let clients: Listing<ClientView> = decode(
            200,
            r#"{"total":1,"items":[{"client_id":"a","username":null,"peer":"10.0.0.1:1","protocol":"5.0","connected_since":7,"keep_alive":30,"subscriptions":2,"queued":0,"inflight":0}],"next":null}"#,
        )
        .expect("decodes");
        assert_eq!(clients.items[0].protocol, "5.0");
        let retained: RetainedListing = decode(
            200,
            r#"{"items":[{"topic":"a","payload":"AAE=","encoding":"base64","truncated":true,"qos":1,"size":5000}],"more":true}"#,
        )
        .expect("decodes");
        assert!(retained.more);
        assert_eq!(retained.items[0].shown_payload(), "base64:AAE=…");
        let users: UsersListing = decode(
            200,
            r#"{"total":2,"items":["alice","bob"],"next":null,"password_rules":["at least 8 characters"]}"#,
        )
        .expect("decodes");
        assert_eq!((users.total, users.items.len()), (2, 2));
        let sessions: Listing<SessionView> = decode(
            200,
            r#"{"total":1,"items":[{"client_id":"a","connected":false,"expiry_interval":3600,"expires_in":90,"queued":2,"inflight":0,"subscriptions":1,"dropped":0}],"next":null}"#,
        )
        .expect("decodes");
        assert_eq!(sessions.items[0].expiry(), "in 1m30s");
        let bad = decode::<Overview>(200, "not json").expect_err("bad");
        assert!(matches!(bad, AdminError::BadAnswer(_)));
        assert_eq!(decode::<Overview>(401, ""), Err(AdminError::WrongToken));
    }

    #[test]
    fn session_expiry_reads_as_words() {
        let session = |connected, expiry_interval, expires_in| SessionView {
            connected,
            expiry_interval,
            expires_in,
            ..SessionView::default()
        };
        let cases = [
            (session(true, None, None), "never"),
            (session(false, None, None), "never"),
            (session(true, Some(0), None), "when it disconnects"),
            (session(true, Some(300), None), "5m after it disconnects"),
            (session(false, Some(300), Some(42)), "in 42s"),
            (session(false, Some(300), None), "soon"),
        ];
        for (view, words) in cases {
            assert_eq!(view.expiry(), words, "{view:?}");
        }
    }

    #[test]
    fn the_api_is_found_from_the_broker_url_or_the_page() {
        let check = |broker: &str, protocol: &str, host: &str, expected: Option<&str>| {
            assert_eq!(
                api_origin(broker, protocol, host).as_deref(),
                expected,
                "{broker} {protocol}{host}"
            );
        };
        check(
            "ws://127.0.0.1:8080/mqtt",
            "http:",
            "x",
            Some("http://127.0.0.1:8080"),
        );
        check(
            " wss://b.example/mqtt?x ",
            "file:",
            "",
            Some("https://b.example"),
        );
        check(
            "ws:///mqtt",
            "https:",
            "p.example",
            Some("https://p.example"),
        );
        check("", "http:", "localhost:1", Some("http://localhost:1"));
        check("mqtt://b", "file:", "", None);
    }

    #[test]
    fn names_are_encoded_as_one_segment() {
        assert_eq!(
            retained_path("home/+/temp #1"),
            "/api/v1/retained/home%2F%2B%2Ftemp%20%231"
        );
        assert_eq!(client_path("a-b_c.d~é"), "/api/v1/clients/a-b_c.d~%C3%A9");
        assert_eq!(
            retained_query("#", 200),
            "/api/v1/retained?filter=%23&limit=200"
        );
        assert_eq!(user_path("bob%"), "/api/v1/users/bob%25");
    }
}
