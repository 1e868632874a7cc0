//! The `courtier` binary: parse the configuration, start logging, serve
//! until SIGINT or SIGTERM.

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use courtier::config::Options;
use courtier::server::Server;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    let config = match options.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("courtier: error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("courtier: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(config: courtier::config::Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        // Machine-readable lines on stdout: test harnesses and scripts learn
        // the real port from them (useful with `--tcp 127.0.0.1:0`).
        let mut stdout = std::io::stdout().lock();
        for addr in server.local_addrs() {
            writeln!(stdout, "courtier listening tcp {addr}")?;
            tracing::info!(%addr, "listening for MQTT over TCP");
        }
        for addr in server.http_addrs() {
            writeln!(stdout, "courtier listening http {addr}")?;
            tracing::info!(%addr, "listening for HTTP (MQTT over WebSocket at /mqtt, web app at /)");
        }
        writeln!(stdout, "courtier ready")?;
        stdout.flush()?;
        drop(stdout);
        server.run(shutdown_signal()).await;
        anyhow::Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
