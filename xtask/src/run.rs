//! `cargo xtask run`.

use anyhow::{Context, Result};

use crate::dist;
use crate::setup::{self, Purpose};
use crate::shell::{Cmd, cargo, target_dir};

/// Where `run` listens unless overridden after `--`: MQTT over TCP, and HTTP for the web app and
/// MQTT over WebSocket at /mqtt.
const DEFAULT_ARGS: [&str; 6] = [
    "--tcp",
    "127.0.0.1:1883",
    "--http",
    "127.0.0.1:8080",
    "--web-root",
    "dist",
];

/// Builds the web app and the broker in release, then becomes the broker.
pub(crate) fn broker(extra: &[String]) -> Result<()> {
    setup::ensure(Purpose::Build)?;
    dist::web()?;
    cargo(&["build", "--release", "-p", "courtier", "--bin", "courtier"])
        .status()
        .context("the broker did not build")?;
    let web_root = dist::dist_dir();
    let args = DEFAULT_ARGS.map(|arg| {
        if arg == "dist" {
            web_root.to_string_lossy().into_owned()
        } else {
            arg.to_owned()
        }
    });
    println!(
        "courtier: web app at http://127.0.0.1:8080/, MQTT at tcp://127.0.0.1:1883 and ws://127.0.0.1:8080/mqtt"
    );
    Err(Cmd::new(target_dir().join("release").join("courtier"))
        .args(args)
        .args(extra)
        .exec())
}
