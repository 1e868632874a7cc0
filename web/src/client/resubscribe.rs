//! The subscriptions a broker granted, with the SUBSCRIBE properties they were made with, so
//! that a client whose session the broker lost can subscribe again exactly as the user did.

use courtier_proto::TopicFilter;
use courtier_proto::packet::{SubscribeProperties, Subscription};

/// Granted subscriptions, one per filter, in the order first granted.
///
/// A SUBSCRIBE's properties (Subscription Identifier, user properties) apply to every filter
/// in it, so each subscription keeps its own copy: a later SUBSCRIBE to the same filter
/// replaces both its options and its properties, as it does on the broker ([MQTT-3.8.4-3]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionBook {
    entries: Vec<(Subscription, SubscribeProperties)>,
}

impl SubscriptionBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a granted subscription made with `properties`.
    pub fn remember(&mut self, subscription: Subscription, properties: &SubscribeProperties) {
        match self
            .entries
            .iter_mut()
            .find(|(s, _)| s.filter == subscription.filter)
        {
            Some(entry) => *entry = (subscription, properties.clone()),
            None => self.entries.push((subscription, properties.clone())),
        }
    }

    /// Drops the subscriptions to `filters` (after UNSUBSCRIBE).
    pub fn forget(&mut self, filters: &[TopicFilter]) {
        self.entries.retain(|(s, _)| !filters.contains(&s.filter));
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The SUBSCRIBE requests that restore every subscription: one per distinct set of
    /// properties (filters made with the same properties share one), in the order the first
    /// subscription of each was granted.
    pub fn restore(&self) -> Vec<(Vec<Subscription>, SubscribeProperties)> {
        let mut requests: Vec<(Vec<Subscription>, SubscribeProperties)> = Vec::new();
        for (subscription, properties) in &self.entries {
            match requests.iter_mut().find(|(_, p)| p == properties) {
                Some((subscriptions, _)) => subscriptions.push(subscription.clone()),
                None => requests.push((vec![subscription.clone()], properties.clone())),
            }
        }
        requests
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use courtier_proto::QoS;
    use courtier_proto::packet::{SubscriptionOptions, UserProperty};

    use super::*;

    fn sub(filter: &str, qos: QoS) -> Subscription {
        Subscription {
            filter: TopicFilter::new(filter).unwrap(),
            options: SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            },
        }
    }

    fn props(id: u32, user: &[(&str, &str)]) -> SubscribeProperties {
        SubscribeProperties {
            subscription_identifier: NonZeroU32::new(id),
            user_properties: user
                .iter()
                .map(|(name, value)| UserProperty {
                    name: (*name).into(),
                    value: (*value).into(),
                })
                .collect(),
        }
    }

    /// `(filters, identifier, user property names)` of each restoring SUBSCRIBE.
    fn summary(book: &SubscriptionBook) -> Vec<(Vec<String>, u32, Vec<String>)> {
        book.restore()
            .into_iter()
            .map(|(subs, p)| {
                (
                    subs.iter().map(|s| s.filter.as_str().to_owned()).collect(),
                    p.subscription_identifier.map_or(0, NonZeroU32::get),
                    p.user_properties
                        .iter()
                        .map(|u| format!("{}={}", u.name, u.value))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn restoring_keeps_each_subscriptions_identifier_and_user_properties() {
        let mut book = SubscriptionBook::new();
        assert!(book.is_empty() && book.restore().is_empty());
        book.remember(
            sub("house/#", QoS::AtLeastOnce),
            &props(7, &[("app", "dash")]),
        );
        book.remember(sub("plain/+", QoS::AtMostOnce), &props(0, &[]));
        book.remember(
            sub("garden/#", QoS::ExactlyOnce),
            &props(7, &[("app", "dash")]),
        );
        book.remember(sub("other", QoS::AtMostOnce), &props(9, &[]));
        assert_eq!(
            summary(&book),
            [
                (
                    vec!["house/#".to_owned(), "garden/#".to_owned()],
                    7,
                    vec!["app=dash".to_owned()]
                ),
                (vec!["plain/+".to_owned()], 0, vec![]),
                (vec!["other".to_owned()], 9, vec![]),
            ]
        );
        // The options travel too.
        assert_eq!(book.restore()[0].0[1].options.qos, QoS::ExactlyOnce);
    }

    #[test]
    fn a_later_subscribe_replaces_options_and_properties_and_unsubscribe_forgets() {
        let mut book = SubscriptionBook::new();
        book.remember(sub("a", QoS::AtMostOnce), &props(1, &[]));
        book.remember(sub("b", QoS::AtMostOnce), &props(2, &[]));
        book.remember(sub("a", QoS::ExactlyOnce), &props(3, &[("k", "v")]));
        assert_eq!(
            summary(&book),
            [
                (vec!["a".to_owned()], 3, vec!["k=v".to_owned()]),
                (vec!["b".to_owned()], 2, vec![]),
            ]
        );
        assert_eq!(book.restore()[0].0[0].options.qos, QoS::ExactlyOnce);
        book.forget(&[TopicFilter::new("a").unwrap()]);
        assert_eq!(summary(&book), [(vec!["b".to_owned()], 2, vec![])]);
    }
}
