//! The tokio driver of the sans-IO [`ClientSession`]: it moves bytes between
//! the session and a byte stream, arms the session's timer, applies the
//! application's [`Command`]s and hands the session's events on. All MQTT
//! behaviour (keep alive, acknowledgements, retries) lives in the session.

use std::io;

use bytes::BytesMut;
use courtier_proto::packet::{Publish, PublishProperties, SubscribeProperties, Subscription};
use courtier_proto::session::{ClientSession, ConnectionState, Event, SessionError};
use courtier_proto::{Decoder, Packet, QoS, ReasonCode, TopicName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Capacity of the command channel. Commands are few (a publish per input
/// line at most, paced by the application's own window), so a full channel
/// only makes the application wait.
pub const COMMAND_CAPACITY: usize = 16;

/// Capacity of the event channel. When it is full the driver stops reading
/// the socket until the application catches up: the server then sees TCP
/// back-pressure instead of this process buffering without bound.
pub const EVENT_CAPACITY: usize = 256;

/// Initial read buffer; `read_buf` grows it for larger packets.
const READ_BUFFER: usize = 8 * 1024;

/// What the application asks of the connection.
#[derive(Debug)]
pub enum Command {
    /// Publish a message.
    Publish {
        /// Topic.
        topic: TopicName,
        /// Payload.
        payload: bytes::Bytes,
        /// QoS.
        qos: QoS,
        /// RETAIN flag.
        retain: bool,
    },
    /// Subscribe to filters.
    Subscribe(Vec<Subscription>),
    /// Disconnect normally (DISCONNECT 0x00), then close the transport.
    Disconnect,
}

/// What the driver hands the application.
#[derive(Debug)]
pub enum DriverEvent {
    /// An event of the session.
    Session(Event),
    /// The session refused a command at call time (not connected, a limit
    /// the server announced, a full queue).
    Rejected(SessionError),
}

/// Why the driver stopped other than by an orderly close.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The session could not start (invalid options).
    #[error("cannot connect: {0}")]
    Session(#[from] SessionError),
    /// Reading or writing the transport failed.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The server closed the transport without DISCONNECT (3.1.4: a server
    /// closes the connection on a protocol error in 3.x).
    #[error("connection closed by the server")]
    ClosedByServer,
}

/// Whether the driver loop goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

/// Owns the session and the stream; see [`Driver::run`].
pub struct Driver<S> {
    session: ClientSession,
    stream: S,
    /// The epoch of the session's `now`.
    start: Instant,
    /// `-d`: decoders that re-read both directions for the trace on stderr.
    trace: Option<Trace>,
}

/// The `-d` trace: each direction decoded again, only for printing.
struct Trace {
    sent: (Decoder, BytesMut),
    received: (Decoder, BytesMut),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// A driver for `session` over `stream`; `debug` traces packets to stderr.
    pub fn new(session: ClientSession, stream: S, debug: bool) -> Self {
        let version = session.options().version;
        let decoder = || (Decoder::with_version(u32::MAX, version), BytesMut::new());
        Self {
            session,
            stream,
            start: Instant::now(),
            trace: debug.then(|| Trace {
                sent: decoder(),
                received: decoder(),
            }),
        }
    }

    fn now(&self) -> std::time::Duration {
        Instant::now() - self.start
    }

    /// Connect, then serve until the connection ends. Returns `Ok` when the
    /// session closed it (DISCONNECT either way, a refusal, a protocol
    /// error or a keep alive timeout, each reported as an event first).
    /// When the application drops its command sender, a connected session
    /// disconnects normally.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<DriverEvent>,
    ) -> Result<(), DriverError> {
        let mut buf = BytesMut::with_capacity(READ_BUFFER);
        let mut commands_open = true;
        self.session.connect(self.now())?;
        loop {
            self.flush().await?;
            self.forward(&events).await;
            if self.session.state() == ConnectionState::Closed {
                // Best effort: the server may already be gone.
                let _ = self.stream.shutdown().await;
                return Ok(());
            }
            let deadline = self.session.poll_timeout().map(|t| self.start + t);
            tokio::select! {
                read = self.stream.read_buf(&mut buf) => match read {
                    Ok(0) => return self.lost(&events, DriverError::ClosedByServer).await,
                    Ok(_) => {
                        let now = self.now();
                        self.trace_received(&buf);
                        self.session.handle_bytes(now, &buf);
                        buf.clear();
                    }
                    Err(e) => return self.lost(&events, e.into()).await,
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    let now = self.now();
                    self.session.handle_timeout(now);
                }
                command = commands.recv(), if commands_open => match command {
                    Some(command) => {
                        if self.apply(command, &events).await == Flow::Stop {
                            return self.stop(&events).await;
                        }
                    }
                    None => {
                        commands_open = false;
                        if self.apply(Command::Disconnect, &events).await == Flow::Stop {
                            return self.stop(&events).await;
                        }
                    }
                },
            }
        }
    }

    async fn apply(&mut self, command: Command, events: &mpsc::Sender<DriverEvent>) -> Flow {
        let now = self.now();
        let result = match command {
            Command::Publish {
                topic,
                payload,
                qos,
                retain,
            } => self
                .session
                .publish(
                    now,
                    topic,
                    payload,
                    qos,
                    retain,
                    PublishProperties::default(),
                )
                .map(drop),
            Command::Subscribe(subscriptions) => self
                .session
                .subscribe(now, subscriptions, SubscribeProperties::default())
                .map(drop),
            Command::Disconnect => match self.session.state() {
                ConnectionState::Connected => self.session.disconnect(now, ReasonCode::Success),
                // Not connected (yet): there is nothing to end politely, and
                // closing the transport is all a disconnect can mean.
                _ => return Flow::Stop,
            },
        };
        if let Err(e) = result {
            self.trace_line(format_args!("rejected: {e}"));
            let _ = events.send(DriverEvent::Rejected(e)).await;
        }
        Flow::Continue
    }

    /// Close the transport on the application's request before CONNACK.
    async fn stop(&mut self, events: &mpsc::Sender<DriverEvent>) -> Result<(), DriverError> {
        self.session.connection_lost();
        self.forward(events).await;
        let _ = self.stream.shutdown().await;
        Ok(())
    }

    async fn lost(
        &mut self,
        events: &mpsc::Sender<DriverEvent>,
        error: DriverError,
    ) -> Result<(), DriverError> {
        self.session.connection_lost();
        self.forward(events).await;
        Err(error)
    }

    /// Write everything the session has to send.
    async fn flush(&mut self) -> io::Result<()> {
        let mut wrote = false;
        while let Some(bytes) = self.session.poll_transmit() {
            self.trace_sent(&bytes);
            self.stream.write_all(&bytes).await?;
            wrote = true;
        }
        if wrote {
            self.stream.flush().await?;
        }
        Ok(())
    }

    /// Hand every pending session event to the application. A gone
    /// application is not an error: the connection still ends cleanly.
    async fn forward(&mut self, events: &mpsc::Sender<DriverEvent>) {
        while let Some(event) = self.session.poll_event() {
            self.trace_line(format_args!("event: {}", describe_event(&event)));
            let _ = events.send(DriverEvent::Session(event)).await;
        }
    }

    fn trace_sent(&mut self, bytes: &[u8]) {
        if let Some(t) = &mut self.trace {
            trace_packets("sending", &mut t.sent, bytes);
        }
    }

    fn trace_received(&mut self, bytes: &[u8]) {
        if let Some(t) = &mut self.trace {
            trace_packets("received", &mut t.received, bytes);
        }
    }

    fn trace_line(&self, line: std::fmt::Arguments<'_>) {
        if self.trace.is_some() {
            eprintln!("courtier: {line}");
        }
    }
}

/// Sleep until `deadline`, or forever without one (for a `select!` branch).
pub(crate) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn trace_packets(direction: &str, (decoder, buf): &mut (Decoder, BytesMut), bytes: &[u8]) {
    buf.extend_from_slice(bytes);
    loop {
        match decoder.decode(buf) {
            Ok(Some(packet)) => {
                if let Packet::Connect(c) = &packet {
                    decoder.set_version(c.protocol);
                }
                eprintln!("courtier: {direction} {}", describe_packet(&packet));
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!("courtier: {direction} undecodable bytes: {e}");
                buf.clear();
                break;
            }
        }
    }
}

/// One line per packet: its kind and the fields a person debugging wants.
pub fn describe_packet(packet: &Packet) -> String {
    match packet {
        Packet::Connect(c) => format!(
            "CONNECT ({:?}, client id {:?}, clean {}, keep alive {})",
            c.protocol, c.client_id, c.clean_start, c.keep_alive
        ),
        Packet::ConnAck(a) => format!(
            "CONNACK ({}, session present {})",
            a.reason, a.session_present
        ),
        Packet::Publish(p) => describe_publish(p),
        Packet::SubAck(s) => format!("SUBACK {:?}", s.reason_codes),
        other => other.name().to_owned(),
    }
}

fn describe_publish(p: &Publish) -> String {
    format!(
        "PUBLISH (q{}, r{}, d{}, {:?}, {} bytes)",
        p.qos_pid.qos() as u8,
        u8::from(p.retain),
        u8::from(p.dup),
        p.topic.as_str(),
        p.payload.len()
    )
}

fn describe_event(event: &Event) -> String {
    match event {
        Event::Message(p) => format!("message {}", describe_publish(p)),
        Event::Connected {
            session_present, ..
        } => format!("connected (session present {session_present})"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
