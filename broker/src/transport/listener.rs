//! The accept side of the HTTP and HTTPS listeners, as an axum
//! [`Listener`]: TCP accepted here, TLS handshakes run in their own tasks
//! so one slow client never holds up the next, and finished streams reach
//! axum through a channel together with the [`Peer`] (address and client
//! certificate name) that becomes the handlers' `ConnectInfo`.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;

use super::Peer;
use super::tls::{TlsConfigSlot, peer_common_name};

/// TLS handshakes in progress per listener. Past this the accept loop
/// waits, and new connections wait in the kernel's backlog: bounded work
/// however many clients knock at once.
const HANDSHAKES_IN_FLIGHT: usize = 256;

/// Accepted streams waiting for axum to take them. axum takes them as fast
/// as it can spawn; when full, the accept loop waits (backpressure, no drop).
const READY_QUEUE: usize = 64;

/// A plain or TLS HTTP connection.
pub type HttpIo = Either<TcpStream, TlsStream<TcpStream>>;

/// An HTTP or HTTPS listener for [`axum::serve`].
#[derive(Debug)]
pub struct HttpListener {
    ready: mpsc::Receiver<(HttpIo, Peer)>,
    local: SocketAddr,
}

impl HttpListener {
    /// Start accepting on `listener` (TLS with the configuration in force
    /// in `tls` at each accept) until `stop` turns true. A handshake must
    /// finish within `handshake_timeout`.
    pub fn start(
        listener: TcpListener,
        tls: Option<Arc<TlsConfigSlot>>,
        handshake_timeout: Duration,
        stop: watch::Receiver<bool>,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(accept_loop(listener, tls, handshake_timeout, tx, stop));
        Ok(Self { ready, local })
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<TlsConfigSlot>>,
    handshake_timeout: Duration,
    tx: mpsc::Sender<(HttpIo, Peer)>,
    mut stop: watch::Receiver<bool>,
) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES_IN_FLIGHT));
    loop {
        let Ok(slot) = Arc::clone(&handshakes).acquire_owned().await else {
            return;
        };
        let (tcp, addr) = tokio::select! {
            _ = stop.changed() => return,
            pair = super::accept(&listener) => pair,
        };
        let Some(acceptor) = tls.as_ref().map(|slot| slot.acceptor()) else {
            if tx
                .send((Either::Left(tcp), Peer::from(addr)))
                .await
                .is_err()
            {
                return;
            }
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let peer = Peer {
                        addr,
                        cert_name: peer_common_name(stream.get_ref().1),
                    };
                    drop(slot);
                    let _ = tx.send((Either::Right(stream), peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

impl Listener for HttpListener {
    type Io = HttpIo;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accept loop stopped (shutdown): axum stops asking soon.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Peer::from(self.local))
    }
}

impl Connected<IncomingStream<'_, HttpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, HttpListener>) -> Self {
        stream.remote_addr().clone()
    }
}
