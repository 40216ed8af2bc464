//! A fake HCP Terraform (formerly Terraform Cloud), following its API docs
//! (https://developer.hashicorp.com/terraform/cloud-docs/api-docs):
//! - the overview: every path under `/api/v2`; `Authorization: Bearer
//!   <token>` or 401 ("The 401 status code is reserved for problems with the
//!   authentication token; forbidden requests with a valid token result in
//!   a 404"), and 404 for an organisation or ID it does not hold; JSON:API
//!   documents as `application/vnd.api+json` (a request body of another
//!   type is 415, as JSON:API's content negotiation has it); errors as
//!   `{"errors": [{"status", "title", "detail"}]}`; pagination with
//!   `page[number]` and `page[size]` (default 20, at most 100, and at most
//!   [`PAGE`] here), answered with `links` (`self`, `first`, `prev`, `next`,
//!   `last`) and `meta.pagination`; rate limits answered 429 with the
//!   `x-ratelimit-*` headers and no `Retry-After` ([`rate_limit`]);
//! - organization memberships (`/organizations/{name}/organization-memberships`):
//!   listed with `q`, `filter[status]`, `filter[email]` and `include=user`
//!   (the email is the included user's `attributes.email`, as in the docs'
//!   samples) or `include=teams`, each with its teams, invited ones too;
//!   invited with `POST` (201 `status: invited`, onto
//!   `relationships.teams`; 422 for an invalid email, one already a member
//!   or invited, or an unknown team); `DELETE /organization-memberships/{id}`
//!   (204);
//! - teams (`/organizations/{name}/teams`): listed with `q`
//!   (case-insensitive) and `filter[names]`, "Invited users who have not
//!   yet accepted will not appear in Teams API responses"; created with
//!   `POST` (200; 422 for a name that is not "letters, numbers, `-`, and
//!   `_`" or is taken, names compared exactly); `DELETE /teams/{id}` (204);
//!   every organisation has a team named owners, which "can't be deleted
//!   and can't be empty" (422 here);
//! - team membership (`POST` and `DELETE
//!   /teams/{id}/relationships/organization-memberships`, a list of
//!   `organization-memberships` identifiers): 204; 422 for an unknown
//!   membership or a wrong type; an invited membership may join.

use super::{Controls, Fault, bearer, serve};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most items per page, whatever `page[size]` asks.
pub const PAGE: usize = 2;
const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Whether a membership is accepted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Invited,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Invited => "invited",
        }
    }
}

struct User {
    id: String,
    email: String,
}

struct Membership {
    id: String,
    user: String,
    status: Status,
    teams: Vec<String>,
}

struct Team {
    id: String,
    name: String,
}

#[derive(Default)]
struct Org {
    name: String,
    users: Vec<User>,
    memberships: Vec<Membership>,
    teams: Vec<Team>,
    ids: u64,
}

/// A running fake HCP Terraform holding one organisation, with its owners team.
#[derive(Clone)]
pub struct FakeTfc {
    pub addr: SocketAddr,
    pub controls: Controls,
    org: Arc<str>,
    token: Arc<str>,
    state: Arc<Mutex<Org>>,
}

impl FakeTfc {
    /// Organisation `org`, with an owners team holding `owner` (active).
    pub fn start(token: &str, org: &str, owner: &str) -> Self {
        let fake = FakeTfc {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            org: org.into(),
            token: token.into(),
            state: Arc::new(Mutex::new(Org {
                name: org.to_string(),
                ..Org::default()
            })),
        };
        fake.team("owners");
        fake.member(owner, Status::Active, &["owners"]);
        let api = Router::new()
            .route(
                "/organizations/{org}/organization-memberships",
                get(list_memberships).post(invite),
            )
            .route("/organization-memberships/{id}", delete(remove_membership))
            .route(
                "/organizations/{org}/teams",
                get(list_teams).post(create_team),
            )
            .route("/teams/{id}", delete(delete_team))
            .route(
                "/teams/{id}/relationships/organization-memberships",
                post(join_team).delete(leave_team),
            );
        let router = Router::new()
            .nest("/api/v2", api)
            .layer(middleware::map_response(with_rate_limit_headers))
            .with_state(fake.clone());
        let addr = serve(
            router,
            fake.controls.clone(),
            r#"{"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]}"#,
        );
        FakeTfc { addr, ..fake }
    }

    /// The address `api_url` takes.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates team `name`; its ID.
    pub fn team(&self, name: &str) -> String {
        let mut state = self.state.lock().unwrap();
        let id = state.next_id("team");
        state.teams.push(Team {
            id: id.clone(),
            name: name.to_string(),
        });
        id
    }

    /// A membership of `email` (a user of that email made if needed) on `teams` (by name).
    pub fn member(&self, email: &str, status: Status, teams: &[&str]) {
        let mut state = self.state.lock().unwrap();
        let teams = teams
            .iter()
            .map(|name| {
                state
                    .team_named(name)
                    .expect("a team made first")
                    .id
                    .clone()
            })
            .collect();
        let user = state.user_for(email);
        let id = state.next_id("ou");
        state.memberships.push(Membership {
            id,
            user,
            status,
            teams,
        });
    }

    /// Accepts the invitation of `email`.
    pub fn accept(&self, email: &str) {
        let mut state = self.state.lock().unwrap();
        let index = state.membership_of(email).expect("a member");
        state.memberships[index].status = Status::Active;
    }

    /// Every membership, as "email (status)", sorted.
    pub fn memberships(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let mut listed: Vec<String> = state
            .memberships
            .iter()
            .map(|m| format!("{} ({})", state.email_of(m), m.status.name()))
            .collect();
        listed.sort();
        listed
    }

    /// The emails of team `name`'s memberships, active and invited, sorted.
    pub fn team_members(&self, name: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let id = &state.team_named(name).expect("a team").id;
        let mut emails: Vec<String> = state
            .memberships
            .iter()
            .filter(|m| m.teams.contains(id))
            .map(|m| state.email_of(m).to_string())
            .collect();
        emails.sort();
        emails
    }

    /// Every team's name, sorted.
    pub fn team_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .state
            .lock()
            .unwrap()
            .teams
            .iter()
            .map(|team| team.name.clone())
            .collect();
        names.sort();
        names
    }

    /// The 401 or 404 answer, unless the request carries the token and
    /// names the organisation (any case, as the API takes it).
    fn refusal(&self, headers: &HeaderMap, org: Option<&str>) -> Option<Response> {
        if bearer(headers) != Some(&*self.token) {
            return Some(error(StatusCode::UNAUTHORIZED, "unauthorized", None));
        }
        match org {
            Some(org) if !org.eq_ignore_ascii_case(&self.org) => Some(not_found()),
            _ => None,
        }
    }
}

impl Org {
    fn next_id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}-{:04}", self.ids)
    }

    fn team_named(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|team| team.name == name)
    }

    fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|team| team.id == id)
    }

    /// The user of `email` (any case), made if there is none.
    fn user_for(&mut self, email: &str) -> String {
        if let Some(user) = self
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
        {
            return user.id.clone();
        }
        let id = self.next_id("user");
        self.users.push(User {
            id: id.clone(),
            email: email.to_string(),
        });
        id
    }

    fn user(&self, id: &str) -> &User {
        self.users
            .iter()
            .find(|user| user.id == id)
            .expect("a user")
    }

    fn email_of(&self, membership: &Membership) -> &str {
        &self.user(&membership.user).email
    }

    fn membership_of(&self, email: &str) -> Option<usize> {
        self.memberships
            .iter()
            .position(|m| self.email_of(m).eq_ignore_ascii_case(email))
    }

    fn owners_left(&self, without: &[&str]) -> usize {
        let Some(owners) = self.team_named("owners") else {
            return 0;
        };
        self.memberships
            .iter()
            .filter(|m| m.teams.contains(&owners.id) && !without.contains(&m.id.as_str()))
            .count()
    }

    fn membership_resource(&self, membership: &Membership) -> Value {
        let teams: Vec<Value> = membership
            .teams
            .iter()
            .map(|id| json!({ "id": id, "type": "teams" }))
            .collect();
        json!({
            "id": membership.id, "type": "organization-memberships",
            "attributes": { "status": membership.status.name() },
            "relationships": {
                "teams": { "data": teams },
                "user": { "data": { "id": membership.user, "type": "users" } },
                "organization": { "data": { "id": self.name, "type": "organizations" } }
            }
        })
    }

    fn user_resource(&self, id: &str) -> Value {
        let user = self.user(id);
        json!({
            "id": user.id, "type": "users",
            "attributes": { "username": null, "is-service-account": false, "email": user.email,
                            "two-factor": { "enabled": false, "verified": false } },
            "links": { "self": format!("/api/v2/users/{}", user.id) }
        })
    }

    fn team_resource(&self, team: &Team) -> Value {
        let users: Vec<Value> = self
            .memberships
            .iter()
            .filter(|m| m.status == Status::Active && m.teams.contains(&team.id))
            .map(|m| json!({ "id": m.user, "type": "users" }))
            .collect();
        json!({
            "id": team.id, "type": "teams",
            "attributes": { "name": team.name, "users-count": users.len(), "visibility": "secret",
                            "permissions": { "can-update-membership": true, "can-destroy": team.name != "owners" } },
            "relationships": { "users": { "data": users }, "authentication-token": { "meta": {} } },
            "links": { "self": format!("/api/v2/teams/{}", team.id) }
        })
    }
}

fn error(status: StatusCode, title: &str, detail: Option<&str>) -> Response {
    let mut object = json!({ "status": status.as_str(), "title": title });
    if let Some(detail) = detail {
        object["detail"] = json!(detail);
    }
    jsonapi(status, &json!({ "errors": [object] }))
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found", None)
}

fn invalid(detail: &str) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid attribute",
        Some(detail),
    )
}

fn jsonapi(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(MEDIA_TYPE));
    response
}

/// The headers HCP Terraform sends with every answer about its rate limit.
async fn with_rate_limit_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key("x-ratelimit-limit") {
        for (name, value) in [
            ("x-ratelimit-limit", "30"),
            ("x-ratelimit-remaining", "29"),
            ("x-ratelimit-reset", "0.033"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// The answer to requests starting with `prefix` over the rate limit: 429,
/// `x-ratelimit-remaining: 0` and `x-ratelimit-reset` in seconds (a
/// fraction, as HCP Terraform sends it), no `Retry-After`.
pub fn rate_limit(prefix: &str, reset_in: f64) -> Fault {
    Fault::on(prefix, 429)
        .header("x-ratelimit-limit", "30")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", &format!("{reset_in:.3}"))
        .body(r#"{"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]}"#)
}

/// The JSON:API document of a request, or the answer refusing it.
fn document(headers: &HeaderMap, body: &Bytes) -> Result<Value, Response> {
    let media_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !media_type.starts_with(MEDIA_TYPE) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            Some("the request body must be application/vnd.api+json"),
        ));
    }
    serde_json::from_slice(body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "bad request",
            Some("malformed JSON"),
        )
    })
}

/// Which page of a list a request asks for (`page[number]`, `page[size]`).
struct Paging {
    current: usize,
    size: usize,
    count: usize,
}

impl Paging {
    /// The page `query` asks of a list of `count` items, at most `most` to a page.
    fn of(query: &HashMap<String, String>, most: usize, count: usize) -> Self {
        let number = |name: &str, default: usize| {
            query
                .get(name)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        Paging {
            current: number("page[number]", 1),
            size: number("page[size]", 20).min(100).min(most),
            count,
        }
    }

    /// The items on this page.
    fn range(&self) -> std::ops::Range<usize> {
        let start = ((self.current - 1) * self.size).min(self.count);
        start..(start + self.size).min(self.count)
    }

    /// The page's document: `data`, `included`, `links` and `meta.pagination`.
    fn document(
        &self,
        data: &[Value],
        included: Vec<Value>,
        headers: &HeaderMap,
        path: &str,
    ) -> Response {
        let (current, size) = (self.current, self.size);
        let total_pages = self.count.div_ceil(size).max(1);
        let host = headers
            .get("host")
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default();
        let link = |page: usize| {
            json!(format!(
                "http://{host}/api/v2{path}?page%5Bnumber%5D={page}&page%5Bsize%5D={size}"
            ))
        };
        let next = (current < total_pages).then_some(current + 1);
        let prev = (current > 1).then(|| current - 1);
        jsonapi(
            StatusCode::OK,
            &json!({
                "data": data,
                "included": included,
                "links": { "self": link(current), "first": link(1), "prev": prev.map(link),
                           "next": next.map(link), "last": link(total_pages) },
                "meta": { "pagination": { "current-page": current, "page-size": size, "prev-page": prev,
                                          "next-page": next, "total-pages": total_pages, "total-count": self.count } }
            }),
        )
    }
}

fn includes(query: &HashMap<String, String>, kind: &str) -> bool {
    query
        .get("include")
        .is_some_and(|include| include.split(',').any(|item| item.trim() == kind))
}

async fn list_memberships(
    State(fake): State<FakeTfc>,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, Some(&org)) {
        return refusal;
    }
    let state = fake.state.lock().unwrap();
    let listed: Vec<&Membership> = state
        .memberships
        .iter()
        .filter(|m| membership_matches(&state, m, &query))
        .collect();
    let paging = Paging::of(&query, fake.controls.page(PAGE), listed.len());
    let on_page = &listed[paging.range()];
    let mut included = Vec::new();
    for membership in on_page {
        if includes(&query, "user") {
            included.push(state.user_resource(&membership.user));
        }
        if includes(&query, "teams") {
            let teams = membership.teams.iter().filter_map(|id| state.team(id));
            included.extend(teams.map(|team| state.team_resource(team)));
        }
    }
    let data: Vec<Value> = on_page
        .iter()
        .map(|m| state.membership_resource(m))
        .collect();
    let path = format!("/organizations/{org}/organization-memberships");
    paging.document(&data, included, &headers, &path)
}

/// Whether `membership` passes the list's `q`, `filter[status]` and `filter[email]`.
fn membership_matches(
    state: &Org,
    membership: &Membership,
    query: &HashMap<String, String>,
) -> bool {
    let email = state.email_of(membership).to_lowercase();
    let status = query
        .get("filter[status]")
        .is_none_or(|status| status == membership.status.name());
    let emails = query.get("filter[email]").is_none_or(|emails| {
        emails
            .split(',')
            .any(|wanted| wanted.trim().eq_ignore_ascii_case(&email))
    });
    let search = query
        .get("q")
        .is_none_or(|q| email.contains(&q.to_lowercase()));
    status && emails && search
}

async fn invite(
    State(fake): State<FakeTfc>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, Some(&org)) {
        return refusal;
    }
    let request = match document(&headers, &body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let data = &request["data"];
    if data["type"] != "organization-memberships" {
        return invalid("data.type must be organization-memberships");
    }
    let email = data["attributes"]["email"].as_str().unwrap_or_default();
    let mut state = fake.state.lock().unwrap();
    if let Err(refusal) = invitable(&state, email) {
        return refusal;
    }
    let teams = match team_ids(&state, &data["relationships"]["teams"]["data"]) {
        Ok(teams) => teams,
        Err(refusal) => return refusal,
    };
    let user = state.user_for(email);
    let id = state.next_id("ou");
    let membership = Membership {
        id,
        user,
        status: Status::Invited,
        teams,
    };
    let body = json!({
        "data": state.membership_resource(&membership),
        "included": [state.user_resource(&membership.user)]
    });
    state.memberships.push(membership);
    jsonapi(StatusCode::CREATED, &body)
}

/// Whether `email` may be invited: a valid address with no membership yet.
fn invitable(state: &Org, email: &str) -> Result<(), Response> {
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !valid {
        return Err(invalid("Email is invalid"));
    }
    match state.membership_of(email) {
        Some(_) => Err(invalid(
            "Email has already been invited to or is a member of this organization",
        )),
        None => Ok(()),
    }
}

/// The team IDs of an invitation's `relationships.teams.data`, each known.
fn team_ids(state: &Org, linkages: &Value) -> Result<Vec<String>, Response> {
    let mut ids = Vec::new();
    for linkage in linkages.as_array().into_iter().flatten() {
        let id = linkage["id"].as_str().unwrap_or_default();
        if linkage["type"] != "teams" || state.team(id).is_none() {
            return Err(invalid(&format!("team {id} not found")));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

async fn remove_membership(
    State(fake): State<FakeTfc>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, None) {
        return refusal;
    }
    let mut state = fake.state.lock().unwrap();
    let Some(index) = state.memberships.iter().position(|m| m.id == id) else {
        return not_found();
    };
    if state.owners_left(&[&id]) == 0 {
        return invalid("the owners team cannot be left empty");
    }
    state.memberships.remove(index);
    StatusCode::NO_CONTENT.into_response()
}

async fn list_teams(
    State(fake): State<FakeTfc>,
    Path(org): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, Some(&org)) {
        return refusal;
    }
    let state = fake.state.lock().unwrap();
    let names = query.get("filter[names]");
    let search = query.get("q").map(|q| q.to_lowercase());
    let items: Vec<Value> = state
        .teams
        .iter()
        .filter(|team| names.is_none_or(|names| names.split(',').any(|name| name == team.name)))
        .filter(|team| {
            search
                .as_ref()
                .is_none_or(|q| team.name.to_lowercase().contains(q))
        })
        .map(|team| state.team_resource(team))
        .collect();
    let paging = Paging::of(&query, fake.controls.page(PAGE), items.len());
    let path = format!("/organizations/{org}/teams");
    paging.document(&items[paging.range()], Vec::new(), &headers, &path)
}

async fn create_team(
    State(fake): State<FakeTfc>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, Some(&org)) {
        return refusal;
    }
    let request = match document(&headers, &body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    if request["data"]["type"] != "teams" {
        return invalid("data.type must be teams");
    }
    let name = request["data"]["attributes"]["name"]
        .as_str()
        .unwrap_or_default();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return invalid("Name can only include letters, numbers, -, and _");
    }
    let mut state = fake.state.lock().unwrap();
    if state.team_named(name).is_some() {
        return invalid("Name has already been taken");
    }
    let id = state.next_id("team");
    let team = Team {
        id,
        name: name.to_string(),
    };
    let body = json!({ "data": state.team_resource(&team) });
    state.teams.push(team);
    jsonapi(StatusCode::OK, &body)
}

async fn delete_team(
    State(fake): State<FakeTfc>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, None) {
        return refusal;
    }
    let mut state = fake.state.lock().unwrap();
    let Some(team) = state.team(&id) else {
        return not_found();
    };
    if team.name == "owners" {
        return invalid("the owners team cannot be deleted");
    }
    state.teams.retain(|team| team.id != id);
    for membership in &mut state.memberships {
        membership.teams.retain(|team| *team != id);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The membership IDs a team membership request lists, each known, or the refusal.
fn memberships_listed(state: &Org, request: &Value) -> Result<Vec<String>, Response> {
    let Some(linkages) = request["data"].as_array() else {
        return Err(invalid("data must be a list of organization memberships"));
    };
    let mut ids = Vec::new();
    for linkage in linkages {
        let id = linkage["id"].as_str().unwrap_or_default();
        if linkage["type"] != "organization-memberships" {
            return Err(invalid("data[].type must be organization-memberships"));
        }
        if !state.memberships.iter().any(|m| m.id == id) {
            return Err(invalid(&format!("organization membership {id} not found")));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// Checks a team membership request: the token, the team, the body; the
/// membership IDs it lists.
fn team_change(
    fake: &FakeTfc,
    team: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<String>, Response> {
    if let Some(refusal) = fake.refusal(headers, None) {
        return Err(refusal);
    }
    let request = document(headers, body)?;
    let state = fake.state.lock().unwrap();
    if state.team(team).is_none() {
        return Err(not_found());
    }
    memberships_listed(&state, &request)
}

async fn join_team(
    State(fake): State<FakeTfc>,
    Path(team): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = match team_change(&fake, &team, &headers, &body) {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    let mut state = fake.state.lock().unwrap();
    for membership in state.memberships.iter_mut().filter(|m| ids.contains(&m.id)) {
        if !membership.teams.contains(&team) {
            membership.teams.push(team.clone());
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn leave_team(
    State(fake): State<FakeTfc>,
    Path(team): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = match team_change(&fake, &team, &headers, &body) {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    let mut state = fake.state.lock().unwrap();
    let leaving: Vec<&str> = ids.iter().map(String::as_str).collect();
    let is_owners = state.team(&team).is_some_and(|t| t.name == "owners");
    if is_owners && state.owners_left(&leaving) == 0 {
        return invalid("the owners team cannot be left empty");
    }
    for membership in state.memberships.iter_mut().filter(|m| ids.contains(&m.id)) {
        membership.teams.retain(|id| *id != team);
    }
    StatusCode::NO_CONTENT.into_response()
}
