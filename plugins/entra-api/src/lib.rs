//! The Microsoft Graph v1.0 calls shared by the `entra-group` and
//! `entra-users` adapters (https://learn.microsoft.com/graph/api/overview),
//! and what both make of Entra ID's directory objects.
//!
//! - [`reply`]: Graph's answers, top-level or inside a `$batch`, and its
//!   `{"error": {"code", "message"}}` shape as WIT errors;
//! - [`batch`]: JSON batching, 20 requests a batch, each answer's status
//!   honoured and throttled requests waited out and sent again;
//! - [`accounts`]: which directory objects are synced, and under which email
//!   ([`Match`]: `mail`, `userPrincipalName` or both);
//! - [`lookup`]: emails resolved to users with `$filter`, in batches.
//!
//! Authentication: a `token` given in config is sent as a bearer token;
//! without one no `Authorization` header is sent at all, for the host adds
//! the one it mints from the instance's `credentials`.

pub mod accounts;
pub mod batch;
pub mod lookup;
pub mod reply;

pub use accounts::{Accounts, DirectoryObject, Match, Standing, Tally, email_key};
pub use batch::BatchRequest;
pub use lookup::Found;
pub use reply::Reply;

use allsync_sdk::http::Request;
use allsync_sdk::{Config, ConfigKey, Error, Info};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Where the global service lives.
pub const GRAPH_ROOT: &str = "https://graph.microsoft.com";
/// The API version every path is under.
const VERSION: &str = "/v1.0";
/// The user properties both adapters read (`$select`).
pub const USER_PROPERTIES: &str = "id,mail,userPrincipalName,userType,accountEnabled";
/// The largest page directory collections serve (`$top`).
pub const PAGE_SIZE: usize = 999;

/// Microsoft Graph, reached at one service root with one way of signing in.
pub struct Graph {
    /// The service root, without the version: `https://graph.microsoft.com`.
    root: String,
    /// A bearer token from config; `None` when the host adds one.
    token: Option<String>,
    /// `$batch` requests in flight at once.
    concurrency: usize,
    /// The Graph permissions the adapter needs, to name them on a 403.
    permissions: &'static str,
}

/// How a list is queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// As Graph serves it by default.
    Default,
    /// As an advanced query, which `ne`, `not`, `endsWith` and other
    /// filters need: `ConsistencyLevel: eventual` on every page (the first
    /// URL carries `$count=true`, and the next links keep it); the answer
    /// is eventually consistent.
    Advanced,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// Adds the keys both adapters take (`token`, `api_url`, `match`,
/// `include_guests`) and the Graph origin to `info`.
pub fn describe(info: Info) -> Info {
    info.key(ConfigKey::optional("token", "a Microsoft Graph access token; leave it out when the instance's `credentials` mint one").secret())
        .key(ConfigKey::optional("api_url", "the Graph service root (default https://graph.microsoft.com; national clouds: https://graph.microsoft.us, https://dod-graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn)"))
        .key(ConfigKey::optional("match", "which property is a user's email: mail (default), userPrincipalName, or mail,userPrincipalName (mail, else the UPN)"))
        .key(ConfigKey::optional("include_guests", "true: sync guest accounts too (userType Guest, #EXT# UPNs); default false"))
        .host(GRAPH_ROOT)
}

impl Graph {
    /// The client for the `token`, `api_url` and `concurrency` (of
    /// batches, default 4) in `config`; `permissions` names what the
    /// adapter needs, for a 403's message.
    pub fn from_config(config: &Config, permissions: &'static str) -> Result<Self, Error> {
        let root = config
            .get_or("api_url", GRAPH_ROOT)
            .trim()
            .trim_end_matches('/');
        let root = root.strip_suffix(VERSION).unwrap_or(root);
        if !(root.starts_with("https://") || root.starts_with("http://")) {
            return Err(Error::InvalidConfig(format!(
                "api_url `{root}` is not a URL such as {GRAPH_ROOT}: give the service root, with its scheme"
            )));
        }
        let concurrency = config.parse_or("concurrency", 4)?;
        if concurrency == 0 {
            return Err(Error::InvalidConfig(
                "concurrency must be at least 1".into(),
            ));
        }
        Ok(Graph {
            root: root.to_string(),
            token: config
                .get("token")
                .map(str::trim)
                .filter(|token| !token.is_empty())
                .map(str::to_string),
            concurrency,
            permissions,
        })
    }

    /// The absolute URL of `path` (which starts with `/`) under v1.0.
    pub fn url(&self, path: &str) -> String {
        format!("{}{VERSION}{path}", self.root)
    }

    /// The `@odata.id` of directory object `id`, as `$ref` bodies take it.
    pub fn object_reference(&self, id: &str) -> String {
        self.url(&format!(
            "/directoryObjects/{}",
            allsync_sdk::http::encode(id)
        ))
    }

    /// `request` signed with the configured token, if there is one.
    pub fn authorize(&self, request: Request) -> Request {
        let request = request.header("accept", "application/json");
        match &self.token {
            Some(token) => request.bearer(token),
            None => request,
        }
    }

    /// Reads one resource at `url`; `what` names the operation in errors.
    pub fn read<T: DeserializeOwned>(&self, url: &str, what: &str) -> Result<T, Error> {
        let reply = Reply::from(self.authorize(Request::get(url)).send()?);
        match reply.is_success() {
            true => reply.json(what),
            false => Err(self.failure(&reply, what)),
        }
    }

    /// Every item of the collection at `url`, following `@odata.nextLink`
    /// to the end as it comes (it carries every query parameter).
    pub fn list<T: DeserializeOwned>(
        &self,
        url: &str,
        query: Query,
        what: &str,
    ) -> Result<Vec<T>, Error> {
        let page_request = |url: &str| {
            let request = self.authorize(Request::get(url));
            match query {
                Query::Default => request,
                Query::Advanced => request.header("consistencylevel", "eventual"),
            }
        };
        allsync_sdk::http::follow_pages(page_request(url), |response| {
            let reply = Reply::from(response);
            if !reply.is_success() {
                return Err(self.failure(&reply, what));
            }
            let page: Page<T> = reply.json(what)?;
            Ok((page.value, page.next_link.as_deref().map(page_request)))
        })
    }

    /// The error `reply` comes to, with what to do about a refusal.
    pub fn failure(&self, reply: &Reply, what: &str) -> Error {
        match reply.failure(what) {
            Error::Unauthorized(message) if reply.status == 403 => Error::Unauthorized(format!(
                "{message} (the application needs the Graph permissions {})",
                self.permissions
            )),
            Error::Unauthorized(message) => Error::Unauthorized(format!(
                "{message} (check the instance's `credentials`, or its `token`)"
            )),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(pairs: &[(&str, &str)]) -> Result<Graph, Error> {
        let config = Config::new(
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        );
        Graph::from_config(&config, "User.Read.All")
    }

    #[test]
    fn paths_are_under_v1_of_the_configured_cloud() {
        let global = graph(&[]).unwrap();
        assert_eq!(
            global.url("/users"),
            "https://graph.microsoft.com/v1.0/users"
        );
        let us = graph(&[("api_url", "https://graph.microsoft.us/v1.0/")]).unwrap();
        assert_eq!(
            us.object_reference("1f2e"),
            "https://graph.microsoft.us/v1.0/directoryObjects/1f2e",
            "a root given with its version is taken as the root"
        );
    }

    #[test]
    fn a_root_that_is_no_url_or_no_concurrency_is_refused() {
        assert!(matches!(
            graph(&[("api_url", "graph.microsoft.com")]),
            Err(Error::InvalidConfig(m)) if m.contains("is not a URL such as https://graph.microsoft.com")
        ));
        assert!(matches!(
            graph(&[("concurrency", "0")]),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn a_refusal_says_what_to_check() {
        let graph = graph(&[]).unwrap();
        let reply = |status| Reply {
            status,
            headers: Vec::new(),
            body: serde_json::json!({ "error": { "code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation." } }),
        };
        let forbidden = graph.failure(&reply(403), "list users");
        assert!(
            matches!(&forbidden, Error::Unauthorized(m)
            if m == "list users: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. \
                     (the application needs the Graph permissions User.Read.All)"),
            "{forbidden:?}"
        );
        let unauthorized = graph.failure(&reply(401), "list users");
        assert!(
            matches!(&unauthorized, Error::Unauthorized(m) if m.ends_with("(check the instance's `credentials`, or its `token`)"))
        );
    }
}
