//! The HTTP and HTTPS listeners: `GET <ws_path>` (default `/mqtt`) upgraded
//! to MQTT over WebSocket, `/metrics`, the admin API under `/api/v1`
//! ([`crate::admin`]), and the web app's static build served from
//! `--web-root` at `/`.
//!
//! The upgrade is refused before any MQTT byte flows when the client offers
//! no MQTT subprotocol (400), when its page's Origin is not allowed (403),
//! or when the connection limit is reached (503).
//!
//! Every HTTP/1.1 upgrade is taken by us, on our own framing in
//! [`super::deflate`], with permessage-deflate (RFC 7692) when the client
//! offers it; anything else (HTTP/2, malformed handshakes) is left to axum's
//! `WebSocketUpgrade` (tungstenite, no extensions) and its refusals.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::services::ServeDir;

use super::Peer;
use super::deflate::{DeflateHandshake, DeflateWsStream};
use super::listener::HttpListener;
use super::ws::WsStream;
use crate::broker::Broker;
use crate::limits::{ConnectionBudget, NoSlot, Slot};
use crate::metrics::Metrics;

/// The WebSocket subprotocols we speak: `mqtt` (3.1.1 and 5.0) and
/// `mqttv3.1` for old 3.1 clients. The first one offered by the client wins
/// and is named in the answer (MQTT 5.0 section 6.0).
const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// Room above `max_packet_size` for a WebSocket message: a frame never
/// needs to be much larger than one packet, and this bounds what a peer can
/// make us buffer before the decoder sees (and limits) it.
const FRAME_SLACK: usize = 64 * 1024;

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
struct HttpState {
    broker: Arc<Broker>,
    budget: ConnectionBudget,
    stop: watch::Receiver<bool>,
}

/// Serve HTTP (HTTPS with `tls`) on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<super::tls::TlsConfigSlot>>,
    broker: Arc<Broker>,
    budget: ConnectionBudget,
    stop: watch::Receiver<bool>,
) {
    let mut shutdown = stop.clone();
    let config = &broker.config;
    let web_root: Option<PathBuf> = config.web_root.clone();
    let listener = match HttpListener::start(listener, tls, config.connect_timeout, stop.clone()) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "HTTP listener failed");
            return;
        }
    };
    let ws_path = config.ws_path.clone();
    let admin = crate::admin::router(Arc::clone(&broker));
    let state = HttpState {
        broker,
        budget,
        stop,
    };
    let mut app = Router::new()
        .route(&ws_path, get(upgrade))
        .route(METRICS_PATH, get(metrics))
        .nest(crate::admin::API_PATH, admin)
        .with_state(state);
    if let Some(root) = web_root {
        app = app.fallback_service(ServeDir::new(root));
    }
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "HTTP listener failed");
    }
}

/// Where the Prometheus metrics are served (`ws_path` may not take it).
pub const METRICS_PATH: &str = "/metrics";

async fn metrics(State(state): State<HttpState>) -> Response {
    let body = crate::prometheus::render(&state.broker);
    (
        [(header::CONTENT_TYPE, crate::prometheus::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
) -> Response {
    let (mut parts, _body) = request.into_parts();
    let headers = &parts.headers;
    let config = &state.broker.config;
    let peer = Peer {
        addr: super::forwarded::client_addr(peer.addr, headers, &config.trusted_proxies),
        cert_name: peer.cert_name,
    };
    if !super::origin::allowed(headers, &config.ws_allowed_origins) {
        tracing::info!(%peer, origin = ?headers.get("origin"), "WebSocket refused: origin not allowed");
        return (
            StatusCode::FORBIDDEN,
            "this page's origin may not open MQTT WebSockets here (see ws_allowed_origin)\n",
        )
            .into_response();
    }
    let max_message = usize::try_from(config.max_packet_size)
        .unwrap_or(usize::MAX)
        .saturating_add(FRAME_SLACK);
    if let Some(handshake) =
        DeflateHandshake::from_request(&parts.method, parts.version, headers, &SUBPROTOCOLS)
        && let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>()
    {
        return upgrade_ours(state, peer, handshake, on_upgrade, max_message);
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws.protocols(SUBPROTOCOLS),
        Err(rejection) => return rejection.into_response(),
    };
    if ws.selected_protocol().is_none() {
        return no_subprotocol();
    }
    let Some(permit) = admit(&state) else {
        return busy();
    };
    ws.max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| async move {
            let stream = WsStream::new(socket);
            crate::connection::run(state.broker, stream, peer, state.stop, permit).await;
        })
}

/// Answer 101 (with the negotiated extension, if any) and serve the
/// upgraded connection on our own framing.
fn upgrade_ours(
    state: HttpState,
    peer: Peer,
    handshake: DeflateHandshake,
    on_upgrade: OnUpgrade,
    max_message: usize,
) -> Response {
    let Some(protocol) = handshake.protocol else {
        return no_subprotocol();
    };
    let Some(permit) = admit(&state) else {
        return busy();
    };
    let deflate = handshake.extension.is_some();
    // hyper hands over the connection once the 101 below is written.
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let stream = DeflateWsStream::new(TokioIo::new(upgraded), max_message, deflate);
                // A task of its own: this one's state includes the upgrade
                // wait, which the connection's lifetime should not carry.
                let run = crate::connection::run(state.broker, stream, peer, state.stop, permit);
                tokio::spawn(run);
            }
            Err(e) => tracing::debug!(%peer, error = %e, "WebSocket upgrade failed"),
        }
    });
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "upgrade")
        .header(header::SEC_WEBSOCKET_ACCEPT, &handshake.accept)
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    if let Some(extension) = &handshake.extension {
        response = response.header(header::SEC_WEBSOCKET_EXTENSIONS, extension);
    }
    let response = response.body(Body::empty());
    // Every value above is ASCII we produced, so the builder cannot fail.
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// 400: the handshake offered no MQTT subprotocol.
fn no_subprotocol() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "MQTT over WebSocket needs the `mqtt` subprotocol (Sec-WebSocket-Protocol: mqtt)\n",
    )
        .into_response()
}

/// 503: `max_connections` (or this listener's share) reached.
fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "connection limit reached\n",
    )
        .into_response()
}

/// A connection slot, `None` (counted as refused) when a limit is reached.
fn admit(state: &HttpState) -> Option<Slot> {
    Metrics::add(&state.broker.metrics.connections_total, 1);
    let slot = state.budget.try_take();
    if let Err(full) = slot {
        let m = &state.broker.metrics;
        Metrics::add(
            match full {
                NoSlot::Broker => &m.connections_refused,
                NoSlot::Listener => &m.refused_listener_full,
            },
            1,
        );
    }
    slot.ok()
}
