//! The access policy in force: the password file and the ACL, loaded
//! together and replaced as a whole, so a reload never shows a half-changed
//! policy; and the failure throttle, which outlives reloads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::throttle::FailureThrottle;
use super::{AclFile, AclFileError, Authenticator, PasswordFile, PasswordFileError};

/// Why a policy file cannot be used; one line naming key, file and line.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The password file.
    #[error("`password_file`: {0}")]
    Passwords(#[from] PasswordFileError),
    /// The ACL file.
    #[error("`acl_file`: {0}")]
    Acl(#[from] AclFileError),
}

/// One consistent policy.
#[derive(Debug)]
pub struct Policy {
    /// Who may connect.
    pub authenticator: Authenticator,
    /// What they may touch; `None`: everything.
    pub acl: Option<AclFile>,
}

/// Where the policy comes from, to load it again.
#[derive(Debug, Default)]
struct Sources {
    password_file: Option<PathBuf>,
    acl_file: Option<PathBuf>,
    allow_anonymous: Option<bool>,
    /// Every listen address: whether anonymous access is on by default.
    listeners: Vec<SocketAddr>,
}

impl Sources {
    fn build(&self) -> Result<Policy, AccessError> {
        let passwords = match &self.password_file {
            Some(path) => Some((path.clone(), PasswordFile::load(path)?)),
            None => None,
        };
        let acl = match &self.acl_file {
            Some(path) => Some(AclFile::load(path)?),
            None => None,
        };
        let authenticator = Authenticator::new(
            passwords,
            self.allow_anonymous,
            self.listeners.iter().copied(),
        );
        Ok(Policy { authenticator, acl })
    }
}

/// The policy in force and how to reload it.
#[derive(Debug)]
pub struct AccessControl {
    sources: Sources,
    current: RwLock<Arc<Policy>>,
    /// Held while a reload reads the files and puts them in force, so
    /// reloads (SIGHUP, file watch, admin API edits) happen one after the
    /// other: a reload that read a file before an edit cannot replace the
    /// policy of one that read it after.
    reloading: Mutex<()>,
    /// Recent authentication failures by address.
    pub throttle: FailureThrottle,
}

impl Default for AccessControl {
    /// No files, loopback listeners: anonymous clients allowed, no ACL.
    fn default() -> Self {
        let sources = Sources::default();
        let policy = Policy {
            authenticator: Authenticator::default(),
            acl: None,
        };
        Self {
            sources,
            current: RwLock::new(Arc::new(policy)),
            reloading: Mutex::new(()),
            throttle: FailureThrottle::default(),
        }
    }
}

impl AccessControl {
    /// Load the files (if any) for listeners bound to `listeners`.
    pub fn load(
        password_file: Option<PathBuf>,
        acl_file: Option<PathBuf>,
        allow_anonymous: Option<bool>,
        listeners: Vec<SocketAddr>,
    ) -> Result<Self, AccessError> {
        let sources = Sources {
            password_file,
            acl_file,
            allow_anonymous,
            listeners,
        };
        let policy = sources.build()?;
        Ok(Self {
            sources,
            current: RwLock::new(Arc::new(policy)),
            reloading: Mutex::new(()),
            throttle: FailureThrottle::default(),
        })
    }

    /// Read the files again and, if both load, put the new policy in force;
    /// otherwise the old one stays.
    pub fn reload(&self) -> Result<(), AccessError> {
        let _in_turn = self.reloading.lock();
        let policy = self.sources.build()?;
        *self.current.write() = Arc::new(policy);
        Ok(())
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.current.read())
    }

    /// Whether an ACL file is configured (fixed at start: a reload re-reads
    /// it but cannot add or remove it), so callers can skip the policy
    /// lookup on the hot path when there is none.
    pub fn has_acl(&self) -> bool {
        self.sources.acl_file.is_some()
    }

    /// The configured password file, which the admin API edits.
    pub fn password_file(&self) -> Option<&Path> {
        self.sources.password_file.as_deref()
    }

    /// The configured ACL file, which the admin API edits.
    pub fn acl_file(&self) -> Option<&Path> {
        self.sources.acl_file.as_deref()
    }

    /// The files a reload reads.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        [&self.sources.password_file, &self.sources.acl_file]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }

    /// The start-up lines: who may connect, what they may touch.
    pub fn summary(&self) -> [String; 2] {
        let policy = self.policy();
        let authorization = match (&self.sources.acl_file, &policy.acl) {
            (Some(path), Some(acl)) => {
                let (users, rules) = acl.counts();
                format!(
                    "authorization: ACL file {} ({users} users, {rules} rules); what it does not grant is refused",
                    path.display()
                )
            }
            _ => "authorization: no ACL file; every client may use every topic".to_owned(),
        };
        [policy.authenticator.summary(), authorization]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_that_fails_keeps_the_policy_in_force() {
        let dir = tempfile::tempdir().expect("temp dir");
        let acl = dir.path().join("acl");
        std::fs::write(&acl, "topic read a/#\n").expect("write");
        let access = AccessControl::load(None, Some(acl.clone()), None, Vec::new()).expect("valid");
        let who = super::super::Identity {
            user: None,
            client_id: "c",
        };
        let reads = |access: &AccessControl, topic| {
            access
                .policy()
                .acl
                .as_ref()
                .is_some_and(|a| a.may_receive(who, topic))
        };
        assert!(reads(&access, "a/x"));
        std::fs::write(&acl, "topic read b/#\n").expect("write");
        access.reload().expect("valid again");
        assert!(!reads(&access, "a/x") && reads(&access, "b/x"));
        std::fs::write(&acl, "topic read b/#/c\n").expect("write");
        let err = access.reload().expect_err("a bad filter");
        assert!(err.to_string().starts_with("`acl_file`: "), "{err}");
        assert!(reads(&access, "b/x"), "the last good policy stays");
    }
}
