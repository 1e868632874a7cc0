//! Running programs: echoing what runs, turning failures into one-line errors, finding programs on
//! `PATH`, and timing the steps of a command.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

/// A command plus the text it is shown as, so errors name exactly what failed.
pub(crate) struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    /// A command run from the workspace root.
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        let mut inner = Command::new(program);
        inner.current_dir(root());
        Cmd {
            inner,
            shown: program.to_string_lossy().into_owned(),
        }
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            let arg = arg.as_ref();
            self.shown.push(' ');
            self.shown.push_str(&arg.to_string_lossy());
            self.inner.arg(arg);
        }
        self
    }

    /// Sets an environment variable for the child.
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.inner.env(key, value);
        self
    }

    /// Runs the child in `dir` instead of the workspace root.
    pub(crate) fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.inner.current_dir(dir);
        self
    }

    /// Runs with inherited output; a non-zero exit is an error naming the command.
    pub(crate) fn status(mut self) -> Result<()> {
        println!("$ {}", self.shown);
        let status = self
            .inner
            .status()
            .with_context(|| format!("could not start `{}`", self.shown))?;
        if !status.success() {
            bail!("`{}` failed ({status})", self.shown);
        }
        Ok(())
    }

    /// Runs silently and returns its trimmed stdout and stderr if it succeeded: the probe used to
    /// ask a tool for its version. `None` when the program is absent or fails.
    pub(crate) fn probe(mut self) -> Option<String> {
        let output = self.inner.stdin(Stdio::null()).output().ok()?;
        if !output.status.success() {
            return None;
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Some(text.trim().to_owned())
    }

    /// Replaces this process with the command; returns only if that was impossible.
    pub(crate) fn exec(mut self) -> anyhow::Error {
        println!("$ {}", self.shown);
        let error = self.inner.exec();
        anyhow!("could not start `{}`: {error}", self.shown)
    }
}

/// `cargo <args>`, using the cargo that started the xtask so the toolchain stays the same.
pub(crate) fn cargo<S: AsRef<OsStr>>(args: &[S]) -> Cmd {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Cmd::new(program);
    // The full toolchain path adds nothing to a log line; the user types `cargo`.
    command.shown = "cargo".to_owned();
    command.args(args)
}

/// The workspace root (the xtask crate lives one level below it).
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The first executable called `name` on `PATH`.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether this process runs as root, so system installs need no `sudo`.
pub(crate) fn is_root() -> bool {
    Cmd::new("id").args(["-u"]).probe().as_deref() == Some("0")
}

/// Names and durations of the steps of a command, for the closing summary.
#[derive(Default)]
pub(crate) struct Timings {
    steps: Vec<(String, Duration, bool)>,
}

impl Timings {
    /// Runs one step under a header and records how long it took, failed or not.
    pub(crate) fn step<T>(&mut self, name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n==> {name}");
        let started = Instant::now();
        let result = work();
        let elapsed = started.elapsed();
        self.steps.push((name.to_owned(), elapsed, result.is_ok()));
        match &result {
            Ok(_) => println!("<== {name}: ok in {}", seconds(elapsed)),
            Err(error) => println!("<== {name}: FAILED after {}: {error:#}", seconds(elapsed)),
        }
        result
    }

    /// One line per step, then the total.
    pub(crate) fn summary(&self, outcome: &str) {
        println!("\n---- {outcome} ----");
        for (name, elapsed, ok) in &self.steps {
            let status = if *ok { "ok" } else { "FAILED" };
            println!("{:>8}  {status:<6}  {name}", seconds(*elapsed));
        }
        let total: Duration = self.steps.iter().map(|(_, elapsed, _)| *elapsed).sum();
        println!("{:>8}          total", seconds(total));
    }
}

/// A duration as seconds with one decimal, e.g. `12.3s`.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
