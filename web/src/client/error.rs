//! [`ClientError`]: why the browser driver refused a call or could not open a connection.

use courtier_proto::TopicError;
use courtier_proto::reason::ReasonCode;
use courtier_proto::session::SessionError;

/// Why a [`super`] call failed. Failures of a request that was accepted arrive later, in the
/// session's completion events; this enum is only for what can be said at call time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The broker address is not a WebSocket URL the browser can open.
    #[error(
        "`{0}` is not a broker URL: it must be ws://host[:port]/path or wss://host[:port]/path"
    )]
    InvalidUrl(String),
    /// An `https:` page asked for a `ws://` broker: the browser blocks the socket as mixed
    /// content before any byte is sent, so say why here instead of failing silently.
    #[error(
        "this page was loaded over {page}, so the browser blocks the unencrypted WebSocket \
         {broker} (mixed content): use a wss:// broker URL, or open the page from the broker \
         itself over http"
    )]
    MixedContent {
        /// The page's scheme, e.g. `https:`.
        page: String,
        /// The refused broker URL.
        broker: String,
    },
    /// The session refused the call (not connected, queue full, a server limit...).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The browser refused to create the WebSocket or to send on it.
    #[error("WebSocket error: {0}")]
    Socket(String),
    /// A topic name or filter that MQTT does not allow.
    #[error("invalid topic `{topic}`: {error}")]
    InvalidTopic {
        /// The topic as given.
        topic: String,
        /// Which rule it breaks.
        error: TopicError,
    },
}

impl ClientError {
    /// The MQTT reason code closest to this error, for interfaces that show codes (the
    /// embeddable client puts it on its JavaScript `Error` objects).
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Session(e) => e.reason_code(),
            Self::InvalidTopic { .. } => ReasonCode::TopicNameInvalid,
            Self::InvalidUrl(_) | Self::MixedContent { .. } | Self::Socket(_) => {
                ReasonCode::UnspecifiedError
            }
        }
    }
}
