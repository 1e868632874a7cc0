//! The admin token: where it comes from (`admin_token`, `admin_token_file`)
//! and how a request's `Authorization: Bearer` header is checked against it.

use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The secret that opens the admin API. Only its SHA-256 digest is kept:
/// comparing digests in constant time hides the token's length as well as
/// its bytes, and `Debug` can print nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    /// A token from its text; `Err` names what is wrong with it.
    pub fn new(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("must not be empty");
        }
        // A header value cannot carry these, so such a token could never match.
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        Ok(Self {
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    /// Read the token from `path`: its first line, trailing line break and
    /// spaces removed (so `echo secret > file` works).
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the admin token: {e}", path.display()))?;
        let line = text.lines().next().unwrap_or("").trim();
        Self::new(line).map_err(|problem| format!("{}: the admin token {problem}", path.display()))
    }

    /// Whether an `Authorization` header value is `Bearer <this token>`.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        // The scheme is case-insensitive (RFC 7235 section 2.1).
        let Some(scheme) = value.get(..7) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"Bearer ") {
            return false;
        }
        let given: [u8; 32] = Sha256::digest(value[7..].trim_ascii()).into();
        given.ct_eq(&self.digest).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(header, accepted)` for the token `s3cret`.
    #[test]
    fn only_the_bearer_token_itself_is_accepted() {
        let token = AdminToken::new("s3cret").expect("valid");
        for (header, accepted) in [
            (Some("Bearer s3cret"), true),
            (Some("bearer s3cret"), true),
            (Some("Bearer  s3cret "), true),
            (Some("Bearer s3cre"), false),
            (Some("Bearer s3cret2"), false),
            (Some("Basic s3cret"), false),
            (Some("s3cret"), false),
            (Some("Bearer"), false),
            (Some(""), false),
            (None, false),
        ] {
            assert_eq!(
                token.accepts(header.map(str::as_bytes)),
                accepted,
                "{header:?}"
            );
        }
    }

    #[test]
    fn bad_tokens_are_refused_and_debug_hides_it() {
        assert!(AdminToken::new("").is_err());
        assert!(AdminToken::new("a b").is_err());
        let token = AdminToken::new("visible?").expect("valid");
        assert!(!format!("{token:?}").contains("visible"));
    }

    #[test]
    fn a_token_file_gives_its_first_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").expect("write");
        let token = AdminToken::from_file(&path).expect("valid");
        assert!(token.accepts(Some(b"Bearer s3cret")));
        std::fs::write(&path, "\n").expect("write");
        let err = AdminToken::from_file(&path).expect_err("empty");
        assert!(err.contains("must not be empty"), "{err}");
        let err = AdminToken::from_file(&dir.path().join("none")).expect_err("missing");
        assert!(err.contains("cannot read"), "{err}");
    }
}
