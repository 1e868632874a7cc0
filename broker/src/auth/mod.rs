//! Authentication: who may connect.
//!
//! - [`hash`]: Mosquitto's `$6$` / `$7$` hashes (read unchanged) and argon2id.
//! - [`file`]: the password file, Mosquitto's format.
//! - [`passwd`]: `courtier passwd`, the `mosquitto_passwd` equivalent.
//! - [`acl`]: authorization, Mosquitto's ACL file; [`acl_edit`]: one rule
//!   added or removed (the admin API), the rest of the file kept.
//! - [`replace`]: files replaced atomically (temporary file, rename).
//! - [`access`]: the policy in force (both files), replaced whole on reload.
//! - [`throttle`]: slowing down addresses that keep failing to authenticate.
//!
//! [`Authenticator`] decides a CONNECT from its user name and password. The
//! secure default: with no password file, anonymous clients are allowed only
//! while every listener is loopback-only; otherwise they need
//! `allow_anonymous = true`.

pub mod access;
pub mod acl;
pub mod acl_edit;
pub mod file;
pub mod hash;
pub mod passwd;
pub mod replace;
pub mod throttle;

use std::net::SocketAddr;
use std::path::PathBuf;

use courtier_proto::ReasonCode;

pub use access::{AccessControl, AccessError, Policy};
pub use acl::{AclFile, AclFileError, Identity};
pub use file::{PasswordFile, PasswordFileError};

/// The authentication policy the server runs with.
#[derive(Debug)]
pub struct Authenticator {
    /// `Some` when `password_file` is configured.
    passwords: Option<(PathBuf, PasswordFile)>,
    /// Whether clients without a user name may connect.
    anonymous: bool,
    /// The first non-loopback listener, the reason anonymous access is off
    /// by default (for the start-up line).
    exposed_on: Option<SocketAddr>,
}

impl Default for Authenticator {
    /// No password file, loopback listeners only: anonymous clients allowed.
    fn default() -> Self {
        Self {
            passwords: None,
            anonymous: true,
            exposed_on: None,
        }
    }
}

impl Authenticator {
    /// The policy for a password file (if any), the `allow_anonymous` key
    /// (if set) and the listen addresses of every listener.
    pub fn new(
        passwords: Option<(PathBuf, PasswordFile)>,
        allow_anonymous: Option<bool>,
        listeners: impl IntoIterator<Item = SocketAddr>,
    ) -> Self {
        let exposed_on = listeners.into_iter().find(|a| !a.ip().is_loopback());
        let anonymous = allow_anonymous.unwrap_or(passwords.is_none() && exposed_on.is_none());
        Self {
            passwords,
            anonymous,
            exposed_on,
        }
    }

    /// Decide a CONNECT. `Err` carries the CONNACK reason:
    /// - 0x86 Bad User Name or Password (3.1.1 return code 4) when a user
    ///   name is given and the password file does not match it (3.2.2.2);
    /// - 0x87 Not authorized (3.1.1 return code 5, as Mosquitto answers
    ///   anonymous clients) when no user name is given and anonymous access
    ///   is off: the client presented no credentials that could be "bad",
    ///   it is simply not permitted.
    ///
    /// A user name with no password file configured can be checked against
    /// nothing: it is accepted exactly when anonymous clients are, so a made
    /// up name never bypasses `allow_anonymous = false`.
    pub fn check(&self, username: Option<&str>, password: Option<&[u8]>) -> Result<(), ReasonCode> {
        match (username, &self.passwords) {
            (Some(user), Some((_, file))) => {
                if password.is_some_and(|p| file.verify(user, p)) {
                    Ok(())
                } else {
                    Err(ReasonCode::BadUserNameOrPassword)
                }
            }
            _ if self.anonymous => Ok(()),
            _ => Err(ReasonCode::NotAuthorized),
        }
    }

    /// The password file in force, if one is configured.
    pub fn password_file(&self) -> Option<&PasswordFile> {
        self.passwords.as_ref().map(|(_, file)| file)
    }

    /// Whether [`Self::check`] of this user name verifies a password hash
    /// (slow by design: callers run it off the async workers).
    pub fn verifies_hash(&self, username: Option<&str>) -> bool {
        username.is_some() && self.passwords.is_some()
    }

    /// One line for the start-up log: which policy applies and why.
    pub fn summary(&self) -> String {
        let anonymous = match (self.anonymous, self.exposed_on) {
            (true, None) if self.passwords.is_none() => {
                "anonymous clients allowed: every listener is loopback-only".to_owned()
            }
            (true, _) => "anonymous clients allowed (allow_anonymous = true)".to_owned(),
            (false, _) if self.passwords.is_some() => {
                "anonymous clients refused (set allow_anonymous = true to allow them)".to_owned()
            }
            (false, Some(addr)) => format!(
                "all clients refused: listener {addr} is not loopback-only and no password_file is set \
                 (set password_file, or allow_anonymous = true)"
            ),
            (false, None) => {
                "all clients refused: allow_anonymous = false and no password_file is set"
                    .to_owned()
            }
        };
        match &self.passwords {
            Some((path, file)) => format!(
                "authentication: password file {} ({} users); {anonymous}",
                path.display(),
                file.len()
            ),
            None => format!("authentication: no password file; {anonymous}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SHA6: &str = "$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw==";
    const LOOPBACK: &str = "127.0.0.1:1883";
    const ANY: &str = "0.0.0.0:1883";

    fn auth(with_file: bool, allow: Option<bool>, listener: &str) -> Authenticator {
        let file = with_file.then(|| {
            let text = format!("alice:{SHA6}\n");
            let file = PasswordFile::parse(&text, Path::new("pw")).expect("valid");
            (PathBuf::from("pw"), file)
        });
        Authenticator::new(file, allow, [listener.parse().expect("address")])
    }

    /// `(password file?, allow_anonymous, listener, user, password) → result`.
    #[test]
    fn policy_table() {
        use ReasonCode::{BadUserNameOrPassword as Bad, NotAuthorized as NotAuth};
        type Case<'a> = (
            bool,
            Option<bool>,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Result<(), ReasonCode>,
        );
        let cases: &[Case<'_>] = &[
            (false, None, LOOPBACK, None, None, Ok(())),
            (false, None, LOOPBACK, Some("anyone"), None, Ok(())),
            (false, None, ANY, None, None, Err(NotAuth)),
            (false, None, ANY, Some("anyone"), Some("x"), Err(NotAuth)),
            (false, Some(true), ANY, None, None, Ok(())),
            (false, Some(false), LOOPBACK, None, None, Err(NotAuth)),
            (true, None, LOOPBACK, None, None, Err(NotAuth)),
            (true, Some(true), LOOPBACK, None, None, Ok(())),
            (true, None, LOOPBACK, Some("alice"), Some("secret"), Ok(())),
            (true, None, ANY, Some("alice"), Some("secret"), Ok(())),
            (
                true,
                None,
                LOOPBACK,
                Some("alice"),
                Some("Secret"),
                Err(Bad),
            ),
            (true, None, LOOPBACK, Some("alice"), None, Err(Bad)),
            (
                true,
                Some(true),
                LOOPBACK,
                Some("bob"),
                Some("secret"),
                Err(Bad),
            ),
        ];
        for &(file, allow, listener, user, pass, expect) in cases {
            let got = auth(file, allow, listener).check(user, pass.map(str::as_bytes));
            assert_eq!(got, expect, "{file} {allow:?} {listener} {user:?} {pass:?}");
        }
    }

    #[test]
    fn summary_says_which_policy_applies() {
        for (file, allow, listener, expect) in [
            (
                false,
                None,
                LOOPBACK,
                "allowed: every listener is loopback-only",
            ),
            (
                false,
                None,
                ANY,
                "listener 0.0.0.0:1883 is not loopback-only",
            ),
            (
                true,
                None,
                LOOPBACK,
                "password file pw (1 users); anonymous clients refused",
            ),
            (true, Some(true), ANY, "allowed (allow_anonymous = true)"),
        ] {
            let line = auth(file, allow, listener).summary();
            assert!(line.contains(expect), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
