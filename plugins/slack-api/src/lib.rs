//! The Slack Web API calls shared by the `slack-usergroup` and
//! `slack-channel` adapters (https://api.slack.com/web), and what both make
//! of Slack's accounts.
//!
//! - [`answer`]: Slack's `{"ok": false, "error": ...}` answers as WIT errors;
//! - [`users`]: people, guests, bots and deactivated accounts, and which
//!   kinds a list can hold ([`Admission`]);
//! - [`roster`]: a list's members, each resolved once with `users.info`;
//! - [`changes`]: sorting the emails of an `add` or `remove` into what to
//!   send and what to report at once;
//! - [`accounts`]: the accounts one run added and removed.
//!
//! Calls made once per user (`users.info`, `users.lookupByEmail`,
//! `conversations.kick`) run `concurrency` at a time; the host waits out
//! each 429 and retries each outage of a read on its own.

pub mod answer;
pub mod changes;
pub mod roster;
pub mod users;

pub use answer::Reply;
pub use changes::{Change, Direction};
pub use roster::{Directory, Roster};
pub use users::{Admission, Kind, User};

use allsync_sdk::http::{Request, follow_pages, form, send_all};
use allsync_sdk::{Config, ConfigKey, Error, Info};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Where the real API lives.
pub const SLACK_API: &str = "https://slack.com/api";

/// A Slack workspace reached with one bot token.
pub struct Slack {
    api: String,
    token: String,
    concurrency: usize,
}

/// Beyond this many users to resolve, the whole workspace is read with
/// `users.list` (a page per 200 users) rather than one request each: for
/// a workspace of up to 20,000 users that is fewer requests.
pub const READ_EVERYONE_FROM: usize = 100;
/// Users asked for per page of `users.list`, the most Slack recommends.
const USERS_PAGE: &str = "200";

#[derive(Deserialize)]
struct UserAnswer {
    user: User,
}

/// A page of `users.list`.
#[derive(Deserialize)]
struct Everyone {
    members: Vec<User>,
    #[serde(default)]
    response_metadata: Cursor,
}

#[derive(Default, Deserialize)]
struct Cursor {
    #[serde(default)]
    next_cursor: String,
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
        Reply::read(method, self.read_request(method, params).send())?.parse()
    }

    /// Calls a write method with a form-encoded POST.
    pub fn write<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        self.write_reply(method, params)?.parse()
    }

    /// Calls a write method, and gives its answer whether `ok` or not (for
    /// answers that say more than their error code).
    pub fn write_reply(&self, method: &str, params: &[(&str, &str)]) -> Result<Reply, Error> {
        Reply::read(method, self.write_request(method, params).send())
    }

    /// Calls a write method once per user, `concurrency` at a time, with
    /// `fixed` added to each call's parameters; answers in `users` order.
    pub fn write_each(
        &self,
        method: &str,
        fixed: (&str, &str),
        users: &[String],
    ) -> Vec<Result<Reply, Error>> {
        let requests = users
            .iter()
            .map(|user| self.write_request(method, &[fixed, ("user", user)]))
            .collect();
        send_all(requests, self.concurrency)
            .into_iter()
            .map(|response| Reply::read(method, response))
            .collect()
    }

    /// Reads each user ID that `directory` has not seen: with `users.info`,
    /// `concurrency` at a time, or, for more than [`READ_EVERYONE_FROM`],
    /// the whole workspace in pages of `users.list`. Fails if one cannot be
    /// read (an ID Slack knows no user for is noted as such).
    pub fn learn(&self, directory: &mut Directory, ids: &[String]) -> Result<(), Error> {
        let unknown = directory.unknown(ids);
        if unknown.len() > READ_EVERYONE_FROM {
            return self.read_everyone(directory);
        }
        for (id, user) in unknown
            .iter()
            .zip(self.users("users.info", "user", &unknown))
        {
            directory.note(id, user?);
        }
        Ok(())
    }

    /// The user each email belongs to (`None`: no user has it), in `emails`
    /// order: from `directory` once it knows everyone, else with
    /// `users.lookupByEmail`, `concurrency` at a time, or, for more than
    /// [`READ_EVERYONE_FROM`] emails, by reading the whole workspace first.
    pub fn lookup(
        &self,
        directory: &mut Directory,
        emails: &[String],
    ) -> Vec<Result<Option<User>, Error>> {
        if !directory.knows_everyone()
            && emails.len() > READ_EVERYONE_FROM
            && let Err(error) = self.read_everyone(directory)
        {
            return emails.iter().map(|_| Err(error.clone())).collect();
        }
        match directory.knows_everyone() {
            true => emails
                .iter()
                .map(|email| Ok(directory.by_email(email).flatten()))
                .collect(),
            false => self.users("users.lookupByEmail", "email", emails),
        }
    }

    /// Reads every user of the workspace with `users.list`, following its cursor.
    fn read_everyone(&self, directory: &mut Directory) -> Result<(), Error> {
        let page = |cursor: &str| {
            self.read_request("users.list", &[("limit", USERS_PAGE), ("cursor", cursor)])
        };
        let users = follow_pages(page(""), |response| {
            let everyone: Everyone = Reply::read("users.list", Ok(response))?.parse()?;
            let next = everyone.response_metadata.next_cursor;
            Ok((everyone.members, (!next.is_empty()).then(|| page(&next))))
        })?;
        directory.note_everyone(users);
        Ok(())
    }

    /// Calls a method answering a user once per value of parameter `name`;
    /// `users_not_found` and `user_not_found` answer `None`.
    fn users(
        &self,
        method: &str,
        name: &str,
        values: &[String],
    ) -> Vec<Result<Option<User>, Error>> {
        let requests = values
            .iter()
            .map(|value| self.read_request(method, &[(name, value)]))
            .collect();
        send_all(requests, self.concurrency)
            .into_iter()
            .map(|response| {
                let reply = Reply::read(method, response)?;
                match reply.refusal() {
                    Some("users_not_found" | "user_not_found") => Ok(None),
                    _ => Ok(Some(reply.parse::<UserAnswer>()?.user)),
                }
            })
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
