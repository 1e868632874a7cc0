//! Offline queues on disk: reading a session's spilled messages back.
//!
//! While a persistent session is offline its queued QoS 1/2 messages are
//! only in the store; its queue keeps a marker per message (see
//! `session/queue.rs`). Before a client resumes the session, the messages
//! are read back on the blocking pool and put in place of their markers,
//! so the connection finds an ordinary queue. Reading waits first for
//! everything appended so far to be committed: a marker may stand for a
//! message whose op the writer has not committed yet.

use std::sync::Arc;

use bytestring::ByteString;

use super::StoreError;
use crate::broker::Broker;

impl Broker {
    /// Read back the spilled messages of `client_id`'s session, if it has
    /// any, before a client resumes it. New messages are held meanwhile,
    /// behind the ones read. An error leaves the markers in place (nothing
    /// is lost; the client finds them missing until a later resume).
    pub async fn resume_spilled(self: &Arc<Self>, client_id: &str) -> Result<(), StoreError> {
        let Some(session) = self.sessions.lock().get(client_id).cloned() else {
            return Ok(());
        };
        let ids = {
            let mut st = session.state.lock();
            if !st.queue.has_spilled() {
                return Ok(());
            }
            st.resuming = true;
            st.queue.spilled_ids()
        };
        let read = self.read_spilled(client_id, &ids).await;
        let mut st = session.state.lock();
        st.resuming = false;
        st.queue.unspill(&ids, read?);
        Ok(())
    }

    async fn read_spilled(
        &self,
        client_id: &str,
        ids: &[super::StoredId],
    ) -> Result<Vec<crate::session::queue::Outgoing>, StoreError> {
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
