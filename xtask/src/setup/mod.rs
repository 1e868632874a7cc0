//! `cargo xtask setup`: makes every tool the build and the tests need present, at the right
//! version, installing only what is missing.
//!
//! Each tool is probed first (`--version` and the like), so a machine that has everything pays a
//! few seconds (1.5 s measured); a fresh one pays the installs listed in `shared/TOOLCHAIN.md`,
//! mostly compiling trunk (5.7 min measured) and wasm-bindgen-cli (4.3 min).

mod system;
mod wasm_bindgen;

use std::fs;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::shell::{Cmd, cargo, root, seconds};

/// trunk 0.22 needs rustc ≥ 1.96.1; 0.21.14 is the newest that builds with our stable toolchain.
const TRUNK_VERSION: &str = "0.21.14";

/// Tools need not be as fast as possible: building trunk with fat LTO took ~13 min on two cores,
/// without it ~8 (TOOLCHAIN.md).
const FAST_INSTALL_ENV: [(&str, &str); 2] = [
    ("CARGO_PROFILE_RELEASE_LTO", "off"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
];

/// How much of the toolchain a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Building the web app and the broker (`run`, `dist`).
    Build,
    /// Everything `test` uses: linters, browser, broker and third-party MQTT clients too.
    Test,
}

/// What a check found.
enum Found {
    /// Already there, at this version.
    Present(String),
    /// Installed just now, at this version.
    Installed(String),
}

/// Brings the machine up to what `purpose` needs.
pub(crate) fn ensure(purpose: Purpose) -> Result<()> {
    let started = Instant::now();
    let pins = Pins::read()?;
    check("wasm32 target", wasm32_target)?;
    if purpose == Purpose::Test {
        check("rustfmt and clippy", rust_components)?;
    }
    check("trunk", trunk)?;
    check("wasm-bindgen-cli", || {
        wasm_bindgen::ensure(&pins.wasm_bindgen)
    })?;
    check("wasm-opt", || system::wasm_opt(&pins.wasm_opt))?;
    if purpose == Purpose::Test {
        check("Debian packages", system::debian_packages)?;
        check("Python paho-mqtt", system::paho_mqtt)?;
        check("Python websockets", system::python_websockets)?;
        check("npm mqtt (tests/node)", system::node_mqtt)?;
    }
    check("crates (cargo fetch --locked)", fetch_crates)?;
    println!("setup: done in {}", seconds(started.elapsed()));
    Ok(())
}

fn check(name: &str, ensure: impl FnOnce() -> Result<Found>) -> Result<()> {
    let started = Instant::now();
    let found = ensure().with_context(|| format!("setup of {name}"))?;
    let elapsed = seconds(started.elapsed());
    match found {
        Found::Present(version) => println!("setup: {name}: {version} present ({elapsed})"),
        Found::Installed(version) => println!("setup: {name}: installed {version} in {elapsed}"),
    }
    Ok(())
}

/// Tool versions pinned in `Trunk.toml` (trunk would otherwise try to download its own).
struct Pins {
    wasm_bindgen: String,
    wasm_opt: String,
}

impl Pins {
    fn read() -> Result<Pins> {
        let trunk_toml =
            fs::read_to_string(root().join("Trunk.toml")).context("cannot read Trunk.toml")?;
        let pin = |key: &str| {
            toml_string(&trunk_toml, key)
                .with_context(|| format!("Trunk.toml has no `{key} = \"…\"` under [tools]"))
        };
        let pins = Pins {
            wasm_bindgen: pin("wasm_bindgen")?,
            wasm_opt: pin("wasm_opt")?,
        };
        let locked = locked_version("wasm-bindgen")?;
        if locked != pins.wasm_bindgen {
            bail!(
                "Trunk.toml pins wasm_bindgen = \"{}\" but Cargo.lock has wasm-bindgen {locked}: \
                 make them agree (and the `=` pin in the root Cargo.toml)",
                pins.wasm_bindgen
            );
        }
        Ok(pins)
    }
}

/// The value of a `key = "value"` line; enough for the flat files we read (Trunk.toml, Cargo.lock).
fn toml_string(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (left, right) = line.split_once('=')?;
        (left.trim() == key).then(|| right.trim().trim_matches('"').to_owned())
    })
}

/// The version of package `name` in Cargo.lock (the first, if several).
fn locked_version(name: &str) -> Result<String> {
    let lock = fs::read_to_string(root().join("Cargo.lock")).context("cannot read Cargo.lock")?;
    version_in_lock(&lock, name).with_context(|| format!("Cargo.lock has no package `{name}`"))
}

fn version_in_lock(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    lock.split("[[package]]")
        .find(|entry| entry.lines().any(|line| line.trim() == wanted))
        .and_then(|entry| toml_string(entry, "version"))
}

fn wasm32_target() -> Result<Found> {
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .probe()
        .context("rustup is needed (https://rustup.rs) and did not answer")?;
    if installed
        .lines()
        .any(|line| line == "wasm32-unknown-unknown")
    {
        return Ok(Found::Present("wasm32-unknown-unknown".into()));
    }
    Cmd::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .status()?;
    Ok(Found::Installed("wasm32-unknown-unknown".into()))
}

fn rust_components() -> Result<Found> {
    let fmt = cargo(&["fmt", "--version"]).probe();
    let clippy = cargo(&["clippy", "--version"]).probe();
    if let (Some(fmt), Some(clippy)) = (&fmt, &clippy) {
        return Ok(Found::Present(format!("{fmt}, {clippy}")));
    }
    Cmd::new("rustup")
        .args(["component", "add", "rustfmt", "clippy"])
        .status()?;
    Ok(Found::Installed("rustfmt, clippy".into()))
}

fn trunk() -> Result<Found> {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if let Some(version) = Cmd::new("trunk").args(["--version"]).probe()
        && version == wanted
    {
        return Ok(Found::Present(version));
    }
    fast_install(cargo(&[
        "install",
        "--locked",
        &format!("trunk@{TRUNK_VERSION}"),
    ]))
    .context("could not build trunk from crates.io")?;
    Ok(Found::Installed(wanted))
}

/// Runs a `cargo install` with the release profile made faster to build (tools, not products).
fn fast_install(install: Cmd) -> Result<()> {
    FAST_INSTALL_ENV
        .iter()
        .fold(install, |install, (key, value)| install.env(key, value))
        .status()
}

fn fetch_crates() -> Result<Found> {
    // Trunk builds offline (Trunk.toml), so every crate must be in the local registry first;
    // `--locked` also catches a Cargo.lock that no longer matches the manifests.
    cargo(&["fetch", "--locked", "--quiet"])
        .status()
        .context("Cargo.lock is out of date or crates.io is unreachable")?;
    Ok(Found::Present("all crates in Cargo.lock".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_values_by_exact_key() {
        let trunk = "[tools]\nwasm_bindgen = \"0.2.130\"\nwasm_opt = \"version_132\"\n";
        assert_eq!(
            toml_string(trunk, "wasm_opt").as_deref(),
            Some("version_132")
        );
        assert_eq!(
            toml_string(trunk, "wasm_bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(toml_string(trunk, "wasm"), None);
    }

    #[test]
    fn finds_the_locked_version_of_a_package_not_of_its_namesakes() {
        let lock = r#"
[[package]]
name = "wasm-bindgen-test"
version = "0.3.80"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
dependencies = [
 "cfg-if",
]
"#;
        assert_eq!(
            version_in_lock(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            version_in_lock(lock, "wasm-bindgen-test").as_deref(),
            Some("0.3.80")
        );
        assert_eq!(version_in_lock(lock, "cfg-if"), None);
    }
}
