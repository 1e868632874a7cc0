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

    fn check(s: &str) -> Result<(), TopicError> {
        if s.len() > usize::from(u16::MAX) {
            return Err(TopicError::TooLong);
        }
        for b in s.bytes() {
            match b {
                b'+' | b'#' => return Err(TopicError::WildcardInName),
                0 => return Err(TopicError::NullCharacter),
                _ => {}
            }
        }
        Ok(())
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
}

impl TopicFilter {
    /// Validate a topic filter.
    pub fn new(s: impl Into<ByteString>) -> Result<Self, TopicError> {
        let s = s.into();
        if s.is_empty() {
            return Err(TopicError::Empty);
        }
        if s.len() > usize::from(u16::MAX) {
            return Err(TopicError::TooLong);
        }
        if s.contains('\0') {
            return Err(TopicError::NullCharacter);
        }
        let mut levels = s.split('/').peekable();
        while let Some(level) = levels.next() {
            let has_plus = level.contains('+');
            let has_hash = level.contains('#');
            if (has_plus && level != "+") || (has_hash && (level != "#" || levels.peek().is_some()))
            {
                return Err(TopicError::BadWildcard);
            }
        }
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
