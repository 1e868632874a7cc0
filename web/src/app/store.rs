//! The shared connection: one [`ConnectionProvider`] owns the [`Connection`] and the app state,
//! and every component reaches both through [`use_connection`].
//!
//! Received messages are batched (one reducer run per [`BATCH_MS`]) so that a broker sending
//! thousands of messages a second costs a few renders a second, not one per message.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use courtier_proto::packet::Publish;
use courtier_proto::packet::SubscribeProperties;
use courtier_web::client::{ClientEvent, Connection};
use courtier_web::model::form::{ConnectForm, PublishForm, SubscribeForm, Version};
use courtier_web::model::{Action, AppState};
use gloo::timers::callback::Timeout;
use yew::prelude::*;

/// How long received messages are gathered before the state is updated.
const BATCH_MS: u32 = 50;

/// [`AppState`] as a Yew `Reducible`. Equality is identity: every change makes a new `Rc`, and
/// comparing two 10,000-message logs field by field on every render would cost more than it saves.
#[derive(Clone)]
pub(crate) struct Store(pub(crate) AppState);

impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Reducible for Store {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut store = Rc::unwrap_or_clone(self);
        store.0.apply(action);
        Rc::new(store)
    }
}

/// Messages waiting for the next batch, and whether a flush is scheduled.
#[derive(Default)]
struct Pending {
    messages: RefCell<Vec<Publish>>,
    scheduled: Cell<bool>,
}

/// What [`use_connection`] returns: the state, and the operations on the connection.
#[derive(Clone)]
pub(crate) struct Ctx {
    /// The app state.
    pub(crate) state: UseReducerHandle<Store>,
    connection: Rc<RefCell<Option<Connection>>>,
    /// Bumped per `connect`, so events of a replaced connection are ignored.
    generation: Rc<Cell<u64>>,
    pending: Rc<Pending>,
}

impl PartialEq for Ctx {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl Ctx {
    /// The state.
    pub(crate) fn app(&self) -> &AppState {
        &self.state.0
    }

    /// Changes the state.
    pub(crate) fn dispatch(&self, action: Action) {
        self.state.dispatch(action);
    }

    /// Connects with the connect form, closing any previous connection.
    pub(crate) fn connect(&self) {
        self.connect_with(self.app().form.clone());
    }

    /// Puts `form` in the connect form and connects with it (a saved profile's one click).
    pub(crate) fn connect_with(&self, form: ConnectForm) {
        if form != self.app().form {
            self.dispatch(Action::EditForm(form.clone()));
        }
        if let Some(old) = self.connection.borrow_mut().take() {
            old.close();
        }
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        let options = match form.options() {
            Ok(options) => options,
            Err(error) => return self.dispatch(Action::OpenFailed(error.to_string())),
        };
        let url = form.url.trim().to_owned();
        self.dispatch(Action::Connecting { url: url.clone() });
        let dispatcher = self.state.dispatcher();
        let current = Rc::clone(&self.generation);
        let pending = Rc::clone(&self.pending);
        let client_id = options.client_id.to_string();
        let on_event = move |event: ClientEvent| {
            if current.get() != generation {
                return;
            }
            let action = match event {
                ClientEvent::Session(courtier_proto::session::Event::Message(publish)) => {
                    pending.messages.borrow_mut().push(publish);
                    schedule_flush(&pending, &dispatcher);
                    return;
                }
                ClientEvent::Session(event) => {
                    Action::from_event(event, now_ms(), || client_id.clone())
                }
                ClientEvent::Closed { code, reason, .. } => {
                    Some(Action::SocketClosed { code, reason })
                }
                ClientEvent::TransportError(error) => {
                    Some(Action::Notice(format!("WebSocket: {error}")))
                }
                ClientEvent::Opened | ClientEvent::Reconnecting { .. } => None,
            };
            if let Some(action) = action {
                // Messages that arrived first are shown first.
                flush(&pending, &dispatcher);
                dispatcher.dispatch(action);
            }
        };
        match Connection::open(&url, options, on_event) {
            Ok(connection) => *self.connection.borrow_mut() = Some(connection),
            Err(error) => self.dispatch(Action::OpenFailed(error.to_string())),
        }
    }

    /// Ends the connection with DISCONNECT.
    pub(crate) fn disconnect(&self) {
        if let Some(connection) = self.connection.borrow().as_ref() {
            connection.close();
        }
    }

    fn with_connection<T>(
        &self,
        call: impl FnOnce(&Connection) -> Result<T, courtier_web::client::ClientError>,
    ) -> Option<T> {
        let result = match self.connection.borrow().as_ref() {
            Some(connection) => call(connection).map_err(|e| e.to_string()),
            None => Err("not connected: connect to a broker first".to_owned()),
        };
        result
            .map_err(|error| self.dispatch(Action::Notice(error)))
            .ok()
    }

    /// Subscribes with the subscribe form.
    pub(crate) fn subscribe(&self, form: &SubscribeForm) {
        let subscription = match form.subscription() {
            Ok(subscription) => subscription,
            Err(error) => return self.dispatch(Action::Notice(error.to_string())),
        };
        let subscriptions = vec![subscription];
        if let Some(id) = self
            .with_connection(|c| c.subscribe(subscriptions.clone(), SubscribeProperties::default()))
        {
            self.dispatch(Action::Subscribing {
                request: id.get(),
                subscriptions,
            });
        }
    }

    /// Unsubscribes from `filter`.
    pub(crate) fn unsubscribe(&self, filter: &str) {
        let Ok(topic_filter) = courtier_proto::TopicFilter::new(filter.to_owned()) else {
            return;
        };
        // The row goes even if the connection is gone: a new connection starts without it.
        let _ = self.with_connection(|c| c.unsubscribe(vec![topic_filter]));
        self.dispatch(Action::Unsubscribed(filter.to_owned()));
    }

    /// Publishes the publish form; returns whether it was sent.
    pub(crate) fn publish(&self, form: &PublishForm) -> bool {
        let v5 = self.app().form.version == Version::V5;
        let request = match form.request(v5) {
            Ok(request) => request,
            Err(error) => {
                self.dispatch(Action::Notice(error.to_string()));
                return false;
            }
        };
        let sent = self.with_connection(|c| {
            c.publish(
                request.topic.as_str(),
                request.payload,
                request.qos,
                request.retain,
                request.properties,
            )
        });
        if sent.is_some() {
            self.dispatch(Action::Published(form.clone()));
        }
        sent.is_some()
    }
}

fn schedule_flush(pending: &Rc<Pending>, dispatcher: &UseReducerDispatcher<Store>) {
    if pending.scheduled.replace(true) {
        return;
    }
    let pending = Rc::clone(pending);
    let dispatcher = dispatcher.clone();
    Timeout::new(BATCH_MS, move || flush(&pending, &dispatcher)).forget();
}

fn flush(pending: &Pending, dispatcher: &UseReducerDispatcher<Store>) {
    pending.scheduled.set(false);
    let messages = std::mem::take(&mut *pending.messages.borrow_mut());
    if !messages.is_empty() {
        dispatcher.dispatch(Action::Messages {
            messages,
            now_ms: now_ms(),
        });
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Properties of [`ConnectionProvider`].
#[derive(Properties, PartialEq)]
pub(crate) struct ProviderProps {
    /// The state to start from.
    pub(crate) initial: Rc<AppState>,
    /// The app.
    pub(crate) children: Html,
}

/// Owns the connection and the state; put it once around the app.
#[function_component]
pub(crate) fn ConnectionProvider(props: &ProviderProps) -> Html {
    let initial = Rc::clone(&props.initial);
    let state = use_reducer(move || Store(Rc::unwrap_or_clone(initial)));
    let connection = use_mut_ref(|| None::<Connection>);
    let shared = use_memo((), |()| {
        (Rc::new(Cell::new(0u64)), Rc::new(Pending::default()))
    });
    let ctx = Ctx {
        state,
        connection,
        generation: Rc::clone(&shared.0),
        pending: Rc::clone(&shared.1),
    };
    html! {
        <ContextProvider<Ctx> context={ctx}>
            { props.children.clone() }
        </ContextProvider<Ctx>>
    }
}

/// The shared connection and state. Panics only if a component is used outside
/// [`ConnectionProvider`], which is a programming error caught by the first render.
#[hook]
pub(crate) fn use_connection() -> Ctx {
    use_context::<Ctx>().expect("components are rendered inside ConnectionProvider")
}
