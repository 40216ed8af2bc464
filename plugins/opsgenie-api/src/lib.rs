//! The Opsgenie REST API calls shared by the `opsgenie-oncall` and
//! `opsgenie-schedule` adapters (https://docs.opsgenie.com/docs/api-overview).
//!
//! - [`answer`]: Opsgenie's answers as WIT errors, saying what to do;
//! - [`schedule`]: which schedule the config names, by ID or by name.
//!
//! Every request carries `Authorization: GenieKey <api_key>`, as every
//! sample request of the API documentation does. Opsgenie runs two
//! instances: `https://api.opsgenie.com`, and `https://api.eu.opsgenie.com`
//! for accounts hosted in the EU ("If using the EU instance of Opsgenie, the
//! URL needs to be https://api.eu.opsgenie.com", on every API page), picked
//! with `region`; `api_url` overrides both.

pub mod answer;
pub mod schedule;

pub use schedule::ScheduleRef;

use allsync_sdk::http::{Request, Response, encode, send_all};
use allsync_sdk::{Config, ConfigKey, Error, Info};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The US instance, Opsgenie's default.
pub const US_API: &str = "https://api.opsgenie.com";
/// The EU instance.
pub const EU_API: &str = "https://api.eu.opsgenie.com";

/// An Opsgenie account reached with one API key.
#[derive(Debug, Clone)]
pub struct Opsgenie {
    api: String,
    key: String,
}

/// Opsgenie's answer to a successful request: `{"data": ..., "took", "requestId"}`.
#[derive(Deserialize)]
struct Answer<T> {
    data: T,
}

/// Adds the keys every Opsgenie adapter takes (`api_key`, `schedule`,
/// `schedule_identifier_type`, `region`, `api_url`) and both instances'
/// origins to `info`.
pub fn describe(info: Info) -> Info {
    info.key(
        ConfigKey::required(
            "api_key",
            "an Opsgenie API key (Settings > API key management, or an API integration's key)",
        )
        .secret(),
    )
    .key(ConfigKey::required(
        "schedule",
        "the schedule's ID, or its name with schedule_identifier_type = \"name\"",
    ))
    .key(ConfigKey::optional(
        "schedule_identifier_type",
        "id (default) or name: what `schedule` holds",
    ))
    .key(ConfigKey::optional(
        "region",
        "us (default: https://api.opsgenie.com) or eu (https://api.eu.opsgenie.com)",
    ))
    .key(ConfigKey::optional(
        "api_url",
        "the REST API base URL, instead of the region's (tests)",
    ))
    .host(US_API)
    .host(EU_API)
}

impl Opsgenie {
    /// The client for the `api_key`, `region` and `api_url` in `config`.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let region_api = region_api(config.get_or("region", "us"))?;
        let api = match config.get("api_url").map(str::trim) {
            Some(url) if !url.is_empty() => url.trim_end_matches('/').to_string(),
            _ => region_api.to_string(),
        };
        Ok(Opsgenie {
            api,
            key: config.require("api_key")?.to_string(),
        })
    }

    /// A `GET` of `path` (from `/v2/...`), with the API key.
    pub fn get(&self, path: &str) -> Request {
        self.authorized(Request::get(&self.url(path)))
    }

    /// The `data` of the answer to a `GET` of `path`; `what` names the
    /// operation in errors.
    pub fn read<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, Error> {
        let response = answer::checked(self.get(path).send(), what)?;
        Ok(response.json::<Answer<T>>()?.data)
    }

    /// A `PATCH` of `path` with the JSON `body`; `what` names the operation
    /// in errors.
    pub fn patch<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
        what: &str,
    ) -> Result<(), Error> {
        let request = self
            .authorized(Request::patch(&self.url(path)))
            .json(body)?;
        answer::checked(request.send(), what).map(drop)
    }

    /// The username Opsgenie knows each of `usernames` by, `None` where no
    /// user has it (404), with `GET /v2/users/{identifier}` ("id or
    /// username"), `concurrency` at a time; in `usernames` order.
    pub fn look_up_users(
        &self,
        usernames: &[String],
        concurrency: usize,
    ) -> Vec<Result<Option<String>, Error>> {
        let requests = usernames
            .iter()
            .map(|username| self.get(&format!("/v2/users/{}", encode(username))))
            .collect();
        usernames
            .iter()
            .zip(send_all(requests, concurrency))
            .map(|(username, response)| found_user(username, response))
            .collect()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    fn authorized(&self, request: Request) -> Request {
        request.header("authorization", &format!("GenieKey {}", self.key))
    }
}

/// A user, from `GET /v2/users/{identifier}`.
#[derive(Deserialize)]
struct User {
    username: String,
}

/// The username of the user the answer to a look-up of `username` found;
/// `None` for a 404 (no such user); any other failure is the error.
fn found_user(username: &str, response: Result<Response, Error>) -> Result<Option<String>, Error> {
    let response = response?;
    if response.status == 404 {
        return Ok(None);
    }
    let what = format!("look up Opsgenie user {username}");
    let user: Answer<User> = answer::checked(Ok(response), &what)?.json()?;
    Ok(Some(user.data.username))
}

/// The API base of `region`: `us` or `eu`, in any case.
fn region_api(region: &str) -> Result<&'static str, Error> {
    match region.trim().to_ascii_lowercase().as_str() {
        "us" => Ok(US_API),
        "eu" => Ok(EU_API),
        _ => Err(Error::InvalidConfig(format!(
            "`region` is `{region}`: use us (https://api.opsgenie.com) or eu \
             (https://api.eu.opsgenie.com), the instance your account is on"
        ))),
    }
}

/// `usernames` trimmed, each once whatever its case (Opsgenie usernames are
/// emails, compared ignoring case), in their first spelling and order;
/// empty ones left out.
pub fn unique<I>(usernames: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut seen = HashSet::new();
    usernames
        .into_iter()
        .map(|username| username.as_ref().trim().to_string())
        .filter(|username| !username.is_empty() && seen.insert(username.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(pairs: &[(&str, &str)]) -> Result<Opsgenie, Error> {
        let entries = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Opsgenie::from_config(&Config::new(entries))
    }

    #[test]
    fn the_region_picks_the_instance_and_api_url_overrides_it() {
        let key = ("api_key", "k-12345678");
        assert_eq!(client(&[key]).unwrap().api, US_API);
        assert_eq!(client(&[key, ("region", "EU")]).unwrap().api, EU_API);
        let local = client(&[key, ("region", "eu"), ("api_url", "http://127.0.0.1:9/")]);
        assert_eq!(local.unwrap().api, "http://127.0.0.1:9");
    }

    #[test]
    fn an_unknown_region_is_refused_naming_both() {
        let error = client(&[("api_key", "k-12345678"), ("region", "asia")]).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidConfig(m) if m.starts_with("`region` is `asia`: use us") && m.contains("eu (https://api.eu.opsgenie.com)")),
            "{error:?}"
        );
    }

    #[test]
    fn the_api_key_is_required() {
        assert!(matches!(client(&[]), Err(Error::InvalidConfig(m)) if m.contains("`api_key`")));
    }

    fn answer(status: u16, body: &str) -> Result<Response, Error> {
        Ok(Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        })
    }

    #[test]
    fn a_user_look_up_gives_opsgenie_s_username_or_none_for_no_such_user() {
        let found = answer(
            200,
            r#"{"data":{"id":"u-1","username":"Ada@example.com","fullName":"Ada"},"took":0.01,"requestId":"r"}"#,
        );
        assert_eq!(
            found_user("ada@example.com", found).unwrap().as_deref(),
            Some("Ada@example.com")
        );
        let missing = answer(
            404,
            r#"{"message":"No user exists","took":0.0,"requestId":"r"}"#,
        );
        assert_eq!(found_user("eve@example.com", missing).unwrap(), None);
        let outage = answer(
            500,
            r#"{"message":"Internal error","took":0.0,"requestId":"r"}"#,
        );
        let error = found_user("bob@example.com", outage).unwrap_err();
        assert!(
            matches!(&error, Error::Other(m) if m.starts_with("look up Opsgenie user bob@example.com: Opsgenie answered HTTP 500")),
            "{error:?}"
        );
    }

    #[test]
    fn usernames_are_listed_once_whatever_their_case() {
        assert_eq!(
            unique(["Ada@x.com", " bob@x.com", "ada@X.com", "", "bob@x.com"]),
            ["Ada@x.com", "bob@x.com"]
        );
    }
}
