//! Topic names and topic filters: validated newtypes, matching, shared subscriptions.

use bytestring::ByteString;

/// A topic name as carried by PUBLISH: UTF-8, no wildcards (`+`, `#`),
/// no U+0000 ([MQTT-3.3.2-2], [MQTT-4.7.3-1]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(ByteString);

/// A topic filter as carried by SUBSCRIBE and UNSUBSCRIBE: non-empty, `#`
/// only as the last level, wildcards only as whole levels ([MQTT-4.7.1-1..3]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(ByteString);

/// Why a string is not a valid topic name or filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Empty where a topic is required.
    #[error("[MQTT-4.7.3-1] topic names and filters must be at least one character long")]
    Empty,
    /// A wildcard in a topic name.
    #[error("[MQTT-3.3.2-2] a topic name must not contain wildcard characters")]
    WildcardInName,
    /// `#` not alone in the last level, or `+` not alone in its level.
    #[error("[MQTT-4.7.1-2] wildcards must occupy a whole level, and '#' must be the last level")]
    BadWildcard,
    /// U+0000 in a topic.
    #[error("[MQTT-4.7.3-2] topic names and filters must not contain U+0000")]
    NullCharacter,
    /// Longer than 65,535 bytes.
    #[error("[MQTT-4.7.3-3] topic names and filters are at most 65,535 bytes")]
    TooLong,
    /// A `$share/` filter whose ShareName is empty or contains `+` or `#`.
    #[error(
        "[MQTT-4.8.2-1] [MQTT-4.8.2-2] a shared subscription's ShareName must be at least one \
         character long and must not contain '/', '+' or '#'"
    )]
    BadShareName,
    /// A `$share/{ShareName}` filter with no topic filter after the ShareName.
    #[error(
        "[MQTT-4.8.2-2] a shared subscription's ShareName must be followed by '/' and a topic filter"
    )]
    MissingSharedFilter,
}

/// The prefix that makes a topic filter a shared subscription (4.8.2).
const SHARE_PREFIX: &str = "$share/";

/// A shared subscription `$share/{group}/{filter}`, viewed in place in its
/// [`TopicFilter`] (see [`TopicFilter::shared`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SharedFilter<'a> {
    /// The ShareName: non-empty, without `/`, `+` or `#`.
    pub group: &'a str,
    /// The topic filter the group subscribes to: non-empty and valid.
    pub filter: &'a str,
}

/// Split a valid shared filter into its parts, or say why it is not one.
/// `Ok(None)` when `s` does not start with `$share/`.
fn parse_shared(s: &str) -> Result<Option<SharedFilter<'_>>, TopicError> {
    let Some(rest) = s.strip_prefix(SHARE_PREFIX) else {
        return Ok(None);
    };
    let Some((group, filter)) = rest.split_once('/') else {
        // `$share/group` alone, or `$share/` with nothing at all.
        return Err(if rest.is_empty() || rest.contains(['+', '#']) {
            TopicError::BadShareName
        } else {
            TopicError::MissingSharedFilter
        });
    };
    if group.is_empty() || group.contains(['+', '#']) {
        return Err(TopicError::BadShareName);
    }
    if filter.is_empty() {
        return Err(TopicError::MissingSharedFilter);
    }
    Ok(Some(SharedFilter { group, filter }))
}

/// Whether `filter` matches `topic`, both already valid and `filter` not a
/// `$share/` filter: `+` is one level, `#` is its own level and all below
/// (so `a/#` matches `a`), empty levels are levels, and a topic starting
/// with `$` is not matched by a first-level wildcard ([MQTT-4.7.2-1]).
/// An empty topic (the alias-only form) matches nothing.
pub(crate) fn filter_matches(filter: &str, topic: &str) -> bool {
    if topic.is_empty() {
        return false;
    }
    // Wildcards occupy whole levels, so the first level is a wildcard
    // exactly when the filter's first byte is one.
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The bytes a topic is scanned for: the wildcards and U+0000.
const PLUS: u64 = u64::from_ne_bytes([b'+'; 8]);
const EIGHTS: u64 = u64::from_ne_bytes([0x08; 8]);
const LOWS: u64 = u64::from_ne_bytes([0x7F; 8]);

/// The eight bytes of `word` as one little-endian `u64`, so that byte `i`
/// is bits `8 * i..8 * i + 8` whatever the target.
#[inline(always)]
fn load(word: &[u8]) -> u64 {
    let mut v = [0; 8];
    v.copy_from_slice(word);
    u64::from_le_bytes(v)
}

/// 0x80 in exactly the bytes of `v` that are `+`, `#` or NUL, 0 elsewhere
/// ("SWAR": eight bytes tested at once). Adding 0x7F to the low seven bits
/// of a byte sets its high bit unless they were all zero, and never carries
/// into the next byte; OR-ing in the byte itself catches 0x80. XOR with a
/// repeated byte first turns that byte into zero (Hacker's Delight, 6-1).
/// `#` (0x23) and `+` (0x2B) differ only in bit 3, and no other byte
/// becomes 0x2B when that bit is set, so one test finds both wildcards.
#[inline(always)]
fn special_mask(v: u64) -> u64 {
    let nonzero = |v: u64| ((v & LOWS) + LOWS) | v;
    !(nonzero(v) & nonzero((v | EIGHTS) ^ PLUS) | LOWS)
}

/// Call `visit` with the position and value of every `+`, `#` and NUL in
/// `bytes`, in order, stopping at its first error.
///
/// Topics are mostly plain bytes, so this tests eight bytes at a time and
/// jumps straight to the few special ones through the mask's set bits; the
/// last partial word is read as the overlapping last eight bytes, with the
/// bytes already seen masked off. On inputs this short that costs about a
/// third of a `memchr3` (whose SIMD set-up is paid again after every hit)
/// or of a byte loop.
#[inline]
fn scan_special<E>(
    bytes: &[u8],
    mut visit: impl FnMut(usize, u8) -> Result<(), E>,
) -> Result<(), E> {
    let mut each = |start: usize, mut mask: u64| {
        while mask != 0 {
            let i = start + (mask.trailing_zeros() / 8) as usize;
            visit(i, bytes[i])?;
            mask &= mask - 1;
        }
        Ok(())
    };
    if bytes.len() < 8 {
        // Padded with a byte that is not special.
        let mut v = [b'a'; 8];
        v[..bytes.len()].copy_from_slice(bytes);
        return each(0, special_mask(u64::from_le_bytes(v)));
    }
    let mut words = bytes.chunks_exact(8);
    for (n, word) in words.by_ref().enumerate() {
        let mask = special_mask(load(word));
        if mask != 0 {
            each(n * 8, mask)?;
        }
    }
    let seen = 8 - words.remainder().len();
    if seen < 8 {
        let start = bytes.len() - 8;
        let mask = special_mask(load(&bytes[start..])) & (u64::MAX << (8 * seen));
        each(start, mask)?;
    }
    Ok(())
}

/// Whether `bytes` holds a `+`, `#` or NUL: [`scan_special`] without the
/// positions, for the usual case of a valid topic name.
#[inline]
pub(crate) fn has_special(bytes: &[u8]) -> bool {
    if bytes.len() < 8 {
        let mut v = [b'a'; 8];
        v[..bytes.len()].copy_from_slice(bytes);
        return special_mask(u64::from_le_bytes(v)) != 0;
    }
    let mut words = bytes.chunks_exact(8);
    let mut any = 0;
    for word in words.by_ref() {
        any |= special_mask(load(word));
    }
    // Overlapping the words already tested is harmless for a yes/no answer.
    if !words.remainder().is_empty() {
        any |= special_mask(load(&bytes[bytes.len() - 8..]));
    }
    any != 0
}

/// Validate a topic filter in one pass over its bytes. The errors keep a
/// fixed precedence whatever their position: too short or too long, then
/// U+0000, then a bad shared-subscription prefix (so that `$share/a+b/x` is
/// reported as the bad ShareName it is), then a misplaced wildcard.
fn check_filter(s: &str) -> Result<(), TopicError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(TopicError::Empty);
    }
    if bytes.len() > usize::from(u16::MAX) {
        return Err(TopicError::TooLong);
    }
    let mut bad_wildcard = false;
    // Only the few bytes that matter (`+`, `#`, NUL) are looked at one by one.
    scan_special(bytes, |i, b| {
        if b == 0 {
            return Err(TopicError::NullCharacter);
        }
        // A wildcard is a whole level: it follows the start or a `/`, and
        // is followed by the end, or by `/` for `+` only (`#` must be the
        // last level).
        let starts_level = i == 0 || bytes[i - 1] == b'/';
        let ends_level = match bytes.get(i + 1) {
            None => true,
            Some(&next) => next == b'/' && b == b'+',
        };
        bad_wildcard |= !(starts_level && ends_level);
        Ok(())
    })?;
    if bytes.starts_with(SHARE_PREFIX.as_bytes()) {
        // The ShareName cannot hold wildcards, so the levels checked above
        // were also exactly the inner filter's.
        parse_shared(s)?;
    }
    if bad_wildcard {
        return Err(TopicError::BadWildcard);
    }
    Ok(())
}

impl TopicName {
    /// Validate a topic name.
    pub fn new(s: impl Into<ByteString>) -> Result<Self, TopicError> {
        let s = s.into();
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        Self::check(&s)?;
        Ok(Self(s))
    }

    /// The empty topic of a v5 PUBLISH that names its topic by alias only.
    pub fn alias_only() -> Self {
        Self(ByteString::new())
    }

    /// Validate a topic name that may be empty (the wire form of a v5
    /// PUBLISH with a Topic Alias); the caller checks the alias.
    pub fn new_or_empty(s: ByteString) -> Result<Self, TopicError> {
        Self::check(&s)?;
        Ok(Self(s))
    }

    /// A topic name read off the wire (already UTF-8, at most 65,535
    /// bytes), `empty_ok` for the alias-only form: one pass for the usual
    /// valid name, and the full check only to name what is wrong.
    #[inline]
    pub(crate) fn from_wire(s: ByteString, empty_ok: bool) -> Result<Self, TopicError> {
        if s.is_empty() && !empty_ok {
            return Err(TopicError::Empty);
        }
        if has_special(s.as_bytes()) {
            Self::check(&s)?;
        }
        Ok(Self(s))
    }

    #[inline]
    fn check(s: &str) -> Result<(), TopicError> {
        if s.len() > usize::from(u16::MAX) {
            return Err(TopicError::TooLong);
        }
        // A name is rejected at its first special byte: that one is reported.
        scan_special(s.as_bytes(), |_, b| {
            Err(if b == 0 {
                TopicError::NullCharacter
            } else {
                TopicError::WildcardInName
            })
        })
    }

    /// The topic as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying shared string.
    pub fn as_bytestring(&self) -> &ByteString {
        &self.0
    }

    /// True only for the alias-only form.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The levels of the topic, split on `/`; empty levels included
    /// (`/a` has the levels `""` and `"a"`).
    pub fn levels(&self) -> std::str::Split<'_, char> {
        self.0.split('/')
    }

    /// True for topics that start with `$` (`$SYS/...`): first-level
    /// wildcards do not match them ([MQTT-4.7.2-1]).
    pub fn is_dollar(&self) -> bool {
        self.0.starts_with('$')
    }
}

impl TopicFilter {
    /// Validate a topic filter, including the shape of a shared subscription
    /// `$share/{ShareName}/{filter}` ([MQTT-4.8.2-1], [MQTT-4.8.2-2]).
    pub fn new(s: impl Into<ByteString>) -> Result<Self, TopicError> {
        let s = s.into();
        check_filter(&s)?;
        Ok(Self(s))
    }

    /// The filter as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying shared string.
    pub fn as_bytestring(&self) -> &ByteString {
        &self.0
    }

    /// The group and inner filter of a shared subscription
    /// `$share/{group}/{filter}`; `None` for an ordinary filter.
    pub fn shared(&self) -> Option<SharedFilter<'_>> {
        // Validated by `new`, so a parse error cannot happen here.
        parse_shared(&self.0).ok().flatten()
    }

    /// True for a `$share/{group}/{filter}` filter.
    pub fn is_shared(&self) -> bool {
        self.shared().is_some()
    }

    /// The filter that topics are matched against: the inner filter of a
    /// shared subscription, else the whole filter.
    pub fn matching_filter(&self) -> &str {
        self.shared().map_or(&self.0, |shared| shared.filter)
    }

    /// The levels of [`Self::matching_filter`], split on `/`.
    pub fn levels(&self) -> std::str::Split<'_, char> {
        self.matching_filter().split('/')
    }

    /// True if the filter (its inner filter, when shared) holds `+` or `#`.
    pub fn is_wildcard(&self) -> bool {
        self.matching_filter().contains(['+', '#'])
    }

    /// Whether a PUBLISH to `topic` matches this filter (4.7): `+` matches
    /// exactly one level, `#` its own level and every level below (`a/#`
    /// matches `a`), empty levels count as levels (`a//b`, `/a`), and
    /// topics starting with `$` are not matched by a filter whose first
    /// level is a wildcard ([MQTT-4.7.2-1]). A shared subscription matches
    /// with its inner filter. The empty alias-only topic matches nothing.
    pub fn matches(&self, topic: &TopicName) -> bool {
        filter_matches(self.matching_filter(), topic.as_str())
    }
}

impl std::fmt::Display for TopicName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The straightforward validator that [`check_filter`] replaced, kept as
    /// its specification: several passes, one rule at a time.
    fn reference_filter(s: &str) -> Result<(), TopicError> {
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        if s.len() > usize::from(u16::MAX) {
            return Err(TopicError::TooLong);
        }
        if s.contains('\0') {
            return Err(TopicError::NullCharacter);
        }
        parse_shared(s)?;
        let mut levels = s.split('/').peekable();
        while let Some(level) = levels.next() {
            let has_plus = level.contains('+');
            let has_hash = level.contains('#');
            if (has_plus && level != "+") || (has_hash && (level != "#" || levels.peek().is_some()))
            {
                return Err(TopicError::BadWildcard);
            }
        }
        Ok(())
    }

    /// The byte-at-a-time name check that [`TopicName::check`] replaced.
    fn reference_name(s: &str) -> Result<(), TopicError> {
        for b in s.bytes() {
            match b {
                b'+' | b'#' => return Err(TopicError::WildcardInName),
                0 => return Err(TopicError::NullCharacter),
                _ => {}
            }
        }
        Ok(())
    }

    /// Strings built from the bytes that matter, around the `$share/` prefix.
    fn topicish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/"),
            Just("+"),
            Just("#"),
            Just("\0"),
            Just("a"),
            Just("é"),
            Just("$share/"),
            Just("$"),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn filter_check_agrees_with_reference(s in topicish()) {
            prop_assert_eq!(check_filter(&s), reference_filter(&s));
        }

        #[test]
        fn name_check_agrees_with_reference(s in topicish()) {
            prop_assert_eq!(TopicName::check(&s), reference_name(&s));
        }
    }

    #[test]
    fn every_ascii_byte_at_every_position_agrees_with_reference() {
        // The SWAR masks treat bytes by their bits: try each one, in each
        // lane of a word, in the overlapping tail and in a short topic.
        for len in [3, 8, 13, 16] {
            for at in 0..len {
                for b in 0..=0x7Fu8 {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    let s = String::from_utf8(bytes).expect("ASCII");
                    assert_eq!(TopicName::check(&s), reference_name(&s), "{s:?}");
                    assert_eq!(has_special(s.as_bytes()), reference_name(&s).is_err());
                    assert_eq!(check_filter(&s), reference_filter(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn long_topics_agree_with_reference() {
        // Past one vector width, with the special byte at every position.
        let base = "abcdefghijklmnopqrstuvwxyz/0123456789/ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for special in ["+", "#", "\0", "/+", "/#"] {
            for at in 0..=base.len() {
                let s = format!("{}{special}{}", &base[..at], &base[at..]);
                assert_eq!(check_filter(&s), reference_filter(&s), "{s:?}");
                assert_eq!(TopicName::check(&s), reference_name(&s), "{s:?}");
            }
        }
    }
}
