//! The Admin section: the broker's admin API behind a token form, in six tabs (dashboard,
//! clients, sessions, retained messages, users, ACL rules).
//!
//! [`AdminProvider`] owns the [`AdminState`] reducer and the API's address; components reach
//! both through [`use_admin`]. While signed in, the open tab is kept fresh: the overview every
//! [`POLL_MS`] (its counters make the dashboard's rates), the clients list with it on the
//! Clients tab, the other lists when their tab opens and after each change. Nothing polls
//! while the section is closed (the provider is unmounted).
//!
//! The token lives in `sessionStorage` only: it survives a reload of the tab, never reaches
//! the saved connection profiles, and goes with the browser tab.

mod acl;
mod clients;
mod dashboard;
mod retained;
mod sessions;
mod token;
mod users;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use courtier_web::admin_api::AdminApi;
use courtier_web::model::admin::{AdminAction, AdminState, AdminTab};
use courtier_web::model::admin_acl::AclRule;
use courtier_web::model::admin_wire::AdminError;
use gloo::storage::{SessionStorage, Storage};
use gloo::timers::callback::Interval;
use yew::prelude::*;

use crate::store::now_ms;

/// How often the overview (and the clients list on its tab) is read again.
pub(crate) const POLL_MS: u32 = 2_000;

/// sessionStorage key of the admin token.
pub(crate) const TOKEN_KEY: &str = "courtier.admin-token";

/// [`AdminState`] as a Yew `Reducible`.
#[derive(Clone, PartialEq)]
pub(crate) struct AdminStore(pub(crate) AdminState);

impl Reducible for AdminStore {
    type Action = AdminAction;

    fn reduce(self: Rc<Self>, action: AdminAction) -> Rc<Self> {
        let mut store = Rc::unwrap_or_clone(self);
        store.0.apply(action);
        Rc::new(store)
    }
}

/// What [`use_admin`] returns: the state, where the API is, and the requests.
#[derive(Clone)]
pub(crate) struct AdminCtx {
    state: UseReducerHandle<AdminStore>,
    /// Bumped by sign-out, so an answer to a request sent before it cannot sign back in.
    epoch: Rc<Cell<u64>>,
    /// `http(s)://host:port` of the admin API, if the page knows one.
    pub(crate) origin: Option<AttrValue>,
}

impl PartialEq for AdminCtx {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state && self.origin == other.origin
    }
}

impl AdminCtx {
    /// The state.
    pub(crate) fn admin(&self) -> &AdminState {
        &self.state.0
    }

    /// Changes the state.
    pub(crate) fn dispatch(&self, action: AdminAction) {
        self.state.dispatch(action);
    }

    fn api(&self) -> Result<AdminApi, AdminError> {
        api(self.origin.as_deref(), &self.admin().token)
    }

    /// Runs `request` with the API; its result becomes the action `then` makes (on success)
    /// or [`AdminAction::Failed`].
    fn run<T, F>(
        &self,
        request: impl FnOnce(AdminApi) -> F,
        then: impl FnOnce(T) -> AdminAction + 'static,
    ) where
        F: Future<Output = Result<T, AdminError>> + 'static,
    {
        let dispatcher = self.state.dispatcher();
        let (epoch, sent_in) = (Rc::clone(&self.epoch), self.epoch.get());
        match self.api() {
            Ok(api) => {
                let request = request(api);
                wasm_bindgen_futures::spawn_local(async move {
                    let result = request.await;
                    if epoch.get() != sent_in {
                        return;
                    }
                    dispatcher.dispatch(match result {
                        Ok(value) => then(value),
                        Err(error) => {
                            // A token the broker no longer takes is not tried again on reload.
                            if error == AdminError::WrongToken {
                                SessionStorage::delete(TOKEN_KEY);
                            }
                            AdminAction::Failed(error)
                        }
                    });
                });
            }
            Err(error) => dispatcher.dispatch(AdminAction::Failed(error)),
        }
    }

    /// Tries the token: a readable overview signs in, and the token is kept for this browser tab.
    pub(crate) fn sign_in(&self) {
        let token = self.admin().token.trim().to_owned();
        if token.is_empty() {
            return self.dispatch(AdminAction::Failed(AdminError::WrongToken));
        }
        self.dispatch(AdminAction::SigningIn);
        // Kept only once the broker accepted it, so a wrong token is not retried on reload.
        self.run(
            |api| async move { api.overview().await },
            move |overview| {
                let _ = SessionStorage::set(TOKEN_KEY, &token);
                overview_action(overview)
            },
        );
    }

    /// Forgets the token.
    pub(crate) fn sign_out(&self) {
        SessionStorage::delete(TOKEN_KEY);
        self.epoch.set(self.epoch.get() + 1);
        self.dispatch(AdminAction::SignOut);
    }

    /// Sends a change with `request`; once the broker made it, reads `tab`'s list again and
    /// applies `done` (which says what happened).
    fn change<F>(&self, request: impl FnOnce(AdminApi) -> F, tab: AdminTab, done: AdminAction)
    where
        F: Future<Output = Result<(), AdminError>> + 'static,
    {
        let ctx = self.clone();
        self.run(request, move |()| {
            ctx.refresh(tab);
            done
        });
    }

    /// Closes the connection of `client_id`, then lists the clients again.
    pub(crate) fn kick(&self, client_id: String) {
        let done = AdminAction::Done(format!("Client {client_id} kicked"));
        self.change(
            move |api| async move { api.kick(&client_id).await },
            AdminTab::Clients,
            done,
        );
    }

    /// Deletes the retained message of `topic`, then lists them again.
    pub(crate) fn delete_retained(&self, topic: String) {
        let done = AdminAction::Done(format!("Retained message of {topic} deleted"));
        self.change(
            move |api| async move { api.delete_retained(&topic).await },
            AdminTab::Retained,
            done,
        );
    }

    /// Adds the user of the add-user form if it meets the rules, then lists users again.
    pub(crate) fn add_user(&self) {
        let (username, password) = match self.admin().new_user.check() {
            Ok((u, p)) => (u.to_owned(), p.to_owned()),
            Err(words) => return self.dispatch(AdminAction::Failed(AdminError::Invalid(words))),
        };
        let done = AdminAction::UserAdded(username.clone());
        self.change(
            move |api| async move { api.add_user(&username, &password).await },
            AdminTab::Users,
            done,
        );
    }

    /// Deletes `username` from the password file, then lists users again.
    pub(crate) fn delete_user(&self, username: String) {
        let done = AdminAction::Done(format!("User {username} deleted"));
        self.change(
            move |api| async move { api.delete_user(&username).await },
            AdminTab::Users,
            done,
        );
    }

    /// Adds the rule of the add-rule form if the broker would take it, then lists rules again.
    pub(crate) fn add_rule(&self) {
        let rule = match self.admin().new_rule.check() {
            Ok(rule) => rule,
            Err(words) => return self.dispatch(AdminAction::Failed(AdminError::Invalid(words))),
        };
        let done = AdminAction::RuleAdded(rule.clone());
        self.change(
            move |api| async move { api.add_rule(&rule).await },
            AdminTab::Acl,
            done,
        );
    }

    /// Deletes `rule` from the ACL file, then lists rules again.
    pub(crate) fn delete_rule(&self, rule: AclRule) {
        let done = AdminAction::Done(format!("Rule {} deleted", rule.describe()));
        self.change(
            move |api| async move { api.delete_rule(&rule).await },
            AdminTab::Acl,
            done,
        );
    }

    /// Reads `tab`'s list (the dashboard's overview) again.
    pub(crate) fn refresh(&self, tab: AdminTab) {
        match tab {
            AdminTab::Dashboard => {
                self.run(|api| async move { api.overview().await }, overview_action)
            }
            AdminTab::Clients => self.run(
                |api| async move { api.clients().await },
                AdminAction::Clients,
            ),
            AdminTab::Retained => {
                let filter = self.admin().retained_filter.clone();
                self.run(
                    |api| async move { api.retained(&filter).await },
                    AdminAction::Retained,
                )
            }
            AdminTab::Sessions => self.run(
                |api| async move { api.sessions().await },
                AdminAction::Sessions,
            ),
            AdminTab::Users => self.run(|api| async move { api.users().await }, AdminAction::Users),
            AdminTab::Acl => self.run(|api| async move { api.acl().await }, AdminAction::Acl),
        }
    }
}

fn overview_action(overview: courtier_web::model::admin_wire::Overview) -> AdminAction {
    AdminAction::Overview {
        overview,
        at_ms: now_ms(),
    }
}

fn api(origin: Option<&str>, token: &str) -> Result<AdminApi, AdminError> {
    origin
        .map(|origin| AdminApi::new(origin, token))
        .ok_or(AdminError::NoAddress)
}

/// Properties of [`AdminProvider`].
#[derive(Properties, PartialEq)]
pub(crate) struct AdminProviderProps {
    /// The state to start from.
    pub(crate) initial: Rc<AdminState>,
    /// Where the admin API is, if known.
    pub(crate) origin: Option<AttrValue>,
    /// The section.
    pub(crate) children: Html,
}

/// Owns the Admin state and keeps the open tab fresh while signed in.
#[function_component]
pub(crate) fn AdminProvider(props: &AdminProviderProps) -> Html {
    let initial = Rc::clone(&props.initial);
    let state = use_reducer(move || AdminStore(Rc::unwrap_or_clone(initial)));
    let epoch = use_memo((), |()| Rc::new(Cell::new(0u64)));
    let ctx = AdminCtx {
        state,
        epoch: Rc::clone(&epoch),
        origin: props.origin.clone(),
    };
    // A token kept from earlier in this tab is tried once, when the section opens.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |()| {
            let admin = ctx.admin();
            if !admin.signed_in && !admin.token.is_empty() && ctx.origin.is_some() {
                ctx.sign_in();
            }
        });
    }
    {
        let ctx = ctx.clone();
        let admin = ctx.admin();
        let deps = (admin.signed_in, admin.tab, ctx.origin.clone());
        use_effect_with(deps, move |(signed_in, tab, origin)| {
            let interval = (*signed_in && origin.is_some()).then(|| {
                let tab = *tab;
                if tab != AdminTab::Dashboard {
                    ctx.refresh(tab);
                }
                Interval::new(POLL_MS, move || {
                    ctx.refresh(AdminTab::Dashboard);
                    if tab == AdminTab::Clients {
                        ctx.refresh(AdminTab::Clients);
                    }
                })
            });
            move || drop(interval)
        });
    }
    html! {
        <ContextProvider<AdminCtx> context={ctx}>{ props.children.clone() }</ContextProvider<AdminCtx>>
    }
}

/// The Admin state and requests. Panics only outside [`AdminProvider`], a programming error
/// the first render catches.
#[hook]
pub(crate) fn use_admin() -> AdminCtx {
    use_context::<AdminCtx>().expect("admin components are rendered inside AdminProvider")
}

/// The token the section starts with: the one kept in this browser tab, if any.
pub(crate) fn stored_token() -> String {
    SessionStorage::get::<String>(TOKEN_KEY).unwrap_or_default()
}

/// The section: the token form until the broker accepts the token, then the tabs.
#[function_component]
pub(crate) fn AdminView() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    if !admin.signed_in {
        return html! { <token::TokenForm /> };
    }
    let title = match &admin.overview {
        Some(o) => format!(
            "{} · up {}",
            o.version,
            courtier_web::model::chart::duration(o.uptime_seconds * 1000)
        ),
        None => String::new(),
    };
    let sign_out = {
        let ctx = ctx.clone();
        Callback::from(move |_| ctx.sign_out())
    };
    let panel = match admin.tab {
        AdminTab::Dashboard => html! { <dashboard::Dashboard /> },
        AdminTab::Clients => html! { <clients::ClientsTable /> },
        AdminTab::Retained => html! { <retained::RetainedBrowser /> },
        AdminTab::Sessions => html! { <sessions::SessionsTable /> },
        AdminTab::Users => html! { <users::UsersPanel /> },
        AdminTab::Acl => html! { <acl::AclPanel /> },
    };
    html! {
        <section class="admin panel" aria-labelledby="admin-title">
            <div class="toolbar">
                <h2 id="admin-title">{ "Admin" }<span class="muted">{ format!(" · {title}") }</span></h2>
                <button type="button" id="admin-sign-out" class="small" onclick={sign_out}>{ "Sign out" }</button>
            </div>
            <nav class="admin-tabs" aria-label="Admin sections">
                { for AdminTab::ALL.iter().map(|&(tab, label)| {
                    let ctx = ctx.clone();
                    let onclick = Callback::from(move |_| ctx.dispatch(AdminAction::Tab(tab)));
                    let current = (tab == admin.tab).then_some("page");
                    html! {
                        <button type="button" id={format!("admin-tab-{}", label.to_lowercase())}
                            class={classes!("tab", current.map(|_| "current"))} aria-current={current} {onclick}>{ label }</button>
                    }
                }) }
            </nav>
            <Messages />
            { panel }
        </section>
    }
}

/// The last failure (an alert) or success (a status), in words.
#[function_component]
pub(crate) fn Messages() -> Html {
    let ctx = use_admin();
    let admin = ctx.admin();
    html! {
        <>
            if let Some(error) = &admin.error {
                <p id="admin-error" class="admin-error" role="alert">{ error.clone() }</p>
            }
            <p id="admin-done" class="admin-done" role="status">{ admin.done.clone().unwrap_or_default() }</p>
        </>
    }
}

/// Asks the user to confirm `question` (the browser's own dialog, keyboard-usable).
pub(crate) fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}
