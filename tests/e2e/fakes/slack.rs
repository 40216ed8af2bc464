//! A fake Slack Web API, following https://api.slack.com/web and the method
//! pages of the methods it implements: `usergroups.users.list`,
//! `usergroups.users.update`, `users.info`, `users.lookupByEmail`,
//! `conversations.members`, `conversations.invite`, `conversations.kick`.
//!
//! As Slack does: every call needs `Authorization: Bearer <token>` (else
//! `not_authed` / `invalid_auth`); failures are HTTP 200 with
//! `{"ok": false, "error": "..."}`; reads take query parameters, writes a
//! form-encoded body; `conversations.members` pages with `limit` and an
//! opaque `cursor` in `response_metadata.next_cursor`, here at most
//! `PAGE` per page so clients must paginate; an empty user group is refused;
//! `conversations.invite` with `force=true` reports per-user `errors`.

use super::{Controls, bearer, serve};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::any;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most members `conversations.members` returns per page.
pub const PAGE: usize = 3;

/// One Slack user.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub is_bot: bool,
}

#[derive(Default)]
struct Workspace {
    users: Vec<User>,
    groups: BTreeMap<String, Vec<String>>,
    channels: BTreeMap<String, Vec<String>>,
}

/// A running fake Slack.
#[derive(Clone)]
pub struct FakeSlack {
    pub addr: SocketAddr,
    pub controls: Controls,
    token: Arc<str>,
    workspace: Arc<Mutex<Workspace>>,
}

type Params = HashMap<String, String>;

impl FakeSlack {
    /// A workspace with users `U1`, `U2`, ... for `emails`, plus a bot `B1`.
    pub fn start(token: &str, emails: &[&str]) -> Self {
        let mut users: Vec<User> = emails
            .iter()
            .enumerate()
            .map(|(n, email)| User {
                id: format!("U{}", n + 1),
                email: email.to_string(),
                is_bot: false,
            })
            .collect();
        users.push(User {
            id: "B1".into(),
            email: "bot@example.com".into(),
            is_bot: true,
        });
        let workspace = Workspace {
            users,
            ..Workspace::default()
        };
        let fake = FakeSlack {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            token: token.into(),
            workspace: Arc::new(Mutex::new(workspace)),
        };
        let router = Router::new()
            .route("/api/{method}", any(call))
            .with_state(fake.clone());
        let addr = serve(
            router,
            fake.controls.clone(),
            r#"{"ok":false,"error":"ratelimited"}"#,
        );
        FakeSlack { addr, ..fake }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Creates a user group with these members (by email).
    pub fn group(&self, id: &str, emails: &[&str]) {
        let ids = self.ids(emails);
        self.workspace.lock().unwrap().groups.insert(id.into(), ids);
    }

    /// Creates a channel with these members (by email; `bot@example.com` is the bot).
    pub fn channel(&self, id: &str, emails: &[&str]) {
        let ids = self.ids(emails);
        self.workspace
            .lock()
            .unwrap()
            .channels
            .insert(id.into(), ids);
    }

    /// Adds users, returning nothing; for big workspaces.
    pub fn add_users(&self, emails: impl IntoIterator<Item = String>) {
        let mut workspace = self.workspace.lock().unwrap();
        for email in emails {
            let id = format!("U{}", workspace.users.len() + 1);
            workspace.users.push(User {
                id,
                email,
                is_bot: false,
            });
        }
    }

    /// The emails of a group's members, sorted.
    pub fn group_emails(&self, id: &str) -> Vec<String> {
        let workspace = self.workspace.lock().unwrap();
        emails(&workspace, &workspace.groups[id])
    }

    /// The emails of a channel's members, sorted.
    pub fn channel_emails(&self, id: &str) -> Vec<String> {
        let workspace = self.workspace.lock().unwrap();
        emails(&workspace, &workspace.channels[id])
    }

    fn ids(&self, emails: &[&str]) -> Vec<String> {
        let workspace = self.workspace.lock().unwrap();
        emails
            .iter()
            .map(|email| {
                workspace
                    .users
                    .iter()
                    .find(|u| u.email == *email)
                    .expect("a known user")
                    .id
                    .clone()
            })
            .collect()
    }
}

fn emails(workspace: &Workspace, ids: &[String]) -> Vec<String> {
    let mut emails: Vec<String> = ids
        .iter()
        .filter_map(|id| workspace.users.iter().find(|u| &u.id == id))
        .map(|u| u.email.clone())
        .collect();
    emails.sort();
    emails
}

fn fail(error: &str) -> Json<Value> {
    Json(json!({ "ok": false, "error": error }))
}

async fn call(
    State(fake): State<FakeSlack>,
    Path(method): Path<String>,
    Query(query): Query<Params>,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    match bearer(&headers) {
        None => return fail("not_authed"),
        Some(token) if token != &*fake.token => return fail("invalid_auth"),
        Some(_) => {}
    }
    let form: Params = decode_form(&body);
    let params = if form.is_empty() { query } else { form };
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let mut workspace = fake.workspace.lock().unwrap();
    match method.as_str() {
        "usergroups.users.list" => match workspace.groups.get(&param("usergroup")) {
            Some(users) => Json(json!({ "ok": true, "users": users })),
            None => fail("no_such_subteam"),
        },
        "usergroups.users.update" => {
            let users: Vec<String> = param("users")
                .split(',')
                .filter(|u| !u.is_empty())
                .map(String::from)
                .collect();
            if users.is_empty() {
                return fail("no_users_provided");
            }
            if users
                .iter()
                .any(|id| !workspace.users.iter().any(|u| &u.id == id))
            {
                return fail("invalid_users");
            }
            match workspace.groups.get_mut(&param("usergroup")) {
                Some(members) => {
                    *members = users.clone();
                    Json(
                        json!({ "ok": true, "usergroup": { "id": param("usergroup"), "users": users } }),
                    )
                }
                None => fail("no_such_subteam"),
            }
        }
        "users.info" => match workspace.users.iter().find(|u| u.id == param("user")) {
            Some(user) => Json(json!({ "ok": true, "user": user_json(user) })),
            None => fail("user_not_found"),
        },
        "users.lookupByEmail" => match workspace
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(&param("email")))
        {
            Some(user) => Json(json!({ "ok": true, "user": user_json(user) })),
            None => fail("users_not_found"),
        },
        "conversations.members" => {
            let Some(members) = workspace.channels.get(&param("channel")) else {
                return fail("channel_not_found");
            };
            let start: usize = param("cursor")
                .strip_prefix("next:")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let limit = param("limit")
                .parse()
                .unwrap_or(100)
                .min(fake.controls.page(PAGE));
            let end = (start + limit).min(members.len());
            let next = if end < members.len() {
                format!("next:{end}")
            } else {
                String::new()
            };
            Json(
                json!({ "ok": true, "members": members[start..end], "response_metadata": { "next_cursor": next } }),
            )
        }
        "conversations.invite" => invite(&mut workspace, &param("channel"), &param("users")),
        "conversations.kick" => {
            let user = param("user");
            let Some(members) = workspace.channels.get_mut(&param("channel")) else {
                return fail("channel_not_found");
            };
            match members.iter().position(|id| *id == user) {
                Some(index) => {
                    members.remove(index);
                    Json(json!({ "ok": true }))
                }
                None => fail("not_in_channel"),
            }
        }
        _ => fail("unknown_method"),
    }
}

fn invite(workspace: &mut Workspace, channel: &str, users: &str) -> Json<Value> {
    let users: Vec<String> = users
        .split(',')
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    if users.len() > 1000 {
        return fail("too_many_users");
    }
    let known: Vec<String> = workspace.users.iter().map(|u| u.id.clone()).collect();
    let Some(members) = workspace.channels.get_mut(channel) else {
        return fail("channel_not_found");
    };
    let mut errors = Vec::new();
    for user in users {
        if !known.contains(&user) {
            errors.push(json!({ "user": user, "ok": false, "error": "user_not_found" }));
        } else if members.contains(&user) {
            errors.push(json!({ "user": user, "ok": false, "error": "already_in_channel" }));
        } else {
            members.push(user);
        }
    }
    Json(json!({ "ok": true, "channel": { "id": channel }, "errors": errors }))
}

fn user_json(user: &User) -> Value {
    json!({ "id": user.id, "is_bot": user.is_bot, "deleted": false, "profile": { "email": user.email } })
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn decode_form(body: &str) -> Params {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
