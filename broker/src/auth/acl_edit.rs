//! Adding and removing one rule of the ACL file (the admin API), keeping
//! the rest of the file as written: comments, blank lines, order and every
//! other line byte for byte.
//!
//! Where a new rule goes, so that it means what was asked and reads well:
//! - a `pattern` line after the last `pattern` line, else at the end
//!   (patterns apply wherever they stand);
//! - an anonymous `topic` line after the last anonymous one, else before the
//!   first `user` line (and the comment block right above it), else at the end;
//! - a user's `topic` line after the last line of that user's last section,
//!   else at the end in a new `user` section.
//!
//! A removal drops every line that is the rule (a file may repeat one).
//! Emptied `user` sections stay: their line may carry comments, and an
//! empty section grants nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use courtier_proto::{TopicError, TopicFilter};

use super::acl::{Access, AclFile, AclFileError, Line};
use super::replace;

/// Why a rule cannot be added or removed. One sentence each.
#[derive(Debug, thiserror::Error)]
pub enum AclEditError {
    /// A user name that the file cannot hold.
    #[error(
        "the user name must not be empty, start or end with a space, or contain control characters"
    )]
    BadUser,
    /// Patterns have no `user` section.
    #[error(
        "a pattern applies to every client (write %u for the user name, %c for the client id): give no user"
    )]
    PatternWithUser,
    /// Not a topic filter.
    #[error("`{filter}` is not a valid topic filter: {source}")]
    BadFilter {
        /// The filter as given.
        filter: String,
        /// What is wrong with it.
        source: TopicError,
    },
    /// A filter that would not read back as given from its line.
    #[error("the filter must not start or end with a space or contain control characters")]
    UnwritableFilter,
    /// `$share/GROUP/...`: rules name topics, never a share group.
    #[error(
        "an ACL rule names topics, not a shared subscription: write the filter without `$share/GROUP/`"
    )]
    SharedFilter,
    /// Adding a rule the file already has.
    #[error("the ACL file already has {0}")]
    Duplicate(String),
    /// Removing a rule the file does not have.
    #[error("the ACL file has no rule {0}")]
    NotFound(String),
    /// The file as it is now does not load, so it is left alone.
    #[error(
        "the ACL file was not edited because it does not load as it is now (fix it first): {0}"
    )]
    Broken(#[source] AclFileError),
    /// Reading or replacing the file failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// One rule, as the admin API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclRule {
    /// The `user` section of a `topic` rule; `None` for the anonymous
    /// clients' rules (before the first `user` line) and for patterns.
    pub user: Option<String>,
    /// A `pattern` line rather than a `topic` line.
    pub pattern: bool,
    /// What it allows.
    pub access: Access,
    /// The topic filter (for patterns, with `%c` / `%u`).
    pub filter: String,
}

impl fmt::Display for AclRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.pattern { "pattern" } else { "topic" };
        write!(f, "`{kind} {} {}`", self.access.as_str(), self.filter)?;
        match (&self.user, self.pattern) {
            (_, true) => Ok(()),
            (Some(user), false) => write!(f, " for user `{user}`"),
            (None, false) => f.write_str(" for anonymous clients"),
        }
    }
}

impl AclRule {
    /// Whether the file can hold this rule and would read it back as given.
    pub fn check(&self) -> Result<(), AclEditError> {
        let unwritable = |s: &str| s.trim() != s || s.chars().any(char::is_control);
        match &self.user {
            Some(_) if self.pattern => return Err(AclEditError::PatternWithUser),
            Some(user) if user.is_empty() || unwritable(user) => {
                return Err(AclEditError::BadUser);
            }
            _ => {}
        }
        if unwritable(&self.filter) {
            return Err(AclEditError::UnwritableFilter);
        }
        let filter =
            TopicFilter::new(self.filter.clone()).map_err(|source| AclEditError::BadFilter {
                filter: self.filter.clone(),
                source,
            })?;
        if filter.shared().is_some() {
            return Err(AclEditError::SharedFilter);
        }
        Ok(())
    }

    /// Whether `line` (in its `user` section) is this rule.
    fn is(&self, line: &Scanned<'_>) -> bool {
        match line.line {
            Line::Rule {
                pattern,
                access,
                filter,
            } => {
                pattern == self.pattern
                    && access == self.access
                    && filter == self.filter
                    && (pattern || line.section == self.user.as_deref())
            }
            Line::Blank | Line::User(_) => false,
        }
    }

    /// The rule's line, without its line break.
    fn line(&self) -> String {
        let kind = if self.pattern { "pattern" } else { "topic" };
        format!("{kind} {} {}", self.access.as_str(), self.filter)
    }
}

/// Add or remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Add the rule; an error if the file has it.
    Add,
    /// Remove the rule; an error if the file does not have it.
    Remove,
}

/// Apply `change` of `rule` to the ACL file at `path`, replacing the file
/// atomically and keeping its permissions. The file must load as it is.
pub fn edit(path: &Path, rule: &AclRule, change: Change) -> Result<(), AclEditError> {
    rule.check()?;
    let io = |e| AclEditError::Io(path.to_owned(), e);
    let old = std::fs::read_to_string(path).map_err(io)?;
    AclFile::parse(&old, path).map_err(AclEditError::Broken)?;
    let new = match change {
        Change::Add => add(&old, rule)?,
        Change::Remove => remove(&old, rule)?,
    };
    let mode = replace::mode_of(path).unwrap_or(0o600);
    replace::write_atomically(path, new.as_bytes(), mode).map_err(io)
}

/// One line of the file: where it is, what it is, whose section it is in.
struct Scanned<'a> {
    /// The line with its line break.
    raw: &'a str,
    /// Byte offset just past its line break.
    end: usize,
    line: Line<'a>,
    /// The `user` line above it, if any (for a `user` line, its own).
    section: Option<&'a str>,
}

impl Scanned<'_> {
    fn is_comment(&self) -> bool {
        self.raw.trim_start().starts_with('#')
    }

    fn is_topic_rule(&self) -> bool {
        matches!(self.line, Line::Rule { pattern: false, .. })
    }
}

/// Every line of `text` (which must parse: unreadable lines count as blank).
fn scan(text: &str) -> Vec<Scanned<'_>> {
    let mut section = None;
    let mut end = 0;
    text.split_inclusive('\n')
        .map(|raw| {
            end += raw.len();
            let line = Line::read(raw).unwrap_or(Line::Blank);
            if let Line::User(name) = line {
                section = Some(name);
            }
            Scanned {
                raw,
                end,
                line,
                section,
            }
        })
        .collect()
}

/// `text` with `rule` added where it belongs (see the module docs).
pub fn add(text: &str, rule: &AclRule) -> Result<String, AclEditError> {
    let lines = scan(text);
    if lines.iter().any(|l| rule.is(l)) {
        return Err(AclEditError::Duplicate(rule.to_string()));
    }
    let after_last = |wanted: &dyn Fn(&Scanned<'_>) -> bool| {
        lines.iter().rev().find(|l| wanted(l)).map(|l| l.end)
    };
    let at = match (&rule.user, rule.pattern) {
        (_, true) => after_last(&|l| matches!(l.line, Line::Rule { pattern: true, .. })),
        (None, false) => after_last(&|l| l.section.is_none() && l.is_topic_rule())
            .or_else(|| before_first_user(&lines)),
        (Some(user), false) => after_last(&|l| {
            l.section == Some(user.as_str())
                && (l.is_topic_rule() || matches!(l.line, Line::User(_)))
        }),
    };
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let (at, mut insert) = match at {
        Some(at) => (at, String::new()),
        None => {
            let mut insert = String::new();
            if let Some(user) = rule.user.as_deref().filter(|_| !rule.pattern) {
                // A new section, set off by a blank line.
                if lines.last().is_some_and(|l| !l.raw.trim().is_empty()) {
                    insert.push_str(newline);
                }
                insert.push_str(&format!("user {user}{newline}"));
            }
            (text.len(), insert)
        }
    };
    insert.push_str(&rule.line());
    insert.push_str(newline);
    let mut out = String::with_capacity(text.len() + insert.len() + 2);
    out.push_str(&text[..at]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(newline);
    }
    out.push_str(&insert);
    out.push_str(&text[at..]);
    Ok(out)
}

/// Where an anonymous rule goes when there is none yet: before the first
/// `user` line and the comments directly above it.
fn before_first_user(lines: &[Scanned<'_>]) -> Option<usize> {
    let first = lines.iter().position(|l| matches!(l.line, Line::User(_)))?;
    let start = lines[..first]
        .iter()
        .rposition(|l| !l.is_comment())
        .map_or(0, |i| i + 1);
    Some(start.checked_sub(1).map_or(0, |i| lines[i].end))
}

/// `text` without the lines that are `rule`.
pub fn remove(text: &str, rule: &AclRule) -> Result<String, AclEditError> {
    let lines = scan(text);
    let kept: String = lines
        .iter()
        .filter(|l| !rule.is(l))
        .map(|l| l.raw)
        .collect();
    if kept.len() == text.len() {
        return Err(AclEditError::NotFound(rule.to_string()));
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(user: Option<&str>, pattern: bool, access: Access, filter: &str) -> AclRule {
        AclRule {
            user: user.map(str::to_owned),
            pattern,
            access,
            filter: filter.to_owned(),
        }
    }

    const FILE: &str = "\
# Devices.
topic read public/#

# Alice.
user alice
topic readwrite home/#
pattern read d/%c/#

user bob
topic bob/#
";

    /// `(file, rule to add, expected file)`, each checked to load with the
    /// rule in it.
    #[test]
    fn a_rule_is_added_where_it_belongs_and_nothing_else_moves() {
        let anon = rule(None, false, Access::Write, "public/in");
        let alice = rule(Some("alice"), false, Access::Deny, "home/cellar");
        let carol = rule(Some("carol"), false, Access::Read, "c/+");
        let pattern = rule(None, true, Access::Write, "d/%c/up");
        let cases = [
            (
                FILE,
                &anon,
                FILE.replacen("public/#\n", "public/#\ntopic write public/in\n", 1),
            ),
            (
                FILE,
                &alice,
                FILE.replacen("home/#\n", "home/#\ntopic deny home/cellar\n", 1),
            ),
            (
                FILE,
                &carol,
                format!("{FILE}\nuser carol\ntopic read c/+\n"),
            ),
            (
                FILE,
                &pattern,
                FILE.replacen("%c/#\n", "%c/#\npattern write d/%c/up\n", 1),
            ),
            // No anonymous rule yet: before the first user and its comment.
            (
                "# Header.\n\n# Alice.\nuser alice\n",
                &anon,
                "# Header.\n\ntopic write public/in\n# Alice.\nuser alice\n".to_owned(),
            ),
            ("", &anon, "topic write public/in\n".to_owned()),
            ("", &carol, "user carol\ntopic read c/+\n".to_owned()),
            // A last line without a line break, and CRLF files.
            (
                "topic a",
                &pattern,
                "topic a\npattern write d/%c/up\n".to_owned(),
            ),
            (
                "user alice\r\ntopic x\r\n",
                &alice,
                "user alice\r\ntopic x\r\ntopic deny home/cellar\r\n".to_owned(),
            ),
            // An emptied section is used again.
            (
                "user alice\n\nuser bob\n",
                &alice,
                "user alice\ntopic deny home/cellar\n\nuser bob\n".to_owned(),
            ),
        ];
        for (text, added, expect) in cases {
            let got = add(text, added).unwrap_or_else(|e| panic!("{added}: {e}"));
            assert_eq!(got, expect, "{text:?} + {added}");
            let acl = AclFile::parse(&got, Path::new("acl")).expect("loads");
            let view = acl.rules().find(|r| r.filter == added.filter).expect("in");
            assert_eq!(
                (view.user, view.pattern, view.access),
                (added.user.as_deref(), added.pattern, added.access.as_str())
            );
        }
    }

    #[test]
    fn a_rule_is_removed_wherever_and_however_often_it_is_written() {
        let bob = rule(Some("bob"), false, Access::ReadWrite, "bob/#");
        assert_eq!(
            remove(FILE, &bob).expect("removed"),
            FILE.replacen("topic bob/#\n", "", 1)
        );
        let pattern = rule(None, true, Access::Read, "d/%c/#");
        let twice = format!("{FILE}pattern read  d/%c/#\n");
        assert_eq!(
            remove(&twice, &pattern).expect("removed"),
            FILE.replacen("pattern read d/%c/#\n", "", 1)
        );
        // The same filter in another section, or with another access, is another rule.
        for other in [
            rule(Some("alice"), false, Access::ReadWrite, "bob/#"),
            rule(Some("bob"), false, Access::Read, "bob/#"),
            rule(None, false, Access::Read, "home/#"),
        ] {
            let err = remove(FILE, &other).expect_err("not there");
            assert!(matches!(err, AclEditError::NotFound(_)), "{other}: {err}");
        }
        let err = add(FILE, &bob).expect_err("there");
        assert_eq!(
            err.to_string(),
            "the ACL file already has `topic readwrite bob/#` for user `bob`"
        );
    }

    #[test]
    fn rules_the_file_cannot_hold_are_refused_in_words() {
        let cases = [
            (rule(Some("a"), true, Access::Read, "x"), "give no user"),
            (rule(Some(""), false, Access::Read, "x"), "user name"),
            (rule(Some("a\nb"), false, Access::Read, "x"), "user name"),
            (
                rule(None, false, Access::Read, "a/#/b"),
                "valid topic filter",
            ),
            (rule(None, false, Access::Read, ""), "valid topic filter"),
            (rule(None, false, Access::Read, "x\ntopic #"), "control"),
            (rule(None, false, Access::Read, " x"), "start or end"),
            (rule(None, false, Access::Read, "$share/g/x"), "$share"),
        ];
        for (bad, words) in cases {
            let err = bad.check().expect_err("refused").to_string();
            assert!(err.contains(words), "{bad:?}: {err}");
        }
        assert!(
            rule(Some("bob smith"), false, Access::Deny, "+/x y")
                .check()
                .is_ok()
        );
    }

    #[test]
    fn the_file_is_replaced_keeping_its_mode_and_a_broken_one_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("acl");
        std::fs::write(&path, FILE).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o640);
            std::fs::set_permissions(&path, mode).expect("chmod");
        }
        let carol = rule(Some("carol"), false, Access::Read, "c/+");
        edit(&path, &carol, Change::Add).expect("added");
        edit(&path, &carol, Change::Remove).expect("removed");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("{FILE}\nuser carol\n"));
        #[cfg(unix)]
        assert_eq!(replace::mode_of(&path), Some(0o640));

        std::fs::write(&path, "topic a/#/b\n").expect("write");
        let err = edit(&path, &carol, Change::Add).expect_err("broken");
        assert!(matches!(err, AclEditError::Broken(_)), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "topic a/#/b\n"
        );
    }
}
