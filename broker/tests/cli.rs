//! The `courtier` binary's command line. Having an integration test here
//! also makes `cargo test --workspace` build the binary that the
//! end-to-end tests in `tests/` run.

use std::process::Command;

fn courtier(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_courtier"))
        .args(args)
        .output()
        .expect("run courtier")
}

#[test]
fn help_lists_every_configuration_key_as_a_flag() {
    let out = courtier(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config",
        "--tcp",
        "--http",
        "--web-root",
        "--data-dir",
        "--max-keepalive",
        "--receive-maximum",
        "--max-packet-size",
        "--max-queued-messages",
        "--max-inflight",
        "--connect-timeout",
        "--sys-interval",
        "--max-connections",
        "--topic-alias-maximum",
        "--max-session-expiry",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn version_names_the_program() {
    let out = courtier(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("courtier "));
}
