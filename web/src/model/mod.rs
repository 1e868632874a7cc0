//! The web app's state and every change to it, as a pure reducer: the Yew app wraps
//! [`AppState`] in a `Reducible` and only renders it, so the behaviour is unit-tested natively.
//!
//! # Layout
//! - [`payload`]: payload encodings for publishing and views for reading.
//! - [`form`]: the connect / subscribe / publish forms and their checked protocol values.
//! - [`log`]: the bounded message log and its export.
//! - [`tree`]: the topic tree, per-topic history and numeric series; [`tree_keys`]: its keyboard.
//! - [`chart`]: a series laid out for drawing, with its time and value axes.
//! - [`profile`]: saved connection profiles (what is stored, and their order).
//! - [`admin`] and its `admin_*` siblings: the Admin section (broker admin API) as its own
//!   reducer.
//! - this file: [`AppState`], [`Action`] and [`AppState::apply`].

pub mod admin;
pub mod admin_acl;
pub mod admin_rates;
pub mod admin_table;
pub mod admin_users;
pub mod admin_wire;
pub mod chart;
pub mod form;
pub mod log;
pub mod payload;
pub mod profile;
pub mod tree;
pub mod tree_keys;

use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use courtier_proto::packet::{Publish, Subscription};
use courtier_proto::session::Event;
use courtier_proto::{ReasonCode, TopicName};

use self::form::{ConnectForm, PublishForm};
use self::log::{LogEntry, MessageLog};
use self::payload::View;
use self::tree::TopicNode;

/// Recent publishes kept for one-click re-send.
pub const RECENT_PUBLISHES: usize = 10;

/// Subscription colours, assigned in turn; chosen to read on light and dark backgrounds.
pub const PALETTE: [&str; 8] = [
    "#2f80ed", "#eb5757", "#27ae60", "#f2994a", "#9b51e0", "#00a3a3", "#d4a017", "#e0569b",
];

/// Where the connection stands, with the words the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing attempted yet.
    #[default]
    Idle,
    /// Socket opening or CONNECT sent.
    Connecting {
        /// The broker URL.
        url: String,
    },
    /// CONNACK accepted us.
    Connected {
        /// The broker URL.
        url: String,
        /// The broker resumed a stored session.
        session_present: bool,
        /// The client id in use (the broker may have assigned it).
        client_id: String,
    },
    /// The broker refused CONNECT, the connection ended, or it could not be opened.
    Ended {
        /// Why, in words (reason code, its meaning, the broker's reason string).
        reason: String,
        /// Whether this is a failure worth showing as an error (refusal, lost link).
        error: bool,
    },
}

impl Status {
    /// Whether requests can be sent.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }
}

/// Where a subscription stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubState {
    /// SUBSCRIBE sent, no SUBACK yet.
    Pending,
    /// Granted at this QoS.
    Granted(u8),
    /// Refused, in words.
    Refused(String),
}

/// One subscription the user made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEntry {
    /// The subscription as sent.
    pub subscription: Subscription,
    /// The request whose SUBACK settles it.
    pub request: u64,
    /// Its colour in the log.
    pub colour: &'static str,
    /// Messages received that match it.
    pub count: u64,
    /// Pending, granted or refused.
    pub state: SubState,
}

/// The whole app state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppState {
    /// The connect form.
    pub form: ConnectForm,
    /// The connection status.
    pub status: Status,
    /// The subscriptions, in the order made.
    pub subscriptions: Vec<SubscriptionEntry>,
    /// Colours handed out so far (the next one is `PALETTE[colours_used % len]`).
    colours_used: usize,
    /// The message log.
    pub log: MessageLog,
    /// Messages received since the page opened (the log and tree may hold fewer).
    pub received: u64,
    /// The topic tree's root.
    pub tree: TopicNode,
    /// Tree paths the user opened.
    pub expanded: BTreeSet<String>,
    /// The topic whose details and history are shown.
    pub selected: Option<String>,
    /// The charted series: topic and series key (`""` for a numeric payload).
    pub chart: Option<(String, String)>,
    /// How payloads are shown.
    pub view: View,
    /// Recent publishes, newest first, without duplicates.
    pub recent: VecDeque<PublishForm>,
    /// The last thing worth telling the user that is not the connection status (a refused
    /// subscription, a failed publish, a protocol error).
    pub notice: Option<String>,
}

/// Everything that changes the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The connect form was edited.
    EditForm(ConnectForm),
    /// A connection to `url` is being opened.
    Connecting {
        /// The broker URL.
        url: String,
    },
    /// The connection could not even be opened (bad URL, mixed content, bad options).
    OpenFailed(String),
    /// CONNACK accepted the connection.
    Connected {
        /// The broker resumed a stored session.
        session_present: bool,
        /// The client id in use.
        client_id: String,
    },
    /// CONNACK refused it.
    Refused {
        /// The reason code.
        reason: ReasonCode,
        /// The broker's reason string.
        reason_string: Option<String>,
    },
    /// DISCONNECT, either way.
    Disconnected {
        /// The reason code.
        reason: ReasonCode,
        /// The reason string.
        reason_string: Option<String>,
        /// Whether the broker ended it.
        by_server: bool,
    },
    /// The socket closed (after DISCONNECT, or without one when the link dropped).
    SocketClosed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Something to tell the user (protocol error, transport error, failed request).
    Notice(String),
    /// Messages received, in order, at `now_ms` (the app batches them per frame).
    Messages {
        /// The messages.
        messages: Vec<Publish>,
        /// Arrival time, ms since the Unix epoch.
        now_ms: u64,
    },
    /// SUBSCRIBE was sent as request `request`.
    Subscribing {
        /// The request id.
        request: u64,
        /// What was asked for.
        subscriptions: Vec<Subscription>,
    },
    /// SUBACK for `request` (reason codes in order), or why none came.
    SubAcked {
        /// The request id.
        request: u64,
        /// The reason codes, or the error in words.
        result: Result<Vec<ReasonCode>, String>,
    },
    /// The user removed the subscription with this filter.
    Unsubscribed(String),
    /// A publish was sent; keep it for re-sending.
    Published(PublishForm),
    /// The log's topic filter changed.
    LogFilter(String),
    /// Pause or resume the log.
    TogglePause,
    /// Empty the log.
    ClearLog,
    /// Change the payload view.
    View(View),
    /// Open or close a tree path.
    ToggleExpanded(String),
    /// Show a topic's details (and open the tree down to it).
    Select(Option<String>),
    /// Chart a series: topic and key.
    Chart(Option<(String, String)>),
}

impl Action {
    /// The action for a session event, if the app shows it.
    pub fn from_event(
        event: Event,
        now_ms: u64,
        client_id: impl FnOnce() -> String,
    ) -> Option<Self> {
        Some(match event {
            Event::Connected {
                session_present,
                properties,
            } => Self::Connected {
                session_present,
                client_id: properties
                    .assigned_client_identifier
                    .map_or_else(client_id, |id| id.to_string()),
            },
            Event::ConnectionRefused {
                reason,
                reason_string,
            } => Self::Refused {
                reason,
                reason_string: reason_string.map(|s| s.to_string()),
            },
            Event::Message(publish) => Self::Messages {
                messages: vec![publish],
                now_ms,
            },
            Event::Published {
                result: Err(error), ..
            } => Self::Notice(format!("publish failed: {error}")),
            Event::Published { result: Ok(_), .. } | Event::Unsubscribed { .. } => return None,
            Event::Subscribed { id, result } => Self::SubAcked {
                request: id.get(),
                result: result
                    .map(|suback| suback.reason_codes)
                    .map_err(|e| e.to_string()),
            },
            Event::Disconnected {
                reason,
                reason_string,
                by_server,
            } => Self::Disconnected {
                reason,
                reason_string: reason_string.map(|s| s.to_string()),
                by_server,
            },
            Event::ProtocolError(error) => Self::Notice(format!("protocol error: {error}")),
        })
    }
}

/// `0x87 not authorized: "reason string"`, or without the reason string when there is none.
pub fn reason_words(reason: ReasonCode, reason_string: Option<&str>) -> String {
    match reason_string {
        Some(text) if !text.is_empty() => format!("{reason}: “{text}”"),
        _ => reason.to_string(),
    }
}

impl AppState {
    /// A fresh state around a connect form.
    pub fn new(form: ConnectForm) -> Self {
        Self {
            form,
            ..Self::default()
        }
    }

    /// The reducer: returns the state after `action`. Copy-on-write: the large parts are `Rc`s.
    pub fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut state = Rc::unwrap_or_clone(self);
        state.apply(action);
        Rc::new(state)
    }

    /// Applies `action` in place.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::EditForm(form) => self.form = form,
            Action::Connecting { url } => {
                self.status = Status::Connecting { url };
                self.notice = None;
            }
            Action::OpenFailed(reason) => {
                self.status = Status::Ended {
                    reason,
                    error: true,
                }
            }
            Action::Connected {
                session_present,
                client_id,
            } => {
                let url = match &self.status {
                    Status::Connecting { url } | Status::Connected { url, .. } => url.clone(),
                    _ => self.form.url.clone(),
                };
                self.status = Status::Connected {
                    url,
                    session_present,
                    client_id,
                };
            }
            Action::Refused {
                reason,
                reason_string,
            } => {
                self.status = Status::Ended {
                    reason: format!(
                        "The broker refused the connection: {}",
                        reason_words(reason, reason_string.as_deref())
                    ),
                    error: true,
                };
            }
            Action::Disconnected {
                reason,
                reason_string,
                by_server,
            } => {
                let who = if by_server {
                    "The broker disconnected"
                } else {
                    "Disconnected"
                };
                self.status = Status::Ended {
                    reason: format!("{who}: {}", reason_words(reason, reason_string.as_deref())),
                    error: by_server || reason != ReasonCode::Success,
                };
                self.settle_pending("the connection closed first");
            }
            Action::SocketClosed { code, reason } => {
                // After a DISCONNECT the status already says why; a bare close is a lost link.
                if !matches!(self.status, Status::Ended { .. }) {
                    let detail = if reason.is_empty() {
                        String::new()
                    } else {
                        format!(", “{reason}”")
                    };
                    self.status = Status::Ended {
                        reason: format!(
                            "The connection closed (WebSocket code {code}{detail}); check the broker URL and that the broker is running"
                        ),
                        error: true,
                    };
                }
                self.settle_pending("the connection closed first");
            }
            Action::Notice(text) => self.notice = Some(text),
            Action::Messages { messages, now_ms } => self.receive(messages, now_ms),
            Action::Subscribing {
                request,
                subscriptions,
            } => {
                for subscription in subscriptions {
                    // Re-subscribing to a filter replaces it ([MQTT-3.8.4-3]); keep one row.
                    self.subscriptions
                        .retain(|s| s.subscription.filter != subscription.filter);
                    let colour = PALETTE[self.colours_used % PALETTE.len()];
                    self.colours_used += 1;
                    self.subscriptions.push(SubscriptionEntry {
                        subscription,
                        request,
                        colour,
                        count: 0,
                        state: SubState::Pending,
                    });
                }
            }
            Action::SubAcked { request, result } => {
                let mut codes = result.as_ref().ok().map(|codes| codes.iter());
                for entry in self
                    .subscriptions
                    .iter_mut()
                    .filter(|s| s.request == request)
                {
                    entry.state = match (&result, codes.as_mut().and_then(Iterator::next)) {
                        (Err(error), _) => SubState::Refused(error.clone()),
                        (Ok(_), Some(code)) if code.as_u8() < 0x80 => {
                            SubState::Granted(code.as_u8())
                        }
                        (Ok(_), Some(code)) => SubState::Refused(code.to_string()),
                        (Ok(_), None) => SubState::Refused("no reason code in SUBACK".to_owned()),
                    };
                }
                if let Some(refused) = self.subscriptions.iter().find_map(|s| match &s.state {
                    SubState::Refused(why) if s.request == request => Some(format!(
                        "subscription {} refused: {why}",
                        s.subscription.filter.as_str()
                    )),
                    _ => None,
                }) {
                    self.notice = Some(refused);
                }
            }
            Action::Unsubscribed(filter) => {
                self.subscriptions
                    .retain(|s| s.subscription.filter.as_str() != filter);
            }
            Action::Published(form) => {
                self.recent.retain(|recent| recent != &form);
                self.recent.push_front(form);
                self.recent.truncate(RECENT_PUBLISHES);
            }
            Action::LogFilter(filter) => self.log.filter = filter,
            Action::TogglePause => self.log.paused = !self.log.paused,
            Action::ClearLog => self.log.clear(),
            Action::View(view) => self.view = view,
            Action::ToggleExpanded(path) => {
                if !self.expanded.remove(&path) {
                    self.expanded.insert(path);
                }
            }
            Action::Select(topic) => {
                if let Some(topic) = &topic {
                    self.expand_to(topic);
                }
                self.selected = topic;
            }
            Action::Chart(chart) => {
                if let Some((topic, _)) = &chart {
                    self.expand_to(topic);
                    self.selected = Some(topic.clone());
                }
                self.chart = chart;
            }
        }
    }

    fn receive(&mut self, messages: Vec<Publish>, now_ms: u64) {
        for publish in messages {
            self.received += 1;
            for entry in &mut self.subscriptions {
                if entry.subscription.filter.matches(&publish.topic) {
                    entry.count += 1;
                }
            }
            let entry = Rc::new(LogEntry {
                seq: self.received,
                time_ms: now_ms,
                publish,
            });
            self.tree.record(&entry);
            self.log.push(entry);
        }
    }

    /// Subscriptions still waiting for SUBACK when the connection ends never get one.
    fn settle_pending(&mut self, why: &str) {
        for entry in &mut self.subscriptions {
            if entry.state == SubState::Pending {
                entry.state = SubState::Refused(why.to_owned());
            }
        }
    }

    /// Opens every ancestor of `topic` in the tree.
    fn expand_to(&mut self, topic: &str) {
        let mut end = 0;
        while let Some(slash) = topic[end..].find('/') {
            end += slash;
            self.expanded.insert(topic[..end].to_owned());
            end += 1;
        }
    }

    /// The colour of the first subscription matching `topic`, for log rows.
    pub fn colour_of(&self, topic: &TopicName) -> Option<&'static str> {
        self.subscriptions
            .iter()
            .find(|s| s.subscription.filter.matches(topic))
            .map(|s| s.colour)
    }

    /// The charted series' points, if any.
    pub fn chart_points(&self) -> Option<&VecDeque<(u64, f64)>> {
        let (topic, key) = self.chart.as_ref()?;
        self.tree.find(topic)?.stats.as_ref()?.series.get(key)
    }
}

#[cfg(test)]
mod tests;
