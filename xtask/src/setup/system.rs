//! Tools from the system registries: Debian packages, npm (wasm-opt and mqtt.js) and PyPI
//! (paho-mqtt, websockets). Each is probed first; `apt-get update` runs only when a package is missing.

use std::fs;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use super::Found;
use crate::shell::{Cmd, is_root, root};

/// The broker we compare against and its clients, and the browser for the end-to-end and wasm
/// tests (chromium-driver must match chromium's major version; Debian ships them together).
const DEBIAN_PACKAGES: [&str; 4] = [
    "mosquitto",
    "mosquitto-clients",
    "chromium",
    "chromium-driver",
];

/// paho-mqtt 2 changed the callback API; the tests are written for it.
const PAHO_MQTT: &str = "paho-mqtt==2.1.0";

/// The permessage-deflate interop test is written against the asyncio client API of 13+.
const PYTHON_WEBSOCKETS: &str = "websockets==15.0.1";

/// Installs the Debian packages the tests drive, then checks chromium and chromedriver agree.
pub(super) fn debian_packages() -> Result<Found> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .into_iter()
        .filter(|package| !debian_installed(package))
        .collect();
    if !missing.is_empty() {
        apt(&["update", "-qq"])?;
        let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
        install.extend(&missing);
        apt(&install)
            .with_context(|| format!("apt-get could not install {}", missing.join(" ")))?;
    }
    let browser = major_version("chromium")?;
    let driver = major_version("chromedriver")?;
    if browser != driver {
        bail!(
            "chromium {browser} and chromedriver {driver} differ: upgrade both (apt-get install chromium chromium-driver)"
        );
    }
    let summary = format!("{} (chromium {browser})", DEBIAN_PACKAGES.join(", "));
    Ok(if missing.is_empty() {
        Found::Present(summary)
    } else {
        Found::Installed(summary)
    })
}

/// `wasm-opt` from npm `binaryen`, at the version trunk is pinned to (`version_132` ↔ 132.0.0).
pub(super) fn wasm_opt(pin: &str) -> Result<Found> {
    let number = pin.strip_prefix("version_").with_context(|| {
        format!("Trunk.toml's wasm_opt = \"{pin}\" is not of the form version_N")
    })?;
    if let Some(found) = Cmd::new("wasm-opt").args(["--version"]).probe()
        && reports_version(&found, pin)
    {
        return Ok(Found::Present(format!("wasm-opt {pin}")));
    }
    // Debian's binaryen 108 cannot parse current rustc output and owns /usr/bin/wasm-opt, where
    // npm's global install puts its own.
    if debian_installed("binaryen") {
        apt(&["remove", "-y", "-qq", "binaryen"]).context("could not remove Debian's binaryen")?;
    }
    Cmd::new("npm")
        .args([
            "install",
            "--global",
            "--no-fund",
            "--no-audit",
            &format!("binaryen@{number}.0.0"),
        ])
        .status()
        .with_context(|| format!("npm could not install binaryen@{number}.0.0 (wasm-opt)"))?;
    Ok(Found::Installed(format!("wasm-opt {pin}")))
}

/// Python `paho-mqtt` 2.x for the interoperability tests.
pub(super) fn paho_mqtt() -> Result<Found> {
    pip_package(PAHO_MQTT, "paho.mqtt", "paho-mqtt")
}

/// Python `websockets`, a zlib-based permessage-deflate peer for the WebSocket tests.
pub(super) fn python_websockets() -> Result<Found> {
    pip_package(PYTHON_WEBSOCKETS, "websockets", "websockets")
}

/// Installs the pinned `spec` (`name==version`) unless python3 already imports `module` at
/// that version.
fn pip_package(spec: &str, module: &str, name: &str) -> Result<Found> {
    // The pinned major version, e.g. "2." for 2.1.0: any 2.x already installed will do.
    let major = spec
        .split_once("==")
        .map_or("", |(_, v)| v.split('.').next().unwrap_or(""));
    let major = format!("{major}.");
    let probe = || {
        Cmd::new("python3")
            .args([
                "-c",
                &format!("import {module}; print({module}.__version__)"),
            ])
            .probe()
    };
    if let Some(version) = probe()
        && version.starts_with(&major)
    {
        return Ok(Found::Present(format!("{name} {version}")));
    }
    let pip = || Cmd::new("python3").args(["-m", "pip", "install", "--quiet", spec]);
    // A distribution Python (PEP 668) refuses plain `pip install`; a venv or pyenv does not.
    if pip().status().is_err() {
        pip()
            .args(["--user", "--break-system-packages"])
            .status()
            .with_context(|| format!("pip could not install {spec}"))?;
    }
    match probe() {
        Some(version) => Ok(Found::Installed(format!("{name} {version}"))),
        None => bail!("installed {spec} but python3 cannot import {module}"),
    }
}

/// mqtt.js, installed locally into tests/node/ from its committed lock file. `npm ci` runs when
/// node_modules is missing or older than the lock (npm leaves a copy of the lock inside it).
pub(super) fn node_mqtt() -> Result<Found> {
    let dir = root().join("tests").join("node");
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified =
        |path: &std::path::Path| fs::metadata(path).and_then(|meta| meta.modified()).ok();
    let lock_time = modified(&lock).with_context(|| format!("{} is missing", lock.display()))?;
    let version = || {
        Cmd::new("node")
            .args(["-p", "require('mqtt/package.json').version"])
            .dir(&dir)
            .probe()
            .map(|version| format!("mqtt {version}"))
    };
    if modified(&installed).unwrap_or(SystemTime::UNIX_EPOCH) >= lock_time
        && let Some(version) = version()
    {
        return Ok(Found::Present(version));
    }
    Cmd::new("npm")
        .args(["ci", "--no-fund", "--no-audit"])
        .dir(&dir)
        .status()
        .context("npm ci could not install tests/node (mqtt.js)")?;
    Ok(Found::Installed(version().unwrap_or_else(|| "mqtt".into())))
}

fn debian_installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .probe()
        .is_some_and(|status| status == "install ok installed")
}

/// `apt-get` with `sudo` unless we are root already.
fn apt(args: &[&str]) -> Result<()> {
    let command = if is_root() {
        Cmd::new("apt-get")
    } else {
        Cmd::new("sudo").args(["apt-get"])
    };
    command
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(args)
        .status()
}

/// The major version in `<program> --version` (e.g. `Chromium 156.0.8078.108 built on Debian`).
fn major_version(program: &str) -> Result<String> {
    let output = Cmd::new(program)
        .args(["--version"])
        .probe()
        .with_context(|| format!("`{program} --version` failed"))?;
    major_of(&output)
        .with_context(|| format!("no version number in `{program} --version`: {output}"))
}

/// The major part of the first dotted number, e.g. `156` in `ChromeDriver 156.0.8078.108 (…)`.
fn major_of(version_line: &str) -> Option<String> {
    version_line.split_whitespace().find_map(|word| {
        let (major, _) = word.split_once('.')?;
        (!major.is_empty() && major.chars().all(|c| c.is_ascii_digit())).then(|| major.to_owned())
    })
}

/// Whether `wasm-opt --version` output (`wasm-opt version 132 (version_132)`) matches `pin`.
fn reports_version(output: &str, pin: &str) -> bool {
    output
        .split_whitespace()
        .any(|word| word.trim_matches(['(', ')']) == pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_and_chromedriver_majors() {
        let browser = "Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)";
        let driver = "ChromeDriver 156.0.8078.108 (5a1d8b3c-refs/branch-heads/7800@{#1})";
        assert_eq!(major_of(browser).as_deref(), Some("156"));
        assert_eq!(major_of(driver).as_deref(), Some("156"));
        assert_eq!(major_of("Chromium dev build"), None);
    }

    #[test]
    fn wasm_opt_version_must_match_the_pin() {
        assert!(reports_version(
            "wasm-opt version 132 (version_132)",
            "version_132"
        ));
        assert!(!reports_version("wasm-opt version 108", "version_132"));
        assert!(!reports_version(
            "wasm-opt version 1320 (version_1320)",
            "version_132"
        ));
    }
}
