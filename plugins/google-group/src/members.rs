//! The group's members as `members.list` returns them, sorted into those an
//! instance syncs (users holding its role) and those it leaves alone: users
//! with another role, and members that are not users at all (`type` GROUP,
//! a nested group; CUSTOMER, everyone in the domain; EXTERNAL).

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A member resource; `role` defaults to MEMBER and `type` to USER, as the
/// API documents.
#[derive(Debug, Default, Deserialize)]
pub struct Member {
    pub email: Option<String>,
    pub role: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// The group as `get` found it, for one role.
#[derive(Debug, Default)]
pub struct Membership {
    /// The emails of the users holding the role, as Google spells them.
    pub emails: Vec<String>,
    /// The same emails, lower case.
    pub present: HashSet<String>,
    /// Every other member with an email (lower case), and how it is in the
    /// group: "with role OWNER", "as a nested group".
    pub others: HashMap<String, String>,
    /// How many members of each type other than USER were found.
    pub not_users: BTreeMap<String, usize>,
}

impl Membership {
    /// Sorts `members` for an instance syncing `role`.
    pub fn sort(members: Vec<Member>, role: &str) -> Self {
        let mut membership = Membership::default();
        for member in members {
            membership.note(member, role);
        }
        membership
    }

    fn note(&mut self, member: Member, synced_role: &str) {
        let kind = member.kind.as_deref().unwrap_or("USER");
        let role = member.role.as_deref().unwrap_or("MEMBER");
        if kind != "USER" {
            *self.not_users.entry(kind.to_string()).or_default() += 1;
        }
        let Some(email) = member.email else { return };
        let how = match (kind, role == synced_role) {
            ("USER", true) => {
                if self.present.insert(email.to_lowercase()) {
                    self.emails.push(email);
                }
                return;
            }
            ("USER", false) => format!("with role {role}"),
            ("GROUP", _) => "as a nested group".to_string(),
            (other, _) => format!("as a member of type {other}"),
        };
        self.others.insert(email.to_lowercase(), how);
    }

    /// What to log about the members that are not users, if there are any.
    pub fn left_alone(&self) -> Option<String> {
        let count: usize = self.not_users.values().sum();
        let kinds: Vec<String> = self
            .not_users
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        (count > 0).then(|| {
            format!(
                "left alone {count} group member(s) that are not users ({}): only users are synced",
                kinds.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(email: Option<&str>, role: Option<&str>, kind: Option<&str>) -> Member {
        Member {
            email: email.map(String::from),
            role: role.map(String::from),
            kind: kind.map(String::from),
        }
    }

    fn group() -> Vec<Member> {
        vec![
            member(Some("Ada@example.com"), Some("MEMBER"), Some("USER")),
            member(Some("boss@example.com"), Some("OWNER"), Some("USER")),
            member(Some("all-eng@example.com"), Some("MEMBER"), Some("GROUP")),
            member(None, Some("MEMBER"), Some("CUSTOMER")),
            member(Some("cy@example.com"), None, None),
        ]
    }

    #[test]
    fn only_users_with_the_role_are_synced() {
        let membership = Membership::sort(group(), "MEMBER");
        assert_eq!(membership.emails, ["Ada@example.com", "cy@example.com"]);
        assert!(membership.present.contains("ada@example.com"));
        assert_eq!(membership.others["boss@example.com"], "with role OWNER");
        assert_eq!(
            membership.others["all-eng@example.com"],
            "as a nested group"
        );
        let owners = Membership::sort(group(), "OWNER");
        assert_eq!(owners.emails, ["boss@example.com"]);
    }

    #[test]
    fn members_that_are_not_users_are_counted_once_for_the_log() {
        let membership = Membership::sort(group(), "MEMBER");
        assert_eq!(
            membership.left_alone().as_deref(),
            Some(
                "left alone 2 group member(s) that are not users (1 CUSTOMER, 1 GROUP): only users are synced"
            )
        );
        let users_only = Membership::sort(group().into_iter().take(2).collect(), "MEMBER");
        assert_eq!(users_only.left_alone(), None);
    }
}
