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

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use courtier_proto::packet::{Disconnect, DisconnectProperties};
use courtier_proto::{DecodeError, Decoder, Packet, ProtocolVersion, ReasonCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use self::buffer::ReadBuffer;
pub use self::protocol::Connection;
use crate::broker::Broker;
use crate::limits::PublishRate;
use crate::metrics::Metrics;
use crate::session::Sendable;
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
    /// A subscriber that accepted nothing for `slow_subscriber_timeout`
    /// while a publisher waited for room in its queue.
    TooSlow,
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
            Self::TooSlow => Some(ReasonCode::QuotaExceeded),
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

/// The byte stream and the buffers between it and the decoder. The stream
/// is not split into halves: reads and writes never overlap (the loop
/// writes, then waits to read), and a split would cost every connection a
/// shared allocation and every read and write a lock.
struct Io<S> {
    stream: S,
    rbuf: ReadBuffer,
    decoder: Decoder,
    wbuf: BytesMut,
}

/// Serve one client on `stream` until it ends or the broker shuts down
/// (`shutdown` during the handshake, `Broker::close_connections` after);
/// `permit` (the connection limit's) is held until then.
///
/// Every idle connection is one of these futures, and a future is as large
/// as its largest state for its whole life: the handshake and the goodbye
/// (a decoded CONNECT, timers, authentication, the last write) are boxed,
/// so they take heap memory only while they run, and the task keeps only
/// what the packet loop needs. Not an `async fn`: the future then holds
/// each argument once, not also beside its moved copy.
pub fn run<S>(
    broker: Arc<Broker>,
    stream: S,
    peer: Peer,
    mut shutdown: watch::Receiver<bool>,
    permit: crate::limits::Slot,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut io = Io {
        stream,
        rbuf: ReadBuffer::new(),
        decoder: Decoder::new(broker.config.max_packet_size),
        wbuf: BytesMut::new(),
    };
    // Everything only the handshake needs (the peer's address, the
    // shutdown receiver) stays in its box and goes with it.
    let handshake = Box::pin(async move {
        let conn = establish(&broker, &mut io, peer, &mut shutdown).await?;
        Some((conn, io))
    });
    async move {
        let Some((mut conn, mut io)) = handshake.await else {
            return;
        };
        Metrics::add(&conn.broker().metrics.clients_connected, 1);
        let end = serve(&mut conn, &mut io).await;
        tracing::debug!(client = %conn.client_id(), ?end, "connection ended");
        Box::pin(close(conn, end, &mut io)).await;
        drop(permit);
    }
}

/// Phases 1 and 2: the CONNECT packet within `connect_timeout`, then
/// CONNACK or a refusal. `None` when the connection is over.
async fn establish<S>(
    broker: &Arc<Broker>,
    io: &mut Io<S>,
    peer: Peer,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Connection>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = tokio::time::Instant::now() + broker.config.connect_timeout;
    let read = read_connect(
        &mut io.stream,
        &mut io.rbuf,
        &mut io.decoder,
        &broker.metrics,
    );
    let first = tokio::select! {
        r = tokio::time::timeout_at(deadline, read) => r,
        _ = shutdown.changed() => return None,
    };
    let connect = match first {
        Err(_elapsed) => {
            tracing::debug!(%peer, "no CONNECT within the connect timeout; closing");
            return None;
        }
        Ok(Ok(Some(Packet::Connect(c)))) => c,
        Ok(Ok(Some(other))) => {
            tracing::debug!(%peer, ?other, "[MQTT-3.1.0-1] first packet is not CONNECT; closing");
            return None;
        }
        Ok(Ok(None)) => return None,
        Ok(Err((e, claimed))) => {
            connect::refuse_undecodable(&e, claimed, &mut io.wbuf);
            tracing::debug!(%peer, error = %e, "bad CONNECT; closing");
            let _ = write_out(&mut io.stream, &mut io.wbuf, &broker.metrics).await;
            let _ = io.stream.shutdown().await;
            return None;
        }
    };
    if !connect::authenticate(broker, &connect, &peer, &mut io.wbuf).await {
        let _ = write_out(&mut io.stream, &mut io.wbuf, &broker.metrics).await;
        let _ = io.stream.shutdown().await;
        return None;
    }
    // A session resumed from offline has its queued messages on disk:
    // read them back first (off the async workers), so it is attached
    // with an ordinary queue.
    if !connect.clean_start && !connect.client_id.is_empty() {
        // An error is logged there; the markers stay, read on the next try.
        let _ = broker.resume_spilled(&connect.client_id).await;
    }
    // The box goes in whole: moved out of here, its allocation would live
    // until this function returns (a partly moved `Box` is freed at scope end).
    let conn = connect::accept(broker, connect, &peer, Instant::now(), &mut io.wbuf);
    if conn.is_none() {
        let _ = write_out(&mut io.stream, &mut io.wbuf, &broker.metrics).await;
        let _ = io.stream.shutdown().await;
    }
    conn
}

/// Phase 4: DISCONNECT if due, detach (publishing the will), the last write.
async fn close<S>(mut conn: Connection, end: End, io: &mut Io<S>)
where
    S: AsyncWrite + Unpin,
{
    let broker = Arc::clone(conn.broker());
    let wbuf = &mut io.wbuf;
    match &end {
        End::TooSlow => Metrics::add(&broker.metrics.slow_subscribers_disconnected, 1),
        End::Violation(v) => {
            *broker
                .metrics
                .violations
                .lock()
                .entry(v.reason_code().as_u8())
                .or_default() += 1;
        }
        _ => {}
    }
    if let Some(reason) = end.disconnect_reason()
        && conn.version().is_v5()
    {
        conn.write_disconnect(reason, &end, wbuf);
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
            write_out(&mut io.stream, wbuf, &broker.metrics),
        )
        .await;
    }
    let _ = io.stream.shutdown().await;
}

/// The main loop after CONNACK.
async fn serve<S>(conn: &mut Connection, io: &mut Io<S>) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let session = Arc::clone(conn.session());
    let link = Arc::clone(conn.link());
    let mut last_packet = tokio::time::Instant::now();
    // The keep-alive timer and the publish rate, in one box made only when
    // either is in force: every idle connection holds this future. The timer
    // may fire early (it is not moved forward for every packet, which would
    // cost a timer update per read); then it is set to the real deadline.
    // (A block: a local in scope across an await lives in the future.)
    let mut pacing = {
        let max_rate = conn.broker().config.max_publish_rate;
        let keep_alive = conn.keep_alive();
        (keep_alive.is_some() || max_rate > 0).then(|| {
            Box::new(Pacing {
                keep_alive: keep_alive.map(|k| {
                    let grace = k.mul_f32(1.5);
                    (
                        grace,
                        Box::pin(tokio::time::sleep_until(last_packet + grace)),
                    )
                }),
                rate: (max_rate > 0).then(|| PublishRate::new(max_rate, Instant::now())),
            })
        })
    };
    loop {
        if conn.broker().is_closing() {
            return End::Shutdown;
        }
        if let Some(end) = conn.resume(Instant::now(), &mut io.wbuf) {
            return end;
        }
        // Retained messages SUBSCRIBEs matched, a chunk at a time as the
        // queue has room (boxed: rare, and every idle connection holds
        // this future). While more wait, the session's wake signal is
        // left set, so the loop comes back here after reading the client.
        if conn.retained_ready() {
            Box::pin(conn.send_retained()).await;
        }
        match conn.flush_queue(Instant::now(), &mut io.wbuf) {
            Sendable::NotOwner => return End::TakenOver,
            Sendable::Taken => {}
            // The next messages in order are on disk: read the next chunk
            // back (off the async workers; boxed, as every idle connection
            // holds this future), then take it. An unreadable store ends
            // the connection rather than skip messages.
            Sendable::ReadBack => {
                let session = Arc::clone(conn.session());
                if Box::pin(conn.broker().read_back_spilled(&session))
                    .await
                    .is_err()
                {
                    return End::Closed;
                }
                if conn.flush_queue(Instant::now(), &mut io.wbuf) == Sendable::NotOwner {
                    return End::TakenOver;
                }
            }
        }
        // Group commit: acknowledgements that promise durability wait here,
        // with no lock held, for the store writer's next commit.
        if let Some(ticket) = conn.take_durable_wait()
            && conn.broker().store.durable(ticket).await.is_err()
        {
            io.wbuf.clear();
            return End::Closed;
        }
        if !io.wbuf.is_empty()
            && write_out(&mut io.stream, &mut io.wbuf, &conn.broker().metrics)
                .await
                .is_err()
        {
            return End::Closed;
        }
        io.rbuf.prepare();
        // Flow control: a stalled PUBLISH waits for room in this session's
        // queue; with enough packets held, the client is not read at all
        // (and not timed out for it). Boxed: rarely waited for.
        // A subscriber that accepts nothing for `slow_subscriber_timeout`
        // is disconnected rather than holding publishers up for ever; its
        // session then goes offline and the offline overflow policy applies.
        let slow_at = conn.broker().config.slow_subscriber_timeout;
        let slow_at = slow_at
            .zip(conn.stalled_since())
            .map(|(t, since)| since + t);
        let room = conn.waiting_on().map(|s| {
            Box::pin(async move {
                if let Some(at) = slow_at {
                    tokio::select! {
                        () = s.wait_for_room() => return,
                        () = tokio::time::sleep_until(at.into()) => s.disconnect_too_slow(),
                    }
                }
                // Until it is gone (its detach releases the waiters) or drains.
                s.wait_for_room().await;
            })
        });
        let reading = !conn.reads_paused() && !rate_paused(&pacing);
        let (keep_alive_timer, rate_pause) = match pacing.as_deref_mut() {
            Some(p) => (
                p.keep_alive.as_mut().map(|(_, timer)| timer),
                p.rate.as_mut().and_then(|r| r.pause.as_mut()),
            ),
            None => (None, None),
        };
        if !reading {
            last_packet = tokio::time::Instant::now();
        }
        tokio::select! {
            biased;
            // Takeover, an operator's kick, or shutdown (`Broker::close_connections`).
            () = link.kicked() => {
                return if conn.broker().is_closing() {
                    End::Shutdown
                } else {
                    match link.reason() {
                        KickReason::TakenOver => End::TakenOver,
                        KickReason::Administrative => End::Kicked,
                        KickReason::TooSlow => End::TooSlow,
                    }
                };
            }
            r = io.rbuf.read_from(&mut io.stream), if reading => {
                match r {
                    Ok(0) | Err(_) => return End::Closed,
                    Ok(n) => Metrics::add(&conn.broker().metrics.bytes_received, n as u64),
                }
                let mut publishes = 0u32;
                loop {
                    match io.decoder.decode(&mut io.rbuf.buf) {
                        Ok(Some(packet)) => {
                            last_packet = tokio::time::Instant::now();
                            publishes += u32::from(matches!(packet, Packet::Publish(_)));
                            if let Some(end) = conn.handle(packet, Instant::now(), &mut io.wbuf) {
                                return end;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return End::Violation(ProtocolViolation::Decode(e)),
                    }
                }
                io.rbuf.settle();
                if let Some(rate) = pacing.as_mut().and_then(|p| p.rate.as_mut())
                    && publishes > 0
                    && let Some(wait) = rate.charge(publishes, Instant::now())
                {
                    Metrics::add(&conn.broker().metrics.throttled_publishers, 1);
                    rate.pause = Some(Box::pin(tokio::time::sleep(wait)));
                }
            }
            () = or_pending(rate_pause) => {
                if let Some(rate) = pacing.as_mut().and_then(|p| p.rate.as_mut()) {
                    rate.pause = None;
                }
                // Not timed out for the pause we imposed.
                last_packet = tokio::time::Instant::now();
            }
            () = session.wake.notified() => {}
            () = or_pending(room) => {}
            () = or_pending(keep_alive_timer) => {
                let now = tokio::time::Instant::now();
                // Recomputed rather than kept from above: a value used after
                // the await would live in every connection's future.
                if conn.reads_paused() || rate_paused(&pacing) {
                    // We are not reading it (flow control, publish rate):
                    // its silence is ours, not the client's.
                    last_packet = now;
                }
                let grace = pacing.as_ref().and_then(|p| p.keep_alive.as_ref()).map_or(Duration::ZERO, |k| k.0);
                let due = last_packet + grace;
                if now >= due {
                    return End::KeepAliveTimeout;
                }
                if let Some((_, timer)) = pacing.as_mut().and_then(|p| p.keep_alive.as_mut()) {
                    timer.as_mut().reset(due);
                }
            }
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
        match rbuf.read_from(reader).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => Metrics::add(&metrics.bytes_received, n as u64),
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

/// `fut` if there is one, else never: a `select!` branch that is only
/// sometimes armed, at the size of a pointer.
/// A connection's optional timers (see `serve`).
struct Pacing {
    /// 1.5 × the keep alive, and the timer for it.
    keep_alive: Option<(Duration, std::pin::Pin<Box<tokio::time::Sleep>>)>,
    rate: Option<PublishRate>,
}

/// Whether reading is held back for the publish rate.
fn rate_paused(pacing: &Option<Box<Pacing>>) -> bool {
    pacing
        .as_ref()
        .and_then(|p| p.rate.as_ref())
        .is_some_and(|r| r.pause.is_some())
}

async fn or_pending<F: Future<Output = ()> + Unpin>(fut: Option<F>) {
    match fut {
        Some(f) => f.await,
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
#[path = "size_tests.rs"]
mod tests;
