//! The Slack Web API calls shared by the `slack-usergroup` and
//! `slack-channel` adapters (https://api.slack.com/web).
//!
//! Slack answers HTTP 200 with `{"ok": false, "error": "..."}` for most
//! failures; [`answer`] turns those into the WIT error variants: bad tokens
//! into `unauthorized`, `ratelimited` into `rate-limited`, and unknown groups
//! or channels into `not-found`. (HTTP 429s are retried by the allsync host
//! before the adapter sees them.) Calls made once per user (`users.info`,
//! `users.lookupByEmail`, `conversations.kick`) run `concurrency` at a time.

use allsync_sdk::http::{Request, Response, form, send_all};
use allsync_sdk::{Config, ConfigKey, Error, Info};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use std::collections::HashMap;

/// Where the real API lives.
pub const SLACK_API: &str = "https://slack.com/api";

/// A Slack workspace reached with one bot token.
pub struct Slack {
    api: String,
    token: String,
    concurrency: usize,
}

/// A Slack user, as `users.info` and `users.lookupByEmail` describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user ID, e.g. `U012AB3CD`.
    pub id: String,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    profile: Profile,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Profile {
    email: Option<String>,
}

#[derive(Deserialize)]
struct UserAnswer {
    user: User,
}

impl User {
    /// Whether the user is a bot (or Slackbot): bots are never synced.
    pub fn is_bot(&self) -> bool {
        self.is_bot || self.id == "USLACKBOT"
    }

    /// The user's email, unless a bot, deactivated, or hidden.
    pub fn email(&self) -> Option<&str> {
        match self.is_bot() || self.deleted {
            true => None,
            false => self.profile.email.as_deref(),
        }
    }
}

/// Members' emails, as `users.info` gives them.
#[derive(Debug, Default)]
pub struct Emails {
    /// Each email, spelt as Slack has it.
    pub spelt: Vec<String>,
    /// Lower-case email to user ID.
    pub ids: HashMap<String, String>,
}

/// Emails looked up in a workspace.
#[derive(Debug, Default)]
pub struct Lookup {
    /// The emails Slack knows, with their users.
    pub found: Vec<(String, User)>,
    /// The emails Slack does not know.
    pub unknown: Vec<String>,
}

/// Adds the keys every Slack adapter takes (`token`, `api_url`,
/// `concurrency`) to `info`.
pub fn describe(info: Info) -> Info {
    info.key(ConfigKey::required("token", "a Slack bot token (xoxb-...)").secret())
        .key(ConfigKey::optional(
            "api_url",
            "the Web API base URL (default: https://slack.com/api)",
        ))
        .key(ConfigKey::optional(
            "concurrency",
            "per-user calls in flight at once (default 8)",
        ))
        .host("https://slack.com")
}

impl Slack {
    /// The client for the `token`, `api_url` and `concurrency` in `config`.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        Ok(Slack {
            api: config
                .get_or("api_url", SLACK_API)
                .trim_end_matches('/')
                .to_string(),
            token: config.require("token")?.to_string(),
            concurrency: config.parse_or("concurrency", 8)?,
        })
    }

    /// Calls a read method with GET and query parameters.
    pub fn read<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        answer(method, self.read_request(method, params).send())
    }

    /// Calls a write method with a form-encoded POST.
    pub fn write<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        answer(method, self.write_request(method, params).send())
    }

    /// Calls a write method once per user, `concurrency` at a time, with
    /// `fixed` added to each call's parameters; outcomes in `users` order.
    pub fn write_each(
        &self,
        method: &str,
        fixed: (&str, &str),
        users: &[String],
    ) -> Vec<Result<(), Error>> {
        let requests = users
            .iter()
            .map(|user| self.write_request(method, &[fixed, ("user", user)]))
            .collect();
        send_all(requests, self.concurrency)
            .into_iter()
            .map(|response| answer::<IgnoredAny>(method, response).map(drop))
            .collect()
    }

    /// The emails of the users with these IDs, bots and deactivated users left out.
    pub fn emails(&self, ids: &[String]) -> Result<Emails, Error> {
        let mut emails = Emails::default();
        for answer in self.read_each::<UserAnswer>("users.info", "user", ids) {
            let user = answer?.user;
            if let Some(email) = user.email() {
                emails.ids.insert(email.to_lowercase(), user.id.clone());
                emails.spelt.push(email.to_string());
            }
        }
        Ok(emails)
    }

    /// Looks up each email, `concurrency` at a time.
    pub fn lookup_all(&self, emails: &[String]) -> Result<Lookup, Error> {
        let mut lookup = Lookup::default();
        for (email, answer) in
            emails
                .iter()
                .zip(self.read_each::<UserAnswer>("users.lookupByEmail", "email", emails))
        {
            match answer {
                Ok(answer) => lookup.found.push((email.clone(), answer.user)),
                Err(Error::NotFound(_)) => lookup.unknown.push(email.clone()),
                Err(err) => return Err(err),
            }
        }
        Ok(lookup)
    }

    /// Calls a read method once per value of parameter `name`, `concurrency`
    /// at a time; answers in `values` order.
    fn read_each<T: DeserializeOwned>(
        &self,
        method: &str,
        name: &str,
        values: &[String],
    ) -> Vec<Result<T, Error>> {
        let requests = values
            .iter()
            .map(|value| self.read_request(method, &[(name, value)]))
            .collect();
        send_all(requests, self.concurrency)
            .into_iter()
            .map(|response| answer(method, response))
            .collect()
    }

    fn read_request(&self, method: &str, params: &[(&str, &str)]) -> Request {
        Request::get(&format!("{}/{method}?{}", self.api, form(params))).bearer(&self.token)
    }

    fn write_request(&self, method: &str, params: &[(&str, &str)]) -> Request {
        Request::post(&format!("{}/{method}", self.api))
            .bearer(&self.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params).into_bytes())
    }
}

/// The JSON of a Slack answer, or the error its `{"ok": false}` stands for.
fn answer<T: DeserializeOwned>(
    method: &str,
    response: Result<Response, Error>,
) -> Result<T, Error> {
    let response = response?;
    let body: Value = response
        .clone()
        .success(&format!("Slack {method}"))?
        .json()?;
    if body["ok"] != Value::Bool(true) {
        let code = body["error"].as_str().unwrap_or("unknown_error");
        return Err(slack_error(method, code, &response));
    }
    serde_json::from_value(body)
        .map_err(|err| Error::Other(format!("Slack {method}: unexpected answer: {err}")))
}

/// The WIT error a Slack error code stands for.
fn slack_error(method: &str, code: &str, response: &Response) -> Error {
    let message = format!("Slack {method} failed: {code}");
    match code {
        "invalid_auth"
        | "not_authed"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "missing_scope"
        | "no_permission"
        | "not_allowed_token_type" => Error::Unauthorized(message),
        "ratelimited" => Error::RateLimited(response.retry_after().unwrap_or(1)),
        "users_not_found" | "user_not_found" | "no_such_subteam" | "subteam_not_found"
        | "channel_not_found" => Error::NotFound(message),
        _ => Error::Other(message),
    }
}
