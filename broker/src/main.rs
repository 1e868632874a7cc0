//! The `courtier` binary: parse the configuration, start logging, serve
//! until SIGINT or SIGTERM; or, as `courtier pub` / `courtier sub`, run a
//! command-line client; or, as `courtier passwd`, edit a password file.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use courtier::auth::passwd::PasswdArgs;
use courtier::client::args::ClientCommand;
use courtier::config::Options;
use courtier::server::Server;
use tracing_subscriber::EnvFilter;

/// The broker's flags, or a client subcommand. Broker flags and a
/// subcommand exclude each other, so `courtier [flags]` runs the broker
/// exactly as it would without subcommands.
#[derive(Debug, Parser)]
#[command(
    name = "courtier",
    version,
    about = "Courtier, an MQTT 3.1/3.1.1/5.0 broker (and, as `courtier pub` / `courtier sub`, a client)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(flatten)]
    broker: Options,
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands: the clients, and the password file tool.
#[derive(Debug, Subcommand)]
enum Command {
    /// Boxed: the client's options dwarf the other variant's.
    #[command(flatten)]
    Client(Box<ClientCommand>),
    /// Add, change or delete (-D) a user of a password file, like `mosquitto_passwd`.
    Passwd(PasswdArgs),
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match cli.command {
        Some(Command::Client(command)) => return courtier::client::run(*command),
        Some(Command::Passwd(args)) => {
            return match courtier::auth::passwd::run(args) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("courtier passwd: error: {e}");
                    std::process::ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    let options = cli.broker;
    let config = match options.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("courtier: error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match config.log_format {
        courtier::config::LogFormat::Text => logs.init(),
        courtier::config::LogFormat::Json => logs.json().init(),
    }
    match run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("courtier: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Help and version as clap prints them; a mistake as one line (clap's
/// first, which names the flag and the problem), like every other start-up
/// error, instead of clap's paragraph with a usage block.
fn usage_error(e: &clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    let code = std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return code;
    }
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let what = first.trim().trim_start_matches("error: ");
    eprintln!("courtier: error: {what} (see `courtier --help`)");
    code
}

fn run(config: courtier::config::Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Said once the listeners are bound: a start that fails says one line.
        let policy = config.access.summary();
        let server = Server::bind(config).await?;
        for line in policy {
            tracing::info!("{line}");
        }
        let shutdown = shutdown_signal()?;
        // Machine-readable lines on stdout: test harnesses and scripts learn
        // the real port from them (useful with `--tcp 127.0.0.1:0`).
        let mut stdout = std::io::stdout().lock();
        for (kind, addr) in server.listeners() {
            let kind = kind.name();
            writeln!(stdout, "courtier listening {kind} {addr}")?;
            tracing::info!(%addr, "listening ({kind})");
        }
        writeln!(stdout, "courtier ready")?;
        stdout.flush()?;
        drop(stdout);
        server.run(shutdown).await;
        anyhow::Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM. The handlers are
/// installed here, before the caller announces readiness, so a signal sent
/// right after the "ready" line is never lost (or fatal).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
