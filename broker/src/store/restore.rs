//! Start-up: rebuild sessions, subscriptions, queues, inflight windows,
//! inbound QoS 2 ids and retained messages from a [`Snapshot`].
//!
//! Expired sessions and messages are not restored; their deletion is
//! recorded in the store like any other change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use courtier_proto::QoS;

use super::{Op, OutboundState, Snapshot, wall_ms};
use crate::broker::Broker;
use crate::session::{SessionKey, SessionShared};

/// What a restore brought back, for the start-up log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// Sessions restored.
    pub sessions: usize,
    /// Queued and inflight messages restored.
    pub messages: usize,
    /// Retained messages restored.
    pub retained: usize,
    /// Sessions and messages found expired and deleted.
    pub expired: usize,
}

impl Broker {
    /// Load `snapshot` into this (empty) broker. Offline sessions get their
    /// expiry timers; a session whose client was connected when the broker
    /// stopped counts as disconnected from now.
    pub fn restore(self: &Arc<Self>, snapshot: Snapshot) -> Restored {
        let now = tokio::time::Instant::now().into_std();
        let now_wall = wall_ms();
        let mut done = Restored::default();
        let mut by_id: HashMap<ByteString, Arc<SessionShared>> = HashMap::new();
        for (client_id, record) in snapshot.sessions {
            let disconnected = if record.disconnected_at == 0 {
                now_wall
            } else {
                record.disconnected_at
            };
            let left_ms = (record.expiry_interval != u32::MAX).then(|| {
                (disconnected + u64::from(record.expiry_interval) * 1000).saturating_sub(now_wall)
            });
            if left_ms == Some(0) {
                self.store.append(Op::DeleteSession(client_id));
                done.expired += 1;
                continue;
            }
            let session = Arc::new(SessionShared::new(
                client_id.clone(),
                self.config.max_queued_messages,
                record.expiry_interval,
            ));
            let key = SessionKey(Arc::clone(&session));
            let generation = {
                let mut st = session.state.lock();
                st.in_store = true;
                let mut tree = self.tree.write();
                for (filter, entry) in record.subscriptions {
                    tree.subscribe(key.clone(), &filter, entry);
                    st.subscriptions.insert(filter, entry);
                }
                st.expires_at = left_ms.map(|ms| now + Duration::from_millis(ms));
                st.generation
            };
            if let Some(at) = session.state.lock().expires_at {
                self.schedule(&session, generation, at);
            }
            self.sessions
                .lock()
                .insert(client_id.clone(), Arc::clone(&session));
            by_id.insert(client_id, session);
            done.sessions += 1;
        }
        for (client_id, id, state, item) in snapshot.outbound {
            let session = by_id.get(&client_id);
            let expired = item.msg.is_expired(now) && state == OutboundState::Queued;
            let Some(session) = session.filter(|_| !expired) else {
                self.store.append(Op::DeleteOutbound(client_id, id));
                done.expired += 1;
                continue;
            };
            let mut item = item;
            item.stored = Some(id);
            let mut st = session.state.lock();
            let kept = match state {
                OutboundState::Queued => st.queue.push(item).is_kept(),
                OutboundState::Sent(pid) => st.inflight.restore(pid, item, false),
                OutboundState::Released(pid) if item.qos == QoS::ExactlyOnce => {
                    st.inflight.restore(pid, item, true)
                }
                OutboundState::Released(_) => false,
            };
            drop(st);
            if kept {
                done.messages += 1;
            } else {
                self.store.append(Op::DeleteOutbound(client_id, id));
            }
        }
        for (client_id, id) in snapshot.inbound {
            match by_id.get(&client_id) {
                Some(session) => {
                    session.state.lock().inbound_qos2.insert(id);
                }
                None => {
                    self.store.append(Op::DeleteInbound(client_id, id));
                }
            }
        }
        let mut retained = self.retained.write();
        for msg in snapshot.retained {
            if msg.is_expired(now) {
                self.store
                    .append(Op::DeleteRetained(msg.topic.as_str().into()));
                done.expired += 1;
            } else {
                retained.set(&msg.topic.clone(), Arc::new(msg));
                done.retained += 1;
            }
        }
        done
    }
}
