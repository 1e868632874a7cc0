//! `cargo xtask`: the developer commands that cargo alone cannot express.
//!
//! # Layout
//! - `setup`: installs the toolchain pieces idempotently (each checked by version first).
//! - `test`: everything CI runs, in order, with a timing summary.
//! - `run`: builds the web app and the broker, then becomes the broker.
//! - `bench`: the side-by-side broker benchmark (and the criterion benches with `--micro`).
//! - `dist`: the release web build into `dist/`, the client package into `dist/client/`, sizes.
//! - `shell`: running commands, finding programs, timing steps.
//!
//! Every failure ends in one line saying what could not be done and why.

mod bench;
mod dist;
mod run;
mod setup;
mod shell;
mod test;

use std::process::ExitCode;

use anyhow::{Result, bail};

const HELP: &str = "\
cargo xtask <command> [args]

  setup   install what is missing, checking each tool's version first (seconds when present):
          rustup target wasm32-unknown-unknown, rustfmt and clippy, trunk 0.21.14,
          wasm-bindgen-cli at the version in Cargo.lock, wasm-opt (npm binaryen@132.0.0),
          Debian mosquitto, mosquitto-clients, chromium, chromium-driver, Python paho-mqtt 2.x,
          npm mqtt (mqtt.js) in tests/node/, then `cargo fetch --locked`
  test    setup, then fmt check, clippy (host and wasm32), the wasm32 codec build, the release web
          build, host tests (unit, integration, end-to-end) and the browser tests in headless
          Chromium; stops at the first failure and prints timings per step
          (`--keep-going`: run every step after setup, fail at the end if any failed)
  run     setup (build tools only), build the web app and the broker in release, then run
          `courtier --tcp 127.0.0.1:1883 --http 127.0.0.1:8080 --web-root dist`;
          arguments after `--` are passed on to courtier
  dist    build the web app into dist/ (release, wasm-opt -Oz), the embeddable client package
          into dist/client/ (npm package courtier-client), copy examples/ into dist/examples/,
          and print the wasm sizes
  bench   Courtier and Mosquitto side by side under courtier-loadgen, runs interleaved, medians
          with min-max and ratios (`--quick`: ~2 min; default matrix ~12 min; `--scenario NAME`,
          `--runs N`, `--json FILE`, `--list`); `--micro`: `cargo bench --workspace` (criterion)
  fmt     `cargo fmt --all`
  lint    the host and wasm32 clippy runs of `test`, with -D warnings
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` keeps the context chain on one line: "what: why".
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<()> {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    match (command, rest) {
        ("run", []) => run::broker(&[]),
        ("run", [dashes, passthrough @ ..]) if dashes == "--" => run::broker(passthrough),
        ("test", []) => test::all(false),
        ("test", [flag]) if flag == "--keep-going" => test::all(true),
        ("bench", rest) => bench::run(rest),
        (_, [extra, ..]) => {
            bail!("`cargo xtask {command}` does not take `{extra}`; see `cargo xtask help`")
        }
        ("setup", []) => setup::ensure(setup::Purpose::Test),
        ("dist", []) => setup::ensure(setup::Purpose::Build).and_then(|()| dist::web().map(drop)),
        ("fmt", []) => shell::cargo(&["fmt", "--all"]).status(),
        ("lint", []) => test::lint(),
        ("help" | "-h" | "--help", []) => {
            print!("{HELP}");
            Ok(())
        }
        (other, []) => bail!("unknown command `{other}`; `cargo xtask help` lists them"),
    }
}
