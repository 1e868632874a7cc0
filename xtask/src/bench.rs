//! `cargo xtask bench`: Courtier and Mosquitto side by side under the load generator.
//!
//! Every run starts a fresh broker on free loopback ports, runs one `courtier-loadgen`
//! scenario against it and stops it, so no run inherits another's heap or sessions. The
//! brokers alternate (Courtier, Mosquitto, Courtier, ...) so machine noise from other work on
//! the box hits both alike; each figure is the median of the runs, with min–max beside it.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::shell::{cargo, root, target_dir};

mod retained;

/// Where Debian installs Mosquitto.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Queue and window settings given to both brokers, so neither wins by dropping sooner:
/// 100 QoS 1/2 messages in flight each way per client, 100,000 queued behind them.
const INFLIGHT: &str = "100";
const QUEUED: &str = "100000";

const HELP: &str = "\
cargo xtask bench [--quick] [--scenario NAME]... [--runs N] [--json FILE] [--list]
cargo xtask bench --durable    Courtier with its store against Courtier --in-memory, clients on
                               persistent sessions (pairs and fan-in, QoS 1 and 2)
cargo xtask bench --micro      the criterion micro-benchmarks (`cargo bench --workspace`)
cargo xtask bench --retained [--messages N]
                               N retained messages of 100 B (default 1,000,000): broker RSS,
                               restart time after kill -9 (Mosquitto: after a saving SIGTERM)
                               and read-back rate, Courtier's store against --in-memory and
                               Mosquitto with persistence
cargo xtask bench --offline [--messages N]
                               the same for N QoS 1 messages of 1 KiB (default 100,000) queued
                               for one absent persistent subscriber

  --quick          pairs QoS 1 1 KiB, fan-out QoS 0 16 B, latency QoS 1, 1,000 idle connections
                   (about 2 minutes with 3 runs)
  --scenario NAME  only the cases whose name contains NAME (repeatable), e.g. `pairs-q1`, `ws`
  --runs N         runs per broker and case (default 3, at least 1)
  --json FILE      also write every run's JSON line and the summary lines to FILE
  --list           print the case names and exit
The default matrix (all TCP scenarios x QoS 0/1/2 x 16 B/1 KiB/64 KiB, plus WebSocket cases,
latency and 10,000 idle connections) takes about 12 minutes.
";

/// What the user asked for.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    /// Store against in-memory instead of against Mosquitto.
    durable: bool,
    /// The retained-messages benchmark instead of the scenarios.
    retained: bool,
    /// The offline-queue benchmark instead of the scenarios.
    offline: bool,
    /// Messages of those two, if not their default.
    messages: Option<u64>,
    filters: Vec<String>,
    runs: usize,
    json: Option<PathBuf>,
    list: bool,
}

/// What `cargo xtask bench` was asked to do.
#[derive(Debug)]
enum Mode {
    /// `--micro`: the criterion benches.
    Micro,
    /// `--help`.
    Help,
    /// Brokers under the load generator.
    Compare(Options),
}

/// Parses `cargo xtask bench` arguments.
fn parse(args: &[String]) -> Result<Mode> {
    let mut options = Options {
        runs: 3,
        ..Default::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("`{arg}` needs a value"))
        };
        match arg.as_str() {
            "--micro" => return Ok(Mode::Micro),
            "-h" | "--help" => return Ok(Mode::Help),
            "--quick" => options.quick = true,
            "--durable" => options.durable = true,
            "--retained" => options.retained = true,
            "--offline" => options.offline = true,
            "--messages" => {
                options.messages = Some(value()?.parse().context("--messages takes a number")?);
            }
            "--list" => options.list = true,
            "--scenario" => options.filters.push(value()?.clone()),
            "--runs" => {
                options.runs = value()?.parse().context("--runs takes a number")?;
                if options.runs == 0 {
                    bail!("--runs must be at least 1");
                }
            }
            "--json" => options.json = Some(PathBuf::from(value()?)),
            other => {
                bail!("`cargo xtask bench` does not take `{other}`; see `cargo xtask bench --help`")
            }
        }
    }
    Ok(Mode::Compare(options))
}

/// `cargo xtask bench ...`.
pub(crate) fn run(args: &[String]) -> Result<()> {
    let options = match parse(args)? {
        Mode::Micro => return cargo(&["bench", "--workspace"]).status(),
        Mode::Help => {
            print!("{HELP}");
            return Ok(());
        }
        Mode::Compare(options) => options,
    };
    if options.retained || options.offline {
        return retained::run(&options);
    }
    let cases: Vec<Case> = if options.durable {
        durable_cases()
    } else if options.quick {
        quick_cases()
    } else {
        default_cases()
    }
    .into_iter()
    .filter(|c| {
        options.filters.is_empty() || options.filters.iter().any(|f| c.name.contains(f.as_str()))
    })
    .collect();
    if options.list {
        cases.iter().for_each(|c| println!("{}", c.name));
        return Ok(());
    }
    if cases.is_empty() {
        bail!(
            "no case matches {:?}; `cargo xtask bench --list` shows them",
            options.filters
        );
    }
    let Built {
        courtier,
        loadgen,
        scratch,
    } = build()?;
    let mut brokers = vec![BrokerKind::Courtier(courtier.clone())];
    if options.durable {
        brokers.push(BrokerKind::CourtierInMemory(courtier));
    } else if Path::new(MOSQUITTO).is_file() {
        brokers.push(BrokerKind::Mosquitto);
    } else {
        println!(
            "{MOSQUITTO} is not installed: Courtier only, no ratios (`cargo xtask setup` installs it)"
        );
    }

    let mut lines = Vec::new();
    let mut summaries = Vec::new();
    let started = Instant::now();
    for case in &cases {
        let mut results: Vec<Vec<String>> = vec![Vec::new(); brokers.len()];
        for run in 0..options.runs {
            for (b, kind) in brokers.iter().enumerate() {
                match one_run(kind, &loadgen, case, &scratch) {
                    Ok(line) => {
                        results[b].push(line.clone());
                        lines.push(line);
                    }
                    Err(error) => println!(
                        "  {} run {} on {}: FAILED: {error:#}",
                        case.name,
                        run + 1,
                        kind.name()
                    ),
                }
            }
        }
        let summary = summarise(case, &brokers, &results);
        print!("{}", summary.table);
        summaries.extend(summary.json);
    }
    println!(
        "\n{} cases x {} runs x {} brokers in {:.0} s",
        cases.len(),
        options.runs,
        brokers.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &options.json {
        let mut text = lines.join("\n");
        text.push('\n');
        text.push_str(&summaries.join("\n"));
        text.push('\n');
        std::fs::write(path, text)
            .with_context(|| format!("could not write {}", path.display()))?;
        println!("JSON lines written to {}", path.display());
    }
    Ok(())
}

/// The release binaries and the scratch directory every run uses.
struct Built {
    courtier: PathBuf,
    loadgen: PathBuf,
    scratch: PathBuf,
}

/// Builds the broker and the load generator in release mode.
fn build() -> Result<Built> {
    cargo(&[
        "build",
        "--release",
        "-p",
        "courtier",
        "-p",
        "courtier-loadgen",
    ])
    .status()
    .context("the broker and load generator did not build")?;
    let release = target_dir().join("release");
    let scratch = target_dir().join("bench-tmp");
    std::fs::create_dir_all(&scratch)?;
    Ok(Built {
        courtier: release.join("courtier"),
        loadgen: release.join("courtier-loadgen"),
        scratch,
    })
}

/// One benchmark case: a name and the load generator's arguments.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// Arguments after `--addr` (which the harness adds for the right transport).
    args: Vec<String>,
    ws: bool,
}

impl Case {
    fn messages(scenario: &str, qos: u8, payload: &str, ws: bool, duration: &str) -> Self {
        let mut args = vec![
            "--scenario",
            scenario,
            "--qos",
            &qos.to_string(),
            "--payload",
            payload,
            "--duration",
            duration,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
        // QoS 0 has no flow control: without a cap a publisher can queue more in the broker
        // than it delivers in minutes. The cap makes both brokers do the same work.
        if let Some(cap) = qos0_cap(scenario, qos, payload) {
            args.extend(["--messages".to_owned(), cap.to_string()]);
        }
        args.extend(["--drain".to_owned(), "5".to_owned()]);
        let transport = if ws { "ws" } else { "tcp" };
        Self {
            name: format!("{scenario}-q{qos}-{payload}-{transport}"),
            args,
            ws,
        }
    }

    fn idle(connections: u32, ws: bool) -> Self {
        let transport = if ws { "ws" } else { "tcp" };
        Self {
            name: format!("idle-{connections}-{transport}"),
            args: vec![
                "--scenario".into(),
                "idle".into(),
                "--connections".into(),
                connections.to_string(),
            ],
            ws,
        }
    }
}

/// Messages per publisher at QoS 0, sized so a run delivers a comparable volume.
fn qos0_cap(scenario: &str, qos: u8, payload: &str) -> Option<u64> {
    if qos != 0 || scenario == "latency" {
        return None;
    }
    let per_publisher = match (scenario, payload) {
        ("fan-out", "16") => 20_000,
        ("fan-out", "1k") => 5_000,
        ("fan-out", _) => 200,
        (_, "16") => 100_000,
        (_, "1k") => 50_000,
        (_, "16k") => 10_000,
        _ => 2_000,
    };
    Some(per_publisher)
}

/// Persistent sessions under QoS 1 and 2: what durability costs.
fn durable_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (scenario, payload) in [("pairs", "1k"), ("fan-in", "16")] {
        for qos in [1, 2] {
            let mut case = Case::messages(scenario, qos, payload, false, "3");
            case.name.push_str("-persistent");
            case.args.push("--persistent".to_owned());
            cases.push(case);
        }
    }
    cases
}

fn quick_cases() -> Vec<Case> {
    vec![
        Case::messages("pairs", 1, "1k", false, "3"),
        Case::messages("fan-out", 0, "16", false, "3"),
        Case::messages("latency", 1, "16", false, "3"),
        Case::idle(1000, false),
    ]
}

fn default_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for scenario in ["pairs", "fan-out", "fan-in"] {
        for qos in 0..=2 {
            for payload in ["16", "1k", "64k"] {
                cases.push(Case::messages(scenario, qos, payload, false, "2"));
            }
        }
    }
    for qos in 0..=2 {
        cases.push(Case::messages("pairs", qos, "1k", true, "2"));
    }
    // The WebSocket-versus-TCP target is stated for 16 KiB messages.
    cases.push(Case::messages("pairs", 0, "16k", false, "2"));
    cases.push(Case::messages("pairs", 0, "16k", true, "2"));
    for qos in 0..=2 {
        cases.push(Case::messages("latency", qos, "16", false, "3"));
    }
    cases.push(Case::messages("latency", 1, "16", true, "3"));
    cases.push(Case::idle(10_000, false));
    cases.push(Case::idle(1_000, true));
    cases
}

/// The brokers compared.
#[derive(Debug, Clone)]
enum BrokerKind {
    /// Courtier with its store in a fresh data directory.
    Courtier(PathBuf),
    /// Courtier with `--in-memory`.
    CourtierInMemory(PathBuf),
    Mosquitto,
}

impl BrokerKind {
    fn name(&self) -> &'static str {
        match self {
            Self::Courtier(_) => "courtier",
            Self::CourtierInMemory(_) => "in-memory",
            Self::Mosquitto => "mosquitto",
        }
    }
}

/// A broker child process with its listeners; killed on drop.
struct Broker {
    child: Child,
    tcp: SocketAddr,
    ws: SocketAddr,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command run through `sh` with the soft open-files limit raised to the hard one first
/// (10,000 idle connections need that many descriptors); `exec` keeps the broker's PID.
fn with_raised_fd_limit(program: &Path, args: &[String]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n \"$(ulimit -Hn)\" 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(program)
        .args(args)
        .current_dir(root());
    command
}

fn start(kind: &BrokerKind, scratch: &Path) -> Result<Broker> {
    match kind {
        BrokerKind::Courtier(binary) => start_courtier(binary, scratch, false, true),
        BrokerKind::CourtierInMemory(binary) => start_courtier(binary, scratch, true, true),
        BrokerKind::Mosquitto => start_mosquitto(scratch, None),
    }
}

/// Courtier on port 0, its addresses read from the `courtier listening ...` lines; with
/// `fresh`, on an empty data directory, else on what the last run left.
fn start_courtier(binary: &Path, scratch: &Path, in_memory: bool, fresh: bool) -> Result<Broker> {
    let data = scratch.join("courtier-data");
    if fresh {
        let _ = std::fs::remove_dir_all(&data);
    }
    let store = if in_memory {
        vec!["--in-memory".to_owned()]
    } else {
        vec!["--data-dir".to_owned(), data.to_string_lossy().into_owned()]
    };
    let args: Vec<String> = [
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--sys-interval",
        "0",
        "--max-inflight",
        INFLIGHT,
        "--receive-maximum",
        INFLIGHT,
        "--max-queued-messages",
        QUEUED,
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(store)
    .collect();
    let mut child = with_raised_fd_limit(binary, &args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("could not start {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (mut tcp, mut ws) = (None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let addr = || {
            line.rsplit(' ')
                .next()
                .and_then(|a| a.parse::<SocketAddr>().ok())
        };
        if line.starts_with("courtier listening tcp") {
            tcp = addr();
        } else if line.starts_with("courtier listening http") {
            ws = addr();
        } else if line == "courtier ready" {
            break;
        }
    }
    match (tcp, ws) {
        (Some(tcp), Some(ws)) => Ok(Broker { child, tcp, ws }),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("courtier exited before printing its listeners")
        }
    }
}

/// Mosquitto with TCP_NODELAY, the same queues as Courtier, no connection limit, no `$SYS`;
/// with `persistence`, saving its database in that directory at shutdown.
fn start_mosquitto(scratch: &Path, persistence: Option<&Path>) -> Result<Broker> {
    let (tcp, ws) = (free_port()?, free_port()?);
    let config = scratch.join("mosquitto.conf");
    std::fs::write(&config, mosquitto_config(tcp, ws, persistence))?;
    let child = with_raised_fd_limit(
        Path::new(MOSQUITTO),
        &["-c".to_owned(), config.to_string_lossy().into_owned()],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .context("could not start mosquitto")?;
    let broker = Broker { child, tcp, ws };
    // Mosquitto prints nothing when ready: wait until both listeners accept (after loading
    // its database, which can take a while).
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(tcp).is_err() || TcpStream::connect(ws).is_err() {
        if Instant::now() > deadline {
            bail!("mosquitto did not listen on {tcp} and {ws} within 120 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(broker)
}

fn mosquitto_config(tcp: SocketAddr, ws: SocketAddr, persistence: Option<&Path>) -> String {
    let persistence = match persistence {
        // `user root`: started as root, Mosquitto would otherwise switch to its own user,
        // which cannot write the database into our scratch directory.
        Some(dir) => format!(
            "persistence true\npersistence_location {}/\nautosave_interval 0\nuser root\n",
            dir.display()
        ),
        None => "persistence false\n".to_owned(),
    };
    format!(
        "per_listener_settings false\n\
         allow_anonymous true\n\
         set_tcp_nodelay true\n\
         max_inflight_messages {INFLIGHT}\n\
         max_queued_messages {QUEUED}\n\
         max_connections -1\n\
         sys_interval 0\n\
         {persistence}\
         log_dest none\n\
         listener {} 127.0.0.1\n\
         listener {} 127.0.0.1\n\
         protocol websockets\n",
        tcp.port(),
        ws.port()
    )
}

/// A loopback port free right now (the broker binds it a moment later).
fn free_port() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Starts `kind`, runs `case` against it, and returns the generator's JSON line.
fn one_run(kind: &BrokerKind, loadgen: &Path, case: &Case, scratch: &Path) -> Result<String> {
    let broker = start(kind, scratch)?;
    let addr = if case.ws { broker.ws } else { broker.tcp };
    let mut args = vec![
        "--addr".to_owned(),
        addr.to_string(),
        "--transport".to_owned(),
        if case.ws { "ws" } else { "tcp" }.to_owned(),
        "--broker-pid".to_owned(),
        broker.child.id().to_string(),
        "--label".to_owned(),
        kind.name().to_owned(),
        "--json".to_owned(),
    ];
    args.extend(case.args.iter().cloned());
    let output = Command::new(loadgen)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {}", loadgen.display()))?;
    drop(broker);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("{}", stderr.trim());
    }
    let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !line.starts_with('{') {
        bail!("no JSON line from the load generator");
    }
    Ok(line)
}

/// Reads the number stored under `key` in a flat JSON object line (the generator writes one
/// object of strings, numbers and nulls, so a full JSON parser would add nothing).
fn number(line: &str, key: &str) -> Option<f64> {
    let needle = format!("\"{key}\":");
    let start = line.find(&needle)? + needle.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Median, min and max of `values`; `None` when empty.
fn spread(values: &mut [f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some((median, values[0], values[n - 1]))
}

/// A case's summary, for the terminal and the JSON file.
struct Summary {
    table: String,
    json: Vec<String>,
}

/// The metrics worth a row, with their unit and whether the worst run matters more than the
/// median (losses and stalls are reported at their maximum).
const MESSAGE_METRICS: [(&str, &str, bool); 6] = [
    ("msgs_per_sec", "msg/s", false),
    ("cpu_us_per_msg", "broker CPU µs/msg", false),
    ("p99_us", "p99 µs", false),
    ("lost", "lost (max)", true),
    ("duplicated", "duplicated (max)", true),
    ("max_gap_ms", "longest gap ms (max)", true),
];
const IDLE_METRICS: [(&str, &str, bool); 3] = [
    ("rss_per_conn_kib", "RSS KiB/conn", false),
    ("connects_per_sec", "connects/s", false),
    ("cpu_us_per_msg", "broker CPU µs/conn", false),
];

fn summarise(case: &Case, brokers: &[BrokerKind], results: &[Vec<String>]) -> Summary {
    let metrics: &[(&str, &str, bool)] = if case.name.starts_with("idle") {
        &IDLE_METRICS
    } else {
        &MESSAGE_METRICS
    };
    let mut table = format!(
        "\n{}  ({} runs each)\n",
        case.name,
        results.iter().map(Vec::len).min().unwrap_or(0)
    );
    let mut json = Vec::new();
    for (key, label, worst) in metrics {
        let stats: Vec<Option<(f64, f64, f64)>> = results
            .iter()
            .map(|lines| {
                spread(
                    &mut lines
                        .iter()
                        .filter_map(|l| number(l, key))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let _ = write!(table, "  {label:<22}");
        for (kind, stat) in brokers.iter().zip(&stats) {
            let shown = match stat {
                Some((_, _, max)) if *worst => fmt(*max),
                Some((median, min, max)) => {
                    format!("{} [{}–{}]", fmt(*median), fmt(*min), fmt(*max))
                }
                None => "-".to_owned(),
            };
            let _ = write!(table, "  {:>9} {shown:<28}", kind.name());
        }
        let ratio = match (stats.first(), stats.get(1)) {
            (Some(Some((c, ..))), Some(Some((m, ..)))) if !worst && *m != 0.0 => Some(c / m),
            _ => None,
        };
        if let Some(ratio) = ratio {
            let _ = write!(
                table,
                "  {}/{} {ratio:.2}",
                initial(&brokers[0]),
                initial(&brokers[1])
            );
        }
        table.push('\n');
        let medians: Vec<String> = brokers
            .iter()
            .zip(&stats)
            .filter_map(|(kind, stat)| {
                stat.map(|(median, min, max)| {
                    format!(
                        "\"{}\":{{\"median\":{median},\"min\":{min},\"max\":{max}}}",
                        kind.name()
                    )
                })
            })
            .collect();
        let ratio = ratio.map_or("null".to_owned(), |r| r.to_string());
        json.push(format!(
            "{{\"summary\":\"{}\",\"metric\":\"{key}\",{},\"ratio\":{ratio}}}",
            case.name,
            medians.join(",")
        ));
    }
    Summary { table, json }
}

/// One letter for a broker in the ratio column (C/M: Courtier over Mosquitto, C/I:
/// Courtier's store over in-memory).
fn initial(kind: &BrokerKind) -> char {
    kind.name()
        .chars()
        .next()
        .map_or('?', |c| c.to_ascii_uppercase())
}

/// A figure with precision that suits its size.
fn fmt(value: f64) -> String {
    match value.abs() {
        v if v >= 1000.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_a_flat_json_line() {
        let line =
            r#"{"broker":"courtier","seconds":2.5,"broker_cpu_ms":null,"lost":0,"p99_us":123.0}"#;
        assert_eq!(number(line, "seconds"), Some(2.5));
        assert_eq!(number(line, "lost"), Some(0.0));
        assert_eq!(number(line, "p99_us"), Some(123.0));
        assert_eq!(number(line, "broker_cpu_ms"), None);
        assert_eq!(number(line, "absent"), None);
    }

    #[test]
    fn spread_is_median_min_max() {
        assert_eq!(spread(&mut [3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(spread(&mut [4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(spread(&mut []), None);
    }

    #[test]
    fn case_names_are_unique_and_the_quick_set_is_small() {
        let cases = default_cases();
        let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len());
        assert_eq!(quick_cases().len(), 4);
        assert!(names.contains(&"pairs-q1-1k-tcp") && names.contains(&"idle-10000-tcp"));
    }

    #[test]
    fn durable_cases_use_persistent_sessions() {
        let cases = durable_cases();
        assert_eq!(cases.len(), 4);
        for case in &cases {
            assert!(case.name.ends_with("-persistent"), "{}", case.name);
            assert!(case.args.iter().any(|a| a == "--persistent"));
            assert!(!case.name.contains("-q0-"), "{}", case.name);
        }
        let durable = parse(&["--durable".to_owned()]).unwrap();
        assert!(matches!(
            durable,
            Mode::Compare(Options { durable: true, .. })
        ));
    }

    #[test]
    fn arguments_parse() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let Mode::Compare(o) =
            parse(&args(&["--quick", "--runs", "5", "--scenario", "pairs"])).unwrap()
        else {
            panic!("not a comparison");
        };
        assert!(o.quick && o.runs == 5 && o.filters == ["pairs"]);
        assert!(matches!(parse(&args(&["--micro"])).unwrap(), Mode::Micro));
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--bogus"])).is_err());
    }
}
