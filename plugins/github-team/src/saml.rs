//! Emails to logins from the organisation's SAML identities: one paginated
//! GraphQL query (`organization.samlIdentityProvider.externalIdentities`),
//! never one per user.

use allsync_sdk::Error;
use serde_json::{Value, json};

const QUERY: &str = "query($org: String!, $first: Int!, $after: String) {
  organization(login: $org) {
    samlIdentityProvider {
      externalIdentities(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { samlIdentity { nameId } user { login } } }
      }
    }
  }
}";

/// Identities asked for per page (GraphQL's most).
const PAGE: u32 = 100;

/// Where GitHub serves GraphQL, given the REST API base: `{api}/graphql` on
/// github.com (`https://api.github.com/graphql`), but on GitHub Enterprise
/// Server, whose REST API is `https://HOST/api/v3`, `https://HOST/api/graphql`.
pub fn graphql_url(api: &str) -> String {
    match api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api}/graphql"),
    }
}

/// The body asking for the page of identities after `after` (null: the first).
pub fn request(org: &str, after: &Value) -> Value {
    json!({ "query": QUERY, "variables": { "org": org, "first": PAGE, "after": after } })
}

/// One page of identities: `(email, login)` for each identity linked to a
/// user, and the cursor of the next page, if any.
pub struct Page {
    pub pairs: Vec<(String, String)>,
    pub next: Option<Value>,
}

/// Reads one GraphQL answer; an identity not linked to a user yet is skipped.
pub fn page(answer: &Value, org: &str) -> Result<Page, Error> {
    if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        return Err(Error::NotFound(format!(
            "GitHub GraphQL: {}",
            messages.join("; ")
        )));
    }
    let identities = &answer["data"]["organization"]["samlIdentityProvider"]["externalIdentities"];
    if identities.is_null() {
        return Err(Error::NotFound(format!(
            "organisation {org} has no SAML identity provider (set `mapping` instead of `saml`)"
        )));
    }
    let pairs = identities["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|edge| {
            let node = &edge["node"];
            let email = node["samlIdentity"]["nameId"].as_str()?;
            let login = node["user"]["login"].as_str()?;
            Some((email.to_string(), login.to_string()))
        })
        .collect();
    let more = identities["pageInfo"]["hasNextPage"] == Value::Bool(true);
    Ok(Page {
        pairs,
        next: more.then(|| identities["pageInfo"]["endCursor"].clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_is_beside_the_rest_api_on_github_com_and_under_api_on_enterprise_server() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://github.example.com/api/v3"),
            "https://github.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url("https://api.acme.ghe.com"),
            "https://api.acme.ghe.com/graphql"
        );
    }

    #[test]
    fn reads_linked_identities_and_the_next_cursor() {
        let answer = json!({ "data": { "organization": { "samlIdentityProvider": { "externalIdentities": {
            "pageInfo": { "hasNextPage": true, "endCursor": "c2" },
            "edges": [
                { "node": { "samlIdentity": { "nameId": "ann@corp.com" }, "user": { "login": "ann" } } },
                { "node": { "samlIdentity": { "nameId": "new@corp.com" }, "user": null } }
            ]
        } } } } });
        let page = page(&answer, "acme").unwrap();
        assert_eq!(
            page.pairs,
            [("ann@corp.com".to_string(), "ann".to_string())]
        );
        assert_eq!(page.next, Some(json!("c2")));
    }

    #[test]
    fn an_organisation_without_saml_is_not_found() {
        let answer = json!({ "data": { "organization": { "samlIdentityProvider": null } } });
        assert!(
            matches!(page(&answer, "acme"), Err(Error::NotFound(m)) if m.contains("no SAML identity provider"))
        );
    }
}
