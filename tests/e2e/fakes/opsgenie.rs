//! A fake Opsgenie REST API, following its documentation:
//! - the Schedule API (https://docs.opsgenie.com/docs/schedule-api): `GET
//!   /v2/schedules/{identifier}` with `identifierType` (`id`, the default,
//!   or `name`), answering the schedule with its `rotations`, each with its
//!   `participants`: `{"type": "user", "id", "username"}`, `{"type":
//!   "team", "id", "name"}`, `{"type": "escalation", "id", "name"}` or
//!   `{"type": "none"}`;
//! - the Schedule Rotation API
//!   (https://docs.opsgenie.com/docs/schedule-rotation-api): `PATCH
//!   /v2/schedules/{identifier}/rotations/{id}` with `scheduleIdentifierType`,
//!   a partial update: a `participants` list given replaces the rotation's
//!   ("rotated in the order they given"), users by `id` or `username`,
//!   teams and escalations by `id` or `name`, or `none`; an unknown one is
//!   422, and so is an empty list, as a rotation is created with at least
//!   one participant;
//! - the Who Is On Call API
//!   (https://docs.opsgenie.com/docs/who-is-on-call-api): `GET
//!   /v2/schedules/{identifier}/on-calls` with `scheduleIdentifierType`,
//!   `flat` and `date` (default: now): with `flat=true`, `onCallRecipients`,
//!   the usernames of everyone on call; otherwise `onCallParticipants`, each
//!   `{"id", "name", "type"}` (a user's name being its username), an
//!   escalation with the users it notifies nested in `onCallParticipants`;
//! - the User API (https://docs.opsgenie.com/docs/user-api): `GET
//!   /v2/users/{identifier}`, by ID or username (any case), 404 for none.
//!
//! Who is on call: every rotation here is weekly, length 1, without time
//! restrictions, and goes through its participants in order from its start
//! date, one a week; everyone on call in any rotation of the schedule is on
//! call. A team on call stands for its members, an escalation for the
//! users it notifies, `none` for no one. [`FakeOpsgenie::turn`] picks who.
//!
//! As Opsgenie does (https://docs.opsgenie.com/docs/response): every
//! request needs `Authorization: GenieKey <key>`, else 401 "Could not
//! authenticate"; a read-only key's writes are 403 with internal code 40301
//! (https://docs.opsgenie.com/docs/api-access-management); answers are
//! `{"data", "took", "requestId"}`, errors `{"message", "took",
//! "requestId"}`, each with `X-Request-ID` and `X-Response-Time` headers.
//! [`throttled`] builds the 429 of
//! https://docs.opsgenie.com/docs/api-rate-limiting: `X-RateLimit-State:
//! THROTTLED`, `X-RateLimit-Reason`, `X-RateLimit-Period-In-Sec`, and no
//! `Retry-After`.

use super::{Controls, Fault, serve};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long each participant of a rotation is on call.
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

/// A participant of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// A user, by username.
    User(String),
    /// A team, by name.
    Team(String),
    /// An escalation, by name.
    Escalation(String),
    /// The reserved word `none`: no one.
    Nobody,
}

/// A user participant.
pub fn user(username: &str) -> Member {
    Member::User(username.to_string())
}

/// A team participant.
pub fn team(name: &str) -> Member {
    Member::Team(name.to_string())
}

/// An escalation participant.
pub fn escalation(name: &str) -> Member {
    Member::Escalation(name.to_string())
}

/// The answer to requests starting with `prefix` once the rate limit is
/// hit: 429, with the headers Opsgenie sends (the per-second bucket).
pub fn throttled(prefix: &str) -> Fault {
    Fault::on(prefix, 429)
        .header("X-RateLimit-State", "THROTTLED")
        .header("X-RateLimit-Reason", "ACCOUNT")
        .header("X-RateLimit-Period-In-Sec", "1")
        .body(r#"{"message":"TooManyRequests","took":0.0,"requestId":"throttled"}"#)
}

struct Rotation {
    id: String,
    name: String,
    start: SystemTime,
    participants: Vec<Member>,
}

struct Schedule {
    id: String,
    name: String,
    rotations: Vec<Rotation>,
}

/// A team or an escalation, and the users it stands for.
struct Group {
    id: String,
    name: String,
    users: Vec<String>,
}

impl Group {
    /// A team or escalation called `name`, with ID `id`, standing for `users`.
    fn new(id: String, name: &str, users: &[&str]) -> Self {
        Group {
            id,
            name: name.to_string(),
            users: users.iter().map(|u| u.to_string()).collect(),
        }
    }
}

#[derive(Default)]
struct Account {
    users: Vec<String>,
    teams: Vec<Group>,
    escalations: Vec<Group>,
    schedules: Vec<Schedule>,
}

/// A running fake Opsgenie holding one account.
#[derive(Clone)]
pub struct FakeOpsgenie {
    pub addr: SocketAddr,
    pub controls: Controls,
    key: Arc<str>,
    read_only_key: Arc<Mutex<Option<String>>>,
    requests: Arc<AtomicU64>,
    state: Arc<Mutex<Account>>,
}

impl FakeOpsgenie {
    /// An account with these users, reached with API key `key`.
    pub fn start(key: &str, users: &[&str]) -> Self {
        let state = Account {
            users: users.iter().map(|u| u.to_string()).collect(),
            ..Account::default()
        };
        let fake = FakeOpsgenie {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            key: key.into(),
            read_only_key: Arc::default(),
            requests: Arc::default(),
            state: Arc::new(Mutex::new(state)),
        };
        let router = Router::new()
            .route("/v2/schedules/{schedule}", get(read_schedule))
            .route("/v2/schedules/{schedule}/on-calls", get(on_calls))
            .route(
                "/v2/schedules/{schedule}/rotations/{rotation}",
                patch(update_rotation),
            )
            .route("/v2/users/{user}", get(read_user))
            .layer(middleware::map_response_with_state(
                fake.clone(),
                with_request_headers,
            ))
            .with_state(fake.clone());
        let addr = serve(
            router,
            fake.controls.clone(),
            r#"{"message":"TooManyRequests","took":0.0,"requestId":"throttled"}"#,
        );
        FakeOpsgenie { addr, ..fake }
    }

    /// The REST API base, as `api_url` takes it.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A second key, whose integration is limited to read-only access.
    pub fn read_only_key(&self, key: &str) {
        *self.read_only_key.lock().unwrap() = Some(key.to_string());
    }

    /// A team whose members are `users`.
    pub fn team(&self, name: &str, users: &[&str]) {
        let group = Group::new(member_id(&team(name)), name, users);
        self.state.lock().unwrap().teams.push(group);
    }

    /// An escalation that notifies `users`.
    pub fn escalation(&self, name: &str, users: &[&str]) {
        let group = Group::new(member_id(&escalation(name)), name, users);
        self.state.lock().unwrap().escalations.push(group);
    }

    /// A schedule with these named rotations; each one's first participant
    /// is on call now. The n-th schedule made has ID `schedule-n`, and its
    /// rotations `schedule-n-rotation-1`, ...
    pub fn schedule(&self, name: &str, rotations: &[(&str, &[Member])]) {
        let mut state = self.state.lock().unwrap();
        let id = format!("schedule-{}", state.schedules.len() + 1);
        let rotations = rotations
            .iter()
            .enumerate()
            .map(|(index, (rotation, participants))| Rotation {
                id: format!("{id}-rotation-{}", index + 1),
                name: rotation.to_string(),
                start: this_hour(),
                participants: participants.to_vec(),
            })
            .collect();
        state.schedules.push(Schedule {
            id,
            name: name.to_string(),
            rotations,
        });
    }

    /// Hands rotation `rotation` of schedule `schedule` over to its
    /// participant number `index` (from 0), as the weeks since its start
    /// date would.
    pub fn turn(&self, schedule: &str, rotation: &str, index: u32) {
        let mut state = self.state.lock().unwrap();
        let rotation = state
            .schedules
            .iter_mut()
            .find(|s| s.name == schedule)
            .and_then(|s| s.rotations.iter_mut().find(|r| r.name == rotation))
            .expect("a rotation made with FakeOpsgenie::schedule");
        rotation.start = this_hour() - WEEK * index;
    }

    /// The participants of each rotation of schedule `name`, in order: a
    /// user's username, "team NAME", "escalation NAME", "none".
    pub fn participants(&self, name: &str) -> Vec<Vec<String>> {
        let state = self.state.lock().unwrap();
        let schedule = state.schedules.iter().find(|s| s.name == name).unwrap();
        schedule
            .rotations
            .iter()
            .map(|rotation| rotation.participants.iter().map(short).collect())
            .collect()
    }

    /// The 401 answer, unless the request carries a key of the account;
    /// the 403 answer to a write with the read-only key.
    fn refusal(&self, headers: &HeaderMap, write: bool) -> Option<Response> {
        let key = headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("GenieKey "));
        let read_only = self.read_only_key.lock().unwrap().clone();
        match key {
            Some(key) if key == &*self.key => None,
            Some(key) if read_only.as_deref() == Some(key) => write.then(|| {
                let body = json!({ "message": "You are not authorized to take this action.", "code": 40301, "took": 0.001, "requestId": "forbidden" });
                (StatusCode::FORBIDDEN, Json(body)).into_response()
            }),
            _ => Some(error(StatusCode::UNAUTHORIZED, "Could not authenticate")),
        }
    }
}

impl Account {
    /// Where in `schedules` is the one `identifier` names, as `kind` (id,
    /// the default, or name) says; else Opsgenie's error answer.
    fn find(&self, identifier: &str, kind: Option<&String>) -> Result<usize, Refusal> {
        let by_name = match kind.map(String::as_str) {
            None | Some("id") => false,
            Some("name") => true,
            Some(other) => {
                let message =
                    format!("Invalid identifier type [{other}]. Possible values are id and name.");
                return Err(Refusal(StatusCode::UNPROCESSABLE_ENTITY, message));
            }
        };
        let named = |schedule: &Schedule| match by_name {
            true => schedule.name == identifier,
            false => schedule.id == identifier,
        };
        self.schedules.iter().position(named).ok_or_else(|| {
            let kind = if by_name { "name" } else { "id" };
            let message = format!("No schedule exists with {kind} [{identifier}]");
            Refusal(StatusCode::NOT_FOUND, message)
        })
    }

    fn user(&self, identifier: &str) -> Option<&String> {
        self.users
            .iter()
            .find(|u| u.eq_ignore_ascii_case(identifier) || user_id(u) == identifier)
    }

    /// The member a `participants` entry of a rotation update stands for.
    fn member(&self, participant: &Value) -> Result<Member, String> {
        let field = |name: &str| participant[name].as_str();
        let find = |groups: &[Group]| {
            groups
                .iter()
                .find(|g| {
                    Some(g.id.as_str()) == field("id") || Some(g.name.as_str()) == field("name")
                })
                .map(|g| g.name.clone())
        };
        let found = match field("type") {
            Some("user") => field("id")
                .or(field("username"))
                .and_then(|identifier| self.user(identifier))
                .map(|username| Member::User(username.clone())),
            Some("team") => find(&self.teams).map(Member::Team),
            Some("escalation") => find(&self.escalations).map(Member::Escalation),
            Some("none") => Some(Member::Nobody),
            _ => return Err(format!("Invalid participant type: {}", participant["type"])),
        };
        found.ok_or_else(|| format!("Participant not found: {participant}"))
    }

    /// The usernames a member stands for.
    fn users_of(&self, member: &Member) -> Vec<String> {
        let of = |groups: &[Group], name: &str| {
            groups
                .iter()
                .find(|g| g.name == name)
                .map(|g| g.users.clone())
                .unwrap_or_default()
        };
        match member {
            Member::User(username) => vec![username.clone()],
            Member::Team(name) => of(&self.teams, name),
            Member::Escalation(name) => of(&self.escalations, name),
            Member::Nobody => Vec::new(),
        }
    }

    /// A participant as the Schedule API lists it.
    fn participant(&self, member: &Member) -> Value {
        let id = member_id(member);
        match member {
            Member::User(username) => json!({ "type": "user", "id": id, "username": username }),
            Member::Team(name) => json!({ "type": "team", "id": id, "name": name }),
            Member::Escalation(name) => json!({ "type": "escalation", "id": id, "name": name }),
            Member::Nobody => json!({ "type": "none" }),
        }
    }

    /// An on-call participant as the Who Is On Call API lists it (`none`
    /// is no one, and not listed).
    fn on_call_participant(&self, member: &Member) -> Option<Value> {
        let id = member_id(member);
        match member {
            Member::User(username) => Some(json!({ "id": id, "name": username, "type": "user" })),
            Member::Team(name) => Some(json!({ "id": id, "name": name, "type": "team" })),
            Member::Escalation(name) => {
                let notified: Vec<Value> = self
                    .users_of(member)
                    .iter()
                    .map(|u| json!({ "id": user_id(u), "name": u, "type": "user", "escalationTime": 0, "notifyType": "default" }))
                    .collect();
                Some(
                    json!({ "id": id, "name": name, "type": "escalation", "onCallParticipants": notified }),
                )
            }
            Member::Nobody => None,
        }
    }
}

/// Who is on call in `rotation` at `at`: the participant whose week it is.
fn on_call_at(rotation: &Rotation, at: SystemTime) -> Option<&Member> {
    let since = at.duration_since(rotation.start).ok()?;
    let weeks = since.as_secs() / WEEK.as_secs();
    let count = rotation.participants.len() as u64;
    (count > 0).then(|| &rotation.participants[(weeks % count) as usize])
}

fn short(member: &Member) -> String {
    match member {
        Member::User(username) => username.clone(),
        Member::Team(name) => format!("team {name}"),
        Member::Escalation(name) => format!("escalation {name}"),
        Member::Nobody => "none".to_string(),
    }
}

/// The ID the account gives a member.
fn member_id(member: &Member) -> String {
    match member {
        Member::User(username) => user_id(username),
        Member::Team(name) => format!("team-{name}"),
        Member::Escalation(name) => format!("escalation-{name}"),
        Member::Nobody => String::new(),
    }
}

fn user_id(username: &str) -> String {
    format!("user-{}", username.to_lowercase())
}

/// The start of the current hour (rotations start on the hour or half hour).
fn this_hour() -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(now - now % 3600)
}

/// `yyyy-MM-dd'T'HH:mm:ssZ`, as `date` is given: `Z` or an offset such as
/// `+02:00` (whose `+` may arrive as a space, unescaped).
fn parse_date(date: &str) -> Option<SystemTime> {
    let date = date.trim().replace(' ', "+");
    if date.ends_with('Z') {
        return humantime::parse_rfc3339(&date).ok();
    }
    let (local, offset) = date.split_at(date.len().checked_sub(6)?);
    let sign = match offset.as_bytes().first()? {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let offset = sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60);
    let local = humantime::parse_rfc3339(&format!("{local}Z")).ok()?;
    let utc = local.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64 - offset;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(utc).ok()?))
}

/// An error answer yet to be sent: its status and message.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, &self.1)
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let request_id = format!("4f1d3b2a-8c6e-4d7f-9a0b-{:012}", status.as_u16());
    let body = json!({ "message": message, "took": 0.001, "requestId": request_id });
    (status, Json(body)).into_response()
}

fn answer(data: Value) -> Response {
    Json(json!({ "data": data, "took": 0.012, "requestId": "ok" })).into_response()
}

/// The headers Opsgenie sends with every answer.
async fn with_request_headers(
    State(fake): State<FakeOpsgenie>,
    mut response: Response,
) -> Response {
    let id = fake.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let headers = response.headers_mut();
    let request_id = format!("00000000-0000-4000-8000-{id:012}");
    headers.insert("X-Request-ID", HeaderValue::from_str(&request_id).unwrap());
    headers.insert("X-Response-Time", HeaderValue::from_static("0.012"));
    response
}

async fn read_schedule(
    State(fake): State<FakeOpsgenie>,
    Path(identifier): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, false) {
        return refusal;
    }
    let state = fake.state.lock().unwrap();
    let schedule = match state.find(&identifier, query.get("identifierType")) {
        Ok(index) => &state.schedules[index],
        Err(refusal) => return refusal.into_response(),
    };
    let rotations: Vec<Value> = schedule
        .rotations
        .iter()
        .map(|rotation| {
            let participants: Vec<Value> = rotation
                .participants
                .iter()
                .map(|m| state.participant(m))
                .collect();
            json!({
                "id": rotation.id, "name": rotation.name,
                "startDate": humantime::format_rfc3339_seconds(rotation.start).to_string(),
                "type": "weekly", "length": 1, "participants": participants,
            })
        })
        .collect();
    answer(json!({
        "id": schedule.id, "name": schedule.name, "description": "", "timezone": "Europe/London",
        "enabled": true, "ownerTeam": null, "rotations": rotations,
    }))
}

async fn on_calls(
    State(fake): State<FakeOpsgenie>,
    Path(identifier): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, false) {
        return refusal;
    }
    let at = match query.get("date") {
        None => SystemTime::now(),
        Some(date) => match parse_date(date) {
            Some(at) => at,
            None => return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid date format"),
        },
    };
    let flat = query
        .get("flat")
        .is_some_and(|flat| flat.eq_ignore_ascii_case("true"));
    let state = fake.state.lock().unwrap();
    let schedule = match state.find(&identifier, query.get("scheduleIdentifierType")) {
        Ok(index) => &state.schedules[index],
        Err(refusal) => return refusal.into_response(),
    };
    let on_call: Vec<&Member> = schedule
        .rotations
        .iter()
        .filter_map(|rotation| on_call_at(rotation, at))
        .collect();
    let (id, name) = (&schedule.id, &schedule.name);
    let parent = json!({ "id": id, "name": name, "enabled": true });
    if flat {
        let mut recipients: Vec<String> = Vec::new();
        for username in on_call.iter().flat_map(|member| state.users_of(member)) {
            if !recipients.contains(&username) {
                recipients.push(username);
            }
        }
        return answer(json!({ "_parent": parent, "onCallRecipients": recipients }));
    }
    let participants: Vec<Value> = on_call
        .iter()
        .filter_map(|member| state.on_call_participant(member))
        .collect();
    answer(json!({ "_parent": parent, "onCallParticipants": participants }))
}

async fn update_rotation(
    State(fake): State<FakeOpsgenie>,
    Path((identifier, rotation)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(update): Json<Value>,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, true) {
        return refusal;
    }
    let mut state = fake.state.lock().unwrap();
    let participants = match update.get("participants") {
        None => None,
        Some(Value::Array(list)) if list.is_empty() => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Rotation should have at least one participant",
            );
        }
        Some(Value::Array(list)) => match list
            .iter()
            .map(|p| state.member(p))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(members) => Some(members),
            Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, &message),
        },
        Some(_) => return error(StatusCode::BAD_REQUEST, "Invalid JSON body"),
    };
    let index = match state.find(&identifier, query.get("scheduleIdentifierType")) {
        Ok(index) => index,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(target) = state.schedules[index]
        .rotations
        .iter_mut()
        .find(|r| r.id == rotation)
    else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No rotation exists with id [{rotation}]"),
        );
    };
    if let Some(members) = participants {
        target.participants = members;
    }
    let body = json!({ "result": "Updated", "data": { "id": target.id, "name": target.name }, "took": 0.05, "requestId": "updated" });
    Json(body).into_response()
}

async fn read_user(
    State(fake): State<FakeOpsgenie>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = fake.refusal(&headers, false) {
        return refusal;
    }
    let state = fake.state.lock().unwrap();
    match state.user(&identifier) {
        Some(username) => answer(json!({
            "id": user_id(username), "username": username, "fullName": username, "role": { "id": "User", "name": "User" },
            "blocked": false, "verified": true, "timeZone": "Europe/London", "locale": "en_GB", "createdAt": "2024-01-02T03:04:05.006Z",
        })),
        None => error(
            StatusCode::NOT_FOUND,
            &format!("No user exists with username [{identifier}]"),
        ),
    }
}
