//! Tests of the subscription tree: matching rules, merging, No Local, shared
//! groups, bookkeeping and pruning, and a model check against a naive scan.

use std::num::NonZeroU32;

use courtier_proto::packet::{RetainHandling, SubscriptionOptions};
use courtier_proto::{QoS, TopicFilter, TopicName};
use proptest::prelude::*;

use super::{Delivery, SubscriptionEntry, SubscriptionTree};

fn filter(s: &str) -> TopicFilter {
    TopicFilter::new(s).expect("valid filter")
}

fn topic(s: &str) -> TopicName {
    TopicName::new(s).expect("valid topic")
}

fn entry(qos: QoS, no_local: bool, retain_as_published: bool, id: u32) -> SubscriptionEntry {
    SubscriptionEntry {
        options: SubscriptionOptions {
            qos,
            no_local,
            retain_as_published,
            retain_handling: RetainHandling::SendAtSubscribe,
        },
        identifier: NonZeroU32::new(id),
    }
}

fn plain() -> SubscriptionEntry {
    entry(QoS::AtMostOnce, false, false, 0)
}

fn tree_of(subs: &[(u32, &str)]) -> SubscriptionTree<u32> {
    let mut tree = SubscriptionTree::new();
    for &(key, f) in subs {
        tree.subscribe(key, &filter(f), plain());
    }
    tree
}

fn deliveries(tree: &SubscriptionTree<u32>, t: &str, publisher: Option<u32>) -> Vec<Delivery<u32>> {
    let mut out = Vec::new();
    tree.matches(&topic(t), publisher.as_ref(), &mut out);
    out.sort_by_key(|d| (d.key, d.shared));
    out
}

/// One routing case: with `subs` (key, filter) in the tree, a PUBLISH to
/// `t` reaches exactly the keys `expected`, in any order.
#[track_caller]
fn check(subs: &[(u32, &str)], t: &str, expected: &[u32]) {
    let tree = tree_of(subs);
    let got: Vec<u32> = deliveries(&tree, t, None).iter().map(|d| d.key).collect();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(got, expected, "topic {t:?} with {subs:?}");
}

#[test]
fn matching_rules() {
    let subs = [
        (1, "sport/tennis/player1/#"),
        (2, "sport/tennis/+"),
        (3, "sport/#"),
        (4, "#"),
        (5, "+/tennis/#"),
        (6, "sport/+/player1"),
        (7, "+"),
        (8, "/+"),
        (9, "$SYS/#"),
        (10, "$SYS/+/x"),
        (11, "+/+"),
        (12, "a//b"),
        (13, "a/+/b"),
        (14, "sport"),
    ];
    check(&subs, "sport/tennis/player1", &[1, 2, 3, 4, 5, 6]);
    check(&subs, "sport/tennis/player1/ranking", &[1, 3, 4, 5]);
    check(&subs, "sport/tennis", &[3, 4, 5, 11]);
    check(&subs, "sport", &[3, 4, 7, 14]);
    check(&subs, "sport/", &[3, 4, 11]);
    check(&subs, "/finance", &[4, 8, 11]);
    check(&subs, "$SYS/broker", &[9]);
    check(&subs, "$SYS/y/x", &[9, 10]);
    check(&subs, "$SYS", &[9]);
    check(&subs, "a//b", &[4, 12, 13]);
    check(&subs, "a/x/b", &[4, 13]);
    check(&subs, "other/deep/topic/here", &[4]);
    check(&[(1, "a/b")], "a/b/c", &[]);
    check(&[(1, "a/b/c")], "a/b", &[]);
    check(&[(1, "+/+")], "$x/y", &[]);
    check(&[(1, "a/#")], "a", &[1]);
    check(&[(1, "a/+/#")], "a", &[]);
    check(&[(1, "a/+/#")], "a/b", &[1]);
}

#[test]
fn overlapping_subscriptions_merge_into_one_delivery() {
    let mut tree = SubscriptionTree::new();
    tree.subscribe(1, &filter("a/b"), entry(QoS::AtMostOnce, false, false, 7));
    tree.subscribe(1, &filter("a/+"), entry(QoS::ExactlyOnce, false, true, 0));
    tree.subscribe(1, &filter("#"), entry(QoS::AtLeastOnce, false, false, 9));
    tree.subscribe(2, &filter("a/#"), plain());
    let mut got = deliveries(&tree, "a/b", None);
    got[0].subscription_identifiers.sort_unstable();
    let ids = |ids: &[u32]| ids.iter().filter_map(|&id| NonZeroU32::new(id)).collect();
    assert_eq!(
        got,
        [
            Delivery {
                key: 1,
                qos: QoS::ExactlyOnce,
                retain_as_published: true,
                subscription_identifiers: ids(&[7, 9]),
                shared: false,
            },
            Delivery {
                key: 2,
                qos: QoS::AtMostOnce,
                retain_as_published: false,
                subscription_identifiers: Vec::new(),
                shared: false,
            },
        ]
    );
}

#[test]
fn many_overlapping_keys_merge_past_the_linear_scan() {
    let mut tree = SubscriptionTree::new();
    for key in 0..200 {
        tree.subscribe(key, &filter("a/b"), entry(QoS::AtMostOnce, false, false, 1));
        tree.subscribe(
            key,
            &filter("a/+"),
            entry(QoS::AtLeastOnce, false, false, 2),
        );
        if key % 2 == 0 {
            tree.subscribe(key, &filter("#"), entry(QoS::ExactlyOnce, false, false, 3));
        }
    }
    let got = deliveries(&tree, "a/b", None);
    assert_eq!(got.len(), 200);
    for d in got {
        let expected = if d.key % 2 == 0 { 3 } else { 2 };
        assert_eq!(d.subscription_identifiers.len(), expected, "key {}", d.key);
        let qos = if d.key % 2 == 0 {
            QoS::ExactlyOnce
        } else {
            QoS::AtLeastOnce
        };
        assert_eq!(d.qos, qos);
    }
}

#[test]
fn no_local_skips_only_the_publisher() {
    let mut tree = SubscriptionTree::new();
    tree.subscribe(1, &filter("a/b"), entry(QoS::AtLeastOnce, true, false, 0));
    tree.subscribe(2, &filter("a/b"), entry(QoS::AtLeastOnce, true, false, 0));
    tree.subscribe(3, &filter("a/+"), entry(QoS::AtMostOnce, true, false, 4));
    tree.subscribe(3, &filter("a/#"), entry(QoS::AtMostOnce, false, false, 5));
    let got = deliveries(&tree, "a/b", Some(1));
    let keys: Vec<u32> = got.iter().map(|d| d.key).collect();
    assert_eq!(keys, [2, 3]);
    let got = deliveries(&tree, "a/b", Some(3));
    let keys: Vec<u32> = got.iter().map(|d| d.key).collect();
    assert_eq!(keys, [1, 2, 3]);
    // Only key 3's subscription without No Local contributes.
    assert_eq!(
        got[2].subscription_identifiers,
        NonZeroU32::new(5).into_iter().collect::<Vec<_>>()
    );
    assert_eq!(deliveries(&tree, "a/b", None).len(), 3);
}

#[test]
fn shared_groups_deliver_round_robin_to_one_member() {
    let tree = tree_of(&[
        (1, "$share/g/a/+"),
        (2, "$share/g/a/+"),
        (3, "$share/g/a/+"),
    ]);
    let mut counts = [0; 4];
    for _ in 0..9 {
        let got = deliveries(&tree, "a/x", None);
        assert_eq!(got.len(), 1);
        assert!(got[0].shared);
        counts[got[0].key as usize] += 1;
    }
    assert_eq!(counts, [0, 3, 3, 3]);
}

#[test]
fn shared_deliveries_are_separate() {
    let subs = [
        (1, "$share/g/a/+"),
        (1, "a/+"),
        (1, "a/b"),
        (2, "$share/h/a/+"),
        (3, "$share/g/#"),
        (4, "$share/s/$SYS/#"),
    ];
    // Key 1: one merged ordinary delivery plus its group's; groups g at a/+,
    // h at a/+ and g at # are three groups.
    check(&subs, "a/b", &[1, 1, 2, 3]);
    check(&subs, "$SYS/x", &[4]);
    let tree = tree_of(&subs);
    let shared: Vec<bool> = deliveries(&tree, "a/b", None)
        .iter()
        .map(|d| d.shared)
        .collect();
    assert_eq!(shared, [false, true, true, true]);
}

#[test]
fn subscribe_reports_replacement_and_counts() {
    let mut tree = SubscriptionTree::new();
    assert!(tree.is_empty());
    assert!(!tree.subscribe(1, &filter("a/+"), plain()));
    assert!(tree.subscribe(1, &filter("a/+"), entry(QoS::ExactlyOnce, false, false, 3)));
    assert!(!tree.subscribe(2, &filter("a/+"), plain()));
    assert!(!tree.subscribe(1, &filter("$share/g/a/+"), plain()));
    assert!(tree.subscribe(1, &filter("$share/g/a/+"), plain()));
    assert!(!tree.subscribe(1, &filter("$share/h/a/+"), plain()));
    assert_eq!(tree.len(), 4);
    let replaced = tree.get(&1, &filter("a/+")).map(|e| e.options.qos);
    assert_eq!(replaced, Some(QoS::ExactlyOnce));
    assert!(tree.get(&1, &filter("$share/h/a/+")).is_some());
    assert!(tree.get(&2, &filter("$share/h/a/+")).is_none());
    assert!(tree.get(&1, &filter("a/b")).is_none());
}

#[test]
fn unsubscribe_reports_existence_and_prunes() {
    let filters = [
        "a/b/c",
        "a/+/c",
        "a/#",
        "#",
        "+",
        "a//",
        "$share/g/a/b/c",
        "$share/h/#",
    ];
    let mut tree = SubscriptionTree::new();
    for f in filters {
        tree.subscribe(1, &filter(f), plain());
        tree.subscribe(2, &filter(f), plain());
    }
    assert_eq!(tree.len(), 16);
    assert!(!tree.unsubscribe(&3, &filter("a/b/c")));
    assert!(!tree.unsubscribe(&1, &filter("a/b")));
    assert!(!tree.unsubscribe(&1, &filter("$share/x/a/b/c")));
    assert!(!tree.unsubscribe(&1, &filter("x/y/z")));
    for f in filters {
        assert!(tree.unsubscribe(&1, &filter(f)), "{f}");
        assert!(!tree.unsubscribe(&1, &filter(f)), "{f}");
    }
    assert_eq!(tree.len(), 8);
    // Four ordinary matches merge into one delivery; two groups match.
    check_keys(&tree, "a/b/c", &[2, 2, 2]);
    assert_eq!(
        tree.unsubscribe_all(
            &2,
            filters.iter().map(|f| filter(f)).collect::<Vec<_>>().iter()
        ),
        8
    );
    assert!(tree.is_empty());
    assert!(tree.root.is_empty(), "every node pruned: {:?}", tree.root);
}

#[track_caller]
fn check_keys(tree: &SubscriptionTree<u32>, t: &str, expected: &[u32]) {
    let got: Vec<u32> = deliveries(tree, t, None).iter().map(|d| d.key).collect();
    assert_eq!(got, expected);
}

#[test]
fn pruning_keeps_nodes_still_in_use() {
    let mut tree = tree_of(&[(1, "a/b/c/d"), (2, "a/b"), (3, "a/b/+/d"), (4, "a/b/#")]);
    assert!(tree.unsubscribe(&1, &filter("a/b/c/d")));
    check_keys(&tree, "a/b/c/d", &[3, 4]);
    check_keys(&tree, "a/b", &[2, 4]);
    assert!(tree.unsubscribe(&4, &filter("a/b/#")));
    check_keys(&tree, "a/b/c/d", &[3]);
    assert!(tree.unsubscribe(&2, &filter("a/b")));
    check_keys(&tree, "a/b/x/d", &[3]);
    assert!(tree.unsubscribe(&3, &filter("a/b/+/d")));
    assert!(tree.root.is_empty());
}

#[test]
fn deep_filters_do_not_overflow_the_stack() {
    let deep = "a/".repeat(30_000) + "#";
    let mut tree = SubscriptionTree::new();
    tree.subscribe(1, &filter(&deep), plain());
    tree.subscribe(2, &filter(&("+/".repeat(30_000) + "+")), plain());
    let deep_topic = "a/".repeat(30_000) + "a";
    check_keys(&tree, &deep_topic, &[1, 2]);
    assert!(tree.unsubscribe(&1, &filter(&deep)));
    check_keys(&tree, &deep_topic, &[2]);
    // Dropping the remaining 30,000-node chain must not recurse either.
    drop(tree);
}

#[test]
fn alias_only_topic_matches_nothing() {
    let tree = tree_of(&[(1, "#"), (2, "+")]);
    let mut out = vec![];
    tree.matches(&TopicName::alias_only(), None, &mut out);
    assert!(out.is_empty());
}

/// Filters of up to 4 levels over a small alphabet, some with `+`, `#`,
/// `$`, empty levels, or a share group.
fn filter_strategy() -> impl Strategy<Value = String> {
    let levels = prop::collection::vec("(a|b||\\$s|\\+)", 1..4);
    (levels, any::<bool>(), prop::option::of("(g|h)"))
        .prop_map(|(levels, hash, group)| {
            let mut f = levels.join("/");
            if hash {
                f.push_str("/#");
            }
            match group {
                // `$share/g/` with an empty filter is not a valid filter.
                Some(group) if !f.is_empty() => format!("$share/{group}/{f}"),
                _ => f,
            }
        })
        .prop_filter("topic filters are not empty", |f| !f.is_empty())
}

fn topic_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec("(a|b||\\$s)", 1..5)
        .prop_map(|levels| levels.join("/"))
        .prop_filter("topic names are not empty", |t| !t.is_empty())
}

fn entry_strategy() -> impl Strategy<Value = SubscriptionEntry> {
    (0u8..3, any::<bool>(), any::<bool>(), 0u32..4).prop_map(|(qos, no_local, rap, id)| {
        let qos = QoS::from_bits(qos).unwrap_or_default();
        entry(qos, no_local, rap, id)
    })
}

proptest! {
    #[test]
    fn matches_agree_with_a_naive_scan(
        subs in prop::collection::vec((0u32..6, filter_strategy(), entry_strategy()), 0..40),
        topics in prop::collection::vec(topic_strategy(), 1..8),
        publisher in prop::option::of(0u32..6),
    ) {
        let mut tree = SubscriptionTree::new();
        // The model: the latest entry per (key, filter), as `subscribe` replaces.
        let mut model: Vec<(u32, TopicFilter, SubscriptionEntry)> = Vec::new();
        for (key, f, e) in subs {
            let f = filter(&f);
            let existed = model.iter().position(|(k, mf, _)| *k == key && *mf == f);
            prop_assert_eq!(tree.subscribe(key, &f, e), existed.is_some());
            match existed {
                Some(i) => model[i].2 = e,
                None => model.push((key, f, e)),
            }
        }
        prop_assert_eq!(tree.len(), model.len());
        for t in topics {
            let t = topic(&t);
            let mut out = Vec::new();
            tree.matches(&t, publisher.as_ref(), &mut out);
            let matching = model.iter().filter(|(_, f, _)| f.matches(&t));

            // Ordinary subscriptions: one merged delivery per key.
            let mut expected: Vec<Delivery<u32>> = Vec::new();
            for (key, _, e) in matching.clone().filter(|(_, f, _)| !f.is_shared()) {
                if e.options.no_local && publisher == Some(*key) {
                    continue;
                }
                match expected.iter_mut().find(|d| d.key == *key) {
                    Some(d) => {
                        d.qos = d.qos.max(e.options.qos);
                        d.retain_as_published |= e.options.retain_as_published;
                        d.subscription_identifiers.extend(e.identifier);
                    }
                    None => expected.push(Delivery {
                        key: *key,
                        qos: e.options.qos,
                        retain_as_published: e.options.retain_as_published,
                        subscription_identifiers: e.identifier.into_iter().collect(),
                        shared: false,
                    }),
                }
            }
            let mut direct: Vec<Delivery<u32>> = out.iter().filter(|d| !d.shared).cloned().collect();
            for d in direct.iter_mut().chain(expected.iter_mut()) {
                d.subscription_identifiers.sort_unstable();
            }
            direct.sort_by_key(|d| d.key);
            expected.sort_by_key(|d| d.key);
            prop_assert_eq!(direct, expected);

            // Shared: one delivery per matching group, to one of its members.
            let mut groups: Vec<&TopicFilter> = matching
                .filter(|(_, f, _)| f.is_shared())
                .map(|(_, f, _)| f)
                .collect();
            groups.sort();
            groups.dedup();
            let shared: Vec<&Delivery<u32>> = out.iter().filter(|d| d.shared).collect();
            prop_assert_eq!(shared.len(), groups.len());
            for d in shared {
                prop_assert!(model.iter().any(|(k, f, _)| *k == d.key && f.is_shared() && f.matches(&t)));
            }
        }
        // Unsubscribing everything leaves an empty, fully pruned tree.
        for (key, f, _) in &model {
            prop_assert!(tree.unsubscribe(key, f));
        }
        prop_assert!(tree.is_empty());
        prop_assert!(tree.root.is_empty());
    }
}
