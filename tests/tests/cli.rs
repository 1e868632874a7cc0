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
