//! Transports: everything that turns into the byte stream the connection
//! task reads. TCP needs no adapter (a `TcpStream` already is one); TLS is
//! set up in [`tls`]; the WebSocket adapter is in [`ws`], the HTTP(S)
//! listener that upgrades to it in [`http`] with its accept side in
//! [`listener`], its Origin check in [`origin`] and the proxy header in
//! [`forwarded`].

pub mod deflate;
pub mod forwarded;
pub mod http;
pub mod listener;
pub mod origin;
pub mod tls;
pub mod ws;
mod x509;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// Who is on the other end of a connection, as far as the transport knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The client's address (behind a trusted proxy, the forwarded one).
    pub addr: SocketAddr,
    /// The Common Name of the verified client certificate (`--client-ca`),
    /// the identity authorization will use as username.
    pub cert_name: Option<Box<str>>,
}

impl From<SocketAddr> for Peer {
    fn from(addr: SocketAddr) -> Self {
        Self {
            addr,
            cert_name: None,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cert_name {
            Some(name) => write!(f, "{} (certificate CN={name:?})", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// The next connection on `listener`, with Nagle's algorithm off (small
/// MQTT packets must not wait). Accept errors (typically EMFILE) are logged
/// and retried after a short pause instead of spinning.
pub(crate) async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                return (stream, addr);
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
