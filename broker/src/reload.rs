//! Reloading without a restart: the password file, the ACL file, the TLS
//! certificate and key and the client CA are read again on SIGHUP, and when
//! one of them changes (checked every [`POLL`], by modification time and
//! length).
//!
//! Connections stay up: a new policy applies to the next CONNECT, SUBSCRIBE
//! and PUBLISH (subscriptions granted before stay granted), a new
//! certificate or client CA to the next handshake. A file that fails to
//! load changes nothing (the TLS files are taken together or not at all); the failure is logged as one line naming the file and counted
//! (`courtier_reloads_total{result="failed"}`). Every reload also prints
//! `courtier reloaded ok|failed (SIGHUP|a file changed)` on stdout, beside
//! `courtier ready`, for scripts and tests that wait for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::broker::Broker;
use crate::metrics::Metrics;
use crate::transport::tls::ServerTls;

/// How often the files are checked for changes.
pub const POLL: Duration = Duration::from_secs(2);

/// The SIGHUP stream.
#[cfg(unix)]
pub type Hangup = tokio::signal::unix::Signal;

/// No SIGHUP off Unix: never constructed.
#[cfg(not(unix))]
#[derive(Debug)]
pub enum Hangup {}

/// Install the SIGHUP handler (replacing its default action, which ends
/// the process). Must run inside the runtime.
pub fn hangup_signal() -> Option<Hangup> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGHUP; reloads follow file changes only");
                None
            }
        }
    }
    #[cfg(not(unix))]
    None
}

async fn next_hangup(hangup: &mut Option<Hangup>) {
    #[cfg(unix)]
    if let Some(signal) = hangup
        && signal.recv().await.is_some()
    {
        return;
    }
    #[cfg(not(unix))]
    let _ = hangup;
    std::future::pending().await
}

/// What a file looked like when last seen: `None` when it could not be read.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The files a reload reads, with how they looked at the last check.
struct Watched(Vec<(PathBuf, Stamp)>);

impl Watched {
    fn new(paths: Vec<PathBuf>) -> Self {
        Self(paths.into_iter().map(|p| (p.clone(), stamp(&p))).collect())
    }

    /// Whether any file changed since the last call (remembering the new look).
    fn changed(&mut self) -> bool {
        let mut changed = false;
        for (path, seen) in &mut self.0 {
            let now = stamp(path);
            if now != *seen {
                *seen = now;
                changed = true;
            }
        }
        changed
    }
}

/// Reload on SIGHUP or file changes until `stop`.
pub async fn run(
    broker: Arc<Broker>,
    tls: Option<Arc<ServerTls>>,
    mut hangup: Option<Hangup>,
    mut stop: watch::Receiver<bool>,
) {
    let config = &broker.config;
    let mut paths: Vec<PathBuf> = config.access.files().map(Into::into).collect();
    if let Some(tls) = &tls {
        paths.extend(tls.files().map(Into::into));
    }
    let mut watched = Watched::new(paths);
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let why = tokio::select! {
            _ = stop.changed() => return,
            () = next_hangup(&mut hangup) => "SIGHUP",
            _ = tick.tick() => {
                if !watched.changed() {
                    continue;
                }
                "a file changed"
            }
        };
        let mut ok = true;
        match config.access.reload() {
            Ok(()) => {
                for line in config.access.summary() {
                    tracing::info!("reloaded ({why}): {line}");
                }
            }
            Err(e) => {
                ok = false;
                tracing::error!("reload ({why}) refused, the previous policy stays: {e}");
            }
        }
        if let Some(tls) = &tls {
            match tls.reload() {
                Ok(()) => tracing::info!("reloaded ({why}): TLS certificate, key and client CA"),
                Err(e) => {
                    ok = false;
                    tracing::error!(
                        "reload ({why}) refused, the previous TLS certificate and client CA stay: {e}"
                    );
                }
            }
        }
        let counter = if ok {
            &broker.metrics.reloads
        } else {
            &broker.metrics.reload_failures
        };
        Metrics::add(counter, 1);
        // A machine-readable line beside `courtier ready`, for scripts and
        // tests that wait for a reload to be in force.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let outcome = if ok { "ok" } else { "failed" };
            let _ = writeln!(out, "courtier reloaded {outcome} ({why})");
            let _ = out.flush();
        }
        // A signal-driven reload has read the files as they are now.
        watched.changed();
    }
}
