//! The password file: Mosquitto's `user:hash` lines, `#` comments and blank
//! lines, read strictly by the broker (any bad line stops start-up, naming
//! its line) and rewritten line-preservingly by `courtier passwd`.

use std::path::{Path, PathBuf};

use hashbrown::HashMap;

use super::hash::{HashError, StoredHash};

/// Why the password file cannot be used. One line, naming file and line.
#[derive(Debug, thiserror::Error)]
pub enum PasswordFileError {
    /// The file could not be read.
    #[error("{path}: cannot read password file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not `user:hash`.
    #[error("{path}:{line}: expected `user:hash` (make entries with `courtier passwd`)")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A user appears twice: which line applies would be a guess.
    #[error("{path}:{line}: user `{user}` is already defined above (delete one of the lines)")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the second entry.
        line: usize,
        /// The user.
        user: String,
    },
    /// The hash of a line is unusable.
    #[error("{path}:{line}: user `{user}`: {source}")]
    Hash {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The user.
        user: String,
        /// What is wrong with the hash.
        source: HashError,
    },
}

/// The users of a password file and their hashes.
#[derive(Debug, Default)]
pub struct PasswordFile {
    users: HashMap<String, StoredHash>,
}

/// A line that holds an entry: `(user, hash text)`, without line ending.
/// Comments (`#`) and blank lines give `None`.
pub(super) fn entry(line: &str) -> Option<Result<(&str, &str), ()>> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.starts_with('#') {
        return None;
    }
    Some(match line.split_once(':') {
        Some((user, hash)) if !user.is_empty() => Ok((user, hash.trim_end())),
        _ => Err(()),
    })
}

impl PasswordFile {
    /// Read and check the whole file.
    pub fn load(path: &Path) -> Result<Self, PasswordFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PasswordFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse file text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PasswordFileError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let Some(parsed) = entry(line) else { continue };
            let (user, hash) = parsed.map_err(|()| PasswordFileError::Syntax {
                path: path.to_owned(),
                line: line_no,
            })?;
            let hash = StoredHash::parse(hash).map_err(|source| PasswordFileError::Hash {
                path: path.to_owned(),
                line: line_no,
                user: user.to_owned(),
                source,
            })?;
            if users.insert(user.to_owned(), hash).is_some() {
                return Err(PasswordFileError::Duplicate {
                    path: path.to_owned(),
                    line: line_no,
                    user: user.to_owned(),
                });
            }
        }
        Ok(Self { users })
    }

    /// How many users the file defines.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file defines no user at all.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user names, in no particular order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Whether `user` exists and `password` is theirs.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        self.users.get(user).is_some_and(|h| h.verify(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA6: &str = "$6$AAECAwQFBgcICQoL$JqsxEv/ucyxjA5DKsQ+Y8CDWaQDNQI9FpAkmfwAqWfwZLk/JEGgM0EpylrJHAZKKyFQjJeZ3nFaHjPzOzPPmPw==";

    fn check_err(text: &str, expect: &str) {
        let err = PasswordFile::parse(text, Path::new("pw"))
            .expect_err(text)
            .to_string();
        assert!(err.contains(expect), "{text:?}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn comments_blank_lines_and_crlf_are_accepted() {
        let text = format!("# users\n\nalice:{SHA6}\r\n  \n");
        let file = PasswordFile::parse(&text, Path::new("pw")).expect("valid");
        assert_eq!(file.len(), 1);
        assert!(file.verify("alice", b"secret"));
        assert!(!file.verify("alice", b"wrong"));
        assert!(!file.verify("bob", b"secret"));
    }

    #[test]
    fn bad_lines_name_file_line_and_fix() {
        for (text, expect) in [
            (
                "alice:secret\n",
                "pw:1: user `alice`: the password is stored in clear text",
            ),
            ("# c\nnocolon\n", "pw:2: expected `user:hash`"),
            (":$6$x$y\n", "pw:1: expected `user:hash`"),
            (
                &format!("a:{SHA6}\na:{SHA6}\n"),
                "pw:2: user `a` is already defined",
            ),
        ] {
            check_err(text, expect);
        }
    }
}
