//! A fake Slack Web API, following https://api.slack.com/web (calling
//! conventions, `ok`/`error` answers), https://api.slack.com/apis/rate-limits
//! (HTTP 429 with `Retry-After`, through [`Controls`]), the user object
//! (https://api.slack.com/types/user: `is_bot`, `deleted`, `is_restricted`,
//! `is_ultra_restricted`), and the pages of the methods it implements:
//! https://api.slack.com/methods/usergroups.users.list,
//! https://api.slack.com/methods/usergroups.users.update,
//! https://api.slack.com/methods/users.info,
//! https://api.slack.com/methods/users.lookupByEmail,
//! https://api.slack.com/methods/users.list,
//! https://api.slack.com/methods/conversations.members,
//! https://api.slack.com/methods/conversations.invite,
//! https://api.slack.com/methods/conversations.kick.
//!
//! As Slack does:
//! - every call needs `Authorization: Bearer <token>` (else `not_authed` /
//!   `invalid_auth`); failures are HTTP 200 with `{"ok": false, "error":
//!   "..."}`; reads take query parameters, writes a form-encoded body;
//! - user groups and channels list bots, guests and deactivated accounts
//!   like anyone else; `users.info` and `users.lookupByEmail` (any case of
//!   the email) describe them with the user object's flags, and answer
//!   `user_not_found` / `users_not_found` for no one;
//! - `usergroups.users.update` replaces the whole list, takes IDs separated
//!   by commas (spaces allowed), and refuses the whole update if one ID is
//!   a bot, a guest or a deactivated account (`invalid_users`; a
//!   single-channel guest `single_channel_guests_cannot_be_added`), or if
//!   none is given (`no_users_provided`): a user group cannot be emptied;
//! - `conversations.members` and `users.list` page with `limit` and an
//!   opaque `cursor` (`response_metadata.next_cursor`; `invalid_cursor` for
//!   one it did not give), here at most `PAGE` per page (users.list: at most
//!   `limit`, capped at 200 as Slack recommends) so clients must paginate;
//!   `users.list` lists everyone, bots and deactivated accounts included;
//! - `conversations.invite` takes up to 1000 users; a user it cannot invite
//!   is listed in `errors` (`user_not_found`, `already_in_channel`,
//!   `cant_invite` for a deactivated account, `ura_max_channels` for a
//!   single-channel guest already in a channel); without `force=true` one
//!   such error fails the whole call, with it the others are invited and
//!   the answer is `ok: false` only if no one was;
//! - `conversations.kick` removes one user (`not_in_channel` if not there).

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
/// The most users `conversations.invite` takes.
const INVITE_LIMIT: usize = 1000;

/// What kind of account a user is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Person,
    Bot,
    Deactivated,
    /// A multi-channel guest (`is_restricted`).
    Guest,
    /// A single-channel guest (`is_restricted` and `is_ultra_restricted`).
    SingleChannelGuest,
}

/// One Slack user.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub kind: Kind,
}

#[derive(Default)]
struct Workspace {
    users: Vec<User>,
    groups: BTreeMap<String, Vec<String>>,
    channels: BTreeMap<String, Vec<String>>,
    /// The `users` of every `usergroups.users.update`, accepted or not.
    updates: Vec<Vec<String>>,
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
    /// A workspace with people `U1`, `U2`, ... for `emails`, then a bot
    /// (`bot@example.com`).
    pub fn start(token: &str, emails: &[&str]) -> Self {
        let fake = FakeSlack {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            token: token.into(),
            workspace: Arc::default(),
        };
        for email in emails {
            fake.user(email, Kind::Person);
        }
        fake.user("bot@example.com", Kind::Bot);
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

    /// Adds a user of `kind`; returns its ID.
    pub fn user(&self, email: &str, kind: Kind) -> String {
        let mut workspace = self.workspace.lock().unwrap();
        let id = format!("U{}", workspace.users.len() + 1);
        workspace.users.push(User {
            id: id.clone(),
            email: email.to_string(),
            kind,
        });
        id
    }

    /// Adds people; for big workspaces.
    pub fn add_users(&self, emails: impl IntoIterator<Item = String>) {
        for email in emails {
            self.user(&email, Kind::Person);
        }
    }

    /// Creates a user group with these members (by email, any kind).
    pub fn group(&self, id: &str, emails: &[&str]) {
        let ids = self.ids(emails);
        self.workspace.lock().unwrap().groups.insert(id.into(), ids);
    }

    /// Creates a channel with these members (by email, any kind).
    pub fn channel(&self, id: &str, emails: &[&str]) {
        let ids = self.ids(emails);
        self.workspace
            .lock()
            .unwrap()
            .channels
            .insert(id.into(), ids);
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

    /// The users of every `usergroups.users.update` so far, as emails
    /// (sorted), accepted or refused.
    pub fn updates(&self) -> Vec<Vec<String>> {
        let workspace = self.workspace.lock().unwrap();
        workspace
            .updates
            .iter()
            .map(|ids| emails(&workspace, ids))
            .collect()
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

/// The emails of `ids` (an unknown ID as itself), sorted.
fn emails(workspace: &Workspace, ids: &[String]) -> Vec<String> {
    let mut emails: Vec<String> = ids
        .iter()
        .map(|id| match workspace.user(id) {
            Some(user) => user.email.clone(),
            None => id.clone(),
        })
        .collect();
    emails.sort();
    emails
}

impl Workspace {
    fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
}

fn fail(error: &str) -> Json<Value> {
    Json(json!({ "ok": false, "error": error }))
}

/// A comma-separated list of IDs, spaces allowed around each.
fn id_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(String::from)
        .collect()
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
            update_group(&mut workspace, &param("usergroup"), &param("users"))
        }
        "users.info" => match workspace.user(&param("user")) {
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
        "users.list" => {
            let limit = param("limit").parse().unwrap_or(100).clamp(1, USERS_PAGE);
            users_page(&workspace, &param("cursor"), limit)
        }
        "conversations.members" => {
            let limit = param("limit")
                .parse()
                .unwrap_or(100)
                .min(fake.controls.page(PAGE));
            members_page(&workspace, &param("channel"), &param("cursor"), limit)
        }
        "conversations.invite" => invite(
            &mut workspace,
            &param("channel"),
            &param("users"),
            param("force") == "true",
        ),
        "conversations.kick" => kick(&mut workspace, &param("channel"), &param("user")),
        _ => fail("unknown_method"),
    }
}

fn update_group(workspace: &mut Workspace, group: &str, users: &str) -> Json<Value> {
    let users = id_list(users);
    workspace.updates.push(users.clone());
    if !workspace.groups.contains_key(group) {
        return fail("no_such_subteam");
    }
    if users.is_empty() {
        return fail("no_users_provided");
    }
    for id in &users {
        match workspace.user(id).map(|user| user.kind) {
            Some(Kind::Person) => {}
            Some(Kind::SingleChannelGuest) => return fail("single_channel_guests_cannot_be_added"),
            _ => return fail("invalid_users"),
        }
    }
    workspace.groups.insert(group.to_string(), users.clone());
    Json(
        json!({ "ok": true, "usergroup": { "id": group, "users": users, "user_count": users.len() } }),
    )
}

/// The most users a `users.list` page holds here.
const USERS_PAGE: usize = 200;

fn members_page(workspace: &Workspace, channel: &str, cursor: &str, limit: usize) -> Json<Value> {
    let Some(members) = workspace.channels.get(channel) else {
        return fail("channel_not_found");
    };
    page(members, cursor, limit, |id| json!(id))
}

fn users_page(workspace: &Workspace, cursor: &str, limit: usize) -> Json<Value> {
    page(&workspace.users, cursor, limit, user_json)
}

/// One page of `items`, from `cursor`, as `members` with the next cursor.
fn page<T>(items: &[T], cursor: &str, limit: usize, shown: impl Fn(&T) -> Value) -> Json<Value> {
    let start = match cursor {
        "" => 0,
        cursor => match cursor.strip_prefix("next:").and_then(|n| n.parse().ok()) {
            Some(start) => start,
            None => return fail("invalid_cursor"),
        },
    };
    let end = (start + limit).min(items.len());
    let next = match end < items.len() {
        true => format!("next:{end}"),
        false => String::new(),
    };
    let members: Vec<Value> = items[start.min(end)..end].iter().map(shown).collect();
    Json(json!({
        "ok": true,
        "members": members,
        "response_metadata": { "next_cursor": next },
    }))
}

fn invite(workspace: &mut Workspace, channel: &str, users: &str, force: bool) -> Json<Value> {
    let users = id_list(users);
    if users.is_empty() {
        return fail("no_user");
    }
    if users.len() > INVITE_LIMIT {
        return fail("too_many_users");
    }
    let Some(members) = workspace.channels.get(channel) else {
        return fail("channel_not_found");
    };
    let mut errors = Vec::new();
    let mut invited = Vec::new();
    for id in users {
        let refusal = match workspace.user(&id).map(|user| user.kind) {
            None => Some("user_not_found"),
            Some(_) if members.contains(&id) || invited.contains(&id) => Some("already_in_channel"),
            Some(Kind::Deactivated) => Some("cant_invite"),
            Some(Kind::SingleChannelGuest) if in_a_channel(workspace, &id) => {
                Some("ura_max_channels")
            }
            Some(_) => None,
        };
        match refusal {
            Some(error) => errors.push(json!({ "user": id, "ok": false, "error": error })),
            None => invited.push(id),
        }
    }
    if !errors.is_empty() && (!force || invited.is_empty()) {
        let first = errors[0]["error"].clone();
        return Json(json!({ "ok": false, "error": first, "errors": errors }));
    }
    workspace
        .channels
        .get_mut(channel)
        .expect("the channel exists")
        .extend(invited);
    let mut answer = json!({ "ok": true, "channel": { "id": channel } });
    if !errors.is_empty() {
        answer["errors"] = json!(errors);
    }
    Json(answer)
}

fn in_a_channel(workspace: &Workspace, id: &String) -> bool {
    workspace
        .channels
        .values()
        .any(|members| members.contains(id))
}

fn kick(workspace: &mut Workspace, channel: &str, user: &str) -> Json<Value> {
    if user.is_empty() {
        return fail("no_user");
    }
    if workspace.user(user).is_none() {
        return fail("user_not_found");
    }
    let Some(members) = workspace.channels.get_mut(channel) else {
        return fail("channel_not_found");
    };
    match members.iter().position(|id| id == user) {
        Some(index) => {
            members.remove(index);
            Json(json!({ "ok": true, "errors": {} }))
        }
        None => fail("not_in_channel"),
    }
}

fn user_json(user: &User) -> Value {
    let guest = matches!(user.kind, Kind::Guest | Kind::SingleChannelGuest);
    json!({
        "id": user.id,
        "name": user.email.split('@').next(),
        "deleted": user.kind == Kind::Deactivated,
        "is_bot": user.kind == Kind::Bot,
        "is_restricted": guest,
        "is_ultra_restricted": user.kind == Kind::SingleChannelGuest,
        "profile": { "email": user.email },
    })
}

/// Decodes an `application/x-www-form-urlencoded` body.
fn decode_form(body: &str) -> Params {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}
