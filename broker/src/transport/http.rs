//! The HTTP listener: `GET /mqtt` upgraded to MQTT over WebSocket, and the
//! web app's static build served from `--web-root` at `/`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::services::ServeDir;

use super::ws::WsStream;
use crate::broker::Broker;
use crate::metrics::Metrics;

/// The WebSocket subprotocols we speak: `mqtt` (3.1.1 and 5.0) and
/// `mqttv3.1` for old 3.1 clients. The first one offered by the client wins.
const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
struct HttpState {
    broker: Arc<Broker>,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
}

/// Serve HTTP on `listener` until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    broker: Arc<Broker>,
    permits: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
    web_root: Option<PathBuf>,
) {
    let mut shutdown = stop.clone();
    let state = HttpState {
        broker,
        permits,
        stop,
    };
    let mut app = Router::new().route("/mqtt", get(upgrade)).with_state(state);
    if let Some(root) = web_root {
        app = app.fallback_service(ServeDir::new(root));
    }
    let listener = listener.tap_io(|tcp| {
        // Small MQTT packets must not wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
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
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
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
    // A frame never needs to be much larger than one packet; this bounds
    // what a peer can make us buffer before the decoder sees it.
    let max_message = usize::try_from(state.broker.config.max_packet_size)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    ws.max_message_size(max_message)
        .on_upgrade(move |socket| async move {
            crate::connection::run(state.broker, WsStream::new(socket), peer, state.stop).await;
            drop(permit);
        })
}
