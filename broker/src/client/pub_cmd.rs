//! `courtier pub`: connect, publish one message (or one per input line),
//! wait until each is acknowledged for its QoS, disconnect cleanly.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

use bytes::Bytes;
use courtier_proto::TopicName;
use courtier_proto::session::Event;
use tokio::sync::mpsc;

use super::args::{ArgsError, PubArgs};
use super::driver::{Command, DriverEvent};
use super::{ClientError, Connection};

/// Publishes handed to the session and not yet complete. It bounds the
/// session's queue (far below its `max_queued`) and, being below the
/// driver's event capacity, guarantees the driver never blocks on a full
/// event channel while we block on a command.
const WINDOW: usize = 64;

/// Lines read ahead from standard input for `-l`.
const LINES_AHEAD: usize = 64;

/// Where the messages come from.
enum Source {
    /// `-m`, `-f`, `-n`, `-s`: one message, read before connecting.
    One(Bytes),
    /// `-l`: one message per line of standard input, read as they come.
    Lines(mpsc::Receiver<io::Result<Bytes>>),
}

/// Run `courtier pub`.
pub async fn run(args: PubArgs) -> Result<(), ClientError> {
    let resolved = args.connect.resolve("pub")?;
    let topic = args.topic.clone().or(resolved.url_topic).ok_or_else(|| {
        ArgsError::Invalid(
            "give the topic with -t TOPIC (or as the path of an -L mqtt:// URL)".into(),
        )
    })?;
    let topic = TopicName::new(topic.as_str())
        .map_err(|e| ArgsError::Invalid(format!("-t {topic}: {e}")))?;
    let mut source = source(&args)?;
    let version = resolved.options.version;
    let mut conn = Connection::open(&args.connect, &resolved.endpoint, resolved.options).await?;

    let mut pending: VecDeque<Bytes> = VecDeque::new();
    if let Source::One(payload) = &source {
        pending.push_back(payload.clone());
    }
    let mut lines_open = matches!(source, Source::Lines(_));
    let (mut connected, mut outstanding, mut stopping) = (false, 0usize, false);
    let mut failure = None;
    loop {
        if connected && !stopping {
            while outstanding < WINDOW {
                let Some(payload) = pending.pop_front() else {
                    break;
                };
                let command = Command::Publish {
                    topic: topic.clone(),
                    payload,
                    qos: args.connect.qos,
                    retain: args.retain,
                };
                if conn.commands.send(command).await.is_err() {
                    break;
                }
                outstanding += 1;
            }
            if pending.is_empty() && !lines_open && outstanding == 0 {
                stopping = true;
                conn.disconnect().await;
            }
        }
        let want_line = connected && !stopping && lines_open && pending.is_empty();
        tokio::select! {
            event = conn.events.recv() => {
                let Some(event) = event else { break };
                let error = match event {
                    DriverEvent::Session(Event::Connected { .. }) => {
                        connected = true;
                        None
                    }
                    DriverEvent::Session(Event::Published { result, .. }) => {
                        outstanding = outstanding.saturating_sub(1);
                        result.err().map(ClientError::Publish)
                    }
                    DriverEvent::Rejected(e) => {
                        outstanding = outstanding.saturating_sub(1);
                        Some(ClientError::Publish(e))
                    }
                    DriverEvent::Session(other) => ClientError::from_end(&other, version),
                };
                if let Some(e) = error {
                    failure.get_or_insert(e);
                    if !stopping {
                        stopping = true;
                        conn.disconnect().await;
                    }
                }
            }
            line = next_line(&mut source), if want_line => match line {
                Some(Ok(payload)) => pending.push_back(payload),
                Some(Err(source)) => {
                    failure.get_or_insert(ClientError::Input { what: "standard input".into(), source });
                    lines_open = false;
                }
                None => lines_open = false,
            },
        }
    }
    conn.finish(failure).await
}

async fn next_line(source: &mut Source) -> Option<io::Result<Bytes>> {
    match source {
        Source::Lines(lines) => lines.recv().await,
        Source::One(_) => None,
    }
}

/// The message source the options name (clap makes them exclusive).
fn source(args: &PubArgs) -> Result<Source, ClientError> {
    if let Some(m) = &args.message {
        return Ok(Source::One(Bytes::from(m.clone())));
    }
    if let Some(path) = &args.file {
        return std::fs::read(path)
            .map(|b| Source::One(b.into()))
            .map_err(|source| ClientError::Input {
                what: path.display().to_string(),
                source,
            });
    }
    if args.stdin_file {
        let mut all = Vec::new();
        return io::stdin()
            .lock()
            .read_to_end(&mut all)
            .map(|_| Source::One(all.into()))
            .map_err(|source| ClientError::Input {
                what: "standard input".into(),
                source,
            });
    }
    if args.stdin_line {
        return Ok(Source::Lines(spawn_line_reader()));
    }
    Ok(Source::One(Bytes::new()))
}

/// Read standard input on a thread of its own (it blocks, and tokio has no
/// `io-std` here), one message per line without its `\n`, as mosquitto_pub does.
fn spawn_line_reader() -> mpsc::Receiver<io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(LINES_AHEAD);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        loop {
            let mut line = Vec::new();
            let item = match stdin.read_until(b'\n', &mut line) {
                Ok(0) => return,
                Ok(_) => {
                    if line.last() == Some(&b'\n') {
                        line.pop();
                    }
                    Ok(Bytes::from(line))
                }
                Err(e) => Err(e),
            };
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });
    rx
}
