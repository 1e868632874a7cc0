//! The admin API: JSON under `/api/v1` on the HTTP(S) listeners, beside
//! `/metrics`, for operators and the web app's Admin pages.
//!
//! Off unless `admin_token` (or `admin_token_file`) is set: every path then
//! answers 404. With a token, a request without `Authorization: Bearer
//! <token>` gets 401. Every error is `{"error": "..."}` with its status.
//!
//! Handlers are thin: each parses its request and calls a plain function
//! over `&Broker` in one of these files, unit-tested without sockets.
//! - [`token`]: the token and its constant-time check.
//! - [`error`]: [`ApiError`], the JSON error.
//! - [`page`]: bounded, key-ordered listings (`limit`, `after`).
//! - [`overview`]: counters for a dashboard.
//! - [`clients`]: connected clients, kick. [`sessions`]: sessions and
//!   their subscriptions.
//! - [`retained`]: browse and clear retained messages.
//! - [`users`]: the password file's users, with password rules.
//! - [`acl`]: the ACL file's rules, added and deleted.
//! - [`edit`]: edits of those two files, one at a time, then a reload.

pub mod acl;
pub mod clients;
pub mod edit;
pub mod error;
pub mod overview;
pub mod page;
pub mod retained;
pub mod sessions;
pub mod token;
pub mod users;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;

pub use self::error::ApiError;
use self::page::{Page, PageQuery};
pub use self::token::AdminToken;
use crate::broker::Broker;

/// Where the API is mounted (`ws_path` may not be under it).
pub const API_PATH: &str = "/api/v1";

/// The largest request body: a user and a password, or an ACL rule, with
/// room to spare.
const BODY_LIMIT: usize = 16 * 1024;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The API's routes, to nest under [`API_PATH`].
pub fn router<S: Clone + Send + Sync + 'static>(broker: Arc<Broker>) -> Router<S> {
    Router::new()
        .route("/overview", get(get_overview))
        .route("/clients", get(get_clients))
        .route("/clients/{client_id}", delete(kick_client))
        .route("/sessions", get(get_sessions))
        .route(
            "/sessions/{client_id}/subscriptions",
            get(get_subscriptions),
        )
        .route("/retained", get(get_retained))
        .route("/retained/{*topic}", delete(delete_retained))
        .route("/users", get(get_users).post(post_user))
        .route("/users/{username}", delete(delete_user))
        .route("/acl", get(get_acl).post(post_acl).delete(delete_acl))
        .fallback(|| async { ApiError::not_found("no such admin API path") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this method is not allowed on this path",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&broker),
            require_token,
        ))
        .with_state(broker)
}

/// Now on tokio's clock, the one session expiry and message expiry use.
fn clock_now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// 404 while no token is configured, 401 without the right one.
async fn require_token(
    State(broker): State<Arc<Broker>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &broker.config.admin_token else {
        return ApiError::not_found("the admin API is off (set admin_token_file or admin_token)")
            .into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if !token.accepts(given) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token (Authorization: Bearer <admin_token>)",
        )
        .into_response();
    }
    next.run(request).await
}

fn page(query: Result<Query<PageQuery>, QueryRejection>) -> Result<Page, ApiError> {
    let Query(q) = query.map_err(|r| ApiError::bad_request(r.body_text()))?;
    Page::try_from(q)
}

fn path<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|r| ApiError::new(r.status(), r.body_text()))
}

async fn get_acl(State(broker): State<Arc<Broker>>) -> Json<acl::AclView> {
    Json(acl::acl(&broker))
}

async fn post_acl(
    State(broker): State<Arc<Broker>>,
    body: Result<Json<acl::RuleBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let body = json(body)?;
    let rule = blocking(move || acl::add_rule(&broker, body)).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

async fn delete_acl(
    State(broker): State<Arc<Broker>>,
    body: Result<Json<acl::RuleBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let body = json(body)?;
    blocking(move || acl::delete_rule(&broker, body)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A JSON body, or the extractor's refusal as a JSON error.
fn json<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|r| ApiError::new(r.status(), r.body_text()))
}

/// Run `work` (file I/O, password hashing) on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
}

async fn get_overview(State(broker): State<Arc<Broker>>) -> Json<overview::Overview> {
    Json(overview::overview(&broker))
}

async fn get_clients(
    State(broker): State<Arc<Broker>>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<page::Listing<clients::ClientView>> {
    Ok(Json(clients::list_clients(&broker, page(query)?)))
}

async fn kick_client(
    State(broker): State<Arc<Broker>>,
    client_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let client_id = path(client_id)?;
    if clients::kick(&broker, &client_id) {
        tracing::info!(client = %client_id, "admin API: client kicked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "client `{client_id}` is not connected"
        )))
    }
}

async fn get_sessions(
    State(broker): State<Arc<Broker>>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<page::Listing<sessions::SessionView>> {
    Ok(Json(sessions::list_sessions(
        &broker,
        page(query)?,
        clock_now(),
    )))
}

async fn get_subscriptions(
    State(broker): State<Arc<Broker>>,
    client_id: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<page::Listing<sessions::SubscriptionView>> {
    let client_id = path(client_id)?;
    sessions::subscriptions(&broker, &client_id, page(query)?)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no session for `{client_id}`")))
}

/// `?filter=F&limit=N` of `GET /retained`.
#[derive(Debug, Deserialize)]
struct RetainedQuery {
    /// Topic filter, default `#` (which, like any wildcard, skips `$SYS`).
    filter: Option<String>,
    limit: Option<usize>,
}

async fn get_retained(
    State(broker): State<Arc<Broker>>,
    query: Result<Query<RetainedQuery>, QueryRejection>,
) -> ApiResult<retained::RetainedListing> {
    let Query(q) = query.map_err(|r| ApiError::bad_request(r.body_text()))?;
    let limit = page::check_limit(q.limit)?;
    let filter = q.filter.unwrap_or_else(|| "#".to_owned());
    // Messages on disk are read: off the async workers.
    tokio::task::spawn_blocking(move || retained::browse(&broker, &filter, limit, clock_now()))
        .await
        .map_err(|e| ApiError::internal(format!("browsing failed: {e}")))?
        .map(Json)
}

async fn delete_retained(
    State(broker): State<Arc<Broker>>,
    topic: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let topic = path(topic)?;
    if let Some(ticket) = retained::delete(&broker, &topic)? {
        // Answer once the deletion is durable, as a PUBACK would be.
        broker
            .store
            .durable(ticket)
            .await
            .map_err(|e| ApiError::internal(format!("the store failed: {e}")))?;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn get_users(
    State(broker): State<Arc<Broker>>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<users::UsersView> {
    users::list_users(&broker, page(query)?).map(Json)
}

/// The body of `POST /users`.
#[derive(Debug, Deserialize)]
struct NewUser {
    username: String,
    password: String,
}

async fn post_user(
    State(broker): State<Arc<Broker>>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<Response, ApiError> {
    let NewUser { username, password } = json(body)?;
    let name = username.clone();
    // argon2id is slow by design: off the async workers.
    let existed = blocking(move || users::set_user(&broker, &username, &password)).await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let body = serde_json::json!({ "username": name, "created": !existed });
    Ok((status, Json(body)).into_response())
}

async fn delete_user(
    State(broker): State<Arc<Broker>>,
    username: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let username = path(username)?;
    blocking(move || users::delete_user(&broker, &username)).await?;
    Ok(StatusCode::NO_CONTENT)
}
