//! Why a configuration cannot be used: one line naming the source, the key
//! and the fix.

use std::path::PathBuf;

use crate::auth::AccessError;

/// Why the configuration cannot be used. Each message is one line naming the
/// source, the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read configuration file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown or mistyped key.
    #[error("{path}:{line}: {message} (fix the key or value; `courtier --help` lists every key)")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem, 0 if unknown.
        line: usize,
        /// The parser's description, on one line.
        message: String,
    },
    /// A value is out of range.
    #[error("{source_name}: `{key}` {problem}")]
    Invalid {
        /// The file path, or "command line".
        source_name: String,
        /// The key.
        key: &'static str,
        /// What is wrong and how to fix it.
        problem: &'static str,
    },
    /// The password or ACL file cannot be used (the message names key,
    /// file and line).
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The admin token file cannot be used.
    #[error("`admin_token_file`: {0}")]
    AdminTokenFile(String),
}
