//! Topic filters as sets of topic names: whether a filter matches a topic
//! ([`contains`]), whether every topic one filter matches is matched by
//! another ([`covers`]), and whether two filters match any topic in common
//! ([`overlaps`]).
//!
//! Authorization needs both to decide a SUBSCRIBE once, when it arrives,
//! instead of filtering deliveries later: a subscription may be granted when
//! a rule that allows reading covers its filter and no rule that denies
//! overlaps it. Both functions take filters already checked by
//! [`crate::TopicFilter::new`] (wildcards only as whole levels, `#` last)
//! and follow the matching rules of [`crate::TopicFilter::matches`],
//! including that a first-level wildcard matches no topic starting with `$`
//! ([MQTT-4.7.2-1]).

/// Whether `filter` matches `topic`: [`crate::TopicFilter::matches`] on
/// text already checked, for callers that hold filters as strings.
pub fn contains(filter: &str, topic: &str) -> bool {
    crate::topic::filter_matches(filter, topic)
}

/// Whether `outer` matches every topic that `inner` matches.
///
/// Level by level: `#` in `outer` takes the rest; `+` in `outer` takes any
/// one level of `inner` but `#` (which stands for several); a literal level
/// of `outer` only takes the same literal. `a/#` also matches `a`, so an
/// `outer` longer than `inner` by a final `#` still covers it.
pub fn covers(outer: &str, inner: &str) -> bool {
    // A first-level wildcard of `outer` matches no `$` topic: it cannot cover
    // an `inner` whose first level is a `$` literal.
    if outer.starts_with(['+', '#']) && inner.starts_with('$') {
        return false;
    }
    let mut outer_levels = outer.split('/');
    let mut inner_levels = inner.split('/');
    loop {
        match (outer_levels.next(), inner_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(i)) if i != "#" => {}
            (Some(o), Some(i)) if o != "+" && o == i => {}
            (None, None) => return true,
            // A literal against a wildcard or another literal, or one filter
            // ended first (an `outer` ending in `#` was taken above: `a/#` ⊇ `a`).
            _ => return false,
        }
    }
}

/// Whether some topic is matched by both `a` and `b`.
pub fn overlaps(a: &str, b: &str) -> bool {
    // A first-level wildcard matches no `$` topic, so it shares nothing with
    // a filter whose first level is a `$` literal.
    let dollar_vs_wild = |x: &str, y: &str| x.starts_with('$') && y.starts_with(['+', '#']);
    if dollar_vs_wild(a, b) || dollar_vs_wild(b, a) {
        return false;
    }
    let mut a_levels = a.split('/');
    let mut b_levels = b.split('/');
    loop {
        match (a_levels.next(), b_levels.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (Some("+"), Some(_)) | (Some(_), Some("+")) => {}
            (Some(x), Some(y)) if x == y => {}
            (None, None) => return true,
            // Different literals, or one ended while the other goes on with
            // something other than `#` (taken above: `a/#` and `a` share `a`).
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{TopicFilter, TopicName};

    /// Every topic of up to four levels over `a`, `b`, `$s` and `z` (a
    /// level no generated filter names, standing for "anything else"):
    /// enough to tell filters of up to three levels apart.
    fn universe() -> Vec<TopicName> {
        const LEVELS: [&str; 4] = ["a", "b", "$s", "z"];
        let mut topics = Vec::new();
        let mut frontier = vec![String::new()];
        for depth in 0..4 {
            let mut next = Vec::new();
            for prefix in &frontier {
                for level in LEVELS {
                    let topic = if depth == 0 {
                        level.to_owned()
                    } else {
                        format!("{prefix}/{level}")
                    };
                    topics.push(TopicName::new(topic.clone()).expect("valid topic"));
                    next.push(topic);
                }
            }
            frontier = next;
        }
        topics
    }

    fn filter() -> impl Strategy<Value = String> {
        let level = prop::sample::select(vec!["a", "b", "$s", "+"]);
        (prop::collection::vec(level, 1..=3), any::<bool>()).prop_map(|(levels, hash)| {
            let mut f = levels.join("/");
            if hash {
                f.push_str("/#");
            }
            f
        })
    }

    fn matches(filter: &str, topic: &TopicName) -> bool {
        TopicFilter::new(filter.to_owned())
            .expect("valid filter")
            .matches(topic)
    }

    #[test]
    fn examples() {
        for (outer, inner, expect) in [
            ("#", "a/b", true),
            ("#", "$SYS/x", false),
            ("$SYS/#", "$SYS/broker/+", true),
            ("a/#", "a", true),
            ("a/#", "a/#", true),
            ("a/+", "a/#", false),
            ("a/+", "a/b", true),
            ("a/+", "a/+", true),
            ("a/b", "a/+", false),
            ("+/b", "a/b", true),
            ("a/b", "a/b/c", false),
        ] {
            assert_eq!(covers(outer, inner), expect, "{outer} ⊇ {inner}");
        }
        for (a, b, expect) in [
            ("a/#", "a", true),
            ("a/+", "a", false),
            ("+/b", "a/+", true),
            ("#", "$SYS/x", false),
            ("$SYS/#", "$SYS/x", true),
            ("a/b", "a/c", false),
            ("a/b/#", "a/+", true),
        ] {
            assert_eq!(overlaps(a, b), expect, "{a} ∩ {b}");
            assert_eq!(overlaps(b, a), expect, "{b} ∩ {a}");
        }
    }

    proptest! {
        /// Both relations agree with enumerating a universe of topics.
        #[test]
        fn agree_with_enumeration(a in filter(), b in filter()) {
            let topics = universe();
            let naive_covers = topics.iter().all(|t| !matches(&b, t) || matches(&a, t));
            let naive_overlaps = topics.iter().any(|t| matches(&a, t) && matches(&b, t));
            prop_assert_eq!(covers(&a, &b), naive_covers, "{} ⊇ {}", a, b);
            prop_assert_eq!(overlaps(&a, &b), naive_overlaps, "{} ∩ {}", a, b);
        }
    }
}
