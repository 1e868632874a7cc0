//! The add-user form and its rules, checked before sending exactly as the broker checks them
//! (`broker/src/admin/users.rs`): a password of [`MIN_PASSWORD_CHARS`] to [`MAX_CHARS`]
//! characters that differs from the user name ignoring case; a user name of 1 to [`MAX_CHARS`]
//! characters without `:` or control characters.
//!
//! The rules are data ([`password_rules`]) so the form can show each one next to the field,
//! ticked as it is met, and the same list decides whether the form may be sent.

/// The shortest password the broker accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password and user name the broker accepts, in characters.
pub const MAX_CHARS: usize = 256;

/// One rule and whether the current input meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule in words.
    pub text: &'static str,
    /// Whether it is met.
    pub met: bool,
}

/// The password rules for `username` and `password`, in the order shown.
pub fn password_rules(username: &str, password: &str) -> [Rule; 3] {
    let chars = password.chars().count();
    [
        Rule {
            text: "At least 8 characters",
            met: chars >= MIN_PASSWORD_CHARS,
        },
        Rule {
            text: "At most 256 characters",
            met: chars <= MAX_CHARS,
        },
        Rule {
            text: "Different from the user name (ignoring case)",
            met: password.to_lowercase() != username.to_lowercase(),
        },
    ]
}

/// The add-user form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewUser {
    /// The user name typed.
    pub username: String,
    /// The password typed.
    pub password: String,
}

impl NewUser {
    /// What would be sent, or the first problem in words (naming the field).
    pub fn check(&self) -> Result<(&str, &str), String> {
        let username = self.username.trim();
        if username.is_empty() {
            return Err("User name: enter a user name".to_owned());
        }
        if username.chars().count() > MAX_CHARS {
            return Err("User name: at most 256 characters".to_owned());
        }
        // The password file is `user:hash` lines, so these could never round-trip.
        if username.contains(':') || username.chars().any(char::is_control) {
            return Err("User name: no `:` or control characters".to_owned());
        }
        if let Some(rule) = password_rules(username, &self.password)
            .into_iter()
            .find(|rule| !rule.met)
        {
            return Err(format!("Password: {}", rule.text.to_lowercase()));
        }
        Ok((username, &self.password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(username: &str, password: &str) -> Result<(String, String), String> {
        let form = NewUser {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        form.check().map(|(u, p)| (u.to_owned(), p.to_owned()))
    }

    #[test]
    fn rules_are_ticked_as_they_are_met() {
        let met = |u: &str, p: &str| password_rules(u, p).map(|r| r.met);
        assert_eq!(met("alice", ""), [false, true, true]);
        assert_eq!(met("alice", "1234567"), [false, true, true]);
        assert_eq!(met("alice", "12345678"), [true, true, true]);
        assert_eq!(met("alicealice", "alicealice"), [true, true, false]);
        assert_eq!(met("AliceAlice", "aLICEalice"), [true, true, false]);
        assert_eq!(met("bob", &"x".repeat(257)), [true, false, true]);
        // Characters, not bytes: seven accented letters are too short, 256 are not too long.
        assert_eq!(met("bob", "ééééééé"), [false, true, true]);
        assert_eq!(met("bob", &"é".repeat(256)), [true, true, true]);
    }

    #[test]
    fn only_a_form_meeting_every_rule_is_sent() {
        assert_eq!(
            check(" alice ", "correct horse"),
            Ok(("alice".into(), "correct horse".into()))
        );
        assert_eq!(
            check("", "whatever1"),
            Err("User name: enter a user name".into())
        );
        assert_eq!(
            check("a:b", "whatever1"),
            Err("User name: no `:` or control characters".into())
        );
        assert_eq!(
            check("alice", "short"),
            Err("Password: at least 8 characters".into())
        );
        assert_eq!(
            check("password", "PASSWORD"),
            Err("Password: different from the user name (ignoring case)".into())
        );
        assert_eq!(
            check(&"u".repeat(257), "whatever1"),
            Err("User name: at most 256 characters".into())
        );
    }
}
