//! Reducer tests: a state, a list of actions, and what the user would see.

use courtier_proto::packet::{ConnAckProperties, SubscriptionOptions};
use courtier_proto::{QoS, TopicFilter};

use super::log::tests::publish;
use super::*;

fn state() -> AppState {
    AppState::new(ConnectForm::new(
        "ws://127.0.0.1:8080/mqtt".into(),
        "courtier-1".into(),
    ))
}

fn run(actions: Vec<Action>) -> AppState {
    let mut state = Rc::new(state());
    for action in actions {
        state = state.reduce(action);
    }
    Rc::unwrap_or_clone(state)
}

fn subscription(filter: &str) -> Subscription {
    Subscription {
        filter: TopicFilter::new(filter).unwrap(),
        options: SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..Default::default()
        },
    }
}

fn message(topic: &str, payload: &str) -> Action {
    Action::Messages {
        messages: vec![publish(topic, payload.as_bytes())],
        now_ms: 1_000,
    }
}

fn status_text(state: &AppState) -> String {
    match &state.status {
        Status::Idle => "idle".into(),
        Status::Connecting { url } => format!("connecting {url}"),
        Status::Connected {
            url,
            session_present,
            client_id,
        } => {
            format!("connected {url} {client_id} present={session_present}")
        }
        Status::Ended { reason, error } => format!("ended error={error}: {reason}"),
    }
}

#[test]
fn connection_status_in_words() {
    let connecting = || Action::Connecting {
        url: "ws://h/mqtt".into(),
    };
    let cases: Vec<(Vec<Action>, &str)> = vec![
        (vec![], "idle"),
        (vec![connecting()], "connecting ws://h/mqtt"),
        (
            vec![
                connecting(),
                Action::Connected {
                    session_present: true,
                    client_id: "c1".into(),
                },
            ],
            "connected ws://h/mqtt c1 present=true",
        ),
        (
            vec![
                connecting(),
                Action::Refused {
                    reason: ReasonCode::NotAuthorized,
                    reason_string: Some("no ACL".into()),
                },
                Action::SocketClosed {
                    code: 1000,
                    reason: String::new(),
                },
            ],
            "ended error=true: The broker refused the connection: 0x87 not authorized: “no ACL”",
        ),
        (
            vec![
                connecting(),
                Action::Refused {
                    reason: ReasonCode::BadUserNameOrPassword,
                    reason_string: None,
                },
            ],
            "ended error=true: The broker refused the connection: 0x86 bad user name or password",
        ),
        (
            vec![
                connecting(),
                Action::SocketClosed {
                    code: 1006,
                    reason: String::new(),
                },
            ],
            "ended error=true: The connection closed (WebSocket code 1006); check the broker URL and that the broker is running",
        ),
        (
            vec![
                Action::Connected {
                    session_present: false,
                    client_id: "c".into(),
                },
                Action::Disconnected {
                    reason: ReasonCode::Success,
                    reason_string: None,
                    by_server: false,
                },
            ],
            "ended error=false: Disconnected: 0x00 success",
        ),
        (
            vec![Action::Disconnected {
                reason: ReasonCode::SessionTakenOver,
                reason_string: None,
                by_server: true,
            }],
            "ended error=true: The broker disconnected: 0x8E session taken over",
        ),
        (
            vec![Action::OpenFailed("mixed content".into())],
            "ended error=true: mixed content",
        ),
    ];
    for (actions, expected) in cases {
        let text = status_text(&run(actions.clone()));
        assert_eq!(text, expected, "after {actions:?}");
    }
}

#[test]
fn connected_event_uses_the_assigned_client_id() {
    let properties = ConnAckProperties {
        assigned_client_identifier: Some("auto-42".into()),
        ..Default::default()
    };
    let event = Event::Connected {
        session_present: false,
        properties: Box::new(properties),
    };
    assert_eq!(
        Action::from_event(event, 0, || "mine".into()),
        Some(Action::Connected {
            session_present: false,
            client_id: "auto-42".into()
        })
    );
    let event = Event::Connected {
        session_present: true,
        properties: Box::default(),
    };
    assert_eq!(
        Action::from_event(event, 0, || "mine".into()),
        Some(Action::Connected {
            session_present: true,
            client_id: "mine".into()
        })
    );
}

#[test]
fn subscriptions_get_colours_counts_and_acks() {
    let state = run(vec![
        Action::Subscribing {
            request: 1,
            subscriptions: vec![
                subscription("maMaison/rez-de-chaussee/+"),
                subscription("secret/#"),
            ],
        },
        Action::Subscribing {
            request: 2,
            subscriptions: vec![subscription("maMaison/#")],
        },
        Action::SubAcked {
            request: 1,
            result: Ok(vec![ReasonCode::GrantedQoS1, ReasonCode::NotAuthorized]),
        },
        message("maMaison/rez-de-chaussee/cuisine", "21.5"),
        message("maMaison/etage/chambre", "19"),
    ]);
    let rows: Vec<_> = state
        .subscriptions
        .iter()
        .map(|s| {
            (
                s.subscription.filter.as_str(),
                s.colour,
                s.count,
                s.state.clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "maMaison/rez-de-chaussee/+",
                PALETTE[0],
                1,
                SubState::Granted(1)
            ),
            (
                "secret/#",
                PALETTE[1],
                0,
                SubState::Refused("0x87 not authorized".into())
            ),
            ("maMaison/#", PALETTE[2], 2, SubState::Pending),
        ]
    );
    assert_eq!(
        state.notice.as_deref(),
        Some("subscription secret/# refused: 0x87 not authorized")
    );
    let kitchen = TopicName::new("maMaison/rez-de-chaussee/cuisine").unwrap();
    assert_eq!(state.colour_of(&kitchen), Some(PALETTE[0]));

    // Closing settles what is pending; unsubscribing removes the row.
    let state = run(vec![
        Action::Subscribing {
            request: 3,
            subscriptions: vec![subscription("a")],
        },
        Action::SocketClosed {
            code: 1006,
            reason: String::new(),
        },
    ]);
    assert_eq!(
        state.subscriptions[0].state,
        SubState::Refused("the connection closed first".into())
    );
    let state = run(vec![
        Action::Subscribing {
            request: 3,
            subscriptions: vec![subscription("a"), subscription("b")],
        },
        Action::Unsubscribed("a".into()),
    ]);
    assert_eq!(state.subscriptions.len(), 1);
    assert_eq!(state.subscriptions[0].subscription.filter.as_str(), "b");
}

#[test]
fn resubscribing_replaces_the_row() {
    let state = run(vec![
        Action::Subscribing {
            request: 1,
            subscriptions: vec![subscription("a")],
        },
        Action::Subscribing {
            request: 2,
            subscriptions: vec![subscription("a")],
        },
        Action::SubAcked {
            request: 2,
            result: Ok(vec![ReasonCode::Success]),
        },
    ]);
    assert_eq!(state.subscriptions.len(), 1);
    assert_eq!(state.subscriptions[0].state, SubState::Granted(0));
}

#[test]
fn messages_reach_log_tree_and_chart() {
    let state = run(vec![
        message("maMaison/rez-de-chaussee/cuisine", "21.5"),
        message("maMaison/rez-de-chaussee/cuisine", "22"),
        Action::Chart(Some((
            "maMaison/rez-de-chaussee/cuisine".into(),
            String::new(),
        ))),
    ]);
    assert_eq!(state.received, 2);
    assert_eq!(state.log.len(), 2);
    assert_eq!(state.tree.topic_count(), 1);
    let points: Vec<f64> = state.chart_points().unwrap().iter().map(|p| p.1).collect();
    assert_eq!(points, [21.5, 22.0]);
    // Charting selects the topic and opens the tree down to it.
    assert_eq!(
        state.selected.as_deref(),
        Some("maMaison/rez-de-chaussee/cuisine")
    );
    let expanded: Vec<_> = state.expanded.iter().map(String::as_str).collect();
    assert_eq!(expanded, ["maMaison", "maMaison/rez-de-chaussee"]);
}

#[test]
fn paused_log_still_feeds_the_tree() {
    let state = run(vec![
        Action::TogglePause,
        message("a", "1"),
        message("a", "2"),
    ]);
    assert!(state.log.is_empty());
    assert_eq!(state.log.skipped_while_paused, 2);
    assert_eq!(
        state
            .tree
            .find("a")
            .and_then(|n| n.stats.as_ref())
            .map(|s| s.count),
        Some(2)
    );
    let state = run(vec![message("a", "1"), Action::ClearLog]);
    assert!(state.log.is_empty());
    assert_eq!(state.received, 1);
}

#[test]
fn recent_publishes_are_unique_newest_first_and_bounded() {
    let form = |topic: &str| PublishForm {
        topic: topic.into(),
        ..PublishForm::default()
    };
    let mut actions: Vec<Action> = (0..12)
        .map(|i| Action::Published(form(&format!("t/{i}"))))
        .collect();
    actions.push(Action::Published(form("t/5")));
    let state = run(actions);
    let topics: Vec<_> = state.recent.iter().map(|f| f.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "t/5", "t/11", "t/10", "t/9", "t/8", "t/7", "t/6", "t/4", "t/3", "t/2"
        ]
    );
}

#[test]
fn toggling_expansion() {
    let state = run(vec![
        Action::ToggleExpanded("a".into()),
        Action::ToggleExpanded("b".into()),
        Action::ToggleExpanded("a".into()),
    ]);
    assert_eq!(state.expanded.iter().collect::<Vec<_>>(), ["b"]);
}
