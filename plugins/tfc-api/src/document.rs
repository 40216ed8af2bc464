//! JSON:API documents as the API sends them
//! (https://developer.hashicorp.com/terraform/cloud-docs/api-docs#json-api-formatting):
//! a `data` resource or list of resources, the related resources asked for
//! with `include`, and, for a list, where the next page is (`meta.pagination`,
//! else `links.next`).

use serde::Deserialize;
use serde_json::{Map, Value};

/// A document whose `data` is one resource (the answer to a create).
pub type Single = Document<Resource>;
/// A document whose `data` is a list: one page of it.
pub type Page = Document<Vec<Resource>>;

/// A JSON:API document.
#[derive(Debug, Deserialize)]
pub struct Document<T> {
    /// The primary data.
    pub data: T,
    /// The related resources asked for with `include`.
    #[serde(default)]
    pub included: Vec<Resource>,
    #[serde(default)]
    links: Links,
    #[serde(default)]
    meta: Meta,
}

#[derive(Debug, Default, Deserialize)]
struct Links {
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    pagination: Option<Pagination>,
}

#[derive(Debug, Deserialize)]
struct Pagination {
    #[serde(rename = "next-page")]
    next_page: Option<u64>,
}

/// A resource object: its type and ID, attributes and relationships.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    /// The resource's ID, e.g. `ou-nX7inDHhmC3quYgy`.
    pub id: String,
    /// The resource's type, e.g. `organization-memberships`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    attributes: Map<String, Value>,
    #[serde(default)]
    relationships: Map<String, Value>,
}

impl<T> Document<T> {
    /// The included resource of type `kind` and ID `id`.
    pub fn included(&self, kind: &str, id: &str) -> Option<&Resource> {
        self.included
            .iter()
            .find(|resource| resource.kind == kind && resource.id == id)
    }

    /// The URL of the next page, if there is one: page `next-page` of
    /// `first` when the document has `meta.pagination`, else its
    /// `links.next` (a path is taken as under `address`).
    pub fn next_page(&self, first: &str, address: &str) -> Option<String> {
        if let Some(pagination) = &self.meta.pagination {
            let page = pagination.next_page?;
            return Some(format!("{first}&page%5Bnumber%5D={page}"));
        }
        let next = self.links.next.as_deref()?;
        Some(match next.starts_with('/') {
            true => format!("{address}{next}"),
            false => next.to_string(),
        })
    }
}

impl Resource {
    /// The string attribute `name`, if set and not blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)?
            .as_str()
            .filter(|text| !text.trim().is_empty())
    }

    /// The IDs the relationship `name` links to: one (to-one), or each of a
    /// list (to-many); none when it is empty or absent.
    pub fn related(&self, name: &str) -> Vec<&str> {
        match self.relationships.get(name).map(|r| &r["data"]) {
            Some(Value::Array(linkages)) => linkages.iter().filter_map(linkage_id).collect(),
            Some(linkage @ Value::Object(_)) => linkage_id(linkage).into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// The `id` of a resource identifier object.
fn linkage_id(linkage: &Value) -> Option<&str> {
    linkage["id"].as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(body: Value) -> Page {
        serde_json::from_value(body).unwrap()
    }

    const FIRST: &str =
        "https://app.terraform.io/api/v2/organizations/acme/teams?page%5Bsize%5D=100";

    #[test]
    fn the_next_page_is_numbered_from_meta_pagination() {
        let middle = page(json!({
            "data": [],
            "links": { "next": "https://elsewhere.example/ignored" },
            "meta": { "pagination": { "current-page": 1, "next-page": 2, "total-pages": 3 } }
        }));
        assert_eq!(
            middle.next_page(FIRST, "https://app.terraform.io").unwrap(),
            format!("{FIRST}&page%5Bnumber%5D=2")
        );
        let last = page(json!({
            "data": [],
            "links": { "next": null },
            "meta": { "pagination": { "current-page": 3, "next-page": null, "total-pages": 3 } }
        }));
        assert_eq!(last.next_page(FIRST, "https://app.terraform.io"), None);
    }

    #[test]
    fn without_meta_pagination_links_next_is_followed() {
        let absolute = page(
            json!({ "data": [], "links": { "next": "https://tfe.example.com/api/v2/x?page%5Bnumber%5D=2" } }),
        );
        assert_eq!(
            absolute
                .next_page(FIRST, "https://tfe.example.com")
                .as_deref(),
            Some("https://tfe.example.com/api/v2/x?page%5Bnumber%5D=2")
        );
        let relative =
            page(json!({ "data": [], "links": { "next": "/api/v2/x?page%5Bnumber%5D=2" } }));
        assert_eq!(
            relative
                .next_page(FIRST, "https://tfe.example.com")
                .as_deref(),
            Some("https://tfe.example.com/api/v2/x?page%5Bnumber%5D=2")
        );
        let alone = page(json!({ "data": [] }));
        assert_eq!(alone.next_page(FIRST, "https://tfe.example.com"), None);
    }

    #[test]
    fn relationships_give_their_ids_whether_to_one_or_to_many() {
        let membership: Resource = serde_json::from_value(json!({
            "id": "ou-1", "type": "organization-memberships",
            "attributes": { "status": "invited", "email": " " },
            "relationships": {
                "teams": { "data": [{ "id": "team-1", "type": "teams" }, { "id": "team-2", "type": "teams" }] },
                "user": { "data": { "id": "user-1", "type": "users" } },
                "organization": { "data": null }
            }
        }))
        .unwrap();
        assert_eq!(membership.related("teams"), ["team-1", "team-2"]);
        assert_eq!(membership.related("user"), ["user-1"]);
        assert!(membership.related("organization").is_empty());
        assert!(membership.related("workspaces").is_empty());
        assert_eq!(membership.text("status"), Some("invited"));
        assert_eq!(membership.text("email"), None, "blank is unset");
    }
}
