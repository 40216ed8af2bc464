//! A fake GitHub, following the REST API docs for team members
//! (https://docs.github.com/en/rest/teams/members):
//! - `GET /orgs/{org}/teams/{team_slug}/members` and `GET
//!   /orgs/{org}/teams/{team_slug}/invitations` ("List pending team
//!   invitations": organisation invitations with `login`, null for someone
//!   invited by email with no account, and `email`), both paginated with
//!   `per_page` (at most `PAGE` here) and `page`, and a `Link: <...>;
//!   rel="next"` header (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api);
//! - `PUT /orgs/{org}/teams/{team_slug}/memberships/{username}` ("Add or
//!   update team membership for a user"): an organisation member joins the
//!   team (`"state": "active"`); a GitHub user outside the organisation is
//!   sent an invitation instead, and the membership is `"state": "pending"`
//!   until they accept; a login that is no GitHub user is 404;
//! - `DELETE .../memberships/{username}` ("Remove team membership for a
//!   user", which removes "both active and pending memberships"): 204, or
//!   404 for someone neither a member nor invited;
//!
//! and the GraphQL API (https://docs.github.com/en/graphql) for
//! `organization.samlIdentityProvider.externalIdentities`, paginated with
//! `first`/`after` and `pageInfo { hasNextPage endCursor }`.
//!
//! As GitHub does: `Authorization: Bearer <token>` or 401 `{"message":
//! "Bad credentials", ...}`; errors are JSON `{"message",
//! "documentation_url", "status"}`; logins are case-insensitive; every
//! answer carries the `x-ratelimit-*` headers, and [`primary_rate_limit`]
//! and [`secondary_rate_limit`] build the answers of an exceeded rate limit
//! (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
//! [`FakeGitHub::start_enterprise`] lays the API out as GitHub Enterprise
//! Server does (https://docs.github.com/en/enterprise-server@latest/rest/quickstart):
//! REST under `/api/v3`, GraphQL at `/api/graphql`.

use super::{Controls, Fault, bearer, serve};
use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The most members or invitations per page, whatever `per_page` asks.
pub const PAGE: usize = 2;
/// The most SAML identities per GraphQL page, whatever `first` asks.
pub const SAML_PAGE: usize = 2;
const RATE_LIMITS_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

/// A pending invitation to a team.
struct Invitation {
    id: u64,
    login: Option<String>,
    email: Option<String>,
}

#[derive(Default)]
struct Org {
    /// GitHub users in the organisation.
    members: Vec<String>,
    /// GitHub users outside it: adding one to a team invites them.
    outsiders: Vec<String>,
    teams: BTreeMap<String, Vec<String>>,
    invitations: BTreeMap<String, Vec<Invitation>>,
    invitations_sent: u64,
    saml: Vec<(String, Option<String>)>,
}

/// A running fake GitHub holding one organisation.
#[derive(Clone)]
pub struct FakeGitHub {
    pub addr: SocketAddr,
    pub controls: Controls,
    org: Arc<str>,
    token: Arc<str>,
    /// Where the REST API is: "" on github.com, "/api/v3" on GitHub Enterprise Server.
    rest: &'static str,
    state: Arc<Mutex<Org>>,
}

impl FakeGitHub {
    /// Organisation `org` with these members, laid out as api.github.com.
    pub fn start(token: &str, org: &str, members: &[&str]) -> Self {
        Self::launch(token, org, members, "")
    }

    /// The same, laid out as GitHub Enterprise Server: REST under `/api/v3`,
    /// GraphQL at `/api/graphql`.
    pub fn start_enterprise(token: &str, org: &str, members: &[&str]) -> Self {
        Self::launch(token, org, members, "/api/v3")
    }

    fn launch(token: &str, org: &str, members: &[&str], rest: &'static str) -> Self {
        let state = Org {
            members: members.iter().map(|u| u.to_string()).collect(),
            ..Org::default()
        };
        let fake = FakeGitHub {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            org: org.into(),
            token: token.into(),
            rest,
            state: Arc::new(Mutex::new(state)),
        };
        let api = Router::new()
            .route("/orgs/{org}/teams/{team}/members", get(list_members))
            .route(
                "/orgs/{org}/teams/{team}/invitations",
                get(list_invitations),
            )
            .route(
                "/orgs/{org}/teams/{team}/memberships/{user}",
                put(add).delete(remove),
            );
        let router = match rest {
            "" => api.route("/graphql", post(graphql)),
            prefix => Router::new()
                .nest(prefix, api)
                .route("/api/graphql", post(graphql)),
        }
        .layer(middleware::map_response(with_rate_limit_headers))
        .with_state(fake.clone());
        let addr = serve(
            router,
            fake.controls.clone(),
            r#"{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"429"}"#,
        );
        FakeGitHub { addr, ..fake }
    }

    /// The REST API base, as `api_url` takes it.
    pub fn api_url(&self) -> String {
        format!("http://{}{}", self.addr, self.rest)
    }

    pub fn team(&self, slug: &str, logins: &[&str]) {
        let mut state = self.state.lock().unwrap();
        state
            .teams
            .insert(slug.into(), logins.iter().map(|l| l.to_string()).collect());
        state.invitations.insert(slug.into(), Vec::new());
    }

    /// GitHub users who are not in the organisation.
    pub fn outsiders(&self, logins: &[&str]) {
        let mut state = self.state.lock().unwrap();
        state.outsiders.extend(logins.iter().map(|l| l.to_string()));
    }

    /// A pending invitation to team `slug` sent to an email, not a login.
    pub fn invite_by_email(&self, slug: &str, email: &str) {
        self.state
            .lock()
            .unwrap()
            .invite(slug, None, Some(email.to_string()));
    }

    /// Links an email (SAML name ID) to a login; `None` for an identity not yet linked.
    pub fn saml(&self, email: &str, login: Option<&str>) {
        self.state
            .lock()
            .unwrap()
            .saml
            .push((email.into(), login.map(String::from)));
    }

    /// The team's active members, sorted.
    pub fn members(&self, slug: &str) -> Vec<String> {
        let mut members = self.state.lock().unwrap().teams[slug].clone();
        members.sort();
        members
    }

    /// The team's pending invitations, by login (else email), sorted.
    pub fn invitations(&self, slug: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let mut invited: Vec<String> = state.invitations[slug]
            .iter()
            .filter_map(|i| i.login.clone().or_else(|| i.email.clone()))
            .collect();
        invited.sort();
        invited
    }

    /// The 401 answer, unless the request carries the token.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        match bearer(headers) {
            Some(token) if token == &*self.token => None,
            _ => Some(error(StatusCode::UNAUTHORIZED, "Bad credentials")),
        }
    }

    /// The 401 or 404 answer, unless the request may see team `team` of `org`.
    fn team_refusal(&self, headers: &HeaderMap, org: &str, team: &str) -> Option<Response> {
        let known = org.eq_ignore_ascii_case(&self.org)
            && self.state.lock().unwrap().teams.contains_key(team);
        self.refusal(headers)
            .or_else(|| (!known).then(|| error(StatusCode::NOT_FOUND, "Not Found")))
    }
}

impl Org {
    fn invite(&mut self, slug: &str, login: Option<String>, email: Option<String>) {
        self.invitations_sent += 1;
        let id = self.invitations_sent;
        self.invitations
            .get_mut(slug)
            .expect("a team made with FakeGitHub::team")
            .push(Invitation { id, login, email });
    }

    fn is_invited(&self, slug: &str, user: &str) -> bool {
        self.invitations[slug].iter().any(|i| invited_as(i, user))
    }
}

fn invited_as(invitation: &Invitation, user: &str) -> bool {
    invitation
        .login
        .as_deref()
        .is_some_and(|login| login.eq_ignore_ascii_case(user))
}

fn contains(logins: &[String], user: &str) -> bool {
    logins.iter().any(|known| known.eq_ignore_ascii_case(user))
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({ "message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_str() });
    (status, Json(body)).into_response()
}

fn unix_time_in(seconds: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (now + seconds).to_string()
}

/// The headers GitHub sends with every answer about the primary rate limit.
async fn with_rate_limit_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key("x-ratelimit-remaining") {
        for (name, value) in [
            ("x-ratelimit-limit", "5000".to_string()),
            ("x-ratelimit-remaining", "4990".to_string()),
            ("x-ratelimit-used", "10".to_string()),
            ("x-ratelimit-reset", unix_time_in(3600)),
            ("x-ratelimit-resource", "core".to_string()),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
    }
    response
}

/// The answer to requests starting with `prefix` once the primary rate
/// limit is spent: 403, `x-ratelimit-remaining: 0`, and `x-ratelimit-reset`
/// (Unix time) `reset_in` seconds from now.
pub fn primary_rate_limit(prefix: &str, reset_in: u64) -> Fault {
    Fault::on(prefix, 403)
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "5000")
        .header("x-ratelimit-reset", &unix_time_in(reset_in))
        .header("x-ratelimit-resource", "core")
        .body(&json!({ "message": "API rate limit exceeded for user ID 1.", "documentation_url": RATE_LIMITS_DOCS, "status": "403" }).to_string())
}

/// The answer to requests starting with `prefix` over a secondary rate
/// limit: 403 with `retry-after` and a message that says so.
pub fn secondary_rate_limit(prefix: &str, retry_after: u32) -> Fault {
    let message =
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    Fault::on(prefix, 403)
        .header("retry-after", &retry_after.to_string())
        .body(&json!({ "message": message, "documentation_url": format!("{RATE_LIMITS_DOCS}#about-secondary-rate-limits"), "status": "403" }).to_string())
}

/// One page of `items`, as `per_page` and `page` ask, with a `Link` to the next.
fn page_of(
    items: Vec<Value>,
    query: &HashMap<String, String>,
    uri: &OriginalUri,
    headers: &HeaderMap,
    page_size: usize,
) -> Response {
    let per_page = query
        .get("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
        .min(page_size);
    let page: usize = query.get("page").and_then(|n| n.parse().ok()).unwrap_or(1);
    let start = ((page.max(1) - 1) * per_page).min(items.len());
    let end = (start + per_page).min(items.len());
    let mut response = Json(&items[start..end]).into_response();
    if end < items.len() {
        let host = headers
            .get("host")
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default();
        let last = items.len().div_ceil(per_page);
        let link = |page: usize, rel: &str| {
            format!(
                "<http://{host}{}?per_page={per_page}&page={page}>; rel=\"{rel}\"",
                uri.path()
            )
        };
        let links = format!("{}, {}", link(page + 1, "next"), link(last, "last"));
        response
            .headers_mut()
            .insert("link", links.parse().unwrap());
    }
    response
}

async fn list_members(
    State(fake): State<FakeGitHub>,
    Path((org, team)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.team_refusal(&headers, &org, &team) {
        return response;
    }
    let members: Vec<Value> = fake.state.lock().unwrap().teams[&team]
        .iter()
        .map(|login| json!({ "login": login, "type": "User", "site_admin": false }))
        .collect();
    page_of(members, &query, &uri, &headers, fake.controls.page(PAGE))
}

async fn list_invitations(
    State(fake): State<FakeGitHub>,
    Path((org, team)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.team_refusal(&headers, &org, &team) {
        return response;
    }
    let invitations: Vec<Value> = fake.state.lock().unwrap().invitations[&team]
        .iter()
        .map(|i| {
            json!({
                "id": i.id, "node_id": format!("OI_{}", i.id), "login": i.login, "email": i.email,
                "role": "direct_member", "created_at": "2024-05-01T12:00:00Z",
                "failed_at": null, "failed_reason": null, "inviter": { "login": "octo-admin" },
                "team_count": 1, "invitation_source": "member",
                "invitation_teams_url": format!("https://api.github.com/organizations/1/invitations/{}/teams", i.id),
            })
        })
        .collect();
    page_of(
        invitations,
        &query,
        &uri,
        &headers,
        fake.controls.page(PAGE),
    )
}

async fn add(
    State(fake): State<FakeGitHub>,
    Path((org, team, user)): Path<(String, String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.team_refusal(&headers, &org, &team) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let membership_state = if contains(&state.members, &user) {
        let members = state.teams.get_mut(&team).unwrap();
        if !contains(members, &user) {
            members.push(user);
        }
        "active"
    } else if contains(&state.outsiders, &user) {
        if !state.is_invited(&team, &user) {
            state.invite(&team, Some(user), None);
        }
        "pending"
    } else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    let url = format!("http://{}{}", fake.addr, uri.path());
    Json(json!({ "url": url, "role": "member", "state": membership_state })).into_response()
}

async fn remove(
    State(fake): State<FakeGitHub>,
    Path((org, team, user)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(response) = fake.team_refusal(&headers, &org, &team) {
        return response;
    }
    let mut state = fake.state.lock().unwrap();
    let members = state.teams.get_mut(&team).unwrap();
    let before = members.len();
    members.retain(|member| !member.eq_ignore_ascii_case(&user));
    let invitations = state.invitations.get_mut(&team).unwrap();
    let pending = invitations.len();
    invitations.retain(|invitation| !invited_as(invitation, &user));
    let removed = before > state.teams[&team].len() || pending > state.invitations[&team].len();
    match removed {
        true => StatusCode::NO_CONTENT.into_response(),
        false => error(StatusCode::NOT_FOUND, "Not Found"),
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
