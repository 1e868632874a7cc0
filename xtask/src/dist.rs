//! `cargo xtask dist`: the release build of the web app into `dist/`, and its size.
//!
//! Later this also packs the embeddable npm client; today it is the trunk build alone.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::shell::{Cmd, root};

/// The built web app's WebAssembly module and its size, raw and gzip-compressed.
pub(crate) struct WebBuild {
    /// Path of the `.wasm` file inside `dist/`.
    pub(crate) wasm: PathBuf,
    /// Size in bytes as served without compression.
    pub(crate) raw: u64,
    /// Size in bytes after `gzip -9`, about what a browser downloads.
    pub(crate) gzip: u64,
}

/// Runs `trunk build --release` (offline, tools pinned in Trunk.toml) and measures the result.
pub(crate) fn web() -> Result<WebBuild> {
    Cmd::new("trunk")
        .args(["build", "--release", "--skip-version-check"])
        .status()
        .context("the web app did not build")?;
    let build = measure()?;
    println!(
        "web app: {} is {:.1} KiB raw, {:.1} KiB gzip",
        build.wasm.display(),
        kib(build.raw),
        kib(build.gzip)
    );
    Ok(build)
}

/// The directory trunk writes to (Trunk.toml `dist`).
pub(crate) fn dist_dir() -> PathBuf {
    root().join("dist")
}

fn measure() -> Result<WebBuild> {
    let dist = dist_dir();
    let wasm = fs::read_dir(&dist)
        .with_context(|| format!("cannot read {}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .with_context(|| format!("trunk left no .wasm file in {}", dist.display()))?;
    let raw = fs::metadata(&wasm)?.len();
    let compressed = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&wasm)
        .output()
        .context("could not run gzip to measure the compressed size")?;
    let gzip = u64::try_from(compressed.stdout.len()).context("gzip output size")?;
    Ok(WebBuild { wasm, raw, gzip })
}

fn kib(bytes: u64) -> f64 {
    // Sizes are far below 2^52, so the conversion is exact.
    bytes as f64 / 1024.0
}
