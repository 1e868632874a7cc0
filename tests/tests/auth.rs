//! Authentication against the real binary: Mosquitto password files used
//! unchanged, `courtier passwd`, CONNACK codes in 3.1.1 and 5, and the
//! anonymous policy (loopback-only default, `--allow-anonymous`).

use std::path::Path;
use std::process::{Command, Stdio};

use courtier_e2e::{RawClient, broker_binary, connect_packet, start_broker, start_fails};
use courtier_proto::packet::Connect;
use courtier_proto::{Packet, ProtocolVersion, ReasonCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

fn login(version: ProtocolVersion, user: Option<&str>, password: Option<&str>) -> Connect {
    let mut c = connect_packet(version, "auth-test");
    c.username = user.map(Into::into);
    c.password = password.map(|p| bytes::Bytes::copy_from_slice(p.as_bytes()));
    c
}

/// CONNECT and return the CONNACK reason (3.1.1 return codes come back as
/// their v5 equivalents: 4 = 0x86, 5 = 0x87). A refusal must also close the
/// connection ([MQTT-3.2.2-5]).
async fn connack_reason(b: &courtier_e2e::BrokerProcess, connect: Connect) -> ReasonCode {
    let mut c = RawClient::open(b.addr, connect.protocol).await;
    c.send(&Packet::Connect(Box::new(connect))).await;
    let reason = match c.recv().await {
        Packet::ConnAck(a) => a.reason,
        other => panic!("expected CONNACK, got {other:?}"),
    };
    if !reason.is_success() {
        assert_eq!(
            c.expect_closed().await,
            [],
            "nothing after a refusing CONNACK"
        );
    }
    reason
}

fn run(program: &Path, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(status.success(), "{} {args:?}: {status}", program.display());
}

fn mosquitto_passwd(args: &[&str]) {
    run(Path::new("/usr/bin/mosquitto_passwd"), args);
}

fn courtier_passwd(args: &[&str]) {
    let mut all = vec!["passwd"];
    all.extend_from_slice(args);
    run(&broker_binary(), &all);
}

#[tokio::test]
async fn mosquitto_password_files_are_used_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("mosquitto.pw");
    let f = file.to_str().expect("utf-8 path");
    // 2.x default ($7$, PBKDF2-SHA512) and the 1.x format ($6$, SHA-512).
    mosquitto_passwd(&["-c", "-b", f, "alice", "wonder land"]);
    mosquitto_passwd(&["-H", "sha512", "-b", f, "bob", "builder"]);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("alice:$7$101$"), "{text}");
    assert!(text.contains("bob:$6$"), "{text}");

    let b = start_broker(&["--password-file", f]);
    for v in VERSIONS {
        for (user, pass) in [("alice", "wonder land"), ("bob", "builder")] {
            let got = connack_reason(&b, login(v, Some(user), Some(pass))).await;
            assert_eq!(got, ReasonCode::Success, "{v:?} {user}");
        }
        for (user, pass) in [
            ("alice", Some("wonderland")),
            ("bob", Some("builder ")),
            ("carol", Some("builder")),
            ("alice", None),
        ] {
            let got = connack_reason(&b, login(v, Some(user), pass)).await;
            assert_eq!(
                got,
                ReasonCode::BadUserNameOrPassword,
                "{v:?} {user} {pass:?}"
            );
        }
        let got = connack_reason(&b, login(v, None, None)).await;
        assert_eq!(got, ReasonCode::NotAuthorized, "{v:?} anonymous");
    }
}

#[tokio::test]
async fn refusal_codes_on_the_wire() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    let f = file.to_str().expect("utf-8 path");
    courtier_passwd(&["-c", "-b", f, "u", "p"]);
    let b = start_broker(&["--password-file", f]);
    // Read the raw CONNACK bytes, not the decoded model: 3.1.1 return codes
    // 4 and 5, v5 reason codes 0x86 and 0x87 ([MQTT-3.2.2-*], 3.2.2.2).
    for (version, user, code) in [
        (ProtocolVersion::V3_1_1, Some("u"), 4u8),
        (ProtocolVersion::V3_1_1, None, 5),
        (ProtocolVersion::V5, Some("u"), 0x86),
        (ProtocolVersion::V5, None, 0x87),
    ] {
        let mut raw = Vec::new();
        let mut buf = bytes::BytesMut::new();
        // 3.1.1 forbids a password without a user name ([MQTT-3.1.2-22]).
        let password = user.map(|_| "wrong");
        Packet::Connect(Box::new(login(version, user, password)))
            .encode(version, &mut buf)
            .expect("encode");
        let mut s = tokio::net::TcpStream::connect(b.addr)
            .await
            .expect("connect");
        s.write_all(&buf).await.expect("send");
        tokio::time::timeout(courtier_e2e::TIMEOUT, s.read_to_end(&mut raw))
            .await
            .expect("the broker answers and closes")
            .expect("read");
        assert_eq!(raw[0], 0x20, "CONNACK: {raw:?}");
        assert_eq!(raw[3], code, "{version:?} user {user:?}: {raw:?}");
    }
}

#[tokio::test]
async fn anonymous_needs_allow_anonymous_once_a_password_file_is_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    let f = file.to_str().expect("utf-8 path");
    courtier_passwd(&["-c", "-b", f, "u", "p"]);
    let b = start_broker(&["--password-file", f, "--allow-anonymous", "true"]);
    for v in VERSIONS {
        assert_eq!(
            connack_reason(&b, login(v, None, None)).await,
            ReasonCode::Success
        );
        // A user name is still checked.
        let got = connack_reason(&b, login(v, Some("u"), Some("x"))).await;
        assert_eq!(got, ReasonCode::BadUserNameOrPassword);
        let got = connack_reason(&b, login(v, Some("u"), Some("p"))).await;
        assert_eq!(got, ReasonCode::Success);
    }
}

#[tokio::test]
async fn loopback_only_allows_anonymous_and_a_public_listener_does_not() {
    let local = start_broker(&[]);
    let public = start_broker(&["--tcp", "0.0.0.0:0"]);
    let opened = start_broker(&["--tcp", "0.0.0.0:0", "--allow-anonymous", "true"]);
    for v in VERSIONS {
        assert_eq!(
            connack_reason(&local, login(v, None, None)).await,
            ReasonCode::Success
        );
        assert_eq!(
            connack_reason(&public, login(v, None, None)).await,
            ReasonCode::NotAuthorized
        );
        // Without a password file a user name proves nothing.
        assert_eq!(
            connack_reason(&public, login(v, Some("anyone"), Some("x"))).await,
            ReasonCode::NotAuthorized
        );
        assert_eq!(
            connack_reason(&opened, login(v, None, None)).await,
            ReasonCode::Success
        );
    }
}

#[tokio::test]
async fn courtier_passwd_adds_changes_and_deletes_users() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    let f = file.to_str().expect("utf-8 path");
    // Start from a Mosquitto file: its lines must survive our rewrite.
    mosquitto_passwd(&["-c", "-b", f, "old", "timer"]);
    courtier_passwd(&["-b", f, "new", "comer"]);
    courtier_passwd(&["-b", f, "gone", "soon"]);
    courtier_passwd(&["-D", f, "gone"]);
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("old:$7$"), "{text}");
    assert!(text.contains("new:$argon2id$v=19$"), "{text}");
    assert!(!text.contains("gone:"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let b = start_broker(&["--password-file", f]);
    for v in VERSIONS {
        for (user, pass, expect) in [
            ("old", "timer", ReasonCode::Success),
            ("new", "comer", ReasonCode::Success),
            ("new", "timer", ReasonCode::BadUserNameOrPassword),
            ("gone", "soon", ReasonCode::BadUserNameOrPassword),
        ] {
            let got = connack_reason(&b, login(v, Some(user), Some(pass))).await;
            assert_eq!(got, expect, "{v:?} {user}");
        }
    }

    // -D of a missing user fails and leaves the file alone.
    let status = Command::new(broker_binary())
        .args(["passwd", "-D", f, "nobody"])
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert!(!status.success());
    assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
}

#[test]
fn clear_text_password_files_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    std::fs::write(&file, "# users\nalice:secret\n").expect("write");
    let (code, stderr) = start_fails(&["--password-file", file.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("password_file"), "{stderr}");
    assert!(stderr.contains("pw:2: user `alice`"), "{stderr}");
    assert!(stderr.contains("clear text"), "{stderr}");
}

/// The fourth failure in a row from one address waits at least 250 ms, the
/// fifth at least 500 ms (`auth::throttle`); only lower bounds are asserted,
/// which a slow machine cannot break.
#[tokio::test]
async fn repeated_failures_from_one_address_are_slowed_down() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pw");
    let f = file.to_str().expect("utf-8 path");
    courtier_passwd(&["-c", "-b", f, "u", "p"]);
    let b = start_broker(&["--password-file", f]);
    let mut waits = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let got = connack_reason(&b, login(ProtocolVersion::V5, Some("u"), Some("guess"))).await;
        assert_eq!(got, ReasonCode::BadUserNameOrPassword);
        waits.push(started.elapsed());
    }
    assert!(
        waits[3] >= std::time::Duration::from_millis(250),
        "{waits:?}"
    );
    assert!(
        waits[4] >= std::time::Duration::from_millis(500),
        "{waits:?}"
    );
    // The right password is still accepted, and resets the count.
    let got = connack_reason(&b, login(ProtocolVersion::V5, Some("u"), Some("p"))).await;
    assert_eq!(got, ReasonCode::Success);
}
