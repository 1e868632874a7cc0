//! Authorization: Mosquitto's ACL file, read unchanged.
//!
//! ```text
//! # Before any `user` line: rules for clients without a user name.
//! topic read $SYS/#
//! # alice's own rules.
//! user alice
//! topic readwrite maMaison/#
//! topic deny maMaison/cave/#
//! # Every client's, wherever written: %c client id, %u user name.
//! pattern write devices/%c/status
//! ```
//!
//! A comment is a whole line starting with `#`; there are no comments after
//! a rule (`#` is also the multi-level wildcard).
//!
//! Access is `read`, `write`, `readwrite` (the default when omitted) or
//! `deny`. A client's rules are its user's (or the anonymous ones) plus
//! every `pattern`. Once an ACL file is set, what no rule grants is refused.
//!
//! The decisions, made when the request arrives rather than by filtering
//! deliveries later:
//! - PUBLISH to a topic: some rule with write access matches it and no
//!   `deny` rule does;
//! - receiving a topic (retained messages on subscribe): the same with read;
//! - SUBSCRIBE to a filter: some rule with read access covers every topic
//!   the filter can match ([`covers`]) and no `deny` rule overlaps it
//!   ([`overlaps`]). A granted subscription therefore never needs its
//!   deliveries filtered.
//!
//! `%c` / `%u` that would bring `+`, `#` or `/` into a pattern (a client id
//! `a/b`) make it unusable: a granting pattern then grants nothing and a
//! denying one denies everything, since what it meant to deny is unknown.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use courtier_proto::topic_set::{contains, covers, overlaps};
use courtier_proto::{TopicError, TopicFilter};
use hashbrown::HashMap;

/// Why the ACL file cannot be used. One line, naming file and line.
#[derive(Debug, thiserror::Error)]
pub enum AclFileError {
    /// The file could not be read.
    #[error("{path}: cannot read ACL file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is none of the three forms.
    #[error(
        "{path}:{line}: expected `user NAME`, `topic [read|write|readwrite|deny] FILTER` or `pattern [read|write|readwrite|deny] FILTER`"
    )]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The filter of a `topic` or `pattern` line is not a valid topic filter.
    #[error("{path}:{line}: `{filter}` is not a valid topic filter: {source}")]
    Filter {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The filter as written.
        filter: String,
        /// What is wrong with it.
        source: TopicError,
    },
}

/// What a rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `read`: receive messages, subscribe.
    Read,
    /// `write`: publish.
    Write,
    /// `readwrite`, also what a rule without an access keyword means.
    ReadWrite,
    /// `deny`: refuse what it matches, whatever else grants it.
    Deny,
}

impl Access {
    /// The keyword as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::ReadWrite => "readwrite",
            Self::Deny => "deny",
        }
    }

    /// The access a keyword names; `None` for any other word.
    pub fn from_keyword(word: &str) -> Option<Self> {
        match word {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "readwrite" => Some(Self::ReadWrite),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    fn reads(self) -> bool {
        matches!(self, Self::Read | Self::ReadWrite)
    }

    fn writes(self) -> bool {
        matches!(self, Self::Write | Self::ReadWrite)
    }
}

/// One line of an ACL file, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// Empty, or a comment (`#` first).
    Blank,
    /// `user NAME`: the `topic` lines below it, up to the next `user`
    /// line, are NAME's.
    User(&'a str),
    /// A `topic` line (`pattern` false) or a `pattern` line. The filter is
    /// not checked here.
    Rule {
        /// A `pattern` line.
        pattern: bool,
        /// Its access (`readwrite` when none is written).
        access: Access,
        /// The filter as written, trimmed.
        filter: &'a str,
    },
}

impl<'a> Line<'a> {
    /// Read one line; `None` when it is none of the forms.
    pub fn read(line: &'a str) -> Option<Self> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Some(Self::Blank);
        }
        let (keyword, rest) = line.split_once([' ', '\t'])?;
        let rest = rest.trim();
        match keyword {
            "user" => Some(Self::User(rest)),
            "topic" | "pattern" => {
                let (access, filter) = access_and_filter(rest)?;
                Some(Self::Rule {
                    pattern: keyword == "pattern",
                    access,
                    filter,
                })
            }
            _ => None,
        }
    }
}

/// One `topic` or `pattern` line.
#[derive(Debug)]
struct Rule {
    access: Access,
    /// A valid topic filter; for patterns, before `%c` / `%u` substitution.
    filter: Box<str>,
}

impl Rule {
    fn view<'a>(&'a self, user: Option<&'a str>, pattern: bool) -> RuleView<'a> {
        RuleView {
            user,
            pattern,
            access: self.access.as_str(),
            filter: &self.filter,
        }
    }
}

/// What a check is about.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// PUBLISH to a topic.
    Write,
    /// Receive a message on a topic.
    Read,
    /// SUBSCRIBE with a filter.
    Subscribe,
}

/// How one rule answers a check.
enum Verdict {
    Grant,
    Deny,
    Silent,
}

/// The client a decision is for.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// Its user name (or certificate identity); `None` when anonymous.
    pub user: Option<&'a str>,
    /// Its client identifier.
    pub client_id: &'a str,
}

/// One rule as written, for display (the admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleView<'a> {
    /// The `user` line above a `topic` rule; `None` for anonymous rules and patterns.
    pub user: Option<&'a str>,
    /// A `pattern` line (every client, `%c`/`%u` substituted).
    pub pattern: bool,
    /// `read`, `write`, `readwrite` or `deny`.
    pub access: &'static str,
    /// The filter as written.
    pub filter: &'a str,
}

/// The rules of an ACL file.
#[derive(Debug, Default)]
pub struct AclFile {
    /// `topic` lines before the first `user` line.
    anonymous: Vec<Rule>,
    /// `topic` lines by the `user` line above them.
    users: HashMap<Box<str>, Vec<Rule>>,
    /// `pattern` lines, wherever they stand.
    patterns: Vec<Rule>,
}

impl AclFile {
    /// Read and check the whole file.
    pub fn load(path: &Path) -> Result<Self, AclFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| AclFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse file text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, AclFileError> {
        let mut acl = Self::default();
        let mut user: Option<Box<str>> = None;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = Line::read(line).ok_or_else(|| AclFileError::Syntax {
                path: path.to_owned(),
                line: line_no,
            })?;
            match line {
                Line::Blank => {}
                Line::User(name) => {
                    let name: Box<str> = name.into();
                    acl.users.entry(name.clone()).or_default();
                    user = Some(name);
                }
                Line::Rule {
                    pattern,
                    access,
                    filter,
                } => {
                    TopicFilter::new(filter.to_owned()).map_err(|source| AclFileError::Filter {
                        path: path.to_owned(),
                        line: line_no,
                        filter: filter.to_owned(),
                        source,
                    })?;
                    let list = match (pattern, &user) {
                        (true, _) => &mut acl.patterns,
                        (false, Some(name)) => acl.users.entry(name.clone()).or_default(),
                        (false, None) => &mut acl.anonymous,
                    };
                    list.push(Rule {
                        access,
                        filter: filter.into(),
                    });
                }
            }
        }
        Ok(acl)
    }

    /// `(users, rules)` for the start-up line.
    pub fn counts(&self) -> (usize, usize) {
        let rules = self.anonymous.len()
            + self.patterns.len()
            + self.users.values().map(Vec::len).sum::<usize>();
        (self.users.len(), rules)
    }

    /// Every rule: anonymous ones, then each user's (users in no
    /// particular order), then the patterns; each list in file order.
    pub fn rules(&self) -> impl Iterator<Item = RuleView<'_>> {
        let anonymous = self.anonymous.iter().map(|r| r.view(None, false));
        let users = self
            .users
            .iter()
            .flat_map(|(u, rules)| rules.iter().map(move |r| r.view(Some(u), false)));
        let patterns = self.patterns.iter().map(|r| r.view(None, true));
        anonymous.chain(users).chain(patterns)
    }

    /// May `who` publish to `topic`?
    pub fn may_publish(&self, who: Identity<'_>, topic: &str) -> bool {
        self.decide(who, Want::Write, topic)
    }

    /// May `who` receive a message on `topic`?
    pub fn may_receive(&self, who: Identity<'_>, topic: &str) -> bool {
        self.decide(who, Want::Read, topic)
    }

    /// May `who` subscribe to `filter` (for a shared subscription, its
    /// inner filter)?
    pub fn may_subscribe(&self, who: Identity<'_>, filter: &str) -> bool {
        self.decide(who, Want::Subscribe, filter)
    }

    fn decide(&self, who: Identity<'_>, want: Want, target: &str) -> bool {
        let own = match who.user {
            Some(user) => self.users.get(user).map_or(&[][..], Vec::as_slice),
            None => &self.anonymous,
        };
        let mut granted = false;
        let own = own
            .iter()
            .map(|r| (r.access, Some(Cow::Borrowed(&*r.filter))));
        let patterns = self
            .patterns
            .iter()
            .map(|r| (r.access, substitute(&r.filter, who)));
        for (access, filter) in own.chain(patterns) {
            let verdict = match filter {
                Some(filter) => verdict(access, &filter, want, target),
                None if access == Access::Deny => Verdict::Deny,
                None => Verdict::Silent,
            };
            match verdict {
                Verdict::Deny => return false,
                Verdict::Grant => granted = true,
                Verdict::Silent => {}
            }
        }
        granted
    }
}

/// `[access] filter` after `topic` or `pattern`; `None` without a filter.
fn access_and_filter(rest: &str) -> Option<(Access, &str)> {
    let (first, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    let (access, filter) = match Access::from_keyword(first) {
        Some(access) => (access, after.trim()),
        None => (Access::ReadWrite, rest),
    };
    (!filter.is_empty()).then_some((access, filter))
}

fn verdict(access: Access, rule: &str, want: Want, target: &str) -> Verdict {
    let hit = match (access, want) {
        (Access::Deny, Want::Subscribe) => overlaps(rule, target),
        (Access::Deny, _) => contains(rule, target),
        (a, Want::Write) => a.writes() && contains(rule, target),
        (a, Want::Read) => a.reads() && contains(rule, target),
        (a, Want::Subscribe) => a.reads() && covers(rule, target),
    };
    match (hit, access) {
        (false, _) => Verdict::Silent,
        (true, Access::Deny) => Verdict::Deny,
        (true, _) => Verdict::Grant,
    }
}

/// The pattern with `%c` and `%u` replaced, or `None` when it cannot be
/// applied: no user name for `%u`, or a value that is not one plain level.
fn substitute<'a>(pattern: &'a str, who: Identity<'_>) -> Option<Cow<'a, str>> {
    if !pattern.contains('%') {
        return Some(Cow::Borrowed(pattern));
    }
    let plain = |v: &str| !v.is_empty() && !v.contains(['+', '#', '/']);
    let mut out = pattern.to_owned();
    if out.contains("%c") {
        if !plain(who.client_id) {
            return None;
        }
        out = out.replace("%c", who.client_id);
    }
    if out.contains("%u") {
        let user = who.user.filter(|u| plain(u))?;
        out = out.replace("%u", user);
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# anonymous
topic read public/#

user alice
topic readwrite maMaison/#
topic deny maMaison/cave/#
topic write   logs/alice
user bob with space
topic maMaison/+/salon

pattern readwrite devices/%c/#
pattern read users/%u/inbox
";

    fn acl() -> AclFile {
        AclFile::parse(FILE, Path::new("acl")).expect("valid file")
    }

    fn who<'a>(user: Option<&'a str>, client_id: &'a str) -> Identity<'a> {
        Identity { user, client_id }
    }

    #[test]
    fn decisions() {
        let acl = acl();
        let alice = who(Some("alice"), "c1");
        let bob = who(Some("bob with space"), "c2");
        let anon = who(None, "c3");
        let nobody = who(Some("mallory"), "c4");
        // (identity, want, target, expected)
        let cases = [
            (alice, Want::Write, "maMaison/rez-de-chaussee/cuisine", true),
            (alice, Want::Read, "maMaison/rez-de-chaussee/cuisine", true),
            (alice, Want::Write, "maMaison/cave/vin", false),
            (alice, Want::Subscribe, "maMaison/etage/+", true),
            // `maMaison/cave/cuisine` is matched by both: refused.
            (alice, Want::Subscribe, "maMaison/+/cuisine", false),
            // Covered, but a deny rule overlaps: refused as a whole.
            (alice, Want::Subscribe, "maMaison/#", false),
            (alice, Want::Write, "logs/alice", true),
            (alice, Want::Read, "logs/alice", false),
            (alice, Want::Read, "public/news", false),
            (bob, Want::Write, "maMaison/etage/salon", true),
            (bob, Want::Subscribe, "maMaison/+/salon", true),
            (bob, Want::Subscribe, "maMaison/#", false),
            (anon, Want::Read, "public/news", true),
            (anon, Want::Subscribe, "public/#", true),
            (anon, Want::Write, "public/news", false),
            (nobody, Want::Read, "public/news", false),
            // Patterns apply to everyone, substituted.
            (nobody, Want::Write, "devices/c4/temp", true),
            (nobody, Want::Write, "devices/c1/temp", false),
            (nobody, Want::Subscribe, "devices/c4/#", true),
            (alice, Want::Read, "users/alice/inbox", true),
            (alice, Want::Read, "users/bob/inbox", false),
            (anon, Want::Read, "users/c3/inbox", false),
            // Nothing of alice's covers everything.
            (alice, Want::Subscribe, "#", false),
        ];
        for (identity, want, target, expect) in cases {
            assert_eq!(
                acl.decide(identity, want, target),
                expect,
                "{identity:?} {want:?} {target}"
            );
        }
    }

    #[test]
    fn a_client_id_with_a_slash_cannot_widen_a_pattern() {
        let acl = AclFile::parse(
            "topic read devices/#\npattern readwrite own/%c/#\npattern deny devices/%c/secret\n",
            Path::new("acl"),
        )
        .expect("valid");
        let sneaky = who(None, "x/secret");
        assert!(!acl.may_publish(sneaky, "own/x/secret/a"));
        // The deny pattern cannot be applied, so it denies everything.
        assert!(!acl.may_receive(sneaky, "devices/y/temp"));
        assert!(acl.may_receive(who(None, "plain"), "devices/y/temp"));
    }

    #[test]
    fn bad_lines_name_file_line_and_fix() {
        for (text, expect) in [
            ("topic\n", "acl:1: expected `user NAME`"),
            ("# c\ntopic read\n", "acl:2: expected"),
            ("topics read a\n", "acl:1: expected"),
            (
                "topic read a/#/b\n",
                "acl:1: `a/#/b` is not a valid topic filter",
            ),
            (
                "user a\npattern write x+\n",
                "acl:2: `x+` is not a valid topic filter",
            ),
        ] {
            let err = AclFile::parse(text, Path::new("acl"))
                .expect_err(text)
                .to_string();
            assert!(err.contains(expect), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn counts_users_and_rules() {
        assert_eq!(acl().counts(), (2, 7));
    }
}
