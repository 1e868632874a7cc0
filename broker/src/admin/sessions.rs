//! Sessions, connected or offline: `GET /api/v1/sessions` and
//! `GET /api/v1/sessions/{client_id}/subscriptions`. Offline sessions are
//! the persistent ones (Session Expiry Interval above 0) kept for a client
//! that may come back.

use std::sync::Arc;
use std::time::Instant;

use courtier_proto::TopicFilter;
use courtier_proto::packet::RetainHandling;
use serde::Serialize;

use super::page::{FirstKeys, Listing, Page};
use crate::broker::Broker;
use crate::router::SubscriptionEntry;
use crate::session::SessionShared;

/// One session.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SessionView {
    /// The client identifier.
    pub client_id: String,
    /// Whether a connection is attached.
    pub connected: bool,
    /// Session Expiry Interval, seconds; `null` = never expires.
    pub expiry_interval: Option<u32>,
    /// Offline: seconds until it expires, if it does.
    pub expires_in: Option<u64>,
    /// Messages queued, not yet sent.
    pub queued: usize,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub inflight: usize,
    /// Its subscriptions.
    pub subscriptions: usize,
    /// Messages meant for it and dropped (queue full, QoS 0 offline, expired).
    pub dropped: u32,
}

/// One subscription of a session.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SubscriptionView {
    /// The topic filter (with its `$share/{group}/` prefix if shared).
    pub filter: String,
    /// Maximum QoS granted.
    pub qos: u8,
    /// v5 No Local.
    pub no_local: bool,
    /// v5 Retain As Published.
    pub retain_as_published: bool,
    /// v5 Retain Handling: 0 send on subscribe, 1 only if new, 2 never.
    pub retain_handling: u8,
    /// v5 Subscription Identifier.
    pub identifier: Option<u32>,
}

/// One page of every session, by client id (see [`super::clients`] for
/// how the registry is walked).
pub fn list_sessions(broker: &Broker, page: Page, now: Instant) -> Listing<SessionView> {
    let mut pick = FirstKeys::<Arc<SessionShared>>::new(page);
    for (id, session) in broker.sessions.lock().iter() {
        pick.offer(id, || Arc::clone(session));
    }
    pick.finish(|id, session| {
        let st = session.state.lock();
        if st.ended {
            return None;
        }
        Some(SessionView {
            client_id: id.to_owned(),
            connected: st.owner.is_some(),
            expiry_interval: (st.expiry_interval != u32::MAX).then_some(st.expiry_interval),
            expires_in: st
                .expires_at
                .map(|at| at.saturating_duration_since(now).as_secs()),
            queued: st.queue.len(),
            inflight: st.inflight_len(),
            subscriptions: st.subscriptions.len(),
            dropped: st.dropped,
        })
    })
}

/// One page of the subscriptions of `client_id`, by filter; `None` if there
/// is no such session.
pub fn subscriptions(
    broker: &Broker,
    client_id: &str,
    page: Page,
) -> Option<Listing<SubscriptionView>> {
    let session = broker.sessions.lock().get(client_id).cloned()?;
    let mut pick = FirstKeys::<(TopicFilter, SubscriptionEntry)>::new(page);
    for (filter, entry) in &session.state.lock().subscriptions {
        pick.offer(filter.as_str(), || (filter.clone(), *entry));
    }
    Some(pick.finish(|_, (filter, entry)| Some(subscription_view(&filter, &entry))))
}

fn subscription_view(filter: &TopicFilter, entry: &SubscriptionEntry) -> SubscriptionView {
    let o = &entry.options;
    SubscriptionView {
        filter: filter.as_str().to_owned(),
        qos: o.qos as u8,
        no_local: o.no_local,
        retain_as_published: o.retain_as_published,
        retain_handling: match o.retain_handling {
            RetainHandling::SendAtSubscribe => 0,
            RetainHandling::SendIfNew => 1,
            RetainHandling::DoNotSend => 2,
        },
        identifier: entry.identifier.map(|i| i.get()),
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use courtier_proto::QoS;
    use courtier_proto::packet::SubscriptionOptions;

    use super::*;
    use crate::admin::clients::tests::connect;
    use crate::config::Config;
    use crate::session::SessionKey;

    #[tokio::test]
    async fn sessions_and_their_subscriptions_are_listed() {
        let broker = Arc::new(Broker::new(Config::default()));
        let (_, _, online) = connect(&broker, "on", 1);
        let (_, conn, offline) = connect(&broker, "off", 2);
        broker.detach(&offline, conn, None);
        let filter = TopicFilter::new("a/+".to_owned()).expect("filter");
        let entry = SubscriptionEntry {
            options: SubscriptionOptions {
                qos: QoS::AtLeastOnce,
                no_local: true,
                ..SubscriptionOptions::default()
            },
            identifier: NonZeroU32::new(9),
        };
        let key = SessionKey(Arc::clone(&online));
        broker.tree.write().subscribe(key, &filter, entry);
        online.state.lock().subscriptions.insert(filter, entry);

        let list = list_sessions(&broker, Page::default(), Instant::now());
        let rows: Vec<_> = list
            .items
            .iter()
            .map(|s| (s.client_id.as_str(), s.connected, s.subscriptions))
            .collect();
        assert_eq!(rows, [("off", false, 0), ("on", true, 1)]);
        assert_eq!(list.items[0].expiry_interval, Some(60));
        assert!(list.items[0].expires_in.is_some_and(|s| s <= 60));

        let subs = subscriptions(&broker, "on", Page::default()).expect("exists");
        assert_eq!(
            subs.items,
            [SubscriptionView {
                filter: "a/+".into(),
                qos: 1,
                no_local: true,
                retain_as_published: false,
                retain_handling: 0,
                identifier: Some(9),
            }]
        );
        assert!(subscriptions(&broker, "nobody", Page::default()).is_none());
    }
}
