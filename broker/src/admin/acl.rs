//! The ACL rules: `GET /api/v1/acl` lists the rules in force; `POST
//! /api/v1/acl` adds one and `DELETE /api/v1/acl` removes one, both with
//! the rule as JSON, `{"user": null | "NAME", "kind": "topic" | "pattern",
//! "access": "read" | "write" | "readwrite" | "deny", "filter": "..."}`, the
//! shape of a listed rule, so a listed rule can be sent back to delete it.
//!
//! Edits go through [`crate::auth::acl_edit`] (the file stays in
//! Mosquitto's format, other lines kept as written, replaced atomically),
//! one at a time and followed by a reload ([`super::edit`]): the next
//! SUBSCRIBE or PUBLISH sees the change; subscriptions granted before stay.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::edit;
use super::error::ApiError;
use super::page::MAX_LIMIT;
use crate::auth::acl::Access;
use crate::auth::acl_edit::{self, AclEditError, AclRule, Change};
use crate::broker::Broker;

/// One rule.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RuleView {
    /// `topic` or `pattern`.
    pub kind: &'static str,
    /// The `user` the rule belongs to; `null` for anonymous rules and patterns.
    pub user: Option<String>,
    /// `read`, `write`, `readwrite` or `deny`.
    pub access: &'static str,
    /// The topic filter as written (patterns before `%c`/`%u` substitution).
    pub filter: String,
}

/// The ACL in force.
#[derive(Debug, Serialize)]
pub struct AclView {
    /// Whether an ACL file is configured; without one every client may use
    /// every topic.
    pub configured: bool,
    /// Rules in all.
    pub total: usize,
    /// The first [`MAX_LIMIT`] rules: anonymous, then by user, then patterns.
    pub rules: Vec<RuleView>,
}

/// The rules of the policy in force, at most [`MAX_LIMIT`].
pub fn acl(broker: &Broker) -> AclView {
    let policy = broker.config.access.policy();
    let Some(file) = &policy.acl else {
        return AclView {
            configured: false,
            total: 0,
            rules: Vec::new(),
        };
    };
    let mut rules: Vec<_> = file.rules().collect();
    // Users come out of a hash map: sort them for a stable answer, keeping
    // each user's rules in file order (their order matters to nobody, but
    // reads best as written).
    rules.sort_by_key(|r| (r.pattern, r.user.is_some(), r.user));
    let total = rules.len();
    let rules = rules
        .into_iter()
        .take(MAX_LIMIT)
        .map(|r| RuleView {
            kind: if r.pattern { "pattern" } else { "topic" },
            user: r.user.map(str::to_owned),
            access: r.access,
            filter: r.filter.to_owned(),
        })
        .collect();
    AclView {
        configured: true,
        total,
        rules,
    }
}

/// The body of `POST` and `DELETE /api/v1/acl`: one rule.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleBody {
    /// The `user` section of a `topic` rule; absent or `null` for the
    /// anonymous clients' rules and for patterns.
    #[serde(default)]
    pub user: Option<String>,
    /// `topic` or `pattern`.
    pub kind: String,
    /// `read`, `write`, `readwrite` or `deny`.
    pub access: String,
    /// The topic filter (for patterns, with `%c` / `%u`).
    pub filter: String,
}

impl RuleBody {
    fn rule(self) -> Result<AclRule, ApiError> {
        let pattern = match self.kind.as_str() {
            "topic" => false,
            "pattern" => true,
            _ => return Err(ApiError::bad_request("kind must be `topic` or `pattern`")),
        };
        let access = Access::from_keyword(&self.access).ok_or_else(|| {
            ApiError::bad_request("access must be `read`, `write`, `readwrite` or `deny`")
        })?;
        Ok(AclRule {
            user: self.user,
            pattern,
            access,
            filter: self.filter,
        })
    }
}

/// 409: rules live in an ACL file and there is none.
fn no_acl_file() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no acl_file is configured: rules live in that file (create it, set acl_file and restart; \
         once set, what no rule grants is refused)",
    )
}

/// Add `body`'s rule to the ACL file and put it in force; the rule as
/// stored. Blocking file I/O: call it on the blocking pool.
pub fn add_rule(broker: &Broker, body: RuleBody) -> Result<RuleView, ApiError> {
    let rule = body.rule()?;
    change(broker, &rule, Change::Add)?;
    Ok(RuleView {
        kind: if rule.pattern { "pattern" } else { "topic" },
        access: rule.access.as_str(),
        user: rule.user,
        filter: rule.filter,
    })
}

/// Remove `body`'s rule from the ACL file and put the rest in force.
/// Blocking file I/O: call it on the blocking pool.
pub fn delete_rule(broker: &Broker, body: RuleBody) -> Result<(), ApiError> {
    change(broker, &body.rule()?, Change::Remove)
}

fn change(broker: &Broker, rule: &AclRule, change: Change) -> Result<(), ApiError> {
    let file = broker.config.access.acl_file().ok_or_else(no_acl_file)?;
    edit::edit_and_reload(broker, "ACL file", || {
        acl_edit::edit(file, rule, change).map_err(|e| {
            let status = match e {
                AclEditError::BadUser
                | AclEditError::PatternWithUser
                | AclEditError::BadFilter { .. }
                | AclEditError::UnwritableFilter
                | AclEditError::SharedFilter => StatusCode::BAD_REQUEST,
                AclEditError::Duplicate(_) | AclEditError::Broken(_) => StatusCode::CONFLICT,
                AclEditError::NotFound(_) => StatusCode::NOT_FOUND,
                AclEditError::Io(..) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            ApiError::new(status, e.to_string())
        })
    })?;
    tracing::info!(rule = %rule, ?change, "admin API: ACL file edited");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::AccessControl;
    use crate::config::Config;

    #[test]
    fn rules_are_listed_as_written() {
        let broker = Broker::new(Config::default());
        assert!(!acl(&broker).configured);

        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("acl");
        std::fs::write(
            &file,
            "topic read pub/#\nuser zoe\ntopic z/#\nuser amy\ntopic deny a/x\ntopic write a/#\npattern read d/%c/#\n",
        )
        .expect("write");
        let access = AccessControl::load(None, Some(file), None, Vec::new()).expect("valid");
        let broker = Broker::new(Config {
            access: Arc::new(access),
            ..Config::default()
        });
        let view = acl(&broker);
        let rows: Vec<_> = view
            .rules
            .iter()
            .map(|r| (r.kind, r.user.as_deref(), r.access, r.filter.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("topic", None, "read", "pub/#"),
                ("topic", Some("amy"), "deny", "a/x"),
                ("topic", Some("amy"), "write", "a/#"),
                ("topic", Some("zoe"), "readwrite", "z/#"),
                ("pattern", None, "read", "d/%c/#"),
            ]
        );
        assert_eq!(view.total, 5);
    }

    fn body(user: Option<&str>, kind: &str, access: &str, filter: &str) -> RuleBody {
        RuleBody {
            user: user.map(str::to_owned),
            kind: kind.to_owned(),
            access: access.to_owned(),
            filter: filter.to_owned(),
        }
    }

    #[test]
    fn rules_are_added_and_deleted_through_the_policy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("acl");
        std::fs::write(&file, "# managed by the admin API\n").expect("write");
        let access =
            AccessControl::load(None, Some(file.clone()), None, Vec::new()).expect("valid");
        let broker = Broker::new(Config {
            access: Arc::new(access),
            ..Config::default()
        });
        let who = crate::auth::Identity {
            user: Some("amy"),
            client_id: "c",
        };
        let may = || {
            let policy = broker.config.access.policy();
            policy
                .acl
                .as_ref()
                .is_some_and(|a| a.may_subscribe(who, "a/#"))
        };
        assert!(!may());
        let rule = body(Some("amy"), "topic", "read", "a/#");
        let added = add_rule(&broker, rule.clone()).expect("added");
        assert_eq!((added.kind, added.user.as_deref()), ("topic", Some("amy")));
        assert!(may());
        let err = add_rule(&broker, rule.clone()).expect_err("twice");
        assert_eq!(err.status, StatusCode::CONFLICT, "{}", err.message);
        delete_rule(&broker, rule.clone()).expect("deleted");
        assert!(!may());
        let err = delete_rule(&broker, rule).expect_err("gone");
        assert_eq!(err.status, StatusCode::NOT_FOUND, "{}", err.message);
        for (bad, words) in [
            (body(None, "topics", "read", "a"), "kind"),
            (body(None, "topic", "all", "a"), "access"),
            (body(None, "topic", "read", "a/#/b"), "valid topic filter"),
        ] {
            let err = add_rule(&broker, bad).expect_err("bad");
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(words), "{}", err.message);
        }
        let text = std::fs::read_to_string(&file).expect("read");
        assert_eq!(text, "# managed by the admin API\n\nuser amy\n");
    }

    #[test]
    fn without_an_acl_file_it_is_a_conflict_that_says_how_to_configure_one() {
        let broker = Broker::new(Config::default());
        let err = add_rule(&broker, body(None, "topic", "read", "a")).expect_err("no file");
        assert_eq!(err.status, StatusCode::CONFLICT);
        assert!(err.message.contains("set acl_file"), "{}", err.message);
    }
}
