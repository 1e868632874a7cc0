//! The link between a session and the connection attached to it: the
//! signal that ends that connection (takeover, session end, or an operator's
//! kick) and what the admin API shows about it.
//!
//! One allocation per connection holds both, shared by the session's
//! [`super::ConnHandle`] and the connection task: idle connections must stay
//! small, so nothing of this is copied into the connection itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};

use courtier_proto::ProtocolVersion;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// What an operator may want to know about a connected client, fixed at CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address (behind a trusted proxy, the forwarded one).
    pub peer: SocketAddr,
    /// Who authorization decides for: the verified certificate's Common
    /// Name, else CONNECT's user name.
    pub user: Option<Box<str>>,
    /// The protocol version of CONNECT.
    pub version: ProtocolVersion,
    /// When CONNACK was sent, Unix seconds.
    pub connected_at: u64,
    /// The keep alive in force, seconds (0 = off).
    pub keep_alive: u16,
}

/// Shared by a session's owner handle and its connection task.
#[derive(Debug)]
pub struct ConnLink {
    /// Woken to end the connection: it was taken over, its session ended, or
    /// an operator kicked it ([`ConnLink::kick_by_admin`]).
    kick: Notify,
    /// Set before `kick` is notified by an operator or for a stuck
    /// subscriber, so the connection can tell the client why (v5 DISCONNECT
    /// 0x98 or 0x97 instead of 0x8E); a [`KickReason`] as a byte.
    reason: AtomicU8,
    /// The client's details.
    pub info: ClientInfo,
}

/// Why [`ConnLink::kicked`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Another connection took the session, or the session ended.
    TakenOver,
    /// An operator closed the connection through the admin API.
    Administrative,
    /// It accepted no message for `slow_subscriber_timeout` while a
    /// publisher waited for room in its full queue.
    TooSlow,
}

impl ConnLink {
    /// A link for a connection described by `info`.
    pub fn new(info: ClientInfo) -> Self {
        Self {
            kick: Notify::new(),
            reason: AtomicU8::new(KickReason::TakenOver as u8),
            info,
        }
    }

    /// Tell the connection it was taken over (or its session ended).
    pub fn take_over(&self) {
        // `notify_one` keeps a permit when the task is not waiting yet, so
        // a kick between two `select!`s is not lost.
        self.kick.notify_one();
    }

    /// Tell the connection an operator closes it.
    pub fn kick_by_admin(&self) {
        self.kick_for(KickReason::Administrative);
    }

    /// Tell the connection it ends for being too slow a subscriber.
    pub fn kick_too_slow(&self) {
        self.kick_for(KickReason::TooSlow);
    }

    fn kick_for(&self, reason: KickReason) {
        self.reason.store(reason as u8, Ordering::Release);
        self.kick.notify_one();
    }

    /// Resolves when the connection must end ([`ConnLink::reason`] says
    /// why). The plain `Notified`, not an `async fn` around it: the
    /// connection task's future, held by every idle connection, stays as
    /// small as before.
    pub fn kicked(&self) -> Notified<'_> {
        self.kick.notified()
    }

    /// Why the connection was kicked, once [`ConnLink::kicked`] resolved.
    pub fn reason(&self) -> KickReason {
        match self.reason.load(Ordering::Acquire) {
            r if r == KickReason::Administrative as u8 => KickReason::Administrative,
            r if r == KickReason::TooSlow as u8 => KickReason::TooSlow,
            _ => KickReason::TakenOver,
        }
    }
}

/// Now as Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> ConnLink {
        ConnLink::new(ClientInfo {
            peer: SocketAddr::from(([127, 0, 0, 1], 5)),
            user: None,
            version: ProtocolVersion::V5,
            connected_at: 1,
            keep_alive: 60,
        })
    }

    #[tokio::test]
    async fn a_kick_before_the_wait_is_kept_and_says_who_kicked() {
        let l = link();
        l.take_over();
        l.kicked().await;
        assert_eq!(l.reason(), KickReason::TakenOver);
        let l = link();
        l.kick_by_admin();
        l.kicked().await;
        assert_eq!(l.reason(), KickReason::Administrative);
    }

    /// One per connection: keep it small.
    #[test]
    fn the_link_stays_small() {
        let size = std::mem::size_of::<ConnLink>();
        assert!(size <= 128, "ConnLink is {size} bytes");
    }
}
