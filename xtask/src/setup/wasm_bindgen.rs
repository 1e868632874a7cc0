//! wasm-bindgen-cli (`wasm-bindgen` for trunk, `wasm-bindgen-test-runner` for the browser tests)
//! at exactly the `wasm-bindgen` version of Cargo.lock: the CLI refuses a module built by any
//! other version.
//!
//! `cargo install --locked wasm-bindgen-cli@0.2.130` fails here because its lock file pins
//! `webpki-roots 1.0.11`, which the reachable crates.io index lacks. The failed attempt still
//! leaves the `.crate` in cargo's download cache, so we unpack it, let `cargo update -p
//! webpki-roots` pick the newest available (1.0.10; nothing else moves) and install from there.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Found, fast_install};
use crate::shell::{Cmd, cargo};

/// Makes `wasm-bindgen` and `wasm-bindgen-test-runner` report `version`.
pub(super) fn ensure(version: &str) -> Result<Found> {
    let wanted = format!("wasm-bindgen {version}");
    let cli = Cmd::new("wasm-bindgen").args(["--version"]).probe();
    let runner = Cmd::new("wasm-bindgen-test-runner")
        .args(["--version"])
        .probe();
    if cli.as_deref() == Some(wanted.as_str()) && runner.is_some() {
        return Ok(Found::Present(wanted));
    }
    let crate_name = format!("wasm-bindgen-cli@{version}");
    if cached_crate(version).is_none() {
        // Usually fails (see the module comment) but fetches the .crate; if the index has what
        // the lock asks for, it simply succeeds and we are done.
        if fast_install(cargo(&["install", "--locked", &crate_name])).is_ok() {
            return Ok(Found::Installed(wanted));
        }
        println!("setup: retrying {crate_name} with webpki-roots moved to an available version");
    }
    let archive = cached_crate(version).with_context(|| {
        format!(
            "{crate_name} could not be downloaded from crates.io (not in ~/.cargo/registry/cache)"
        )
    })?;
    let work = std::env::temp_dir().join(format!("xtask-wasm-bindgen-cli-{version}"));
    // A leftover from an interrupted run would make `tar` mix old and new files.
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    Cmd::new("tar")
        .args([
            "-xzf".as_ref(),
            archive.as_os_str(),
            "-C".as_ref(),
            work.as_os_str(),
        ])
        .status()?;
    let source = work.join(format!("wasm-bindgen-cli-{version}"));
    cargo(&["update", "--quiet", "-p", "webpki-roots"])
        .dir(&source)
        .status()
        .with_context(|| format!("could not move webpki-roots in {crate_name}'s lock file"))?;
    let path = source.to_string_lossy().into_owned();
    fast_install(cargo(&["install", "--locked", "--path", &path]).dir(&source))
        .with_context(|| format!("could not build {crate_name}"))?;
    let _ = fs::remove_dir_all(&work);
    match Cmd::new("wasm-bindgen").args(["--version"]).probe() {
        Some(found) if found == wanted => Ok(Found::Installed(wanted)),
        found => bail!(
            "installed {crate_name} but `wasm-bindgen --version` says {found:?}: is another \
             wasm-bindgen earlier on PATH than ~/.cargo/bin?"
        ),
    }
}

/// The downloaded `wasm-bindgen-cli-<version>.crate` in cargo's registry cache, if any.
fn cached_crate(version: &str) -> Option<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))?;
    let file_name = format!("wasm-bindgen-cli-{version}.crate");
    fs::read_dir(cargo_home.join("registry").join("cache"))
        .ok()?
        .filter_map(|registry| registry.ok())
        .map(|registry| registry.path().join(&file_name))
        .find(|candidate| candidate.is_file())
}
