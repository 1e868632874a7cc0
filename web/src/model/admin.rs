//! The Admin section's state as a pure reducer, like [`super::AppState`] for the MQTT view:
//! the token form, which tab is open, what the broker last answered, and what went wrong in
//! words. The Yew components only render it and send requests.
//!
//! # Layout
//! - [`super::admin_wire`]: the API's address, paths, JSON and errors.
//! - [`super::admin_rates`]: message rates from successive overview polls.
//! - [`super::admin_table`]: the clients table's order.
//! - [`super::admin_users`]: the add-user form and its password rules.
//! - [`super::admin_acl`]: the ACL rules and the add-rule form.
//! - this file: [`AdminState`], [`AdminAction`] and [`AdminState::apply`].

use super::admin_acl::{AclListing, AclRule, NewRule};
use super::admin_rates::Rates;
use super::admin_table::{ClientColumn, ClientSort};
use super::admin_users::NewUser;
use super::admin_wire::{
    AdminError, ClientView, Listing, Overview, RetainedListing, SessionView, UsersListing,
};

/// The retained browser's filter when the section opens: every topic.
pub const DEFAULT_RETAINED_FILTER: &str = "#";

/// The Admin section's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminTab {
    /// Counters and message rates.
    #[default]
    Dashboard,
    /// Connected clients, with kick.
    Clients,
    /// Sessions, connected or kept offline.
    Sessions,
    /// Retained messages, with delete.
    Retained,
    /// Users of the password file.
    Users,
    /// Rules of the ACL file.
    Acl,
}

impl AdminTab {
    /// Every tab with its label, in order.
    pub const ALL: [(Self, &'static str); 6] = [
        (Self::Dashboard, "Dashboard"),
        (Self::Clients, "Clients"),
        (Self::Sessions, "Sessions"),
        (Self::Retained, "Retained"),
        (Self::Users, "Users"),
        (Self::Acl, "ACL"),
    ];
}

/// The Admin section's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminState {
    /// The token as typed (kept in sessionStorage by the app, never in profiles).
    pub token: String,
    /// The broker accepted the token (an overview came back with it).
    pub signed_in: bool,
    /// A sign-in request is on its way.
    pub checking: bool,
    /// The open tab.
    pub tab: AdminTab,
    /// The last failure, in words; cleared by the next success of the same kind.
    pub error: Option<String>,
    /// The last operation that worked (kicked, deleted, added), in words.
    pub done: Option<String>,
    /// The latest overview.
    pub overview: Option<Overview>,
    /// Message rates from the overview polls.
    pub rates: Rates,
    /// Connected clients, as last listed.
    pub clients: Listing<ClientView>,
    /// Their order in the table.
    pub sort: ClientSort,
    /// The retained browser's topic filter.
    pub retained_filter: String,
    /// Retained messages matching it, as last listed.
    pub retained: RetainedListing,
    /// Users of the password file, as last listed.
    pub users: UsersListing,
    /// The add-user form.
    pub new_user: NewUser,
    /// Sessions, as last listed.
    pub sessions: Listing<SessionView>,
    /// The ACL rules, as last listed.
    pub acl: AclListing,
    /// The add-rule form.
    pub new_rule: NewRule,
}

impl Default for AdminState {
    fn default() -> Self {
        Self {
            token: String::new(),
            signed_in: false,
            checking: false,
            tab: AdminTab::default(),
            error: None,
            done: None,
            overview: None,
            rates: Rates::default(),
            clients: Listing::default(),
            sort: ClientSort::default(),
            retained_filter: DEFAULT_RETAINED_FILTER.to_owned(),
            retained: RetainedListing::default(),
            users: UsersListing::default(),
            new_user: NewUser::default(),
            sessions: Listing::default(),
            acl: AclListing::default(),
            new_rule: NewRule::default(),
        }
    }
}

/// Everything that changes the Admin state.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminAction {
    /// The token field was edited.
    EditToken(String),
    /// The token is being tried.
    SigningIn,
    /// An overview came back, read at `at_ms` (ms since the Unix epoch).
    Overview {
        /// The overview.
        overview: Overview,
        /// When it was read.
        at_ms: u64,
    },
    /// Forget the token and the broker's answers.
    SignOut,
    /// Open a tab.
    Tab(AdminTab),
    /// A request failed.
    Failed(AdminError),
    /// The clients list came back.
    Clients(Listing<ClientView>),
    /// A column header was clicked.
    Sort(ClientColumn),
    /// The retained filter was edited.
    RetainedFilter(String),
    /// The retained list came back.
    Retained(RetainedListing),
    /// The users list came back.
    Users(UsersListing),
    /// The add-user form was edited.
    EditNewUser(NewUser),
    /// The user was added: the form empties.
    UserAdded(String),
    /// The sessions list came back.
    Sessions(Listing<SessionView>),
    /// The ACL rules came back.
    Acl(AclListing),
    /// The add-rule form was edited.
    EditNewRule(NewRule),
    /// The rule was added: the filter empties, the rest stays for the next rule.
    RuleAdded(AclRule),
    /// Something worked; say so.
    Done(String),
}

impl AdminState {
    /// Applies `action` in place.
    pub fn apply(&mut self, action: AdminAction) {
        match action {
            AdminAction::EditToken(token) => self.token = token,
            AdminAction::SigningIn => {
                self.checking = true;
                self.error = None;
            }
            AdminAction::Overview { overview, at_ms } => {
                if !self.signed_in {
                    self.error = None;
                }
                self.signed_in = true;
                self.checking = false;
                self.rates.record(&overview, at_ms);
                self.overview = Some(overview);
            }
            AdminAction::SignOut => {
                *self = Self {
                    tab: self.tab,
                    ..Self::default()
                }
            }
            AdminAction::Tab(tab) => {
                self.tab = tab;
                self.done = None;
            }
            AdminAction::Failed(error) => {
                // Without a valid token nothing else can work: back to the token form.
                if matches!(error, AdminError::WrongToken | AdminError::NotEnabled) {
                    self.signed_in = false;
                }
                self.checking = false;
                self.done = None;
                self.error = Some(error.to_string());
            }
            AdminAction::Clients(clients) => self.clients = clients,
            AdminAction::Sort(column) => self.sort = self.sort.clicked(column),
            AdminAction::RetainedFilter(filter) => self.retained_filter = filter,
            AdminAction::Retained(retained) => self.retained = retained,
            AdminAction::Users(users) => self.users = users,
            AdminAction::EditNewUser(form) => self.new_user = form,
            AdminAction::UserAdded(username) => {
                self.new_user = NewUser::default();
                self.error = None;
                self.done = Some(format!("User {username} added"));
            }
            AdminAction::Sessions(sessions) => self.sessions = sessions,
            AdminAction::Acl(acl) => self.acl = acl,
            AdminAction::EditNewRule(form) => self.new_rule = form,
            AdminAction::RuleAdded(rule) => {
                self.new_rule.filter.clear();
                self.error = None;
                self.done = Some(format!("Rule {} added", rule.describe()));
            }
            AdminAction::Done(words) => {
                self.error = None;
                self.done = Some(words);
            }
        }
    }

    /// The clients in the table's order.
    pub fn sorted_clients(&self) -> Vec<&ClientView> {
        self.sort.sorted(&self.clients.items)
    }
}

/// A byte count in the largest binary unit that keeps it at least 1 (`512 B`, `1.5 KiB`).
pub fn byte_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_read_short() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1536, "1.5 KiB"),
            (5 << 20, "5.0 MiB"),
            (u64::MAX, "16777216.0 TiB"),
        ];
        for (n, words) in cases {
            assert_eq!(byte_size(n), words, "{n}");
        }
    }

    fn overview(received: u64) -> AdminAction {
        AdminAction::Overview {
            overview: Overview {
                messages_received: received,
                ..Overview::default()
            },
            at_ms: received * 1000,
        }
    }

    #[test]
    fn signing_in_and_out() {
        let mut state = AdminState::default();
        assert_eq!(state.retained_filter, "#");
        state.apply(AdminAction::EditToken("t".into()));
        state.apply(AdminAction::SigningIn);
        assert!(state.checking && !state.signed_in);
        state.apply(AdminAction::Failed(AdminError::WrongToken));
        assert_eq!(state.error.as_deref(), Some("wrong admin token"));
        assert!(!state.checking && !state.signed_in);
        state.apply(AdminAction::SigningIn);
        assert_eq!(state.error, None);
        state.apply(overview(1));
        state.apply(overview(3));
        assert!(state.signed_in);
        assert_eq!(state.rates.latest(), Some((1.0, 0.0)));
        state.apply(AdminAction::Tab(AdminTab::Users));
        state.apply(AdminAction::SignOut);
        assert_eq!(
            state,
            AdminState {
                tab: AdminTab::Users,
                ..AdminState::default()
            }
        );
    }

    #[test]
    fn a_token_the_broker_stops_accepting_signs_out_other_failures_do_not() {
        let mut state = AdminState::default();
        state.apply(overview(1));
        state.apply(AdminAction::Failed(AdminError::Refused {
            status: 404,
            message: "no client `x` is connected".into(),
        }));
        assert!(state.signed_in);
        assert_eq!(
            state.error.as_deref(),
            Some("no client `x` is connected (HTTP 404)")
        );
        state.apply(AdminAction::Done("Client a kicked".into()));
        assert_eq!(
            (state.error.as_deref(), state.done.as_deref()),
            (None, Some("Client a kicked"))
        );
        state.apply(AdminAction::Failed(AdminError::NotEnabled));
        assert!(!state.signed_in);
        assert_eq!(state.done, None);
    }

    #[test]
    fn adding_a_user_empties_the_form_and_sorting_follows_clicks() {
        let mut state = AdminState::default();
        state.apply(AdminAction::EditNewUser(NewUser {
            username: "bob".into(),
            password: "12345678".into(),
        }));
        state.apply(AdminAction::UserAdded("bob".into()));
        assert_eq!(state.new_user, NewUser::default());
        assert_eq!(state.done.as_deref(), Some("User bob added"));
        state.apply(AdminAction::Clients(Listing {
            total: 2,
            items: vec![
                ClientView {
                    client_id: "a".into(),
                    queued: 1,
                    ..ClientView::default()
                },
                ClientView {
                    client_id: "b".into(),
                    queued: 2,
                    ..ClientView::default()
                },
            ],
            next: None,
        }));
        state.apply(AdminAction::Sort(ClientColumn::Queued));
        state.apply(AdminAction::Sort(ClientColumn::Queued));
        let ids: Vec<_> = state
            .sorted_clients()
            .iter()
            .map(|c| c.client_id.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn adding_a_rule_keeps_the_form_but_its_filter() {
        let mut state = AdminState::default();
        let form = NewRule {
            user: "dev".into(),
            pattern: false,
            access: "write".into(),
            filter: "sensors/#".into(),
        };
        state.apply(AdminAction::EditNewRule(form.clone()));
        state.apply(AdminAction::Failed(AdminError::Invalid("x".into())));
        let rule = form.check().expect("valid");
        state.apply(AdminAction::RuleAdded(rule));
        assert_eq!(
            state.new_rule,
            NewRule {
                filter: String::new(),
                ..form
            }
        );
        assert_eq!(state.error, None);
        assert_eq!(
            state.done.as_deref(),
            Some("Rule topic write sensors/# for user dev added")
        );
        state.apply(AdminAction::Acl(AclListing {
            configured: true,
            total: 0,
            rules: Vec::new(),
        }));
        assert!(state.acl.configured);
        state.apply(AdminAction::Sessions(Listing {
            total: 1,
            items: vec![SessionView::default()],
            next: None,
        }));
        assert_eq!(state.sessions.total, 1);
    }
}
