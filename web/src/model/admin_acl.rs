//! The ACL tab's data: the rules as `GET /api/v1/acl` lists them (and as `POST` and `DELETE`
//! take one back), and the add-rule form, checked before sending as the broker checks it
//! (`broker/src/auth/acl_edit.rs`): a valid topic filter that names topics rather than a
//! shared subscription, no control characters, and no user for a pattern.

use courtier_proto::TopicFilter;
use serde::{Deserialize, Serialize};

/// The access keywords, in the order the form offers them.
pub const ACCESS: [&str; 4] = ["read", "write", "readwrite", "deny"];

/// One rule of the ACL file, in the broker's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AclRule {
    /// `topic` or `pattern`.
    pub kind: String,
    /// The `user` section of a `topic` rule; `None` for anonymous clients and patterns.
    pub user: Option<String>,
    /// `read`, `write`, `readwrite` or `deny`.
    pub access: String,
    /// The topic filter (for patterns, with `%c` / `%u`).
    pub filter: String,
}

impl AclRule {
    /// Whom the rule is for, in words.
    pub fn whose(&self) -> String {
        match (&self.user, self.kind.as_str()) {
            (_, "pattern") => "every client".to_owned(),
            (Some(user), _) => format!("user {user}"),
            (None, _) => "anonymous clients".to_owned(),
        }
    }

    /// The rule as one line of words: `topic read a/# for user alice`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {} for {}",
            self.kind,
            self.access,
            self.filter,
            self.whose()
        )
    }
}

/// `GET /api/v1/acl`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct AclListing {
    /// Whether the broker has an ACL file; without one every client may use every topic.
    pub configured: bool,
    /// Rules in all.
    pub total: usize,
    /// The rules (at most 1000): anonymous ones, then by user, then patterns.
    pub rules: Vec<AclRule>,
}

/// The add-rule form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    /// The user typed; empty for anonymous clients (and for patterns).
    pub user: String,
    /// A `pattern` rule rather than a `topic` rule.
    pub pattern: bool,
    /// One of [`ACCESS`].
    pub access: String,
    /// The filter typed.
    pub filter: String,
}

impl Default for NewRule {
    fn default() -> Self {
        Self {
            user: String::new(),
            pattern: false,
            access: ACCESS[0].to_owned(),
            filter: String::new(),
        }
    }
}

impl NewRule {
    /// What would be sent, or the first problem in words (naming the field).
    pub fn check(&self) -> Result<AclRule, String> {
        let user = self.user.trim();
        if user.chars().any(char::is_control) {
            return Err("User: no control characters".to_owned());
        }
        if self.pattern && !user.is_empty() {
            return Err(
                "User: a pattern applies to every client; leave it empty (%u in the filter stands for the user name)"
                    .to_owned(),
            );
        }
        let filter = self.filter.trim();
        if filter.is_empty() {
            return Err("Filter: enter a topic filter".to_owned());
        }
        if filter.chars().any(char::is_control) {
            return Err("Filter: no control characters".to_owned());
        }
        let checked = TopicFilter::new(filter.to_owned()).map_err(|e| format!("Filter: {e}"))?;
        if checked.shared().is_some() {
            return Err("Filter: name the topics, without `$share/GROUP/`".to_owned());
        }
        if !ACCESS.contains(&self.access.as_str()) {
            return Err("Access: choose read, write, readwrite or deny".to_owned());
        }
        Ok(AclRule {
            kind: if self.pattern { "pattern" } else { "topic" }.to_owned(),
            user: (!user.is_empty()).then(|| user.to_owned()),
            access: self.access.clone(),
            filter: filter.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(user: &str, pattern: bool, access: &str, filter: &str) -> NewRule {
        NewRule {
            user: user.to_owned(),
            pattern,
            access: access.to_owned(),
            filter: filter.to_owned(),
        }
    }

    #[test]
    fn only_a_rule_the_broker_takes_is_sent() {
        let rule = form(" dev ", false, "read", " sensors/# ")
            .check()
            .expect("valid");
        assert_eq!(
            rule,
            AclRule {
                kind: "topic".into(),
                user: Some("dev".into()),
                access: "read".into(),
                filter: "sensors/#".into(),
            }
        );
        assert_eq!(rule.describe(), "topic read sensors/# for user dev");
        let anonymous = form("", false, "deny", "a/+").check().expect("valid");
        assert_eq!(anonymous.user, None);
        assert_eq!(anonymous.describe(), "topic deny a/+ for anonymous clients");
        let pattern = form("", true, "write", "d/%c/up").check().expect("valid");
        assert_eq!(pattern.describe(), "pattern write d/%c/up for every client");

        let refused = [
            (form("dev", true, "read", "d/%c"), "User: a pattern"),
            (form("a\u{7}", false, "read", "x"), "User: no control"),
            (form("", false, "read", "  "), "Filter: enter"),
            (form("", false, "read", "a/#/b"), "Filter: [MQTT-4.7.1-2]"),
            (form("", false, "read", "a\nb"), "Filter: no control"),
            (
                form("", false, "read", "$share/g/a"),
                "Filter: name the topics",
            ),
            (form("", false, "all", "a"), "Access:"),
        ];
        for (bad, words) in refused {
            let err = bad.check().expect_err("refused");
            assert!(err.starts_with(words), "{bad:?}: {err}");
        }
    }

    #[test]
    fn rules_decode_from_the_listing_and_encode_for_delete() {
        let listing: AclListing = serde_json::from_str(
            r#"{"configured":true,"total":1,"rules":[{"kind":"topic","user":null,"access":"read","filter":"a/#"}]}"#,
        )
        .expect("decodes");
        assert!(listing.configured);
        let rule = &listing.rules[0];
        assert_eq!(
            serde_json::to_value(rule).expect("encodes"),
            serde_json::json!({"kind": "topic", "user": null, "access": "read", "filter": "a/#"})
        );
        assert_eq!(AclListing::default().rules, []);
    }
}
