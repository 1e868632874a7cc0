//! Listeners, the accept loop, the connection limit and graceful shutdown.
//!
//! Shutdown is one `watch` channel and one pass over the sessions:
//! SIGINT/SIGTERM flips the channel, which stops every accept loop and every
//! connection still in its handshake, and `Broker::close_connections` wakes
//! every attached connection, which sends v5 clients DISCONNECT 0x8B and
//! exits; [`run`] waits (bounded) for the connection permits to return.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::broker::Broker;
use crate::config::Config;
use crate::limits::{ConnectionBudget, NoSlot, Slot};
use crate::metrics::Metrics;
use crate::store::{RedbStore, StoreError, StoreHandle};
use crate::transport::tls::{self, TlsError};
use crate::transport::{Peer, http};

/// How long shutdown waits for connections to say goodbye.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A listener could not bind.
    #[error(
        "cannot listen on {addr}: {source} (is another broker running? choose another address with --{kind})"
    )]
    Bind {
        /// The listener kind, as its flag is named.
        kind: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate, key or client CA cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The store cannot be opened or is damaged.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The kinds of listener, as named in the `courtier listening KIND ADDR` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// MQTT over TCP.
    Tcp,
    /// MQTT over TLS.
    Tls,
    /// HTTP: the web app and MQTT over WebSocket.
    Http,
    /// HTTPS: the web app and MQTT over secure WebSocket.
    Https,
}

impl ListenerKind {
    /// The name used in flags and ready lines.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A running broker: bound listeners, ready to serve.
#[derive(Debug)]
pub struct Server {
    broker: Arc<Broker>,
    listeners: Vec<(ListenerKind, TcpListener)>,
    /// The TLS configurations from the PEM files, which reloads replace;
    /// `None` without TLS listeners.
    tls: Option<Arc<tls::ServerTls>>,
    /// SIGHUP, installed at bind so a signal right after "ready" reloads
    /// instead of killing the process (its default action).
    hangup: Option<crate::reload::Hangup>,
}

async fn bind_all(
    kind: ListenerKind,
    addrs: &[SocketAddr],
) -> Result<Vec<TcpListener>, ServerError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind {
                kind: kind.name(),
                addr: *addr,
                source,
            })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

impl Server {
    /// Bind every configured listener.
    /// Bind every configured listener, after loading the TLS files (so a
    /// bad certificate is reported before anything listens).
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        // One set of TLS configurations for every TLS listener, so a reload
        // rotates the certificate and the client CA everywhere at once.
        let wants_tls = !(config.tls.is_empty() && config.https.is_empty());
        let tls = match &config.tls_files {
            Some(files) if wants_tls => Some(Arc::new(tls::ServerTls::load(files.clone())?)),
            _ => None,
        };
        let mut listeners = Vec::new();
        for (kind, addrs) in [
            (ListenerKind::Tcp, &config.tcp),
            (ListenerKind::Tls, &config.tls),
            (ListenerKind::Http, &config.http),
            (ListenerKind::Https, &config.https),
        ] {
            for listener in bind_all(kind, addrs).await? {
                listeners.push((kind, listener));
            }
        }
        // Opened last: a listener or certificate error is reported without
        // touching the store, and the store is loaded before anyone connects.
        let broker = if config.in_memory {
            Arc::new(Broker::new(config))
        } else {
            let store = RedbStore::open(&config.data_dir)?;
            let (handle, snapshot) = StoreHandle::open(Arc::new(store))?;
            let broker = Arc::new(Broker::with_store(config, handle));
            let restored = broker.restore(snapshot);
            let (retained, expired) = broker.restore_retained()?;
            tracing::info!(
                dir = %broker.config.data_dir.display(),
                sessions = restored.sessions,
                messages = restored.messages,
                retained,
                expired = restored.expired + expired,
                "store loaded"
            );
            broker
        };
        Ok(Self {
            broker,
            listeners,
            tls,
            hangup: crate::reload::hangup_signal(),
        })
    }

    /// Every bound listener with its kind (real ports when 0 was asked for),
    /// in the order tcp, tls, http, https.
    pub fn listeners(&self) -> Vec<(ListenerKind, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|(kind, l)| Some((*kind, l.local_addr().ok()?)))
            .collect()
    }

    fn addrs_of(&self, kind: ListenerKind) -> Vec<SocketAddr> {
        self.listeners()
            .into_iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, a)| a)
            .collect()
    }

    /// The bound TCP addresses (with real ports when 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.addrs_of(ListenerKind::Tcp)
    }

    /// The bound HTTP (WebSocket and web app) addresses.
    pub fn http_addrs(&self) -> Vec<SocketAddr> {
        self.addrs_of(ListenerKind::Http)
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
        let per_listener = self.broker.config.max_connections_per_listener;
        for (kind, listener) in self.listeners {
            let broker = Arc::clone(&self.broker);
            let permits = ConnectionBudget::new(Arc::clone(&permits), per_listener);
            if let Ok(addr) = listener.local_addr() {
                let mut open = self.broker.listener_connections.lock();
                open.push((kind.name(), addr, permits.open()));
            }
            let stop = stop_rx.clone();
            match kind {
                ListenerKind::Tcp => {
                    tokio::spawn(accept_loop(listener, None, broker, permits, stop))
                }
                ListenerKind::Tls => {
                    let tls = self.tls.as_ref().map(|t| Arc::clone(&t.mqtt));
                    tokio::spawn(accept_loop(listener, tls, broker, permits, stop))
                }
                ListenerKind::Http => {
                    tokio::spawn(http::serve(listener, None, broker, permits, stop))
                }
                ListenerKind::Https => {
                    let tls = self.tls.as_ref().map(|t| Arc::clone(&t.https));
                    tokio::spawn(http::serve(listener, tls, broker, permits, stop))
                }
            };
        }
        tokio::spawn(crate::reload::run(
            Arc::clone(&self.broker),
            self.tls.clone(),
            self.hangup,
            stop_rx.clone(),
        ));
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
        self.broker.close_connections();
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within {SHUTDOWN_GRACE:?}");
        }
        // Everything recorded so far is committed before the process exits.
        let broker = Arc::clone(&self.broker);
        let _ = tokio::task::spawn_blocking(move || broker.store.close()).await;
    }
}

/// Accept MQTT over TCP, or over TLS with the configuration in force in `tls`.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<tls::TlsConfigSlot>>,
    broker: Arc<Broker>,
    permits: ConnectionBudget,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => return,
            pair = crate::transport::accept(&listener) => pair,
        };
        Metrics::add(&broker.metrics.connections_total, 1);
        let permit = match permits.try_take() {
            Ok(slot) => slot,
            Err(full) => {
                let (counter, limit) = match full {
                    NoSlot::Broker => (&broker.metrics.connections_refused, "max_connections"),
                    NoSlot::Listener => (
                        &broker.metrics.refused_listener_full,
                        "max_connections_per_listener",
                    ),
                };
                Metrics::add(counter, 1);
                tracing::warn!(%peer, "{limit} reached; closing new connection");
                drop(stream);
                continue;
            }
        };
        let broker = Arc::clone(&broker);
        // Two task types, not one future with both paths in it: a task is
        // as large as its largest state, and the TLS one (the rustls
        // connection inline, plus its handshake) is twice the plain one,
        // which every idle TCP connection would otherwise pay for.
        match &tls {
            None => tokio::spawn(crate::connection::run(
                broker,
                stream,
                Peer::from(peer),
                stop.clone(),
                permit,
            )),
            Some(slot) => tokio::spawn(serve_tls(
                stream,
                peer,
                slot.acceptor(),
                broker,
                stop.clone(),
                permit,
            )),
        };
    }
}

/// One MQTT connection over TLS, the handshake first. The permit is held
/// from accept, so handshakes count against `max_connections` too.
async fn serve_tls(
    stream: TcpStream,
    addr: SocketAddr,
    acceptor: TlsAcceptor,
    broker: Arc<Broker>,
    mut stop: watch::Receiver<bool>,
    permit: Slot,
) {
    // The handshake shares the CONNECT deadline: a silent client is
    // dropped as early as on plain TCP.
    let handshake = tokio::time::timeout(broker.config.connect_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        _ = stop.changed() => return,
        r = handshake => match r {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%addr, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%addr, "TLS handshake timed out");
                return;
            }
        },
    };
    let peer = Peer {
        addr,
        cert_name: tls::peer_common_name(stream.get_ref().1),
    };
    crate::connection::run(broker, stream, peer, stop, permit).await;
}
