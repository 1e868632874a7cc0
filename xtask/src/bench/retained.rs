//! `cargo xtask bench --retained` and `--offline`: what the store holds at scale (issue 7).
//!
//! For each broker: load N messages (`--retained`: a million retained messages of 100 bytes
//! on distinct topics; `--offline`: 100,000 QoS 1 messages of 1 KiB queued for an absent
//! persistent subscriber), read the broker's RSS, restart it and time the start-up
//! (Courtier after `kill -9`: its store must recover on its own; Mosquitto after SIGTERM,
//! the only way it saves its database), read its RSS again, then read every message back
//! (one `maMaison/#` subscription; the subscriber's return). Courtier `--in-memory` has
//! nothing to restart and reads back on the same process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{
    BrokerKind, Built, MOSQUITTO, Options, build, fmt, number, spread, start_courtier,
    start_mosquitto,
};

/// What one run of one broker measured.
#[derive(Debug, Default, Clone)]
struct Figures {
    load_per_sec: f64,
    rss_loaded_mib: f64,
    bytes_per_message: f64,
    restart_secs: Option<f64>,
    rss_restarted_mib: Option<f64>,
    read_per_sec: f64,
    delivered: f64,
    rss_read_mib: f64,
}

/// `cargo xtask bench --retained`.
pub(super) fn run(options: &Options) -> Result<()> {
    let Built {
        courtier,
        loadgen,
        scratch,
    } = build()?;
    let mut brokers = vec![
        BrokerKind::Courtier(courtier.clone()),
        BrokerKind::CourtierInMemory(courtier),
    ];
    if Path::new(MOSQUITTO).is_file() {
        brokers.push(BrokerKind::Mosquitto);
    }
    let plan = if options.offline {
        Plan {
            scenario: "offline",
            messages: options.messages.unwrap_or(100_000),
            payload: "1k",
        }
    } else {
        Plan {
            scenario: "retained",
            messages: options.messages.unwrap_or(1_000_000),
            payload: "100",
        }
    };
    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); brokers.len()];
    for run in 0..options.runs {
        for (b, kind) in brokers.iter().enumerate() {
            match one_run(kind, &loadgen, &scratch, &plan) {
                Ok(figures) => {
                    println!("  run {} {}: {figures:?}", run + 1, kind.name());
                    results[b].push(figures);
                }
                Err(e) => println!("  run {} on {}: FAILED: {e:#}", run + 1, kind.name()),
            }
        }
    }
    print!("{}", table(&brokers, &results, &plan));
    Ok(())
}

/// Which load, how much of it.
struct Plan {
    scenario: &'static str,
    messages: u64,
    payload: &'static str,
}

/// Retain, measure, restart, measure, read back.
fn one_run(kind: &BrokerKind, loadgen: &Path, scratch: &Path, plan: &Plan) -> Result<Figures> {
    let mosquitto_db = scratch.join("mosquitto-db");
    let _ = std::fs::remove_dir_all(&mosquitto_db);
    std::fs::create_dir_all(&mosquitto_db)?;
    let start = |fresh| match kind {
        BrokerKind::Courtier(bin) => start_courtier(bin, scratch, false, fresh),
        BrokerKind::CourtierInMemory(bin) => start_courtier(bin, scratch, true, fresh),
        BrokerKind::Mosquitto => start_mosquitto(scratch, Some(&mosquitto_db)),
    };
    let mut broker = start(true)?;
    let load = phase(loadgen, &broker, kind, "load", plan)?;
    let mut figures = Figures {
        load_per_sec: number(&load, "load_msgs_per_sec").unwrap_or(0.0),
        rss_loaded_mib: number(&load, "rss_after_load_kib").unwrap_or(0.0) / 1024.0,
        bytes_per_message: number(&load, "bytes_per_message").unwrap_or(0.0),
        ..Default::default()
    };
    if !matches!(kind, BrokerKind::CourtierInMemory(_)) {
        match kind {
            // SIGKILL: nothing runs at exit; the store must stand on its own.
            BrokerKind::Courtier(_) => broker.child.kill()?,
            // SIGTERM: Mosquitto writes its database only now.
            _ => {
                Command::new("kill")
                    .args(["-TERM", &broker.child.id().to_string()])
                    .status()?;
            }
        }
        broker.child.wait()?;
        drop(broker);
        let started = Instant::now();
        broker = start(false)?;
        figures.restart_secs = Some(started.elapsed().as_secs_f64());
        figures.rss_restarted_mib = Some(rss_kib(broker.child.id())? as f64 / 1024.0);
    }
    let read = phase(loadgen, &broker, kind, "read", plan)?;
    figures.read_per_sec = number(&read, "read_msgs_per_sec").unwrap_or(0.0);
    figures.delivered = number(&read, "delivered").unwrap_or(0.0);
    figures.rss_read_mib = number(&read, "rss_after_read_kib").unwrap_or(0.0) / 1024.0;
    Ok(figures)
}

/// Runs one phase of the load generator's retained scenario; returns its JSON line.
fn phase(
    loadgen: &Path,
    broker: &super::Broker,
    kind: &BrokerKind,
    phase: &str,
    plan: &Plan,
) -> Result<String> {
    let output = Command::new(loadgen)
        .args(["--addr", &broker.tcp.to_string()])
        .args(["--broker-pid", &broker.child.id().to_string()])
        .args([
            "--label",
            kind.name(),
            "--json",
            "--scenario",
            plan.scenario,
        ])
        .args(["--phase", phase, "--messages", &plan.messages.to_string()])
        .args(["--payload", plan.payload, "--qos", "1"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {}", loadgen.display()))?;
    if !output.status.success() {
        bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// VmRSS of `pid`, KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// Medians (min–max) per broker and figure.
fn table(brokers: &[BrokerKind], results: &[Vec<Figures>], plan: &Plan) -> String {
    type Pick = fn(&Figures) -> Option<f64>;
    let rows: [(&str, Pick); 8] = [
        ("loaded/s (QoS 1)", |f| Some(f.load_per_sec)),
        ("RSS loaded MiB", |f| Some(f.rss_loaded_mib)),
        ("RSS B/message", |f| Some(f.bytes_per_message)),
        ("restart s", |f| f.restart_secs),
        ("RSS restarted MiB", |f| f.rss_restarted_mib),
        ("read back msg/s", |f| Some(f.read_per_sec)),
        ("read back (of all)", |f| Some(f.delivered)),
        ("RSS read back MiB", |f| Some(f.rss_read_mib)),
    ];
    let mut out = format!("\n{}-{}-{}\n", plan.scenario, plan.messages, plan.payload);
    for (label, pick) in rows {
        out.push_str(&format!("  {label:<20}"));
        for (kind, runs) in brokers.iter().zip(results) {
            let mut values: Vec<f64> = runs.iter().filter_map(pick).collect();
            let shown = match spread(&mut values) {
                Some((median, min, max)) if values.len() > 1 => {
                    format!("{} [{}–{}]", fmt(median), fmt(min), fmt(max))
                }
                Some((median, ..)) => fmt(median),
                None => "-".to_owned(),
            };
            out.push_str(&format!("  {:>9} {shown:<24}", kind.name()));
        }
        out.push('\n');
    }
    out
}
