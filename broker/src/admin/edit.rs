//! Edits of the policy files through the API (users of the password file,
//! ACL rules): one edit at a time, then the new policy put in force with
//! [`crate::auth::AccessControl::reload`], so the next CONNECT, SUBSCRIBE or
//! PUBLISH sees it. Connected clients stay, and what they were granted
//! stays granted.

use parking_lot::Mutex;

use super::error::ApiError;
use crate::broker::Broker;
use crate::metrics::Metrics;

/// Read-modify-write of a policy file, one at a time: two concurrent
/// additions must not each write the file without the other's change. The
/// files are one per process, hence one lock per process. Taken only on the
/// blocking pool, never across an `.await`.
static EDITS: Mutex<()> = Mutex::new(());

/// Run `edit` (which rewrites the file named by `file_key`, a config key)
/// with no other edit in between, then reload the policy. Blocking file I/O:
/// call it on the blocking pool.
pub fn edit_and_reload<T>(
    broker: &Broker,
    file_key: &str,
    edit: impl FnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let value = {
        let _one_at_a_time = EDITS.lock();
        let value = edit()?;
        // Reloaded under the lock, so policies are put in force in the
        // order of the edits.
        broker.config.access.reload().map_err(|e| {
            Metrics::add(&broker.metrics.reload_failures, 1);
            ApiError::internal(format!(
                "the {file_key} was written, but the policy could not be reloaded: {e}"
            ))
        })?;
        value
    };
    Metrics::add(&broker.metrics.reloads, 1);
    Ok(value)
}
