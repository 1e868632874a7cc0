//! Harness for the end-to-end tests: start the real `courtier` binary on
//! port 0 and talk to it over real sockets.
//!
//! - [`start_broker`] runs the binary, reads the `courtier listening tcp ADDR`
//!   line it prints to learn the port (no sleeps, no port guessing), and
//!   kills it when the [`BrokerProcess`] is dropped.
//! - [`deflate::DeflateClient`] speaks permessage-deflate frames by hand.
//! - [`certs::TestPki`] makes a CA and certificates for the TLS tests;
//!   [`transport::AnyClient`] speaks raw packets over TCP, TLS, WS or WSS.
//! - [`RawClient`] speaks raw packets through `courtier-proto`, for the
//!   protocol edge cases an ordinary client library would never produce.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::BytesMut;
use courtier_proto::packet::{
    Connect, ConnectProperties, Publish, PublishProperties, QosPid, Subscribe, SubscribeProperties,
    Subscription, SubscriptionOptions,
};
use courtier_proto::{
    Decoder, Packet, PacketId, ProtocolVersion, QoS, ReasonCode, TopicFilter, TopicName,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub mod browser;
pub mod certs;
pub mod deflate;
pub mod http;
pub mod transport;
pub mod ws;

/// How long any single expectation may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A running broker process, killed on drop.
#[derive(Debug)]
pub struct BrokerProcess {
    child: Child,
    /// The MQTT TCP address it listens on.
    pub addr: SocketAddr,
    /// The HTTP (WebSocket) address, when started with `--http`.
    pub http: Option<SocketAddr>,
    /// The MQTT over TLS address, when started with `--tls`.
    pub tls: Option<SocketAddr>,
    /// The HTTPS (secure WebSocket) address, when started with `--https`.
    pub https: Option<SocketAddr>,
    /// Its stdout lines after `courtier ready` (`courtier reloaded ...`).
    stdout: std::sync::Mutex<std::sync::mpsc::Receiver<String>>,
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BrokerProcess {
    /// Wait for the broker to print a stdout line containing `needle` (one
    /// of its machine-readable lines, like `courtier reloaded ok (SIGHUP)`),
    /// skipping the lines before it; panics after twice [`TIMEOUT`].
    pub fn wait_for_line(&self, needle: &str) -> String {
        let lines = self.stdout.lock().expect("stdout receiver");
        let deadline = std::time::Instant::now() + 2 * TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("the broker printed no line with {needle:?}: {e}"),
            }
        }
    }

    /// Send a signal (`"HUP"`, `"TERM"`, ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `kill -9`: SIGKILL (what `Child::kill` sends on Unix) and reap it. The
    /// broker gets no chance to flush anything.
    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL the broker");
        let _ = self.child.wait();
    }

    /// Send SIGTERM and wait for the process to exit (bounded by [`TIMEOUT`]).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        wait_within(&mut self.child, TIMEOUT).expect("broker did not exit after SIGTERM")
    }
}

/// Wait for `child` to exit, at most `timeout`: the exit itself is awaited
/// (a thread blocked in `wait`), not polled. On time out the child is
/// killed and `None` comes back.
pub fn wait_within(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let pid = child.id().to_string();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        scope.spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(timeout) {
            Ok(status) => status.ok(),
            Err(_) => {
                // The waiting thread returns once the child is gone.
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
                None
            }
        }
    })
}

/// The broker binary: `$COURTIER_BIN`, else `<workspace>/target/debug/courtier`.
pub fn broker_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("COURTIER_BIN") {
        return PathBuf::from(path);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("debug").join("courtier")
}

/// Start the broker with `args` on `127.0.0.1:0` and wait until it listens.
pub fn start_broker(args: &[&str]) -> BrokerProcess {
    let bin = broker_binary();
    assert!(
        bin.exists(),
        "broker binary {} not found: run `cargo build -p courtier` (or `cargo test --workspace`, which builds it) or set COURTIER_BIN",
        bin.display()
    );
    let mut child = Command::new(&bin)
        .args(["--tcp", "127.0.0.1:0"])
        // `$SYS` updates off unless a test asks for them, so they never interleave.
        .args(if args.contains(&"--sys-interval") {
            &[][..]
        } else {
            &["--sys-interval", "0"][..]
        })
        // Nothing on disk unless a test asks for a store: tests run in parallel.
        .args(if args.contains(&"--data-dir") {
            &[][..]
        } else {
            &["--in-memory"][..]
        })
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    // The broker prints `courtier listening tcp|http ADDR` per listener, then `courtier ready`.
    let (mut addr, mut http, mut tls, mut https) = (None, None, None, None);
    loop {
        match lines.next() {
            Some(Ok(line)) if line == "courtier ready" => break,
            Some(Ok(line)) => {
                let mut words = line.split_whitespace();
                if let (Some("courtier"), Some("listening"), Some(kind), Some(a)) =
                    (words.next(), words.next(), words.next(), words.next())
                {
                    let a: SocketAddr = a.parse().expect("listening line carries an address");
                    // The first address of each kind is the one tests use.
                    let slot = match kind {
                        "tcp" => &mut addr,
                        "http" => &mut http,
                        "tls" => &mut tls,
                        "https" => &mut https,
                        _ => continue,
                    };
                    *slot = slot.or(Some(a));
                }
            }
            _ => {
                let status = child.wait();
                panic!("broker exited before it was ready: {status:?}");
            }
        }
    }
    let addr = addr.expect("the broker reported a TCP listener");
    // Keep draining stdout so the broker never blocks on a full pipe; the
    // lines go to `wait_for_line` (unread ones are dropped with the process).
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    BrokerProcess {
        child,
        addr,
        http,
        tls,
        https,
        stdout: std::sync::Mutex::new(receiver),
    }
}

/// Start the broker with its store in `dir` (the durability tests restart
/// it on the same directory), plus `args`.
pub fn start_broker_in(dir: &std::path::Path, args: &[&str]) -> BrokerProcess {
    let dir = dir.to_str().expect("a UTF-8 temporary directory");
    let mut all = vec!["--data-dir", dir];
    all.extend_from_slice(args);
    start_broker(&all)
}

/// Run the broker with `args` (TCP on port 0, `$SYS` off) expecting it to
/// refuse to start: returns its exit code and stderr.
pub fn start_fails(args: &[&str]) -> (Option<i32>, String) {
    let child = Command::new(broker_binary())
        .args(["--tcp", "127.0.0.1:0", "--sys-interval", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the broker: {e}"));
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = match rx.recv_timeout(TIMEOUT) {
        Ok(out) => out.expect("wait for the broker"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the broker started despite {args:?}");
        }
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A raw MQTT client: packets in, packets out, nothing hidden.
#[derive(Debug)]
pub struct RawClient {
    stream: TcpStream,
    rbuf: BytesMut,
    decoder: Decoder,
    /// The protocol version used to encode and decode.
    pub version: ProtocolVersion,
}

impl RawClient {
    /// Open a TCP connection; nothing is sent yet.
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Self {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect failed");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            rbuf: BytesMut::new(),
            decoder: Decoder::with_version(u32::MAX, version),
            version,
        }
    }

    /// Open, send CONNECT, and expect a successful CONNACK; returns it.
    pub async fn connect(addr: SocketAddr, connect: Connect) -> (Self, Packet) {
        let mut c = Self::open(addr, connect.protocol).await;
        c.send(&Packet::Connect(Box::new(connect))).await;
        let ack = c.recv().await;
        match &ack {
            Packet::ConnAck(a) => assert!(a.reason.is_success(), "CONNACK refused: {a:?}"),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        (c, ack)
    }

    /// The client's own address, as the broker sees it over loopback.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("a connected socket")
    }

    /// Encode and send one packet.
    pub async fn send(&mut self, packet: &Packet) {
        let mut buf = BytesMut::new();
        packet
            .encode(self.version, &mut buf)
            .expect("test packet encodes");
        self.send_bytes(&buf).await;
    }

    /// Send raw bytes.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write failed");
    }

    /// The next packet, or `None` if the connection closed. Fails the test after [`TIMEOUT`].
    pub async fn next(&mut self) -> Option<Packet> {
        self.next_within(TIMEOUT)
            .await
            .expect("timed out waiting for a packet")
    }

    /// The next packet within `wait`: `Err(())` on timeout, `Ok(None)` on close.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Option<Packet>, ()> {
        let fut = async {
            loop {
                match self.decoder.decode(&mut self.rbuf) {
                    Ok(Some(p)) => return Some(p),
                    Ok(None) => {}
                    Err(e) => panic!("broker sent an undecodable packet: {e}"),
                }
                match self.stream.read_buf(&mut self.rbuf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(wait, fut).await.map_err(|_| ())
    }

    /// The next packet; fails if the connection closes first.
    pub async fn recv(&mut self) -> Packet {
        self.next()
            .await
            .expect("connection closed while a packet was expected")
    }

    /// Expect the connection to close; returns the packets received before that.
    pub async fn expect_closed(&mut self) -> Vec<Packet> {
        let mut seen = Vec::new();
        while let Some(p) = self.next().await {
            seen.push(p);
        }
        seen
    }

    /// Assert that nothing arrives within `wait` (used only to check absence,
    /// never to synchronise).
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Ok(p) = self.next_within(wait).await {
            panic!("expected nothing, got {p:?}");
        }
    }

    /// Subscribe to one filter and wait for SUBACK.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Packet {
        self.subscribe_with(
            filter,
            SubscriptionOptions {
                qos,
                ..Default::default()
            },
            None,
        )
        .await
    }

    /// Subscribe to one filter at QoS 1 and return the SUBACK's reason code
    /// (granted or refused).
    pub async fn subscribe_reason(&mut self, filter: &str) -> ReasonCode {
        match self.subscribe(filter, QoS::AtLeastOnce).await {
            Packet::SubAck(s) => s.reason_codes[0],
            other => unreachable!("subscribe returns only a SUBACK, got {other:?}"),
        }
    }

    /// Subscribe with options and an optional subscription identifier.
    pub async fn subscribe_with(
        &mut self,
        filter: &str,
        options: SubscriptionOptions,
        identifier: Option<u32>,
    ) -> Packet {
        let sub = Subscribe {
            packet_id: pid(1),
            subscriptions: vec![Subscription {
                filter: TopicFilter::new(filter.to_owned()).expect("filter"),
                options,
            }],
            properties: SubscribeProperties {
                subscription_identifier: identifier.and_then(std::num::NonZeroU32::new),
                user_properties: Vec::new(),
            },
        };
        self.send(&Packet::Subscribe(sub)).await;
        let ack = self.recv().await;
        assert!(
            matches!(ack, Packet::SubAck(_)),
            "expected SUBACK, got {ack:?}"
        );
        ack
    }

    /// Expect a PUBLISH next and return it.
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => p,
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
}

/// A packet id from a number (test input is never 0).
pub fn pid(n: u16) -> PacketId {
    PacketId::new(n).expect("non-zero packet id")
}

/// A CONNECT for `version` and `client_id` with clean start and no keep alive.
pub fn connect_packet(version: ProtocolVersion, client_id: &str) -> Connect {
    Connect {
        protocol: version,
        clean_start: true,
        keep_alive: 0,
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
        properties: ConnectProperties::default(),
    }
}

/// A PUBLISH with the given topic, payload and QoS (packet id `id` if QoS > 0).
pub fn publish_msg(topic: &str, payload: &'static [u8], qos: QoS, id: u16) -> Publish {
    Publish {
        dup: false,
        qos_pid: QosPid::new(qos, pid(id.max(1))),
        retain: false,
        topic: TopicName::new(topic.to_owned()).expect("topic"),
        properties: PublishProperties::default(),
        payload: bytes::Bytes::from_static(payload),
    }
}

/// [`publish_msg`] as a packet.
pub fn publish(topic: &str, payload: &'static [u8], qos: QoS, id: u16) -> Packet {
    Packet::Publish(publish_msg(topic, payload, qos, id))
}

/// A successful acknowledgement of `kind` for packet id `id`.
pub fn ack(kind: courtier_proto::packet::AckKind, id: PacketId) -> Packet {
    Packet::Ack(courtier_proto::packet::Ack::new(kind, id))
}

/// A PUBLISH whose payload is the decimal number `n`, so a subscriber can account for every
/// message by sequence number.
pub fn numbered(topic: &str, n: impl std::fmt::Display, qos: QoS, id: u16) -> Packet {
    Packet::Publish(Publish {
        payload: bytes::Bytes::from(n.to_string()),
        ..publish_msg(topic, b"", qos, id)
    })
}

/// A PUBLISH like [`publish`] with RETAIN set.
pub fn publish_retained(topic: &str, payload: &'static [u8], qos: QoS, id: u16) -> Packet {
    Packet::Publish(Publish {
        retain: true,
        ..publish_msg(topic, payload, qos, id)
    })
}
