//! A fake Microsoft Graph v1.0 for one Entra ID tenant, following the
//! Graph documentation (https://learn.microsoft.com/graph/api/overview):
//! - "List group members" and "List group transitive members" (`GET
//!   /groups/{id}/members`, `.../transitiveMembers`): directory objects,
//!   each with its `@odata.type` (users, groups, service principals,
//!   devices, organisational contacts), only the `$select`ed properties,
//!   in pages of at most `PAGE` whatever `$top` asks, each but the last
//!   with an `@odata.nextLink` carrying every query parameter and a
//!   `$skiptoken` (https://learn.microsoft.com/graph/paging);
//! - "Get group" (`GET /groups/{id}`), "List groups" and "List users"
//!   (`GET /groups`, `GET /users`) with `$filter`
//!   (https://learn.microsoft.com/graph/filter-query-parameter): `eq`,
//!   `in`, `startsWith`, `and`, `or`, and, only with the advanced query
//!   parameters (`ConsistencyLevel: eventual` and `$count=true`, which
//!   also adds `@odata.count` to the first page), `ne`, `not` and
//!   `endsWith`; without them those answer 400 `Request_UnsupportedQuery`
//!   (https://learn.microsoft.com/graph/aad-advanced-queries); string
//!   comparisons ignore case;
//! - "Add members" (`POST /groups/{id}/members/$ref` with `@odata.id`):
//!   204; 400 "One or more added object references already exist" for a
//!   member; 404 for an object that does not exist
//!   (https://learn.microsoft.com/graph/api/group-post-members);
//! - "Remove member" (`DELETE /groups/{id}/members/{id}/$ref`): 204; 404
//!   `Request_ResourceNotFound` naming the group for an object not in it,
//!   as for a group that does not exist
//!   (https://learn.microsoft.com/graph/api/group-delete-members);
//! - JSON batching (`POST /$batch`, https://learn.microsoft.com/graph/json-batching):
//!   at most 20 requests with unique `id`s, each answered with its own
//!   `status`, `headers` and `body`; a request throttled inside a batch
//!   answers 429 with `Retry-After`, and the batch itself then answers
//!   424 ("Throttling and batching", https://learn.microsoft.com/graph/throttling).
//!
//! As Graph does: `Authorization: Bearer <token>` or 401
//! `InvalidAuthenticationToken`; errors are JSON `{"error": {"code",
//! "message", "innerError": {"date", "request-id", "client-request-id"}}}`
//! (https://learn.microsoft.com/graph/errors); throttling is 429
//! `TooManyRequests` with `Retry-After`. [`FakeEntra::inject_in_batch`]
//! answers chosen requests inside batches instead (a [`Fault`] whose prefix
//! matches "METHOD /url", and for an add "POST /groups/{id}/members/$ref
//! {object id}").

use super::{Controls, Fault, bearer, serve};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The most objects per page, whatever `$top` asks.
pub const PAGE: usize = 2;
/// The most requests one batch may hold.
pub const BATCH_LIMIT: usize = 20;
/// The body of a 429, as Graph's throttling guidance shows it.
pub const THROTTLED: &str = r#"{"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"code":"429","date":"2024-05-01T12:00:00","message":"Please retry after","request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"}}}"#;

/// A directory object: a user, or something else a group can hold.
#[derive(Debug, Clone)]
struct Object {
    id: String,
    /// `user`, `group`, `servicePrincipal`, `device`, `orgContact`.
    kind: &'static str,
    display_name: String,
    mail: Option<String>,
    upn: Option<String>,
    user_type: Option<&'static str>,
    enabled: Option<bool>,
    department: Option<String>,
}

#[derive(Debug)]
struct Group {
    id: String,
    name: String,
    dynamic: bool,
    members: Vec<String>,
}

#[derive(Default)]
struct Tenant {
    objects: Vec<Object>,
    groups: Vec<Group>,
    made: u64,
    batch_faults: Vec<Fault>,
    /// Every request inside a batch, as "METHOD /url" (adds with the object id).
    batched: Vec<String>,
    /// How many requests each batch held.
    batch_sizes: Vec<usize>,
}

/// A running fake Graph holding one tenant.
#[derive(Clone)]
pub struct FakeEntra {
    pub addr: SocketAddr,
    pub controls: Controls,
    token: Arc<str>,
    state: Arc<Mutex<Tenant>>,
}

/// A request to answer: top-level, or one inside a batch.
struct Call {
    method: String,
    /// The path after `/v1.0`, split and percent-decoded.
    segments: Vec<String>,
    /// The query, raw (for the next page's link).
    raw_query: String,
    query: HashMap<String, String>,
    /// Whether `ConsistencyLevel: eventual` came with it.
    eventual: bool,
    body: Value,
}

/// An answer: a status, headers, a JSON body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl FakeEntra {
    /// An empty tenant that takes `token`.
    pub fn start(token: &str) -> Self {
        let fake = FakeEntra {
            addr: "127.0.0.1:0".parse().unwrap(),
            controls: Controls::default(),
            token: token.into(),
            state: Arc::new(Mutex::new(Tenant::default())),
        };
        let router = Router::new()
            .route("/v1.0/{*path}", any(handle))
            .with_state(fake.clone());
        let addr = serve(router, fake.controls.clone(), THROTTLED);
        FakeEntra { addr, ..fake }
    }

    /// The service root, as `api_url` takes it.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A member user whose mail and UPN are `mail`; returns its id.
    pub fn user(&self, mail: &str) -> String {
        self.add(user_object(Some(mail), mail, "Member", true))
    }

    /// A user invited from another organisation: userType Guest and a `#EXT#` UPN.
    pub fn guest(&self, mail: &str) -> String {
        let upn = format!("{}#EXT#@tenant.onmicrosoft.com", mail.replace('@', "_"));
        self.add(user_object(Some(mail), &upn, "Guest", true))
    }

    /// A disabled user (`accountEnabled` false).
    pub fn disabled_user(&self, mail: &str) -> String {
        self.add(user_object(Some(mail), mail, "Member", false))
    }

    /// A user with no mail, only a UPN.
    pub fn user_without_mail(&self, upn: &str) -> String {
        self.add(user_object(None, upn, "Member", true))
    }

    /// A user in `department`.
    pub fn user_in(&self, mail: &str, department: &str) -> String {
        let mut user = user_object(Some(mail), mail, "Member", true);
        user.department = Some(department.into());
        self.add(user)
    }

    /// A directory object that is not a user (`servicePrincipal`, `device`,
    /// `orgContact`); returns its id.
    pub fn object(&self, kind: &'static str, name: &str) -> String {
        self.add(Object {
            id: String::new(),
            kind,
            display_name: name.into(),
            mail: (kind == "orgContact").then(|| format!("{name}@contacts.example")),
            upn: None,
            user_type: None,
            enabled: None,
            department: None,
        })
    }

    /// A security group named `name` holding `members` (object ids); returns its id.
    pub fn group(&self, name: &str, members: &[&str]) -> String {
        let mut state = self.state.lock().unwrap();
        let id = next_id(&mut state);
        state.objects.push(Object {
            id: id.clone(),
            kind: "group",
            display_name: name.into(),
            mail: Some(format!(
                "{}@groups.example",
                name.to_lowercase().replace(' ', "-")
            )),
            upn: None,
            user_type: None,
            enabled: None,
            department: None,
        });
        state.groups.push(Group {
            id: id.clone(),
            name: name.into(),
            dynamic: false,
            members: members.iter().map(|m| m.to_string()).collect(),
        });
        id
    }

    /// Makes a rule decide group `id`'s members (`groupTypes` DynamicMembership).
    pub fn make_dynamic(&self, id: &str) {
        self.with_group(id, |group| group.dynamic = true);
    }

    /// Adds the object `member` to group `id` directly.
    pub fn add_member(&self, id: &str, member: &str) {
        self.with_group(id, |group| group.members.push(member.into()));
    }

    /// Group `id`'s direct members: users by mail (else UPN), other objects
    /// as "kind:name", sorted.
    pub fn members(&self, id: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let group = state
            .groups
            .iter()
            .find(|g| g.id == id)
            .expect("a group made with FakeEntra::group");
        let mut members: Vec<String> = group
            .members
            .iter()
            .map(|member| {
                let object = state
                    .objects
                    .iter()
                    .find(|o| &o.id == member)
                    .expect("an object");
                match object.kind {
                    "user" => object
                        .mail
                        .clone()
                        .or(object.upn.clone())
                        .unwrap_or_default(),
                    kind => format!("{kind}:{}", object.display_name),
                }
            })
            .collect();
        members.sort();
        members
    }

    /// Answers matching requests inside batches with `fault` instead.
    pub fn inject_in_batch(&self, fault: Fault) {
        self.state.lock().unwrap().batch_faults.push(fault);
    }

    /// Every request sent inside a batch so far, as "METHOD /url".
    pub fn batched(&self) -> Vec<String> {
        self.state.lock().unwrap().batched.clone()
    }

    /// How many requests inside batches started with `prefix`.
    pub fn batched_count(&self, prefix: &str) -> usize {
        self.batched()
            .iter()
            .filter(|line| line.starts_with(prefix))
            .count()
    }

    /// How many requests each batch held, in order.
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.state.lock().unwrap().batch_sizes.clone()
    }

    /// How many member changes were asked for, in batches or not.
    pub fn changes(&self) -> usize {
        let outside = self
            .controls
            .requests()
            .into_iter()
            .filter(|line| !line.contains("$batch"));
        outside
            .chain(self.batched())
            .filter(|line| line.starts_with("POST /") || line.starts_with("DELETE /"))
            .count()
    }

    fn add(&self, mut object: Object) -> String {
        let mut state = self.state.lock().unwrap();
        object.id = next_id(&mut state);
        let id = object.id.clone();
        state.objects.push(object);
        id
    }

    fn with_group(&self, id: &str, change: impl FnOnce(&mut Group)) {
        let mut state = self.state.lock().unwrap();
        change(
            state
                .groups
                .iter_mut()
                .find(|g| g.id == id)
                .expect("a group made with FakeEntra::group"),
        );
    }

    /// The 401 answer, unless the request carries the token.
    fn refusal(&self, headers: &HeaderMap) -> Option<Answer> {
        match bearer(headers) {
            Some(token) if token == &*self.token => None,
            None => Some(error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            )),
            Some(_) => Some(error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            )),
        }
    }
}

fn user_object(mail: Option<&str>, upn: &str, user_type: &'static str, enabled: bool) -> Object {
    Object {
        id: String::new(),
        kind: "user",
        display_name: upn.split('@').next().unwrap_or_default().to_string(),
        mail: mail.map(String::from),
        upn: Some(upn.into()),
        user_type: Some(user_type),
        enabled: Some(enabled),
        department: None,
    }
}

/// A new object id, as a GUID.
fn next_id(state: &mut Tenant) -> String {
    state.made += 1;
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        state.made * 7919,
        state.made
    )
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: Some(
            json!({ "error": { "code": code, "message": message, "innerError": {
            "date": "2024-05-01T12:00:00", "request-id": "b3731da7-5c46-4c37-a8e5-b190124d2531",
            "client-request-id": "b3731da7-5c46-4c37-a8e5-b190124d2531" } } }),
        ),
    }
}

fn not_found(id: &str) -> Answer {
    error(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        headers: Vec::new(),
        body: Some(body),
    }
}

fn no_content() -> Answer {
    Answer {
        status: 204,
        headers: Vec::new(),
        body: None,
    }
}

async fn handle(
    State(fake): State<FakeEntra>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = match fake.refusal(&headers) {
        Some(refusal) => refusal,
        None => {
            let path = uri.path().strip_prefix("/v1.0").unwrap_or(uri.path());
            let eventual = headers
                .get("consistencylevel")
                .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"eventual"));
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let call = Call::new(
                method.as_str(),
                path,
                uri.query().unwrap_or_default(),
                eventual,
                body,
            );
            let host = headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            match call.segments.as_slice() {
                [batch] if batch == "$batch" => fake.batch(&call, host),
                _ => fake.answer(&call, host),
            }
        }
    };
    into_response(answer)
}

fn into_response(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap();
    let mut response = match answer.body {
        Some(body) => (status, Body::from(body.to_string())).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in answer.headers {
        headers.insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

impl Call {
    fn new(method: &str, path: &str, raw_query: &str, eventual: bool, body: Value) -> Self {
        let query = raw_query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), decode(value))
            })
            .collect();
        Call {
            method: method.to_string(),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(decode)
                .collect(),
            raw_query: raw_query.to_string(),
            query,
            eventual,
            body,
        }
    }

    /// Whether the advanced query parameters came with the call.
    fn advanced(&self) -> bool {
        self.eventual
            && self
                .query
                .get("$count")
                .is_some_and(|count| count == "true")
    }
}

/// `text` with its `%XX` escapes decoded.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

impl FakeEntra {
    /// Answers one request, top-level or inside a batch.
    fn answer(&self, call: &Call, host: &str) -> Answer {
        let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
        match (call.method.as_str(), segments.as_slice()) {
            ("GET", ["users"]) => self.list_users(call, host),
            ("GET", ["groups"]) => self.list_groups(call),
            ("GET", ["groups", id]) => self.get_group(id, call),
            ("GET", ["groups", id, relation @ ("members" | "transitiveMembers")]) => {
                self.list_members(id, relation, call, host)
            }
            ("POST", ["groups", id, "members", "$ref"]) => self.add_reference(id, &call.body),
            ("DELETE", ["groups", id, "members", member, "$ref"]) => {
                self.remove_reference(id, member)
            }
            _ => error(400, "BadRequest", "Resource not found for the segment."),
        }
    }

    fn list_users(&self, call: &Call, host: &str) -> Answer {
        let filter = match parse_filter(call, "User") {
            Ok(filter) => filter,
            Err(refusal) => return refusal,
        };
        let state = self.state.lock().unwrap();
        let users: Vec<&Object> = state
            .objects
            .iter()
            .filter(|o| {
                o.kind == "user"
                    && filter
                        .as_ref()
                        .is_none_or(|f| f.matches(&|p| property(o, p)))
            })
            .collect();
        page(users, call, host, false, self.controls.page(PAGE))
    }

    fn list_groups(&self, call: &Call) -> Answer {
        let filter = match parse_filter(call, "Group") {
            Ok(filter) => filter,
            Err(refusal) => return refusal,
        };
        let state = self.state.lock().unwrap();
        let groups: Vec<Value> = state
            .groups
            .iter()
            .filter(|g| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&|p| group_property(g, p)))
            })
            .map(|g| selected(group_json(g), call))
            .collect();
        ok(
            json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups", "value": groups }),
        )
    }

    fn get_group(&self, id: &str, call: &Call) -> Answer {
        let state = self.state.lock().unwrap();
        match state.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id)) {
            Some(group) => ok(selected(group_json(group), call)),
            None => not_found(id),
        }
    }

    fn list_members(&self, id: &str, relation: &str, call: &Call, host: &str) -> Answer {
        let state = self.state.lock().unwrap();
        let Some(group) = state.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id)) else {
            return not_found(id);
        };
        let mut ids = group.members.clone();
        if relation == "transitiveMembers" {
            let mut next = 0;
            while next < ids.len() {
                if let Some(nested) = state.groups.iter().find(|g| g.id == ids[next]) {
                    for member in &nested.members {
                        if !ids.contains(member) {
                            ids.push(member.clone());
                        }
                    }
                }
                next += 1;
            }
        }
        let objects: Vec<&Object> = ids
            .iter()
            .filter_map(|member| state.objects.iter().find(|o| &o.id == member))
            .collect();
        page(objects, call, host, true, self.controls.page(PAGE))
    }

    fn add_reference(&self, id: &str, body: &Value) -> Answer {
        let Some(reference) = body["@odata.id"].as_str() else {
            return error(
                400,
                "Request_BadRequest",
                "The request body must hold an @odata.id.",
            );
        };
        let member = reference.rsplit('/').next().unwrap_or_default().to_string();
        let mut state = self.state.lock().unwrap();
        if !state
            .objects
            .iter()
            .any(|o| o.id.eq_ignore_ascii_case(&member))
        {
            return not_found(&member);
        }
        let Some(group) = state
            .groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(id))
        else {
            return not_found(id);
        };
        if group
            .members
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&member))
        {
            return error(
                400,
                "Request_BadRequest",
                "One or more added object references already exist for the following modified properties: 'members'.",
            );
        }
        group.members.push(member);
        no_content()
    }

    fn remove_reference(&self, id: &str, member: &str) -> Answer {
        let mut state = self.state.lock().unwrap();
        let Some(group) = state
            .groups
            .iter_mut()
            .find(|g| g.id.eq_ignore_ascii_case(id))
        else {
            return not_found(id);
        };
        let before = group.members.len();
        group.members.retain(|m| !m.eq_ignore_ascii_case(member));
        match group.members.len() < before {
            true => no_content(),
            false => not_found(id),
        }
    }

    /// Answers a `$batch`: each request as if sent alone, unless a fault
    /// strikes it.
    fn batch(&self, call: &Call, host: &str) -> Answer {
        let Some(requests) = call.body["requests"].as_array() else {
            return error(400, "BadRequest", "Invalid batch payload format.");
        };
        let mut ids: Vec<&str> = requests.iter().filter_map(|r| r["id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        if requests.len() > BATCH_LIMIT || ids.len() != requests.len() {
            return error(
                400,
                "BadRequest",
                "A batch holds at most 20 requests, each with a unique id.",
            );
        }
        self.state.lock().unwrap().batch_sizes.push(requests.len());
        let responses: Vec<Value> = requests
            .iter()
            .map(|request| self.batched_answer(request, host))
            .collect();
        let throttled = responses.iter().any(|r| r["status"] == 429);
        Answer {
            status: if throttled { 424 } else { 200 },
            headers: Vec::new(),
            body: Some(json!({ "responses": responses })),
        }
    }

    fn batched_answer(&self, request: &Value, host: &str) -> Value {
        let method = request["method"]
            .as_str()
            .unwrap_or_default()
            .to_uppercase();
        let url = request["url"].as_str().unwrap_or_default();
        let url = if url.starts_with('/') {
            url.to_string()
        } else {
            format!("/{url}")
        };
        let mut line = format!("{method} {url}");
        if let Some(reference) = request["body"]["@odata.id"].as_str() {
            line = format!(
                "{line} {}",
                reference.rsplit('/').next().unwrap_or_default()
            );
        }
        let fault = {
            let mut state = self.state.lock().unwrap();
            state.batched.push(line.clone());
            state
                .batch_faults
                .iter_mut()
                .find_map(|fault| fault.strikes(&line).then(|| fault.clone()))
        };
        let eventual = request["headers"]["ConsistencyLevel"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        let answer = match fault {
            Some(fault) => Answer {
                status: fault.status.as_u16(),
                headers: fault.headers.clone(),
                body: serde_json::from_str(&fault.body).ok(),
            },
            None => {
                let (path, query) = url.split_once('?').unwrap_or((&url, ""));
                let call = Call::new(&method, path, query, eventual, request["body"].clone());
                self.answer(&call, host)
            }
        };
        let headers: Map<String, Value> = answer
            .headers
            .into_iter()
            .map(|(name, value)| (name, Value::String(value)))
            .chain([("Content-Type".to_string(), json!("application/json"))])
            .collect();
        let mut response =
            json!({ "id": request["id"], "status": answer.status, "headers": headers });
        if let Some(body) = answer.body {
            response["body"] = body;
        }
        response
    }
}

/// One page of `objects`, at most `most` of them, with a link to the
/// next; `typed` collections (of several types) give each object's
/// `@odata.type`.
fn page(objects: Vec<&Object>, call: &Call, host: &str, typed: bool, most: usize) -> Answer {
    let top = call
        .query
        .get("$top")
        .and_then(|top| top.parse().ok())
        .unwrap_or(100);
    let size = top.clamp(1, most.max(1));
    let start: usize = call
        .query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let end = (start + size).min(objects.len());
    let value: Vec<Value> = objects[start.min(end)..end]
        .iter()
        .map(|object| selected(object_json(object, typed), call))
        .collect();
    let mut body = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": value });
    if start == 0 && call.advanced() {
        body["@odata.count"] = json!(objects.len());
    }
    if end < objects.len() {
        let kept: Vec<&str> = call
            .raw_query
            .split('&')
            .filter(|pair| !pair.is_empty() && !decode(pair).starts_with("$skiptoken="))
            .collect();
        let path = call.segments.join("/");
        body["@odata.nextLink"] = json!(format!(
            "http://{host}/v1.0/{path}?{}&$skiptoken={end}",
            kept.join("&")
        ));
    }
    ok(body)
}

fn object_json(object: &Object, typed: bool) -> Value {
    let mut json =
        json!({ "id": object.id, "displayName": object.display_name, "mail": object.mail });
    if typed {
        json["@odata.type"] = json!(format!("#microsoft.graph.{}", object.kind));
    }
    if object.kind == "user" {
        json["userPrincipalName"] = json!(object.upn);
        json["userType"] = json!(object.user_type);
        json["accountEnabled"] = json!(object.enabled);
        json["department"] = json!(object.department);
    }
    json
}

fn group_json(group: &Group) -> Value {
    let types: Vec<&str> = if group.dynamic {
        vec!["DynamicMembership"]
    } else {
        Vec::new()
    };
    json!({ "id": group.id, "displayName": group.name, "groupTypes": types, "securityEnabled": true })
}

/// `object` with only the `$select`ed properties (and its id and type).
fn selected(mut object: Value, call: &Call) -> Value {
    let Some(select) = call.query.get("$select") else {
        return object;
    };
    let wanted: Vec<&str> = select.split(',').map(str::trim).collect();
    if let Value::Object(properties) = &mut object {
        properties.retain(|name, _| {
            name == "id" || name == "@odata.type" || wanted.contains(&name.as_str())
        });
    }
    object
}

fn property(object: &Object, name: &str) -> Option<Value> {
    let value = match name {
        "id" => json!(object.id),
        "displayName" => json!(object.display_name),
        "mail" => json!(object.mail),
        "userPrincipalName" => json!(object.upn),
        "userType" => json!(object.user_type),
        "accountEnabled" => json!(object.enabled),
        "department" => json!(object.department),
        _ => return None,
    };
    Some(value)
}

fn group_property(group: &Group, name: &str) -> Option<Value> {
    match name {
        "id" => Some(json!(group.id)),
        "displayName" => Some(json!(group.name)),
        _ => None,
    }
}

/// The call's `$filter`, if it has one it may use; else the 400 answer.
fn parse_filter(call: &Call, resource: &str) -> Result<Option<Filter>, Answer> {
    let Some(text) = call.query.get("$filter") else {
        return Ok(None);
    };
    let unsupported = |message: String| error(400, "Request_UnsupportedQuery", &message);
    let mut parser = Parser {
        tokens: tokenize(text),
        next: 0,
        advanced_operator: None,
    };
    let filter = parser
        .expression()
        .filter(|_| parser.next == parser.tokens.len())
        .ok_or_else(|| unsupported(format!("Invalid filter clause: syntax error in '{text}'.")))?;
    if let Some(operator) = parser.advanced_operator.filter(|_| !call.advanced()) {
        return Err(unsupported(format!(
            "Operator '{operator}' is not supported because the required parameters might be missing. \
             Try adding $count=true query parameter and ConsistencyLevel:eventual header. \
             Refer to https://aka.ms/graph-docs/advanced-queries for more information"
        )));
    }
    match filter.unknown_property(resource) {
        Some(name) => Err(unsupported(format!(
            "Unsupported or invalid query filter clause specified for property '{name}' of resource '{resource}'."
        ))),
        None => Ok(Some(filter)),
    }
}

/// A `$filter` expression.
enum Filter {
    Compare {
        property: String,
        equal: bool,
        value: Value,
    },
    In {
        property: String,
        values: Vec<Value>,
    },
    Function {
        name: String,
        property: String,
        text: String,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

impl Filter {
    fn matches(&self, get: &dyn Fn(&str) -> Option<Value>) -> bool {
        let text = |property: &str| get(property).and_then(|v| v.as_str().map(str::to_lowercase));
        match self {
            Filter::Compare {
                property,
                equal,
                value,
            } => same(&get(property).unwrap_or(Value::Null), value) == *equal,
            Filter::In { property, values } => {
                let actual = get(property).unwrap_or(Value::Null);
                values.iter().any(|value| same(&actual, value))
            }
            Filter::Function {
                name,
                property,
                text: wanted,
            } => {
                let wanted = wanted.to_lowercase();
                text(property).is_some_and(|actual| match name.as_str() {
                    "startswith" => actual.starts_with(&wanted),
                    _ => actual.ends_with(&wanted),
                })
            }
            Filter::Not(inner) => !inner.matches(get),
            Filter::And(left, right) => left.matches(get) && right.matches(get),
            Filter::Or(left, right) => left.matches(get) || right.matches(get),
        }
    }

    /// A property the filter names that `resource` cannot be filtered by.
    fn unknown_property(&self, resource: &str) -> Option<String> {
        let known: &[&str] = match resource {
            "User" => &[
                "id",
                "displayName",
                "mail",
                "userPrincipalName",
                "userType",
                "accountEnabled",
                "department",
            ],
            _ => &["id", "displayName"],
        };
        let check =
            |property: &String| (!known.contains(&property.as_str())).then(|| property.clone());
        match self {
            Filter::Compare { property, .. }
            | Filter::In { property, .. }
            | Filter::Function { property, .. } => check(property),
            Filter::Not(inner) => inner.unknown_property(resource),
            Filter::And(left, right) | Filter::Or(left, right) => left
                .unknown_property(resource)
                .or_else(|| right.unknown_property(resource)),
        }
    }
}

/// Whether two values are equal, strings ignoring case.
fn same(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(b)) => a.to_lowercase() == b.to_lowercase(),
        (a, b) => a == b,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            ',' => tokens.push(Token::Comma),
            '\'' => {
                let mut literal = String::new();
                while let Some(c) = chars.next() {
                    match (c, chars.peek()) {
                        ('\'', Some('\'')) => {
                            literal.push('\'');
                            chars.next();
                        }
                        ('\'', _) => break,
                        (c, _) => literal.push(c),
                    }
                }
                tokens.push(Token::Text(literal));
            }
            c if c.is_whitespace() => {}
            c => {
                let mut word = c.to_string();
                while let Some(&c) = chars
                    .peek()
                    .filter(|c| !c.is_whitespace() && !"(),'".contains(**c))
                {
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    tokens
}

/// A recursive-descent parser of the `$filter` subset the fake knows.
struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The first operator used that needs the advanced query parameters.
    advanced_operator: Option<&'static str>,
}

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.next) {
            Some(Token::Word(word)) => Some(word.to_lowercase()),
            _ => None,
        }
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn expect(&mut self, token: Token) -> Option<()> {
        (self.take()? == token).then_some(())
    }

    fn advanced(&mut self, operator: &'static str) {
        self.advanced_operator.get_or_insert(operator);
    }

    fn expression(&mut self) -> Option<Filter> {
        let mut left = self.conjunction()?;
        while self.peek_word().as_deref() == Some("or") {
            self.next += 1;
            left = Filter::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Some(left)
    }

    fn conjunction(&mut self) -> Option<Filter> {
        let mut left = self.unary()?;
        while self.peek_word().as_deref() == Some("and") {
            self.next += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Filter> {
        if self.peek_word().as_deref() == Some("not") {
            self.next += 1;
            self.advanced("not");
            return Some(Filter::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Option<Filter> {
        match self.take()? {
            Token::Open => {
                let inner = self.expression()?;
                self.expect(Token::Close)?;
                Some(inner)
            }
            Token::Word(word)
                if matches!(word.to_lowercase().as_str(), "startswith" | "endswith") =>
            {
                let name = word.to_lowercase();
                if name == "endswith" {
                    self.advanced("endsWith");
                }
                self.expect(Token::Open)?;
                let Token::Word(property) = self.take()? else {
                    return None;
                };
                self.expect(Token::Comma)?;
                let Token::Text(text) = self.take()? else {
                    return None;
                };
                self.expect(Token::Close)?;
                Some(Filter::Function {
                    name,
                    property,
                    text,
                })
            }
            Token::Word(property) => self.comparison(property),
            _ => None,
        }
    }

    fn comparison(&mut self, property: String) -> Option<Filter> {
        let operator = self.peek_word()?;
        self.next += 1;
        match operator.as_str() {
            "eq" | "ne" => {
                if operator == "ne" {
                    self.advanced("ne");
                }
                let value = self.value()?;
                Some(Filter::Compare {
                    property,
                    equal: operator == "eq",
                    value,
                })
            }
            "in" => {
                self.expect(Token::Open)?;
                let mut values = vec![self.value()?];
                while self.tokens.get(self.next) == Some(&Token::Comma) {
                    self.next += 1;
                    values.push(self.value()?);
                }
                self.expect(Token::Close)?;
                Some(Filter::In { property, values })
            }
            _ => None,
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.take()? {
            Token::Text(text) => Some(Value::String(text)),
            Token::Word(word) => match word.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
            _ => None,
        }
    }
}
