//! A fake GitHub, following the REST API docs for team members
//! (https://docs.github.com/en/rest/teams/members): `GET
//! /orgs/{org}/teams/{team_slug}/members` (paginated with `per_page`, at
//! most `PAGE` here, and a `Link: <...>; rel="next"` header), `PUT` and
//! `DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}`; and the
//! GraphQL API (https://docs.github.com/en/graphql) for
//! `organization.samlIdentityProvider.externalIdentities`, paginated with
//! `first`/`after` and `pageInfo { hasNextPage endCursor }`.
//!
//! As GitHub does: `Authorization: Bearer <token>` or 401 with
//! `{"message": "Bad credentials", ...}`; 404 `{"message": "Not Found"}` for
//! unknown teams; `PUT` of a login that is not a GitHub user is 404; errors
//! are JSON with a `message`; logins are case-insensitive.

use super::{Controls, bearer, serve};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most members per page, whatever `per_page` asks.
pub const PAGE: usize = 2;
/// The most SAML identities per GraphQL page, whatever `first` asks.
pub const SAML_PAGE: usize = 2;

#[derive(Default)]
struct Org {
    users: Vec<String>,
    teams: BTreeMap<String, Vec<String>>,
    saml: Vec<(String, Option<String>)>,
}

/// A running fake GitHub holding one organisation.
#[derive(Clone)]
pub struct FakeGitHub {
    pub addr: SocketAddr,
    pub controls: Controls,
    org: Arc<str>,
    token: Arc<str>,
    state: Arc<Mutex<Org>>,
}

impl FakeGitHub {
    /// Organisation `org` with these GitHub users.
    pub fn start(token: &str, org: &str, users: &[&str]) -> Self {
        let state = Org {
            users: users.iter().map(|u| u.to_string()).collect(),
            ..Org::default()
        };
        let fake = FakeGitHub {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            org: org.into(),
            token: token.into(),
            state: Arc::new(Mutex::new(state)),
        };
        let router = Router::new()
            .route("/orgs/{org}/teams/{team}/members", get(members))
            .route(
                "/orgs/{org}/teams/{team}/memberships/{user}",
                put(add).delete(remove),
            )
            .route("/graphql", post(graphql))
            .with_state(fake.clone());
        let addr = serve(
            router,
            fake.controls.clone(),
            r#"{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#,
        );
        FakeGitHub { addr, ..fake }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn team(&self, slug: &str, logins: &[&str]) {
        self.state
            .lock()
            .unwrap()
            .teams
            .insert(slug.into(), logins.iter().map(|l| l.to_string()).collect());
    }

    /// Links an email (SAML name ID) to a login; `None` for an identity not yet linked.
    pub fn saml(&self, email: &str, login: Option<&str>) {
        self.state
            .lock()
            .unwrap()
            .saml
            .push((email.into(), login.map(String::from)));
    }

    pub fn members(&self, slug: &str) -> Vec<String> {
        let mut members = self.state.lock().unwrap().teams[slug].clone();
        members.sort();
        members
    }

    /// The 401 answer, unless the request carries the token.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match bearer(headers) {
            Some(token) if token == &*self.token => None,
            _ => Some(error(StatusCode::UNAUTHORIZED, "Bad credentials")),
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "message": message, "documentation_url": "https://docs.github.com/rest" })),
    )
        .into_response()
}

async fn members(
    State(fake): State<FakeGitHub>,
    Path((org, team)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let state = fake.state.lock().unwrap();
    let Some(members) = state.teams.get(&team).filter(|_| org == *fake.org) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let per_page = query
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
        .min(fake.controls.page(PAGE));
    let page: usize = query.get("page").and_then(|n| n.parse().ok()).unwrap_or(1);
    let start = ((page - 1) * per_page).min(members.len());
    let end = (start + per_page).min(members.len());
    let body: Vec<Value> = members[start..end]
        .iter()
        .map(|login| json!({ "login": login, "type": "User" }))
        .collect();
    let mut response = Json(body).into_response();
    if end < members.len() {
        let host = headers
            .get("host")
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default();
        let next = format!(
            "<http://{host}/orgs/{org}/teams/{team}/members?per_page={per_page}&page={}>; rel=\"next\"",
            page + 1
        );
        response.headers_mut().insert("link", next.parse().unwrap());
    }
    response
}

async fn add(
    State(fake): State<FakeGitHub>,
    Path((org, team, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    if !state
        .users
        .iter()
        .any(|known| known.eq_ignore_ascii_case(&user))
    {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(members) = state.teams.get_mut(&team).filter(|_| org == *fake.org) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if !members
        .iter()
        .any(|member| member.eq_ignore_ascii_case(&user))
    {
        members.push(user);
    }
    Json(json!({ "url": "", "role": "member", "state": "active" })).into_response()
}

async fn remove(
    State(fake): State<FakeGitHub>,
    Path((org, team, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let Some(members) = state.teams.get_mut(&team).filter(|_| org == *fake.org) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    match members
        .iter()
        .position(|member| member.eq_ignore_ascii_case(&user))
    {
        Some(index) => {
            members.remove(index);
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// Answers the one query the adapter sends: a page of SAML identities.
async fn graphql(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Json(request): Json<Value>,
) -> Response {
    if let Some(response) = fake.refusal(&headers) {
        return response;
    }
    let variables = &request["variables"];
    if variables["org"] != Value::String(fake.org.to_string()) {
        let message = format!(
            "Could not resolve to an Organization with the login of '{}'.",
            variables["org"]
        );
        return Json(json!({ "data": { "organization": null }, "errors": [{ "type": "NOT_FOUND", "message": message }] })).into_response();
    }
    let state = fake.state.lock().unwrap();
    let start: usize = variables["after"]
        .as_str()
        .and_then(|c| c.strip_prefix("cursor:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let first = variables["first"].as_u64().unwrap_or(100) as usize;
    let end = (start + first.min(SAML_PAGE)).min(state.saml.len());
    let edges: Vec<Value> = state.saml[start..end]
        .iter()
        .map(|(email, login)| {
            json!({ "node": { "samlIdentity": { "nameId": email }, "user": login.as_ref().map(|login| json!({ "login": login })) } })
        })
        .collect();
    Json(
        json!({ "data": { "organization": { "samlIdentityProvider": { "externalIdentities": {
        "pageInfo": { "hasNextPage": end < state.saml.len(), "endCursor": format!("cursor:{end}") },
        "edges": edges
    } } } } }),
    )
    .into_response()
}
