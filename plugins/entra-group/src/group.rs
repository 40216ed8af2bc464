//! The group an instance syncs, named by object id or by display name
//! (`GET /groups/{id}`, or `GET /groups?$filter=displayName eq '...'`,
//! which Graph supports by default). A key written as a GUID is an id; any
//! other is a name, and, if no group has it, tried as an id before giving
//! up. A name several groups share is refused, naming their ids: guessing
//! would sync the wrong group.

use allsync_sdk::Error;
use allsync_sdk::http::encode;
use entra_api::{Graph, Query};
use serde::Deserialize;

/// The properties read of a group.
const GROUP_PROPERTIES: &str = "id,displayName,groupTypes";

/// A group, as Graph describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: Option<String>,
    /// `Unified` for a Microsoft 365 group, `DynamicMembership` for one
    /// whose members a rule decides.
    #[serde(default)]
    pub group_types: Vec<String>,
}

impl Group {
    /// The group `key` names: an object id (a GUID), else a display name.
    pub fn resolve(graph: &Graph, key: &str) -> Result<Self, Error> {
        if is_object_id(key) {
            let url = graph.url(&format!(
                "/groups/{}?$select={GROUP_PROPERTIES}",
                encode(key)
            ));
            return graph.read(&url, &format!("read group {key}"));
        }
        let filter = format!("displayName eq '{}'", key.replace('\'', "''"));
        let url = graph.url(&format!(
            "/groups?$filter={}&$select={GROUP_PROPERTIES}",
            encode(&filter)
        ));
        let found = graph.list(
            &url,
            Query::Default,
            &format!("find the group named {key:?}"),
        )?;
        pick(key, found)
    }

    /// Whether a membership rule decides the members.
    pub fn is_dynamic(&self) -> bool {
        self.group_types
            .iter()
            .any(|kind| kind.eq_ignore_ascii_case("DynamicMembership"))
    }

    /// The group's name and id, to name it in messages.
    pub fn label(&self) -> String {
        match &self.display_name {
            Some(name) => format!("{name:?} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// The one group of `found` named `name`.
fn pick(name: &str, mut found: Vec<Group>) -> Result<Group, Error> {
    match found.len() {
        0 => Err(Error::NotFound(format!(
            "no group has the display name (or object id) {name:?}: check the name, or set `group` to the group's object id"
        ))),
        1 => Ok(found.remove(0)),
        count => {
            let ids: Vec<&str> = found.iter().map(|group| group.id.as_str()).collect();
            Err(Error::InvalidConfig(format!(
                "{count} groups have the display name {name:?} (ids {}): set `group` to the object id of the one to sync",
                ids.join(", ")
            )))
        }
    }
}

/// Whether `key` is written as an object id: a GUID, 8-4-4-4-12 hex digits.
fn is_object_id(key: &str) -> bool {
    let parts: Vec<&str> = key.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(part, length)| {
            part.len() == length && part.chars().all(|c| c.is_ascii_hexdigit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str) -> Group {
        Group {
            id: id.into(),
            display_name: Some("Engineering".into()),
            group_types: Vec::new(),
        }
    }

    #[test]
    fn a_guid_is_an_object_id_and_anything_else_a_name() {
        assert!(is_object_id("02bd9fd6-8f93-4758-87c3-1fb73740a315"));
        assert!(is_object_id("02BD9FD6-8F93-4758-87C3-1FB73740A315"));
        assert!(!is_object_id("Engineering"));
        assert!(!is_object_id("02bd9fd6-8f93-4758-87c3-1fb73740a31"));
        assert!(!is_object_id("02bd9fd6-8f93-4758-87c3-1fb73740a31z"));
    }

    #[test]
    fn a_name_shared_by_several_groups_is_refused_naming_their_ids() {
        let shared = pick("Engineering", vec![group("g1"), group("g2")]);
        assert!(matches!(shared, Err(Error::InvalidConfig(m))
            if m == "2 groups have the display name \"Engineering\" (ids g1, g2): \
                     set `group` to the object id of the one to sync"));
        assert!(matches!(
            pick("Nobody", Vec::new()),
            Err(Error::NotFound(m)) if m.contains("no group has the display name (or object id) \"Nobody\"")
        ));
        assert_eq!(pick("Engineering", vec![group("g1")]).unwrap().id, "g1");
    }

    #[test]
    fn a_group_whose_members_a_rule_decides_is_dynamic() {
        let mut dynamic = group("g1");
        assert!(!dynamic.is_dynamic());
        dynamic.group_types = vec!["Unified".into(), "DynamicMembership".into()];
        assert!(dynamic.is_dynamic());
        assert_eq!(dynamic.label(), "\"Engineering\" (g1)");
    }
}
