//! `cargo xtask dist`: the release build of the web app into `dist/`, the embeddable client
//! package into `dist/client/`, the examples into `dist/examples/`, and their sizes.
//!
//! Order matters: trunk replaces `dist/` wholesale, so the client package and the examples are
//! written after it. The client is built from the library alone (`cargo rustc --lib
//! --crate-type cdylib --features embed`), so it contains no Yew, and the crate keeps a plain
//! `rlib` library without the JavaScript API for the app and the host tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::shell::{Cmd, cargo, root, target_dir};

/// A built file (or files) and its size, raw and gzip-compressed.
pub(crate) struct WebBuild {
    /// Path of the `.wasm` file inside `dist/` (for summed scripts, their directory).
    pub(crate) wasm: PathBuf,
    /// Size in bytes as served without compression.
    pub(crate) raw: u64,
    /// Size in bytes after `gzip -9`, about what a browser downloads.
    pub(crate) gzip: u64,
}

/// The most the web app's wasm may weigh gzip-compressed (issue 5: under 400 KB).
const APP_GZIP_BUDGET: u64 = 400_000;
/// The most the embeddable client's wasm and JavaScript together may weigh gzip-compressed.
const CLIENT_GZIP_BUDGET: u64 = 100_000;

/// Runs `trunk build --release` (offline, tools pinned in Trunk.toml), then packs the
/// embeddable client and copies the examples, prints the sizes, and fails if either is over
/// its budget.
pub(crate) fn web() -> Result<WebBuild> {
    Cmd::new("trunk")
        .args(["build", "--release", "--skip-version-check"])
        .status()
        .context("the web app did not build")?;
    let build = measure(&wasm_in(&dist_dir())?)?;
    println!(
        "web app: {} is {:.1} KiB raw, {:.1} KiB gzip",
        build.wasm.display(),
        kib(build.raw),
        kib(build.gzip)
    );
    let client = client_package()?;
    let scripts = client_scripts()?;
    println!(
        "embeddable client: {} is {:.1} KiB raw, {:.1} KiB gzip; its JavaScript {:.1} KiB raw, \
         {:.1} KiB gzip; together {:.1} KiB gzip",
        client.wasm.display(),
        kib(client.raw),
        kib(client.gzip),
        kib(scripts.raw),
        kib(scripts.gzip),
        kib(client.gzip + scripts.gzip)
    );
    copy_dir(&root().join("examples"), &dist_dir().join("examples"))?;
    check_budgets(build.gzip, client.gzip + scripts.gzip)?;
    Ok(build)
}

/// One line naming the first size over its budget, in bytes and KB (1 KB = 1000 bytes).
fn check_budgets(app_gzip: u64, client_gzip: u64) -> Result<()> {
    let over = |what: &str, size: u64, budget: u64| {
        anyhow!(
            "{what}: {size} bytes gzip ({:.1} KB), over the {} KB budget",
            size as f64 / 1000.0,
            budget / 1000
        )
    };
    if app_gzip > APP_GZIP_BUDGET {
        return Err(over("the web app's wasm", app_gzip, APP_GZIP_BUDGET));
    }
    if client_gzip > CLIENT_GZIP_BUDGET {
        return Err(over(
            "the embeddable client's wasm and JavaScript",
            client_gzip,
            CLIENT_GZIP_BUDGET,
        ));
    }
    Ok(())
}

/// The client package's JavaScript files (the wasm-bindgen module and `courtier_value.js`),
/// their sizes summed raw and gzip.
fn client_scripts() -> Result<WebBuild> {
    let dir = client_dir();
    let mut total = WebBuild {
        wasm: dir.clone(),
        raw: 0,
        gzip: 0,
    };
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "js") {
            let file = measure(&path)?;
            total.raw += file.raw;
            total.gzip += file.gzip;
        }
    }
    Ok(total)
}

/// Name of the package's files (`courtier_client.js`, `courtier_client_bg.wasm`, ...).
const CLIENT_NAME: &str = "courtier_client";

/// The embeddable client's sources beside its Rust code: the custom element and the README.
const CLIENT_EXTRAS: [&str; 2] = ["courtier_value.js", "README.md"];

/// Builds `dist/client/`: the library as a cdylib (profile `wasm-release`), wasm-bindgen
/// `--target web` (a plain ES module, no bundler), `wasm-opt -Oz`, and the package files.
fn client_package() -> Result<WebBuild> {
    const WASM: &str = "wasm32-unknown-unknown";
    cargo(&[
        "rustc",
        "-p",
        "courtier-web",
        "--lib",
        "--features",
        "embed",
        "--crate-type",
        "cdylib",
        "--target",
        WASM,
        "--profile",
        "wasm-release",
        "--locked",
    ])
    .status()
    .context("the embeddable client library did not build")?;
    let built = target_dir()
        .join(WASM)
        .join("wasm-release")
        .join("courtier_web.wasm");
    let out = client_dir();
    if out.exists() {
        fs::remove_dir_all(&out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    Cmd::new("wasm-bindgen")
        .args(["--target", "web", "--out-name", CLIENT_NAME, "--out-dir"])
        .args([&out, &built])
        .status()
        .context("wasm-bindgen could not generate the client's JavaScript")?;
    let wasm = out.join(format!("{CLIENT_NAME}_bg.wasm"));
    // The features rustc enables by default for wasm32-unknown-unknown; wasm-opt must be told
    // them, or it refuses the module.
    Cmd::new("wasm-opt")
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-reference-types",
            "--enable-sign-ext",
            "--enable-multivalue",
            "-o",
        ])
        .args([&wasm, &wasm])
        .status()
        .context("wasm-opt could not shrink the client")?;
    let sources = root().join("web").join("src").join("embed");
    for extra in CLIENT_EXTRAS {
        fs::copy(sources.join(extra), out.join(extra))
            .with_context(|| format!("cannot copy {extra} into {}", out.display()))?;
    }
    fs::write(out.join("package.json"), package_json())
        .context("cannot write the client's package.json")?;
    measure(&wasm)
}

/// Where `cargo xtask dist` puts the embeddable client package.
pub(crate) fn client_dir() -> PathBuf {
    dist_dir().join("client")
}

fn package_json() -> String {
    let version = env!("CARGO_PKG_VERSION");
    let license = env!("CARGO_PKG_LICENSE");
    format!(
        r#"{{
  "name": "courtier-client",
  "version": "{version}",
  "description": "MQTT 3.1.1 and 5.0 over WebSocket for the browser, in WebAssembly: no bundler, no polyfills",
  "license": "{license}",
  "type": "module",
  "module": "{CLIENT_NAME}.js",
  "main": "{CLIENT_NAME}.js",
  "types": "{CLIENT_NAME}.d.ts",
  "exports": {{
    ".": {{ "types": "./{CLIENT_NAME}.d.ts", "default": "./{CLIENT_NAME}.js" }},
    "./courtier_value.js": "./courtier_value.js"
  }},
  "files": ["{CLIENT_NAME}.js", "{CLIENT_NAME}.d.ts", "{CLIENT_NAME}_bg.wasm", "{CLIENT_NAME}_bg.wasm.d.ts", "courtier_value.js", "README.md"],
  "sideEffects": ["./courtier_value.js"],
  "keywords": ["mqtt", "websocket", "wasm", "iot"]
}}
"#
    )
}

/// Copies the files of `from` (one level: the examples are flat) into `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let path = entry?.path();
        if path.is_file()
            && let Some(name) = path.file_name()
        {
            fs::copy(&path, to.join(name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

/// The directory trunk writes to (Trunk.toml `dist`).
pub(crate) fn dist_dir() -> PathBuf {
    root().join("dist")
}

/// The `.wasm` file trunk wrote into `dist`.
fn wasm_in(dist: &Path) -> Result<PathBuf> {
    fs::read_dir(dist)
        .with_context(|| format!("cannot read {}", dist.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .with_context(|| format!("trunk left no .wasm file in {}", dist.display()))
}

/// Sizes of one file, raw and `gzip -9`.
fn measure(wasm: &Path) -> Result<WebBuild> {
    let wasm = wasm.to_path_buf();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_over_budget_fail_with_one_line_naming_them() {
        assert!(check_budgets(APP_GZIP_BUDGET, CLIENT_GZIP_BUDGET).is_ok());
        let app = check_budgets(400_001, 0).unwrap_err().to_string();
        assert_eq!(
            app,
            "the web app's wasm: 400001 bytes gzip (400.0 KB), over the 400 KB budget"
        );
        let client = check_budgets(1000, 123_456).unwrap_err().to_string();
        assert_eq!(
            client,
            "the embeddable client's wasm and JavaScript: 123456 bytes gzip (123.5 KB), \
             over the 100 KB budget"
        );
    }
}
