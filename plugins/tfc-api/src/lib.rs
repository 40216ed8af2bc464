//! The HCP Terraform (formerly Terraform Cloud) and Terraform Enterprise API
//! calls shared by the `tfc-organization`, `tfc-team-members` and `tfc-teams`
//! adapters (https://developer.hashicorp.com/terraform/cloud-docs/api-docs).
//!
//! - [`document`]: JSON:API documents and resources, and their pages;
//! - [`answer`]: the API's `{"errors": [...]}` answers as WIT errors, and
//!   what the answer to one write comes to ([`Verdict`]);
//! - [`memberships`]: the organisation's memberships, active and invited,
//!   by email ([`Roster`]), and invitations;
//! - [`teams`]: the organisation's teams.
//!
//! Every request carries `Authorization: Bearer <token>` and the JSON:API
//! media type; lists are read 100 to a page (the most the API serves).

pub mod answer;
pub mod document;
pub mod memberships;
pub mod teams;

pub use answer::Verdict;
pub use memberships::{Membership, Roster};
pub use teams::{OWNERS, Team};

use allsync_sdk::http::{Request, Response, encode, follow_pages, send_all};
use allsync_sdk::{Config, ConfigKey, Error, Info};
use document::Page;
use serde_json::Value;

/// HCP Terraform's address: the default `api_url`, and the origin declared.
pub const TFC_ORIGIN: &str = "https://app.terraform.io";
/// Where every API path starts: "All V2 API endpoints use `/api/v2` as a prefix".
const API_PREFIX: &str = "/api/v2";
/// The JSON:API media type, of every request and answer.
const MEDIA_TYPE: &str = "application/vnd.api+json";
/// Items per page: "The maximum page size is 100".
const PAGE_SIZE: usize = 100;
/// Requests of one call in flight at once, by default: the API allows 30
/// a second, and the host waits out a 429.
const DEFAULT_CONCURRENCY: usize = 4;

/// One organisation of HCP Terraform or Terraform Enterprise, reached with
/// one token.
pub struct Tfc {
    /// The instance's address, without the API prefix.
    address: String,
    token: String,
    organization: String,
    concurrency: usize,
}

/// Adds the keys every TFC adapter takes (`token`, `organization`,
/// `api_url`, `concurrency`) and the origin it reaches to `info`.
pub fn describe(info: Info) -> Info {
    info.key(
        ConfigKey::required(
            "token",
            "an API token: the organization token, the owners team's token, or an owner's user token",
        )
        .secret(),
    )
    .key(ConfigKey::required("organization", "the organization's name"))
    .key(ConfigKey::optional(
        "api_url",
        "the instance's address (default: https://app.terraform.io; Terraform Enterprise: https://HOST)",
    ))
    .key(ConfigKey::optional(
        "concurrency",
        "requests in flight at once, where changes go one per request (default 4)",
    ))
    .host(TFC_ORIGIN)
}

impl Tfc {
    /// The client for the `token`, `organization`, `api_url` and
    /// `concurrency` in `config`. `api_url` may end in `/api/v2` or not.
    pub fn from_config(config: &Config) -> Result<Self, Error> {
        let address = config.get_or("api_url", TFC_ORIGIN).trim_end_matches('/');
        let concurrency = config.parse_or("concurrency", DEFAULT_CONCURRENCY)?;
        if concurrency == 0 {
            return Err(Error::InvalidConfig(
                "config key `concurrency` must be at least 1".into(),
            ));
        }
        Ok(Tfc {
            address: address.trim_end_matches(API_PREFIX).to_string(),
            token: config.require("token")?.to_string(),
            organization: config.require("organization")?.to_string(),
            concurrency,
        })
    }

    /// The organisation's name, as configured.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The path of `rest` under the organisation: `/organizations/{name}{rest}`.
    pub fn organization_path(&self, rest: &str) -> String {
        format!("/organizations/{}{rest}", encode(&self.organization))
    }

    /// A `GET` of API path `path` (e.g. `/teams/team-1`).
    pub fn get(&self, path: &str) -> Request {
        self.authorised(Request::get(&self.url(path)))
    }

    /// A `POST` of the JSON:API document `body` to `path`.
    pub fn post(&self, path: &str, body: &Value) -> Request {
        self.authorised(Request::post(&self.url(path)).body(body.to_string().into_bytes()))
    }

    /// A `DELETE` of `path`.
    pub fn delete(&self, path: &str) -> Request {
        self.authorised(Request::delete(&self.url(path)))
    }

    /// A `DELETE` of `path` carrying the JSON:API document `body`.
    pub fn delete_with(&self, path: &str, body: &Value) -> Request {
        self.authorised(Request::delete(&self.url(path)).body(body.to_string().into_bytes()))
    }

    /// Every page of the list at `path`, with `query` (`&name=value...`,
    /// encoded) added to each request; `what` names the list in errors.
    pub fn pages(&self, path: &str, query: &str, what: &str) -> Result<Vec<Page>, Error> {
        let first = format!("{}?page%5Bsize%5D={PAGE_SIZE}{query}", self.url(path));
        follow_pages(self.authorised(Request::get(&first)), |response| {
            let page: Page = answer::checked(response, what)?.json()?;
            let next = page
                .next_page(&first, &self.address)
                .map(|url| self.authorised(Request::get(&url)));
            Ok((vec![page], next))
        })
    }

    /// Sends `requests`, `concurrency` at a time; answers in order.
    pub fn send_all(&self, requests: Vec<Request>) -> Vec<Result<Response, Error>> {
        send_all(requests, self.concurrency)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.address)
    }

    fn authorised(&self, request: Request) -> Request {
        request
            .bearer(&self.token)
            .header("accept", MEDIA_TYPE)
            .header("content-type", MEDIA_TYPE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(api_url: Option<&str>) -> Result<Tfc, Error> {
        let mut pairs = vec![
            ("token".to_string(), "tfc-test-token".to_string()),
            ("organization".to_string(), "acme corp".to_string()),
        ];
        if let Some(url) = api_url {
            pairs.push(("api_url".to_string(), url.to_string()));
        }
        Tfc::from_config(&Config::new(pairs))
    }

    #[test]
    fn paths_start_with_the_v2_prefix_whether_or_not_api_url_has_it() {
        for api_url in [
            None,
            Some("https://app.terraform.io/"),
            Some("https://app.terraform.io/api/v2"),
        ] {
            let tfc = client(api_url).unwrap();
            assert_eq!(
                tfc.url(&tfc.organization_path("/teams")),
                "https://app.terraform.io/api/v2/organizations/acme%20corp/teams"
            );
        }
        let enterprise = client(Some("https://tfe.example.com")).unwrap();
        assert_eq!(
            enterprise.url("/teams/team-1"),
            "https://tfe.example.com/api/v2/teams/team-1"
        );
    }

    #[test]
    fn a_concurrency_of_zero_is_refused() {
        let pairs = [
            ("token", "tfc-test-token"),
            ("organization", "acme"),
            ("concurrency", "0"),
        ]
        .map(|(key, value)| (key.to_string(), value.to_string()));
        let refused = Tfc::from_config(&Config::new(pairs.to_vec()));
        assert!(matches!(refused, Err(Error::InvalidConfig(m)) if m.contains("`concurrency`")));
    }
}
