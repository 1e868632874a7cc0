//! The command line: one clear error line for a bad flag, key or value.

use std::process::Command;

use courtier_e2e::broker_binary;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(broker_binary())
        .args(args)
        .output()
        .expect("run courtier");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_key_in_the_file_gives_one_line_naming_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("courtier-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("courtier.toml");
    std::fs::write(&file, "tcp = [\"127.0.0.1:0\"]\nmax_keepalve = 30\n").expect("write");
    let (code, stderr) = run(&["--config", file.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("courtier.toml:2"), "{stderr}");
    assert!(stderr.contains("max_keepalve"), "{stderr}");
}

#[test]
fn an_out_of_range_value_names_the_key() {
    let (code, stderr) = run(&["--receive-maximum", "0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("receive_maximum"), "{stderr}");
}

#[test]
fn a_bad_flag_value_is_reported_by_the_parser() {
    for args in [&["--tcp", "not-an-address"][..], &["--no-such-flag"][..]] {
        let (code, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
}

#[test]
fn json_logs_are_one_object_a_line() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = Command::new(broker_binary())
        .args(["--tcp", "127.0.0.1:0", "--in-memory", "--sys-interval", "0"])
        .args(["--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the broker");
    let stdout = child.stdout.take().expect("stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "courtier ready");
    assert!(ready, "the broker did not get ready");
    // SIGTERM: a graceful stop, which logs too.
    let status = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(child.wait().expect("wait").success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["fields"].is_object())
    );
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with("authentication:")),
        "{messages:?}"
    );
    assert!(messages.contains(&"shutting down"), "{messages:?}");
}
