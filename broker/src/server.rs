//! Listeners, the accept loop, the connection limit and graceful shutdown.
//!
//! Shutdown is one `watch` channel: SIGINT/SIGTERM flips it, every accept
//! loop stops, every connection task sends v5 clients DISCONNECT 0x8B and
//! exits, and [`run`] waits (bounded) for the connection permits to return.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::broker::Broker;
use crate::config::Config;
use crate::metrics::Metrics;

/// How long shutdown waits for connections to say goodbye.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A listener could not bind.
    #[error(
        "cannot listen on {addr}: {source} (is another broker running? choose another address with --tcp)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A running broker: bound listeners, ready to serve.
#[derive(Debug)]
pub struct Server {
    broker: Arc<Broker>,
    listeners: Vec<TcpListener>,
    http_listeners: Vec<TcpListener>,
}

async fn bind_all(addrs: &[SocketAddr]) -> Result<Vec<TcpListener>, ServerError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: *addr,
                source,
            })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

impl Server {
    /// Bind every configured listener.
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        let listeners = bind_all(&config.tcp).await?;
        let http_listeners = bind_all(&config.http).await?;
        Ok(Self {
            broker: Arc::new(Broker::new(config)),
            listeners,
            http_listeners,
        })
    }

    /// The bound TCP addresses (with real ports when 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The bound HTTP (WebSocket and web app) addresses.
    pub fn http_addrs(&self) -> Vec<SocketAddr> {
        self.http_listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The shared state (for tests and admin).
    pub fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    /// Serve until `shutdown` resolves, then close every connection.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let max = self.broker.config.max_connections;
        // One budget for every transport: a permit per live connection.
        let permits = Arc::new(Semaphore::new(max));
        for listener in self.listeners {
            tokio::spawn(accept_loop(
                listener,
                Arc::clone(&self.broker),
                Arc::clone(&permits),
                stop_rx.clone(),
            ));
        }
        for listener in self.http_listeners {
            tokio::spawn(crate::transport::http::serve(
                listener,
                Arc::clone(&self.broker),
                Arc::clone(&permits),
                stop_rx.clone(),
                self.broker.config.web_root.clone(),
            ));
        }
        if let Some(every) = self.broker.config.sys_interval {
            tokio::spawn(crate::sys::publish_loop(
                Arc::clone(&self.broker),
                every,
                stop_rx.clone(),
            ));
        }
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within {SHUTDOWN_GRACE:?}");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    broker: Arc<Broker>,
    permits: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            r = listener.accept() => r,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Typically EMFILE: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        Metrics::add(&broker.metrics.connections_total, 1);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            Metrics::add(&broker.metrics.connections_refused, 1);
            tracing::warn!(%peer, "max_connections reached; closing new connection");
            drop(stream);
            continue;
        };
        tokio::spawn(serve_tcp(
            stream,
            peer,
            Arc::clone(&broker),
            stop.clone(),
            permit,
        ));
    }
}

async fn serve_tcp(
    stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    stop: watch::Receiver<bool>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    // Small MQTT packets must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    crate::connection::run(broker, stream, peer, stop).await;
    drop(permit);
}
