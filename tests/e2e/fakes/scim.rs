//! A fake SCIM 2.0 service provider, following RFC 7643 (core schema: a
//! User's `userName`, `emails` and read-only `groups`, each with `type`
//! "direct" or "indirect"; a Group's `displayName` and `members`, each with
//! `value`, `$ref`, `display` and `type` "User" or "Group") and RFC 7644
//! (protocol):
//! - `GET /scim/v2/Users` and `/Groups` (§3.4.2): a ListResponse with
//!   `totalResults`, `startIndex`, `itemsPerPage` and `Resources`, paged by
//!   `startIndex` (1-based) and `count` (§3.4.2.4; at most [`PAGE`] here);
//!   `filter` (§3.4.2.2) with `eq` on `userName`, `emails.value` and
//!   `groups.value` (users) and `displayName` (groups), attribute names and
//!   values that are not case-exact compared ignoring case, and 400
//!   `invalidFilter` for anything else;
//! - `GET /scim/v2/Users/{id}` and `/Groups/{id}` (§3.4.1), with
//!   `attributes` and `excludedAttributes` (§3.4.2.5);
//! - `PATCH /scim/v2/Groups/{id}` (§3.5.2): `add` of `members` (with that
//!   path, or none and a `members` value; a member already there is left
//!   as it is), `remove` with the path `members[value eq "..."]` (400
//!   `noTarget` when it selects nobody; the path `members` alone removes
//!   everyone; no path is 400 `noTarget`) and `replace` of `members`,
//!   applied atomically, answered 204; an id that is no resource is 400
//!   `invalidValue`, and past [`FakeScim::limit_changes`] membership changes
//!   a request is 400 `tooMany`;
//! - errors as `urn:ietf:params:scim:api:messages:2.0:Error` with `status`,
//!   `scimType` and `detail` (§3.12); `Authorization: Bearer` or 401.
//!
//! [`AWS`] answers as the IAM Identity Center SCIM implementation documents
//! (https://docs.aws.amazon.com/singlesignon/latest/developerguide/): GetGroup
//! and ListGroups "return an empty member list"; ListUsers filters by
//! `userName` and `groups.value` but not by email, takes no `startIndex`,
//! and pages by `cursor` ("The first request made with cursor must be
//! empty", then each page's `nextCursor`); users carry no `groups`.

use super::{Controls, bearer, serve};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most resources per page, whatever `count` asks.
pub const PAGE: usize = 2;
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// How the service answers where providers differ.
#[derive(Debug, Clone, Copy)]
pub struct Flavour {
    /// Whether a group is read with its `members`.
    pub members_on_read: bool,
    /// Whether lists ignore `startIndex` and page by `cursor`.
    pub cursor_paging: bool,
    /// Whether users can be filtered by `emails.value`.
    pub email_filter: bool,
    /// Whether users carry the groups they are in.
    pub groups_on_users: bool,
}

/// A service as RFC 7644 describes one.
pub const RFC: Flavour = Flavour {
    members_on_read: true,
    cursor_paging: false,
    email_filter: true,
    groups_on_users: true,
};

/// AWS IAM Identity Center.
pub const AWS: Flavour = Flavour {
    members_on_read: false,
    cursor_paging: true,
    email_filter: false,
    groups_on_users: false,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

/// One member of a group: a user's or a group's id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: String,
    kind: Kind,
}

struct Person {
    id: String,
    user_name: String,
    emails: Vec<String>,
}

struct Team {
    id: String,
    display_name: String,
    members: Vec<Entry>,
}

#[derive(Default)]
struct Directory {
    users: Vec<Person>,
    groups: Vec<Team>,
    change_limit: Option<usize>,
}

/// A running fake SCIM service.
#[derive(Clone)]
pub struct FakeScim {
    pub addr: SocketAddr,
    pub controls: Controls,
    token: Arc<str>,
    flavour: Flavour,
    state: Arc<Mutex<Directory>>,
}

impl FakeScim {
    /// A service with no users or groups yet, answering as `flavour`.
    pub fn start(token: &str, flavour: Flavour) -> Self {
        let fake = FakeScim {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            token: token.into(),
            flavour,
            state: Arc::default(),
        };
        let router = Router::new()
            .route("/scim/v2/Users", get(list_users))
            .route("/scim/v2/Users/{id}", get(read_user))
            .route("/scim/v2/Groups", get(list_groups))
            .route("/scim/v2/Groups/{id}", get(read_group).patch(patch_group))
            .with_state(fake.clone());
        let rate_limited = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"Too many requests"}"#;
        let addr = serve(router, fake.controls.clone(), rate_limited);
        FakeScim { addr, ..fake }
    }

    /// The SCIM endpoint, as `base_url` takes it.
    pub fn base_url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    /// Creates users named `user_names`, each with that name as its one email.
    pub fn users(&self, user_names: &[&str]) {
        for name in user_names {
            self.user(name, &[name]);
        }
    }

    /// Creates a user (id `u1`, `u2`, ...) with these emails, the first primary.
    pub fn user(&self, user_name: &str, emails: &[&str]) {
        let mut state = self.state.lock().unwrap();
        let id = format!("u{}", state.users.len() + 1);
        state.users.push(Person {
            id,
            user_name: user_name.to_string(),
            emails: emails.iter().map(|email| email.to_string()).collect(),
        });
    }

    /// Creates a group whose members are the users named `user_names`;
    /// returns its id (`g1`, `g2`, ...).
    pub fn group(&self, display_name: &str, user_names: &[&str]) -> String {
        let mut state = self.state.lock().unwrap();
        let members = user_names
            .iter()
            .map(|name| Entry {
                id: state
                    .user_named(name)
                    .expect("a user made first")
                    .id
                    .clone(),
                kind: Kind::User,
            })
            .collect();
        let id = format!("g{}", state.groups.len() + 1);
        state.groups.push(Team {
            id: id.clone(),
            display_name: display_name.to_string(),
            members,
        });
        id
    }

    /// Makes group `nested` a member of group `group`.
    pub fn nest(&self, group: &str, nested: &str) {
        let mut state = self.state.lock().unwrap();
        let entry = Entry {
            id: nested.to_string(),
            kind: Kind::Group,
        };
        state.team_mut(group).unwrap().members.push(entry);
    }

    /// Refuses requests making more than `limit` membership changes.
    pub fn limit_changes(&self, limit: usize) {
        self.state.lock().unwrap().change_limit = Some(limit);
    }

    /// Group `id`'s members: users by userName, groups as "group <displayName>", sorted.
    pub fn members(&self, id: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let mut members: Vec<String> = state
            .team(id)
            .unwrap()
            .members
            .iter()
            .map(|entry| match entry.kind {
                Kind::User => state.person(&entry.id).unwrap().user_name.clone(),
                Kind::Group => format!("group {}", state.team(&entry.id).unwrap().display_name),
            })
            .collect();
        members.sort();
        members
    }

    /// The 401 answer, unless the request carries the token.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match bearer(headers) {
            Some(token) if token == &*self.token => None,
            _ => Some(scim_error(
                StatusCode::UNAUTHORIZED,
                None,
                "The bearer token is missing, invalid or expired.",
            )),
        }
    }
}

impl Directory {
    fn person(&self, id: &str) -> Option<&Person> {
        self.users.iter().find(|person| person.id == id)
    }

    fn user_named(&self, name: &str) -> Option<&Person> {
        self.users
            .iter()
            .find(|person| same(&person.user_name, name))
    }

    fn team(&self, id: &str) -> Option<&Team> {
        self.groups.iter().find(|team| team.id == id)
    }

    fn team_mut(&mut self, id: &str) -> Option<&mut Team> {
        self.groups.iter_mut().find(|team| team.id == id)
    }

    /// The groups user `id` is in: "direct"ly, or "indirect"ly through
    /// groups nested in them, as RFC 7643 §4.1.2 has `groups` say.
    fn memberships(&self, id: &str) -> Vec<(String, &'static str)> {
        let holds = |team: &Team, id: &str, kind| {
            team.members.contains(&Entry {
                id: id.into(),
                kind,
            })
        };
        let mut found: Vec<(String, &'static str)> = self
            .groups
            .iter()
            .filter(|team| holds(team, id, Kind::User))
            .map(|team| (team.id.clone(), "direct"))
            .collect();
        loop {
            let outer: Vec<String> = self
                .groups
                .iter()
                .filter(|team| !found.iter().any(|(known, _)| *known == team.id))
                .filter(|team| {
                    found
                        .iter()
                        .any(|(inner, _)| holds(team, inner, Kind::Group))
                })
                .map(|team| team.id.clone())
                .collect();
            if outer.is_empty() {
                return found;
            }
            found.extend(outer.into_iter().map(|id| (id, "indirect")));
        }
    }

    /// The member `id` names: a user or a group.
    fn entry(&self, id: &str) -> Option<Entry> {
        let kind = match (self.person(id), self.team(id)) {
            (Some(_), _) => Kind::User,
            (None, Some(_)) => Kind::Group,
            (None, None) => return None,
        };
        Some(Entry {
            id: id.to_string(),
            kind,
        })
    }
}

fn same(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({ "schemas": [ERROR], "status": status.as_str(), "detail": detail });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    scim_json(status, body)
}

fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/scim+json"),
    );
    response
}

fn not_found(what: &str, id: &str) -> Response {
    scim_error(
        StatusCode::NOT_FOUND,
        None,
        &format!("{what} {id} not found"),
    )
}

fn bad_request(scim_type: &str, detail: &str) -> Response {
    scim_error(StatusCode::BAD_REQUEST, Some(scim_type), detail)
}

/// Where the request says it was sent, to write `$ref` and `location`.
fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/scim/v2")
}

fn user_resource(state: &Directory, person: &Person, flavour: Flavour, base: &str) -> Value {
    let emails: Vec<Value> = person
        .emails
        .iter()
        .enumerate()
        .map(|(n, email)| json!({ "value": email, "type": "work", "primary": n == 0 }))
        .collect();
    let location = format!("{base}/Users/{}", person.id);
    let mut user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": person.id, "userName": person.user_name, "emails": emails, "active": true,
        "meta": { "resourceType": "User", "location": location }
    });
    if flavour.groups_on_users {
        let groups: Vec<Value> = state
            .memberships(&person.id)
            .into_iter()
            .map(|(id, kind)| {
                let name = &state.team(&id).unwrap().display_name;
                json!({ "value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": kind })
            })
            .collect();
        user["groups"] = json!(groups);
    }
    user
}

fn group_resource(state: &Directory, team: &Team, flavour: Flavour, base: &str) -> Value {
    let mut group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": team.id, "displayName": team.display_name,
        "meta": { "resourceType": "Group", "location": format!("{base}/Groups/{}", team.id) }
    });
    if flavour.members_on_read {
        let members: Vec<Value> = team
            .members
            .iter()
            .map(|entry| {
                let (kind, endpoint, display) = match entry.kind {
                    Kind::User => ("User", "Users", state.person(&entry.id).unwrap().user_name.clone()),
                    Kind::Group => ("Group", "Groups", state.team(&entry.id).unwrap().display_name.clone()),
                };
                json!({ "value": entry.id, "$ref": format!("{base}/{endpoint}/{}", entry.id), "display": display, "type": kind })
            })
            .collect();
        group["members"] = json!(members);
    }
    group
}

/// `resource` with only the attributes `attributes` asks for (and `id`,
/// which is always returned), less those `excludedAttributes` names.
fn project(mut resource: Value, query: &HashMap<String, String>) -> Value {
    let names = |key: &str| -> Option<Vec<String>> {
        let list = query.get(key)?;
        Some(
            list.split(',')
                .map(|name| name.trim().split('.').next().unwrap().to_lowercase())
                .collect(),
        )
    };
    let object = resource.as_object_mut().unwrap();
    if let Some(wanted) = names("attributes") {
        object.retain(|key, _| {
            matches!(key.as_str(), "id" | "schemas") || wanted.contains(&key.to_lowercase())
        });
    }
    if let Some(unwanted) = names("excludedAttributes") {
        object.retain(|key, _| key == "id" || !unwanted.contains(&key.to_lowercase()));
    }
    resource
}

/// A filter `attribute eq "value"` (the only operator served): the
/// attribute lower-cased, and the value.
fn parse_filter(filter: &str) -> Option<(String, String)> {
    let mut words = filter.trim().splitn(3, ' ');
    let attribute = words.next()?.to_lowercase();
    let operator = words.next()?;
    let value: String = serde_json::from_str(words.next()?.trim()).ok()?;
    operator
        .eq_ignore_ascii_case("eq")
        .then_some((attribute, value))
}

/// Whether `person` matches `filter`; `None` for a filter not served.
fn user_matches(
    state: &Directory,
    person: &Person,
    filter: &(String, String),
    flavour: Flavour,
) -> Option<bool> {
    let (attribute, value) = filter;
    match attribute.as_str() {
        "username" => Some(same(&person.user_name, value)),
        "emails.value" if flavour.email_filter => {
            Some(person.emails.iter().any(|email| same(email, value)))
        }
        "groups.value" => Some(
            state
                .memberships(&person.id)
                .iter()
                .any(|(id, _)| id == value),
        ),
        _ => None,
    }
}

/// The resources `matches` keeps, or the 400 of a filter not served.
fn filtered<'a, T>(
    items: &'a [T],
    query: &HashMap<String, String>,
    matches: impl Fn(&T, &(String, String)) -> Option<bool>,
) -> Result<Vec<&'a T>, Response> {
    let Some(filter) = query.get("filter") else {
        return Ok(items.iter().collect());
    };
    let invalid = || {
        bad_request(
            "invalidFilter",
            &format!("filter `{filter}` is not supported"),
        )
    };
    let parsed = parse_filter(filter).ok_or_else(invalid)?;
    let mut kept = Vec::new();
    for item in items {
        if matches(item, &parsed).ok_or_else(invalid)? {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// One page of `resources` as a ListResponse: by `startIndex` and `count`,
/// or, for [`AWS`] asked with `cursor`, by cursor.
fn page_of(
    resources: Vec<Value>,
    query: &HashMap<String, String>,
    flavour: Flavour,
    page: usize,
) -> Response {
    let count = query
        .get("count")
        .and_then(|count| count.parse::<i64>().ok())
        .map_or(page, |count| {
            usize::try_from(count.max(0)).unwrap().min(page)
        });
    if let (true, Some(cursor)) = (flavour.cursor_paging, query.get("cursor")) {
        let start = match cursor.as_str() {
            "" => Some(0),
            cursor => cursor.strip_prefix("after:").and_then(|n| n.parse().ok()),
        };
        let Some(start) = start.filter(|start| *start <= resources.len()) else {
            return bad_request("invalidCursor", "cursor is not valid");
        };
        let end = (start + count).min(resources.len());
        let mut body = json!({ "schemas": [LIST], "itemsPerPage": end - start, "Resources": &resources[start..end] });
        if end < resources.len() {
            body["nextCursor"] = json!(format!("after:{end}"));
        }
        return scim_json(StatusCode::OK, body);
    }
    let asked = match flavour.cursor_paging {
        true => 1,
        false => query
            .get("startIndex")
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1),
    };
    let start = (usize::try_from(asked).unwrap() - 1).min(resources.len());
    let end = (start + count).min(resources.len());
    let body = json!({ "schemas": [LIST], "totalResults": resources.len(), "startIndex": asked, "itemsPerPage": end - start, "Resources": &resources[start..end] });
    scim_json(StatusCode::OK, body)
}

async fn list_users(
    State(fake): State<FakeScim>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    let kept = match filtered(&state.users, &query, |person, filter| {
        user_matches(&state, person, filter, fake.flavour)
    }) {
        Ok(kept) => kept,
        Err(response) => return response,
    };
    let resources = kept
        .into_iter()
        .map(|person| {
            project(
                user_resource(&state, person, fake.flavour, &base(&headers)),
                &query,
            )
        })
        .collect();
    page_of(resources, &query, fake.flavour, fake.controls.page(PAGE))
}

async fn read_user(
    State(fake): State<FakeScim>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    match state.person(&id) {
        Some(person) => scim_json(
            StatusCode::OK,
            project(
                user_resource(&state, person, fake.flavour, &base(&headers)),
                &query,
            ),
        ),
        None => not_found("User", &id),
    }
}

async fn list_groups(
    State(fake): State<FakeScim>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    let named = |team: &Team, (attribute, value): &(String, String)| {
        (attribute == "displayname").then(|| same(&team.display_name, value))
    };
    let kept = match filtered(&state.groups, &query, named) {
        Ok(kept) => kept,
        Err(response) => return response,
    };
    let resources = kept
        .into_iter()
        .map(|team| {
            project(
                group_resource(&state, team, fake.flavour, &base(&headers)),
                &query,
            )
        })
        .collect();
    page_of(resources, &query, fake.flavour, fake.controls.page(PAGE))
}

async fn read_group(
    State(fake): State<FakeScim>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    match state.team(&id) {
        Some(team) => scim_json(
            StatusCode::OK,
            project(
                group_resource(&state, team, fake.flavour, &base(&headers)),
                &query,
            ),
        ),
        None => not_found("Group", &id),
    }
}

async fn patch_group(
    State(fake): State<FakeScim>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let Some(team) = state.team(&id) else {
        return not_found("Group", &id);
    };
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    let is_patch_op = request["schemas"]
        .as_array()
        .is_some_and(|schemas| schemas.contains(&json!(PATCH_OP)));
    let operations = request["Operations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !is_patch_op || operations.is_empty() {
        return bad_request(
            "invalidSyntax",
            "a PatchOp with one or more Operations is required",
        );
    }
    let changes: usize = operations.iter().map(membership_changes).sum();
    if let Some(limit) = state.change_limit.filter(|limit| changes > *limit) {
        return bad_request(
            "tooMany",
            &format!("{changes} membership changes in one request; at most {limit} are allowed"),
        );
    }
    let mut members = team.members.clone();
    for operation in &operations {
        if let Err(response) = apply(&state, &mut members, operation) {
            return response;
        }
    }
    state.team_mut(&id).unwrap().members = members;
    StatusCode::NO_CONTENT.into_response()
}

/// How many members `operation` adds, removes or sets.
fn membership_changes(operation: &Value) -> usize {
    let value = &operation["value"];
    let listed = value.as_array().or_else(|| value["members"].as_array());
    listed.map_or(1, Vec::len)
}

/// Applies one PATCH operation to `members` (RFC 7644 §3.5.2.1 to 3.5.2.3).
fn apply(state: &Directory, members: &mut Vec<Entry>, operation: &Value) -> Result<(), Response> {
    let op = operation["op"].as_str().unwrap_or_default().to_lowercase();
    let path = operation["path"].as_str();
    let value = &operation["value"];
    match (op.as_str(), path) {
        ("add", None) => add(state, members, &value["members"]),
        ("add", Some(path)) if path.eq_ignore_ascii_case("members") => add(state, members, value),
        ("replace", Some(path)) if path.eq_ignore_ascii_case("members") => {
            let mut replaced = Vec::new();
            add(state, &mut replaced, value)?;
            *members = replaced;
            Ok(())
        }
        ("remove", None) => Err(bad_request("noTarget", "remove needs a path")),
        ("remove", Some(path)) if path.eq_ignore_ascii_case("members") => {
            members.clear();
            Ok(())
        }
        ("remove", Some(path)) => {
            let id = member_selected(path).ok_or_else(|| {
                bad_request("invalidPath", &format!("path `{path}` is not supported"))
            })?;
            let before = members.len();
            members.retain(|entry| entry.id != id);
            match members.len() < before {
                true => Ok(()),
                false => Err(bad_request(
                    "noTarget",
                    &format!("no member matches `{path}`"),
                )),
            }
        }
        _ => Err(bad_request(
            "invalidPath",
            &format!("`{op}` of `{}` is not supported", path.unwrap_or("")),
        )),
    }
}

/// Adds the members listed in `value` (`[{"value": id}]`), once each.
fn add(state: &Directory, members: &mut Vec<Entry>, value: &Value) -> Result<(), Response> {
    let listed = value
        .as_array()
        .ok_or_else(|| bad_request("invalidValue", "members must be a list"))?;
    for member in listed {
        let id = member["value"].as_str().unwrap_or_default();
        let entry = state.entry(id).ok_or_else(|| {
            bad_request("invalidValue", &format!("no User or Group has id `{id}`"))
        })?;
        if !members.contains(&entry) {
            members.push(entry);
        }
    }
    Ok(())
}

/// The id a path `members[value eq "<id>"]` selects.
fn member_selected(path: &str) -> Option<String> {
    let inner = path
        .get(..8)
        .filter(|head| head.eq_ignore_ascii_case("members["))?;
    let filter = path[inner.len()..].strip_suffix(']')?;
    let (attribute, id) = parse_filter(filter)?;
    (attribute == "value").then_some(id)
}
