//! A group's members (RFC 7643 §4.2), and the group as the adapter last
//! read it: one thing per member user, what each thing's accounts are, and
//! what was left alone (nested groups, users with no such attribute).

use crate::users::{User, UserAttribute};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// A Group resource as read with `attributes=members`.
#[derive(Debug, Deserialize)]
pub struct GroupResource {
    pub members: Option<Vec<Member>>,
}

/// A group's `id` and `displayName`, from a search by displayName.
#[derive(Debug, Deserialize)]
pub struct GroupName {
    pub id: String,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
}

/// One member of a group: `value` is its id; `type` is "User" or "Group"
/// when the service says, and `$ref` its URI.
#[derive(Debug, Deserialize)]
pub struct Member {
    pub value: Option<String>,
    #[serde(rename = "$ref")]
    pub reference: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// What a member is, as far as the group says.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind<'m> {
    /// A user, or a member of no stated type: looked up as a user by id.
    User(&'m str),
    /// Something else, left alone: "nested group", "member of type Device".
    Other(String),
}

impl Member {
    /// What this member is: a nested group by its `type`, or, with no
    /// `type`, by a `$ref` to `/Groups/`; a user otherwise.
    pub fn kind(&self) -> Kind<'_> {
        let Some(id) = self.value.as_deref().filter(|id| !id.is_empty()) else {
            return Kind::Other("member without an id".into());
        };
        let by_reference = self
            .reference
            .as_deref()
            .is_some_and(|uri| uri.contains("/Groups/"))
            .then_some("Group");
        match self.kind.as_deref().or(by_reference) {
            None => Kind::User(id),
            Some(kind) if kind.eq_ignore_ascii_case("User") => Kind::User(id),
            Some(kind) if kind.eq_ignore_ascii_case("Group") => Kind::Other("nested group".into()),
            Some(kind) => Kind::Other(format!("member of type {kind}")),
        }
    }
}

/// The member users who are one thing, with the thing as the service spells it.
#[derive(Debug)]
struct Entry {
    spelling: String,
    accounts: Vec<String>,
}

/// The group as the adapter last read (or changed) it.
#[derive(Debug, Default)]
pub struct Membership {
    /// Each thing, lower-cased, and the member users it is.
    by_thing: BTreeMap<String, Entry>,
    /// Each member user's id, and its thing lower-cased.
    accounts: HashMap<String, String>,
    /// How many members were left alone, and why.
    left_alone: BTreeMap<String, usize>,
}

impl Membership {
    /// Notes member `user`, as the thing `attribute` makes it; a user
    /// without one is left alone.
    pub fn note_user(&mut self, user: &User, attribute: UserAttribute) {
        match attribute.thing_of(user) {
            Some(thing) => self.joined(&user.id, thing),
            None => self.leave_alone(format!("user with no {}", attribute.noun())),
        }
    }

    /// Notes a member left alone, and what it is ("nested group").
    pub fn leave_alone(&mut self, why: impl Into<String>) {
        *self.left_alone.entry(why.into()).or_default() += 1;
    }

    /// Notes that user `id`, who is `thing`, is now a member.
    pub fn joined(&mut self, id: &str, thing: &str) {
        let key = thing.to_lowercase();
        let entry = self.by_thing.entry(key.clone()).or_insert_with(|| Entry {
            spelling: thing.to_string(),
            accounts: Vec::new(),
        });
        if !entry.accounts.iter().any(|account| account == id) {
            entry.accounts.push(id.to_string());
        }
        self.accounts.insert(id.to_string(), key);
    }

    /// Notes that user `id` is no longer a member.
    pub fn left(&mut self, id: &str) {
        let Some(key) = self.accounts.remove(id) else {
            return;
        };
        if let Some(entry) = self.by_thing.get_mut(&key) {
            entry.accounts.retain(|account| account != id);
            if entry.accounts.is_empty() {
                self.by_thing.remove(&key);
            }
        }
    }

    /// Every thing in the group, once each, as the service spells it.
    pub fn things(&self) -> Vec<String> {
        self.by_thing
            .values()
            .map(|entry| entry.spelling.clone())
            .collect()
    }

    /// The member users who are `thing` (compared ignoring case).
    pub fn accounts_of(&self, thing: &str) -> &[String] {
        self.by_thing
            .get(&thing.to_lowercase())
            .map_or(&[], |entry| &entry.accounts)
    }

    /// Whether user `id` is a member.
    pub fn has(&self, id: &str) -> bool {
        self.accounts.contains_key(id)
    }

    /// What to log about the members left alone, if any were.
    pub fn left_alone_note(&self) -> Option<String> {
        let count: usize = self.left_alone.values().sum();
        let reasons: Vec<String> = self
            .left_alone
            .iter()
            .map(|(why, n)| format!("{why}: {n}"))
            .collect();
        (count > 0).then(|| {
            format!(
                "left alone {count} group member(s) ({}): only users are synced",
                reasons.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(value: serde_json::Value) -> Member {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_member_is_a_user_unless_its_type_or_ref_says_otherwise() {
        let user = member(json!({ "value": "u1", "type": "User" }));
        assert_eq!(user.kind(), Kind::User("u1"));
        let untyped = member(json!({ "value": "u2", "display": "Ann" }));
        assert_eq!(untyped.kind(), Kind::User("u2"), "looked up as a user");
        let nested = member(json!({ "value": "g2", "type": "group" }));
        assert_eq!(nested.kind(), Kind::Other("nested group".into()));
        let by_ref =
            member(json!({ "value": "g3", "$ref": "https://x.example/scim/v2/Groups/g3" }));
        assert_eq!(by_ref.kind(), Kind::Other("nested group".into()));
        let device = member(json!({ "value": "d1", "type": "Device" }));
        assert_eq!(device.kind(), Kind::Other("member of type Device".into()));
        assert_eq!(
            member(json!({})).kind(),
            Kind::Other("member without an id".into())
        );
    }

    fn user(id: &str, user_name: Option<&str>) -> User {
        serde_json::from_value(json!({ "id": id, "userName": user_name })).unwrap()
    }

    #[test]
    fn each_thing_is_listed_once_with_every_account_it_is() {
        let mut membership = Membership::default();
        membership.note_user(&user("u1", Some("Ann")), UserAttribute::UserName);
        membership.note_user(&user("u2", Some("bob")), UserAttribute::UserName);
        membership.joined("u3", "ANN");
        assert_eq!(membership.things(), ["Ann", "bob"]);
        assert_eq!(membership.accounts_of("ann"), ["u1", "u3"]);
        assert!(membership.has("u2"));
        membership.left("u1");
        membership.left("u3");
        assert_eq!(membership.things(), ["bob"]);
        assert!(membership.accounts_of("Ann").is_empty());
        assert!(!membership.has("u1"));
    }

    #[test]
    fn what_is_left_alone_is_counted_for_one_log_line() {
        let mut membership = Membership::default();
        assert_eq!(membership.left_alone_note(), None);
        membership.note_user(&user("u1", None), UserAttribute::UserName);
        membership.leave_alone("nested group");
        membership.leave_alone("nested group");
        assert_eq!(
            membership.left_alone_note().as_deref(),
            Some(
                "left alone 3 group member(s) (nested group: 2, user with no userName: 1): \
                 only users are synced"
            )
        );
        assert!(membership.things().is_empty());
    }
}
