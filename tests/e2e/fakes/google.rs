//! A fake Google Workspace Admin SDK Directory API, following
//! https://developers.google.com/admin-sdk/directory/reference/rest/v1/members:
//! - `members.list` (`GET /admin/directory/v1/groups/{groupKey}/members`,
//!   with `roles`, `maxResults` (at most `PAGE` here) and `pageToken` /
//!   `nextPageToken`), returning member resources with `email`, `id`,
//!   `role`, `type` (USER, GROUP for a nested group, CUSTOMER for everyone
//!   in the domain, with no email and the customer ID as `id`) and `status`
//!   (ACTIVE, SUSPENDED for a suspended user);
//! - `members.insert` (`POST .../members`, 409 "Member already exists."
//!   with reason `duplicate` for a member of any role);
//! - `members.delete` (`DELETE .../members/{memberKey}`, 204).
//!
//! As Google does: `Authorization: Bearer <access token>` or 401; errors in
//! the shape `{"error": {"code", "message", "errors": [{"message",
//! "domain", "reason"}]}}`, as in the guide to managing group members
//! (https://developers.google.com/admin-sdk/directory/v1/guides/manage-group-members);
//! 404 "Resource Not Found: groupKey" for an
//! unknown group and "Resource Not Found: memberKey" for deleting someone
//! not in it; 400 "Invalid Input: memberKey" for inserting an unknown user.

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

/// One member of a group.
struct Entry {
    /// None for a CUSTOMER member.
    email: Option<String>,
    id: String,
    role: String,
    kind: &'static str,
}

#[derive(Default)]
struct Directory {
    users: Vec<String>,
    suspended: Vec<String>,
    groups: BTreeMap<String, Vec<Entry>>,
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
        let rate_limited = r#"{"error":{"code":429,"message":"Quota exceeded","errors":[{"message":"Quota exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}]}}"#;
        let addr = serve(router, fake.controls.clone(), rate_limited);
        FakeGoogle { addr, ..fake }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a group with these (email, role) users as members.
    pub fn group(&self, key: &str, members: &[(&str, &str)]) {
        let members = members
            .iter()
            .map(|(email, role)| user(email, role))
            .collect();
        self.state
            .lock()
            .unwrap()
            .groups
            .insert(key.into(), members);
    }

    /// Makes group `nested` a member of group `key`.
    pub fn nest(&self, key: &str, nested: &str) {
        self.push(
            key,
            Entry {
                email: Some(nested.to_string()),
                id: format!("group-{nested}"),
                role: "MEMBER".into(),
                kind: "GROUP",
            },
        );
    }

    /// Makes everyone in customer `customer_id`'s domain a member of group `key`.
    pub fn add_customer(&self, key: &str, customer_id: &str) {
        self.push(
            key,
            Entry {
                email: None,
                id: customer_id.to_string(),
                role: "MEMBER".into(),
                kind: "CUSTOMER",
            },
        );
    }

    /// Suspends a user account: it stays in its groups, with status SUSPENDED.
    pub fn suspend(&self, email: &str) {
        self.state.lock().unwrap().suspended.push(email.to_string());
    }

    fn push(&self, key: &str, entry: Entry) {
        let mut state = self.state.lock().unwrap();
        state
            .groups
            .get_mut(key)
            .expect("a group made with FakeGoogle::group")
            .push(entry);
    }

    /// The group's members as "email role", and "email-or-id role TYPE" for
    /// those that are not users, sorted.
    pub fn members(&self, key: &str) -> Vec<String> {
        let mut members: Vec<String> = self.state.lock().unwrap().groups[key]
            .iter()
            .map(|entry| match (entry.kind, &entry.email) {
                ("USER", Some(email)) => format!("{email} {}", entry.role),
                (kind, email) => format!(
                    "{} {} {kind}",
                    email.as_ref().unwrap_or(&entry.id),
                    entry.role
                ),
            })
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

fn user(email: &str, role: &str) -> Entry {
    Entry {
        email: Some(email.to_string()),
        id: format!("user-{email}"),
        role: role.to_string(),
        kind: "USER",
    }
}

fn error(status: StatusCode, message: &str, reason: &str) -> Response {
    let body = json!({ "error": { "code": status.as_u16(), "message": message, "errors": [{ "message": message, "domain": "global", "reason": reason }] } });
    (status, Json(body)).into_response()
}

fn group_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Resource Not Found: groupKey",
        "notFound",
    )
}

/// A member resource, as `members.list` returns it.
fn resource(entry: &Entry, suspended: &[String]) -> Value {
    let mut member = json!({ "kind": "admin#directory#member", "etag": "\"e\"", "id": entry.id, "role": entry.role, "type": entry.kind });
    if let Some(email) = &entry.email {
        member["email"] = json!(email);
    }
    if entry.kind == "USER" {
        let is_suspended = suspended.iter().any(|s| Some(s) == entry.email.as_ref());
        member["status"] = json!(if is_suspended { "SUSPENDED" } else { "ACTIVE" });
    }
    member
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
        return group_not_found();
    };
    let roles: Vec<&str> = query
        .get("roles")
        .map(|r| r.split(',').collect())
        .unwrap_or_default();
    let matching: Vec<&Entry> = members
        .iter()
        .filter(|entry| roles.is_empty() || roles.contains(&entry.role.as_str()))
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
        .map(|entry| resource(entry, &state.suspended))
        .collect();
    let mut body = json!({ "kind": "admin#directory#members", "etag": "\"e\"", "members": page });
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
    if !state.groups.contains_key(&group) {
        return group_not_found();
    }
    if !state.users.iter().any(|u| u.eq_ignore_ascii_case(&email)) {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid Input: memberKey",
            "invalid",
        );
    }
    let members = state.groups.get_mut(&group).unwrap();
    let exists = members.iter().any(|entry| {
        entry
            .email
            .as_ref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&email))
    });
    if exists {
        return error(StatusCode::CONFLICT, "Member already exists.", "duplicate");
    }
    members.push(user(&email, &role));
    Json(json!({ "kind": "admin#directory#member", "email": email, "role": role, "type": "USER", "status": "ACTIVE" }))
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
        return group_not_found();
    };
    let is_it = |entry: &Entry| {
        entry.id == member
            || entry
                .email
                .as_ref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&member))
    };
    match members.iter().position(is_it) {
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
