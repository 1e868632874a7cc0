//! The admin API client: one small type that sends `Authorization: Bearer <token>` requests
//! with the browser's `fetch` (web-sys directly) and turns every
//! answer into data or an [`AdminError`] in words. What the URLs, JSON and errors are is decided
//! in [`crate::model::admin_wire`], which is pure and host-tested; this file only does the I/O.

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::model::admin_acl::{AclListing, AclRule};
use crate::model::admin_wire::{
    self, API_PREFIX, AdminError, ClientView, Listing, Overview, RetainedListing, SessionView,
    UsersListing,
};

/// Retained messages asked for per listing (the broker allows up to 1000).
pub const RETAINED_LIMIT: usize = 200;

/// The admin API of one broker, with one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminApi {
    /// `http(s)://host:port`, no trailing slash.
    origin: String,
    /// The admin token.
    token: String,
}

impl AdminApi {
    /// A client for the API at `origin` (`http(s)://host:port`) opened by `token`.
    pub fn new(origin: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            token: token.into(),
        }
    }

    /// Sends `method path` with `body` (JSON); the status and body text, or why there were none.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, String), AdminError> {
        let unreachable = |_: JsValue| AdminError::Unreachable(self.origin.clone());
        let headers = Headers::new().map_err(unreachable)?;
        let authorization = format!("Bearer {}", self.token.trim());
        headers
            .set("Authorization", &authorization)
            .and_then(|()| headers.set("Accept", "application/json"))
            // Only a token with characters no header can carry fails here: never the broker's.
            .map_err(|_| AdminError::WrongToken)?;
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = &body {
            headers
                .set("Content-Type", "application/json")
                .map_err(unreachable)?;
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        let url = format!("{}{path}", self.origin);
        let request = Request::new_with_str_and_init(&url, &init).map_err(unreachable)?;
        let window = web_sys::window().ok_or(AdminError::NoAddress)?;
        let response: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(unreachable)?
            .unchecked_into();
        let text = JsFuture::from(response.text().map_err(unreachable)?)
            .await
            .map_err(unreachable)?;
        Ok((response.status(), text.as_string().unwrap_or_default()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, AdminError> {
        let (status, body) = self.send("GET", path, None).await?;
        admin_wire::decode(status, &body)
    }

    /// DELETE of a named item; a 404 then means the item is gone, in the broker's words.
    async fn delete(&self, path: &str) -> Result<(), AdminError> {
        let (status, body) = self.send("DELETE", path, None).await?;
        admin_wire::failure(status, &body, true).map_or(Ok(()), Err)
    }

    /// `method path` with a JSON `body` and no answer wanted but success; with `names_item`, a
    /// 404 means what the request names is not there, in the broker's words.
    async fn send_json(
        &self,
        method: &str,
        path: &str,
        body: &impl serde::Serialize,
        names_item: bool,
    ) -> Result<(), AdminError> {
        let body = serde_json::to_string(body).map_err(|e| AdminError::Invalid(e.to_string()))?;
        let (status, body) = self.send(method, path, Some(body)).await?;
        admin_wire::failure(status, &body, names_item).map_or(Ok(()), Err)
    }

    /// `GET /api/v1/overview`.
    pub async fn overview(&self) -> Result<Overview, AdminError> {
        self.get(&format!("{API_PREFIX}/overview")).await
    }

    /// `GET /api/v1/clients`.
    pub async fn clients(&self) -> Result<Listing<ClientView>, AdminError> {
        self.get(&format!("{API_PREFIX}/clients?limit=1000")).await
    }

    /// `DELETE /api/v1/clients/{client_id}`: the broker closes its connection.
    pub async fn kick(&self, client_id: &str) -> Result<(), AdminError> {
        self.delete(&admin_wire::client_path(client_id)).await
    }

    /// `GET /api/v1/retained?filter=&limit=`.
    pub async fn retained(&self, filter: &str) -> Result<RetainedListing, AdminError> {
        self.get(&admin_wire::retained_query(filter, RETAINED_LIMIT))
            .await
    }

    /// `DELETE /api/v1/retained/{topic}`.
    pub async fn delete_retained(&self, topic: &str) -> Result<(), AdminError> {
        self.delete(&admin_wire::retained_path(topic)).await
    }

    /// `GET /api/v1/users`.
    pub async fn users(&self) -> Result<UsersListing, AdminError> {
        self.get(&format!("{API_PREFIX}/users?limit=1000")).await
    }

    /// `POST /api/v1/users` with `{"username", "password"}`.
    pub async fn add_user(&self, username: &str, password: &str) -> Result<(), AdminError> {
        let body = serde_json::json!({ "username": username, "password": password });
        let path = format!("{API_PREFIX}/users");
        self.send_json("POST", &path, &body, false).await
    }

    /// `DELETE /api/v1/users/{username}`.
    pub async fn delete_user(&self, username: &str) -> Result<(), AdminError> {
        self.delete(&admin_wire::user_path(username)).await
    }

    /// `GET /api/v1/sessions`.
    pub async fn sessions(&self) -> Result<Listing<SessionView>, AdminError> {
        self.get(&format!("{API_PREFIX}/sessions?limit=1000")).await
    }

    /// `GET /api/v1/acl`.
    pub async fn acl(&self) -> Result<AclListing, AdminError> {
        self.get(&format!("{API_PREFIX}/acl")).await
    }

    /// `POST /api/v1/acl` with the rule.
    pub async fn add_rule(&self, rule: &AclRule) -> Result<(), AdminError> {
        let path = format!("{API_PREFIX}/acl");
        self.send_json("POST", &path, rule, false).await
    }

    /// `DELETE /api/v1/acl` with the rule.
    pub async fn delete_rule(&self, rule: &AclRule) -> Result<(), AdminError> {
        let path = format!("{API_PREFIX}/acl");
        self.send_json("DELETE", &path, rule, true).await
    }
}
