//! One task per client connection: read → decode → protocol → coalesced write.
//!
//! The task is generic over the byte stream ([`run`] takes any
//! `AsyncRead + AsyncWrite`), so TCP today and TLS or WebSocket later feed
//! the same code. Protocol decisions live in [`protocol`] and [`connect`] as
//! plain methods that only append to the write buffer; this file owns the
//! I/O, the timers and the shutdown signals.

mod buffer;
mod connect;
mod protocol;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use courtier_proto::packet::{Disconnect, DisconnectProperties};
use courtier_proto::{DecodeError, Decoder, Packet, ProtocolVersion, ReasonCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use self::buffer::ReadBuffer;
pub use self::protocol::Connection;
use crate::broker::Broker;
use crate::metrics::Metrics;
use crate::session::link::KickReason;
use crate::transport::Peer;

/// The write buffer is given back after a burst larger than this.
const IDLE_BUFFER_LIMIT: usize = 64 * 1024;

/// Why a connection is being closed by the server for a protocol violation.
/// Each names the statement broken and maps to a v5 reason code.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolViolation {
    /// The peer's bytes do not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A second CONNECT on one connection.
    #[error("[MQTT-3.1.0-2] a second CONNECT packet is a protocol error")]
    SecondConnect,
    /// A packet only a server sends.
    #[error("(MQTT 5.0 section 2.1.2) a client sent a packet only a server may send")]
    ServerPacket,
    /// AUTH without an authentication method in CONNECT.
    #[error(
        "(MQTT 5.0 section 4.12) AUTH is a protocol error when CONNECT had no authentication method"
    )]
    UnexpectedAuth,
    /// More unacknowledged QoS 1/2 PUBLISH than our Receive Maximum.
    #[error(
        "(MQTT 5.0 section 3.3.4) more unacknowledged QoS 1/2 PUBLISH packets than our Receive Maximum"
    )]
    ReceiveMaximumExceeded,
    /// Topic Alias 0 or above our Topic Alias Maximum.
    #[error("[MQTT-3.3.2-9] topic alias greater than our Topic Alias Maximum")]
    TopicAliasInvalid,
    /// An empty topic with an alias never set.
    #[error("(MQTT 5.0 section 3.3.2.3.4) empty topic name with a topic alias that was never set")]
    TopicAliasUnknown,
    /// A Subscription Identifier in a PUBLISH from a client.
    #[error("[MQTT-3.3.4-6] a PUBLISH from a client must not carry a Subscription Identifier")]
    SubscriptionIdFromClient,
    /// No Local on a shared subscription.
    #[error("[MQTT-3.8.3-4] No Local must not be set on a shared subscription")]
    SharedNoLocal,
    /// DISCONNECT setting a session expiry when CONNECT had zero.
    #[error(
        "(MQTT 5.0 section 3.14.2.2.2) a non-zero Session Expiry Interval on DISCONNECT when CONNECT had zero"
    )]
    SessionExpiryAfterZero,
}

impl ProtocolViolation {
    /// The reason code for the DISCONNECT we send.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Decode(e) => e.reason_code(),
            Self::ReceiveMaximumExceeded => ReasonCode::ReceiveMaximumExceeded,
            Self::TopicAliasInvalid => ReasonCode::TopicAliasInvalid,
            _ => ReasonCode::ProtocolError,
        }
    }
}

/// Why the connection loop stopped.
#[derive(Debug)]
pub enum End {
    /// The client sent DISCONNECT; `will` says whether to publish the will.
    ClientDisconnect {
        /// True for any reason but 0x00 Normal disconnection.
        will: bool,
    },
    /// The client broke the protocol.
    Violation(ProtocolViolation),
    /// Nothing received for 1.5 × keep alive.
    KeepAliveTimeout,
    /// Another connection took the client id.
    TakenOver,
    /// An operator closed the connection (admin API).
    Kicked,
    /// The broker is shutting down.
    Shutdown,
    /// The peer closed the stream or it failed.
    Closed,
}

impl End {
    /// The v5 DISCONNECT reason we send for this end, if any.
    fn disconnect_reason(&self) -> Option<ReasonCode> {
        match self {
            Self::Violation(v) => Some(v.reason_code()),
            Self::KeepAliveTimeout => Some(ReasonCode::KeepAliveTimeout),
            Self::TakenOver => Some(ReasonCode::SessionTakenOver),
            Self::Kicked => Some(ReasonCode::AdministrativeAction),
            Self::Shutdown => Some(ReasonCode::ServerShuttingDown),
            Self::ClientDisconnect { .. } | Self::Closed => None,
        }
    }

    /// Whether the will is published ([MQTT-3.1.2-8]; not after DISCONNECT 0x00).
    /// At shutdown it is not: the broker is going away with its subscribers.
    fn publishes_will(&self) -> bool {
        match self {
            Self::ClientDisconnect { will } => *will,
            Self::Shutdown => false,
            _ => true,
        }
    }
}

/// Serve one client on `stream` until it ends or `shutdown` turns true.
pub async fn run<S>(broker: Arc<Broker>, stream: S, peer: Peer, mut shutdown: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut rbuf = ReadBuffer::new();
    let mut decoder = Decoder::new(broker.config.max_packet_size);
    let deadline = tokio::time::Instant::now() + broker.config.connect_timeout;

    // Phase 1: the CONNECT packet, within connect_timeout.
    let first = tokio::select! {
        r = tokio::time::timeout_at(deadline, read_connect(&mut reader, &mut rbuf, &mut decoder, &broker.metrics)) => r,
        _ = shutdown.changed() => return,
    };
    let connect = match first {
        Err(_elapsed) => {
            tracing::debug!(%peer, "no CONNECT within the connect timeout; closing");
            return;
        }
        Ok(Ok(Some(Packet::Connect(c)))) => c,
        Ok(Ok(Some(other))) => {
            tracing::debug!(%peer, ?other, "[MQTT-3.1.0-1] first packet is not CONNECT; closing");
            return;
        }
        Ok(Ok(None)) => return,
        Ok(Err((e, claimed))) => {
            let mut out = BytesMut::new();
            connect::refuse_undecodable(&e, claimed, &mut out);
            tracing::debug!(%peer, error = %e, "bad CONNECT; closing");
            let _ = write_out(&mut writer, &mut out, &broker.metrics).await;
            let _ = writer.shutdown().await;
            return;
        }
    };

    // Phase 2: CONNACK, or a refusal.
    let mut wbuf = BytesMut::new();
    if !connect::authenticate(&broker, &connect, &peer, &mut wbuf).await {
        let _ = write_out(&mut writer, &mut wbuf, &broker.metrics).await;
        let _ = writer.shutdown().await;
        return;
    }
    let conn = connect::accept(&broker, *connect, &peer, Instant::now(), &mut wbuf);
    let Some(mut conn) = conn else {
        let _ = write_out(&mut writer, &mut wbuf, &broker.metrics).await;
        let _ = writer.shutdown().await;
        return;
    };
    Metrics::add(&broker.metrics.clients_connected, 1);

    // Phase 3: the session.
    let end = serve(
        &mut conn,
        &mut reader,
        &mut writer,
        &mut rbuf,
        &mut decoder,
        &mut wbuf,
        &mut shutdown,
    )
    .await;
    tracing::debug!(%peer, client = %conn.client_id(), ?end, "connection ended");
    if let Some(reason) = end.disconnect_reason()
        && conn.version().is_v5()
    {
        conn.write_disconnect(reason, &end, &mut wbuf);
    }
    // Detach (and publish the will) before the client can see the close, so
    // a client that reconnects at once finds the session in its final state.
    broker
        .metrics
        .clients_connected
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    let durable_wait = conn.take_durable_wait();
    conn.finish(end.publishes_will());
    if let Some(ticket) = durable_wait
        && broker.store.durable(ticket).await.is_err()
    {
        // Acknowledgements that promise durability must not leave.
        wbuf.clear();
    }
    if !wbuf.is_empty() {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            write_out(&mut writer, &mut wbuf, &broker.metrics),
        )
        .await;
    }
    let _ = writer.shutdown().await;
}

/// The main loop after CONNACK.
async fn serve<R, W>(
    conn: &mut Connection,
    reader: &mut R,
    writer: &mut W,
    rbuf: &mut ReadBuffer,
    decoder: &mut Decoder,
    wbuf: &mut BytesMut,
    shutdown: &mut watch::Receiver<bool>,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let broker = Arc::clone(conn.broker());
    let session = Arc::clone(conn.session());
    let link = Arc::clone(conn.link());
    let keep_alive = conn.keep_alive();
    let mut last_packet = tokio::time::Instant::now();
    loop {
        if let Some(end) = conn.resume(Instant::now(), wbuf) {
            return end;
        }
        if !conn.flush_queue(Instant::now(), wbuf) {
            return End::TakenOver;
        }
        // Group commit: acknowledgements that promise durability wait here,
        // with no lock held, for the store writer's next commit.
        if let Some(ticket) = conn.take_durable_wait()
            && broker.store.durable(ticket).await.is_err()
        {
            wbuf.clear();
            return End::Closed;
        }
        if !wbuf.is_empty() && write_out(writer, wbuf, &broker.metrics).await.is_err() {
            return End::Closed;
        }
        rbuf.prepare();
        // Flow control: a stalled PUBLISH waits for room in this session's
        // queue; with enough packets held, the client is not read at all
        // (and not timed out for it).
        let waiting_on = conn.waiting_on();
        let reading = !conn.reads_paused();
        if !reading {
            last_packet = tokio::time::Instant::now();
        }
        let keepalive_at = keep_alive.map(|k| last_packet + k.mul_f32(1.5));
        tokio::select! {
            biased;
            _ = shutdown.changed() => return End::Shutdown,
            () = link.kicked() => return match link.reason() {
                KickReason::TakenOver => End::TakenOver,
                KickReason::Administrative => End::Kicked,
            },
            r = reader.read_buf(&mut rbuf.buf), if reading => {
                match r {
                    Ok(0) | Err(_) => return End::Closed,
                    Ok(n) => {
                        rbuf.filled(n);
                        Metrics::add(&broker.metrics.bytes_received, n as u64);
                    }
                }
                loop {
                    match decoder.decode(&mut rbuf.buf) {
                        Ok(Some(packet)) => {
                            last_packet = tokio::time::Instant::now();
                            if let Some(end) = conn.handle(packet, Instant::now(), wbuf) {
                                return end;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return End::Violation(ProtocolViolation::Decode(e)),
                    }
                }
                rbuf.settle();
            }
            () = session.wake.notified() => {}
            () = wait_for_room(waiting_on.as_deref()) => {}
            () = sleep_until_opt(keepalive_at) => return End::KeepAliveTimeout,
        }
    }
}

/// Read until the CONNECT packet decodes; `Ok(None)` on a clean close. An
/// error comes with the version the raw bytes claim, to answer in it.
async fn read_connect<R: AsyncRead + Unpin>(
    reader: &mut R,
    rbuf: &mut ReadBuffer,
    decoder: &mut Decoder,
    metrics: &Metrics,
) -> Result<Option<Packet>, (DecodeError, Option<ProtocolVersion>)> {
    loop {
        let claimed = connect::claimed_version(&rbuf.buf);
        match decoder.decode(&mut rbuf.buf) {
            Ok(Some(p)) => return Ok(Some(p)),
            Ok(None) => {}
            Err(e) => return Err((e, claimed)),
        }
        rbuf.prepare();
        match reader.read_buf(&mut rbuf.buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => {
                rbuf.filled(n);
                Metrics::add(&metrics.bytes_received, n as u64);
            }
        }
    }
}

/// One `write_all` for everything encoded since the last write.
async fn write_out<W: AsyncWrite + Unpin>(
    writer: &mut W,
    wbuf: &mut BytesMut,
    metrics: &Metrics,
) -> std::io::Result<()> {
    writer.write_all(wbuf).await?;
    writer.flush().await?;
    Metrics::add(&metrics.bytes_sent, wbuf.len() as u64);
    wbuf.clear();
    if wbuf.capacity() > IDLE_BUFFER_LIMIT {
        *wbuf = BytesMut::new();
    }
    Ok(())
}

/// Until `session` may have room (forever without one).
async fn wait_for_room(session: Option<&crate::session::SessionShared>) {
    match session {
        Some(s) => s.wait_for_room().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A v5 DISCONNECT with `reason` and, if allowed, a reason string.
fn disconnect_packet(reason: ReasonCode, reason_string: Option<String>) -> Packet {
    Packet::Disconnect(Disconnect {
        reason,
        properties: DisconnectProperties {
            reason_string: reason_string.map(Into::into),
            ..DisconnectProperties::default()
        },
    })
}

#[cfg(test)]
mod tests {
    /// Every idle connection holds one of these futures: keep it small.
    #[test]
    fn the_connection_task_stays_small() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let broker =
            std::sync::Arc::new(crate::broker::Broker::new(crate::config::Config::default()));
        let (stream, _peer) = tokio::io::duplex(64);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let task = super::run(broker, stream, addr.into(), rx);
        let size = std::mem::size_of_val(&task);
        assert!(size <= 2048, "connection task future is {size} bytes");
    }
}
