//! Offline queues on disk: reading a session's spilled messages back.
//!
//! While a persistent session is offline its queued QoS 1/2 messages are
//! only in the store; its queue keeps a marker per message (see
//! `session/queue_spill.rs`). A chunk of them is read back before a client
//! resumes the session, and the next whenever the connection has sent what
//! it holds, on the blocking pool; so a backlog of any length costs one
//! chunk of memory at a time. Reading waits first for everything appended
//! so far to be committed: a marker may stand for a message whose op the
//! writer has not committed yet.

use std::sync::Arc;

use bytestring::ByteString;

use super::{StoreError, StoredId};
use crate::broker::Broker;
use crate::session::SessionShared;
use crate::session::queue::{Outgoing, READ_BACK};

impl Broker {
    /// Before a client resumes `client_id`'s session: read back its first
    /// spilled messages, so the connection starts with messages to send.
    pub async fn resume_spilled(&self, client_id: &str) -> Result<(), StoreError> {
        let Some(session) = self.sessions.lock().get(client_id).cloned() else {
            return Ok(());
        };
        self.read_back_spilled(&session).await
    }

    /// Read back the next [`READ_BACK`] spilled messages of `session`, if
    /// the next in order are on disk, and put them in place of their
    /// markers. New messages are held meanwhile, behind them. An error
    /// leaves the markers in place: nothing is lost.
    pub async fn read_back_spilled(&self, session: &Arc<SessionShared>) -> Result<(), StoreError> {
        let ids = {
            let mut st = session.state.lock();
            if !st.queue.wants_read_back() {
                return Ok(());
            }
            st.resuming = true;
            st.queue.spilled_ids(READ_BACK)
        };
        let read = self.read_spilled(&session.client_id, &ids).await;
        let mut st = session.state.lock();
        st.resuming = false;
        let read = read.inspect_err(|e| {
            tracing::error!(error = %e, client = %session.client_id, "queued messages could not be read back");
        })?;
        st.queue.unspill(&ids, read);
        drop(st);
        session.wake.notify_one();
        Ok(())
    }

    async fn read_spilled(
        &self,
        client_id: &str,
        ids: &[StoredId],
    ) -> Result<Vec<Outgoing>, StoreError> {
        if let Some(ticket) = self.store.barrier() {
            self.store.durable(ticket).await?;
        }
        let store = self.store.clone();
        let client = ByteString::from(client_id);
        let ids = ids.to_vec();
        tokio::task::spawn_blocking(move || store.read_outbound(&client, &ids))
            .await
            .map_err(|_| StoreError::Failed)?
    }
}
