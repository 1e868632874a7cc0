//! CONNECT → CONNACK: version, client identifier, keep alive, session
//! expiry and the CONNACK properties that tell the client our limits.

use std::num::{NonZeroU16, NonZeroU32};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use bytestring::ByteString;
use courtier_proto::packet::{ConnAck, ConnAckProperties, Connect};
use courtier_proto::{DecodeError, Packet, ProtocolVersion, ReasonCode};

use super::protocol::{Connection, Limits};
use crate::auth::{Identity, Policy};
use crate::broker::Broker;
use crate::metrics::Metrics;
use crate::session::ConnHandle;
use crate::session::link::{ClientInfo, ConnLink, unix_now};
use crate::transport::Peer;

/// Answer a CONNECT that failed to decode: an unsupported protocol level gets
/// CONNACK 0x84 (v5) / return code 1 ([MQTT-3.1.2-2]); a v5 CONNECT that is
/// malformed gets CONNACK with the error's code; anything else is just closed.
pub(super) fn refuse_undecodable(
    e: &DecodeError,
    version: Option<ProtocolVersion>,
    out: &mut BytesMut,
) {
    let reason = e.reason_code();
    let version = match version {
        Some(v) => v,
        // The level is unknown: answer in the 3.1.1 format every client parses.
        None if reason == ReasonCode::UnsupportedProtocolVersion => ProtocolVersion::V3_1_1,
        None => return,
    };
    if !version.is_v5() && reason != ReasonCode::UnsupportedProtocolVersion {
        return;
    }
    let _ = connack(false, reason, ConnAckProperties::default()).encode(version, out);
}

/// The protocol version a CONNECT claims, read from its raw bytes (fixed
/// header, remaining length, protocol name, level), so that a CONNECT that
/// fails to decode can still be answered in its client's version.
pub(super) fn claimed_version(buf: &[u8]) -> Option<ProtocolVersion> {
    if buf.first()? >> 4 != 1 {
        return None;
    }
    // Skip the variable byte integer: at most 4 bytes, the last without 0x80.
    let len_bytes = buf.get(1..)?.iter().take(4).position(|b| b & 0x80 == 0)? + 1;
    let name_at = 1 + len_bytes;
    let name_len = usize::from(u16::from_be_bytes([
        *buf.get(name_at)?,
        *buf.get(name_at + 1)?,
    ]));
    match buf.get(name_at + 2 + name_len)? {
        3 => Some(ProtocolVersion::V3_1),
        4 => Some(ProtocolVersion::V3_1_1),
        5 => Some(ProtocolVersion::V5),
        _ => None,
    }
}

fn connack(session_present: bool, reason: ReasonCode, properties: ConnAckProperties) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present,
        reason,
        properties,
    })
}

/// Check the credentials of CONNECT (3.1.3.5, 3.1.3.6; codes in
/// [`crate::auth::Authenticator::check`]), then, with an ACL file, that the
/// client may publish its will's topic. `false` when refused, with the
/// refusing CONNACK in `out`.
///
/// A client certificate verified against `client_ca` is the credential: its
/// Common Name is the user name and no password is checked (Mosquitto's
/// `use_identity_as_username`). Hash verification (argon2id, PBKDF2) is
/// deliberately slow, so it runs on the blocking pool, never on a worker
/// that serves other clients; a CONNECT with no hash to check skips the pool.
/// Refusals from an address that keeps failing are delayed
/// ([`crate::auth::throttle`]).
pub(super) async fn authenticate(
    broker: &Arc<Broker>,
    connect: &Connect,
    peer: &Peer,
    out: &mut BytesMut,
) -> bool {
    if let Some(rate) = &broker.connection_rate
        && !rate.allow(peer.addr.ip(), Instant::now())
    {
        Metrics::add(&broker.metrics.refused_connection_rate, 1);
        tracing::info!(%peer, client = %connect.client_id, "connection rate exceeded");
        let reason = ReasonCode::ConnectionRateExceeded;
        let _ = connack(false, reason, ConnAckProperties::default()).encode(connect.protocol, out);
        return false;
    }
    let access = &broker.config.access;
    let policy = access.policy();
    let user = connect.username.as_deref();
    let verdict = if peer.cert_name.is_some() {
        Ok(())
    } else if policy.authenticator.verifies_hash(user) {
        let policy = Arc::clone(&policy);
        let username = connect.username.clone();
        let password = connect.password.clone();
        tokio::task::spawn_blocking(move || {
            let auth = &policy.authenticator;
            auth.check(username.as_deref(), password.as_deref())
        })
        .await
        // The check cannot panic; if the pool is gone the broker is stopping.
        .unwrap_or(Err(ReasonCode::ServerUnavailable))
    } else {
        policy
            .authenticator
            .check(user, connect.password.as_deref())
    };
    // Slow down an address that keeps failing; forget it once it succeeds.
    let ip = peer.addr.ip();
    match verdict {
        Ok(()) => access.throttle.succeeded(ip),
        Err(_) => {
            let delay = access.throttle.failed(ip, Instant::now());
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
    let verdict = verdict.and_then(|()| may_leave_will(&policy, connect, peer));
    let Err(reason) = verdict else { return true };
    Metrics::add(&broker.metrics.auth_failures, 1);
    tracing::info!(%peer, client = %connect.client_id, user = ?connect.username, %reason, "connection refused");
    let _ = connack(false, reason, ConnAckProperties::default()).encode(connect.protocol, out);
    false
}

/// The identity authorization decides for: the certificate's Common Name,
/// else CONNECT's user name.
pub(super) fn username(connect: &Connect, peer: &Peer) -> Option<Box<str>> {
    peer.cert_name
        .clone()
        .or_else(|| connect.username.as_deref().map(Into::into))
}

/// A will is a PUBLISH made on the client's behalf: refuse the connection
/// (0x87, 3.1.1 return code 5) if the ACL does not let it publish there.
fn may_leave_will(policy: &Policy, connect: &Connect, peer: &Peer) -> Result<(), ReasonCode> {
    let (Some(acl), Some(will)) = (&policy.acl, &connect.will) else {
        return Ok(());
    };
    let user = username(connect, peer);
    let who = Identity {
        user: user.as_deref(),
        client_id: &connect.client_id,
    };
    if acl.may_publish(who, will.topic.as_str()) {
        Ok(())
    } else {
        Err(ReasonCode::NotAuthorized)
    }
}

/// Validate CONNECT, attach the session and write CONNACK to `out`. `None`
/// when the connection is refused (the refusing CONNACK is in `out`).
pub(super) fn accept(
    broker: &Arc<Broker>,
    connect: Box<Connect>,
    peer: &Peer,
    now: Instant,
    out: &mut BytesMut,
) -> Option<Connection> {
    let connect = *connect;
    let version = connect.protocol;
    let cfg = &broker.config;
    let user = username(&connect, peer);
    let refuse = |reason: ReasonCode, out: &mut BytesMut| {
        tracing::info!(%peer, client = %connect.client_id, %reason, "connection refused");
        let _ = connack(false, reason, ConnAckProperties::default()).encode(version, out);
    };

    // No extended authentication method is supported (4.12).
    if connect.properties.authentication_method.is_some() {
        refuse(ReasonCode::BadAuthenticationMethod, out);
        return None;
    }

    // Client identifier rules (3.1.3.1). 3.1 allowed 1 to 23 characters; we
    // accept longer ones from 3.1 clients too, as 3.1.1 and 5.0 do.
    let mut assigned = None;
    let client_id = if connect.client_id.is_empty() {
        let may_assign = match version {
            ProtocolVersion::V5 => true,
            ProtocolVersion::V3_1_1 => connect.clean_start, // [MQTT-3.1.3-7], [MQTT-3.1.3-8]
            ProtocolVersion::V3_1 => false,
        };
        if !may_assign {
            refuse(ReasonCode::ClientIdentifierNotValid, out);
            return None;
        }
        let id = assign_client_id();
        assigned = Some(id.clone());
        id
    } else {
        // Copied, not sliced: a slice would keep the whole CONNECT read
        // buffer alive for as long as the session lives.
        ByteString::from(&*connect.client_id)
    };

    // Keep alive: v5 clients are told a lower value through Server Keep
    // Alive; 3.x has no way to say so, so their own value is honoured.
    let mut server_keep_alive = None;
    let keep_alive = if version.is_v5()
        && (connect.keep_alive > cfg.max_keepalive
            || (connect.keep_alive == 0 && cfg.max_keepalive < u16::MAX))
    {
        server_keep_alive = Some(cfg.max_keepalive);
        cfg.max_keepalive
    } else {
        connect.keep_alive
    };

    // Session expiry: 3.x clean session 0 means "ends with the connection",
    // 1 means "never expires".
    let requested_expiry = if version.is_v5() {
        connect.properties.session_expiry_interval.unwrap_or(0)
    } else if connect.clean_start {
        0
    } else {
        u32::MAX
    };
    let expiry = requested_expiry.min(cfg.max_session_expiry);

    let client_receive_max = connect
        .properties
        .receive_maximum
        .map_or(u16::MAX, NonZeroU16::get);
    let window = client_receive_max.min(cfg.max_inflight);
    let link = Arc::new(ConnLink::new(ClientInfo {
        peer: peer.addr,
        user,
        version,
        connected_at: unix_now(),
        keep_alive,
    }));
    let conn_id = broker.next_conn_id();
    let attached = broker.attach(
        &client_id,
        connect.clean_start,
        expiry,
        window,
        ConnHandle {
            id: conn_id,
            link: Arc::clone(&link),
        },
    );

    let properties = if version.is_v5() {
        ConnAckProperties {
            session_expiry_interval: (expiry != requested_expiry).then_some(expiry),
            receive_maximum: NonZeroU16::new(cfg.receive_maximum),
            maximum_qos: None, // absent = QoS 2 supported
            retain_available: Some(true),
            maximum_packet_size: NonZeroU32::new(cfg.max_packet_size),
            assigned_client_identifier: assigned,
            topic_alias_maximum: Some(cfg.topic_alias_maximum),
            wildcard_subscription_available: Some(true),
            subscription_identifiers_available: Some(true),
            shared_subscription_available: Some(true),
            server_keep_alive,
            ..ConnAckProperties::default()
        }
    } else {
        ConnAckProperties::default()
    };
    let present = attached.present && !connect.clean_start;
    let _ = connack(present, ReasonCode::Success, properties).encode(version, out);
    tracing::debug!(%peer, client = %client_id, ?version, present, "client connected");

    let limits = Limits {
        keep_alive: (keep_alive > 0).then(|| Duration::from_secs(u64::from(keep_alive))),
        client_max_packet: connect
            .properties
            .maximum_packet_size
            .map_or(u32::MAX, NonZeroU32::get),
        client_alias_max: if version.is_v5() {
            connect.properties.topic_alias_maximum.unwrap_or(0)
        } else {
            0
        },
        problem_info: connect
            .properties
            .request_problem_information
            .unwrap_or(true),
        zero_expiry_at_connect: requested_expiry == 0,
    };
    let mut conn = Connection::new(
        Arc::clone(broker),
        attached.session,
        conn_id,
        link,
        client_id,
        version,
        connect.will.map(Box::new),
        limits,
    );
    if present {
        conn.resend_inflight(now, out);
    }
    Some(conn)
}

/// A unique client identifier for clients that sent none.
fn assign_client_id() -> ByteString {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ByteString::from(format!("courtier-{:08x}{n:x}", nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_version_reads_the_level_byte() {
        let v5 = [0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x02, 0, 0];
        assert_eq!(claimed_version(&v5), Some(ProtocolVersion::V5));
        let v31 = [0x10, 15, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 0x02];
        assert_eq!(claimed_version(&v31), Some(ProtocolVersion::V3_1));
        assert_eq!(
            claimed_version(&[0x10, 0x80, 0x01, 0, 4, b'M', b'Q', b'T', b'T', 4]),
            Some(ProtocolVersion::V3_1_1)
        );
        assert_eq!(
            claimed_version(&[0x10, 13, 0, 4, b'M', b'Q']),
            None,
            "too short"
        );
        assert_eq!(claimed_version(&[0x30, 0]), None, "not CONNECT");
        assert_eq!(
            claimed_version(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            None,
            "bad length"
        );
    }
}
