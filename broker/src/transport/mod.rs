//! Transports: everything that turns into the byte stream the connection
//! task reads. TCP needs no adapter (a `TcpStream` already is one); the
//! WebSocket adapter is in [`ws`], the HTTP listener that upgrades to it in
//! [`http`].

pub mod http;
pub mod ws;
