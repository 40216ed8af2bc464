//! A fake Google Workspace Admin SDK Directory API, following
//! https://developers.google.com/admin-sdk/directory/reference/rest/v1/members:
//! `members.list` (`GET /admin/directory/v1/groups/{groupKey}/members`,
//! with `roles` and `maxResults`, at most `PAGE` here, and `pageToken` /
//! `nextPageToken`), `members.insert` (`POST .../members`, 409 "Member
//! already exists" for a duplicate) and `members.delete` (`DELETE
//! .../members/{memberKey}`, 204).
//!
//! As Google does: `Authorization: Bearer <access token>` or 401; errors in
//! the shape `{"error": {"code": ..., "message": ..., "errors": [...]}}`;
//! 404 "Resource Not Found: groupKey" for an unknown group; 400 "Invalid
//! Input" for an unknown user.

use super::{Controls, bearer, serve};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most members per page, whatever `maxResults` asks.
pub const PAGE: usize = 2;

#[derive(Default)]
struct Directory {
    users: Vec<String>,
    groups: BTreeMap<String, Vec<(String, String)>>,
}

/// A running fake Directory API for one domain.
#[derive(Clone)]
pub struct FakeGoogle {
    pub addr: SocketAddr,
    pub controls: Controls,
    token: Arc<str>,
    state: Arc<Mutex<Directory>>,
}

impl FakeGoogle {
    /// A domain with these user accounts.
    pub fn start(token: &str, users: &[&str]) -> Self {
        let state = Directory {
            users: users.iter().map(|u| u.to_string()).collect(),
            ..Directory::default()
        };
        let fake = FakeGoogle {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            token: token.into(),
            state: Arc::new(Mutex::new(state)),
        };
        let router = Router::new()
            .route(
                "/admin/directory/v1/groups/{group}/members",
                get(list).post(insert),
            )
            .route(
                "/admin/directory/v1/groups/{group}/members/{member}",
                delete(remove),
            )
            .with_state(fake.clone());
        let rate_limited = r#"{"error":{"code":429,"message":"Quota exceeded","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let addr = serve(router, fake.controls.clone(), rate_limited);
        FakeGoogle { addr, ..fake }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a group with these (email, role) members.
    pub fn group(&self, key: &str, members: &[(&str, &str)]) {
        let members = members
            .iter()
            .map(|(email, role)| (email.to_string(), role.to_string()))
            .collect();
        self.state
            .lock()
            .unwrap()
            .groups
            .insert(key.into(), members);
    }

    /// The group's members as "email role", sorted.
    pub fn members(&self, key: &str) -> Vec<String> {
        let mut members: Vec<String> = self.state.lock().unwrap().groups[key]
            .iter()
            .map(|(email, role)| format!("{email} {role}"))
            .collect();
        members.sort();
        members
    }

    /// The 401 answer, unless the request carries the token.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match bearer(headers) {
            Some(token) if token == &*self.token => None,
            _ => Some(error(
                StatusCode::UNAUTHORIZED,
                "Request had invalid authentication credentials.",
                "authError",
            )),
        }
    }
}

fn error(status: StatusCode, message: &str, reason: &str) -> Response {
    let body = json!({ "error": { "code": status.as_u16(), "message": message, "errors": [{ "message": message, "reason": reason }] } });
    (status, Json(body)).into_response()
}

async fn list(
    State(fake): State<FakeGoogle>,
    Path(group): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    let Some(members) = state.groups.get(&group) else {
        return error(
            StatusCode::NOT_FOUND,
            "Resource Not Found: groupKey",
            "notFound",
        );
    };
    let roles: Vec<&str> = query
        .get("roles")
        .map(|r| r.split(',').collect())
        .unwrap_or_default();
    let matching: Vec<&(String, String)> = members
        .iter()
        .filter(|(_, role)| roles.is_empty() || roles.contains(&role.as_str()))
        .collect();
    let size = query
        .get("maxResults")
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
        .min(fake.controls.page(PAGE));
    let start: usize = query
        .get("pageToken")
        .and_then(|t| t.strip_prefix("page:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let end = (start + size).min(matching.len());
    let page: Vec<Value> = matching[start..end]
        .iter()
        .map(|(email, role)| json!({ "kind": "admin#directory#member", "email": email, "role": role, "type": "USER", "status": "ACTIVE" }))
        .collect();
    let mut body = json!({ "kind": "admin#directory#members", "members": page });
    if end < matching.len() {
        body["nextPageToken"] = json!(format!("page:{end}"));
    }
    Json(body).into_response()
}

async fn insert(
    State(fake): State<FakeGoogle>,
    Path(group): Path<String>,
    headers: HeaderMap,
    Json(member): Json<Value>,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let email = member["email"].as_str().unwrap_or_default().to_string();
    let role = member["role"].as_str().unwrap_or("MEMBER").to_string();
    if !state
        .users
        .iter()
        .any(|user| user.eq_ignore_ascii_case(&email))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid Input: memberKey",
            "invalid",
        );
    }
    let Some(members) = state.groups.get_mut(&group) else {
        return error(
            StatusCode::NOT_FOUND,
            "Resource Not Found: groupKey",
            "notFound",
        );
    };
    if members
        .iter()
        .any(|(existing, _)| existing.eq_ignore_ascii_case(&email))
    {
        return error(StatusCode::CONFLICT, "Member already exists.", "duplicate");
    }
    members.push((email.clone(), role.clone()));
    Json(json!({ "kind": "admin#directory#member", "email": email, "role": role, "type": "USER" }))
        .into_response()
}

async fn remove(
    State(fake): State<FakeGoogle>,
    Path((group, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let Some(members) = state.groups.get_mut(&group) else {
        return error(
            StatusCode::NOT_FOUND,
            "Resource Not Found: groupKey",
            "notFound",
        );
    };
    match members
        .iter()
        .position(|(email, _)| email.eq_ignore_ascii_case(&member))
    {
        Some(index) => {
            members.remove(index);
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "Resource Not Found: memberKey",
            "notFound",
        ),
    }
}
