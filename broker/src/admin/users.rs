//! Users of the password file: `GET /api/v1/users`, `POST /api/v1/users`
//! `{"username", "password"}` and `DELETE /api/v1/users/{username}`.
//!
//! Edits go through [`crate::auth::passwd::edit`], the code of `courtier
//! passwd` (argon2id, atomic rewrite, other lines kept byte for byte), one
//! at a time and followed by a reload ([`super::edit`]): the next CONNECT
//! sees the change; connected clients stay.

use std::path::Path;

use axum::http::StatusCode;
use serde::Serialize;

use super::edit;
use super::error::ApiError;
use super::page::{FirstKeys, Listing, Page};
use crate::auth::passwd::{self, PasswdError};
use crate::broker::Broker;

/// The password rules, in words, as the API reports them.
pub const PASSWORD_RULES: [&str; 3] = [
    "at least 8 characters",
    "at most 256 characters",
    "different from the user name",
];

/// Shortest password accepted, in characters.
const MIN_PASSWORD: usize = 8;
/// Longest password and user name accepted, in characters: a bound on what
/// one request makes us hash and store.
const MAX_LEN: usize = 256;

/// `GET /api/v1/users`: the users in force and the rules a new password meets.
#[derive(Debug, Serialize)]
pub struct UsersView {
    /// One page of user names, sorted.
    #[serde(flatten)]
    pub users: Listing<String>,
    /// [`PASSWORD_RULES`], for a form to show before it submits.
    pub password_rules: [&'static str; 3],
}

/// 409: users live in a password file and there is none.
fn no_password_file() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "no password_file is configured: users live in that file (set password_file and restart)",
    )
}

/// One page of the users of the password file in force.
pub fn list_users(broker: &Broker, page: Page) -> Result<UsersView, ApiError> {
    let access = &broker.config.access;
    if access.password_file().is_none() {
        return Err(no_password_file());
    }
    let policy = access.policy();
    let mut pick = FirstKeys::<()>::new(page);
    if let Some(file) = policy.authenticator.password_file() {
        for user in file.users() {
            pick.offer(user, || ());
        }
    }
    Ok(UsersView {
        users: pick.finish(|user, ()| Some(user.to_owned())),
        password_rules: PASSWORD_RULES,
    })
}

/// Why `username` cannot be stored, in words.
pub fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty() || username.chars().count() > MAX_LEN {
        return Err(format!("the user name must be 1 to {MAX_LEN} characters"));
    }
    if username.contains(':') || username.chars().any(char::is_control) {
        return Err("the user name must not contain `:` or control characters".to_owned());
    }
    Ok(())
}

/// Which rule of [`PASSWORD_RULES`] `password` breaks, in words.
pub fn check_password(username: &str, password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        ));
    }
    if chars > MAX_LEN {
        return Err(format!(
            "the password must have at most {MAX_LEN} characters"
        ));
    }
    if password.to_lowercase() == username.to_lowercase() {
        return Err("the password must differ from the user name".to_owned());
    }
    Ok(())
}

/// Add `username` or change their password; `Ok(true)` if they existed.
/// Slow (argon2id): call it on the blocking pool.
pub fn set_user(broker: &Broker, username: &str, password: &str) -> Result<bool, ApiError> {
    check_username(username).map_err(ApiError::bad_request)?;
    check_password(username, password).map_err(ApiError::bad_request)?;
    edit_and_reload(broker, username, Some(password))
}

/// Remove `username`. Blocking file I/O: call it on the blocking pool.
pub fn delete_user(broker: &Broker, username: &str) -> Result<(), ApiError> {
    edit_and_reload(broker, username, None).map(|_| ())
}

fn edit_and_reload(
    broker: &Broker,
    username: &str,
    password: Option<&str>,
) -> Result<bool, ApiError> {
    let file: &Path = broker
        .config
        .access
        .password_file()
        .ok_or_else(no_password_file)?;
    let existed = edit::edit_and_reload(broker, "password file", || {
        passwd::edit(file, username, password, false).map_err(|e| match e {
            PasswdError::NotFound(..) => {
                ApiError::not_found(format!("no user `{username}` in the password file"))
            }
            PasswdError::BadUser | PasswdError::EmptyPassword | PasswdError::Mismatch => {
                ApiError::bad_request(e.to_string())
            }
            PasswdError::Io(..) | PasswdError::Hash(_) => ApiError::internal(e.to_string()),
        })
    })?;
    tracing::info!(
        user = username,
        deleted = password.is_none(),
        "admin API: password file edited"
    );
    Ok(existed)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::AccessControl;
    use crate::config::Config;

    fn broker_with(file: Option<&Path>) -> Broker {
        let access =
            AccessControl::load(file.map(Path::to_owned), None, None, Vec::new()).expect("valid");
        Broker::new(Config {
            access: Arc::new(access),
            ..Config::default()
        })
    }

    /// `(user, password) → accepted`, the rule in words otherwise.
    #[test]
    fn password_rules_are_enforced_in_words() {
        for (user, password, expect) in [
            ("alice", "correct horse", Ok(())),
            ("alice", "short", Err("at least 8")),
            ("alice12345", "ALICE12345", Err("differ from the user name")),
            ("alice", &"x".repeat(257), Err("at most 256")),
        ] {
            let got = check_password(user, password);
            match expect {
                Ok(()) => assert_eq!(got, Ok(()), "{user} {password}"),
                Err(words) => assert!(
                    got.as_ref().is_err_and(|e| e.contains(words)),
                    "{user} {password}: {got:?}"
                ),
            }
        }
        assert!(check_username("a:b").is_err());
        assert!(check_username("").is_err());
        assert!(check_username("bob").is_ok());
    }

    #[test]
    fn users_are_added_listed_and_deleted_through_the_policy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "# users\n").expect("write");
        let broker = broker_with(Some(&file));
        assert_eq!(set_user(&broker, "bob", "long enough"), Ok(false));
        assert_eq!(set_user(&broker, "bob", "longer still"), Ok(true));
        let auth = || broker.config.access.policy();
        assert!(
            auth()
                .authenticator
                .check(Some("bob"), Some(b"longer still"))
                .is_ok()
        );
        let list = list_users(&broker, Page::default()).expect("listed");
        assert_eq!(list.users.items, ["bob"]);
        let err = set_user(&broker, "eve", "eve").expect_err("too short");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        delete_user(&broker, "bob").expect("deleted");
        assert!(
            auth()
                .authenticator
                .check(Some("bob"), Some(b"longer still"))
                .is_err()
        );
        let err = delete_user(&broker, "bob").expect_err("gone");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.starts_with("# users\n"), "other lines kept: {text}");
    }

    #[test]
    fn without_a_password_file_it_is_a_conflict() {
        let broker = broker_with(None);
        let err = list_users(&broker, Page::default()).expect_err("no file");
        assert_eq!(err.status, StatusCode::CONFLICT);
        let err = set_user(&broker, "bob", "long enough").expect_err("no file");
        assert_eq!(err.status, StatusCode::CONFLICT);
    }
}
