//! `courtier passwd`: add, change or delete a user of a password file, like
//! `mosquitto_passwd`. New passwords are hashed with argon2id; other lines
//! (Mosquitto hashes, comments) are kept byte for byte. The file is replaced
//! atomically (temporary file in the same directory, fsync, rename) and is
//! readable by its owner only (0600).

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use super::file::entry;
use super::hash::StoredHash;
use super::replace;

/// `courtier passwd [-c] [-b] FILE USER [PASSWORD]` / `courtier passwd -D FILE USER`.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswdArgs {
    /// Create the file, overwriting any existing one.
    #[arg(short = 'c', conflicts_with = "delete")]
    pub create: bool,
    /// Batch mode: take the password from the command line.
    #[arg(short = 'b', requires = "password", conflicts_with = "delete")]
    pub batch: bool,
    /// Delete USER instead of setting a password.
    #[arg(short = 'D')]
    pub delete: bool,
    /// The password file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The user name (no `:`).
    #[arg(value_name = "USER")]
    pub user: String,
    /// The password, with -b.
    #[arg(value_name = "PASSWORD", requires = "batch")]
    pub password: Option<String>,
}

/// Why `courtier passwd` failed.
#[derive(Debug, thiserror::Error)]
pub enum PasswdError {
    /// The user name cannot be stored in the file format.
    #[error("user name must be non-empty and contain no `:` or line break")]
    BadUser,
    /// -D for a user not in the file.
    #[error("{0}: user `{1}` not found")]
    NotFound(PathBuf, String),
    /// The two prompted passwords differ.
    #[error("passwords do not match")]
    Mismatch,
    /// An empty password was given.
    #[error("the password must not be empty")]
    EmptyPassword,
    /// A file or terminal operation failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] super::hash::HashError),
}

/// Run the subcommand; the error is printed by the caller.
pub fn run(args: PasswdArgs) -> Result<(), PasswdError> {
    let password = if args.delete {
        None
    } else {
        Some(match args.password {
            Some(p) => p,
            None => prompt_twice()?,
        })
    };
    edit(&args.file, &args.user, password.as_deref(), args.create).map(|_| ())
}

/// Set `user`'s password in `file` (argon2id), or delete `user` when
/// `password` is `None`; with `create` the file starts empty. The file is
/// replaced atomically. Returns whether `user` was in the file before.
/// Shared by `courtier passwd` and the admin API.
pub fn edit(
    file: &Path,
    user: &str,
    password: Option<&str>,
    create: bool,
) -> Result<bool, PasswdError> {
    if user.is_empty() || user.contains([':', '\n', '\r']) {
        return Err(PasswdError::BadUser);
    }
    let io = |e| PasswdError::Io(file.to_owned(), e);
    let old = if create {
        String::new()
    } else {
        std::fs::read_to_string(file).map_err(io)?
    };
    let new_line = match password {
        None => None,
        Some("") => return Err(PasswdError::EmptyPassword),
        Some(password) => {
            let hash = StoredHash::argon2id(password.as_bytes())?;
            Some(format!("{user}:{}", hash.to_file_text()))
        }
    };
    let (text, found) = update(&old, user, new_line.as_deref());
    if password.is_none() && !found {
        return Err(PasswdError::NotFound(file.to_owned(), user.to_owned()));
    }
    // Private: the file holds password hashes.
    replace::write_atomically(file, text.as_bytes(), 0o600).map_err(io)?;
    Ok(found)
}

/// `text` with `user`'s entry replaced by `line` (or removed when `None`;
/// appended when absent). Every other line is kept as it was. Returns the
/// new text and whether `user` was present.
pub fn update(text: &str, user: &str, line: Option<&str>) -> (String, bool) {
    let mut out = String::with_capacity(text.len() + line.map_or(0, str::len) + 1);
    let mut found = false;
    for l in text.lines() {
        if matches!(entry(l), Some(Ok((u, _))) if u == user) {
            // Replace the first entry, drop any duplicate.
            if let (Some(new), false) = (line, found) {
                out.push_str(new);
                out.push('\n');
            }
            found = true;
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    if let (Some(new), false) = (line, found) {
        out.push_str(new);
        out.push('\n');
    }
    (out, found)
}

/// Ask for the password twice: on the terminal without echo, or as two
/// lines of standard input when it is not a terminal (scripts).
fn prompt_twice() -> Result<String, PasswdError> {
    let tty = |e| PasswdError::Io(PathBuf::from("terminal"), e);
    let (first, second) = if std::io::stdin().is_terminal() {
        (
            rpassword::prompt_password("Password: ").map_err(tty)?,
            rpassword::prompt_password("Reenter password: ").map_err(tty)?,
        )
    } else {
        let mut lines = std::io::stdin().lock().lines();
        let mut next = || -> Result<String, PasswdError> {
            match lines.next() {
                Some(line) => line.map_err(tty),
                None => Err(tty(std::io::ErrorKind::UnexpectedEof.into())),
            }
        };
        (next()?, next()?)
    };
    if first == second {
        Ok(first)
    } else {
        Err(PasswdError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(file text, user, new line) → (new text, found)`.
    #[test]
    fn update_keeps_other_lines() {
        for (text, user, line, expect, found) in [
            ("", "a", Some("a:H"), "a:H\n", false),
            ("# c\nb:X\n", "a", Some("a:H"), "# c\nb:X\na:H\n", false),
            ("a:OLD\nb:X", "a", Some("a:H"), "a:H\nb:X\n", true),
            ("a:OLD\nab:X\n", "a", None, "ab:X\n", true),
            ("b:X\n", "a", None, "b:X\n", false),
            ("a:1\na:2\n", "a", Some("a:H"), "a:H\n", true),
        ] {
            assert_eq!(
                update(text, user, line),
                (expect.to_owned(), found),
                "{text:?} {user} {line:?}"
            );
        }
    }
}
