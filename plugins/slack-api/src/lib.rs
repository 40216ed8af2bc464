//! The Slack Web API calls shared by the `slack-usergroup` and
//! `slack-channel` adapters (https://api.slack.com/web).
//!
//! Slack answers HTTP 200 with `{"ok": false, "error": "..."}` for most
//! failures; [`Slack::call`] turns those into the WIT error variants:
//! bad tokens into `unauthorized`, `ratelimited` into `rate-limited`, and
//! unknown groups or channels into `not-found`. (HTTP 429s are retried by
//! the allsync host before the adapter sees them.)

use allsync_sdk::http::{Request, Response, form};
use allsync_sdk::{Config, ConfigKey, Error, Info};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// Where the real API lives.
pub const SLACK_API: &str = "https://slack.com/api";

/// A Slack workspace reached with one bot token.
pub struct Slack {
    api: String,
    token: String,
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

/// Adds the keys every Slack adapter takes (`token`, `api_url`) to `info`.
pub fn describe(info: Info) -> Info {
    info.key(ConfigKey::required("token", "a Slack bot token (xoxb-...)").secret())
        .key(ConfigKey::optional(
            "api_url",
            "the Web API base URL (default: https://slack.com/api)",
        ))
        .host("https://slack.com")
}

impl Slack {
    /// The client for the `token` and `api_url` in `config`.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        Ok(Slack {
            api: config
                .get_or("api_url", SLACK_API)
                .trim_end_matches('/')
                .to_string(),
            token: config.require("token")?.to_string(),
        })
    }

    /// Calls a read method with GET and query parameters.
    pub fn read<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = format!("{}/{method}?{}", self.api, form(params));
        self.call(method, Request::get(&url))
    }

    /// Calls a write method with a form-encoded POST.
    pub fn write<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = format!("{}/{method}", self.api);
        let request = Request::post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params).into_bytes());
        self.call(method, request)
    }

    fn call<T: DeserializeOwned>(&self, method: &str, request: Request) -> Result<T, Error> {
        let response = request.bearer(&self.token).send()?;
        let body: Value = response
            .clone()
            .success(&format!("Slack {method}"))?
            .json()?;
        if body["ok"] != Value::Bool(true) {
            let error = body["error"]
                .as_str()
                .unwrap_or("unknown_error")
                .to_string();
            return Err(SlackError {
                method: method.to_string(),
                code: error,
            }
            .into_error(&response));
        }
        serde_json::from_value(body)
            .map_err(|err| Error::Other(format!("Slack {method}: unexpected answer: {err}")))
    }

    /// The user with this ID.
    pub fn user(&self, id: &str) -> Result<User, Error> {
        #[derive(Deserialize)]
        struct Answer {
            user: User,
        }
        Ok(self.read::<Answer>("users.info", &[("user", id)])?.user)
    }

    /// The emails of the users with these IDs, bots and deactivated users left out.
    pub fn emails(&self, ids: &[String]) -> Result<HashMap<String, String>, Error> {
        let mut emails = HashMap::new();
        for id in ids {
            if let Some(email) = self.user(id)?.email() {
                emails.insert(email.to_string(), id.clone());
            }
        }
        Ok(emails)
    }

    /// Looks up each email.
    pub fn lookup_all(&self, emails: &[String]) -> Result<Lookup, Error> {
        let mut lookup = Lookup::default();
        for email in emails {
            match self.lookup(email)? {
                Some(user) => lookup.found.push((email.clone(), user)),
                None => lookup.unknown.push(email.clone()),
            }
        }
        Ok(lookup)
    }

    /// The user with this email, or `None` if Slack has none.
    pub fn lookup(&self, email: &str) -> Result<Option<User>, Error> {
        #[derive(Deserialize)]
        struct Answer {
            user: User,
        }
        match self.read::<Answer>("users.lookupByEmail", &[("email", email)]) {
            Ok(answer) => Ok(Some(answer.user)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Emails looked up in a workspace.
#[derive(Debug, Default)]
pub struct Lookup {
    /// The emails Slack knows, with their users.
    pub found: Vec<(String, User)>,
    /// The emails Slack does not know.
    pub unknown: Vec<String>,
}

/// An `{"ok": false}` answer.
struct SlackError {
    method: String,
    code: String,
}

impl SlackError {
    fn into_error(self, response: &Response) -> Error {
        let message = format!("Slack {} failed: {}", self.method, self.code);
        match self.code.as_str() {
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
}
