//! Who is on the team, as `get` reports it: its members and its pending
//! invitations (a membership GitHub is waiting for the person to accept),
//! each as the one email the directory knows for the login.

use crate::directory::Directory;
use serde::Deserialize;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// A team member, from `GET /orgs/{org}/teams/{team_slug}/members`.
#[derive(Debug, Deserialize)]
pub struct Member {
    pub login: String,
}

/// A pending invitation, from `GET /orgs/{org}/teams/{team_slug}/invitations`:
/// to a login, or (for someone invited by email, with no GitHub account
/// linked yet) to an email only.
#[derive(Debug, Default, Deserialize)]
pub struct Invitation {
    pub login: Option<String>,
    pub email: Option<String>,
}

/// How a login is on the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// An active member.
    Member,
    /// Invited by login; the membership is pending until they accept.
    Invited,
    /// Invited by email only: the team membership API cannot cancel it.
    InvitedByEmail,
}

/// The team as `get` found it.
#[derive(Debug, Default)]
pub struct Roster {
    /// One email per login on the team, members first, in GitHub's order.
    pub emails: Vec<String>,
    /// Each login on the team (lower case), and how it is there.
    pub present: HashMap<String, Presence>,
    /// Who was left alone for want of a known email or login, for the log.
    pub left_alone: Vec<String>,
}

impl Roster {
    /// The roster of `members` and `invitations`, through `directory`.
    pub fn new(members: &[Member], invitations: &[Invitation], directory: &Directory) -> Self {
        let mut roster = Roster::default();
        for member in members {
            roster.note_login(&member.login, Presence::Member, directory);
        }
        for invitation in invitations {
            match (&invitation.login, &invitation.email) {
                (Some(login), _) => roster.note_login(login, Presence::Invited, directory),
                (None, Some(email)) => roster.note_email(email, directory),
                (None, None) => {}
            }
        }
        roster
    }

    fn note_login(&mut self, login: &str, presence: Presence, directory: &Directory) {
        match directory.email_for(login) {
            Some(email) => self.note(email, login, presence),
            None => self.left_alone.push(match presence {
                Presence::Member => format!("team member {login} has no known email; left alone"),
                _ => format!("{login}, invited to the team, has no known email; left alone"),
            }),
        }
    }

    fn note_email(&mut self, email: &str, directory: &Directory) {
        match directory.login_for(email) {
            Some(login) => {
                let email = directory.email_for(login).unwrap_or(email).to_string();
                self.note(&email, login, Presence::InvitedByEmail);
            }
            None => self.left_alone.push(format!(
                "{email}, invited to the team by email, has no known login; left alone"
            )),
        }
    }

    /// Notes `login` once: a login both a member and invited is a member.
    fn note(&mut self, email: &str, login: &str, presence: Presence) {
        if let Entry::Vacant(entry) = self.present.entry(login.to_lowercase()) {
            entry.insert(presence);
            self.emails.push(email.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(logins: &[&str]) -> Vec<Member> {
        logins
            .iter()
            .map(|login| Member {
                login: login.to_string(),
            })
            .collect()
    }

    fn invited(login: Option<&str>, email: Option<&str>) -> Invitation {
        Invitation {
            login: login.map(String::from),
            email: email.map(String::from),
        }
    }

    fn directory() -> Directory {
        Directory::from_mapping(&[
            "ann@corp.com=ann",
            "Bob@corp.com=bob",
            "cy@corp.com=cy",
            "dan@corp.com=dan",
        ])
        .unwrap()
    }

    #[test]
    fn members_and_pending_invitations_are_both_on_the_team() {
        let invitations = [
            invited(Some("Cy"), Some("cy@corp.com")),
            invited(None, Some("DAN@corp.com")),
        ];
        let roster = Roster::new(&members(&["ann", "BOB"]), &invitations, &directory());
        assert_eq!(
            roster.emails,
            [
                "ann@corp.com",
                "Bob@corp.com",
                "cy@corp.com",
                "dan@corp.com"
            ],
            "the directory's spelling, in GitHub's order"
        );
        assert_eq!(roster.present["bob"], Presence::Member);
        assert_eq!(roster.present["cy"], Presence::Invited);
        assert_eq!(roster.present["dan"], Presence::InvitedByEmail);
        assert!(roster.left_alone.is_empty());
    }

    #[test]
    fn the_same_input_gives_the_same_list_every_time() {
        let first = Roster::new(&members(&["dan", "ann", "bob"]), &[], &directory());
        for _ in 0..20 {
            let again = Roster::new(&members(&["dan", "ann", "bob"]), &[], &directory());
            assert_eq!(again.emails, first.emails);
        }
    }

    #[test]
    fn a_login_both_member_and_invited_is_listed_once_as_a_member() {
        let roster = Roster::new(
            &members(&["ann"]),
            &[invited(Some("ann"), None)],
            &directory(),
        );
        assert_eq!(roster.emails, ["ann@corp.com"]);
        assert_eq!(roster.present["ann"], Presence::Member);
    }

    #[test]
    fn whoever_has_no_known_email_or_login_is_left_alone_and_said_so() {
        let invitations = [
            invited(Some("eve"), None),
            invited(None, Some("new@corp.com")),
        ];
        let roster = Roster::new(&members(&["zed"]), &invitations, &directory());
        assert!(roster.emails.is_empty());
        assert_eq!(
            roster.left_alone,
            [
                "team member zed has no known email; left alone",
                "eve, invited to the team, has no known email; left alone",
                "new@corp.com, invited to the team by email, has no known login; left alone",
            ]
        );
    }
}
