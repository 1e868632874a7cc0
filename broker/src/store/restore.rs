//! Start-up: rebuild sessions, subscriptions, queues, inflight windows and
//! inbound QoS 2 ids from a [`Snapshot`]. (Retained messages are indexed
//! apart, by `Broker::restore_retained`, without reading them.)
//!
//! Queued messages are not read: every session is offline at start-up, so
//! its queue gets a marker per message, read back when a client resumes it
//! (`store/spill.rs`); only their expiry times are read, and expired ones
//! are deleted. Expired sessions are not restored either; deletions are
//! recorded in the store like any other change.
//!
//! Wills: a client that was connected when the broker stopped lost its
//! connection without DISCONNECT, so its will is due: after its Will Delay
//! Interval counted from the restart (the broker cannot know when the crash
//! was), or at session end if sooner. A will whose delay was running is
//! restored with its stored wall-clock due time; one already due goes out
//! right after the restore, and so does the will of a session that expired
//! while the broker was down (just before the session is deleted).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use courtier_proto::QoS;

use super::{Op, OutboundState, Snapshot, StoredWill, wall_ms, wall_to_instant};
use crate::broker::Broker;
use crate::session::{PendingWill, SessionKey, SessionShared};

/// What a restore brought back, for the start-up log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// Sessions restored.
    pub sessions: usize,
    /// Queued and inflight messages restored.
    pub messages: usize,
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
        for (client_id, mut record) in snapshot.sessions {
            let was_connected = record.disconnected_at == 0;
            let disconnected = if was_connected {
                now_wall
            } else {
                record.disconnected_at
            };
            let left_ms = (record.expiry_interval != u32::MAX).then(|| {
                (disconnected + u64::from(record.expiry_interval) * 1000).saturating_sub(now_wall)
            });
            let will = record.will.take();
            // A session that expired while the broker was down still owes
            // its will: it is restored just long enough to publish it.
            if left_ms == Some(0) && will.is_none() {
                self.store.append(Op::DeleteSession(client_id));
                done.expired += 1;
                continue;
            }
            let session = Arc::new(SessionShared::new(
                client_id.clone(),
                self.config.queue_limits(),
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
                st.pending_will = will.map(|w| {
                    let at = will_due(&w, record.expiry_interval, now, now_wall);
                    let at = st.expires_at.map_or(at, |end| at.min(end));
                    Box::new(PendingWill { will: w.will, at })
                });
                if was_connected || st.pending_will.is_some() {
                    // Store the disconnect time and the will's due time, so a
                    // second crash does not restart either count.
                    st.save(&client_id, disconnected, &self.store);
                }
                st.disconnected_at = disconnected;
                st.generation
            };
            let (end, will_at) = {
                let st = session.state.lock();
                (st.expires_at, st.pending_will.as_ref().map(|w| w.at))
            };
            for at in [end, will_at].into_iter().flatten() {
                self.schedule(&session, generation, at);
            }
            self.sessions.lock().insert(Arc::clone(&session));
            by_id.insert(client_id, session);
            done.sessions += 1;
        }
        for (client_id, id, state, mut item) in snapshot.outbound {
            let Some(session) = by_id.get(&client_id) else {
                self.store.append(Op::DeleteOutbound(client_id, id));
                done.expired += 1;
                continue;
            };
            item.stored = Some(id);
            let mut st = session.state.lock();
            let kept = match state {
                OutboundState::Sent(pid) => st.acks().inflight.restore(pid, item, false),
                OutboundState::Released(pid) if item.qos == QoS::ExactlyOnce => {
                    st.acks().inflight.restore(pid, item, true)
                }
                // Queued messages come as markers (`snapshot.queued`).
                OutboundState::Released(_) | OutboundState::Queued => false,
            };
            drop(st);
            if kept {
                done.messages += 1;
            } else {
                self.store.append(Op::DeleteOutbound(client_id, id));
            }
        }
        for q in snapshot.queued {
            let session = by_id.get(&q.client).filter(|_| !q.expired);
            let kept = session.is_some_and(|session| {
                let marker = crate::session::queue::Spilled {
                    id: q.id,
                    size: q.size,
                };
                session.state.lock().queue.restore_spilled(marker)
            });
            if kept {
                done.messages += 1;
            } else {
                done.expired += usize::from(q.expired);
                self.store.append(Op::DeleteOutbound(q.client, q.id));
            }
        }
        for (client_id, id) in snapshot.inbound {
            match by_id.get(&client_id) {
                Some(session) => {
                    session.state.lock().acks().inbound_qos2.insert(id);
                }
                None => {
                    self.store.append(Op::DeleteInbound(client_id, id));
                }
            }
        }
        done
    }
}

/// When a restored will is due on this run's clock.
fn will_due(
    w: &StoredWill,
    expiry_interval: u32,
    now: std::time::Instant,
    now_wall: u64,
) -> std::time::Instant {
    if w.at == 0 {
        let delay = w.will.properties.will_delay_interval.unwrap_or(0);
        now + Duration::from_secs(u64::from(delay.min(expiry_interval)))
    } else {
        wall_to_instant(w.at, now, now_wall).unwrap_or(now)
    }
}
