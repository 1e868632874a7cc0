//! `courtier pub` and `courtier sub`: command-line MQTT clients with the
//! options of `mosquitto_pub` / `mosquitto_sub`, driving the same sans-IO
//! [`courtier_proto::session::ClientSession`] as the browser clients.
//!
//! # Layout
//! - [`args`]: the clap command lines, `-L` URLs, and their translation
//!   into an endpoint and the session's options.
//! - [`transport`]: TCP, TLS (rustls) and WebSocket connectors, all into one
//!   boxed byte stream.
//! - [`driver`]: the tokio loop around the session: socket reads, the
//!   session's timer, the application's commands; no MQTT logic of its own.
//! - [`pub_cmd`], [`sub_cmd`]: what each command does with the connection.
//!
//! Exit codes follow mosquitto's clients: 0 on success; on a refused
//! connection the CONNACK code (the 5.0 reason code, or the 3.x return
//! code); 27 when `sub -W` times out; 1 for any other failure (and 2 for a
//! command line clap rejects).

use std::io;
use std::process::ExitCode;

use bytestring::ByteString;
use courtier_proto::session::{ClientOptions, ClientSession, Event, SessionError};
use courtier_proto::{ProtocolVersion, ReasonCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub mod args;
pub mod driver;
pub mod pub_cmd;
pub mod sub_cmd;
pub mod transport;

use args::{ArgsError, ClientCommand, ConnectArgs, Endpoint};
use driver::{COMMAND_CAPACITY, Command, Driver, DriverError, DriverEvent, EVENT_CAPACITY};
use transport::{TlsSettings, TransportError};

/// mosquitto's exit code for a `-W` timeout (`MOSQ_ERR_TIMEOUT`).
pub const EXIT_TIMED_OUT: u8 = 27;

/// Why a client command failed. Each is printed as one line on stderr.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The command line cannot be used.
    #[error("Error: {0}")]
    Args(#[from] ArgsError),
    /// No transport could be opened.
    #[error("Error: {0}")]
    Transport(#[from] TransportError),
    /// The connection failed under the driver.
    #[error("Error: {0}")]
    Driver(#[from] DriverError),
    /// CONNACK refused the connection (3.2.2.2 in 3.1.1, 3.2.2.2 in 5.0).
    #[error("Connection error: {reason}{}", suffix(reason_string))]
    Refused {
        /// The reason code (3.x return codes mapped to 5.0 codes).
        reason: ReasonCode,
        /// The server's Reason String.
        reason_string: Option<ByteString>,
        /// The version spoken, which decides the exit code.
        version: ProtocolVersion,
    },
    /// The server sent DISCONNECT (5.0, 3.14).
    #[error("Disconnected by the server: {reason}{}", suffix(reason_string))]
    DisconnectedByServer {
        /// Its reason code.
        reason: ReasonCode,
        /// Its Reason String.
        reason_string: Option<ByteString>,
    },
    /// The server broke the protocol or stopped answering.
    #[error("Protocol error: {0}")]
    Protocol(SessionError),
    /// A publish failed or was refused.
    #[error("Publish error: {0}")]
    Publish(SessionError),
    /// A subscription failed.
    #[error("Subscription error: {0}")]
    Subscribe(String),
    /// `sub -W` expired.
    #[error("Timed out")]
    TimedOut,
    /// The message could not be read (file, standard input).
    #[error("Error: cannot read {what}: {source}")]
    Input {
        /// What was being read.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// Standard output failed (e.g. a closed pipe).
    #[error("Error: cannot write to standard output: {0}")]
    Output(io::Error),
}

fn suffix(reason_string: &Option<ByteString>) -> String {
    reason_string
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default()
}

impl ClientError {
    /// The process exit code, as mosquitto's clients choose it.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused {
                reason, version, ..
            } => match version {
                ProtocolVersion::V5 => reason.as_u8(),
                _ => reason.to_v3_connack().as_u8(),
            },
            Self::TimedOut => EXIT_TIMED_OUT,
            _ => 1,
        }
    }

    /// The error an event that ends the connection stands for, if any. Our
    /// own DISCONNECT is an orderly end, not an error.
    pub fn from_end(event: &Event, version: ProtocolVersion) -> Option<Self> {
        match event {
            Event::ConnectionRefused {
                reason,
                reason_string,
            } => Some(Self::Refused {
                reason: *reason,
                reason_string: reason_string.clone(),
                version,
            }),
            Event::Disconnected {
                reason,
                reason_string,
                by_server: true,
            } => Some(Self::DisconnectedByServer {
                reason: *reason,
                reason_string: reason_string.clone(),
            }),
            Event::ProtocolError(e) => Some(Self::Protocol(e.clone())),
            _ => None,
        }
    }
}

/// Run a client command to completion on a single-threaded runtime (one
/// connection needs no more) and print its error, if any, on stderr.
pub fn run(command: ClientCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            ClientCommand::Pub(args) => pub_cmd::run(args).await,
            ClientCommand::Sub(args) => sub_cmd::run(args).await,
        }
    });
    // Do not wait for the stdin reader thread or a WebSocket bridge.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A running connection: the driver task and the application's ends of
/// its channels.
pub struct Connection {
    /// Commands to the driver.
    pub commands: mpsc::Sender<Command>,
    /// Events from the driver; `None` once the driver has ended.
    pub events: mpsc::Receiver<DriverEvent>,
    driver: JoinHandle<Result<(), DriverError>>,
}

impl Connection {
    /// Open the transport `endpoint` names and start a driver on it.
    pub async fn open(
        connect: &ConnectArgs,
        endpoint: &Endpoint,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let tls = TlsSettings {
            cafile: connect.cafile.clone(),
            insecure: connect.insecure,
        };
        let stream = transport::connect(endpoint, &tls).await?;
        Ok(Self::spawn(
            ClientSession::new(options),
            stream,
            connect.debug,
        ))
    }

    /// Start a driver for `session` over `stream`.
    pub fn spawn<S>(session: ClientSession, stream: S, debug: bool) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (commands, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (event_tx, events) = mpsc::channel(EVENT_CAPACITY);
        let driver = tokio::spawn(Driver::new(session, stream, debug).run(command_rx, event_tx));
        Self {
            commands,
            events,
            driver,
        }
    }

    /// Ask for a normal disconnect. A driver that has already ended needs none.
    pub async fn disconnect(&self) {
        let _ = self.commands.send(Command::Disconnect).await;
    }

    /// Wait for the driver to end; `failure` (what the application saw)
    /// wins over the driver's own error, which is usually its consequence.
    pub async fn finish(mut self, failure: Option<ClientError>) -> Result<(), ClientError> {
        drop(self.commands);
        while self.events.recv().await.is_some() {}
        let ended = match self.driver.await {
            Ok(r) => r,
            Err(e) => Err(DriverError::Io(io::Error::other(e))),
        };
        match (failure, ended) {
            (Some(f), _) => Err(f),
            (None, Err(e)) => Err(e.into()),
            (None, Ok(())) => Ok(()),
        }
    }
}
