//! Who is in a user group or channel: the member IDs Slack lists, each
//! resolved to a user once per adapter instance.

use crate::users::{Admission, User};
use std::collections::HashMap;

/// The Slack users an adapter instance has read, by ID, so that each is
/// asked of `users.info` once; `None` for an ID Slack knows no user for.
/// Once the whole workspace has been read (`users.list`), it answers for
/// every ID and email without asking.
#[derive(Debug, Default)]
pub struct Directory {
    users: HashMap<String, Option<User>>,
    /// Lower-case email to user ID, once the whole workspace has been read.
    everyone: Option<HashMap<String, String>>,
}

impl Directory {
    /// Notes what Slack said of `id`.
    pub fn note(&mut self, id: &str, user: Option<User>) {
        self.users.insert(id.to_string(), user);
    }

    /// Notes that `users` are the whole workspace: an ID or email not among
    /// them is no one's.
    pub fn note_everyone(&mut self, users: Vec<User>) {
        let mut by_email = HashMap::new();
        for user in users {
            if let Some(email) = user.email() {
                by_email
                    .entry(email.to_lowercase())
                    .or_insert_with(|| user.id.clone());
            }
            self.users.insert(user.id.clone(), Some(user));
        }
        self.everyone = Some(by_email);
    }

    /// Whether the whole workspace has been read.
    pub fn knows_everyone(&self) -> bool {
        self.everyone.is_some()
    }

    /// The user with `email` (any case), if the whole workspace has been
    /// read: `Some(None)` for no one, `None` when it cannot say.
    pub fn by_email(&self, email: &str) -> Option<Option<User>> {
        let everyone = self.everyone.as_ref()?;
        Some(
            everyone
                .get(&email.to_lowercase())
                .and_then(|id| self.users.get(id).cloned().flatten()),
        )
    }

    /// Those of `ids` not read yet (none, once everyone has been read).
    pub fn unknown(&self, ids: &[String]) -> Vec<String> {
        if self.knows_everyone() {
            return Vec::new();
        }
        ids.iter()
            .filter(|id| !self.users.contains_key(*id))
            .cloned()
            .collect()
    }

    /// The members listed as `ids` that `admission` lets in (each ID read
    /// before); the others (bots, deactivated accounts, guests where
    /// refused, IDs of no user) are only counted.
    pub fn roster(&self, ids: &[String], admission: &Admission) -> Roster {
        let mut roster = Roster::default();
        for id in ids {
            match self.users.get(id).and_then(Option::as_ref) {
                Some(user) if admission.admits(user) => roster.admit(user),
                _ => roster.left_out += 1,
            }
        }
        roster
    }
}

/// The members of a user group or channel that it can hold, in Slack's
/// order; emails compare case-insensitively.
#[derive(Debug, Default, Clone)]
pub struct Roster {
    ids: Vec<String>,
    /// Each member's email as Slack spells it, if the profile shows one.
    emails: HashMap<String, Option<String>>,
    /// Lower-case email to member ID (the first member with that email).
    by_email: HashMap<String, String>,
    left_out: usize,
}

impl Roster {
    /// The members' IDs, in order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The members' emails as Slack spells them, in order, each once;
    /// members whose profile shows none are left out.
    pub fn emails(&self) -> Vec<String> {
        self.ids
            .iter()
            .filter_map(|id| {
                let email = self.emails[id].as_ref()?;
                (self.find(email) == Some(id.as_str())).then(|| email.clone())
            })
            .collect()
    }

    /// The member whose email is `email`, whatever its case.
    pub fn find(&self, email: &str) -> Option<&str> {
        self.by_email.get(&email.to_lowercase()).map(String::as_str)
    }

    /// Whether `id` is a member.
    pub fn contains(&self, id: &str) -> bool {
        self.emails.contains_key(id)
    }

    /// How many listed members the list cannot hold (bots, deactivated
    /// accounts, refused guests, IDs of no user).
    pub fn left_out(&self) -> usize {
        self.left_out
    }

    /// Adds `user`, which has joined.
    pub fn admit(&mut self, user: &User) {
        if self.contains(&user.id) {
            return;
        }
        let email = user.email().map(str::to_string);
        if let Some(email) = &email {
            self.by_email
                .entry(email.to_lowercase())
                .or_insert_with(|| user.id.clone());
        }
        self.emails.insert(user.id.clone(), email);
        self.ids.push(user.id.clone());
    }

    /// Takes out member `id`, who has left.
    pub fn forget(&mut self, id: &str) {
        let Some(email) = self.emails.remove(id) else {
            return;
        };
        self.ids.retain(|member| member != id);
        let Some(key) = email.map(|email| email.to_lowercase()) else {
            return;
        };
        if self.by_email.get(&key).map(String::as_str) == Some(id) {
            self.by_email.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::tests::{USER_GROUP, user};

    fn directory() -> Directory {
        let mut directory = Directory::default();
        for found in [
            user("U1", "Ann@X.com", &[]),
            user("U2", "bot@x.com", &["is_bot"]),
            user("U3", "gone@x.com", &["deleted"]),
            user("U4", "guest@x.com", &["is_restricted"]),
            user("U5", "", &[]),
        ] {
            directory.note(&found.id.clone(), Some(found));
        }
        directory.note("U6", None);
        directory
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_roster_holds_the_members_the_list_admits_and_counts_the_others() {
        let roster = directory().roster(&ids(&["U1", "U2", "U3", "U4", "U5", "U6"]), &USER_GROUP);
        assert_eq!(
            roster.ids(),
            ["U1", "U5"],
            "U5 shows no email but is a person"
        );
        assert_eq!(roster.emails(), ["Ann@X.com"]);
        assert_eq!(roster.left_out(), 4);
        assert_eq!(roster.find("ann@x.COM"), Some("U1"));
        assert!(!roster.contains("U2"));
    }

    #[test]
    fn once_everyone_is_read_every_id_and_email_is_answered_without_asking() {
        let mut directory = Directory::default();
        assert!(
            directory.by_email("ann@x.com").is_none(),
            "it cannot say yet"
        );
        directory.note_everyone(vec![crate::users::tests::user("U1", "u1@x.com", &[])]);
        assert!(directory.unknown(&ids(&["U1", "U9"])).is_empty());
        let ann = directory.by_email("U1@X.COM").unwrap().unwrap();
        assert_eq!(ann.id, "U1");
        assert!(directory.by_email("nobody@x.com").unwrap().is_none());
    }

    #[test]
    fn only_ids_not_read_yet_are_unknown() {
        assert_eq!(directory().unknown(&ids(&["U1", "U6", "U7"])), ["U7"]);
    }

    #[test]
    fn members_who_join_and_leave_are_found_or_not() {
        let mut roster = directory().roster(&ids(&["U1"]), &USER_GROUP);
        roster.admit(&user("U8", "cy@x.com", &[]));
        assert_eq!(roster.find("CY@x.com"), Some("U8"));
        roster.forget("U1");
        assert_eq!(roster.find("ann@x.com"), None);
        assert_eq!(roster.ids(), ["U8"]);
        assert_eq!(roster.emails(), ["cy@x.com"]);
    }
}
