//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure (or, with
//! `--keep-going`, running every step), with a timing line per step at the end. `cargo xtask lint` is the two clippy steps alone.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use crate::dist;
use crate::setup::{self, Purpose};
use crate::shell::{Timings, cargo, root, target_dir, which};

const WASM: &str = "wasm32-unknown-unknown";

/// A step of `test`: its name in the log and the work it does.
type Step = (&'static str, fn() -> Result<()>);

const STEPS: [Step; 7] = [
    ("fmt check", || cargo(&["fmt", "--all", "--check"]).status()),
    ("clippy (host)", clippy_host),
    ("clippy (wasm32)", clippy_wasm),
    ("codec build (wasm32)", codec_wasm_build),
    ("web release build (trunk)", || dist::web().map(drop)),
    ("host tests", host_tests),
    (BROWSER_TESTS, browser_tests),
];

const BROWSER_TESTS: &str = "browser tests (wasm32, headless Chromium)";

/// Runs setup, then every step, stopping at the first failure unless `keep_going`, in which case
/// every step runs and the first failure is returned at the end. The summary prints either way.
pub(crate) fn all(keep_going: bool) -> Result<()> {
    let mut timings = Timings::default();
    // Without the tools no later step means anything, so a setup failure always stops here.
    let mut first_failure = timings.step("setup", || setup::ensure(Purpose::Test)).err();
    if first_failure.is_none() {
        let browser_tests_exist = has_browser_tests()?;
        for (name, work) in STEPS {
            if name == BROWSER_TESTS && !browser_tests_exist {
                println!("\n==> {name}: skipped, courtier-web has no wasm_bindgen_test");
                continue;
            }
            if let Err(error) = timings.step(name, work) {
                first_failure.get_or_insert(error);
                if !keep_going {
                    break;
                }
            }
        }
    }
    timings.summary(match first_failure {
        None => "cargo xtask test: all steps passed",
        Some(_) => "cargo xtask test: FAILED",
    });
    first_failure.map_or(Ok(()), Err)
}

/// Both clippy runs, host and wasm32, with warnings as errors.
pub(crate) fn lint() -> Result<()> {
    clippy_host()?;
    clippy_wasm()
}

fn codec_wasm_build() -> Result<()> {
    cargo(&["build", "-p", "courtier-proto", "--target", WASM])
        .status()
        .context("courtier-proto must build for wasm32 (no I/O, no tokio, no clock)")
}

fn clippy_host() -> Result<()> {
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])
    .status()
}

/// Never `--workspace` with the wasm target: tokio's `net` (broker) cannot build for it. The
/// codec is linted as a library only, because its dev-dependencies (proptest) are host-only.
fn clippy_wasm() -> Result<()> {
    let lint = ["--", "-D", "warnings"];
    cargo(&[
        "clippy",
        "-p",
        "courtier-web",
        "--target",
        WASM,
        "--all-targets",
        // `embed` is the packaged client's JavaScript API, off in the app's build.
        "--all-features",
    ])
    .args(lint)
    .status()?;
    cargo(&["clippy", "-p", "courtier-proto", "--target", WASM, "--lib"])
        .args(lint)
        .status()
}

/// Unit, integration and end-to-end tests on the host. The end-to-end tests find what the xtask
/// built or installed through these variables.
fn host_tests() -> Result<()> {
    cargo(&["build", "-p", "courtier", "--bin", "courtier"])
        .status()
        .context("the broker binary the end-to-end tests start did not build")?;
    let chromedriver = which("chromedriver").context("chromedriver is not on PATH")?;
    let chromium = which("chromium").context("chromium is not on PATH")?;
    // `--no-fail-fast`: one failing test binary should not hide the failures of the others.
    cargo(&["test", "--workspace", "--no-fail-fast"])
        .env("COURTIER_BIN", target_dir().join("debug").join("courtier"))
        .env("COURTIER_DIST", dist::dist_dir())
        .env("CHROMEDRIVER", chromedriver)
        .env("CHROMIUM", chromium)
        .status()
}

/// `wasm-bindgen-test` tests, run by `wasm-bindgen-test-runner` (the wasm32 runner in
/// `.cargo/config.toml`) in headless Chromium as configured by `xtask/webdriver.json`.
fn browser_tests() -> Result<()> {
    let chromedriver = which("chromedriver").context("chromedriver is not on PATH")?;
    cargo(&["test", "-p", "courtier-web", "--target", WASM])
        .env("CHROMEDRIVER", chromedriver)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            root().join("xtask").join("webdriver.json"),
        )
        .status()
}

/// Whether the web crate has any `wasm_bindgen_test`; without one the runner has nothing to do.
fn has_browser_tests() -> Result<bool> {
    let web = root().join("web");
    Ok(mentions(&web.join("src"), "wasm_bindgen_test")?
        || mentions(&web.join("tests"), "wasm_bindgen_test")?)
}

fn mentions(dir: &Path, needle: &str) -> Result<bool> {
    if !dir.is_dir() {
        return Ok(false);
    }
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let found = if path.is_dir() {
            mentions(&path, needle)?
        } else {
            path.extension().is_some_and(|ext| ext == "rs")
                && fs::read_to_string(&path).is_ok_and(|text| text.contains(needle))
        };
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}
