//! Deterministic tests of the sans-IO client session against an in-test fake
//! server, on virtual time: no sockets, no sleeps.

mod harness;

mod aliases;
mod connect;
mod inbound;
mod keepalive;
mod publish;
mod reconnect;
mod subscribe;
