//! Headless Chromium for the end-to-end tests, driven over WebDriver with fantoccini.
//!
//! [`Browser::start`] spawns `chromedriver` on a free port (killed on drop), learns that it is
//! ready from the line it prints, and opens a headless Chromium session with a fresh profile
//! and the flags that work as root on these machines (TOOLCHAIN.md). [`Browser::run`] runs an
//! async JavaScript body in the page and returns its result; [`Browser::wait_for`] awaits a
//! page condition with a deadline. Nothing sleeps to synchronise. [`Mosquitto`] runs the
//! other broker those clients are checked against.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long one page script or condition may take.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(20);

/// A chromedriver process, killed on drop (which also ends the Chromium it started).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One headless Chromium session.
pub struct Browser {
    client: Client,
    _driver: Driver,
    /// Chromium's profile directory, removed on drop.
    _profile: TempDir,
}

/// `$name`, else `default`; fails the test with `hint` when the file is missing.
fn program(name: &str, default: &str, hint: &str) -> PathBuf {
    let path = std::env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(path.exists(), "{} not found: {hint}", path.display());
    path
}

/// A port nothing listens on right now (for programs that cannot report the one they got).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let hint = "install Debian's chromium and chromium-driver (`cargo xtask setup` does)";
        let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver", hint);
        let chromium = program("CHROMIUM", "/usr/bin/chromium", hint);
        let port = free_port();
        let mut child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let driver = Driver(child);
        // chromedriver prints "ChromeDriver was started successfully on port N." once it
        // listens; reading that line is the readiness signal.
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("started successfully") => break,
                Some(Ok(_)) => {}
                _ => panic!("chromedriver exited before it was ready"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        capabilities.insert(
            "timeouts".into(),
            json!({ "script": BROWSER_TIMEOUT.as_millis() as u64 }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with headless Chromium");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// The WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads `url` and waits until `ready` (a JavaScript expression) is true.
    pub async fn open(&self, url: &str, ready: &str) {
        self.client.goto(url).await.expect("page load");
        self.wait_for(ready).await;
    }

    /// Runs `body`, the body of an async JavaScript function called with `args`, and returns
    /// what it returns. A rejection or exception fails the test with its message; use
    /// [`Browser::try_run`] to inspect one.
    pub async fn run(&self, body: &str, args: Vec<Value>) -> Value {
        self.try_run(body, args)
            .await
            .unwrap_or_else(|error| panic!("page script failed: {error}\nscript: {body}"))
    }

    /// [`Browser::run`], returning a rejection's message (and `reasonCode`, if any) as `Err`.
    pub async fn try_run(&self, body: &str, args: Vec<Value>) -> Result<Value, String> {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             const args = Array.prototype.slice.call(arguments, 0, -1);
             (async (...args) => {{ {body} }})(...args).then(
               (value) => done({{ ok: value === undefined ? null : value }}),
               (error) => done({{ err: String(error && error.message || error),
                                  code: error && error.reasonCode }}));"
        );
        let result = self
            .client
            .execute_async(&script, args)
            .await
            .expect("WebDriver ran the script");
        match result.get("err") {
            Some(err) => Err(match result.get("code") {
                Some(Value::Number(code)) => {
                    format!("{} [reasonCode {code}]", err.as_str().unwrap_or_default())
                }
                _ => err.as_str().unwrap_or_default().to_owned(),
            }),
            None => Ok(result.get("ok").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Awaits `condition`, a JavaScript expression, becoming truthy; returns its value. Fails
    /// after [`BROWSER_TIMEOUT`], showing `window.lastError` if the page set one.
    pub async fn wait_for(&self, condition: &str) -> Value {
        // The page resolves as soon as the condition holds, checking once per animation-free
        // tick; the deadline lives in the page so that one WebDriver call does the waiting.
        let body = format!(
            "const deadline = Date.now() + {ms};
             for (;;) {{
               const value = (() => {condition})();
               if (value) return value;
               if (Date.now() > deadline) throw new Error('timed out waiting for: ' + {quoted}
                 + (window.lastError ? ' (lastError: ' + window.lastError + ')' : ''));
               await new Promise((resolve) => setTimeout(resolve, 10));
             }}",
            ms = BROWSER_TIMEOUT.as_millis() - 1000,
            quoted = serde_json::to_string(condition).expect("a string serialises"),
        );
        self.run(&body, Vec::new()).await
    }

    /// Ends the WebDriver session (Chromium exits), then chromedriver is killed on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// Mosquitto (Debian package `mosquitto`) with a WebSocket listener, for checking that a
/// browser client works with another broker too. Killed on drop.
pub struct Mosquitto {
    child: Child,
    /// The port of its MQTT-over-WebSocket listener on 127.0.0.1 (any path is accepted).
    pub websocket_port: u16,
    /// The port of its plain MQTT listener on 127.0.0.1.
    pub tcp_port: u16,
    /// Holds the configuration file.
    _dir: TempDir,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mosquitto {
    /// Starts Mosquitto and returns once it reports that its listeners are open.
    pub fn start_websockets() -> Mosquitto {
        let (websocket_port, tcp_port) = (free_port(), free_port());
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("mosquitto.conf");
        // Mosquitto 2.0.11 exits ("Unable to start any listening sockets") when every
        // listener is a WebSocket one, so a TCP listener keeps it company. (A Unix socket
        // would not do: run as root, Mosquitto drops to its own user before binding it.)
        let text = format!(
            "listener {tcp_port} 127.0.0.1\nlistener {websocket_port} 127.0.0.1\n\
             protocol websockets\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
        );
        std::fs::write(&config, text).expect("write mosquitto.conf");
        let mut child = Command::new("mosquitto")
            .arg("-c")
            .arg(&config)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start mosquitto (Debian package mosquitto; `cargo xtask setup` installs it)");
        let stderr = child.stderr.take().expect("piped stderr");
        let mosquitto = Mosquitto {
            child,
            websocket_port,
            tcp_port,
            _dir: dir,
        };
        // "mosquitto version X running" follows the listeners being opened.
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains(" running") => break,
                Some(Ok(line)) => seen.push(line),
                _ => panic!("mosquitto exited before it was ready: {seen:?}"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        mosquitto
    }
}

/// The trunk build, or a failure that says how to make it.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("COURTIER_DIST").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"),
        PathBuf::from,
    );
    assert!(
        dist.join("index.html").is_file(),
        "{} has no index.html: run `cargo xtask dist` (trunk build --release)",
        dist.display()
    );
    dist
}

/// Sets an input's value the way typing does (an `input` event follows).
pub async fn type_into(browser: &Browser, id: &str, value: &str) {
    browser
        .run(
            "const input = document.getElementById(args[0]);
             input.value = args[1];
             input.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(id), json!(value)],
        )
        .await;
}

/// Chooses `value` in a `<select>` the way a user does (a `change` event follows).
pub async fn choose(browser: &Browser, id: &str, value: &str) {
    browser
        .run(
            "const select = document.getElementById(args[0]);
             select.value = args[1];
             select.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(id), json!(value)],
        )
        .await;
}

/// Clicks the first element matching `selector`.
pub async fn click(browser: &Browser, selector: &str) {
    browser
        .run(
            "document.querySelector(args[0]).click();",
            vec![json!(selector)],
        )
        .await;
}
