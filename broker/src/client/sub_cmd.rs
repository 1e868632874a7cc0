//! `courtier sub`: connect, subscribe, print each message's payload (after
//! its topic with `-v`) on its own line, until `-C` messages, `-W` seconds,
//! Ctrl-C, or the connection ends.

use std::io::{self, Write};
use std::time::Duration;

use courtier_proto::TopicFilter;
use courtier_proto::packet::{Publish, Subscription, SubscriptionOptions};
use courtier_proto::session::Event;
use tokio::time::Instant;

use super::args::{ArgsError, SubArgs};
use super::driver::{Command, DriverEvent, sleep_until};
use super::{ClientError, Connection};

/// Run `courtier sub`.
pub async fn run(args: SubArgs) -> Result<(), ClientError> {
    let resolved = args.connect.resolve("sub")?;
    let subscriptions = subscriptions(&args, resolved.url_topic.as_deref())?;
    let version = resolved.options.version;
    let deadline = args
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(s));
    // -W covers connecting too, as in mosquitto_sub.
    let open = Connection::open(&args.connect, &resolved.endpoint, resolved.options);
    let mut conn = match deadline {
        Some(at) => tokio::time::timeout_at(at, open)
            .await
            .map_err(|_| ClientError::TimedOut)??,
        None => open.await?,
    };

    let mut stdout = io::stdout().lock();
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let (mut received, mut stopping, mut failure) = (0u64, false, None);
    loop {
        let error = tokio::select! {
            event = conn.events.recv() => match event {
                None => break,
                Some(DriverEvent::Session(Event::Connected { .. })) => {
                    let _ = conn.commands.send(Command::Subscribe(subscriptions.clone())).await;
                    None
                }
                Some(DriverEvent::Session(Event::Subscribed { result, .. })) => match result {
                    Ok(suback) => check_suback(&subscriptions, &suback.reason_codes),
                    Err(e) => Some(ClientError::Subscribe(e.to_string())),
                },
                Some(DriverEvent::Session(Event::Message(publish))) => {
                    if stopping || (args.no_retained && publish.retain) {
                        continue;
                    }
                    if let Err(e) = print(&mut stdout, &publish, args.verbose) {
                        Some(ClientError::Output(e))
                    } else {
                        received += 1;
                        if args.count.is_some_and(|c| received >= c) {
                            stopping = true;
                            conn.disconnect().await;
                        }
                        None
                    }
                }
                Some(DriverEvent::Rejected(e)) => Some(ClientError::Subscribe(e.to_string())),
                Some(DriverEvent::Session(other)) => ClientError::from_end(&other, version),
            },
            () = sleep_until(deadline), if deadline.is_some() && !stopping => Some(ClientError::TimedOut),
            _ = &mut interrupted, if !stopping => {
                stopping = true;
                conn.disconnect().await;
                None
            }
        };
        if let Some(e) = error {
            failure.get_or_insert(e);
            if !stopping {
                stopping = true;
                conn.disconnect().await;
            }
        }
    }
    conn.finish(failure).await
}

/// The subscriptions `-t` (and an mqtt:// URL's path) ask for, at `-q`.
fn subscriptions(args: &SubArgs, url_topic: Option<&str>) -> Result<Vec<Subscription>, ArgsError> {
    let topics: Vec<&str> = args
        .topic
        .iter()
        .map(String::as_str)
        .chain(url_topic)
        .collect();
    if topics.is_empty() {
        return Err(ArgsError::Invalid(
            "give at least one topic filter with -t TOPIC (or as the path of an -L mqtt:// URL)"
                .into(),
        ));
    }
    topics
        .into_iter()
        .map(|t| {
            let filter =
                TopicFilter::new(t).map_err(|e| ArgsError::Invalid(format!("-t {t}: {e}")))?;
            Ok(Subscription {
                filter,
                options: SubscriptionOptions {
                    qos: args.connect.qos,
                    ..SubscriptionOptions::default()
                },
            })
        })
        .collect()
}

/// A refused filter is a warning while others were granted (as
/// mosquitto_sub); all refused is an error.
fn check_suback(
    subscriptions: &[Subscription],
    codes: &[courtier_proto::ReasonCode],
) -> Option<ClientError> {
    let mut refused = 0;
    for (sub, code) in subscriptions.iter().zip(codes) {
        if !code.is_success() {
            refused += 1;
            eprintln!(
                "Warning: subscription to {} refused: {code}",
                sub.filter.as_str()
            );
        }
    }
    (refused == codes.len())
        .then(|| ClientError::Subscribe("the server refused every subscription request".into()))
}

/// The payload verbatim and a newline, flushed so that a reader of a pipe
/// sees each message as it arrives.
fn print(out: &mut impl Write, publish: &Publish, verbose: bool) -> io::Result<()> {
    if verbose {
        out.write_all(publish.topic.as_str().as_bytes())?;
        out.write_all(b" ")?;
    }
    out.write_all(&publish.payload)?;
    out.write_all(b"\n")?;
    out.flush()
}
