//! Connected clients: `GET /api/v1/clients` lists them with what their
//! connection's [`ConnLink`] recorded at CONNECT; `DELETE
//! /api/v1/clients/{client_id}` kicks one (v5: DISCONNECT 0x98
//! Administrative action; older versions are just closed). The session then
//! follows its normal rules: it expires with its Session Expiry Interval and
//! the will goes out as on any connection loss.

use std::sync::Arc;

use courtier_proto::ProtocolVersion;
use serde::Serialize;

use super::page::{FirstKeys, Listing, Page};
use crate::broker::Broker;
use crate::session::SessionShared;
use crate::session::link::ConnLink;

/// One connected client.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ClientView {
    /// The client identifier.
    pub client_id: String,
    /// Who authorization decides for (certificate CN or CONNECT user name).
    pub username: Option<String>,
    /// `ip:port` (behind a trusted proxy, the forwarded address).
    pub peer: String,
    /// `3.1`, `3.1.1` or `5.0`.
    pub protocol: &'static str,
    /// When it connected, Unix seconds.
    pub connected_since: u64,
    /// Keep alive in force, seconds (0 = off).
    pub keep_alive: u16,
    /// Subscriptions of its session.
    pub subscriptions: usize,
    /// Messages queued for it, not yet sent.
    pub queued: usize,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub inflight: usize,
    /// Messages meant for it and dropped (queue full, QoS 0 offline, expired).
    pub dropped: u32,
}

/// The version as people write it.
pub fn protocol_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::V3_1 => "3.1",
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V5 => "5.0",
    }
}

/// One page of the connected clients, by client id. The registry lock is
/// held for one pass that takes each session's lock briefly (the lock
/// order allows it) and keeps only the page; details are read after.
pub fn list_clients(broker: &Broker, page: Page) -> Listing<ClientView> {
    let mut pick = FirstKeys::<Arc<SessionShared>>::new(page);
    for (id, session) in broker.sessions.lock().iter() {
        if session.state.lock().owner.is_some() {
            pick.offer(id, || Arc::clone(session));
        }
    }
    pick.finish(|id, session| {
        let st = session.state.lock();
        // Gone since the pass above: not listed.
        let link = Arc::clone(&st.owner.as_ref()?.link);
        Some(view(
            id,
            &link,
            st.subscriptions.len(),
            (st.queue.len(), st.inflight_len(), st.dropped),
        ))
    })
}

fn view(
    client_id: &str,
    link: &ConnLink,
    subscriptions: usize,
    (queued, inflight, dropped): (usize, usize, u32),
) -> ClientView {
    let info = &link.info;
    ClientView {
        client_id: client_id.to_owned(),
        username: info.user.as_deref().map(str::to_owned),
        peer: info.peer.to_string(),
        protocol: protocol_name(info.version),
        connected_since: info.connected_at,
        keep_alive: info.keep_alive,
        subscriptions,
        queued,
        inflight,
        dropped,
    }
}

/// Close the connection of `client_id`; `false` if it is not connected.
/// Returns at once: the connection task sends DISCONNECT and detaches.
pub fn kick(broker: &Broker, client_id: &str) -> bool {
    let Some(session) = broker.sessions.lock().get(client_id).cloned() else {
        return false;
    };
    let st = session.state.lock();
    match &st.owner {
        Some(owner) => {
            owner.link.kick_by_admin();
            true
        }
        None => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;
    use crate::session::ConnHandle;
    use crate::session::link::{ClientInfo, KickReason};

    /// Attach a connection to `id`: its link, connection id and session.
    pub(crate) fn connect(
        broker: &Broker,
        id: &str,
        port: u16,
    ) -> (Arc<ConnLink>, u64, Arc<SessionShared>) {
        let link = Arc::new(ConnLink::new(ClientInfo {
            peer: std::net::SocketAddr::from(([10, 0, 0, 1], port)),
            user: Some("alice".into()),
            version: ProtocolVersion::V3_1_1,
            connected_at: 7,
            keep_alive: 30,
        }));
        let conn_id = broker.next_conn_id();
        let handle = ConnHandle {
            id: conn_id,
            link: Arc::clone(&link),
        };
        let session = broker.attach(&id.into(), false, 60, 10, handle).session;
        (link, conn_id, session)
    }

    #[tokio::test]
    async fn connected_clients_are_listed_and_kicked() {
        let broker = Arc::new(Broker::new(Config::default()));
        connect(&broker, "b", 2);
        let (a, _, _) = connect(&broker, "a", 1);
        let (_, c_conn, c) = connect(&broker, "c", 3);
        broker.detach(&c, c_conn, None);

        let list = list_clients(&broker, Page::default());
        let ids: Vec<_> = list.items.iter().map(|c| c.client_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"], "offline c is not a client");
        assert_eq!(list.items[0].peer, "10.0.0.1:1");
        assert_eq!(list.items[0].username.as_deref(), Some("alice"));
        assert_eq!(list.items[0].protocol, "3.1.1");
        assert_eq!(
            (list.items[0].connected_since, list.items[0].keep_alive),
            (7, 30)
        );

        assert!(kick(&broker, "a"));
        a.kicked().await;
        assert_eq!(a.reason(), KickReason::Administrative);
        assert!(!kick(&broker, "c"), "offline");
        assert!(!kick(&broker, "nobody"));
    }
}
