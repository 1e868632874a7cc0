//! `courtier-loadgen`: raw MQTT load against any broker on loopback, one scenario per run,
//! with the broker's CPU and memory read from `/proc`.
//!
//! # Layout
//! - `conn`: one client over TCP or WebSocket: CONNECT, SUBSCRIBE, reading and writing.
//! - `ws`: the WebSocket client: handshake, masked frames out, payloads read in place.
//! - `publish`: the pre-encoded PUBLISH template and the publisher task (QoS 1/2 window).
//! - `subscribe`: the subscriber task: acknowledgements, sequence and latency accounting.
//! - `scenario`: fan-in, fan-out, pairs and latency: shapes and one run end to end.
//! - `idle`: N idle connections: connect rate and broker RSS per connection.
//! - `retained`: N retained messages loaded and read back: broker RSS per message.
//! - `offline`: N messages queued for an absent persistent subscriber, then read by it.
//! - `phases`: what those two share: load, then read back, RSS after each.
//! - `stats`: loss/duplicate tracking and percentiles (pure, unit-tested).
//! - `procfs`: `/proc/PID/stat` CPU time and `/proc/PID/status` VmRSS (pure parsing).
//! - `report`: the JSON line and the human summary.
//!
//! Errors are `anyhow` throughout: this is a measuring tool whose every failure ends the run
//! with one line, not a library with callers that branch on error kinds.

mod conn;
mod idle;
mod offline;
mod phases;
mod procfs;
mod publish;
mod report;
mod retained;
mod scenario;
mod stats;
mod subscribe;
mod ws;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use clap::Parser;
use courtier_proto::{ProtocolVersion, QoS};
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use crate::conn::{Target, Transport};
use crate::procfs::Process;
use crate::report::Report;
use crate::scenario::{MessageRun, Scenario};

/// Command line of one run.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Raw MQTT load generator for side-by-side broker benchmarks"
)]
struct Args {
    /// Broker address (loopback only): the TCP listener, or the HTTP listener for `--transport ws`.
    #[arg(long)]
    addr: SocketAddr,
    /// Wire to use.
    #[arg(long, value_enum, default_value = "tcp")]
    transport: Transport,
    /// HTTP path of the WebSocket endpoint.
    #[arg(long, default_value = "/mqtt")]
    ws_path: String,
    /// What to run.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// QoS 0, 1 or 2.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
    qos: u8,
    /// Payload size: bytes, or with a `k` suffix KiB (`16`, `1k`, `64k`); at least 16.
    #[arg(long, default_value = "16", value_parser = parse_size)]
    payload: usize,
    /// MQTT protocol level: 4 (3.1.1) or 5.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(4..=5))]
    mqtt: u8,
    /// Seconds the publishers send.
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    /// At most this many messages per publisher.
    #[arg(long, default_value_t = u64::from(u32::MAX))]
    messages: u64,
    /// Unacknowledged QoS 1/2 messages per publisher (capped by a 5.0 broker's Receive Maximum).
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// Subscribers in fan-out.
    #[arg(long, default_value_t = 100)]
    fanout: usize,
    /// Messages per second in the latency scenario.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Connections in the idle scenario.
    #[arg(long, default_value_t = 10_000)]
    connections: u64,
    /// Connection handshakes in progress at once in the idle scenario: enough to keep the
    /// broker's accept loop busy, few enough to stay under its listen backlog (Mosquitto's is
    /// 100; a dropped SYN costs a 1 s retransmission and ruins the connect rate).
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Seconds a subscriber waits for stragglers once publishers are done.
    #[arg(long, default_value_t = 1.0)]
    quiet: f64,
    /// Seconds at most that subscribers keep draining a backlog once publishers are done;
    /// what has not arrived by then counts as lost.
    #[arg(long, default_value_t = 10.0)]
    drain: f64,
    /// The broker's PID, for its CPU time and RSS.
    #[arg(long)]
    broker_pid: Option<u32>,
    /// The broker's name in the report.
    #[arg(long, default_value = "broker")]
    label: String,
    /// Runtime worker threads; 1 is a current-thread runtime, which leaves the other core to
    /// the broker on a 2-core machine.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Which part of the retained scenario to run.
    #[arg(long, value_enum, default_value = "both")]
    phase: phases::Phase,
    /// Persistent sessions for every client, so QoS 1/2 deliveries must be stored durably.
    #[arg(long)]
    persistent: bool,
    /// Print only the JSON line (for the harness) instead of the human summary.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string(&report) {
                    Ok(line) => println!("{line}"),
                    Err(e) => eprintln!("courtier-loadgen: {e}"),
                }
            } else {
                print!("{}", report.human());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("courtier-loadgen: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<Report> {
    if !args.addr.ip().is_loopback() {
        bail!(
            "{} is not a loopback address: this tool only loads local brokers",
            args.addr
        );
    }
    raise_open_files_limit()?;
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let target = Target {
        persistent: args.persistent,
        addr: args.addr,
        transport: args.transport,
        ws_path: args.ws_path.clone(),
        version: if args.mqtt == 5 {
            ProtocolVersion::V5
        } else {
            ProtocolVersion::V3_1_1
        },
    };
    let qos = QoS::from_bits(args.qos).unwrap_or_default();
    let broker = args.broker_pid.map(|pid| Process::new(Some(pid)));
    // Unique per run, so a broker reused across runs never mixes their topics or sessions.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let run_id = format!("lg{}x{:x}", std::process::id(), nanos % 0xFFFF_FFFF);
    let mut report = Report {
        broker: args.label.clone(),
        scenario: args.scenario,
        transport: args.transport,
        mqtt: args.mqtt,
        qos: args.qos,
        payload: args.payload,
        publishers: 0,
        subscribers: 0,
        seconds: 0.0,
        broker_cpu_ms: None,
        cpu_us_per_msg: None,
        loadgen_cpu_ms: 0.0,
        messages: None,
        idle: None,
        retained: None,
    };
    runtime.block_on(async {
        // The store scenarios' default count, not the message scenarios' cap.
        let stored = |default| {
            if args.messages == u64::from(u32::MAX) {
                default
            } else {
                args.messages
            }
        };
        if args.scenario == Scenario::Offline {
            offline::run(
                &target,
                stored(100_000),
                args.payload,
                args.phase,
                broker.as_ref(),
                &mut report,
            )
            .await
        } else if args.scenario == Scenario::Retained {
            // One million by default: issue 7's figure.
            let count = stored(1_000_000);
            retained::run(
                &target,
                count,
                args.payload,
                qos,
                args.phase,
                broker.as_ref(),
                &mut report,
            )
            .await
        } else if args.scenario == Scenario::Idle {
            idle::run(
                &target,
                args.connections,
                args.connect_concurrency,
                &run_id,
                broker.as_ref(),
                &mut report,
            )
            .await
        } else {
            let plan = MessageRun {
                target,
                scenario: args.scenario,
                qos,
                payload: args.payload,
                duration: Duration::from_secs_f64(args.duration),
                max_messages: args.messages,
                window: args.window,
                fanout: args.fanout,
                rate: args.rate,
                quiet: Duration::from_secs_f64(args.quiet),
                drain: Duration::from_secs_f64(args.drain),
                run_id,
            };
            scenario::run(&plan, broker.as_ref(), &mut report).await
        }
    })?;
    Ok(report)
}

/// Raises the soft open-files limit to the hard one: 10,000 idle connections need 10,000
/// descriptors, above the usual soft default of 1,024.
fn raise_open_files_limit() -> Result<()> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    Ok(())
}

/// `16`, `1k`, `1KiB`, `64k` → bytes.
fn parse_size(text: &str) -> Result<usize, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, factor) = match lower
        .strip_suffix("kib")
        .or_else(|| lower.strip_suffix('k'))
    {
        Some(digits) => (digits, 1024),
        None => (lower.strip_suffix('b').unwrap_or(&lower), 1),
    };
    let value: usize = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 16, 1k or 64KiB"))?;
    let bytes = value * factor;
    if bytes < publish::STAMP_LEN {
        return Err(format!(
            "payloads need at least {} bytes",
            publish::STAMP_LEN
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_and_without_units() {
        assert_eq!(parse_size("16"), Ok(16));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("20B"), Ok(20));
        assert!(parse_size("8").is_err());
        assert!(parse_size("lots").is_err());
    }
}
