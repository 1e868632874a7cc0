//! SUBSCRIBE and UNSUBSCRIBE of an attached connection, and the
//! authorization checks (ACL) its requests go through: a subscription is
//! decided here once, when it arrives, so deliveries are never filtered.
//! The retained messages a subscription matches are handed to the paced
//! delivery of `retained.rs`.

use std::time::Instant;

use bytes::BytesMut;
use courtier_proto::packet::{RetainHandling, SubAck, Subscribe, UnsubAck, Unsubscribe};
use courtier_proto::{Packet, QoS, ReasonCode, TopicFilter, TopicName};

use super::{Connection, ProtocolViolation};
use crate::auth::{AclFile, Identity};
use crate::metrics::Metrics;
use crate::router::SubscriptionEntry;

impl Connection {
    /// Authorization's view of this client.
    fn identity(&self) -> Identity<'_> {
        Identity {
            user: self.link.info.user.as_deref(),
            client_id: &self.client_id,
        }
    }

    /// Whether the ACL (if any) lets this client do `allowed` with `target`.
    /// Without an ACL file nothing is looked up: the hot path stays as it was.
    fn acl_allows(&self, allowed: impl FnOnce(&AclFile, Identity<'_>) -> bool) -> bool {
        let access = &self.broker.config.access;
        if !access.has_acl() {
            return true;
        }
        let policy = access.policy();
        policy
            .acl
            .as_ref()
            .is_none_or(|acl| allowed(acl, self.identity()))
    }

    /// Whether the ACL (if any) lets this client subscribe to `filter`.
    fn may_subscribe(&self, filter: &TopicFilter) -> bool {
        self.acl_allows(|acl, who| acl.may_subscribe(who, filter.matching_filter()))
    }

    /// Whether the ACL (if any) lets this client publish to `topic`.
    pub(super) fn may_publish(&self, topic: &TopicName) -> bool {
        self.acl_allows(|acl, who| acl.may_publish(who, topic.as_str()))
    }

    /// Whether the ACL (if any) lets this client receive a message on `topic`.
    fn may_receive(&self, topic: &str) -> bool {
        self.acl_allows(|acl, who| acl.may_receive(who, topic))
    }

    pub(super) fn on_subscribe(
        &mut self,
        s: Subscribe,
        now: Instant,
        out: &mut BytesMut,
    ) -> Result<(), ProtocolViolation> {
        let identifier = s.properties.subscription_identifier;
        let mut codes = Vec::with_capacity(s.subscriptions.len());
        for sub in s.subscriptions {
            let shared = sub.filter.is_shared();
            if shared && sub.options.no_local {
                return Err(ProtocolViolation::SharedNoLocal);
            }
            // Refused here, once, rather than deliveries filtered later: a
            // granted filter only matches topics the client may read.
            if !self
                .broker
                .config
                .topic_limits
                .allow(sub.filter.matching_filter())
            {
                Metrics::add(&self.broker.metrics.refused_topic_limits, 1);
                codes.push(ReasonCode::TopicFilterInvalid);
                continue;
            }
            if !self.may_subscribe(&sub.filter) {
                Metrics::add(&self.broker.metrics.subscriptions_refused, 1);
                codes.push(ReasonCode::NotAuthorized);
                continue;
            }
            let entry = SubscriptionEntry {
                options: sub.options,
                identifier,
            };
            // Tree and session change together under the session lock, so a
            // concurrent discard of this session (takeover with Clean Start,
            // expiry) either sees this subscription or prevents it.
            let existed = {
                let mut st = self.session.state.lock();
                if st.ended {
                    break;
                }
                // A new filter past the quota is refused; one already held
                // may always be subscribed again (to change its options).
                if st.subscriptions.len() >= self.broker.config.max_subscriptions
                    && !st.subscriptions.contains_key(&sub.filter)
                {
                    drop(st);
                    Metrics::add(&self.broker.metrics.refused_subscription_quota, 1);
                    codes.push(ReasonCode::QuotaExceeded);
                    continue;
                }
                st.subscriptions.insert(sub.filter.clone(), entry);
                let existed =
                    self.broker
                        .tree
                        .write()
                        .subscribe(self.key.clone(), &sub.filter, entry);
                let ticket = st.save(&self.client_id, 0, &self.broker.store);
                drop(st);
                // SUBACK promises the subscription survives a restart.
                self.wait_for(ticket);
                existed
            };
            let granted = sub.options.qos;
            codes.push(match granted {
                QoS::AtMostOnce => ReasonCode::Success,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
            });
            // Shared subscriptions get no retained messages (MQTT 5.0 section 4.8.2).
            let send_retained = !shared
                && match sub.options.retain_handling {
                    RetainHandling::SendAtSubscribe => true,
                    RetainHandling::SendIfNew => !existed,
                    RetainHandling::DoNotSend => false,
                };
            if send_retained {
                let mut found = self.broker.retained_matching(&sub.filter, usize::MAX, now);
                // Granted filters hold only readable topics; checked
                // again per message all the same, as retained
                // messages are what an ACL mistake would leak first.
                if self.broker.config.access.has_acl() {
                    found
                        .messages
                        .retain(|m| self.may_receive(m.topic.as_str()));
                    found.on_disk.retain(|t| self.may_receive(t));
                }
                self.add_retained(found, granted, identifier);
            }
        }
        let suback = SubAck {
            packet_id: s.packet_id,
            reason_codes: codes,
            reason_string: None,
            user_properties: Vec::new(),
        };
        self.write(&Packet::SubAck(suback), out);
        Ok(())
    }

    pub(super) fn on_unsubscribe(&mut self, u: Unsubscribe, out: &mut BytesMut) {
        let mut codes = Vec::with_capacity(u.filters.len());
        for filter in &u.filters {
            let removed = {
                let mut st = self.session.state.lock();
                st.subscriptions.remove(filter);
                let removed = self.broker.tree.write().unsubscribe(&self.key, filter);
                st.save(&self.client_id, 0, &self.broker.store);
                removed
            };
            codes.push(if removed {
                ReasonCode::Success
            } else {
                ReasonCode::NoSubscriptionExisted
            });
        }
        let unsuback = UnsubAck {
            packet_id: u.packet_id,
            reason_codes: if self.version.is_v5() {
                codes
            } else {
                Vec::new()
            },
            reason_string: None,
            user_properties: Vec::new(),
        };
        self.write(&Packet::UnsubAck(unsuback), out);
    }
}
