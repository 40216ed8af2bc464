//! The `github-team` adapter: the members of a GitHub organisation team, as
//! emails.
//!
//! REST: `GET /orgs/{org}/teams/{team}/members` (following `Link` pages),
//! `PUT` and `DELETE /orgs/{org}/teams/{team}/memberships/{username}`.
//! Emails map to logins through the `mapping` config, or through the org's
//! SAML identities (`saml = true`): one paginated GraphQL query for all,
//! never one per user. An email with no login is rejected, never guessed;
//! a team member with no known email is left alone.

use allsync_sdk::http::{Request, Response, encode, send_all};
use allsync_sdk::{Adapter, Config, ConfigKey, Error, Info, Rejected, export};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

const GITHUB_API: &str = "https://api.github.com";
const SAML_QUERY: &str = "query($org: String!, $first: Int!, $after: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { samlIdentity { nameId } user { login } } }
      }
    }
  }
}";

struct Team {
    api: String,
    token: String,
    org: String,
    team: String,
    /// Lower-case email to login.
    logins: HashMap<String, String>,
    /// Membership changes in flight at once.
    concurrency: usize,
}

#[derive(Deserialize)]
struct Member {
    login: String,
}

impl Adapter for Team {
    fn describe() -> Info {
        Info::new(
            "github-team",
            env!("CARGO_PKG_VERSION"),
            "The members of a GitHub organisation team (token: admin:org, or read:org for plan only)",
        )
        .key(ConfigKey::required("token", "a GitHub token").secret())
        .key(ConfigKey::required("org", "the organisation's login"))
        .key(ConfigKey::required("team", "the team's slug"))
        .key(ConfigKey::optional("mapping", "email=login pairs, comma-separated"))
        .key(ConfigKey::optional("saml", "true: map emails to logins through the org's SAML identities"))
        .key(ConfigKey::optional("api_url", "the REST API base URL (default: https://api.github.com)"))
        .key(ConfigKey::optional("concurrency", "membership changes in flight at once (default 8)"))
        .host(GITHUB_API)
    }

    fn init(config: Config) -> Result<Self, Error> {
        let mut team = Team {
            api: config
                .get_or("api_url", GITHUB_API)
                .trim_end_matches('/')
                .to_string(),
            token: config.require("token")?.to_string(),
            org: config.require("org")?.to_string(),
            team: config.require("team")?.to_string(),
            logins: HashMap::new(),
            concurrency: config.parse_or("concurrency", 8)?,
        };
        for pair in config.list("mapping") {
            let (email, login) = pair.split_once('=').ok_or_else(|| {
                Error::InvalidConfig(format!("mapping entry `{pair}` is not email=login"))
            })?;
            team.logins
                .insert(email.trim().to_lowercase(), login.trim().to_string());
        }
        let saml = config.parse_or("saml", false)?;
        if saml {
            team.logins.extend(team.saml_identities()?);
        }
        if team.logins.is_empty() && !saml {
            return Err(Error::InvalidConfig(
                "set `mapping` (email=login pairs) or `saml = true`".into(),
            ));
        }
        Ok(team)
    }

    fn get(&mut self) -> Result<Vec<String>, Error> {
        // Logins are case-insensitive on GitHub.
        let emails: HashMap<String, &str> = self
            .logins
            .iter()
            .map(|(email, login)| (login.to_lowercase(), email.as_str()))
            .collect();
        let mut found = Vec::new();
        for login in self.members()? {
            match emails.get(&login.to_lowercase()) {
                Some(email) => found.push(email.to_string()),
                None => eprintln!("team member {login} has no known email; left alone"),
            }
        }
        Ok(found)
    }

    fn add(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.change(things, |url| {
            Request::put(url).json(&json!({ "role": "member" }))
        })
    }

    fn remove(&mut self, things: Vec<String>) -> Result<Vec<Rejected>, Error> {
        self.change(things, |url| Ok(Request::delete(url)))
    }
}

impl Team {
    fn request(&self, request: Request) -> Request {
        request
            .bearer(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }

    /// A response's error, with GitHub's rate-limit answer told apart from a refusal.
    fn check(&self, response: Response, what: &str) -> Result<Response, Error> {
        let exhausted = response.header("x-ratelimit-remaining") == Some("0");
        if response.status == 403 && exhausted {
            return Err(Error::RateLimited(response.retry_after().unwrap_or(60)));
        }
        response.success(what)
    }

    /// Every member's login, following `Link` pages.
    fn members(&self) -> Result<Vec<String>, Error> {
        let mut url = Some(format!(
            "{}/orgs/{}/teams/{}/members?per_page=100",
            self.api,
            encode(&self.org),
            encode(&self.team)
        ));
        let mut logins = Vec::new();
        while let Some(page) = url {
            let response = self.check(
                self.request(Request::get(&page)).send()?,
                "list team members",
            )?;
            url = response.next_link();
            logins.extend(
                response
                    .json::<Vec<Member>>()?
                    .into_iter()
                    .map(|member| member.login),
            );
        }
        Ok(logins)
    }

    /// Applies one membership change per thing, `concurrency` at a time; a
    /// thing GitHub refuses, or with no known login, is rejected on its own.
    fn change(
        &self,
        things: Vec<String>,
        request: impl Fn(&str) -> Result<Request, Error>,
    ) -> Result<Vec<Rejected>, Error> {
        let mut rejected = Vec::new();
        let mut changes = Vec::new();
        let mut requests = Vec::new();
        for email in things {
            match self.logins.get(&email.to_lowercase()) {
                Some(login) => {
                    let url = format!(
                        "{}/orgs/{}/teams/{}/memberships/{}",
                        self.api,
                        encode(&self.org),
                        encode(&self.team),
                        encode(login)
                    );
                    requests.push(self.request(request(&url)?));
                    changes.push((email, login));
                }
                None => rejected.push(Rejected::new(
                    email,
                    "no GitHub login is known for this email (see `mapping` or `saml`)",
                )),
            }
        }
        for ((email, login), response) in changes
            .into_iter()
            .zip(send_all(requests, self.concurrency))
        {
            match response.and_then(|response| {
                self.check(response, &format!("change the membership of {login}"))
            }) {
                Ok(_) => {}
                Err(Error::NotFound(reason)) | Err(Error::Other(reason)) => {
                    rejected.push(Rejected::new(email, reason))
                }
                Err(err) => return Err(err),
            }
        }
        Ok(rejected)
    }

    /// Lower-case email to login, from the org's SAML identities.
    fn saml_identities(&self) -> Result<HashMap<String, String>, Error> {
        let mut logins = HashMap::new();
        let mut after = Value::Null;
        loop {
            let body = json!({ "query": SAML_QUERY, "variables": { "org": self.org, "first": 100, "after": after } });
            let url = format!("{}/graphql", self.api);
            let answer: Value = self
                .check(
                    self.request(Request::post(&url).json(&body)?).send()?,
                    "read SAML identities",
                )?
                .json()?;
            if let Some(errors) = answer["errors"]
                .as_array()
                .filter(|errors| !errors.is_empty())
            {
                let messages: Vec<&str> = errors
                    .iter()
                    .filter_map(|error| error["message"].as_str())
                    .collect();
                return Err(Error::NotFound(format!(
                    "GitHub GraphQL: {}",
                    messages.join("; ")
                )));
            }
            let identities =
                &answer["data"]["organization"]["samlIdentityProvider"]["externalIdentities"];
            if identities.is_null() {
                return Err(Error::NotFound(format!(
                    "organisation {} has no SAML identity provider",
                    self.org
                )));
            }
            for edge in identities["edges"].as_array().into_iter().flatten() {
                let node = &edge["node"];
                if let (Some(email), Some(login)) = (
                    node["samlIdentity"]["nameId"].as_str(),
                    node["user"]["login"].as_str(),
                ) {
                    logins.insert(email.to_lowercase(), login.to_string());
                }
            }
            if identities["pageInfo"]["hasNextPage"] != Value::Bool(true) {
                return Ok(logins);
            }
            after = identities["pageInfo"]["endCursor"].clone();
        }
    }
}

export!(Team);
