//! Configuration: one set of keys, readable from a TOML file and from flags.
//!
//! Every key of the file is also a flag (`max_keepalive` ↔ `--max-keepalive`).
//! [`Options`] is both the clap parser and the serde model of the file, so the
//! two can never drift apart; [`Options::resolve`] merges them (flags win) and
//! applies defaults, producing the validated [`Config`] the server runs with.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::admin::AdminToken;
use crate::auth::AccessControl;
use crate::transport::tls::TlsFiles;

#[path = "config_error.rs"]
mod error;
#[path = "config_values.rs"]
mod values;
pub use error::ConfigError;
pub use values::{LogFormat, Secret};

/// Command-line flags, which are also the keys of the configuration file.
#[derive(Debug, Default, Clone, Parser, Deserialize)]
#[command(
    name = "courtier",
    version,
    about = "Courtier, an MQTT 3.1/3.1.1/5.0 broker"
)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Read settings from this TOML file; flags override its keys.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// MQTT over TCP listen address; repeat for several (default, when no listener is
    /// given at all: 127.0.0.1:1883).
    #[arg(long, value_name = "ADDR")]
    #[serde(default)]
    pub tcp: Vec<SocketAddr>,
    /// HTTP listen address for the web UI and MQTT over WebSocket; repeatable (default,
    /// when no listener is given at all: 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    #[serde(default)]
    pub http: Vec<SocketAddr>,
    /// MQTT over TLS listen address (usually port 8883); repeatable; needs --cert and --key.
    #[arg(long, value_name = "ADDR")]
    #[serde(default)]
    pub tls: Vec<SocketAddr>,
    /// HTTPS listen address: web UI and MQTT over secure WebSocket (usually port 8884); repeatable.
    #[arg(long, value_name = "ADDR")]
    #[serde(default)]
    pub https: Vec<SocketAddr>,
    /// PEM certificate chain (leaf first) for the TLS and HTTPS listeners.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM private key of --cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// PEM CA certificate(s): TLS clients must present a certificate it signed.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// URL path of MQTT over WebSocket on the HTTP(S) listeners (default /mqtt).
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,
    /// Web page origin allowed to open MQTT WebSockets, e.g. https://app.example; repeatable (default: any).
    #[arg(long, value_name = "URL")]
    #[serde(default)]
    pub ws_allowed_origin: Vec<String>,
    /// Reverse proxy IP whose X-Forwarded-For header names the real client; repeatable.
    #[arg(long, value_name = "IP")]
    #[serde(default)]
    pub trusted_proxy: Vec<IpAddr>,
    /// Directory of the web app served on the HTTP listener.
    #[arg(long, value_name = "DIR")]
    pub web_root: Option<PathBuf>,
    /// Directory of the persistent store (default ./data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in memory: nothing survives a restart (tests, ephemeral use).
    #[arg(long)]
    #[serde(default)]
    pub in_memory: bool,
    /// Largest keep alive (seconds) a client may use; answered as Server Keep Alive (default 65535).
    #[arg(long, value_name = "SECONDS")]
    pub max_keepalive: Option<u16>,
    /// How many unacknowledged QoS 1/2 PUBLISH a client may send us (default 100).
    #[arg(long, value_name = "N")]
    pub receive_maximum: Option<u16>,
    /// Largest packet, in bytes, that we accept (default 1 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_packet_size: Option<u32>,
    /// Messages queued per session beyond the inflight window (default 1000).
    #[arg(long, value_name = "N")]
    pub max_queued_messages: Option<usize>,
    /// Bytes (topics and payloads) queued per session; a full queue is handled like one at
    /// max_queued_messages (default 0: no byte limit).
    #[arg(long, value_name = "BYTES")]
    pub max_queued_bytes: Option<usize>,
    /// Outbound QoS 1/2 messages in flight per client, also capped by its Receive Maximum (default 100).
    #[arg(long, value_name = "N")]
    pub max_inflight: Option<u16>,
    /// Seconds a new connection has to send CONNECT (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
    /// Seconds between `$SYS/broker/...` updates; 0 turns them off (default 10).
    #[arg(long, value_name = "SECONDS")]
    pub sys_interval: Option<u64>,
    /// Maximum simultaneous client connections (default 100000).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Topic aliases a v5 client may use towards us (default 10).
    #[arg(long, value_name = "N")]
    pub topic_alias_maximum: Option<u16>,
    /// Largest session expiry interval granted, seconds (default: unlimited).
    #[arg(long, value_name = "SECONDS")]
    pub max_session_expiry: Option<u32>,
    /// Log lines as `text` for people or `json` (one object a line) for collectors (default text).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Seconds a subscriber may accept nothing while a QoS 1/2 publisher waits for room in
    /// its full queue before it is disconnected with 0x97; 0 waits for ever (default 30).
    #[arg(long, value_name = "SECONDS")]
    pub slow_subscriber_timeout: Option<u64>,
    /// PUBLISH packets per second one client may send on average; past it the broker stops
    /// reading that client until it is back within the rate (default 0: no limit).
    #[arg(long, value_name = "N")]
    pub max_publish_rate: Option<u32>,
    /// Subscriptions one client may hold; more get SUBACK 0x97 (default 10000).
    #[arg(long, value_name = "N")]
    pub max_subscriptions: Option<usize>,
    /// Longest topic name or filter, in bytes; longer gets 0x90/0x8F (default 65535).
    #[arg(long, value_name = "BYTES")]
    pub max_topic_length: Option<u16>,
    /// Most levels in a topic name or filter; more gets 0x90/0x8F (default 128).
    #[arg(long, value_name = "N")]
    pub max_topic_levels: Option<u16>,
    /// New connections per second from one address; more get CONNACK 0x9F (default 0: no limit).
    #[arg(long, value_name = "N")]
    pub max_connection_rate: Option<u32>,
    /// Connections on any one listener, within max_connections (default 0: no own limit).
    #[arg(long, value_name = "N")]
    pub max_connections_per_listener: Option<usize>,
    /// Mosquitto-format password file (`user:hash` lines; `courtier passwd` manages it).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Let clients without a user name connect (default: only when no password file
    /// is set and every listener is loopback-only).
    #[arg(long, value_name = "BOOL")]
    pub allow_anonymous: Option<bool>,
    /// Mosquitto-format ACL file (`user`, `topic [read|write|readwrite|deny]`, `pattern`
    /// with %c/%u); once set, what it does not grant is refused.
    #[arg(long, value_name = "FILE")]
    pub acl_file: Option<PathBuf>,
    /// Bearer token that opens the admin API (/api/v1) on the HTTP listeners; without
    /// it (or admin_token_file) the API is off. Prefer admin_token_file: flags show in `ps`.
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<Secret>,
    /// File whose first line is the admin token, read at start.
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
}

/// The validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP listen addresses.
    pub tcp: Vec<SocketAddr>,
    /// HTTP listen addresses: MQTT over WebSocket at `/mqtt`, the web app at `/`.
    pub http: Vec<SocketAddr>,
    /// MQTT over TLS listen addresses.
    pub tls: Vec<SocketAddr>,
    /// HTTPS listen addresses: like `http`, over TLS.
    pub https: Vec<SocketAddr>,
    /// Certificate, key and client CA; `Some` whenever `tls` or `https` is non-empty.
    pub tls_files: Option<TlsFiles>,
    /// Where MQTT over WebSocket is served, starting with `/`.
    pub ws_path: String,
    /// Page origins allowed to open WebSockets (lower case, no trailing
    /// slash); empty = any page, so the client can be embedded anywhere.
    pub ws_allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Web app directory served at `/` on the HTTP listeners.
    pub web_root: Option<PathBuf>,
    /// Store directory: sessions, queues and retained messages survive restarts.
    pub data_dir: PathBuf,
    /// Persist nothing (`--in-memory`); `data_dir` is then unused.
    pub in_memory: bool,
    /// Keep alive cap in seconds.
    pub max_keepalive: u16,
    /// Our Receive Maximum.
    pub receive_maximum: u16,
    /// Our Maximum Packet Size.
    pub max_packet_size: u32,
    /// Per-session queue bound.
    pub max_queued_messages: usize,
    /// Bytes queued per session; 0: no byte limit.
    pub max_queued_bytes: usize,
    /// Per-client outbound inflight cap.
    pub max_inflight: u16,
    /// Time allowed before CONNECT.
    pub connect_timeout: Duration,
    /// `$SYS` interval; `None` = off.
    pub sys_interval: Option<Duration>,
    /// Connection limit.
    pub max_connections: usize,
    /// Topic Alias Maximum we grant clients.
    pub topic_alias_maximum: u16,
    /// Session expiry cap, seconds.
    pub max_session_expiry: u32,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// How long a stuck subscriber may hold publishers up; `None`: for ever.
    pub slow_subscriber_timeout: Option<Duration>,
    /// PUBLISH packets per second per client; 0: no limit.
    pub max_publish_rate: u32,
    /// Subscriptions per client.
    pub max_subscriptions: usize,
    /// Topic names and filters clients may use.
    pub topic_limits: crate::limits::TopicLimits,
    /// New connections per second per address; 0: no limit.
    pub max_connection_rate: u32,
    /// Connections per listener; 0: only `max_connections`.
    pub max_connections_per_listener: usize,
    /// Who may connect and what they may touch: the password file, the
    /// anonymous policy and the ACL, reloadable.
    pub access: Arc<AccessControl>,
    /// Opens the admin API; `None` = the API answers 404.
    pub admin_token: Option<AdminToken>,
}

impl Config {
    /// What each session's queue may hold.
    pub fn queue_limits(&self) -> crate::session::queue::QueueLimits {
        crate::session::queue::QueueLimits {
            messages: self.max_queued_messages,
            bytes: self.max_queued_bytes,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tcp: vec![SocketAddr::from(([127, 0, 0, 1], 1883))],
            http: vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
            tls: Vec::new(),
            https: Vec::new(),
            tls_files: None,
            ws_path: "/mqtt".to_owned(),
            ws_allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            web_root: None,
            data_dir: PathBuf::from("data"),
            in_memory: false,
            max_keepalive: u16::MAX,
            receive_maximum: 100,
            max_packet_size: 1024 * 1024,
            max_queued_messages: 1000,
            max_queued_bytes: 0,
            max_inflight: 100,
            connect_timeout: Duration::from_secs(10),
            sys_interval: Some(Duration::from_secs(10)),
            max_connections: 100_000,
            topic_alias_maximum: 10,
            max_session_expiry: u32::MAX,
            log_format: LogFormat::Text,
            slow_subscriber_timeout: Some(Duration::from_secs(30)),
            max_publish_rate: 0,
            max_subscriptions: 10_000,
            topic_limits: crate::limits::TopicLimits {
                length: u16::MAX,
                levels: 128,
            },
            max_connection_rate: 0,
            max_connections_per_listener: 0,
            access: Arc::new(AccessControl::default()),
            admin_token: None,
        }
    }
}

impl Options {
    /// Read the file named by `--config` (if any), merge it under the flags
    /// and validate the result.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => Some((path.clone(), load_file(path)?)),
            None => None,
        };
        let (source_name, file) = match file {
            Some((path, opts)) => (path.display().to_string(), opts),
            None => ("command line".to_owned(), Options::default()),
        };
        let merged = self.over(file);
        merged.build(&source_name)
    }

    /// `self` (flags) wins over `file`, key by key.
    fn over(self, file: Options) -> Options {
        fn pick<T>(flag: Vec<T>, file: Vec<T>) -> Vec<T> {
            if flag.is_empty() { file } else { flag }
        }
        Options {
            config: self.config,
            tcp: pick(self.tcp, file.tcp),
            http: pick(self.http, file.http),
            tls: pick(self.tls, file.tls),
            https: pick(self.https, file.https),
            cert: self.cert.or(file.cert),
            key: self.key.or(file.key),
            client_ca: self.client_ca.or(file.client_ca),
            ws_path: self.ws_path.or(file.ws_path),
            ws_allowed_origin: pick(self.ws_allowed_origin, file.ws_allowed_origin),
            trusted_proxy: pick(self.trusted_proxy, file.trusted_proxy),
            web_root: self.web_root.or(file.web_root),
            data_dir: self.data_dir.or(file.data_dir),
            in_memory: self.in_memory || file.in_memory,
            max_keepalive: self.max_keepalive.or(file.max_keepalive),
            receive_maximum: self.receive_maximum.or(file.receive_maximum),
            max_packet_size: self.max_packet_size.or(file.max_packet_size),
            max_queued_messages: self.max_queued_messages.or(file.max_queued_messages),
            max_queued_bytes: self.max_queued_bytes.or(file.max_queued_bytes),
            max_inflight: self.max_inflight.or(file.max_inflight),
            connect_timeout: self.connect_timeout.or(file.connect_timeout),
            sys_interval: self.sys_interval.or(file.sys_interval),
            max_connections: self.max_connections.or(file.max_connections),
            topic_alias_maximum: self.topic_alias_maximum.or(file.topic_alias_maximum),
            max_session_expiry: self.max_session_expiry.or(file.max_session_expiry),
            log_format: self.log_format.or(file.log_format),
            slow_subscriber_timeout: self
                .slow_subscriber_timeout
                .or(file.slow_subscriber_timeout),
            max_publish_rate: self.max_publish_rate.or(file.max_publish_rate),
            max_subscriptions: self.max_subscriptions.or(file.max_subscriptions),
            max_topic_length: self.max_topic_length.or(file.max_topic_length),
            max_topic_levels: self.max_topic_levels.or(file.max_topic_levels),
            max_connection_rate: self.max_connection_rate.or(file.max_connection_rate),
            max_connections_per_listener: self
                .max_connections_per_listener
                .or(file.max_connections_per_listener),
            password_file: self.password_file.or(file.password_file),
            allow_anonymous: self.allow_anonymous.or(file.allow_anonymous),
            acl_file: self.acl_file.or(file.acl_file),
            admin_token: self.admin_token.or(file.admin_token),
            admin_token_file: self.admin_token_file.or(file.admin_token_file),
        }
    }

    fn build(self, source_name: &str) -> Result<Config, ConfigError> {
        let d = Config::default();
        let invalid = |key, problem| ConfigError::Invalid {
            source_name: source_name.to_owned(),
            key,
            problem,
        };
        let receive_maximum = self.receive_maximum.unwrap_or(d.receive_maximum);
        if receive_maximum == 0 {
            return Err(invalid(
                "receive_maximum",
                "must be 1 to 65535 (0 is a protocol error)",
            ));
        }
        let max_inflight = self.max_inflight.unwrap_or(d.max_inflight);
        if max_inflight == 0 {
            return Err(invalid("max_inflight", "must be 1 to 65535"));
        }
        let max_packet_size = self.max_packet_size.unwrap_or(d.max_packet_size);
        if max_packet_size < 64 {
            return Err(invalid("max_packet_size", "must be at least 64 bytes"));
        }
        let max_keepalive = self.max_keepalive.unwrap_or(d.max_keepalive);
        if max_keepalive == 0 {
            return Err(invalid("max_keepalive", "must be 1 to 65535 seconds"));
        }
        let max_subscriptions = self.max_subscriptions.unwrap_or(d.max_subscriptions);
        if max_subscriptions == 0 {
            return Err(invalid("max_subscriptions", "must be at least 1"));
        }
        let topic_limits = crate::limits::TopicLimits {
            length: self.max_topic_length.unwrap_or(d.topic_limits.length),
            levels: self.max_topic_levels.unwrap_or(d.topic_limits.levels),
        };
        if topic_limits.length == 0 || topic_limits.levels == 0 {
            return Err(invalid(
                "max_topic_length",
                "and `max_topic_levels` must be at least 1",
            ));
        }
        let max_connections = self.max_connections.unwrap_or(d.max_connections);
        if max_connections == 0 || max_connections > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(invalid("max_connections", "must be at least 1"));
        }
        let max_queued_messages = self.max_queued_messages.unwrap_or(d.max_queued_messages);
        if max_queued_messages == 0 {
            return Err(invalid("max_queued_messages", "must be at least 1"));
        }
        let connect_timeout = self
            .connect_timeout
            .map_or(d.connect_timeout, Duration::from_secs);
        if connect_timeout.is_zero() {
            return Err(invalid("connect_timeout", "must be at least 1 second"));
        }
        let tls_files = match (self.cert, self.key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: self.client_ca,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid("key", "is needed with `cert` (--key FILE, PEM)"));
            }
            (None, Some(_)) => {
                return Err(invalid("cert", "is needed with `key` (--cert FILE, PEM)"));
            }
        };
        if tls_files.is_none() && !(self.tls.is_empty() && self.https.is_empty()) {
            return Err(invalid(
                "cert",
                "and `key` are needed by the `tls` and `https` listeners (--cert FILE --key FILE, PEM)",
            ));
        }
        let ws_path = self.ws_path.unwrap_or(d.ws_path);
        if ws_path.starts_with("/api/") || ws_path == "/api" {
            return Err(invalid(
                "ws_path",
                "cannot be under /api/, where the admin API is served (use /mqtt)",
            ));
        }
        if ws_path == crate::transport::http::METRICS_PATH {
            return Err(invalid(
                "ws_path",
                "cannot be /metrics, where the Prometheus metrics are served (use /mqtt)",
            ));
        }
        if !ws_path.starts_with('/') || ws_path.contains(['?', '#', ' ']) {
            return Err(invalid(
                "ws_path",
                "must be a URL path starting with `/`, like /mqtt",
            ));
        }
        let mut ws_allowed_origins = Vec::with_capacity(self.ws_allowed_origin.len());
        for origin in self.ws_allowed_origin {
            if !origin.contains("://") {
                return Err(invalid(
                    "ws_allowed_origin",
                    "must be an origin like https://app.example (scheme, host, optional port)",
                ));
            }
            ws_allowed_origins.push(crate::transport::origin::normalize(&origin));
        }
        // No listener given at all: the defaults, TCP 127.0.0.1:1883 and
        // HTTP 127.0.0.1:8080. Any listener given: exactly those, so
        // `--tls ...` alone opens no plain port.
        let no_listener = [&self.tcp, &self.http, &self.tls, &self.https]
            .iter()
            .all(|l| l.is_empty());
        let (tcp, http) = if no_listener {
            (d.tcp, d.http)
        } else {
            (self.tcp, self.http)
        };
        let admin_token = match (self.admin_token, self.admin_token_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "admin_token",
                    "and `admin_token_file` are both set (keep one, preferably the file)",
                ));
            }
            (Some(Secret(text)), None) => {
                Some(AdminToken::new(&text).map_err(|problem| invalid("admin_token", problem))?)
            }
            (None, Some(path)) => {
                Some(AdminToken::from_file(&path).map_err(ConfigError::AdminTokenFile)?)
            }
            (None, None) => None,
        };
        let listeners = [&tcp, &http, &self.tls, &self.https];
        let access = AccessControl::load(
            self.password_file,
            self.acl_file,
            self.allow_anonymous,
            listeners.into_iter().flatten().copied().collect(),
        )?;
        Ok(Config {
            tcp,
            http,
            tls: self.tls,
            https: self.https,
            tls_files,
            ws_path,
            ws_allowed_origins,
            trusted_proxies: self.trusted_proxy,
            web_root: self.web_root,
            data_dir: self.data_dir.unwrap_or(d.data_dir),
            in_memory: self.in_memory,
            max_keepalive,
            receive_maximum,
            max_packet_size,
            max_queued_messages,
            max_queued_bytes: self.max_queued_bytes.unwrap_or(d.max_queued_bytes),
            max_inflight,
            connect_timeout,
            sys_interval: match self.sys_interval {
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(s)),
                None => d.sys_interval,
            },
            max_connections,
            topic_alias_maximum: self.topic_alias_maximum.unwrap_or(d.topic_alias_maximum),
            max_session_expiry: self.max_session_expiry.unwrap_or(d.max_session_expiry),
            log_format: self.log_format.unwrap_or(d.log_format),
            slow_subscriber_timeout: match self.slow_subscriber_timeout {
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(s)),
                None => d.slow_subscriber_timeout,
            },
            max_publish_rate: self.max_publish_rate.unwrap_or(d.max_publish_rate),
            max_subscriptions,
            topic_limits,
            max_connection_rate: self.max_connection_rate.unwrap_or(d.max_connection_rate),
            max_connections_per_listener: self
                .max_connections_per_listener
                .unwrap_or(d.max_connections_per_listener),
            access: Arc::new(access),
            admin_token,
        })
    }
}

fn load_file(path: &Path) -> Result<Options, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e: toml::de::Error| {
        let message = e.message().replace('\n', " ");
        // For an unknown key the span covers the whole table: find the key's own line.
        let unknown_key_line = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .and_then(|key| text.lines().position(|l| l.trim_start().starts_with(key)));
        let line = match unknown_key_line {
            Some(index) => index + 1,
            None => e
                .span()
                .map_or(0, |span| text[..span.start].matches('\n').count() + 1),
        };
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            message,
        }
    })
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
