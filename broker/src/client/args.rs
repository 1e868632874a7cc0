//! The `courtier pub` / `courtier sub` command lines (clap), with the
//! option letters of `mosquitto_pub` / `mosquitto_sub`, and their
//! translation into an [`Endpoint`] and the session's [`ClientOptions`].

use std::path::PathBuf;

use bytestring::ByteString;
use clap::{ArgAction, Args, Parser, Subcommand};
use courtier_proto::packet::{LastWill, WillProperties};
use courtier_proto::session::ClientOptions;
use courtier_proto::{ProtocolVersion, QoS, TopicName};

/// Why the command line cannot be used. One line each, naming the option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// `-L` is not `scheme://[user[:pass]@]host[:port][/path]`.
    #[error("-L {url}: {problem}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An option combination or value that cannot work.
    #[error("{0}")]
    Invalid(String),
}

/// The client subcommands of `courtier`.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Publish one message (or one per input line) and exit, like `mosquitto_pub`.
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Pub(PubArgs),
    /// Subscribe and print messages as they arrive, like `mosquitto_sub`.
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Sub(SubArgs),
}

/// A standalone parser for one client command, used by the unit tests (the
/// binary parses [`ClientCommand`] as a subcommand of its own parser).
#[derive(Debug, Parser)]
#[command(
    name = "courtier",
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct ClientCli {
    /// The command.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// Options shared by `pub` and `sub`: where to connect and how.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Print help (`-h` is the host, as in mosquitto's clients).
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Host to connect to (default localhost).
    #[arg(short = 'h', long, value_name = "HOST", conflicts_with = "url")]
    pub host: Option<String>,
    /// Port (default 1883; 8883 for mqtts://, 8080 for ws://, 443 for wss://).
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
    /// `mqtt[s]://[user[:pass]@]host[:port]/topic` or `ws[s]://[user[:pass]@]host[:port]/path`.
    #[arg(short = 'L', long, value_name = "URL")]
    pub url: Option<String>,
    /// Client identifier (default: assigned by the server; `courtier-<pid>` for MQTT 3.1).
    #[arg(short = 'i', long = "id", value_name = "ID")]
    pub client_id: Option<String>,
    /// User name.
    #[arg(short = 'u', long, value_name = "USER")]
    pub username: Option<String>,
    /// Password.
    #[arg(short = 'P', long = "pw", value_name = "PASS")]
    pub password: Option<String>,
    /// Protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31). Default 311.
    #[arg(short = 'V', long = "protocol-version", value_name = "VERSION", value_parser = parse_version, default_value = "311")]
    pub version: ProtocolVersion,
    /// Keep alive in seconds; 0 turns it off.
    #[arg(
        short = 'k',
        long = "keepalive",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    pub keep_alive: u16,
    /// Quality of service: 0, 1 or 2.
    #[arg(short = 'q', long, value_name = "QOS", value_parser = parse_qos, default_value = "0")]
    pub qos: QoS,
    /// Disable clean session / clean start: resume and keep the session (needs -i).
    #[arg(short = 'c', long = "disable-clean-session")]
    pub keep_session: bool,
    /// MQTT 5 Session Expiry Interval in seconds; -1 or ∞ for never
    /// (default: never with -c, else 0).
    #[arg(short = 'x', long = "session-expiry-interval", value_name = "SECONDS", value_parser = parse_expiry, allow_hyphen_values = true)]
    pub session_expiry: Option<u32>,
    /// Topic of the will message.
    #[arg(long, value_name = "TOPIC")]
    pub will_topic: Option<String>,
    /// Payload of the will message.
    #[arg(long, value_name = "PAYLOAD", requires = "will_topic")]
    pub will_payload: Option<String>,
    /// QoS of the will message.
    #[arg(long, value_name = "QOS", value_parser = parse_qos, requires = "will_topic")]
    pub will_qos: Option<QoS>,
    /// Retain the will message.
    #[arg(long, requires = "will_topic")]
    pub will_retain: bool,
    /// CA certificates (PEM) that sign the server's certificate, for mqtts:// and wss://.
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Do not check that the server certificate's name matches the host (as mosquitto's --insecure).
    #[arg(long)]
    pub insecure: bool,
    /// Print every packet sent and received, and session events, to stderr.
    #[arg(short = 'd', long)]
    pub debug: bool,
}

/// `courtier pub`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("payload_source").required(true).args(["message", "file", "null_message", "stdin_line", "stdin_file"])))]
pub struct PubArgs {
    /// Connection options.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic to publish to (or the path of an mqtt:// URL).
    #[arg(short = 't', long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// The message payload.
    #[arg(short = 'm', long, value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Send the contents of FILE as the message.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send a zero-length message.
    #[arg(short = 'n', long = "null-message")]
    pub null_message: bool,
    /// Send one message per line of standard input.
    #[arg(short = 'l', long = "stdin-line")]
    pub stdin_line: bool,
    /// Send all of standard input as one message.
    #[arg(short = 's', long = "stdin-file")]
    pub stdin_file: bool,
    /// Retain the message.
    #[arg(short = 'r', long)]
    pub retain: bool,
}

/// `courtier sub`.
#[derive(Debug, Clone, Args)]
pub struct SubArgs {
    /// Connection options.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Topic filter to subscribe to; repeatable.
    #[arg(short = 't', long, value_name = "TOPIC")]
    pub topic: Vec<String>,
    /// Print the topic, a space, then the payload.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Exit after COUNT messages.
    #[arg(short = 'C', long = "count", value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Exit (with code 27) if not done after SECONDS.
    #[arg(short = 'W', long = "timeout", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// Do not print stale retained messages (those with RETAIN set).
    #[arg(short = 'R', long = "remove-retained")]
    pub no_retained: bool,
}

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// MQTT over TCP.
    Mqtt,
    /// MQTT over TLS.
    Mqtts,
    /// MQTT over WebSocket.
    Ws,
    /// MQTT over WebSocket over TLS.
    Wss,
}

impl Scheme {
    /// The default port of the scheme.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Mqtt => 1883,
            Self::Mqtts => 8883,
            Self::Ws => 8080,
            Self::Wss => 443,
        }
    }

    /// Whether the scheme runs over TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Mqtts | Self::Wss)
    }
}

/// A parsed `-L` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The transport.
    pub scheme: Scheme,
    /// User name from the userinfo, percent-decoded.
    pub username: Option<String>,
    /// Password from the userinfo, percent-decoded.
    pub password: Option<String>,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// The path without its leading `/`: the topic for mqtt(s), the
    /// WebSocket path for ws(s).
    pub path: String,
}

/// Parse `scheme://[user[:pass]@]host[:port][/path]`.
pub fn parse_url(url: &str) -> Result<ParsedUrl, ArgsError> {
    let bad = |problem| ArgsError::Url {
        url: url.to_owned(),
        problem,
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected scheme://host, e.g. mqtt://localhost/topic"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "mqtt" => Scheme::Mqtt,
        "mqtts" => Scheme::Mqtts,
        "ws" => Scheme::Ws,
        "wss" => Scheme::Wss,
        _ => return Err(bad("unsupported scheme (use mqtt, mqtts, ws or wss)")),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = match u.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (u, None),
            };
            let decode =
                |s: &str| percent_decode(s).ok_or_else(|| bad("bad %-escape in user or password"));
            (Some(decode(user)?), pass.map(decode).transpose()?)
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in an IPv6 host"))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("expected :port after ]"))?,
                ),
            ),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = port
        .map(|p| {
            p.parse::<u16>()
                .map_err(|_| bad("port is not a number from 0 to 65535"))
        })
        .transpose()?;
    Ok(ParsedUrl {
        scheme,
        username,
        password,
        host: host.to_owned(),
        port,
        path: path.to_owned(),
    })
}

/// Decode `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_version(s: &str) -> Result<ProtocolVersion, String> {
    match s {
        "5" | "mqttv5" => Ok(ProtocolVersion::V5),
        "311" | "mqttv311" => Ok(ProtocolVersion::V3_1_1),
        "31" | "mqttv31" => Ok(ProtocolVersion::V3_1),
        _ => Err("expected 5, 311 or 31 (or mqttv5, mqttv311, mqttv31)".to_owned()),
    }
}

fn parse_qos(s: &str) -> Result<QoS, String> {
    s.parse::<u8>()
        .ok()
        .and_then(QoS::from_bits)
        .ok_or_else(|| "expected 0, 1 or 2".to_owned())
}

/// Seconds, or -1 / 4294967295 / ∞ for a session that never expires (3.1.2.11.2).
fn parse_expiry(s: &str) -> Result<u32, String> {
    match s {
        "-1" | "∞" => Ok(u32::MAX),
        _ => s
            .parse::<u32>()
            .map_err(|_| "expected seconds (0 to 4294967295), or -1 / ∞ for never".to_owned()),
    }
}

/// Where to connect: resolved from `-L`, `-h`, `-p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The transport.
    pub scheme: Scheme,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// WebSocket path (with its leading `/`); unused for mqtt(s).
    pub ws_path: String,
}

/// Everything a command needs to connect, resolved from [`ConnectArgs`].
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where.
    pub endpoint: Endpoint,
    /// The session's options.
    pub options: ClientOptions,
    /// The topic carried by an mqtt(s) URL's path, if any.
    pub url_topic: Option<String>,
}

impl ConnectArgs {
    /// Resolve the endpoint and the session options. `role` ("pub" or
    /// "sub") only appears in a generated MQTT 3.1 client identifier.
    pub fn resolve(&self, role: &str) -> Result<Resolved, ArgsError> {
        let url = self.url.as_deref().map(parse_url).transpose()?;
        let scheme = url.as_ref().map_or(Scheme::Mqtt, |u| u.scheme);
        let (host, url_port) = match &url {
            Some(u) => (u.host.clone(), u.port),
            None => (
                self.host.clone().unwrap_or_else(|| "localhost".to_owned()),
                None,
            ),
        };
        let port = self.port.or(url_port).unwrap_or(scheme.default_port());
        // A ws:// URL without a path means `/mqtt`, where Courtier serves MQTT.
        let (ws_path, url_topic) = match (&url, scheme) {
            (Some(u), Scheme::Ws | Scheme::Wss) if !u.path.is_empty() => {
                (format!("/{}", u.path), None)
            }
            (Some(u), Scheme::Mqtt | Scheme::Mqtts) if !u.path.is_empty() => {
                ("/mqtt".to_owned(), Some(u.path.clone()))
            }
            _ => ("/mqtt".to_owned(), None),
        };
        if !scheme.is_tls() && (self.cafile.is_some() || self.insecure) {
            return Err(ArgsError::Invalid(
                "--cafile and --insecure apply to mqtts:// and wss:// only (give -L mqtts://...)"
                    .into(),
            ));
        }

        let version = self.version;
        let client_id: ByteString = match &self.client_id {
            Some(id) => id.as_str().into(),
            None if self.keep_session => {
                return Err(ArgsError::Invalid(
                    "-c keeps a session, which needs a client identifier: give -i ID".into(),
                ));
            }
            // MQTT 3.1 has no server-assigned identifiers ([MQTT-3.1.3-6] is 3.1.1).
            None if version == ProtocolVersion::V3_1 => {
                format!("courtier-{role}-{}", std::process::id()).into()
            }
            None => ByteString::new(),
        };
        let mut options = ClientOptions::new(client_id);
        options.version = version;
        options.clean_start = !self.keep_session;
        options.keep_alive = self.keep_alive;
        options.username = self
            .username
            .clone()
            .or_else(|| url.as_ref().and_then(|u| u.username.clone()))
            .map(ByteString::from);
        options.password = self
            .password
            .clone()
            .or_else(|| url.as_ref().and_then(|u| u.password.clone()))
            .map(bytes::Bytes::from);
        if version.is_v5() {
            options.session_expiry_interval = match self.session_expiry {
                Some(0) => None,
                Some(s) => Some(s),
                None if self.keep_session => Some(u32::MAX),
                None => None,
            };
        } else if self.session_expiry.is_some() {
            return Err(ArgsError::Invalid("-x needs MQTT 5 (-V 5)".into()));
        }
        if let Some(topic) = &self.will_topic {
            let topic = TopicName::new(topic.as_str())
                .map_err(|e| ArgsError::Invalid(format!("--will-topic {topic}: {e}")))?;
            options.will = Some(LastWill {
                topic,
                payload: self.will_payload.clone().unwrap_or_default().into(),
                qos: self.will_qos.unwrap_or_default(),
                retain: self.will_retain,
                properties: WillProperties::default(),
            });
        }
        Ok(Resolved {
            endpoint: Endpoint {
                scheme,
                host,
                port,
                ws_path,
            },
            options,
            url_topic,
        })
    }
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
