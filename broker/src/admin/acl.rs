//! `GET /api/v1/acl`: the ACL rules in force, read-only (edit the file; a
//! change is reloaded within seconds or on SIGHUP).

use serde::Serialize;

use super::page::MAX_LIMIT;
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
}
