//! The `google-group` adapter: the members of a Google Workspace group with
//! one role, as emails.
//!
//! Admin SDK Directory API: `members.list` (following `nextPageToken`),
//! `members.insert` (an existing member counts as added), `members.delete`.
//! Auth is an OAuth access token given in config.

use allsync_sdk::http::{Request, encode, send_all};
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use serde::Deserialize;
use serde_json::{Value, json};

const GOOGLE_API: &str = "https://admin.googleapis.com";
const ROLES: [&str; 3] = ["MEMBER", "MANAGER", "OWNER"];

struct Group {
    members_url: String,
    token: String,
    role: String,
    concurrency: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    members: Vec<Member>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    email: Option<String>,
}

impl Adapter for Group {
    fn describe() -> Info {
        Info::new(
            "google-group",
            env!("CARGO_PKG_VERSION"),
            "The members of a Google Workspace group with one role (scope: admin.directory.group.member)",
        )
        .key(ConfigKey::required("token", "an OAuth 2.0 access token").secret())
        .key(ConfigKey::required("group", "the group's email address or ID"))
        .key(ConfigKey::optional("role", "MEMBER (default), MANAGER or OWNER: the members synced"))
        .key(ConfigKey::optional("api_url", "the API base URL (default: https://admin.googleapis.com)"))
        .key(ConfigKey::optional("concurrency", "member changes in flight at once (default 8)"))
        .host(GOOGLE_API)
    }

    fn init(config: Config) -> Result<Self, Error> {
        let role = config.get_or("role", "MEMBER").to_uppercase();
        if !ROLES.contains(&role.as_str()) {
            return Err(Error::InvalidConfig(format!(
                "role `{role}` is not one of MEMBER, MANAGER, OWNER"
            )));
        }
        let api = config
            .get_or("api_url", GOOGLE_API)
            .trim_end_matches('/')
            .to_string();
        Ok(Group {
            members_url: format!(
                "{api}/admin/directory/v1/groups/{}/members",
                encode(config.require("group")?)
            ),
            token: config.require("token")?.to_string(),
            role,
            concurrency: config.parse_or("concurrency", 8)?,
        })
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        let mut emails = Vec::new();
        let mut token = String::new();
        loop {
            let url = format!(
                "{}?roles={}&maxResults=200&pageToken={}",
                self.members_url,
                self.role,
                encode(&token)
            );
            let page: Page = Request::get(&url)
                .bearer(&self.token)
                .send()?
                .success("list group members")?
                .json()?;
            emails.extend(page.members.into_iter().filter_map(|member| member.email));
            match page.next_page_token {
                Some(next) if !next.is_empty() => token = next,
                _ => return Ok(emails),
            }
        }
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let requests = things
            .iter()
            .map(|email| {
                Request::post(&self.members_url)
                    .bearer(&self.token)
                    .json(&json!({ "email": email, "role": self.role }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // 409: already a member, which is what was wanted.
        self.each(things, requests, &[409], "add a group member")
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        let requests = things
            .iter()
            .map(|email| {
                Request::delete(&format!("{}/{}", self.members_url, encode(email)))
                    .bearer(&self.token)
            })
            .collect();
        self.each(things, requests, &[], "remove a group member")
    }
}

impl Group {
    /// Sends one request per thing, `concurrency` at a time: a member Google
    /// refuses (400, 404) is rejected on its own; anything else fails the call.
    fn each(
        &self,
        things: Vec<String>,
        requests: Vec<Request>,
        fine: &[u16],
        what: &str,
    ) -> Result<Vec<Rejected>, Error> {
        let mut rejected = Vec::new();
        for (email, response) in things.into_iter().zip(send_all(requests, self.concurrency)) {
            let response = response?;
            match response.status {
                200..=299 => {}
                status if fine.contains(&status) => {}
                400 | 404 if !group_missing(&response.body) => {
                    rejected.push(Rejected::new(email, google_message(&response.body)))
                }
                _ => {
                    response.success(what)?;
                }
            }
        }
        Ok(rejected)
    }
}

/// Whether an error is about the group itself rather than one member.
fn group_missing(body: &[u8]) -> bool {
    google_message(body).contains("groupKey")
}

/// The message of Google's `{"error": {"message": ...}}` shape.
fn google_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|body| body["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| "refused by Google".to_string())
}

export!(Group);
