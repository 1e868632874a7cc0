//! Topic validation and matching: data-driven tables from the spec's examples
//! (4.7.1.2, 4.7.1.3, 4.7.2, 4.8.2) and property tests.

use courtier_proto::topic::SharedFilter;
use courtier_proto::{TopicError, TopicFilter, TopicName};
use proptest::prelude::*;

/// One matching case: `filter` against `topic` must give `expected`.
#[track_caller]
fn check(filter: &str, topic: &str, expected: bool) {
    let f = TopicFilter::new(filter).expect("valid filter");
    let t = TopicName::new(topic).expect("valid topic");
    assert_eq!(
        f.matches(&t),
        expected,
        "filter {filter:?} against topic {topic:?}"
    );
}

#[test]
fn multi_level_wildcard_spec_examples() {
    // 4.7.1.2
    check("sport/tennis/player1/#", "sport/tennis/player1", true);
    check(
        "sport/tennis/player1/#",
        "sport/tennis/player1/ranking",
        true,
    );
    check(
        "sport/tennis/player1/#",
        "sport/tennis/player1/score/wimbledon",
        true,
    );
    check("sport/#", "sport", true);
    check("#", "sport/tennis/player1", true);
    check("#", "/", true);
    check("#", "a", true);
    check("sport/tennis/#", "sport/tennis", true);
    check("sport/tennis/#", "sport/tennisplayer", false);
    check("sport/tennis/player1/#", "sport/tennis/player2", false);
}

#[test]
fn single_level_wildcard_spec_examples() {
    // 4.7.1.3
    check("sport/tennis/+", "sport/tennis/player1", true);
    check("sport/tennis/+", "sport/tennis/player2", true);
    check("sport/tennis/+", "sport/tennis/player1/ranking", false);
    check("sport/+", "sport", false);
    check("sport/+", "sport/", true);
    check("+", "sport", true);
    check("+/tennis/#", "sport/tennis", true);
    check("+/tennis/#", "sport/tennis/x/y", true);
    check("sport/+/player1", "sport/tennis/player1", true);
    check("/finance", "/finance", true);
    check("+/+", "/finance", true);
    check("/+", "/finance", true);
    check("+", "/finance", false);
}

#[test]
fn dollar_topics_spec_examples() {
    // 4.7.2 [MQTT-4.7.2-1]
    check("#", "$SYS/broker/uptime", false);
    check("+/monitor/Clients", "$SYS/monitor/Clients", false);
    check("$SYS/#", "$SYS/monitor/Clients", true);
    check("$SYS/monitor/+", "$SYS/monitor/Clients", true);
    check("$SYS/#", "$SYS", true);
    check("+", "$", false);
    check("a/#", "a/$b", true);
    check("a/+", "a/$b", true);
    check("$share/g/#", "$SYS/x", false);
    check("$share/g/$SYS/+", "$SYS/x", true);
}

#[test]
fn empty_levels_are_levels() {
    check("a//b", "a//b", true);
    check("a/+/b", "a//b", true);
    check("a/b", "a//b", false);
    check("+/a", "/a", true);
    check("/#", "/a", true);
    check("/#", "/", true);
    check("+", "/", false);
    check("+/+", "/", true);
    check("a/", "a/", true);
    check("a/", "a", false);
    check("a/+", "a/", true);
    check("a/#", "a/", true);
    check("//", "//", true);
    check("+/+/+", "//", true);
}

#[test]
fn literal_levels_compare_whole() {
    check("a/b", "a/b", true);
    check("a/b", "a/bc", false);
    check("a/b", "a/b/c", false);
    check("a/b/c", "a/b", false);
    check("A/b", "a/b", false);
    check("caf\u{e9}/+", "caf\u{e9}/x", true);
}

#[test]
fn shared_filters_match_with_their_inner_filter() {
    check("$share/g/a/+", "a/b", true);
    check("$share/g/a/+", "g/a/b", false);
    check("$share/group/#", "anything/at/all", true);
    check("$share/g/a", "$share/g/a", false);
}

/// One validation case: `filter` must parse to `expected`.
#[track_caller]
fn check_filter(filter: &str, expected: Result<Option<(&str, &str)>, TopicError>) {
    let got = TopicFilter::new(filter).map(|f| {
        f.shared()
            .map(|SharedFilter { group, filter }| (group.to_owned(), filter.to_owned()))
    });
    let expected = expected.map(|o| o.map(|(g, f)| (g.to_owned(), f.to_owned())));
    assert_eq!(got, expected, "filter {filter:?}");
}

#[test]
fn filter_validation() {
    check_filter("a/b", Ok(None));
    check_filter("#", Ok(None));
    check_filter("+/+/#", Ok(None));
    check_filter("/", Ok(None));
    check_filter("", Err(TopicError::Empty));
    check_filter("a/#/b", Err(TopicError::BadWildcard));
    check_filter("a#", Err(TopicError::BadWildcard));
    check_filter("a/b+", Err(TopicError::BadWildcard));
    check_filter("+a", Err(TopicError::BadWildcard));
    check_filter("a\0b", Err(TopicError::NullCharacter));
    check_filter(&"a".repeat(65_536), Err(TopicError::TooLong));
    check_filter(&"a".repeat(65_535), Ok(None));
}

#[test]
fn shared_filter_validation() {
    // 4.8.2 [MQTT-4.8.2-1], [MQTT-4.8.2-2]
    check_filter("$share/g/a/b", Ok(Some(("g", "a/b"))));
    check_filter(
        "$share/consumer1/sport/tennis/+",
        Ok(Some(("consumer1", "sport/tennis/+"))),
    );
    check_filter("$share/g/#", Ok(Some(("g", "#"))));
    check_filter("$share/g//", Ok(Some(("g", "/"))));
    check_filter("$share/g/$SYS/#", Ok(Some(("g", "$SYS/#"))));
    check_filter("$share//a", Err(TopicError::BadShareName));
    check_filter("$share/", Err(TopicError::BadShareName));
    check_filter("$share/+/a", Err(TopicError::BadShareName));
    check_filter("$share/#", Err(TopicError::BadShareName));
    check_filter("$share/a+b/x", Err(TopicError::BadShareName));
    check_filter("$share/g#/x", Err(TopicError::BadShareName));
    check_filter("$share/g", Err(TopicError::MissingSharedFilter));
    check_filter("$share/g/", Err(TopicError::MissingSharedFilter));
    check_filter("$share/g/a/#/b", Err(TopicError::BadWildcard));
    // Not shared: the prefix is `$share/` exactly.
    check_filter("$share", Ok(None));
    check_filter("$shared/g/a", Ok(None));
    check_filter("a/$share/g/a", Ok(None));
}

#[test]
fn filter_views() {
    let f = TopicFilter::new("$share/g/a/+/c").expect("valid");
    assert!(f.is_shared());
    assert!(f.is_wildcard());
    assert_eq!(f.matching_filter(), "a/+/c");
    assert_eq!(f.levels().collect::<Vec<_>>(), ["a", "+", "c"]);
    let f = TopicFilter::new("a//b").expect("valid");
    assert!(!f.is_shared());
    assert!(!f.is_wildcard());
    assert_eq!(f.levels().collect::<Vec<_>>(), ["a", "", "b"]);
    let t = TopicName::new("$SYS/x").expect("valid");
    assert!(t.is_dollar());
    assert_eq!(t.levels().collect::<Vec<_>>(), ["$SYS", "x"]);
}

#[test]
fn alias_only_topic_matches_nothing() {
    let empty = TopicName::alias_only();
    for filter in ["#", "+", "a"] {
        let f = TopicFilter::new(filter).expect("valid");
        assert!(!f.matches(&empty), "{filter}");
    }
}

/// Non-empty topics of 1 to 5 levels drawn from a small alphabet, so that
/// random filters and topics often share levels; `$` starts some.
fn topic_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec("(|a|b|\\$s|cd)", 1..6)
        .prop_map(|levels| levels.join("/"))
        .prop_filter("a topic name is never empty", |t| !t.is_empty())
}

/// The filter derived from `topic` by replacing the levels where `mask`
/// says so with `+`, and optionally cutting it with `#`.
fn generalise(topic: &str, mask: &[bool], cut: Option<usize>) -> String {
    let mut levels: Vec<&str> = topic
        .split('/')
        .zip(mask.iter().chain(std::iter::repeat(&false)))
        .map(|(level, &plus)| if plus { "+" } else { level })
        .collect();
    if let Some(cut) = cut {
        levels.truncate(cut % (levels.len() + 1));
        levels.push("#");
    }
    levels.join("/")
}

proptest! {
    #[test]
    fn a_topic_as_filter_matches_itself(topic in topic_strategy()) {
        let f = TopicFilter::new(topic.as_str()).expect("valid");
        prop_assert!(f.matches(&TopicName::new(topic.as_str()).expect("valid")));
    }

    #[test]
    fn hash_matches_every_non_dollar_topic(topic in topic_strategy()) {
        let t = TopicName::new(topic.as_str()).expect("valid");
        let hash = TopicFilter::new("#").expect("valid");
        prop_assert_eq!(hash.matches(&t), !topic.starts_with('$'));
    }

    #[test]
    fn generalised_topics_match_unless_dollar_rule(
        topic in topic_strategy(),
        mask in prop::collection::vec(any::<bool>(), 5),
        cut in prop::option::of(0usize..6),
    ) {
        let filter = generalise(&topic, &mask, cut);
        let f = TopicFilter::new(filter.as_str()).expect("valid");
        let t = TopicName::new(topic.as_str()).expect("valid");
        let first_is_wild = filter.starts_with(['+', '#']);
        prop_assert_eq!(f.matches(&t), !(topic.starts_with('$') && first_is_wild));
    }

    #[test]
    fn plus_matches_exactly_one_level(topic in topic_strategy()) {
        let t = TopicName::new(topic.as_str()).expect("valid");
        let depth = topic.split('/').count();
        for n in 1..7 {
            let filter = vec!["+"; n].join("/");
            let f = TopicFilter::new(filter.as_str()).expect("valid");
            prop_assert_eq!(f.matches(&t), n == depth && !topic.starts_with('$'));
        }
    }
}
