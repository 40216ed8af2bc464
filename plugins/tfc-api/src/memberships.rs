//! The organisation's memberships
//! (https://developer.hashicorp.com/terraform/cloud-docs/api-docs/organization-memberships):
//! "Users are added to organizations by inviting them to join. Once
//! accepted, they become members". Both count as present: an invitation is
//! a membership (`status` `invited`) with an ID, teams and a user.
//!
//! The list is read whole, with `include=user`: a membership's email is
//! its user's (`attributes.email` of the included `users` resource), else
//! the membership's own `email` attribute where the API gives one. Emails
//! are compared ignoring case. The teams of each membership come with it
//! (`relationships.teams`), invited ones included, which the Teams API
//! leaves out ("Invited users who have not yet accepted will not appear in
//! Teams API responses").

use crate::document::{Document, Page, Resource, Single};
use crate::{Tfc, Verdict};
use allsync_sdk::http::Response;
use allsync_sdk::{Error, Ledger, Outcome};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// One membership of the organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Its ID, e.g. `ou-nX7inDHhmC3quYgy`: what the team membership API takes.
    pub id: String,
    /// Its user's email, as the API spells it.
    pub email: String,
    /// Whether it is an invitation not yet accepted.
    pub invited: bool,
    /// The IDs of the teams it is on.
    pub teams: Vec<String>,
}

/// The organisation's memberships, one per email (compared ignoring case).
#[derive(Debug, Default)]
pub struct Roster {
    /// Each membership, by lower-case email.
    by_email: HashMap<String, Membership>,
    /// The lower-case emails, in the API's order.
    order: Vec<String>,
    /// What was left alone and why, for the log.
    pub left_alone: Vec<String>,
}

impl Roster {
    /// The roster of every page of `GET .../organization-memberships?include=user`.
    pub fn from_pages(pages: &[Page]) -> Self {
        let mut roster = Roster::default();
        for page in pages {
            for resource in &page.data {
                match membership(resource, page) {
                    Some(found) => roster.note(found),
                    None => roster.left_alone.push(format!(
                        "organization membership {} has no email; left alone",
                        resource.id
                    )),
                }
            }
        }
        roster
    }

    /// The membership of `email` (any case), if there is one.
    pub fn find(&self, email: &str) -> Option<&Membership> {
        self.by_email.get(&email.to_lowercase())
    }

    /// Every membership's email, active and invited, in the API's order.
    pub fn emails(&self) -> Vec<String> {
        self.in_order().map(|m| m.email.clone()).collect()
    }

    /// The emails of the memberships on team `team_id`, in the API's order.
    pub fn team_emails(&self, team_id: &str) -> Vec<String> {
        self.in_order()
            .filter(|m| m.teams.iter().any(|team| team == team_id))
            .map(|m| m.email.clone())
            .collect()
    }

    /// Notes a membership made since the roster was read.
    pub fn insert(&mut self, membership: Membership) {
        let key = membership.email.to_lowercase();
        if !self.by_email.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.by_email.insert(key, membership);
    }

    /// Notes that the membership of `email` is gone.
    pub fn remove(&mut self, email: &str) {
        self.by_email.remove(&email.to_lowercase());
    }

    /// Notes that the membership of `email` joined team `team_id`.
    pub fn join(&mut self, email: &str, team_id: &str) {
        if let Some(membership) = self.by_email.get_mut(&email.to_lowercase())
            && !membership.teams.iter().any(|team| team == team_id)
        {
            membership.teams.push(team_id.to_string());
        }
    }

    /// Notes that the membership of `email` left team `team_id`.
    pub fn leave(&mut self, email: &str, team_id: &str) {
        if let Some(membership) = self.by_email.get_mut(&email.to_lowercase()) {
            membership.teams.retain(|team| team != team_id);
        }
    }

    fn in_order(&self) -> impl Iterator<Item = &Membership> {
        self.order.iter().filter_map(|key| self.by_email.get(key))
    }

    /// Notes a listed membership; a second one for the same email is left alone.
    fn note(&mut self, membership: Membership) {
        match self.by_email.entry(membership.email.to_lowercase()) {
            Entry::Vacant(entry) => {
                self.order.push(entry.key().clone());
                entry.insert(membership);
            }
            Entry::Occupied(entry) => self.left_alone.push(format!(
                "organization membership {} is a second one for {} (after {}); left alone",
                membership.id,
                membership.email,
                entry.get().id
            )),
        }
    }
}

/// The membership `resource` of `document`, if an email is known for it.
fn membership<T>(resource: &Resource, document: &Document<T>) -> Option<Membership> {
    let user = resource
        .related("user")
        .first()
        .and_then(|id| document.included("users", id));
    let email = user
        .and_then(|user| user.text("email"))
        .or_else(|| resource.text("email"))?;
    Some(Membership {
        id: resource.id.clone(),
        email: email.trim().to_string(),
        invited: resource.text("status") == Some("invited"),
        teams: resource
            .related("teams")
            .into_iter()
            .map(String::from)
            .collect(),
    })
}

impl Tfc {
    /// Every membership of the organisation, active and invited, read whole.
    pub fn memberships(&self) -> Result<Roster, Error> {
        let what = format!(
            "list the memberships of organization {}",
            self.organization()
        );
        let pages = self.pages(
            &self.organization_path("/organization-memberships"),
            "&include=user",
            &what,
        )?;
        let roster = Roster::from_pages(&pages);
        for line in &roster.left_alone {
            eprintln!("{line}");
        }
        Ok(roster)
    }

    /// Invites each of `emails` to the organisation, onto the teams
    /// `team_ids`, `concurrency` at a time, and notes in `roster`, `ledger`
    /// (by membership ID) and `outcome` what each did. An email the API
    /// refuses (400: the organisation's limits; 422: invalid, or invited
    /// already) is rejected on its own.
    pub fn invite(
        &self,
        emails: Vec<String>,
        team_ids: &[String],
        roster: &mut Roster,
        ledger: &mut Ledger,
        outcome: &mut Outcome,
    ) {
        let path = self.organization_path("/organization-memberships");
        let requests = emails
            .iter()
            .map(|email| self.post(&path, &invitation(email, team_ids)))
            .collect();
        for (email, response) in emails.into_iter().zip(self.send_all(requests)) {
            let what = format!("invite {email} to organization {}", self.organization());
            let Some(answer) =
                Verdict::of(response, &what, &[400, 422]).settle(email.clone(), outcome)
            else {
                continue;
            };
            match invited(&answer, &email, team_ids) {
                Ok(membership) => {
                    ledger.added(&membership.id, &email);
                    roster.insert(membership);
                }
                Err(error) => eprintln!("{what}: done, but {}", allsync_sdk::message(&error)),
            }
        }
    }
}

/// The invitation of `email` onto the teams `team_ids`, as a JSON:API document.
fn invitation(email: &str, team_ids: &[String]) -> Value {
    let mut data = json!({ "type": "organization-memberships", "attributes": { "email": email } });
    if !team_ids.is_empty() {
        let teams: Vec<Value> = team_ids
            .iter()
            .map(|id| json!({ "type": "teams", "id": id }))
            .collect();
        data["relationships"] = json!({ "teams": { "data": teams } });
    }
    json!({ "data": data })
}

/// The membership an invitation of `email` onto `team_ids` made, from the answer.
fn invited(answer: &Response, email: &str, team_ids: &[String]) -> Result<Membership, Error> {
    let created: Single = answer.json()?;
    let teams = match created.data.related("teams") {
        listed if listed.is_empty() => team_ids.to_vec(),
        listed => listed.into_iter().map(String::from).collect(),
    };
    Ok(Membership {
        id: created.data.id,
        email: email.to_string(),
        invited: true,
        teams,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(bodies: &[Value]) -> Vec<Page> {
        bodies
            .iter()
            .map(|body| serde_json::from_value(body.clone()).unwrap())
            .collect()
    }

    fn resource(id: &str, status: &str, user: &str, teams: &[&str]) -> Value {
        let teams: Vec<Value> = teams
            .iter()
            .map(|team| json!({ "id": team, "type": "teams" }))
            .collect();
        json!({
            "id": id, "type": "organization-memberships", "attributes": { "status": status },
            "relationships": { "teams": { "data": teams }, "user": { "data": { "id": user, "type": "users" } } }
        })
    }

    fn user(id: &str, email: &str) -> Value {
        json!({ "id": id, "type": "users", "attributes": { "email": email, "username": null } })
    }

    fn acme() -> Roster {
        Roster::from_pages(&pages(&[
            json!({
                "data": [resource("ou-1", "active", "user-1", &["team-owners", "team-devs"]),
                         resource("ou-2", "invited", "user-2", &["team-devs"])],
                "included": [user("user-1", "Ann@Example.com"), user("user-2", "bob@example.com")]
            }),
            json!({
                "data": [resource("ou-3", "active", "user-3", &[])],
                "included": [user("user-3", "cy@example.com")]
            }),
        ]))
    }

    #[test]
    fn active_and_invited_memberships_are_both_present_with_their_users_emails() {
        let roster = acme();
        assert_eq!(
            roster.emails(),
            ["Ann@Example.com", "bob@example.com", "cy@example.com"]
        );
        let bob = roster.find("BOB@example.com").unwrap();
        assert_eq!((bob.id.as_str(), bob.invited), ("ou-2", true));
        assert!(!roster.find("ann@example.com").unwrap().invited);
        assert_eq!(
            roster.team_emails("team-devs"),
            ["Ann@Example.com", "bob@example.com"]
        );
        assert!(roster.left_alone.is_empty());
    }

    #[test]
    fn a_membership_without_an_included_user_falls_back_to_its_own_email() {
        let mut listed = resource("ou-9", "active", "user-9", &[]);
        listed["attributes"]["email"] = json!("dan@example.com");
        let roster = Roster::from_pages(&pages(&[
            json!({ "data": [listed, resource("ou-10", "active", "user-10", &[])] }),
        ]));
        assert_eq!(roster.emails(), ["dan@example.com"]);
        assert_eq!(
            roster.left_alone,
            ["organization membership ou-10 has no email; left alone"]
        );
    }

    #[test]
    fn a_second_membership_for_one_email_is_left_alone_and_said_so() {
        let roster = Roster::from_pages(&pages(&[json!({
            "data": [resource("ou-1", "active", "user-1", &[]), resource("ou-2", "invited", "user-2", &[])],
            "included": [user("user-1", "ann@example.com"), user("user-2", "ANN@example.com")]
        })]));
        assert_eq!(roster.emails(), ["ann@example.com"]);
        assert_eq!(
            roster.left_alone,
            [
                "organization membership ou-2 is a second one for ANN@example.com (after ou-1); left alone"
            ]
        );
    }

    #[test]
    fn changes_made_since_the_list_was_read_are_kept_in_order() {
        let mut roster = acme();
        roster.remove("ANN@example.com");
        roster.join("cy@example.com", "team-devs");
        roster.leave("bob@example.com", "team-devs");
        roster.insert(Membership {
            id: "ou-4".into(),
            email: "dan@example.com".into(),
            invited: true,
            teams: vec!["team-devs".into()],
        });
        assert_eq!(
            roster.emails(),
            ["bob@example.com", "cy@example.com", "dan@example.com"]
        );
        assert_eq!(
            roster.team_emails("team-devs"),
            ["cy@example.com", "dan@example.com"]
        );
    }

    #[test]
    fn an_invitation_names_its_teams_only_when_there_are_some() {
        assert_eq!(
            invitation("ann@example.com", &[]),
            json!({ "data": { "type": "organization-memberships", "attributes": { "email": "ann@example.com" } } })
        );
        let onto = invitation("ann@example.com", &["team-1".to_string()]);
        assert_eq!(
            onto["data"]["relationships"],
            json!({ "teams": { "data": [{ "type": "teams", "id": "team-1" }] } })
        );
    }

    #[test]
    fn the_membership_an_invitation_made_is_read_from_the_answer() {
        let created = json!({ "data": resource("ou-7", "invited", "user-7", &[]) });
        let answer = Response {
            status: 201,
            headers: Vec::new(),
            body: created.to_string().into_bytes(),
        };
        let membership = invited(&answer, "Eve@example.com", &["team-1".to_string()]).unwrap();
        assert_eq!(
            membership,
            Membership {
                id: "ou-7".into(),
                email: "Eve@example.com".into(),
                invited: true,
                teams: vec!["team-1".into()],
            }
        );
    }
}
