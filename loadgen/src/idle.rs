//! The idle-connections scenario: open N connections as fast as the broker accepts them,
//! and measure the broker's memory per connection.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::conn::{Client, Target};
use crate::procfs::Process;
use crate::report::{IdleFigures, Report};

/// Opens `connections` clients, reads the broker's RSS with all of them open, then closes
/// them.
pub(crate) async fn run(
    target: &Target,
    connections: u64,
    concurrency: usize,
    run_id: &str,
    broker: Option<&Process>,
    report: &mut Report,
) -> Result<()> {
    let own = Process::new(None);
    let rss_before = broker.map(Process::rss_kib).transpose()?;
    let (cpu_before, own_before) = (broker.map(Process::cpu).transpose()?, own.cpu()?);
    let started = Instant::now();
    let mut open = Vec::with_capacity(connections as usize);
    let mut pending = JoinSet::new();
    let mut next = 0;
    while next < connections || !pending.is_empty() {
        while next < connections && pending.len() < concurrency.max(1) {
            let (target, id) = (target.clone(), format!("{run_id}-i{next}"));
            pending.spawn(async move { Client::connect(&target, &id).await });
            next += 1;
        }
        if let Some(joined) = pending.join_next().await {
            let (client, _) =
                joined?.with_context(|| format!("after {} connections", open.len()))?;
            open.push(client);
        }
    }
    let connect_time = started.elapsed();
    let rss_after = broker.map(Process::rss_kib).transpose()?;
    let cpu_after = broker.map(Process::cpu).transpose()?;
    report.seconds = connect_time.as_secs_f64();
    report.subscribers = open.len();
    report.loadgen_cpu_ms = own.cpu()?.saturating_sub(own_before).as_secs_f64() * 1e3;
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        let cpu: Duration = after.saturating_sub(before);
        report.broker_cpu_ms = Some(cpu.as_secs_f64() * 1e3);
        report.cpu_us_per_msg = Some(cpu.as_secs_f64() * 1e6 / connections.max(1) as f64);
    }
    let per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / connections.max(1) as f64),
        _ => None,
    };
    report.idle = Some(IdleFigures {
        connections: open.len() as u64,
        connect_secs: connect_time.as_secs_f64(),
        connects_per_sec: open.len() as f64 / connect_time.as_secs_f64().max(1e-9),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        rss_per_conn_kib: per_conn,
    });
    drop(open);
    Ok(())
}
