//! Flow control between a publisher and a full subscriber queue: the types a
//! push answers with and the wait for room (the policy is in [`super::queue`]).
//!
//! The waiting side is the publisher's connection task; it holds no lock
//! while it waits. The draining side ([`SessionShared::take_sendable`]) and
//! the events that end the wait (detach, session end) wake every waiter
//! through [`SessionShared::room`].

use std::sync::Arc;

use super::SessionShared;
use super::queue::Outgoing;
use crate::store::Ticket;

/// What became of a message offered to a session.
#[derive(Debug)]
pub enum Offer {
    /// Queued; the ticket says when its store record is durable.
    Queued(Option<Ticket>),
    /// Not queued: the session ended, or QoS 0 for an offline session
    /// (counted).
    Dropped,
    /// Not queued: the queue is full and nobody may wait for it (offline
    /// session, or a publisher that cannot wait); counted.
    Refused,
    /// The online session's queue is full: the message is handed back, to
    /// be offered again once [`SessionShared::wait_for_room`] returns.
    Full(Outgoing),
}

/// A delivery waiting for room in its session's queue.
#[derive(Debug)]
pub struct Blocked {
    /// The full session.
    pub session: Arc<SessionShared>,
    /// The message for it.
    pub item: Outgoing,
}

impl SessionShared {
    /// Return once offering a QoS 1/2 message could succeed or no longer
    /// waits: the queue has room, or the session went offline or ended.
    /// Spurious returns are fine (the caller offers again).
    pub async fn wait_for_room(&self) {
        let notified = self.room.notified();
        tokio::pin!(notified);
        // Registered before the check, so a drain between the check and
        // the await still wakes us.
        notified.as_mut().enable();
        {
            let mut st = self.state.lock();
            if st.ended || st.owner.is_none() || !st.queue.refuses_acked() {
                return;
            }
            st.room_wanted = true;
        }
        notified.await;
    }

    /// End the attached connection for being too slow a subscriber (v5
    /// DISCONNECT 0x97), counted; nothing if it is already gone.
    pub fn disconnect_too_slow(&self) {
        let st = self.state.lock();
        if let Some(owner) = &st.owner {
            tracing::info!(client = %self.client_id, "subscriber too slow: disconnected");
            owner.link.kick_too_slow();
        }
    }

    /// Wake every publisher waiting for room: the session went offline or
    /// ended, so they stop waiting and the offline policy applies.
    pub fn release_waiters(&self) {
        self.room.notify_waiters();
    }
}
