//! The HTTP and HTTPS listeners: `GET <ws_path>` (default `/mqtt`) upgraded
//! to MQTT over WebSocket, and the web app's static build served from
//! `--web-root` at `/`.
//!
//! The upgrade is refused before any MQTT byte flows when the client offers
//! no MQTT subprotocol (400), when its page's Origin is not allowed (403),
//! or when the connection limit is reached (503).

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower_http::services::ServeDir;

use super::Peer;
use super::listener::HttpListener;
use super::ws::WsStream;
use crate::broker::Broker;
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
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

/// Serve HTTP (HTTPS with `tls`) on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    broker: Arc<Broker>,
    permits: Arc<Semaphore>,
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
    let state = HttpState {
        broker,
        permits,
        stop,
    };
    let mut app = Router::new()
        .route(&ws_path, get(upgrade))
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

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<Peer>,
) -> Response {
    let config = &state.broker.config;
    let peer = Peer {
        addr: super::forwarded::client_addr(peer.addr, &headers, &config.trusted_proxies),
        cert_name: peer.cert_name,
    };
    if !super::origin::allowed(&headers, &config.ws_allowed_origins) {
        tracing::info!(%peer, origin = ?headers.get("origin"), "WebSocket refused: origin not allowed");
        return (
            StatusCode::FORBIDDEN,
            "this page's origin may not open MQTT WebSockets here (see ws_allowed_origin)\n",
        )
            .into_response();
    }
    let ws = ws.protocols(SUBPROTOCOLS);
    if ws.selected_protocol().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            "MQTT over WebSocket needs the `mqtt` subprotocol (Sec-WebSocket-Protocol: mqtt)\n",
        )
            .into_response();
    }
    Metrics::add(&state.broker.metrics.connections_total, 1);
    let Ok(permit) = Arc::clone(&state.permits).try_acquire_owned() else {
        Metrics::add(&state.broker.metrics.connections_refused, 1);
        return (StatusCode::SERVICE_UNAVAILABLE, "max_connections reached\n").into_response();
    };
    let max_message = usize::try_from(config.max_packet_size)
        .unwrap_or(usize::MAX)
        .saturating_add(FRAME_SLACK);
    ws.max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| async move {
            crate::connection::run(state.broker, WsStream::new(socket), peer, state.stop).await;
            drop(permit);
        })
}
