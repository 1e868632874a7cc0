//! The two-phase store scenarios (`retained`, `offline`): load messages into the broker, then
//! read them back, with the broker's RSS after each phase. The phases can run apart
//! (`--phase load`, then `--phase read`) so the harness can restart the broker in between.

use anyhow::Result;
use tokio::time::Instant;

use crate::procfs::Process;
use crate::report::{Report, RetainedFigures};

/// Which part of a store scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Phase {
    /// Load the messages.
    Load,
    /// Read them back and count what arrives.
    Read,
    /// Both, on the same broker.
    Both,
}

/// Runs `phase`: `load` puts `count` messages of `payload` bytes in the broker, `read` reads
/// them back and returns how many arrived.
pub(crate) async fn run(
    count: u64,
    payload: usize,
    phase: Phase,
    broker: Option<&Process>,
    report: &mut Report,
    load: impl AsyncFnOnce() -> Result<()>,
    read: impl AsyncFnOnce() -> Result<u64>,
) -> Result<()> {
    let rss = || broker.map(Process::rss_kib).transpose();
    let mut figures = RetainedFigures {
        messages: count,
        rss_before_kib: rss()?,
        ..Default::default()
    };
    let own = Process::new(None);
    let own_before = own.cpu()?;
    if phase != Phase::Read {
        let started = Instant::now();
        load().await?;
        figures.load_secs = started.elapsed().as_secs_f64();
        figures.load_msgs_per_sec = count as f64 / figures.load_secs.max(1e-9);
        figures.rss_after_load_kib = rss()?;
        report.publishers = 1;
        figures.bytes_per_message = match (figures.rss_before_kib, figures.rss_after_load_kib) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 * 1024.0 / count.max(1) as f64),
            _ => None,
        };
    }
    if phase != Phase::Load {
        let started = Instant::now();
        figures.delivered = read().await?;
        figures.read_secs = started.elapsed().as_secs_f64();
        figures.read_msgs_per_sec = figures.delivered as f64 / figures.read_secs.max(1e-9);
        figures.rss_after_read_kib = rss()?;
        report.subscribers = 1;
    }
    report.seconds = figures.load_secs + figures.read_secs;
    report.payload = payload;
    report.loadgen_cpu_ms = own.cpu()?.saturating_sub(own_before).as_secs_f64() * 1e3;
    report.retained = Some(figures);
    Ok(())
}
