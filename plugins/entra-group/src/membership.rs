//! The group's members as `get` found them, sorted into the users an
//! instance syncs and the objects it leaves alone (nested groups, service
//! principals, devices, organisational contacts, and guests or users
//! without an email, as its [`Accounts`] say). An object listed twice (a
//! user in two nested groups, read transitively) counts once.

use entra_api::{Accounts, DirectoryObject, Standing, Tally, email_key};
use std::collections::{HashMap, HashSet};

/// The group as the last `get` found it.
#[derive(Debug, Default)]
pub struct Membership {
    /// The synced users' emails, as Graph spells them, once each.
    pub emails: Vec<String>,
    /// The ids (lower case) of the users synced under each email (its key).
    pub ids: HashMap<String, Vec<String>>,
    /// What was left alone, for the log.
    pub left_alone: Tally,
}

impl Membership {
    /// Sorts `members` as `accounts` say, each object once.
    pub fn sort(members: Vec<DirectoryObject>, accounts: &Accounts) -> Self {
        let mut membership = Membership::default();
        let mut seen = HashSet::new();
        for member in &members {
            if seen.insert(member.id.to_lowercase()) {
                membership.note(member, accounts);
            }
        }
        membership
    }

    fn note(&mut self, member: &DirectoryObject, accounts: &Accounts) {
        let id = member.id.to_lowercase();
        match accounts.standing(member) {
            Standing::Synced(email) => {
                let ids = self.ids.entry(email_key(email)).or_default();
                if ids.is_empty() {
                    self.emails.push(email.to_string());
                }
                ids.push(id);
            }
            Standing::LeftAlone(kind) => self.left_alone.note(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entra_api::Match;

    fn object(id: &str, kind: &str, mail: Option<&str>, user_type: &str) -> DirectoryObject {
        DirectoryObject {
            id: id.into(),
            odata_type: Some(format!("#microsoft.graph.{kind}")),
            mail: mail.map(String::from),
            user_principal_name: (kind == "user").then(|| format!("{id}@corp.example")),
            user_type: (kind == "user").then(|| user_type.to_string()),
            account_enabled: Some(true),
        }
    }

    fn members() -> Vec<DirectoryObject> {
        vec![
            object("U1", "user", Some("Ada@example.com"), "Member"),
            object("g2", "group", Some("leads@example.com"), ""),
            object("sp3", "servicePrincipal", None, ""),
            object("d4", "device", None, ""),
            object("u5", "user", Some("gus@partner.example"), "Guest"),
            object("u6", "user", None, "Member"),
            object("u7", "user", Some("ada@example.com"), "Member"),
            object("U1", "user", Some("Ada@example.com"), "Member"),
        ]
    }

    #[test]
    fn only_users_with_an_email_are_synced_each_email_once() {
        let accounts = Accounts {
            rule: Match::Mail,
            guests: false,
        };
        let membership = Membership::sort(members(), &accounts);
        assert_eq!(membership.emails, ["Ada@example.com"]);
        assert_eq!(
            membership.ids["ada@example.com"],
            ["u1", "u7"],
            "two users with one mail are both that email's, each once"
        );
        assert_eq!(
            membership.left_alone.summary("member(s)").as_deref(),
            Some(
                "left alone 5 member(s): 1 device, 1 group, 1 guest (include_guests is false), \
                 1 servicePrincipal, 1 user without mail (see `match`)"
            )
        );
    }

    #[test]
    fn guests_are_synced_when_asked() {
        let accounts = Accounts {
            rule: Match::MailThenUserPrincipalName,
            guests: true,
        };
        let membership = Membership::sort(members(), &accounts);
        assert_eq!(
            membership.emails,
            ["Ada@example.com", "gus@partner.example", "u6@corp.example"]
        );
    }
}
