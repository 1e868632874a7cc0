//! `courtier pub` / `courtier sub` end to end: through our broker (TCP, TLS,
//! WebSocket), interop with `mosquitto_pub` / `mosquitto_sub` both ways, and
//! both against Mosquitto itself; exit codes and messages like mosquitto's.
//!
//! Subscribers run with `-d` and the test waits for the SUBACK line on their
//! stderr before publishing: that line, not a sleep, is the synchronisation.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use courtier_e2e::certs::TestPki;
use courtier_e2e::{TIMEOUT, broker_binary, start_broker, wait_within};

/// What a finished process left.
#[derive(Debug)]
struct Finished {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Wait for `child` within [`TIMEOUT`], killing it (and failing) after that.
/// The outputs are read to their end on threads so the child never blocks
/// on a full pipe.
fn finish(mut child: Child, stderr_lines: Option<mpsc::Receiver<String>>) -> Finished {
    let stdout = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            s
        })
    });
    let stderr_lines = stderr_lines.unwrap_or_else(|| lines_of(child.stderr.take()));
    let status = wait_within(&mut child, TIMEOUT)
        .unwrap_or_else(|| panic!("process did not exit within {TIMEOUT:?}"));
    let stdout = stdout.map_or_else(Vec::new, |t| t.join().expect("stdout reader"));
    Finished {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: stderr_lines.iter().collect::<Vec<_>>().join("\n"),
    }
}

/// Forward the lines of a pipe to a channel, from a thread.
fn lines_of(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(pipe) = pipe {
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    rx
}

/// A subscriber process that has its SUBACK.
struct Subscriber {
    child: Child,
    /// The lines of the pipe carrying the `-d` trace.
    trace: mpsc::Receiver<String>,
    seen: Vec<String>,
    /// mosquitto_sub prints its trace on stdout, among the messages, each
    /// trace line starting with `Client ` (or `Subscribed (mid`); courtier
    /// prints it on stderr.
    trace_on_stdout: bool,
}

impl Subscriber {
    /// Start `line` with `-d` and wait for its SUBACK in the trace.
    fn start(line: &str) -> Self {
        let trace_on_stdout = line.starts_with("mosquitto");
        let mut child = command(line)
            .arg("-d")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {line}: {e}"));
        let trace = if trace_on_stdout {
            lines_of(child.stdout.take())
        } else {
            lines_of(child.stderr.take())
        };
        let mut seen = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match trace.recv_timeout(left) {
                Ok(line) => {
                    let done = line.contains("received SUBACK");
                    seen.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("{line}: no SUBACK; trace: {seen:#?}");
                }
            }
        }
        Self {
            child,
            trace,
            seen,
            trace_on_stdout,
        }
    }

    fn finish(mut self) -> Finished {
        let (tx, rx) = mpsc::channel();
        for line in self.seen {
            let _ = tx.send(line);
        }
        let trace = self.trace;
        std::thread::spawn(move || {
            for line in trace {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        if !self.trace_on_stdout {
            return finish(self.child, Some(rx));
        }
        let stderr = lines_of(self.child.stderr.take());
        let mut out = finish(self.child, Some(stderr));
        out.stdout = rx
            .iter()
            .filter(|l| !l.starts_with("Client ") && !l.starts_with("Subscribed (mid"))
            .map(|l| l + "\n")
            .collect();
        out
    }
}

/// The command `line` names, split at whitespace: `courtier` is the binary
/// under test; mosquitto's clients get a line-buffered stdout (piped, C
/// stdio would otherwise hold their `-d` trace back).
fn command(line: &str) -> Command {
    let mut words = line.split_whitespace();
    let program = words.next().expect("a program");
    let mut command = match program {
        "courtier" => Command::new(broker_binary()),
        _ => {
            let mut c = Command::new("stdbuf");
            c.args(["-oL", program]);
            c
        }
    };
    command.args(words);
    command
}

/// Run `line` (with `stdin` as its input) to completion.
fn run(line: &str, stdin: &[u8]) -> Finished {
    let mut child = command(line)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {line}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    finish(child, None)
}

/// Run `line` and expect exit code 0.
fn run_ok(line: &str) {
    let out = run(line, b"");
    assert_eq!(out.code, 0, "{line}: {out:?}");
}

fn sorted_lines(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.lines().collect();
    lines.sort_unstable();
    lines
}

#[test]
fn pub_to_sub_through_our_broker_at_every_qos_in_311_and_5() {
    let b = start_broker(&[]);
    let p = b.port();
    for v in ["311", "5"] {
        let sub = Subscriber::start(&format!("courtier sub -p {p} -V {v} -q 2 -t cli/# -v -C 3"));
        for q in [0, 1, 2] {
            run_ok(&format!(
                "courtier pub -p {p} -V {v} -q {q} -t cli/{v} -m q{q}"
            ));
        }
        let out = sub.finish();
        assert_eq!(out.code, 0, "{out:?}");
        let expected = [0, 1, 2].map(|q| format!("cli/{v} q{q}"));
        assert_eq!(sorted_lines(&out.stdout), expected, "{out:?}");
    }
}

#[test]
fn sub_exits_after_count_and_pub_sends_a_line_per_message() {
    let b = start_broker(&[]);
    let p = b.port();
    let sub = Subscriber::start(&format!("courtier sub -p {p} -q 1 -t lines -C 2"));
    let out = run(
        &format!("courtier pub -p {p} -q 1 -t lines -l"),
        b"first\nsecond\nthird\n",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = sub.finish();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "first\nsecond\n"),
        "{out:?}"
    );
}

#[test]
fn sub_times_out_with_code_27() {
    let b = start_broker(&[]);
    let out = run(&format!("courtier sub -p {} -t silent -W 1", b.port()), b"");
    assert_eq!(out.code, 27, "{out:?}");
    assert_eq!(out.stderr.trim(), "Timed out");
}

#[test]
fn payloads_pass_verbatim_from_stdin_file_and_null() {
    let b = start_broker(&[]);
    let p = b.port();
    let sub = Subscriber::start(&format!("courtier sub -p {p} -t raw/+ -C 3"));
    let file = std::env::temp_dir().join(format!("courtier-cli-{}.txt", std::process::id()));
    std::fs::write(&file, b"from a file").expect("write file");
    let raw = run(
        &format!("courtier pub -p {p} -t raw/s -s"),
        b"two\nlines\xff",
    );
    assert_eq!(raw.code, 0, "{raw:?}");
    run_ok(&format!(
        "courtier pub -p {p} -t raw/f -f {}",
        file.display()
    ));
    run_ok(&format!("courtier pub -p {p} -t raw/n -n"));
    let out = sub.finish();
    let _ = std::fs::remove_file(&file);
    assert_eq!(out.code, 0, "{out:?}");
    // The \xff byte passed through unchanged (shown here by the lossy decoding).
    let expected = ["", "from a file", "lines\u{fffd}", "two"];
    assert_eq!(sorted_lines(&out.stdout), expected, "{out:?}");
}

#[test]
fn sub_without_stale_retained_messages() {
    let b = start_broker(&[]);
    let p = b.port();
    run_ok(&format!("courtier pub -p {p} -t kept -m old -r -q 1"));
    let out = run(&format!("courtier sub -p {p} -t kept -R -W 1"), b"");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (27, ""),
        "-R hides it: {out:?}"
    );
    let out = run(&format!("courtier sub -p {p} -t kept -C 1"), b"");
    assert_eq!((out.code, out.stdout.as_str()), (0, "old\n"), "{out:?}");
}

#[test]
fn interop_with_mosquitto_clients_both_ways_through_our_broker() {
    let b = start_broker(&[]);
    let p = b.port();
    let sub = Subscriber::start(&format!("courtier sub -p {p} -V 5 -q 2 -t mix/a -C 2"));
    run_ok(&format!(
        "mosquitto_pub -p {p} -V 5 -q 2 -t mix/a -m mosquitto5"
    ));
    run_ok(&format!(
        "mosquitto_pub -p {p} -V 311 -q 1 -t mix/a -m mosquitto311"
    ));
    let out = sub.finish();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sorted_lines(&out.stdout), ["mosquitto311", "mosquitto5"]);

    let sub = Subscriber::start(&format!("mosquitto_sub -p {p} -V 5 -q 2 -t mix/b -v -C 2"));
    run_ok(&format!(
        "courtier pub -p {p} -V 5 -q 2 -t mix/b -m courtier5"
    ));
    run_ok(&format!(
        "courtier pub -L mqtt://127.0.0.1:{p}/mix/b -q 1 -m by-url"
    ));
    let out = sub.finish();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        sorted_lines(&out.stdout),
        ["mix/b by-url", "mix/b courtier5"]
    );
}

#[test]
fn websocket_to_our_broker() {
    let b = start_broker(&["--http", "127.0.0.1:0"]);
    let (p, http) = (b.port(), b.http.expect("http listener"));
    let sub = Subscriber::start(&format!(
        "courtier sub -L ws://{http}/mqtt -V 5 -q 1 -t ws/# -v -C 2"
    ));
    run_ok(&format!(
        "courtier pub -L ws://{http}/mqtt -q 2 -t ws/a -m over-ws"
    ));
    run_ok(&format!("courtier pub -p {p} -q 1 -t ws/b -m over-tcp"));
    let out = sub.finish();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sorted_lines(&out.stdout), ["ws/a over-ws", "ws/b over-tcp"]);
}

#[test]
fn tls_to_our_broker_verifies_the_ca() {
    let pki = TestPki::new();
    let mut args = vec!["--tls".to_owned(), "127.0.0.1:0".to_owned()];
    args.extend(pki.broker_args());
    let b = start_broker(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let (p, tls) = (b.port(), b.tls.expect("tls listener").port());
    let (ca, other) = (pki.ca(), pki.other_ca());
    let sub = Subscriber::start(&format!("courtier sub -p {p} -t secure -C 2"));
    let url = format!("mqtts://localhost:{tls}/secure");
    run_ok(&format!(
        "courtier pub -L {url} --cafile {} -q 1 -m sealed",
        ca.display()
    ));
    // The certificate also names 127.0.0.1: an address is checked like a name.
    let by_address = format!("mqtts://127.0.0.1:{tls}/secure");
    run_ok(&format!(
        "courtier pub -L {by_address} --cafile {} -m by-address",
        ca.display()
    ));
    let out = sub.finish();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sorted_lines(&out.stdout), ["by-address", "sealed"]);

    let out = run(
        &format!("courtier pub -L {url} --cafile {} -m x", other.display()),
        b"",
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.starts_with("Error: TLS with localhost:"),
        "{out:?}"
    );
    let out = run(&format!("courtier pub -L {url} -m x"), b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("need --cafile"), "{out:?}");
}

/// A Mosquitto broker on a free port, killed on drop.
struct Mosquitto {
    child: Child,
    port: u16,
    _conf: tempfile::NamedTempFile,
    /// Its log, kept open (and read) for as long as it runs.
    _log: mpsc::Receiver<String>,
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mosquitto {
    /// Start `/usr/sbin/mosquitto` with `extra` configuration lines and wait
    /// until it accepts connections.
    fn start(extra: &str) -> Self {
        // Ask the kernel for a free port, then hand it to Mosquitto.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut conf = tempfile::NamedTempFile::new().expect("temp conf");
        // Its log says when it listens: "mosquitto version X running".
        writeln!(conf, "listener {port} 127.0.0.1\nlog_dest stderr\n{extra}").expect("write conf");
        let mut child = Command::new("/usr/sbin/mosquitto")
            .arg("-c")
            .arg(conf.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mosquitto");
        let log = lines_of(child.stderr.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match log.recv_timeout(left) {
                Ok(line) if line.ends_with(" running") => break,
                Ok(_) => {}
                Err(_) => panic!("mosquitto did not say it runs on {port}"),
            }
        }
        Self {
            child,
            port,
            _conf: conf,
            _log: log,
        }
    }
}

#[test]
fn pub_and_sub_against_mosquitto_itself() {
    let m = Mosquitto::start("allow_anonymous true");
    let p = m.port;
    for v in ["5", "311"] {
        let sub = Subscriber::start(&format!("courtier sub -p {p} -V {v} -q 2 -t m/# -v -C 3"));
        for q in [0, 1, 2] {
            run_ok(&format!("courtier pub -p {p} -V {v} -q {q} -t m/x -m {q}"));
        }
        let out = sub.finish();
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            sorted_lines(&out.stdout),
            ["m/x 0", "m/x 1", "m/x 2"],
            "v{v}"
        );
    }
}

#[test]
fn a_refused_connection_exits_with_mosquittos_code_and_names_the_reason() {
    let m = Mosquitto::start("allow_anonymous false");
    let p = m.port;
    let out = run(&format!("courtier pub -p {p} -V 5 -t t -m x"), b"");
    assert_eq!(out.code, 0x87, "{out:?}");
    assert_eq!(out.stderr.trim(), "Connection error: 0x87 not authorized");
    let out = run(&format!("courtier sub -p {p} -t t"), b"");
    assert_eq!(out.code, 5, "the 3.1.1 return code: {out:?}");
    assert_eq!(out.stderr.trim(), "Connection error: 0x87 not authorized");
    drop(m);
    let out = run(&format!("courtier pub -p {p} -t t -m x"), b"");
    assert_eq!(out.code, 1, "{out:?}");
    let expected = format!("Error: cannot connect to localhost:{p}");
    assert!(out.stderr.starts_with(&expected), "{out:?}");
}
